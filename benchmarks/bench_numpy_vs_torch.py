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

It first says what it runs on: the processor, its widest vector instructions (AVX-512, AVX2),
the BLAS that NumPy and torch call and their threads (threadpoolctl where installed, else
numpy.show_config; torch.__config__), and OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE where they are
set. Those two pin OpenBLAS to an older kernel on some machines; ``--unset-openblas-env`` runs
the course's processes without both (that command alone) and shows which kernel they then run.

``--profile`` times one 512-unit SGD epoch of the course instead: the share of the epoch spent in
the optimizer's update, and that update over the 784 x 512 kernel in passes over the kernel
(its time over the time of one in-place read and write of the kernel). ``--root DIR`` takes the
``course`` package from DIR, e.g. a copy of an older version, to compare the two.

``--threads N`` gives NumPy's BLAS and torch N threads in the measured processes (both sides
alike). On a machine that other work keeps busy, BLAS threads that wait for each other can make
a matrix product a hundred times slower; one thread keeps such a run meaningful.

    python benchmarks/bench_numpy_vs_torch.py               # 3 rounds
    python benchmarks/bench_numpy_vs_torch.py --rounds 1
    python benchmarks/bench_numpy_vs_torch.py --profile [--root DIR] [--threads 1]

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
OPENBLAS_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

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


def spawn(side, hidden, activation, optimizer, epochs, seed, env=None):
    command = [sys.executable, os.path.abspath(__file__), "--child", side, "--hidden", str(hidden),
               "--activation", activation, "--optimizer", optimizer, "--epochs", str(epochs),
               "--seed", str(seed)]
    out = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- what it runs on ---------------------------------------------------------------------------------
def processor():
    """(model name, widest vector instruction set) from /proc/cpuinfo."""
    model, flags = "unknown processor", set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and model == "unknown processor":
                    model = value.strip()
                elif key.strip() == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    if "avx512f" in flags:
        isa = "AVX-512 (" + " ".join(sorted(f for f in flags if f.startswith("avx512"))) + ")"
    elif "avx2" in flags:
        isa = "AVX2 (no AVX-512)"
    elif "avx" in flags:
        isa = "AVX (no AVX2)"
    else:
        isa = "no AVX" if flags else "unknown (no /proc/cpuinfo)"
    return model, isa


def numpy_blas():
    """NumPy's BLAS: the library, its version, the kernel it runs and its threads."""
    import numpy

    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        threadpool_info = None
    if threadpool_info is not None:
        import numpy.linalg  # noqa: F401  (loads the BLAS)

        pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        if pools:
            return "; ".join(f"{p.get('internal_api')} {p.get('version')}, kernel "
                             f"{p.get('architecture')}, threads: {p.get('num_threads')}"
                             for p in pools)
    try:
        config = numpy.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return (f"{config.get('name')} {config.get('version')} ({config.get('openblas configuration', '')}); "
                "the kernel it runs: install threadpoolctl to see it")
    except Exception as error:        # numpy < 2 has no mode="dicts"
        return f"unknown ({type(error).__name__}); install threadpoolctl to see it"


def torch_blas():
    import torch

    config = torch.__config__.show()
    blas = next((line.split("=", 1)[1] for line in config.replace(",", "\n").splitlines()
                 if "BLAS_INFO=" in line), "unknown")
    extras = [name for name, on in (("MKL", torch.backends.mkl.is_available()),
                                    ("oneDNN", torch.backends.mkldnn.is_available())) if on]
    isa = torch.backends.cpu.get_cpu_capability()
    return (f"torch {torch.__version__}: BLAS {blas}{' with ' + ', '.join(extras) if extras else ''}, "
            f"vector code {isa}, threads: {torch.get_num_threads()} "
            f"({torch.get_num_interop_threads()} inter-op)")


