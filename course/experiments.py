"""The experiments of the optimizer and hyperparameter lessons, as functions that return data.

A notebook cell calls one of these and hands the result to a plot function of
``course.plots``; the tests call the same functions on small inputs. Everything here uses the
course library itself (``Sequential``, ``Dense``, the optimizers, ``run_optimizer``): nothing is
implemented a second time. NumPy only, like the rest of the core.

    mnist_subset            a seeded training / validation split of MNIST, small enough to be quick
    mlp                     the book's kind of network: Dense layers, softmax on top
    fresh_optimizer         a new optimizer (no state) from a name, a dict or another optimizer
    landscape_race          several optimizers from one start point on one landscape
    divergence_step         where a run blew up, if it did
    random_restarts         one optimizer from many random start points
    learning_rate_schedule  the learning rate an optimizer uses at each update (decay)
    batch_size_runs         online, mini-batch and batch gradient descent: loss of every update
    overfitting_run         a wide network on few, partly mislabelled examples: validation accuracy falls
    early_stopping_replay   where EarlyStopping would stop on a recorded curve
    optimizer_race          several optimizers training the same network on the same data
    layer_statistics        activations and gradients of every layer of a deep network at init
    symmetry_run            how the first-layer weights move during training (zeros vs random)
    activation_memory       bytes of activations one batch keeps for the backward pass
    load_batch_size_sweep   the stored CPU/GPU timing sweep (benchmarks/bench_gpu.py)
    rerun_cpu_sweep         the CPU half of that sweep, measured again on this computer
    combine_sweeps          several sweeps in one figure, each line saying where it was measured
    load_book_runs          the stored MNIST runs of the book (benchmarks/mnist_book_runs.py)
    compare_with_book       the book's claims next to the measured numbers, in sentences
    keras_sentences         how far Keras lands from the course, with the number of seeds
"""
from __future__ import annotations

import csv
import functools
import json
import numbers
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np

from . import initializers
from . import optimizers as optimizers_module
from .callbacks import BatchLossLogger, Callback
from .landscapes import Landscape, Trajectory, divergence_step, run_optimizer
from .layers import Dense
from .models import Sequential
from .utils import check_int, get_rng

__all__ = [
    "Subset", "mnist_subset", "mlp", "fresh_optimizer", "landscape_race", "random_restarts",
    "nearest_minimum", "divergence_step", "learning_rate_schedule", "BatchRun", "batch_size_runs", "RaceResult",
    "optimizer_race", "LayerStats", "layer_statistics", "scaled_normal", "SymmetryRun",
    "symmetry_run", "distinct_units", "activation_memory", "Sweep", "load_batch_size_sweep",
    "RESULTS_DIR", "BOOK_CLAIMS", "load_book_runs", "BookRow", "compare_with_book", "format_book_table",
    "keras_sentences", "OverfitRun", "early_stopping_replay", "noisy_labels", "overfitting_run",
    "overfitting_sentence", "tanh_saturation", "explain_large_tanh_init", "this_machine",
    "rerun_cpu_sweep", "combine_sweeps",
]

#: Where the benchmarks store their results (``benchmarks/results`` of the repository).
RESULTS_DIR = Path(__file__).resolve().parent.parent / "benchmarks" / "results"


