"""What each optimizer costs, and what it achieves, on the book's MNIST network.

Two tables:

1. apply_gradients alone, on weights shaped like the 784-512-10 network's
   ((784, 512), (512,), (512, 10), (10,): 407 050 float32 numbers), in milliseconds per call
   (the base class runs each optimizer's ``update_step`` once per weight, in place);
2. the 784-512(relu)-10(softmax) network trained on MNIST (pixels / 255, one-hot labels,
   batch 100, Keras's default initialisers, seed 0, epoch r shuffled with seed r) with each
   optimizer at its Keras 2 defaults: test accuracy, seconds per epoch, and the share of the
   epoch spent inside apply_gradients. The optimizers train in interleaved
   rounds of one epoch each, so that a drift in this machine's speed touches them alike; the
   table gives medians over the rounds, and the lowest and highest share.

    python benchmarks/bench_optimizers.py                        # 5 epochs, every optimizer
    python benchmarks/bench_optimizers.py --epochs 1 --optimizers sgd,adam
    python benchmarks/bench_optimizers.py --micro-only           # table 1 only, no MNIST

MNIST is read from COURSE_DATA_DIR (or the cache, or downloaded).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from course import optimizers as O  # noqa: E402

SHAPES = [(784, 512), (512,), (512, 10), (10,)]


def micro_benchmark(names, calls=200, repeats=5):
    """Milliseconds per apply_gradients call (best of ``repeats`` runs of ``calls`` calls)."""
    rng = np.random.default_rng(0)
    rows = []
    for label, make in names:
        params = [(0.05 * rng.standard_normal(s)).astype(np.float32) for s in SHAPES]
        grads = [(0.01 * rng.standard_normal(s)).astype(np.float32) for s in SHAPES]
        opt = make()
        opt.apply_gradients(params, grads)  # build the state
        best = []
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in range(calls):
                opt.apply_gradients(params, grads)
            best.append((time.perf_counter() - start) / calls)
        rows.append((label, min(best) * 1e3))
    return rows


class Run:
    """One model of the book's 784-512(relu)-10(softmax) network with optimizer ``name`` at its
    Keras 2 defaults, trained one epoch at a time, timing its apply_gradients calls."""

    def __init__(self, name, seed=0):
        from course import Dense, Sequential, set_seed

        self.name = name
        set_seed(seed)
        self.model = Sequential([Dense(512, activation="relu", input_shape=(784,)),
                                 Dense(10, activation="softmax")])
        self.model.compile(loss="categorical_crossentropy", optimizer=name, metrics=["accuracy"])
        optimizer = self.model.optimizer
        apply_gradients = optimizer.apply_gradients
        self.spent = 0.0

        def timed(params, grads):
            start = time.perf_counter()
            apply_gradients(params, grads)
            self.spent += time.perf_counter() - start

        optimizer.apply_gradients = timed  # the instance attribute is found before the method
        self.epoch_s, self.update_s, self.steps = [], [], []

    def epoch(self, x, y, seed):
        """Train one epoch (shuffled with ``seed``); record its time and the update's time."""
        self.spent = 0.0
        before = self.model.optimizer.iterations
        start = time.perf_counter()
        self.model.fit(x, y, epochs=1, batch_size=100, verbose=0, seed=seed)
        self.epoch_s.append(time.perf_counter() - start)
        self.update_s.append(self.spent)
        self.steps.append(self.model.optimizer.iterations - before)


def interleaved(names, data, epochs, pause=0.3):
    """Train every optimizer in rounds of one epoch each.

    This machine's speed can drift by tens of percent from one minute to the next (other
    programs share its memory and caches). Taking the epochs of all the runs in turn, round
    after round, exposes them alike to that drift; the medians over the rounds then compare
    like with like. A short pause before each epoch lets the previous one's work settle.
    """
    (x, y), _ = data
    runs = [Run(n) for n in names]
    for r in range(epochs):
        for run in runs:
            time.sleep(pause)
            run.epoch(x, y, seed=r)
    return runs


def summarise(run, data):
    """The row of the table for one run (medians over the rounds)."""
    (_, _), (x_test, y_test) = data
    epoch_s = np.array(run.epoch_s)
    update_s = np.array(run.update_s)
    steps = np.array(run.steps)
    share = update_s / epoch_s
    step_ms = float(np.median(update_s / steps)) * 1e3
    return dict(optimizer=run.name, accuracy=run.model.evaluate(x_test, y_test, batch_size=1000)[1],
                epoch_s=float(np.median(epoch_s)), step_ms=step_ms, share=float(np.median(share)),
                share_min=float(share.min()), share_max=float(share.max()))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--optimizers", default=",".join(O.OPTIMIZERS),
                        help="comma-separated names (default: all)")
    parser.add_argument("--micro-only", action="store_true", help="skip the MNIST training")
    args = parser.parse_args(argv)
    names = [n.strip().lower() for n in args.optimizers.split(",") if n.strip()]
    for n in names:
        O.get(n)  # an unknown name stops here, listing the valid ones

    micro = [(n, lambda n=n: O.get(n)) for n in names]
    if "sgd" in names:
        micro.insert(names.index("sgd") + 1, ("sgd momentum=0.9", lambda: O.SGD(momentum=0.9)))
        micro.insert(names.index("sgd") + 2, ("sgd nesterov", lambda: O.SGD(momentum=0.9, nesterov=True)))
    print("apply_gradients on 407 050 float32 weights ((784,512), (512,), (512,10), (10,))")
    print(f"{'optimizer':<20}{'ms per call':>12}")
    for label, ms in micro_benchmark(micro):
        print(f"{label:<20}{ms:>12.3f}")
    sys.stdout.flush()
    if args.micro_only:
        return

    from course.datasets import mnist

    data = mnist.load_flat()
    print(f"\n784-512(relu)-10(softmax) on MNIST, batch 100, {args.epochs} epoch(s), Keras 2 defaults")
    print("The optimizers train in interleaved rounds of one epoch each; times are medians over "
          "the rounds.")
    print("share: time inside apply_gradients / epoch time (lowest-highest over the rounds in "
          "brackets)")
    started = time.perf_counter()
    runs = interleaved(names, data, args.epochs)
    print(f"(trained in {time.perf_counter() - started:.0f} s)")
    print(f"{'optimizer':<12}{'test acc':>9}{'s/epoch':>9}{'opt ms/step':>13}{'share':>8}"
          f"{'(range)':>16}")
    for run in runs:
        r = summarise(run, data)
        spread = f"({r['share_min']:.1%}-{r['share_max']:.1%})"
        print(f"{r['optimizer']:<12}{r['accuracy']:>9.4f}{r['epoch_s']:>9.2f}{r['step_ms']:>13.3f}"
              f"{r['share']:>8.1%}{spread:>16}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
