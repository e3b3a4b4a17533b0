"""Seconds per epoch on MNIST: the course's NumPy path against a plain PyTorch CPU training loop.

The book's four MNIST runs (pixels / 255, one-hot labels, categorical cross-entropy, SGD lr 0.01,
batch size 100):

    784-10(sigmoid)-10, 5 epochs     784-512(relu)-10, 5 epochs
    784-10(relu)-10,    5 epochs     784-512(relu)-10, 20 epochs

each trained by the course (``Sequential.fit``, the NumPy kernels a learner reads) and by a
plain PyTorch loop on the CPU (nn.Linear, CrossEntropyLoss, torch.optim.SGD), with the same
batch size and learning rate.

How it is timed. Each side trains in a process of its own: on 2 cores, NumPy's OpenBLAS
threads and torch's OpenMP threads keep spinning after their work and slow each other down
inside one process. The processes alternate (course, torch, torch, course, ...), so that the
drift of a shared machine's speed touches both alike. The first epoch of every process is a
warm-up and is not counted; the table gives the median over the remaining epochs of all rounds,
and the ratio course / torch of those medians. Adam (Keras 2 defaults; torch.optim.Adam with
eps 1e-7) is timed the same way on the 10- and 512-unit ReLU networks, without a goal.

It also reports the test accuracy of the four runs next to Keras's (benchmarks/results/
mnist_book_runs.json), and the peak resident memory of the course's process over a full
20-epoch fit of the 512-unit network (MNIST loaded, trained and evaluated).

    python benchmarks/bench_numpy_vs_torch.py               # 3 rounds
    python benchmarks/bench_numpy_vs_torch.py --rounds 1

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
ROOT = os.path.dirname(HERE)

RUNS = [  # (label, hidden units, activation, epochs)
    ("784-10(sigmoid)-10, 5 ep", 10, "sigmoid", 5),
    ("784-10(relu)-10, 5 ep", 10, "relu", 5),
    ("784-512(relu)-10, 5 ep", 512, "relu", 5),
    ("784-512(relu)-10, 20 ep", 512, "relu", 20),
]
ADAM_RUNS = [("784-10(relu)-10, Adam", 10, "relu", 3), ("784-512(relu)-10, Adam", 512, "relu", 3)]


# -- the two sides, each run in a process of its own ------------------------------------------------
def course_side(hidden, activation, optimizer, epochs, seed):
    sys.path.insert(0, ROOT)
    from course import Dense, Sequential, set_seed
    from course.datasets import mnist
    from course.optimizers import SGD, Adam

    (x, y), (x_test, y_test) = mnist.load_flat()
    set_seed(seed)
    model = Sequential([Dense(hidden, activation=activation, input_shape=(784,)),
                        Dense(10, activation="softmax")])
    model.compile(SGD(lr=0.01) if optimizer == "sgd" else Adam(), "categorical_crossentropy",
                  ["accuracy"])
    history = model.fit(x, y, epochs=epochs, batch_size=100, verbose=0)
    accuracy = model.evaluate(x_test, y_test, batch_size=1000)[1]
    return history.epoch_seconds, accuracy


def torch_side(hidden, activation, optimizer, epochs, seed):
    import torch

    sys.path.insert(0, ROOT)
    from course.datasets import mnist

    (x, y), (x_test, y_test) = mnist.load_flat()
    torch.manual_seed(seed)
    xs, ys = torch.from_numpy(x), torch.from_numpy(y.argmax(1))
    act = torch.nn.Sigmoid() if activation == "sigmoid" else torch.nn.ReLU()
    net = torch.nn.Sequential(torch.nn.Linear(784, hidden), act, torch.nn.Linear(hidden, 10))
    opt = (torch.optim.SGD(net.parameters(), lr=0.01) if optimizer == "sgd"
           else torch.optim.Adam(net.parameters(), lr=0.001, eps=1e-7))
    loss_fn = torch.nn.CrossEntropyLoss()
    seconds = []
    for _ in range(epochs):
        start = time.perf_counter()
        order = torch.randperm(len(xs))
        for i in range(0, len(xs), 100):
            idx = order[i:i + 100]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(xs[idx]), ys[idx])
            loss.backward()
            opt.step()
        seconds.append(time.perf_counter() - start)
    with torch.no_grad():
        predicted = net(torch.from_numpy(x_test)).argmax(1).numpy()
    return seconds, float((predicted == y_test.argmax(1)).mean())


def child(args):
    side = course_side if args.child == "course" else torch_side
    seconds, accuracy = side(args.hidden, args.activation, args.optimizer, args.epochs, args.seed)
    import resource

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024   # KiB on Linux
    print(json.dumps({"seconds": seconds, "accuracy": accuracy, "peak_rss_mb": peak_mb}))


def spawn(side, hidden, activation, optimizer, epochs, seed):
    command = [sys.executable, os.path.abspath(__file__), "--child", side, "--hidden", str(hidden),
               "--activation", activation, "--optimizer", optimizer, "--epochs", str(epochs),
               "--seed", str(seed)]
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- the parent: alternate the processes, take medians -------------------------------------------------
def measure(runs, optimizer, rounds):
    """{label: {'course': [results], 'torch': [results]}}, the sides alternating each round."""
    results = {label: {"course": [], "torch": []} for label, *_ in runs}
    for r in range(rounds):
        for label, hidden, activation, epochs in runs:
            order = ("course", "torch") if r % 2 == 0 else ("torch", "course")
            for side in order:
                time.sleep(0.5)
                results[label][side].append(spawn(side, hidden, activation, optimizer, epochs, seed=r))
    return results


def per_epoch(results):
    """Median seconds per epoch over every epoch but each process's first (the warm-up)."""
    return float(np.median([s for result in results for s in result["seconds"][1:]]))