# -- data and models ------------------------------------------------------------------------------
class Subset(NamedTuple):
    """A training and a validation set: x float32 (n, 784) in [0, 1], y one-hot (n, 10)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray


def mnist_subset(n_train: int = 5000, n_val: int = 1000, seed: int = 0, data=None,
                 data_dir=None) -> Subset:
    """``n_train`` + ``n_val`` different MNIST training images, drawn at random with ``seed``.

    The validation images come from the training file too (the test set stays untouched for
    final numbers). ``data``: the result of ``mnist.load_flat()`` when already loaded;
    otherwise it is loaded from ``data_dir`` (or COURSE_DATA_DIR).
    """
    for name, value in (("n_train", n_train), ("n_val", n_val)):
        check_int(name, value, low=1)
    if data is None:
        from .datasets import mnist

        data = mnist.load_flat(data_dir)
    (x, y), _ = data
    if n_train + n_val > len(x):
        raise ValueError(f"n_train + n_val = {n_train + n_val} is more than the {len(x)} training "
                         "images: ask for fewer.")
    order = get_rng(seed).permutation(len(x))
    train, val = order[:n_train], order[n_train:n_train + n_val]
    return Subset(x[train], y[train], x[val], y[val])


def mlp(hidden=(64,), activation: str = "relu", n_inputs: int = 784, n_outputs: int = 10,
        output_activation: str = "softmax", kernel_initializer="glorot_uniform",
        seed: int = 0) -> Sequential:
    """A stack of Dense layers: n_inputs -> hidden[0] -> hidden[1] -> ... -> n_outputs.

    hidden: the width of each hidden layer (an int for one layer). Layer i draws its initial
    weights with seed + i, so the same seed always gives the same network.

    >>> mlp(hidden=(10,), activation='sigmoid').count_params()   # the book's first network
    7960
    """
    if isinstance(hidden, numbers.Integral):
        hidden = (int(hidden),)
    widths = list(hidden) + [n_outputs]
    layers = []
    for i, units in enumerate(widths):
        last = i == len(widths) - 1
        layers.append(Dense(units, activation=output_activation if last else activation,
                            input_shape=(n_inputs,) if i == 0 else None,
                            kernel_initializer=kernel_initializer, seed=seed + i))
    return Sequential(layers)


def fresh_optimizer(spec) -> optimizers_module.Optimizer:
    """A new optimizer, with no state, for ``spec``.

    spec: a name ('adam'), a dict as ``optimizers.get`` takes, an optimizer object (its
    settings are copied, its state is not) or a function that returns an optimizer.
    Races need this: an optimizer keeps velocities and moments for the weights it has seen.
    """
    if isinstance(spec, optimizers_module.Optimizer):
        return type(spec)(**spec.get_config())
    if callable(spec) and not isinstance(spec, type):
        spec = spec()
    return optimizers_module.get(spec)



# -- optimizers on landscapes ---------------------------------------------------------------------
def landscape_race(optimizers: dict, landscape: Landscape, start, steps: int = 100) -> dict:
    """Run every optimizer of ``optimizers`` (label -> spec) from ``start``; label -> Trajectory.

    Each run gets a fresh optimizer (see ``fresh_optimizer``), so the runs are independent.
    """
    if not isinstance(optimizers, dict) or not optimizers:
        raise TypeError("optimizers must be a non-empty dict label -> optimizer, e.g. "
                        "{'SGD': SGD(lr=0.1), 'Adam': Adam(lr=0.1)}.")
    return {label: run_optimizer(fresh_optimizer(spec), landscape, start, steps)
            for label, spec in optimizers.items()}


def random_restarts(optimizer, landscape: Landscape, n_starts: int = 8, steps: int = 200,
                    seed: int = 0) -> list[Trajectory]:
    """Run ``optimizer`` from ``n_starts`` start points drawn uniformly inside the landscape's bounds.

    Returns one Trajectory per start; the best run is the one with the lowest final loss:
    ``min(runs, key=lambda t: t.losses[-1])``.
    """
    check_int("n_starts", n_starts, low=1)
    rng = get_rng(seed)
    low, high = np.array(landscape.bounds, dtype=float).T
    starts = rng.uniform(low, high, size=(n_starts, landscape.dim))
    return [run_optimizer(fresh_optimizer(optimizer), landscape, start, steps) for start in starts]


def nearest_minimum(landscape: Landscape, point) -> int:
    """Index in ``landscape.minima`` of the known minimum closest to ``point`` (0 = global)."""
    point = np.asarray(point, dtype=float).reshape(1, -1)
    return int(np.argmin(np.linalg.norm(landscape.minima - point, axis=1)))


def learning_rate_schedule(optimizer, steps: int) -> np.ndarray:
    """The learning rate ``optimizer`` uses at each of its next ``steps`` updates, shape (steps,).

    The optimizer's own ``current_lr`` is read before each update (Keras 2's decay:
    lr / (1 + decay * iterations)); the updates are made on a copy, with zero gradients.

    >>> from course.optimizers import SGD
    >>> learning_rate_schedule(SGD(lr=0.1, decay=1.0), 3)
    array([0.1       , 0.05      , 0.03333333])
    """
    optimizer = fresh_optimizer(optimizer)
    weight, zero = np.zeros(1), np.zeros(1)
    rates = np.empty(steps)
    for k in range(steps):
        rates[k] = optimizer.current_lr
        optimizer.apply_gradients([weight], [zero])
    return rates


# -- online, mini-batch and batch gradient descent ----------------------------------------------
class BatchRun(NamedTuple):
    """One training run of ``batch_size_runs``."""

    batch_size: int
    steps_per_epoch: int     # number of updates in one pass over the data = number of batches
    losses: np.ndarray       # (epochs * steps_per_epoch,) the loss of every update's batch
    epoch_loss: np.ndarray   # (epochs + 1,) the loss on the whole training set, before and after each epoch
    seconds_per_epoch: float


class _EpochLoss(Callback):
    """Evaluates the loss on fixed data at the end of every epoch."""

    def __init__(self, x, y):
        super().__init__()
        self.x, self.y, self.values = x, y, []

    def on_epoch_end(self, epoch, logs=None):
        self.values.append(float(self.model.evaluate(self.x, self.y, batch_size=1000)[0]))


def batch_size_runs(x, y, batch_sizes: dict, epochs: int = 2, hidden=(32,), optimizer="sgd",
                    seed: int = 0) -> dict:
    """Train the same network with each batch size; label -> BatchRun.

    batch_sizes: label -> batch size, e.g. {'online': 1, 'mini-batch': 32, 'batch': len(x)}.
    Every run starts from the same weights (``seed``) and sees the examples in the same order.
    """
    runs = {}
    for label, batch_size in batch_sizes.items():
        model = mlp(hidden, n_inputs=x.shape[1], n_outputs=y.shape[1], seed=seed)
        model.compile(loss="categorical_crossentropy", optimizer=fresh_optimizer(optimizer),
                      metrics=["accuracy"])
        start_loss = float(model.evaluate(x, y, batch_size=1000)[0])
        logger, epoch_loss = BatchLossLogger(), _EpochLoss(x, y)
        history = model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0,
                            callbacks=[logger, epoch_loss], seed=seed)
        runs[label] = BatchRun(int(batch_size), -(-len(x) // int(batch_size)), np.array(logger.losses),
                               np.array([start_loss] + epoch_loss.values),
                               float(np.mean(history.epoch_seconds)))
    return runs


# -- overfitting and early stopping ---------------------------------------------------------------
class OverfitRun(NamedTuple):
    """One run of ``overfitting_run``: what training and validation accuracy did, epoch by epoch."""

    history: dict            # 'loss', 'accuracy', 'val_loss', 'val_accuracy' per epoch
    best_epoch: int          # 1-based epoch of the highest validation accuracy
    stopped_epoch: int | None  # 1-based epoch at which EarlyStopping(patience) stops (None: never)
    patience: int
    n_train: int
    label_noise: float       # fraction of training labels replaced by random ones


def early_stopping_replay(values, patience: int = 3, monitor: str = "val_accuracy",
                          mode: str = "auto") -> tuple[int | None, int | None]:
    """Where ``course.callbacks.EarlyStopping`` would stop on these per-epoch values.

    Feeds the values to the callback itself, one epoch at a time, and returns
    ``(best_epoch, stopped_epoch)``, 1-based (``stopped_epoch`` None: it never stops).

    >>> early_stopping_replay([0.5, 0.7, 0.6, 0.65, 0.6, 0.5], patience=2)
    (2, 5)
    """
    from types import SimpleNamespace

    from .callbacks import EarlyStopping

    callback = EarlyStopping(monitor=monitor, patience=patience, mode=mode)
    callback.set_model(SimpleNamespace(stop_training=False))
    callback.on_train_begin()
    for epoch, value in enumerate(values):
        callback.on_epoch_end(epoch, {monitor: float(value)})
        if callback.model.stop_training:
            break
    best = None if callback.best_epoch is None else callback.best_epoch + 1
    stopped = None if callback.stopped_epoch is None else callback.stopped_epoch + 1
    return best, stopped


def noisy_labels(y, fraction: float, seed: int = 0) -> np.ndarray:
    """A copy of the one-hot labels ``y`` in which ``fraction`` of the rows get a random class."""
    rng = get_rng(seed)
    y = np.array(y, copy=True)
    replaced = rng.random(len(y)) < fraction
    y[replaced] = np.eye(y.shape[1], dtype=y.dtype)[rng.integers(0, y.shape[1], replaced.sum())]
    return y


def overfitting_run(data: Subset, label_noise: float = 0.3, hidden=(512,), epochs: int = 30,
                    batch_size: int = 32, optimizer="adam", patience: int = 3,
                    seed: int = 0) -> OverfitRun:
    """Train a wide network on a small training set until it overfits; OverfitRun.

    The setting makes the book's signal of overfitting plain: few training examples, many
    weights, and ``label_noise`` of the training labels replaced by random classes (real data
    sets have wrong labels too). The network first learns what the images have in common
    (validation accuracy rises), then memorises the individual examples, wrong labels included:
    training accuracy keeps rising to 100 % while validation accuracy falls. All ``epochs`` are
    run; ``stopped_epoch`` says where ``EarlyStopping(monitor='val_accuracy', patience)`` would
    have stopped, ``best_epoch`` which weights ``restore_best_weights`` would keep.
    """
    check_int("epochs", epochs, low=1)
    y_train = noisy_labels(data.y_train, label_noise, seed=seed)
    model = mlp(hidden, n_inputs=data.x_train.shape[1], n_outputs=data.y_train.shape[1], seed=seed)
    model.compile(loss="categorical_crossentropy", optimizer=fresh_optimizer(optimizer),
                  metrics=["accuracy"])
    history = model.fit(data.x_train, y_train, batch_size=batch_size, epochs=epochs, verbose=0,
                        validation_data=(data.x_val, data.y_val), seed=seed)
    h = {k: [float(v) for v in values] for k, values in history.history.items()}
    _, stopped = early_stopping_replay(h["val_accuracy"], patience=patience)
    best = int(np.argmax(h["val_accuracy"])) + 1
    return OverfitRun(h, best, stopped, patience, len(data.x_train), float(label_noise))


def overfitting_sentence(run: OverfitRun) -> str:
    """What the run shows, in one sentence built from its numbers."""
    h = run.history
    last = len(h["val_accuracy"])
    text = (f"Validation accuracy peaks at {100 * h['val_accuracy'][run.best_epoch - 1]:.1f}% in epoch "
            f"{run.best_epoch} and falls to {100 * h['val_accuracy'][-1]:.1f}% by epoch {last}, while "
            f"training accuracy rises from {100 * h['accuracy'][run.best_epoch - 1]:.1f}% to "
            f"{100 * h['accuracy'][-1]:.1f}%.")
    if run.stopped_epoch is not None:
        text += (f" EarlyStopping(monitor='val_accuracy', patience={run.patience}) stops after epoch "
                 f"{run.stopped_epoch}; with restore_best_weights=True it keeps the weights of epoch "
                 f"{run.best_epoch}.")
    return text


# -- optimizers on MNIST --------------------------------------------------------------------------
class RaceResult(NamedTuple):
    """One optimizer's run of ``optimizer_race``."""

    history: dict             # 'loss', 'accuracy', 'val_loss', 'val_accuracy' per epoch
    val_accuracy: float       # after the last epoch
    seconds: float            # the whole run


