"""The book's four MNIST runs, with the course library and (when installed) with Keras itself.

Configuration, as in the book: pixels / 255, images flattened to 784 values, one-hot labels,
categorical cross-entropy, SGD with lr 0.01, batch size 100, Keras's default initialisers
(glorot_uniform kernels, zero biases).

    1. 784-10(sigmoid)-10(softmax),  5 epochs
    2. 784-10(relu)-10(softmax),     5 epochs
    3. 784-512(relu)-10(softmax),    5 epochs
    4. 784-512(relu)-10(softmax),   20 epochs

Each run is repeated for several seeds; the table shows the mean and the standard deviation of
the test accuracy and the mean time per epoch. Keras runs only if ``import keras`` works
(Keras 3, any backend; ``KERAS_BACKEND=torch`` needs only PyTorch). With ``--no-keras`` the
Keras columns of an earlier run are kept.

    python benchmarks/mnist_book_runs.py --seeds 3
    python benchmarks/mnist_book_runs.py --seeds 3 --no-keras

The table is also written to course/results/mnist_book_runs.json (one record per run), which
the hyperparameters lesson reads (it ships inside the package).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("KERAS_BACKEND", "torch")

from course import Dense, Sequential, set_seed  # noqa: E402
from course.datasets import mnist  # noqa: E402
from course.optimizers import SGD  # noqa: E402

RUNS = [  # (label, hidden units, activation, epochs, the book's claim)
    ("784-10(sigmoid)-10, 5 ep", 10, "sigmoid", 5, "baseline"),
    ("784-10(relu)-10, 5 ep", 10, "relu", 5, "about +2% over sigmoid"),
    ("784-512(relu)-10, 5 ep", 512, "relu", 5, "94%"),
    ("784-512(relu)-10, 20 ep", 512, "relu", 20, "96%"),
]


def run_course(data, hidden, activation, epochs, seed):
    (x, y), (xt, yt) = data
    set_seed(seed)
    model = Sequential([Dense(hidden, activation=activation, input_shape=(784,)),
                        Dense(10, activation="softmax")])
    model.compile(loss="categorical_crossentropy", optimizer=SGD(lr=0.01), metrics=["accuracy"])
    h = model.fit(x, y, epochs=epochs, batch_size=100, verbose=0)
    return model.evaluate(xt, yt, batch_size=1000)[1], float(np.mean(h.epoch_seconds))


def run_keras(data, hidden, activation, epochs, seed):
    import keras

    (x, y), (xt, yt) = data
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(hidden, activation=activation),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(loss="categorical_crossentropy", optimizer=keras.optimizers.SGD(learning_rate=0.01),
                  metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(x, y, epochs=epochs, batch_size=100, verbose=0)
    per_epoch = (time.perf_counter() - start) / epochs
    return float(model.evaluate(xt, yt, batch_size=1000, verbose=0)[1]), per_epoch


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=3, help="seeds per run (default 3)")
    parser.add_argument("--keras-seeds", type=int, default=None,
                        help="seeds for the Keras runs (default: the same as --seeds)")
    parser.add_argument("--no-keras", action="store_true", help="skip the Keras runs")
    args = parser.parse_args(argv)
    use_keras = not args.no_keras and importlib.util.find_spec("keras") is not None
    if not args.no_keras and not use_keras:
        print("Keras is not installed; course runs only.")
    data = mnist.load_flat()
    seeds = list(range(args.seeds))
    keras_seeds = list(range(args.keras_seeds if args.keras_seeds is not None else args.seeds))
    out = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "course", "results",
                       "mnist_book_runs.json")
    previous = {}
    if not use_keras and os.path.exists(out):  # keep the Keras columns of an earlier run
        with open(out) as f:
            previous = {r["run"]: r for r in json.load(f)}

    # Every course run first: once Keras (and with it PyTorch) is imported, PyTorch's threads
    # compete with NumPy's for the cores and the course's times per epoch would suffer.
    records = []
    for label, hidden, activation, epochs, claim in RUNS:
        c = np.array([run_course(data, hidden, activation, epochs, s) for s in seeds])
        record = {"run": label, "hidden": hidden, "activation": activation, "epochs": epochs,
                  "book_claim": claim, "seeds": len(seeds),
                  "course_acc_mean": float(c[:, 0].mean()), "course_acc_std": float(c[:, 0].std()),
                  "course_s_per_epoch": float(c[:, 1].mean()),
                  "keras_acc_mean": None, "keras_acc_std": None, "keras_s_per_epoch": None}
        old = previous.get(label, {})
        for key in ("keras_acc_mean", "keras_acc_std", "keras_s_per_epoch", "keras_seeds", "keras_version"):
            if old.get(key) is not None:
                record[key] = old[key]
        records.append(record)
    if use_keras:
        import keras

        keras_label = f"keras {keras.__version__} ({keras.backend.backend()})"
        for record in records:
            k = np.array([run_keras(data, record["hidden"], record["activation"], record["epochs"], s)
                          for s in keras_seeds])
            record.update(keras_acc_mean=float(k[:, 0].mean()), keras_acc_std=float(k[:, 0].std()),
                          keras_s_per_epoch=float(k[:, 1].mean()), keras_seeds=len(keras_seeds),
                          keras_version=keras_label)

    print(f"MNIST test accuracy, mean ± std over {len(seeds)} seeds (Keras: "
          f"{records[0].get('keras_seeds', '-')} seeds); seconds per epoch (mean)")
    header = f"{'run':<26}{'book':>24}{'course acc':>18}{'s/ep':>7}{'keras acc':>18}{'s/ep':>7}  {'diff/noise':>10}"
    print(header)
    print("-" * len(header))
    for r in records:
        line = f"{r['run']:<26}{r['book_claim']:>24}{r['course_acc_mean']:>12.4f} ± {r['course_acc_std']:.3f}" \
               f"{r['course_s_per_epoch']:>7.2f}"
        if r["keras_acc_mean"] is not None:
            noise = np.hypot(r["course_acc_std"], r["keras_acc_std"]) or 1e-9
            line += f"{r['keras_acc_mean']:>12.4f} ± {r['keras_acc_std']:.3f}{r['keras_s_per_epoch']:>7.2f}  " \
                    f"{(r['course_acc_mean'] - r['keras_acc_mean']) / noise:>10.2f}"
        print(line)
    if any(r["keras_acc_mean"] is not None for r in records):
        print(f"Keras: {records[0].get('keras_version')}. diff/noise: (course - keras) mean accuracy over the "
              "combined seed-to-seed standard deviation; |value| below about 2 means they agree within noise.")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump(records, f, indent=1)
    print(f"written {os.path.relpath(out)}")


if __name__ == "__main__":
    main()