def keras_reference():
    path = os.path.join(os.path.dirname(HERE), "course", "results", "mnist_book_runs.json")
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return {r["run"]: r for r in json.load(f)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", choices=["course", "torch"], help=argparse.SUPPRESS)
    parser.add_argument("--hidden", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--activation", help=argparse.SUPPRESS)
    parser.add_argument("--optimizer", default="sgd", help=argparse.SUPPRESS)
    parser.add_argument("--epochs", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)

    started = time.perf_counter()
    sgd = measure(RUNS, "sgd", args.rounds)
    adam = measure(ADAM_RUNS, "adam", args.rounds)
    keras = keras_reference()
    print(f"MNIST, batch 100, each side in its own process, {args.rounds} alternating rounds; "
          "seconds per epoch: median over the epochs after each process's first")
    header = (f"{'run':<26}{'course s/ep':>12}{'torch s/ep':>11}{'ratio':>7}{'course acc':>12}"
              f"{'torch acc':>10}{'keras acc':>16}{'diff/noise':>11}")
    print(header)
    print("-" * len(header))
    for label, *_ in RUNS:
        c, t = sgd[label]["course"], sgd[label]["torch"]
        course_acc = np.array([r["accuracy"] for r in c])
        torch_acc = np.mean([r["accuracy"] for r in t])
        line = (f"{label:<26}{per_epoch(c):>12.3f}{per_epoch(t):>11.3f}{per_epoch(c) / per_epoch(t):>6.2f}x"
                f"{course_acc.mean():>12.4f}{torch_acc:>10.4f}")
        k = keras.get(label)
        if k and k.get("keras_acc_mean") is not None:
            # the course's own seed-to-seed spread: from these rounds when there are 3 or more,
            # else the one stored by mnist_book_runs.py (3 seeds)
            spread = course_acc.std() if len(course_acc) >= 3 else k.get("course_acc_std", 0.0)
            noise = np.hypot(spread, k["keras_acc_std"]) or 1e-9
            line += (f"{k['keras_acc_mean']:>10.4f} ± {k['keras_acc_std']:.3f}"
                     f"{(course_acc.mean() - k['keras_acc_mean']) / noise:>11.2f}")
        print(line)
    for label, *_ in ADAM_RUNS:
        c, t = adam[label]["course"], adam[label]["torch"]
        print(f"{label:<26}{per_epoch(c):>12.3f}{per_epoch(t):>11.3f}{per_epoch(c) / per_epoch(t):>6.2f}x"
              f"{np.mean([r['accuracy'] for r in c]):>12.4f}{np.mean([r['accuracy'] for r in t]):>10.4f}")
    peak = max(r["peak_rss_mb"] for r in sgd["784-512(relu)-10, 20 ep"]["course"])
    print(f"peak RSS of the course's process over a full 20-epoch fit of 784-512-10: {peak:.0f} MB "
          f"(goal: under 1536 MB)")
    print("diff/noise: (course - keras) mean accuracy over the combined seed-to-seed standard "
          "deviation (the course's from benchmarks/results/mnist_book_runs.json when fewer than 3 "
          "rounds ran); |value| below about 2 agrees within noise. Keras: "
          f"{next(iter(keras.values()), {}).get('keras_version', 'not measured')}.")
    print("goals: course / torch at most 1.0x for the 10-unit networks, at most 1.25x for 512 units "
          "(SGD); Adam has no goal.")
    averages = os.getloadavg()
    load = ", ".join(f"{x:.1f}" for x in averages)
    busy = ("above the core count: other work shared the machine" if max(averages) > (os.cpu_count() or 1)
            else "not above the core count")
    print(f"(measured in {time.perf_counter() - started:.0f} s on {os.cpu_count()} cores; load average "
          f"at the end {load}, {busy})")
    # the larger ratio of the two 10-unit networks; the 512-unit epochs of both of its runs
    small = max(per_epoch(sgd[label]["course"]) / per_epoch(sgd[label]["torch"]) for label, *_ in RUNS[:2])
    course_512 = per_epoch(sgd[RUNS[2][0]]["course"] + sgd[RUNS[3][0]]["course"])
    torch_512 = per_epoch(sgd[RUNS[2][0]]["torch"] + sgd[RUNS[3][0]]["torch"])
    print(f"numpy vs torch cpu: 10 units {small:.2f}x, 512 units {course_512 / torch_512:.2f}x")


if __name__ == "__main__":
    main()