def optimizer_race(optimizers: dict, data: Subset, epochs: int = 3, batch_size: int = 32,
                   hidden=(64,), activation: str = "relu", seed: int = 0) -> dict:
    """Train the same network (same initial weights, same shuffles) with each optimizer.

    optimizers: label -> optimizer spec (see ``fresh_optimizer``). Returns label -> RaceResult.
    """
    results = {}
    for label, spec in optimizers.items():
        model = mlp(hidden, activation=activation, n_inputs=data.x_train.shape[1],
                    n_outputs=data.y_train.shape[1], seed=seed)
        model.compile(loss="categorical_crossentropy", optimizer=fresh_optimizer(spec),
                      metrics=["accuracy"])
        started = time.perf_counter()
        history = model.fit(data.x_train, data.y_train, batch_size=batch_size, epochs=epochs,
                            verbose=0, validation_data=(data.x_val, data.y_val), seed=seed)
        results[label] = RaceResult(history.history, history.history["val_accuracy"][-1],
                                    time.perf_counter() - started)
    return results


# -- weight initialisation ------------------------------------------------------------------------
def scaled_normal(stddev: float):
    """An initialiser drawing N(0, stddev^2), named for the plots: ``scaled_normal(0.01)``."""
    init = functools.partial(initializers.random_normal, stddev=float(stddev))
    init.__name__ = f"normal(std={stddev:g})"
    return init


