"""Seconds per epoch on a GPU through the course API, and where a GPU starts to pay off.

Part (a), on a CUDA GPU only: the book's 784-512(relu)-10(softmax) MNIST network, SGD lr 0.01,
batch 100, trained with ``model.fit(..., device='cuda')`` (CUDA graphs on, then off), next to a
plain eager PyTorch loop written the usual way (data on the GPU, torch.randperm, zero_grad /
backward / step). Each is timed for ``--epochs`` epochs after one warm-up epoch; the table
gives the median seconds per epoch and the test accuracy. The goal for the course API is at
most 0.1 s per epoch on an H100 or H200; the eager loop is launch-bound (about 1 ms a step).
The same three runs follow with Adam (Keras 2 defaults; the plain loop with torch.optim.Adam),
and one with SGD, momentum 0.9 and decay 1e-4: runs whose torch hyperparameters change at
every step, which the course API replays from numbers kept on the GPU. A second table gives
every optimizer through the course API at its Keras 2 defaults, and with decay 1e-4 where it
has a decay. Both tables are written to benchmarks/results/gpu_epoch.csv.

Part (b): one epoch of the same network at each batch size (``--batch-sizes``, default
1,10,100,1000,10000) with NumPy on the CPU, PyTorch on the CPU and PyTorch on the GPU (when
there is one), all through ``model.fit``. Each configuration trains 1 + ``--repeats`` epochs in
one call; the first pays for warm-up (on the GPU, graph capture) and the fastest of the others
is kept, which filters out moments when the machine was busy with something else. An epoch
of more than ``--max-steps`` steps (batch sizes 1 and 10 by default) is timed on its first
``--max-steps`` steps and the time scaled by (steps per epoch) / (steps timed): the step time
does not depend on which examples are in the batch. Writes
benchmarks/results/batch_size_sweep.csv (one row per batch size, an empty torch_cuda_s where
there is no GPU) and batch_size_sweep.png (log-log seconds per epoch against batch size).

    python benchmarks/bench_gpu.py                       # (a) if there is a GPU, then (b)
    python benchmarks/bench_gpu.py --part b --threads 1  # the sweep only, one CPU thread
    python benchmarks/bench_gpu.py --batch-sizes 10,100,1000 --max-steps 500

--threads sets the threads of NumPy's BLAS and of PyTorch on the CPU (default: their own).
MNIST is read from COURSE_DATA_DIR (or the cache, or downloaded).
"""
from __future__ import annotations

import argparse
import csv
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
LESSON_RESULTS = os.path.join(os.path.dirname(HERE), "course", "results")  # what lesson 5 reads


def _threads_from_argv(argv) -> int | None:
    """--threads must act before NumPy loads its BLAS, so it is read before the imports."""
    for i, arg in enumerate(argv):
        if arg == "--threads" and i + 1 < len(argv):
            return int(argv[i + 1])
        if arg.startswith("--threads="):
            return int(arg.split("=", 1)[1])
    return None


_THREADS = _threads_from_argv(sys.argv[1:]) if __name__ == "__main__" else None
if _THREADS:
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(_THREADS)

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(HERE))

from course import Dense, Sequential, optimizers, set_seed  # noqa: E402
from course.datasets import mnist  # noqa: E402
from course.optimizers import SGD, Adam  # noqa: E402
from course.torch import training  # noqa: E402

BACKENDS = [("numpy_cpu", None), ("torch_cpu", "cpu"), ("torch_cuda", "cuda")]
LABELS = {"numpy_cpu": "NumPy, CPU", "torch_cpu": "PyTorch, CPU", "torch_cuda": "PyTorch, GPU"}


def book_model(seed: int = 0, optimizer=None) -> Sequential:
    """784-512(relu)-10(softmax), Keras's initialisers, SGD lr 0.01 (the book's settings)."""
    set_seed(seed)
    model = Sequential([Dense(512, activation="relu", input_shape=(784,)), Dense(10, activation="softmax")])
    model.compile(loss="categorical_crossentropy", optimizer=optimizer or SGD(lr=0.01), metrics=["accuracy"])
    return model


# --- part (a) -----------------------------------------------------------------------------------------
def course_api_on_gpu(data, epochs: int, cuda_graphs: bool, optimizer=None):
    (x, y), (xt, yt) = data
    model = book_model(optimizer=optimizer)
    history = training.fit(model, x, y, epochs=1 + epochs, batch_size=100, verbose=0, seed=0,
                           device="cuda", cuda_graphs=cuda_graphs)
    accuracy = model.evaluate(xt, yt, batch_size=1000)[1]
    return history.epoch_seconds[1:], accuracy, history.steps_replayed


