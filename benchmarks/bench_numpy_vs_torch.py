"""Seconds per epoch on MNIST: the course's NumPy path against a plain PyTorch CPU loop.

Both train the book's networks on the same data, with the same batch size (100), SGD lr 0.01,
in the same process. Prints the time per epoch of each, their ratio, the test accuracy of each,
and the peak resident memory of a full MNIST fit with the course library (measured in a fresh
process that imports NumPy and the course only).

It also times a "floor" per network: the batch gathers and the matrix products of an epoch and
nothing else, which any implementation of this training has to do. floor / torch is the smallest
ratio the course could reach on this machine; the course's time minus the floor is its overhead.

How it is timed. A shared machine's speed drifts by tens of percent from one minute to the next
(other tenants use the same memory and caches), so the three runs of a network are interleaved:
each round trains one epoch of the course model, one of the floor and one of the PyTorch model,
a short pause before each (so that neither library's idle worker threads are still spinning
when the other starts). Each run first trains one warm-up epoch, untimed (it compiles the fused
optimizer kernels and lets PyTorch set up its thread pool). The table gives the median over the
rounds of each time, and the median over the rounds of each round's ratio.

Last, a breakdown of the course's training step for each network: the step of
``Sequential._step`` cut into its stages (batch gather, matrix products, activations, loss,
weight update, metric), each timed over whole epochs, in microseconds per step. It shows where
the time above the floor goes.

    python benchmarks/bench_numpy_vs_torch.py            # 5 timed epochs per configuration
    python benchmarks/bench_numpy_vs_torch.py --epochs 2
    python benchmarks/bench_numpy_vs_torch.py --breakdown-only

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
from course import losses  # noqa: E402
from course.datasets import mnist  # noqa: E402
from course.layers import dense_backward, dense_forward  # noqa: E402
from course.optimizers import SGD  # noqa: E402

CONFIGS = [  # (label, hidden units, hidden activation)
    ("784-10(sigmoid)-10", 10, "sigmoid"),
    ("784-10(relu)-10", 10, "relu"),
    ("784-512(relu)-10", 512, "relu"),
]

#: Seconds of pause before each timed epoch (OpenBLAS and OpenMP workers spin a little while
#: after their last task before they sleep).
PAUSE = 0.3


class CourseRun:
    """The course's Sequential model; each ``epoch()`` call trains one more epoch (fit)."""

    def __init__(self, data, hidden, activation, seed=0):
        (self.x, self.y), (self.x_test, self.y_test) = data
        self.seed = seed
        set_seed(seed)
        self.model = Sequential([Dense(hidden, activation=activation, input_shape=(784,)),
                                 Dense(10, activation="softmax")])
        self.model.compile(loss="categorical_crossentropy", optimizer=SGD(lr=0.01), metrics=["accuracy"])

    def epoch(self) -> float:
        self.seed += 1
        history = self.model.fit(self.x, self.y, epochs=1, batch_size=100, verbose=0, seed=self.seed)
        return history.history["time"][0]

    def accuracy(self) -> float:
        return self.model.evaluate(self.x_test, self.y_test, batch_size=1000)[1]


class FloorRun:
    """The work no implementation of this training can skip, one epoch per ``epoch()`` call.

    The batch gathers and the five matrix products of each step (two forward, three backward),
    written into preallocated arrays, nothing else: no activation, loss, metric or update.
    The course's time minus this is its overhead; this divided by PyTorch's time is the
    smallest ratio the course could reach on this machine with this algorithm.
    """

    def __init__(self, data, hidden, seed=0):
        (self.x, self.y), _ = data
        self.rng = np.random.default_rng(seed)
        self.w1 = (self.rng.standard_normal((784, hidden)) * 0.05).astype(np.float32)
        self.w2 = (self.rng.standard_normal((hidden, 10)) * 0.05).astype(np.float32)
        b = 100
        self.h, self.out = np.empty((b, hidden), np.float32), np.empty((b, 10), np.float32)
        self.dw1, self.dw2 = np.empty_like(self.w1), np.empty_like(self.w2)
        self.dh = np.empty((b, hidden), np.float32)

    def epoch(self) -> float:
        x, y, w1, w2, h, out = self.x, self.y, self.w1, self.w2, self.h, self.out
        order = self.rng.permutation(len(x))
        start = time.perf_counter()
        for i in range(0, len(x), 100):
            idx = order[i:i + 100]
            xb, yb = x[idx], y[idx]
            np.matmul(xb, w1, out=h)
            np.matmul(h, w2, out=out)
            np.subtract(out, yb, out=out)              # stands in for dL/dz: one tiny operation
            np.matmul(h.T, out, out=self.dw2)
            np.matmul(out, w2.T, out=self.dh)
            np.matmul(xb.T, self.dh, out=self.dw1)
        return time.perf_counter() - start


