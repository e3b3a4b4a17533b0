"""Why one learning rate is not enough: gradient descent on a quadratic valley, by its curvatures.

On L(w) = 0.5 * sum_i lambda_i * w_i**2 (``landscapes.valley()``: curvatures 1 and 20) the
gradient in direction i is lambda_i * w_i, so one step of plain gradient descent multiplies
each coordinate by its own factor:

    w_i <- (1 - lr * lambda_i) * w_i

It shrinks only where |1 - lr * lambda_i| < 1, for every i: lr < 2 / lambda_max. The slowest
direction sets the pace: the error shrinks per step by max_i |1 - lr * lambda_i|, smallest at
lr = 2 / (lambda_min + lambda_max), where it is (kappa - 1) / (kappa + 1) with the condition
number kappa = lambda_max / lambda_min. Momentum (heavy ball, tuned) brings that down to
(sqrt(kappa) - 1) / (sqrt(kappa) + 1): the dependence on kappa becomes one on sqrt(kappa).
A step size per weight (Adagrad, RMSprop, Adadelta) attacks kappa itself: dividing each
weight's step by the size of its gradients is a diagonal preconditioner, which on this valley
makes every direction look equally steep.

    stable_lr        2 / lambda_max
    gd_factor        max_i |1 - lr * lambda_i|: the predicted shrink per step
    best_gd          the best lr and its factor (kappa - 1) / (kappa + 1)
    best_momentum    the best heavy-ball lr and momentum and their factor (sqrt(kappa)-1)/(sqrt(kappa)+1)
    measured_factor  the shrink per step of a trajectory's distance to the minimum
    conditioning_table  predicted and measured factors of SGD and momentum on a valley
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .landscapes import Quadratic, Trajectory, run_optimizer
from .optimizers import SGD

__all__ = ["stable_lr", "gd_factor", "best_gd", "best_momentum", "measured_factor", "RateRow",
           "conditioning_table"]


def _curvatures(landscape: Quadratic) -> np.ndarray:
    if not isinstance(landscape, Quadratic):
        raise TypeError(f"conditioning needs a quadratic landscape (landscapes.valley() or bowl()), "
                        f"got {type(landscape).__name__}.")
    return np.asarray(landscape.curvatures, dtype=float)


def stable_lr(landscape: Quadratic) -> float:
    """The largest learning rate at which plain gradient descent does not diverge: 2 / lambda_max.

    >>> from course.landscapes import valley
    >>> stable_lr(valley())          # curvatures 1 and 20
    0.1
    """
    return 2.0 / float(_curvatures(landscape).max())


def gd_factor(landscape: Quadratic, lr: float) -> float:
    """max_i |1 - lr * lambda_i|: how much one step of gradient descent shrinks the error (> 1 grows).

    >>> from course.landscapes import valley
    >>> round(gd_factor(valley(), 0.05), 6)      # |1 - 0.05| and |1 - 0.05 * 20|: the flat one wins
    0.95
    """
    return float(np.max(np.abs(1.0 - lr * _curvatures(landscape))))


def best_gd(landscape: Quadratic) -> tuple[float, float]:
    """(lr, factor) of the best constant rate: lr = 2 / (lambda_min + lambda_max), factor (k-1)/(k+1).

    >>> from course.landscapes import valley
    >>> lr, factor = best_gd(valley())
    >>> round(lr, 5), round(factor, 5)           # 2/21 and 19/21
    (0.09524, 0.90476)
    """
    lam = _curvatures(landscape)
    kappa = lam.max() / lam.min()
    return 2.0 / float(lam.min() + lam.max()), float((kappa - 1) / (kappa + 1))


def best_momentum(landscape: Quadratic) -> tuple[float, float, float]:
    """(lr, momentum, factor) of the tuned heavy ball (Polyak): factor (sqrt(k)-1)/(sqrt(k)+1).

    lr = 4 / (sqrt(lambda_max) + sqrt(lambda_min))**2, momentum = factor**2.
    """
    lam = _curvatures(landscape)
    root = math.sqrt(lam.max() / lam.min())
    factor = (root - 1) / (root + 1)
    lr = 4.0 / (math.sqrt(lam.max()) + math.sqrt(lam.min())) ** 2
    return lr, factor ** 2, factor


def measured_factor(trajectory: Trajectory, skip: int = 20) -> float:
    """The shrink per step of the distance to the minimum (at the origin), measured after ``skip`` steps.

    (d_T / d_skip) ** (1 / (T - skip)): the geometric mean over the rest of the run.
    """
    distance = np.linalg.norm(trajectory.path, axis=1)
    steps = len(distance) - 1
    if not 0 <= skip < steps:
        raise ValueError(f"skip must be between 0 and {steps - 1} (the run has {steps} steps), got {skip}.")
    return float((distance[-1] / distance[skip]) ** (1.0 / (steps - skip)))


class RateRow(NamedTuple):
    """One optimizer on the valley: its settings, the predicted and the measured factor per step."""

    label: str
    lr: float
    momentum: float
    predicted: float
    measured: float
    steps_to_1e_minus_6: int   # steps for the error to shrink a million times at the predicted rate


def conditioning_table(landscape: Quadratic, start=(-2.5, 1.0), steps: int = 120) -> list[RateRow]:
    """SGD at a small rate, at the best rate, just above the limit, and tuned momentum: predicted
    against measured shrink per step of the distance to the minimum."""
    limit = stable_lr(landscape)
    lr_best, factor_best = best_gd(landscape)
    lr_mom, mu, factor_mom = best_momentum(landscape)
    settings = [(f"SGD, lr = {limit / 4:.3g}", limit / 4, 0.0, gd_factor(landscape, limit / 4)),
                (f"SGD, lr = {lr_best:.3g} (best)", lr_best, 0.0, factor_best),
                (f"SGD, lr = {1.05 * limit:.3g} (above 2/λ_max)", 1.05 * limit, 0.0, gd_factor(landscape, 1.05 * limit)),
                (f"momentum {mu:.3g}, lr = {lr_mom:.3g} (tuned)", lr_mom, mu, factor_mom)]
    rows = []
    for label, lr, momentum, predicted in settings:
        run = run_optimizer(SGD(lr=lr, momentum=momentum), landscape, start, steps)
        needed = math.inf if predicted >= 1 else math.ceil(math.log(1e-6) / math.log(predicted))
        rows.append(RateRow(label, lr, momentum, predicted, measured_factor(run),
                            needed if math.isfinite(needed) else -1))
    return rows
