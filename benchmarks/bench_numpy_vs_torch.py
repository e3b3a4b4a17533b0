"""Seconds per epoch on MNIST: the course's NumPy path against a plain PyTorch CPU loop.

Both train the book's networks on the same data, with the same batch size (100), SGD lr 0.01,
in the same process: first every course run, then every PyTorch run. (Once PyTorch is imported,
its own thread pool competes with NumPy's BLAS threads for the cores, so the course runs go
first; PyTorch is then measured in the same conditions it would have on its own.) Prints the
time per epoch of each, their ratio, the test accuracy of each, and the peak resident memory of
a full MNIST fit with the course library (measured in a fresh process that imports NumPy and
the course only).

It also times a "floor" per network: the batch gathers and the matrix products of an epoch and
nothing else, which any implementation of this training has to do. floor / torch is the smallest
ratio the course could reach on this machine; the course's time minus the floor is its overhead.

    python benchmarks/bench_numpy_vs_torch.py            # 5 epochs per configuration
    python benchmarks/bench_numpy_vs_torch.py --epochs 2

MNIST is read from COURSE_DATA_DIR (or the cache, or downloaded).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from course import Dense, Sequential, set_seed  # noqa: E402
from course.datasets import mnist  # noqa: E402
from course.optimizers import SGD  # noqa: E402

CONFIGS = [  # (label, hidden units, hidden activation)
    ("784-10(sigmoid)-10", 10, "sigmoid"),
    ("784-10(relu)-10", 10, "relu"),
    ("784-512(relu)-10", 512, "relu"),
]


def course_epoch_times(data, hidden, activation, epochs, seed=0):
    (x, y), (xt, yt) = data
    set_seed(seed)
    model = Sequential([Dense(hidden, activation=activation, input_shape=(784,)),
                        Dense(10, activation="softmax")])
    model.compile(loss="categorical_crossentropy", optimizer=SGD(lr=0.01), metrics=["accuracy"])
    history = model.fit(x, y, epochs=epochs, batch_size=100, verbose=0, seed=seed)
    return history.history["time"], model.evaluate(xt, yt, batch_size=1000)[1]


def floor_epoch_times(data, hidden, epochs, seed=0):
    """Seconds per epoch of the work no implementation of this training can skip.

    The batch gathers and the five matrix products of each step (two forward, three backward),
    written into preallocated arrays, nothing else: no activation, loss, metric or update.
    The course's time minus this is its overhead; this divided by PyTorch's time is the
    smallest ratio the course could reach on this machine with this algorithm.
    """
    (x, y), _ = data
    rng = np.random.default_rng(seed)
    w1 = (rng.standard_normal((784, hidden)) * 0.05).astype(np.float32)
    w2 = (rng.standard_normal((hidden, 10)) * 0.05).astype(np.float32)
    b = 100
    h, out = np.empty((b, hidden), np.float32), np.empty((b, 10), np.float32)
    dw1, dw2, dh = np.empty_like(w1), np.empty_like(w2), np.empty((b, hidden), np.float32)
    times = []
    for _ in range(epochs):
        order = rng.permutation(len(x))
        start = time.perf_counter()
        for i in range(0, len(x), b):
            idx = order[i:i + b]
            xb, yb = x[idx], y[idx]
            np.matmul(xb, w1, out=h)
            np.matmul(h, w2, out=out)
            np.subtract(out, yb, out=out)              # stands in for dL/dz: one tiny operation
            np.matmul(h.T, out, out=dw2)
            np.matmul(out, w2.T, out=dh)
            np.matmul(xb.T, dh, out=dw1)
        times.append(time.perf_counter() - start)
    return times


def torch_epoch_times(data, hidden, activation, epochs, seed=0):
    import torch

    (x, y), (xt, yt) = data
    torch.manual_seed(seed)
    xs, ys = torch.from_numpy(x), torch.from_numpy(y.argmax(1))
    act = torch.nn.Sigmoid() if activation == "sigmoid" else torch.nn.ReLU()
    net = torch.nn.Sequential(torch.nn.Linear(784, hidden), act, torch.nn.Linear(hidden, 10))
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    loss_fn = torch.nn.CrossEntropyLoss()
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        order = torch.randperm(len(xs))
        for i in range(0, len(xs), 100):
            idx = order[i:i + 100]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(xs[idx]), ys[idx])
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - start)
    with torch.no_grad():
        acc = (net(torch.from_numpy(xt)).argmax(1).numpy() == yt.argmax(1)).mean()
    return times, float(acc)


PEAK_SCRIPT = r"""
import resource, sys, json
sys.path.insert(0, sys.argv[1])
from course import Dense, Sequential, set_seed
from course.datasets import mnist
from course.optimizers import SGD
(x, y), (xt, yt) = mnist.load_flat()
set_seed(0)
model = Sequential([Dense(512, activation='relu', input_shape=(784,)), Dense(10, activation='softmax')])
model.compile(loss='categorical_crossentropy', optimizer=SGD(lr=0.01), metrics=['accuracy'])
model.fit(x, y, epochs=1, batch_size=100, verbose=0, validation_data=(xt, yt))
print(json.dumps({"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "torch_loaded": "torch" in sys.modules}))
"""


def peak_memory_mb() -> dict:
    out = subprocess.run([sys.executable, "-c", PEAK_SCRIPT, os.path.dirname(HERE)], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=5, help="epochs per configuration (default 5)")
    args = parser.parse_args(argv)

    data = mnist.load_flat()
    course_results = {label: course_epoch_times(data, hidden, activation, args.epochs)
                      for label, hidden, activation in CONFIGS}
    floors = {hidden: float(np.median(floor_epoch_times(data, hidden, args.epochs)))
              for hidden in sorted({hidden for _, hidden, _ in CONFIGS})}
    import torch

    torch_results = {label: torch_epoch_times(data, hidden, activation, args.epochs)
                     for label, hidden, activation in CONFIGS}
    print(f"numpy {np.__version__}, torch {torch.__version__}, torch threads {torch.get_num_threads()}, "
          f"cpus {os.cpu_count()}; batch 100, SGD lr 0.01, {args.epochs} epochs each; "
          "time per epoch = median over epochs")
    header = f"{'network':<20}{'course s/epoch':>16}{'torch s/epoch':>15}{'ratio':>8}{'goal':>7}" \
             f"{'floor s/ep':>12}{'floor ratio':>13}{'course acc':>12}{'torch acc':>11}"
    print(header)
    print("-" * len(header))
    for label, hidden, _ in CONFIGS:
        (ct, cacc), (tt, tacc) = course_results[label], torch_results[label]
        c, t = float(np.median(ct)), float(np.median(tt))
        goal = 0.75 if hidden == 512 else 0.25
        floor = floors[hidden]
        print(f"{label:<20}{c:>16.3f}{t:>15.3f}{c / t:>8.2f}{goal:>7.2f}{floor:>12.3f}{floor / t:>13.2f}"
              f"{cacc:>12.4f}{tacc:>11.4f}")
    print("floor: the batch gathers and the five matrix products of every step alone, in NumPy "
          "(see floor_epoch_times); floor ratio = floor / torch, the smallest ratio this algorithm "
          "could reach here")
    mem = peak_memory_mb()
    print(f"peak resident memory of a full MNIST fit (784-512-10, 1 epoch, with validation): "
          f"{mem['peak_rss_mb']:.0f} MB (torch loaded: {mem['torch_loaded']}; limit 1536 MB)")


if __name__ == "__main__":
    main()
