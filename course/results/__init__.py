"""The stored measurements the lessons read, shipped inside the package.

    load_batch_size_sweep   seconds per epoch against batch size (benchmarks/bench_gpu.py)
    combine_sweeps          several sweeps in one figure, each line saying where it was measured
    load_book_runs          the book's MNIST runs measured again (benchmarks/mnist_book_runs.py)

The files sit beside this module (``batch_size_sweep.csv``, ``mnist_book_runs.json``) and are
read with ``importlib.resources``, so they are there in an installed wheel as in a checkout. The
benchmarks named above write them here.
"""
from __future__ import annotations

import csv
import json
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import numpy as np

__all__ = ["RESULTS_DIR", "Sweep", "load_batch_size_sweep", "combine_sweeps", "load_book_runs"]

#: The folder of the stored results: this package's own folder.
RESULTS_DIR = Path(str(resources.files(__name__)))


class Sweep(NamedTuple):
    """A timing sweep: seconds per epoch of each backend at each batch size."""

    batch_sizes: np.ndarray   # (k,)
    seconds: dict             # backend label -> (k,) seconds per epoch (NaN where not measured)
    path: Path
    machine: str = ""         # where it was measured, e.g. "GPU NVIDIA H200, 16 CPU threads, torch 2.11"

    @property
    def has_gpu(self) -> bool:
        """True when a GPU (CUDA) column holds at least one measurement."""
        return any(("gpu" in label.lower() or "cuda" in label.lower())
                   and np.isfinite(values).any() for label, values in self.seconds.items())


_BATCH_COLUMNS = ("batch_size", "batch", "batch size")
_SECONDS_SUFFIXES = ("_s", "_seconds", "_s_per_epoch")
_BACKEND_LABELS = {"numpy_cpu_s": "NumPy (course), CPU", "torch_cpu_s": "PyTorch, CPU",
                   "torch_cuda_s": "PyTorch, GPU (CUDA)"}
_MACHINE_COLUMNS = ("cuda_device", "cpu_threads", "torch_version")
_LONG_LABEL_COLUMNS = ("backend", "device", "implementation", "framework")
_LONG_VALUE_COLUMNS = ("seconds_per_epoch", "s_per_epoch", "time_per_epoch", "seconds", "time_s")


def _shown(path: Path) -> str:
    """``path`` relative to the repository when it lies inside it (shorter, the same on every machine)."""
    try:
        return str(Path(path).resolve().relative_to(RESULTS_DIR.parent.parent))
    except ValueError:
        return str(path)


def _number(text) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return float("nan")


def load_batch_size_sweep(path=None) -> Sweep:
    """Read the batch-size sweep that ``benchmarks/bench_gpu.py`` writes (CSV).

    Two layouts are understood: one row per batch size with one column of seconds per epoch
    for each backend (``batch_size,numpy_cpu_s,torch_cpu_s,torch_cuda_s,...``: the columns
    ending in ``_s`` are the timings; without such columns every numeric column is one), or
    one row per measurement (``backend,batch_size,seconds_per_epoch``). Raises FileNotFoundError, saying
    how to produce the file, when it is not there.
    """
    path = Path(path) if path is not None else RESULTS_DIR / "batch_size_sweep.csv"
    if not path.exists():
        raise FileNotFoundError(f"no batch-size sweep at {_shown(path)}. Produce it with "
                                "`python benchmarks/bench_gpu.py` (on a machine with a GPU to get "
                                "the GPU column too).")
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise ValueError(f"{path} holds no measurements; run benchmarks/bench_gpu.py again.")
    columns = {c.strip().lower(): c for c in rows[0]}
    batch_col = next((columns[c] for c in _BATCH_COLUMNS if c in columns), None)
    if batch_col is None:
        raise ValueError(f"{path} has no batch_size column; its columns are {list(rows[0])}.")
    label_col = next((columns[c] for c in _LONG_LABEL_COLUMNS if c in columns), None)
    value_col = next((columns[c] for c in _LONG_VALUE_COLUMNS if c in columns), None)
    if label_col is not None and value_col is not None:          # long layout
        sizes = sorted({int(float(r[batch_col])) for r in rows})
        labels = list(dict.fromkeys(r[label_col] for r in rows))
        seconds = {label: np.full(len(sizes), np.nan) for label in labels}
        for r in rows:
            seconds[r[label_col]][sizes.index(int(float(r[batch_col])))] = _number(r[value_col])
        return Sweep(np.array(sizes), seconds, path)
    rows.sort(key=lambda r: float(r[batch_col]))                 # wide layout
    machine = _machine(rows, columns)
    sizes = np.array([int(float(r[batch_col])) for r in rows])
    timed = [name for name in rows[0] if name.lower().endswith(_SECONDS_SUFFIXES)]
    seconds = {}
    for name in timed or [name for name in rows[0] if name != batch_col and name not in _MACHINE_COLUMNS]:
        values = np.array([_number(r[name]) for r in rows])
        if timed or np.isfinite(values).any():
            seconds[_BACKEND_LABELS.get(name, name)] = values
    return Sweep(sizes, seconds, path, machine)