def kernel_probe():
    """In a child: NumPy's BLAS and the milliseconds of a 100x784 by 784x512 float32 product."""
    x = np.random.default_rng(0).standard_normal((100, 784)).astype(np.float32)
    w = np.random.default_rng(1).standard_normal((784, 512)).astype(np.float32)
    for _ in range(5):
        x @ w
    times = []
    for _ in range(50):
        start = time.perf_counter()
        x @ w
        times.append(time.perf_counter() - start)
    return {"blas": numpy_blas(), "matmul_ms": 1e3 * float(np.median(times))}


THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def child_env(unset_openblas, threads=None):
    """The environment of the measured processes: as it is, less the two OpenBLAS variables
    (``--unset-openblas-env``), with NumPy's and torch's threads set (``--threads``)."""
    env = dict(os.environ)
    if unset_openblas:
        for name in OPENBLAS_ENV:
            env.pop(name, None)
    if threads:
        env.update({name: str(threads) for name in THREAD_ENV})
    return env


def machine_report(unset_openblas, threads=None):
    model, isa = processor()
    lines = [f"processor: {model}, {os.cpu_count()} logical cores, {isa}"]
    if threads:
        lines.append(f"threads: {threads} for NumPy's BLAS and torch ({', '.join(THREAD_ENV)}={threads})")
    set_vars = {name: os.environ[name] for name in OPENBLAS_ENV if name in os.environ}
    as_is = spawn_json(["--probe"], child_env(False, threads))
    lines.append(f"numpy {np.__version__}: {as_is['blas']}; 100x784 @ 784x512 float32: "
                 f"{as_is['matmul_ms']:.3f} ms")
    if set_vars:
        shown = ", ".join(f"{k}={v}" for k, v in set_vars.items())
        without = spawn_json(["--probe"], child_env(True, threads))
        lines.append(f"{shown} are set; without both: {without['blas']}; the same product "
                     f"{without['matmul_ms']:.3f} ms")
        lines.append("the course's processes run " + ("WITHOUT them (--unset-openblas-env)" if unset_openblas
                                                      else "with them, as a new user's would"))
    else:
        lines.append(f"{' and '.join(OPENBLAS_ENV)}: not set")
    lines.append(spawn_json(["--probe-torch"], child_env(unset_openblas, threads))["torch"])
    return lines


def spawn_json(arguments, env):
    command = [sys.executable, os.path.abspath(__file__)] + arguments
    out = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- the profile of one 512-unit epoch ------------------------------------------------------------------
def profile_epoch(root, seed=0):
    """Seconds of one 512-unit SGD epoch of the course, of its updates, and the update of the
    784 x 512 kernel in passes over that kernel. Runs the ``course`` package found in ``root``."""
    import cProfile
    import io
    import pstats

    sys.path.insert(0, root)
    from course import Dense, Sequential, set_seed
    from course.datasets import mnist
    from course.optimizers import SGD

    (x, y), _ = mnist.load_flat()
    set_seed(seed)
    model = Sequential([Dense(512, activation="relu", input_shape=(784,)), Dense(10, activation="softmax")])
    opt = SGD(lr=0.01)
    model.compile(opt, "categorical_crossentropy", ["accuracy"])
    model.fit(x[:10000], y[:10000], epochs=1, batch_size=100, verbose=0)     # warm-up

    update_seconds = []
    apply = opt.apply_gradients

    def timed(params, grads):
        start = time.perf_counter()
        apply(params, grads)
        update_seconds.append(time.perf_counter() - start)

    opt.apply_gradients = timed
    epochs = []
    for _ in range(3):
        update_seconds.clear()
        start = time.perf_counter()
        model.fit(x, y, epochs=1, batch_size=100, verbose=0)
        epochs.append((time.perf_counter() - start, sum(update_seconds)))
    epoch, update = sorted(epochs)[1]                                     # the median epoch
    opt.apply_gradients = apply

    kernel = model.layers[0].kernel
    grad = np.random.default_rng(seed).standard_normal(kernel.shape).astype(kernel.dtype) * 1e-3
    one_kernel = SGD(lr=0.01)
    per_update = _median_seconds(lambda: one_kernel.apply_gradients([kernel], [grad]))
    per_pass = _median_seconds(lambda: np.multiply(kernel, 1.0, out=kernel))   # read and write once

    profiler = cProfile.Profile()
    profiler.enable()
    model.fit(x[:20000], y[:20000], epochs=1, batch_size=100, verbose=0)
    profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(8)
    top = [line for line in text.getvalue().splitlines() if line.strip()][-9:]
    import course

    return {"course": os.path.dirname(course.__file__), "epoch_s": epoch, "update_s": update,
            "kernel_update_ms": 1e3 * per_update, "kernel_pass_ms": 1e3 * per_pass, "top": top}


