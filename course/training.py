"""The epoch loop of ``fit``, written once for every backend.

    for epoch in range(initial_epoch, epochs):          Keras: epochs is the number to end at
        shuffle the order of the examples               (the same NumPy generator everywhere)
        for each batch:
            step: forward, loss, backward, update       <- the backend
        the epoch's loss and metrics: the mean over the examples
        the validation loss and metrics                 <- the backend
        callbacks, History

The callbacks, the History, the shuffles, ``initial_epoch`` and what happens when the loss
becomes NaN are here; a backend only runs the steps. A backend that learns of a NaN loss late
(a GPU, which reports an epoch's losses at its end) puts back the weights itself, in its
``epoch_values``. ``NumpyBackend`` runs the course's NumPy
kernels (``Sequential.train_step``); ``course.torch.training`` runs the same network with
PyTorch, on the CPU or a GPU.
"""
from __future__ import annotations

import numpy as np

from .callbacks import Callback, History, ProgressBar, warn_nan

__all__ = ["Backend", "NumpyBackend", "run_epochs"]


class Backend:
    """What ``run_epochs`` needs from a backend.

    steps         batches per epoch; ``sizes`` (steps,): the examples in each batch
    synchronous   True when a batch's values are known as soon as its step returns (NumPy);
                  False when reading them makes the host wait (a GPU)
    """

    steps: int
    sizes: np.ndarray
    synchronous: bool = True

    def start_epoch(self, order: np.ndarray | None) -> None:
        """The order of the examples for this epoch (None: the order of the data)."""

    def step(self, batch: int) -> None:
        """Train on batch number ``batch`` of the epoch."""
        raise NotImplementedError

    def batch_values(self, batch: int) -> list[float]:
        """[loss, metric, ...] of one batch."""
        raise NotImplementedError

    def epoch_values(self, steps: int) -> np.ndarray:
        """[loss, metric, ...] of the first ``steps`` batches of the epoch, shape (steps, k).

        Where one of them is not finite, the backend also puts the model back in a state from
        before that batch if it can (the NumPy path stops at the bad batch itself).
        """
        raise NotImplementedError

    def validate(self) -> list[float]:
        """[loss, metric, ...] on the validation data."""
        raise NotImplementedError

    def end_epoch(self) -> None:
        """Make the course model hold the weights of the epoch (callbacks read them)."""

    def end_training(self) -> None:
        """Called once training is over, before the callbacks' ``on_train_end``."""


class NumpyBackend(Backend):
    """The course's NumPy kernels: each step is ``model.train_step(x_batch, y_batch)``."""

    synchronous = True

    def __init__(self, model, x, y, batch_size: int, x_val=None, y_val=None):
        self.model, self.x, self.y, self.batch_size = model, x, y, batch_size
        self.x_val, self.y_val = x_val, y_val
        n = len(x)
        self.steps = -(-n // batch_size)
        self.sizes = np.diff(np.minimum(np.arange(self.steps + 1) * batch_size, n)).astype(np.float64)
        self.values = np.zeros((self.steps, 1 + len(model.metrics)))
        self.order = None

    def start_epoch(self, order):
        self.order = order

    def step(self, batch):
        lo, hi = batch * self.batch_size, (batch + 1) * self.batch_size
        if self.order is None:
            xb, yb = self.x[lo:hi], self.y[lo:hi]
        else:
            idx = self.order[lo:hi]
            xb, yb = self.x[idx], self.y[idx]
        self.values[batch] = self.model.train_step(xb, yb)

    def batch_values(self, batch):
        return self.values[batch].tolist()

    def epoch_values(self, steps):
        return self.values[:steps]

    def validate(self):
        val = self.model.evaluate(self.x_val, self.y_val, batch_size=max(self.batch_size, 256))
        return val if isinstance(val, list) else [val]


def _overrides(callback: Callback, method: str) -> bool:
    return getattr(type(callback), method) is not getattr(Callback, method)


def run_epochs(model, backend: Backend, epochs: int, initial_epoch: int = 0, shuffle: bool = True,
               rng: np.random.Generator | None = None, verbose: int = 1, callbacks=(),
               validation: bool = False, history: History | None = None) -> History:
    """Train ``model`` with ``backend`` from epoch ``initial_epoch`` up to (not including) ``epochs``.

    As in Keras, ``epochs`` is the index of the epoch to end at: fit(epochs=5, initial_epoch=3)
    trains epochs 3 and 4. Returns the History (``history.history['loss']``, ... per epoch;
    ``history.epoch_seconds``: the seconds each epoch took). If the loss becomes NaN or
    infinite, training stops with a NaNLossWarning and the History so far is returned.
    """
    history = history if history is not None else History()
    all_callbacks = list(callbacks) + [history]   # History last, as in Keras: it sees what callbacks add
    if verbose:
        all_callbacks.append(ProgressBar(epochs, backend.steps, verbose))
    for cb in all_callbacks:
        cb.set_model(model)
    begin_callbacks = [cb for cb in all_callbacks if _overrides(cb, "on_batch_begin")]
    end_callbacks = [cb for cb in all_callbacks if _overrides(cb, "on_batch_end")]
    # a GPU backend reads each batch's values only for the learner's own batch callbacks
    live = backend.synchronous or any(_overrides(cb, "on_batch_begin") or _overrides(cb, "on_batch_end")
                                      for cb in callbacks)
    model.history = history
    model.stop_training = False
    names = ["loss"] + [name for name, _ in model.metrics]

    for cb in all_callbacks:
        cb.on_train_begin({})
    for epoch in range(initial_epoch, epochs):
        for cb in all_callbacks:
            cb.on_epoch_begin(epoch, {})
        backend.start_epoch(rng.permutation(int(backend.sizes.sum())) if shuffle else None)
        steps = backend.steps
        for batch in range(backend.steps):
            for cb in begin_callbacks:
                cb.on_batch_begin(batch, {})
            backend.step(batch)
            logs = dict(zip(names, backend.batch_values(batch))) if live else {}
            for cb in end_callbacks:
                cb.on_batch_end(batch, logs)
            if live and not np.isfinite(logs["loss"]):
                steps = batch + 1
                break
        values = backend.epoch_values(steps)
        bad = np.flatnonzero(~np.isfinite(values[:, 0]))
        if bad.size:                                 # the loss blew up: keep up to the bad batch
            values = values[: bad[0] + 1]
            history.stopped_reason = warn_nan(epoch, int(bad[0]))
            model.stop_training = True
        sizes = backend.sizes[: len(values)]
        means = (values * sizes[:, None]).sum(axis=0) / max(sizes.sum(), 1.0)
        logs = {k: float(v) for k, v in zip(names, means)}
        if validation and not model.stop_training:
            logs.update({f"val_{k}": float(v) for k, v in zip(names, backend.validate())})
        backend.end_epoch()
        for cb in all_callbacks:
            cb.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    backend.end_training()
    for cb in all_callbacks:
        cb.on_train_end({})
    return history
