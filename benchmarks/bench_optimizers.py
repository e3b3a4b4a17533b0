"""What each optimizer costs, and what it achieves, on the book's MNIST network.

Two tables:

1. apply_gradients alone, on weights shaped like the 784-512-10 network's
   ((784, 512), (512,), (512, 10), (10,): 407 050 float32 numbers), in milliseconds per call:
   with the fused kernels (one pass over memory, when numba is installed), with the in-place
   NumPy update (one pass per operation) and with the pure step functions (new arrays);
2. the 784-512(relu)-10(softmax) network trained on MNIST (pixels / 255, one-hot labels,
   batch 100, Keras's default initialisers, seed 0) with each optimizer at its Keras 2
   defaults: test accuracy, seconds per epoch, and the share of the epoch spent inside
   apply_gradients (the fused kernels are compiled before the clock starts; COURSE_FUSED=0
   measures the NumPy update instead).

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


def train(name, data, epochs, seed=0):
    """Fit the 784-512-10 network with optimizer ``name`` at its defaults; time apply_gradients."""
    from course import Dense, Sequential, set_seed

    (x, y), (x_test, y_test) = data
    set_seed(seed)
    model = Sequential([Dense(512, activation="relu", input_shape=(784,)),
                        Dense(10, activation="softmax")])
    model.compile(loss="categorical_crossentropy", optimizer=name, metrics=["accuracy"])
    optimizer = model.optimizer
    warm = O.get(name)          # compile the fused kernels now: a one-time cost, not the epoch's
    warm.apply_gradients([w.copy() for w in model.get_weights()], model.get_weights())
    apply_gradients = optimizer.apply_gradients
    spent = [0.0]

    def timed(params, grads):
        start = time.perf_counter()
        apply_gradients(params, grads)
        spent[0] += time.perf_counter() - start

    optimizer.apply_gradients = timed  # the instance attribute is found before the method
    start = time.perf_counter()
    model.fit(x, y, epochs=epochs, batch_size=100, verbose=0, seed=seed)
    total = time.perf_counter() - start
    accuracy = model.evaluate(x_test, y_test, batch_size=1000)[1]
    steps = optimizer.iterations
    return dict(optimizer=name, accuracy=accuracy, epoch_s=total / epochs,
                step_ms=spent[0] / steps * 1e3, share=spent[0] / total,
                steps_per_epoch=steps / epochs)


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
          "for large arrays;\nNumPy in place: one ufunc per operation (used without numba); "
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
    print("floor: the time one fused pass needs just to move the weight, gradient and state "
          "through memory at that bandwidth, and the share it would have of the epoch")
    print(f"{'optimizer':<12}{'test acc':>9}{'s/epoch':>9}{'opt ms/step':>13}{'opt share':>11}"
          f"{'floor ms':>10}{'floor share':>13}")
    for n in names:
        r = train(n, data, args.epochs)
        floor_ms = bytes_per_weight(n) * weights / bandwidth * 1e3
        rest_ms = r["epoch_s"] / r["steps_per_epoch"] * 1e3 - r["step_ms"]  # all but the update
        print(f"{r['optimizer']:<12}{r['accuracy']:>9.4f}{r['epoch_s']:>9.2f}{r['step_ms']:>13.3f}"
              f"{r['share']:>11.1%}{floor_ms:>10.3f}{floor_ms / (rest_ms + floor_ms):>13.1%}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