def eager_torch_loop(data, epochs: int, adam: bool = False):
    """The usual PyTorch loop on the GPU: what the course API is measured against."""
    (x, y), (xt, yt) = data
    device = torch.device("cuda")
    torch.manual_seed(0)
    xs, ys = torch.from_numpy(x).to(device), torch.from_numpy(y.argmax(1)).to(device)
    net = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Linear(512, 10)).to(device)
    opt = (torch.optim.Adam(net.parameters(), lr=0.001, eps=1e-7) if adam
           else torch.optim.SGD(net.parameters(), lr=0.01))
    loss_fn = torch.nn.CrossEntropyLoss()
    generator = torch.Generator(device=device).manual_seed(0)
    times = []
    for _ in range(1 + epochs):
        torch.cuda.synchronize()
        start = time.perf_counter()
        order = torch.randperm(len(xs), device=device, generator=generator)
        for i in range(0, len(xs), 100):
            idx = order[i:i + 100]
            opt.zero_grad(set_to_none=True)
            loss_fn(net(xs[idx]), ys[idx]).backward()
            opt.step()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    with torch.no_grad():
        pred = net(torch.from_numpy(xt).to(device)).argmax(1).cpu().numpy()
    return times[1:], float((pred == yt.argmax(1)).mean())


def part_a(data, epochs: int) -> None:
    print(f"(a) 784-512(relu)-10(softmax), batch 100, SGD lr 0.01, on {torch.cuda.get_device_name(0)}; "
          f"median of {epochs} epoch(s) after a warm-up epoch")
    rows = []
    for label, run in [
            ("course API, CUDA graphs", lambda: course_api_on_gpu(data, epochs, True)),
            ("course API, eager", lambda: course_api_on_gpu(data, epochs, False)),
            ("plain eager PyTorch loop", lambda: eager_torch_loop(data, epochs) + (0,)),
            ("Adam: course API, CUDA graphs", lambda: course_api_on_gpu(data, epochs, True, Adam())),
            ("Adam: course API, eager", lambda: course_api_on_gpu(data, epochs, False, Adam())),
            ("Adam: plain eager PyTorch loop", lambda: eager_torch_loop(data, epochs, adam=True) + (0,)),
            ("SGD decay 1e-4: course API, graphs",
             lambda: course_api_on_gpu(data, epochs, True, SGD(lr=0.01, momentum=0.9, decay=1e-4)))]:
        times, accuracy, replayed = run()
        rows.append((label, float(np.median(times)), accuracy, replayed))
    print(f"{'':<36}{'s/epoch':>9}{'test acc':>10}{'steps as graphs':>17}")
    for label, seconds, accuracy, replayed in rows:
        print(f"{label:<36}{seconds:>9.3f}{accuracy:>10.4f}{replayed:>17}")
    verdict = "met" if rows[0][1] <= 0.1 else "NOT met"
    print(f"goal: at most 0.1 s per epoch through the course API: {verdict} ({rows[0][1]:.3f} s); "
          f"{rows[2][1] / rows[0][1]:.1f}x faster than the eager loop")
    print(f"\nevery optimizer through the course API with CUDA graphs, Keras 2 defaults; median of "
          f"{epochs} epoch(s) after a warm-up epoch")
    print(f"{'':<36}{'s/epoch':>9}{'test acc':>10}{'steps as graphs':>17}")
    for name in optimizers.OPTIMIZERS:
        settings = [{}] + ([{"decay": 1e-4}] if "decay" in optimizers.get(name).get_config() else [])
        for extra in settings:
            label = name + "".join(f", {k} {v:g}" for k, v in extra.items())
            optimizer = type(optimizers.get(name))(**extra)
            times, accuracy, replayed = course_api_on_gpu(data, epochs, True, optimizer)
            print(f"{label:<36}{float(np.median(times)):>9.3f}{accuracy:>10.4f}{replayed:>17}", flush=True)
            rows.append((f"every optimizer: {label}", float(np.median(times)), accuracy, replayed))
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "gpu_epoch.csv"), "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["run", "seconds_per_epoch", "test_accuracy", "steps_replayed", "device", "torch"])
        for label, seconds, accuracy, replayed in rows:
            writer.writerow([label, f"{seconds:.5f}", f"{accuracy:.4f}", replayed,
                             torch.cuda.get_device_name(0), torch.__version__])


