"""Callbacks: code that ``fit`` calls at fixed moments of training, as in Keras.

    on_train_begin(logs) -> for each epoch: on_epoch_begin(epoch, logs)
        -> for each batch: on_batch_begin(batch, logs), on_batch_end(batch, logs)
        -> on_epoch_end(epoch, logs)    (logs: 'loss', 'accuracy', 'val_loss', ...)
    -> on_train_end(logs)

A callback sees the model as ``self.model`` and can stop training by setting
``self.model.stop_training = True``.
"""
from __future__ import annotations

import inspect
import sys
import time

import numpy as np

from .utils import check_int, check_real, warn_outside_course

__all__ = [
    "Callback", "History", "BatchLossLogger", "LearningRateScheduler", "EarlyStopping",
    "ProgressBar", "NaNLossWarning", "warn_nan", "warn_nan_batch",
]


class NaNLossWarning(UserWarning):
    """Training stopped because the loss became NaN or infinite."""


class Callback:
    """Base class: override the moments you need."""

    def __init__(self):
        self.model = None

    def set_model(self, model) -> None:
        self.model = model

    def on_train_begin(self, logs=None): ...
    def on_train_end(self, logs=None): ...
    def on_epoch_begin(self, epoch, logs=None): ...
    def on_epoch_end(self, epoch, logs=None): ...
    def on_batch_begin(self, batch, logs=None): ...
    def on_batch_end(self, batch, logs=None): ...


class History(Callback):
    """Records the epoch logs: ``history.history['loss']`` is the list of epoch losses.

    ``epoch`` lists the epoch numbers; ``epoch_seconds`` how long each epoch took (training,
    validation and callbacks); ``stopped_reason`` says why training ended early, if it did.
    ``history`` holds what Keras's holds: the logs of each epoch, nothing else.
    """

    def __init__(self):
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.epoch_seconds: list[float] = []
        self.stopped_reason: str | None = None
        self._started = None

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        if self._started is not None:
            self.epoch_seconds.append(time.perf_counter() - self._started)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def __repr__(self) -> str:
        keys = ", ".join(self.history)
        return f"<History: {len(self.epoch)} epochs of {keys}>"


class BatchLossLogger(Callback):
    """Records the loss of every update (every batch), not only each epoch's mean.

    ``losses``: one value per update, in order; ``epochs``: the epoch each one belongs to.
    Use it to see how noisy online, mini-batch and batch gradient descent are.
    """

    def __init__(self):
        super().__init__()
        self.losses: list[float] = []
        self.epochs: list[int] = []
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_batch_end(self, batch, logs=None):
        self.losses.append(float(logs["loss"]))
        self.epochs.append(self._epoch)


class LearningRateScheduler(Callback):
    """Sets the optimizer's learning rate at the start of each epoch from ``schedule``.

    schedule(epoch) -> lr, or schedule(epoch, lr) -> lr (epoch counts from 0), told apart by
    how many arguments the function takes.

    >>> LearningRateScheduler(lambda epoch: 0.1 * 0.5 ** epoch)   # halve every epoch
    <...LearningRateScheduler...>
    """

    def __init__(self, schedule, verbose: int = 0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"schedule must be a function of the epoch, got {type(schedule).__name__}.")
        self.schedule = schedule
        self.takes_lr = _positional_arguments(schedule) >= 2
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        if self.takes_lr:
            lr = self.schedule(epoch, float(self.model.optimizer.lr))
        else:
            lr = self.schedule(epoch)
        lr = check_real(f"the learning rate the schedule returned for epoch {epoch}", lr, low=0.0)
        self.model.optimizer.lr = lr
        if self.verbose:
            print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {float(lr):.6g}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["lr"] = float(self.model.optimizer.lr)


