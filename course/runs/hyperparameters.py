"""The runs of lesson 5 (hyperparameters), as functions that return data.

A notebook cell calls one of these and hands the result to a plot function of
``course.plots.training`` or ``course.plots.initialization``; the tests call the same functions
on small inputs. The stored measurements they compare with are read by ``course.results``.

    early_stopping_replay   where EarlyStopping would stop on a recorded curve
    noisy_labels            one-hot labels with a fraction replaced by random classes
    overfitting_run         a wide network on few, partly mislabelled examples: validation accuracy falls
    layer_statistics        activations and gradients of every layer of a deep network at init
    symmetry_run            how the first-layer weights move during training (zeros vs random)
    rerun_cpu_sweep         the CPU half of the stored batch-size sweep, measured again here
    compare_with_book       the book's claims next to the stored MNIST runs, in sentences
    keras_sentences         how far Keras lands from the course, with the number of seeds
"""
from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np

from .. import initializers
from ..builders import fresh_optimizer, mlp
from ..callbacks import Callback
from ..datasets.mnist import Subset
from ..optimizers import SGD
from ..results import Sweep
from ..utils import check_int, get_rng

__all__ = [
    "OverfitRun", "early_stopping_replay", "noisy_labels", "overfitting_run", "overfitting_sentence",
    "LayerStats", "layer_statistics", "tanh_saturation", "explain_large_tanh_init", "SymmetryRun",
    "symmetry_run", "this_machine", "rerun_cpu_sweep", "BOOK_CLAIMS", "BookRow", "compare_with_book",
    "keras_sentences", "format_book_table",
]


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
    (2, 4)
    """
    from types import SimpleNamespace

    from ..callbacks import EarlyStopping

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


# -- weight initialisation ------------------------------------------------------------------------
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
    model.compile(loss="binary_crossentropy", optimizer=SGD(lr=lr),
                  metrics=["accuracy"])
    recorder = _KernelRecorder(model.layers[0])
    history = model.fit(x, y, batch_size=32, epochs=epochs, verbose=0, callbacks=[recorder], seed=seed)
    return SymmetryRun(np.stack(recorder.kernels), history.history)



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
        from ..datasets import mnist

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
            model.compile(loss="categorical_crossentropy", optimizer=SGD(lr=0.01),
                          metrics=["accuracy"])
            kwargs = {"device": device} if device else {}
            history = model.fit(x[:n], y[:n], epochs=1 + repeats, batch_size=int(batch_size), verbose=0,
                                seed=0, **kwargs)
            seconds[label][k] = min(history.epoch_seconds[1:]) * steps / timed
    return Sweep(sizes, seconds, Path("(measured now)"), this_machine(torch_version))



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