class TorchRun:
    """The same network as a plain PyTorch CPU training loop, one epoch per ``epoch()`` call."""

    def __init__(self, data, hidden, activation, seed=0):
        import torch

        self.torch = torch
        (x, y), (x_test, y_test) = data
        torch.manual_seed(seed)
        self.xs, self.ys = torch.from_numpy(x), torch.from_numpy(y.argmax(1))
        self.x_test, self.y_test = x_test, y_test
        act = torch.nn.Sigmoid() if activation == "sigmoid" else torch.nn.ReLU()
        self.net = torch.nn.Sequential(torch.nn.Linear(784, hidden), act, torch.nn.Linear(hidden, 10))
        self.opt = torch.optim.SGD(self.net.parameters(), lr=0.01)
        self.loss_fn = torch.nn.CrossEntropyLoss()

    def epoch(self) -> float:
        torch, xs, ys, net, opt, loss_fn = self.torch, self.xs, self.ys, self.net, self.opt, self.loss_fn
        start = time.perf_counter()
        order = torch.randperm(len(xs))
        for i in range(0, len(xs), 100):
            idx = order[i:i + 100]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(xs[idx]), ys[idx])
            loss.backward()
            opt.step()
        return time.perf_counter() - start

    def accuracy(self) -> float:
        with self.torch.no_grad():
            predicted = self.net(self.torch.from_numpy(self.x_test)).argmax(1).numpy()
        return float((predicted == self.y_test.argmax(1)).mean())


#: The stages of one training step, in order, as ``step_breakdown`` times them.
STAGES = [
    ("gather", "the batch: x[idx], y[idx]"),
    ("matmul", "the five matrix products (x @ kernel forward; x.T @ dz and dz @ kernel.T backward, "
               "with dbias = dz summed over the batch)"),
    ("bias", "adding the biases in the forward pass"),
    ("activation", "the hidden activation and its backward pass"),
    ("softmax+loss", "softmax, the loss value and the fused gradient (softmax - y) / B"),
    ("update", "optimizer.apply_gradients (SGD, the fused kernel for the large kernel)"),
    ("metric", "accuracy of the batch"),
]


