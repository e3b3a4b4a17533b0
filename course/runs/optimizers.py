"""The runs of lesson 4 (optimizers), as functions that return data.

A notebook cell calls one of these and hands the result to a plot function of
``course.plots.descent`` or ``course.plots.training``; the tests call the same functions on
small inputs. Everything here uses the course library itself (``Sequential``, ``Dense``, the
optimizers, ``run_optimizer``): nothing is implemented a second time.

    landscape_race          several optimizers from one start point on one landscape
    random_restarts         one optimizer from many random start points
    nearest_minimum         which known minimum a point is closest to
    learning_rate_schedule  the learning rate an optimizer uses at each update (decay)
    batch_size_runs         online, mini-batch and batch gradient descent: loss of every update
    optimizer_race          several optimizers training the same network on the same data
"""
from __future__ import annotations

import time
from typing import NamedTuple

import numpy as np

from ..builders import fresh_optimizer, mlp
from ..callbacks import BatchLossLogger, Callback
from ..datasets.mnist import Subset
from ..landscapes import Landscape, Trajectory, run_optimizer
from ..utils import check_int, get_rng

__all__ = [
    "landscape_race", "random_restarts", "nearest_minimum", "learning_rate_schedule", "BatchRun",
    "batch_size_runs", "RaceResult", "optimizer_race",
]


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