# --- part (b) -----------------------------------------------------------------------------------------
def epoch_seconds(x, y, batch_size: int, device, max_steps: int, repeats: int) -> tuple[float, int, int]:
    """(seconds per epoch, steps per epoch, steps timed) of the book's model at this batch size.

    One warm-up epoch, then ``repeats`` timed ones in the same fit; the fastest counts (the
    others were slowed down by whatever else the machine was doing).
    """
    steps = -(-len(x) // batch_size)
    timed = min(steps, max_steps)
    n = min(len(x), timed * batch_size)
    model = book_model()
    history = model.fit(x[:n], y[:n], epochs=1 + repeats, batch_size=batch_size, verbose=0, seed=0,
                        device=device)
    return min(history.epoch_seconds[1:]) * steps / timed, steps, timed


def part_b(data, batch_sizes, max_steps: int, repeats: int) -> list[dict]:
    (x, y), _ = data
    cuda = torch.cuda.is_available()
    threads = torch.get_num_threads()
    print(f"(b) one epoch of 784-512-10 on {len(x)} examples by batch size; CPU threads {threads}, "
          f"GPU {torch.cuda.get_device_name(0) if cuda else 'none'}; epochs of more than {max_steps} "
          "steps timed on their first steps and scaled")
    print(f"{'batch':>7}{'steps':>7}{'timed':>7}" + "".join(f"{LABELS[b]:>15}" for b, _ in BACKENDS))
    rows = []
    for batch_size in batch_sizes:
        row = {"batch_size": batch_size}
        for backend, device in BACKENDS:
            if device == "cuda" and not cuda:
                row[f"{backend}_s"] = ""
                continue
            seconds, steps, timed = epoch_seconds(x, y, batch_size, device, max_steps, repeats)
            row.update({"steps_per_epoch": steps, "steps_timed": timed, f"{backend}_s": f"{seconds:.5f}"})
        row.update({"cuda_device": torch.cuda.get_device_name(0) if cuda else "", "cpu_threads": threads,
                    "torch_version": torch.__version__})
        rows.append(row)
        cells = "".join(f"{row[f'{b}_s'] or '-':>15}" for b, _ in BACKENDS)
        print(f"{batch_size:>7}{row['steps_per_epoch']:>7}{row['steps_timed']:>7}{cells}", flush=True)
    return rows


COLUMNS = ["batch_size", "steps_per_epoch", "steps_timed", "numpy_cpu_s", "torch_cpu_s", "torch_cuda_s",
           "cuda_device", "cpu_threads", "torch_version"]


def save_sweep(rows: list[dict], csv_path: str, png_path: str, max_steps: int) -> None:
    with open(csv_path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    from matplotlib.ticker import FuncFormatter

    from course.plots.style import new_figure

    fig, ax = new_figure(width=6.4, height=4.2)
    sizes = [r["batch_size"] for r in rows]
    for i, (backend, _) in enumerate(BACKENDS):
        seconds = [float(r[f"{backend}_s"]) if r[f"{backend}_s"] != "" else np.nan for r in rows]
        if all(np.isnan(seconds)):
            ax.plot([], [], marker="o", linestyle="--", label=f"{LABELS[backend]}: no GPU on this machine")
            continue
        ax.plot(sizes, seconds, marker="o", label=LABELS[backend])
    ax.set_xscale("log")
    ax.set_yscale("log")
    plain = FuncFormatter(lambda value, _: f"{value:g}")
    ax.xaxis.set_major_formatter(plain)
    ax.yaxis.set_major_formatter(plain)
    ax.set_xlabel("batch size (examples per step)")
    ax.set_ylabel("seconds per epoch (60 000 examples)")
    ax.set_title(f"One epoch of MNIST, 784-512-10, by batch size\n(epochs of more than {max_steps} steps: "
                 f"first {max_steps} timed, then scaled)", fontsize=10)
    ax.legend()
    fig.savefig(png_path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=["a", "b", "all"], default="all")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs in part (a) (default 3)")
    parser.add_argument("--batch-sizes", default="1,10,100,1000,10000",
                        help="comma-separated batch sizes for part (b)")
    parser.add_argument("--max-steps", type=int, default=1000,
                        help="steps timed per epoch in part (b); longer epochs are scaled (default 1000)")
    parser.add_argument("--repeats", type=int, default=2,
                        help="timed epochs per configuration in part (b), the fastest counts (default 2)")
    parser.add_argument("--threads", type=int, default=None,
                        help="CPU threads for NumPy's BLAS and PyTorch (default: their own)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    batch_sizes = [int(b) for b in args.batch_sizes.split(",") if b.strip()]

    data = mnist.load_flat()
    print(f"numpy {np.__version__}, torch {torch.__version__}, CUDA {torch.version.cuda or 'none'}")
    if args.part in ("a", "all"):
        if torch.cuda.is_available():
            part_a(data, args.epochs)
        else:
            print("(a) skipped: no CUDA GPU on this machine.")
    if args.part in ("b", "all"):
        rows = part_b(data, batch_sizes, args.max_steps, args.repeats)
        os.makedirs(RESULTS, exist_ok=True)
        csv_path = os.path.join(LESSON_RESULTS, "batch_size_sweep.csv")
        png_path = os.path.join(RESULTS, "batch_size_sweep.png")
        save_sweep(rows, csv_path, png_path, args.max_steps)
        print(f"wrote {os.path.relpath(csv_path)} and {os.path.relpath(png_path)}")


if __name__ == "__main__":
    main()