def step_breakdown(data, hidden, activation, epochs=2, seed=0) -> dict:
    """Microseconds per step of each stage of the course's training step (see STAGES).

    The step is ``Sequential._step`` followed by the batch's metric, written out with the same
    kernels (``dense_forward``, the activation, ``softmax_crossentropy_backward``,
    ``dense_backward``, the optimizer) so that a clock can sit between the stages. Medians over
    ``epochs`` epochs of the per-epoch totals, after one warm-up epoch. The bias is added after
    ``dense_forward`` (given no bias) so that it is timed apart: the same operation, in place.
    """
    (x, y), _ = data
    model = CourseRun(data, hidden, activation, seed).model
    first, last = model.layers
    optimizer, metric = model.optimizer, model.metrics[0][1]
    rng = np.random.default_rng(seed)
    clock = time.perf_counter
    totals = []
    for epoch in range(epochs + 1):
        spent = dict.fromkeys((name for name, _ in STAGES), 0.0)
        order = rng.permutation(len(x))
        with np.errstate(over="ignore", invalid="ignore"):
            for i in range(0, len(x), 100):
                t0 = clock()
                idx = order[i:i + 100]
                xb, yb = x[idx], y[idx]
                t1 = clock()
                z1, cache1 = dense_forward(xb, first.kernel, None)
                t2 = clock()
                z1 += first.bias
                t3 = clock()
                a1 = first.activation.forward(z1)
                t4 = clock()
                z2, cache2 = dense_forward(a1, last.kernel, None)
                t5 = clock()
                z2 += last.bias
                t6 = clock()
                probs = last.activation.forward(z2)
                model.loss.forward(yb, probs)
                dz2 = losses.softmax_crossentropy_backward(yb, probs)
                t7 = clock()
                da1, dkernel2, dbias2 = dense_backward(dz2, cache2)
                t8 = clock()
                dz1 = first.activation.backward(da1, a1)
                t9 = clock()
                _, dkernel1, dbias1 = dense_backward(dz1, cache1, need_dx=False)
                t10 = clock()
                optimizer.apply_gradients([first.kernel, first.bias, last.kernel, last.bias],
                                          [dkernel1, dbias1, dkernel2, dbias2])
                t11 = clock()
                metric(yb, probs)
                t12 = clock()
                spent["gather"] += t1 - t0
                spent["matmul"] += (t2 - t1) + (t5 - t4) + (t8 - t7) + (t10 - t9)
                spent["bias"] += (t3 - t2) + (t6 - t5)
                spent["activation"] += (t4 - t3) + (t9 - t8)
                spent["softmax+loss"] += t7 - t6
                spent["update"] += t11 - t10
                spent["metric"] += t12 - t11
        if epoch:  # the first epoch warms up (and compiles the fused kernels)
            totals.append(spent)
    steps = -(-len(x) // 100)
    return {name: float(np.median([t[name] for t in totals])) / steps * 1e6 for name, _ in STAGES}


def interleaved(runs: dict, rounds: int) -> dict:
    """{name: [seconds per epoch, one per round]}: one warm-up epoch each, untimed, then
    ``rounds`` rounds of one epoch of every run in turn, with a pause before each."""
    for run in runs.values():
        run.epoch()
    times = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            time.sleep(PAUSE)
            times[name].append(run.epoch())
    return times


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
    parser.add_argument("--epochs", type=int, default=5,
                        help="timed epochs (rounds) per configuration, after one warm-up epoch (default 5)")
    parser.add_argument("--breakdown-only", action="store_true",
                        help="print only the breakdown of the course's step (no PyTorch runs)")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error(f"--epochs must be at least 1, got {args.epochs}")

    data = mnist.load_flat()
    if not args.breakdown_only:
        compare(data, args.epochs)
    print_breakdown(data, max(2, args.epochs // 2))


def compare(data, epochs: int) -> None:
    """The table of seconds per epoch: course, floor and PyTorch, and the peak memory."""
    import torch

    print(f"numpy {np.__version__}, torch {torch.__version__}, torch threads {torch.get_num_threads()}, "
          f"cpus {os.cpu_count()}; batch 100, SGD lr 0.01; 1 warm-up + {epochs} timed epochs "
          "each, interleaved; medians over the rounds")
    header = f"{'network':<20}{'course s/epoch':>16}{'torch s/epoch':>15}{'ratio':>8}{'goal':>7}" \
             f"{'floor s/ep':>12}{'floor ratio':>13}{'course acc':>12}{'torch acc':>11}"
    print(header)
    print("-" * len(header))
    for label, hidden, activation in CONFIGS:
        runs = {"course": CourseRun(data, hidden, activation), "floor": FloorRun(data, hidden),
                "torch": TorchRun(data, hidden, activation)}
        times = {name: np.array(t) for name, t in interleaved(runs, epochs).items()}
        c, f, t = (float(np.median(times[name])) for name in ("course", "floor", "torch"))
        ratio = float(np.median(times["course"] / times["torch"]))
        floor_ratio = float(np.median(times["floor"] / times["torch"]))
        goal = 0.75 if hidden == 512 else 0.25
        print(f"{label:<20}{c:>16.3f}{t:>15.3f}{ratio:>8.2f}{goal:>7.2f}{f:>12.3f}{floor_ratio:>13.2f}"
              f"{runs['course'].accuracy():>12.4f}{runs['torch'].accuracy():>11.4f}")
        sys.stdout.flush()
    print("ratio = median over the rounds of course / torch; floor: the batch gathers and the five "
          "matrix products of every step alone, in NumPy (see FloorRun); floor ratio = floor / "
          "torch, the smallest ratio this algorithm could reach here. Accuracy after all "
          f"{epochs + 1} epochs.")
    mem = peak_memory_mb()
    print(f"peak resident memory of a full MNIST fit (784-512-10, 1 epoch, with validation): "
          f"{mem['peak_rss_mb']:.0f} MB (torch loaded: {mem['torch_loaded']}; limit 1536 MB)")


def print_breakdown(data, epochs: int) -> None:
    """Where the course's step spends its time, stage by stage, for every network."""
    print(f"\nThe course's training step, stage by stage (microseconds per step, median of {epochs} "
          "epochs after a warm-up):")
    header = f"{'network':<20}" + "".join(f"{name:>14}" for name, _ in STAGES) + f"{'total':>10}"
    print(header)
    print("-" * len(header))
    for label, hidden, activation in CONFIGS:
        us = step_breakdown(data, hidden, activation, epochs)
        print(f"{label:<20}" + "".join(f"{us[name]:>14.0f}" for name, _ in STAGES) + f"{sum(us.values()):>10.0f}")
        sys.stdout.flush()
    for name, meaning in STAGES:
        print(f"  {name}: {meaning}")


if __name__ == "__main__":
    main()