def _median_seconds(call, repeats=300):
    for _ in range(20):
        call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def print_profile(root, unset_openblas, threads=None):
    result = spawn_json(["--child-profile", "--root", root], child_env(unset_openblas, threads))
    print(f"course package: {result['course']}")
    print(f"one 784-512(relu)-10 SGD epoch (600 batches of 100, median of 3): {result['epoch_s']:.3f} s, "
          f"of which the updates (apply_gradients) {result['update_s']:.3f} s = "
          f"{100 * result['update_s'] / result['epoch_s']:.1f} %")
    print(f"SGD update of the 784 x 512 float32 kernel: {result['kernel_update_ms']:.3f} ms; one in-place "
          f"read and write of it: {result['kernel_pass_ms']:.3f} ms; the update costs "
          f"{result['kernel_update_ms'] / result['kernel_pass_ms']:.1f} passes over the kernel")
    print("cProfile of a 200-batch epoch, the 8 functions with the most time of their own:")
    for line in result["top"]:
        print("   " + line)


# -- the parent: alternate the processes, take medians -------------------------------------------------
def measure(runs, optimizer, rounds, env=None, torch_env=None):
    """{label: {'course': [results], 'torch': [results]}}, the sides alternating each round."""
    results = {label: {"course": [], "torch": []} for label, *_ in runs}
    for r in range(rounds):
        for label, hidden, activation, epochs in runs:
            order = ("course", "torch") if r % 2 == 0 else ("torch", "course")
            for side in order:
                time.sleep(0.5)
                results[label][side].append(spawn(side, hidden, activation, optimizer, epochs, seed=r,
                                                  env=env if side == "course" else torch_env))
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
    parser.add_argument("--unset-openblas-env", action="store_true",
                        help="run the course's processes without OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE")
    parser.add_argument("--profile", action="store_true",
                        help="profile one 512-unit SGD epoch of the course instead of the comparison")
    parser.add_argument("--root", default=ROOT, help="the folder holding the course package to profile")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for NumPy's BLAS and torch in the measured processes (default: "
                             "their own choice, as a new user's)")
    parser.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--probe-torch", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child-profile", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child", choices=["course", "torch"], help=argparse.SUPPRESS)
    parser.add_argument("--hidden", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--activation", help=argparse.SUPPRESS)
    parser.add_argument("--optimizer", default="sgd", help=argparse.SUPPRESS)
    parser.add_argument("--epochs", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)
    if args.probe:
        return print(json.dumps(kernel_probe()))
    if args.probe_torch:
        return print(json.dumps({"torch": torch_blas()}))
    if args.child_profile:
        return print(json.dumps(profile_epoch(os.path.abspath(args.root))))

    for line in machine_report(args.unset_openblas_env, args.threads):
        print(line)
    if args.profile:
        return print_profile(os.path.abspath(args.root), args.unset_openblas_env, args.threads)
    started = time.perf_counter()
    env = child_env(args.unset_openblas_env, args.threads)
    sgd = measure(RUNS, "sgd", args.rounds, env, child_env(False, args.threads))
    adam = measure(ADAM_RUNS, "adam", args.rounds, env, child_env(False, args.threads))
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