class EarlyStopping(Callback):
    """Stops training when a monitored quantity has stopped improving.

    monitor: a log key such as 'val_loss' or 'val_accuracy'. mode: 'min', 'max' or 'auto'
    ('max' for accuracies, 'min' otherwise). min_delta: smallest change counted as an
    improvement. patience: epochs with no improvement before stopping; as in Keras, training
    stops at the end of the epoch where the count of epochs without improvement reaches
    ``patience`` (best at epoch 8 with patience 5: it stops after epoch 13), never after the
    first epoch.
    restore_best_weights: at the end, put back the weights of the best epoch.
    ``stopped_epoch`` and ``best_epoch`` say what happened.
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0,
                 verbose: int = 0, mode: str = "auto", baseline: float | None = None,
                 restore_best_weights: bool = False):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"EarlyStopping mode must be 'auto', 'min' or 'max', got {mode!r}.")
        check_int("patience", patience, low=0, example=3)
        self.monitor = monitor
        self.min_delta = abs(float(min_delta))
        self.patience = int(patience)
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        if mode == "auto":
            mode = "max" if ("acc" in monitor) else "min"
        self.mode = mode

    def _improved(self, value: float, reference: float) -> bool:
        if self.mode == "min":
            return value < reference - self.min_delta
        return value > reference + self.min_delta

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = None
        self.best_epoch = None
        self.best_weights = None
        self.best = self.baseline if self.baseline is not None else (np.inf if self.mode == "min" else -np.inf)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.monitor not in logs:
            raise KeyError(
                f"EarlyStopping monitors {self.monitor!r}, but the logs hold only {sorted(logs)}. "
                "Pass validation_data or validation_split to fit, or monitor one of those."
            )
        value = logs[self.monitor]
        if self._improved(value, self.best):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch is not None and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping (best {self.monitor} "
                  f"{self.best:.4f} at epoch {self.best_epoch + 1 if self.best_epoch is not None else '-'}).")
        if self.restore_best_weights and self.best_weights is not None:
            self.model.set_weights(self.best_weights)


class ProgressBar(Callback):
    """The per-epoch progress display of ``fit(verbose=1)``.

    Uses tqdm where it is installed (a widget in Jupyter, text in a terminal) and plain printed
    lines otherwise, so headless runs and machines without tqdm work the same.
    """

    def __init__(self, epochs: int, steps: int, verbose: int = 1):
        super().__init__()
        self.epochs, self.steps, self.verbose = epochs, steps, verbose
        self._bar = None
        self._tqdm = None
        self._started = time.perf_counter()
        if verbose == 1:
            try:
                from tqdm.auto import tqdm
                self._tqdm = tqdm
            except ImportError:
                self._tqdm = None

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()
        if self._tqdm is not None:
            self._bar = self._tqdm(total=self.steps, desc=f"Epoch {epoch + 1}/{self.epochs}",
                                   unit="batch", leave=True, file=sys.stdout, dynamic_ncols=True)

    def on_batch_end(self, batch, logs=None):
        if self._bar is not None:
            self._bar.update(1)
            if batch % 20 == 0 or batch == self.steps - 1:
                self._bar.set_postfix_str(_format_logs(logs), refresh=False)

    def on_epoch_end(self, epoch, logs=None):
        if self._bar is not None:
            self._bar.set_postfix_str(_format_logs(logs), refresh=False)
            self._bar.close()
            self._bar = None
        elif self.verbose:
            seconds = time.perf_counter() - self._started
            print(f"Epoch {epoch + 1}/{self.epochs} - {seconds:.2f}s - {_format_logs(logs)}", flush=True)

    def on_train_end(self, logs=None):
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _format_logs(logs) -> str:
    return " - ".join(f"{k}: {v:.4f}" for k, v in (logs or {}).items() if k != "batch" and k != "size")


def warn_nan(epoch: int, batch: int) -> str:
    """Warn (at the learner's line) that fit stopped on a NaN or infinite loss; returns the text."""
    message = (f"Epoch {epoch + 1}, batch {batch + 1}: the loss became NaN or infinite; training "
               "stopped (the history so far is kept). Try a smaller learning rate, or check the inputs "
               "for very large values.")
    warn_outside_course(message, NaNLossWarning)
    return message


def warn_nan_batch(loss: float) -> None:
    """Warn (at the learner's line) that train_on_batch met a NaN or infinite loss."""
    warn_outside_course(f"the loss is {loss}: the weights were not updated. Try a smaller learning "
                        "rate, or check the inputs for very large values.", NaNLossWarning)


def _positional_arguments(function) -> int:
    """How many positional arguments ``function`` accepts (a large number for *args)."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):     # a builtin without a signature: call it with the epoch
        return 1
    if any(p.kind == p.VAR_POSITIONAL for p in parameters):
        return 2
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in parameters)