class LayerStats(NamedTuple):
    """What ``layer_statistics`` measures, for each hidden layer (first layer first)."""

    activations: list          # (B, width) arrays: each hidden layer's output
    activation_std: np.ndarray  # (depth,) the spread of those outputs
    gradient_std: np.ndarray    # (depth,) the spread of dL/dkernel of each hidden layer


def layer_statistics(x, y, initializer, activation: str = "tanh", depth: int = 8,
                     width: int = 256, seed: int = 0) -> LayerStats:
    """One forward and one backward pass through a deep, freshly initialised network.

    The network is ``depth`` hidden Dense layers of ``width`` units with ``activation``, every
    kernel drawn by ``initializer`` (a name or a function f(shape, seed, dtype)), then a
    softmax layer. x: (B, n) inputs, y: (B, K) one-hot targets.
    """
    init = initializers.get(initializer)
    model = mlp((width,) * depth, activation=activation, n_inputs=x.shape[1], n_outputs=y.shape[1],
                kernel_initializer=init, seed=seed)
    model.compile(loss="categorical_crossentropy", optimizer="sgd")
    with np.errstate(over="ignore", invalid="ignore"):
        model.compute_gradients(x, y)
    hidden = model.layers[:-1]
    outputs = [layer.output.copy() for layer in hidden]
    return LayerStats(outputs, np.array([float(np.std(a)) for a in outputs]),
                      np.array([float(np.std(layer.dkernel)) for layer in hidden]))