def _machine(rows, columns) -> str:
    """A line naming where a sweep ran, from the columns bench_gpu.py writes beside the timings."""
    parts = []
    for column, template in (("cuda_device", "GPU {}"), ("cpu_threads", "{} CPU threads"),
                             ("torch_version", "torch {}")):
        name = columns.get(column)
        values = sorted({r[name].strip() for r in rows if name and (r[name] or "").strip()})
        if values:
            parts.append(template.format(" / ".join(values)))
    return ", ".join(parts)



def combine_sweeps(sweeps: dict) -> Sweep:
    """Several sweeps in one, each line labelled with where it was measured.

    sweeps: name -> Sweep, e.g. {"stored": load_batch_size_sweep(), "here": rerun_cpu_sweep()}.
    Labels become "<backend> (<name>)"; ``machine`` lists "<name>: <machine>" for each sweep.
    """
    sizes = np.array(sorted({int(b) for sweep in sweeps.values() for b in sweep.batch_sizes}))
    seconds, machines = {}, []
    for name, sweep in sweeps.items():
        index = {int(b): i for i, b in enumerate(sweep.batch_sizes)}
        for label, values in sweep.seconds.items():
            seconds[f"{label} ({name})"] = np.array([values[index[b]] if b in index else np.nan for b in sizes])
        machines.append(f"{name}: {sweep.machine or 'machine not recorded'}")
    return Sweep(sizes, seconds, Path("(combined)"), "; ".join(machines))



_BOOK_FIELDS = ("run", "hidden", "activation", "epochs", "book_claim", "course_acc_mean",
                "course_acc_std", "course_s_per_epoch")


def load_book_runs(path=None) -> list[dict]:
    """Read the records ``benchmarks/mnist_book_runs.py`` writes (JSON list, one per run).

    Raises FileNotFoundError, saying how to produce the file, when it is not there.
    """
    path = Path(path) if path is not None else RESULTS_DIR / "mnist_book_runs.json"
    if not path.exists():
        raise FileNotFoundError(f"no stored MNIST runs at {_shown(path)}. Produce them with "
                                "`python benchmarks/mnist_book_runs.py --seeds 3` (about ten "
                                "minutes on a laptop; add --no-keras to skip the Keras runs).")
    with open(path) as f:
        records = json.load(f)
    if not isinstance(records, list):
        raise ValueError(f"{path} should hold a JSON list of runs, got {type(records).__name__}.")
    for record in records:
        missing = [k for k in _BOOK_FIELDS if k not in record]
        if missing:
            raise ValueError(f"a record of {path} lacks {missing}; run benchmarks/mnist_book_runs.py again.")
    return records
