"""What each optimizer costs, and what it achieves, on the book's MNIST network.

Two tables:

1. apply_gradients alone, on weights shaped like the 784-512-10 network's
   ((784, 512), (512,), (512, 10), (10,): 407 050 float32 numbers), in milliseconds per call:
   with the fused kernels (one pass over memory, when numba is installed), with the in-place
   NumPy update (one pass per operation) and with the pure step functions (new arrays);
2. the 784-512(relu)-10(softmax) network trained on MNIST (pixels / 255, one-hot labels,
   batch 100, Keras's default initialisers, seed 0, epoch r shuffled with seed r) with each
   optimizer at its Keras 2 defaults: test accuracy, seconds per epoch, and the share of the
   epoch spent inside apply_gradients (the fused kernels are compiled before the clock starts;
   COURSE_FUSED=0 measures the NumPy update instead). The optimizers train in interleaved
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
from course.optimizers import fused  # noqa: E402

SHAPES = [(784, 512), (512,), (512, 10), (10,)]


def pure_update(opt, params, grads, state, t):
    """The same update through the pure functions, copying the results back (for comparison)."""
    lr = opt.current_lr
    for i, (p, g) in enumerate(zip(params, grads)):
        s = state[i]
        if isinstance(opt, O.SGD):
            new = O.sgd_step(p, g, s[0], lr, opt.momentum, opt.nesterov)
        elif isinstance(opt, O.RMSprop):
            new = O.rmsprop_step(p, g, s[0], lr, opt.rho, opt.epsilon)
        elif isinstance(opt, O.Adagrad):
            new = O.adagrad_step(p, g, s[0], lr, opt.epsilon)
        elif isinstance(opt, O.Adadelta):
            new = O.adadelta_step(p, g, s[0], s[1], lr, opt.rho, opt.epsilon)
        elif isinstance(opt, O.Adam):
            new = O.adam_step(p, g, s[0], s[1], t, lr, opt.beta_1, opt.beta_2, opt.epsilon)[:3]
        elif isinstance(opt, O.Adamax):
            new = O.adamax_step(p, g, s[0], s[1], t, lr, opt.beta_1, opt.beta_2, opt.epsilon)
        else:
            new = O.nadam_step(p, g, s[0], s[1], t, 1.0, lr, opt.beta_1, opt.beta_2, opt.epsilon,
                               opt.schedule_decay)[:3]
        np.copyto(p, new[0])
        state[i] = list(new[1:])


def micro_benchmark(names, calls=200, repeats=5):
    """Milliseconds per apply_gradients call (best of ``repeats`` runs of ``calls`` calls)."""
    rng = np.random.default_rng(0)
    rows = []
    for label, make in names:
        params = [(0.05 * rng.standard_normal(s)).astype(np.float32) for s in SHAPES]
        grads = [(0.01 * rng.standard_normal(s)).astype(np.float32) for s in SHAPES]
        timings = {}
        for path in ("fused", "numpy"):
            if path == "fused" and not fused.available():
                timings[path] = float("nan")
                continue
            saved = fused._kernels
            if path == "numpy":
                fused._kernels = False
            try:
                opt = make()
                opt.apply_gradients(params, grads)  # build the state (and compile the kernel)
                best = []
                for _ in range(repeats):
                    start = time.perf_counter()
                    for _ in range(calls):
                        opt.apply_gradients(params, grads)
                    best.append((time.perf_counter() - start) / calls)
                timings[path] = min(best)
            finally:
                fused._kernels = saved
        state = [[np.zeros_like(p), np.zeros_like(p)] for p in params]
        pure = []
        for _ in range(max(1, repeats // 2)):
            start = time.perf_counter()
            for t in range(1, calls // 4 + 1):
                pure_update(opt, params, grads, state, t)
            pure.append((time.perf_counter() - start) / (calls // 4))
        rows.append((label, timings["fused"] * 1e3, timings["numpy"] * 1e3, min(pure) * 1e3))
    return rows


#: (arrays read, arrays written) per weight by a single fused pass, 4 bytes each in float32:
#: the weight, the gradient and the state are read (SGD without momentum does not read its
#: velocity, it only writes the step into it); the weight and the state are written.
TRAFFIC = {"sgd": (2, 2), "rmsprop": (3, 2), "adagrad": (3, 2), "adadelta": (4, 3), "adam": (4, 3),
           "adamax": (4, 3), "nadam": (4, 3)}


def bytes_per_weight(name: str) -> int:
    return 4 * sum(TRAFFIC[name])


def copy_bandwidth(megabytes=256, repeats=5) -> float:
    """This machine's memory bandwidth in bytes/s: a large np.copyto (bytes read + written)."""
    a = np.ones(megabytes * 2**20 // 4, np.float32)
    b = np.empty_like(a)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        np.copyto(b, a)
        best = min(best, time.perf_counter() - start)
    return 2 * a.nbytes / best


class Run:
    """One model of the book's 784-512(relu)-10(softmax) network with optimizer ``name`` at its
    Keras 2 defaults, trained one epoch at a time, timing its apply_gradients calls."""

    def __init__(self, name, seed=0):
        from course import Dense, Sequential, set_seed
        from course.experiments import compile_update

        self.name = name
        set_seed(seed)
        self.model = Sequential([Dense(512, activation="relu", input_shape=(784,)),
                                 Dense(10, activation="softmax")])
        self.model.compile(loss="categorical_crossentropy", optimizer=name, metrics=["accuracy"])
        optimizer = self.model.optimizer
        compile_update(self.model)  # compile the fused kernels now: a one-time cost, not an epoch's
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


def summarise(run, data, bandwidth, weights):
    """The row of the table for one run (medians over the rounds)."""
    (_, _), (x_test, y_test) = data
    epoch_s = np.array(run.epoch_s)
    update_s = np.array(run.update_s)
    steps = np.array(run.steps)
    share = update_s / epoch_s
    step_ms = float(np.median(update_s / steps)) * 1e3
    floor_ms = bytes_per_weight(run.name) * weights / bandwidth * 1e3
    rest_ms = float(np.median((epoch_s - update_s) / steps)) * 1e3   # all but the update
    return dict(optimizer=run.name, accuracy=run.model.evaluate(x_test, y_test, batch_size=1000)[1],
                epoch_s=float(np.median(epoch_s)), step_ms=step_ms, share=float(np.median(share)),
                share_min=float(share.min()), share_max=float(share.max()), floor_ms=floor_ms,
                floor_share=floor_ms / (rest_ms + floor_ms))


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
    print("fused: one pass per weight (numba, course/optimizers/fused.py), what training uses "
          "for a large model;\nNumPy in place: one ufunc per operation (used without numba); "
          "pure functions: new arrays every operation")
    print(f"{'optimizer':<20}{'fused (ms)':>12}{'NumPy in place (ms)':>21}{'pure functions (ms)':>22}")
    started = time.perf_counter()
    for label, fast, numpy_ms, pure in micro_benchmark(micro):
        print(f"{label:<20}{fast:>12.3f}{numpy_ms:>21.3f}{pure:>22.3f}")
    print(f"(this table, including compiling the fused kernels on first use: "
          f"{time.perf_counter() - started:.1f} s)")
    sys.stdout.flush()
    if args.micro_only:
        return

    from course.datasets import mnist

    data = mnist.load_flat()
    bandwidth = copy_bandwidth()
    weights = sum(int(np.prod(s)) for s in SHAPES)
    print(f"\n784-512(relu)-10(softmax) on MNIST, batch 100, {args.epochs} epoch(s), Keras 2 defaults")
    print(f"memory bandwidth (np.copyto of 256 MB, read + write): {bandwidth / 1e9:.1f} GB/s")
    print("The optimizers train in interleaved rounds of one epoch each; times are medians over "
          "the rounds.")
    print("share: time inside apply_gradients / epoch time (lowest-highest over the rounds in "
          "brackets)\nfloor: the time one fused pass needs just to move the weight, gradient and "
          "state through memory\n  at that bandwidth, and the share it would have of the epoch")
    started = time.perf_counter()
    runs = interleaved(names, data, args.epochs)
    print(f"(trained in {time.perf_counter() - started:.0f} s)")
    print(f"{'optimizer':<12}{'test acc':>9}{'s/epoch':>9}{'opt ms/step':>13}{'share':>8}"
          f"{'(range)':>16}{'floor ms':>10}{'floor share':>13}")
    for run in runs:
        r = summarise(run, data, bandwidth, weights)
        spread = f"({r['share_min']:.1%}-{r['share_max']:.1%})"
        print(f"{r['optimizer']:<12}{r['accuracy']:>9.4f}{r['epoch_s']:>9.2f}{r['step_ms']:>13.3f}"
              f"{r['share']:>8.1%}{spread:>16}{r['floor_ms']:>10.3f}{r['floor_share']:>13.1%}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