def tanh_saturation(stats: LayerStats, threshold: float = 0.99) -> tuple[np.ndarray, np.ndarray]:
    """Per hidden layer of a tanh network: the fraction of outputs beyond +-threshold (saturated)
    and the mean slope of tanh there, 1 - out**2 (1 at 0, 0.02 at 0.99)."""
    saturated = np.array([float(np.mean(np.abs(a) > threshold)) for a in stats.activations])
    slope = np.array([float(np.mean(1.0 - np.asarray(a, dtype=np.float64) ** 2)) for a in stats.activations])
    return saturated, slope


def explain_large_tanh_init(large: LayerStats, reference: LayerStats, reference_name: str = "Glorot") -> str:
    """What the numbers of a tanh network with too large initial weights show, in sentences.

    The text names the saturated fraction and mean slope of layer 1, the layer-1 gradient next
    to the reference's, and how much the gradient grows per layer on its way back.
    """
    saturated, slope = tanh_saturation(large)
    _, ref_slope = tanh_saturation(reference)
    g, ref_g = large.gradient_std, reference.gradient_std
    depth = len(g)
    growth = (g[0] / g[-1]) ** (1.0 / (depth - 1)) if depth > 1 and g[-1] > 0 else float("nan")
    return (f"In layer 1, {100 * saturated[0]:.0f}% of the outputs are saturated (beyond ±0.99) and "
            f"tanh's mean slope is {slope[0]:.2f} ({reference_name}: {ref_slope[0]:.2f}). Yet the "
            f"gradient of layer 1 has standard deviation {g[0]:.1f}, {g[0] / ref_g[0]:,.0f} times "
            f"{reference_name}'s {ref_g[0]:.1e}: on its way back from layer {depth} it grows about "
            f"{growth:.1f}x per layer, because the units still on the steep part of tanh "
            f"({100 * (1 - saturated[0]):.0f}% in layer 1) pass it back through weights far larger "
            f"than {reference_name}'s, summed over many units. The gradients explode; they do not "
            f"vanish. The first updates are huge and depend on those few units: learning is erratic "
            f"rather than slow, and the large weights keep most units saturated.")


class SymmetryRun(NamedTuple):
    """What ``symmetry_run`` records."""

    kernels: np.ndarray   # (epochs + 1, n_inputs, hidden): the first layer's kernel, at the start and after each epoch
    history: dict         # the History of the fit


class _KernelRecorder(Callback):
    def __init__(self, layer):
        super().__init__()
        self.layer, self.kernels = layer, [layer.kernel.copy()]

    def on_epoch_end(self, epoch, logs=None):
        self.kernels.append(self.layer.kernel.copy())


def symmetry_run(x, y, initializer, hidden: int = 8, activation: str = "sigmoid",
                 epochs: int = 30, lr: float = 0.5, seed: int = 0) -> SymmetryRun:
    """Train x (n, 2) -> y (n,) 0/1 with every kernel drawn by ``initializer``; record layer 1.

    A network of one hidden layer of ``hidden`` units and a sigmoid output, SGD with ``lr``.
    With ``'zeros'`` every hidden unit computes the same thing, receives the same gradient and
    so stays identical to the others: ``distinct_units`` of every recorded kernel is 1.
    """
    model = mlp((hidden,), activation=activation, n_inputs=x.shape[1], n_outputs=1,
                output_activation="sigmoid", kernel_initializer=initializer, seed=seed)
    model.compile(loss="binary_crossentropy", optimizer=optimizers_module.SGD(lr=lr),
                  metrics=["accuracy"])
    recorder = _KernelRecorder(model.layers[0])
    history = model.fit(x, y, batch_size=32, epochs=epochs, verbose=0, callbacks=[recorder], seed=seed)
    return SymmetryRun(np.stack(recorder.kernels), history.history)


def distinct_units(kernel, decimals: int = 6) -> int:
    """How many different hidden units a kernel (n_inputs, units) holds (columns equal up to rounding)."""
    return len(np.unique(np.round(np.asarray(kernel, dtype=float).T, decimals), axis=0))


def activation_memory(model: Sequential, batch_size: int, bytes_per_number: int = 4) -> int:
    """Bytes the activations of one batch occupy while they wait for the backward pass.

    Each layer keeps its input and its output for the backward pass: about
    batch_size * (n_inputs + sum of the layer widths) numbers. The weights, their gradients
    and the optimizer's state come on top and do not depend on the batch size.

    >>> activation_memory(mlp(hidden=(512,)), batch_size=100)   # 100 * (784 + 512 + 10) * 4
    522400
    """
    widths = model.input_shape[-1] + sum(layer.units for layer in model.layers)
    return int(batch_size) * int(widths) * int(bytes_per_number)


# -- stored benchmark results ---------------------------------------------------------------------
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


def this_machine(torch_version: str | None = None) -> str:
    """A line naming the computer this runs on: processor, CPU threads, NumPy (and torch)."""
    import os
    import platform

    processor = platform.processor() or platform.machine() or "unknown"
    text = f"{processor} processor, {os.cpu_count()} CPU threads, NumPy {np.__version__}"
    return text + (f", torch {torch_version}" if torch_version else "")


def rerun_cpu_sweep(data=None, batch_sizes=(10, 100, 1000), max_steps: int = 60, repeats: int = 1,
                    torch_too: bool = False, hidden=(512,)) -> Sweep:
    """Time one epoch of the book's 784-512-10 network on THIS computer's CPU, per batch size.

    The CPU half of ``benchmarks/bench_gpu.py`` part (b), with the same method, small enough for a
    lesson: an epoch of more than ``max_steps`` steps is timed on its first ``max_steps`` steps and
    scaled to the whole epoch; each configuration trains 1 + ``repeats`` epochs and the fastest
    after the first (warm-up) counts. Columns: the course's NumPy code, and PyTorch on the CPU when
    ``torch_too`` and torch is installed. data: ``mnist.load_flat()`` or anything shaped like it
    (loaded when None). The returned Sweep's ``machine`` names this computer.
    """
    check_int("max_steps", max_steps, low=1)
    check_int("repeats", repeats, low=1)
    if data is None:
        from .datasets import mnist

        data = mnist.load_flat()
    (x, y), _ = data
    backends = [("NumPy (course), CPU", None)]
    torch_version = None
    if torch_too:
        try:
            import torch
        except ImportError:
            pass
        else:
            torch_version = torch.__version__
            backends.append(("PyTorch, CPU", "cpu"))
    sizes = np.array(sorted(int(b) for b in batch_sizes))
    seconds = {label: np.full(len(sizes), np.nan) for label, _ in backends}
    for k, batch_size in enumerate(sizes):
        steps = -(-len(x) // int(batch_size))
        timed = min(steps, max_steps)
        n = min(len(x), timed * int(batch_size))
        for label, device in backends:
            model = mlp(hidden, n_inputs=x.shape[1], n_outputs=y.shape[1], seed=0)
            model.compile(loss="categorical_crossentropy", optimizer=optimizers_module.SGD(lr=0.01),
                          metrics=["accuracy"])
            kwargs = {"device": device} if device else {}
            history = model.fit(x[:n], y[:n], epochs=1 + repeats, batch_size=int(batch_size), verbose=0,
                                seed=0, **kwargs)
            seconds[label][k] = min(history.epoch_seconds[1:]) * steps / timed
    return Sweep(sizes, seconds, Path("(measured now)"), this_machine(torch_version))


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


#: What the chapter says about its four MNIST runs, keyed by (hidden units, activation, epochs).
#: kind 'above': the accuracy should exceed the number (the chapter expects its first network,
#: from the previous chapter, to pass 90 %); 'gain': accuracy above the sigmoid run, at about the
#: same time; 'accuracy': the accuracy reached.
BOOK_CLAIMS = {
    (10, "sigmoid", 5): ("above", 0.90),
    (10, "relu", 5): ("gain", 0.02),
    (512, "relu", 5): ("accuracy", 0.94),
    (512, "relu", 20): ("accuracy", 0.96),
}

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


class BookRow(NamedTuple):
    """One line of the book-versus-measured table."""

    run: str
    book_claim: str
    accuracy: float          # mean over seeds
    accuracy_std: float
    seconds_per_epoch: float
    keras_accuracy: float | None
    claimed_accuracy: float | None  # the accuracy the book states (None: no number)
    agrees: bool | None      # None for a run the chapter claims nothing about
    sentence: str
    claim_is_lower_bound: bool = False  # the book states "more than" this accuracy
    seeds: int | None = None            # course seeds behind accuracy and accuracy_std
    keras_seeds: int | None = None      # Keras seeds behind keras_accuracy
    keras_std: float | None = None


def _points(difference: float) -> str:
    text = f"{difference:.1f}"
    return f"{text} point" if text == "1.0" else f"{text} points"


def compare_with_book(records: list[dict], tolerance: float = 0.01) -> list[BookRow]:
    """Put each stored run next to the chapter's claim and say, in a sentence, whether they agree.

    Every claim is drawn as the chapter states it, against the chapter's own runs, never against
    the course's measurements: the first network "exceeded 90 %" (a lower bound); ReLU gives
    "2 % more accuracy" than that sigmoid run, so more than 92 %; the wide network reaches 94 % and
    96 %. A claimed accuracy agrees when the measured mean is within ``tolerance`` (one point) of
    it; a lower bound when the mean exceeds it; the claimed gain of ReLU when the course's run
    passes the book's level (minus ``tolerance``) and its time per epoch stays within 50 % of
    the sigmoid run's. The sentence of the ReLU run also gives the gain the course measures over
    its own sigmoid run, which is what the book's "2 % more" compares in its own setting.
    """
    by_key = {(r["hidden"], r["activation"], r["epochs"]): r for r in records}
    baseline = by_key.get((10, "sigmoid", 5))
    book_baseline = BOOK_CLAIMS[(10, "sigmoid", 5)][1]
    rows = []
    for r in records:
        kind, value = BOOK_CLAIMS.get((r["hidden"], r["activation"], r["epochs"]), (None, None))
        acc, seconds = r["course_acc_mean"], r["course_s_per_epoch"]
        measured = f"{100 * acc:.1f}%"
        claimed, lower_bound = None, False
        if kind == "accuracy":
            claimed = value
            gap = acc - value
            agrees = abs(gap) <= tolerance
            sentence = (f"The book reports {100 * value:.0f}%; the course measures {measured}"
                        + (", in agreement." if agrees else
                           f", {_points(abs(100 * gap))} {'above' if gap > 0 else 'below'} the book."))
            small = by_key.get((10, r["activation"], 5))
            if small is not None and r["hidden"] > small["hidden"]:
                sentence += (f" An epoch takes {seconds / small['course_s_per_epoch']:.1f}x as long as with "
                             f"{small['hidden']} units (the book: noticeably longer).")
        elif kind == "gain":
            claimed, lower_bound = book_baseline + value, True
            agrees = acc > claimed - tolerance
            sentence = (f"The book reports about {100 * value:.0f} points more than its sigmoid run "
                        f"(which passed {100 * book_baseline:.0f}%), so more than {100 * claimed:.0f}%, "
                        f"at about the same time; the course measures {measured}"
                        + (", in agreement." if agrees else f", {_points(100 * (claimed - acc))} short."))
            if baseline is not None:
                gain = acc - baseline["course_acc_mean"]
                ratio = seconds / baseline["course_s_per_epoch"]
                agrees = agrees and 0.67 <= ratio <= 1.5
                sentence += (f" Over the course's own sigmoid run the gain is {100 * gain:+.1f} points, "
                             f"at {ratio:.2f}x the time per epoch.")
        elif kind == "above":
            claimed, lower_bound = value, True
            agrees = acc > value
            sentence = (f"The book expects more than {100 * value:.0f}%; the course measures {measured}"
                        + (", in agreement." if agrees else f", {_points(100 * (value - acc))} short."))
        else:
            agrees = None
            sentence = f"The chapter makes no claim about this run; the course measures {measured}."
        claim_text = {"above": f"more than {100 * (value or 0):.0f}%",
                      "gain": f"more than {100 * (claimed or 0):.0f}% (+{100 * (value or 0):.0f})",
                      "accuracy": f"{100 * (value or 0):.0f}%"}.get(kind, r["book_claim"])
        rows.append(BookRow(r["run"], claim_text, acc, r["course_acc_std"], seconds,
                            r.get("keras_acc_mean"), claimed, agrees, sentence, lower_bound,
                            r.get("seeds"), r.get("keras_seeds"), r.get("keras_acc_std")))
    return rows


def keras_sentences(rows: list[BookRow]) -> list[str]:
    """For each run with a Keras measurement, how far Keras lands from the course, in sentences.

    The distance is given in points and in course standard deviations, with the number of seeds
    behind each mean, so that the sentence claims no more than the numbers show.
    """
    out = []
    for row in rows:
        if row.keras_accuracy is None:
            continue
        gap = 100 * (row.keras_accuracy - row.accuracy)
        std = 100 * row.accuracy_std
        seeds = f"{row.seeds} seeds" if row.seeds else "the course's seeds"
        kseeds = f"{row.keras_seeds} seed{'s' if row.keras_seeds != 1 else ''}" if row.keras_seeds else "its seeds"
        if std > 0:
            sigmas = abs(gap) / std
            where = ("within one standard deviation of" if sigmas <= 1 else
                     f"{sigmas:.1f} standard deviations {'above' if gap > 0 else 'below'}")
        else:
            where = "next to"
        out.append(f"{row.run}: Keras ({kseeds}) {100 * row.keras_accuracy:.2f}%, the course "
                   f"({seeds}) {100 * row.accuracy:.2f} ± {std:.2f}%: Keras is {gap:+.2f} points, "
                   f"{where} the course's mean.")
    return out


def format_book_table(rows: list[BookRow]) -> str:
    """The comparison as a fixed-width text table (accuracy in %, time per epoch in seconds)."""
    has_keras = any(row.keras_accuracy is not None for row in rows)
    header = f"{'run':<26}{'book':>24}{'measured':>16}{'s/epoch':>9}"
    if has_keras:
        header += f"{'Keras':>9}"
    lines = [header, "-" * len(header)]
    for row in rows:
        line = (f"{row.run:<26}{row.book_claim:>24}"
                f"{f'{100 * row.accuracy:.1f} ± {100 * row.accuracy_std:.1f}%':>16}"
                f"{row.seconds_per_epoch:>9.2f}")
        if has_keras:
            line += f"{(f'{100 * row.keras_accuracy:.1f}%' if row.keras_accuracy is not None else '-'):>9}"
        lines.append(line)
    return "\n".join(lines)
