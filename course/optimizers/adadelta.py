"""Adadelta: steps scaled by the ratio of recent step sizes to recent gradient sizes (Keras 2)."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .base import Optimizer, _Default, check_number

__all__ = ["AdadeltaStep", "adadelta_step", "Adadelta"]


class AdadeltaStep(NamedTuple):
    """What ``adadelta_step`` returns: the new weight and the two new accumulators."""

    param: np.ndarray
    accumulator: np.ndarray
    delta_accumulator: np.ndarray


def adadelta_step(param, grad, accumulator, delta_accumulator, lr=1.0, rho=0.95,
                  epsilon=1e-7) -> AdadeltaStep:
    """One Adadelta update; returns new arrays and leaves the arguments unchanged.

        accumulator       <- rho * accumulator + (1 - rho) * grad**2
        update            =  grad * sqrt((delta_accumulator + epsilon) / (accumulator + epsilon))
        param             <- param - lr * update
        delta_accumulator <- rho * delta_accumulator + (1 - rho) * update**2

    ``accumulator`` averages squared gradients, ``delta_accumulator`` squared updates; the root
    of their ratio turns a gradient into a step in the units of the weight itself, so lr = 1
    works.

    param, grad, accumulator, delta_accumulator: arrays of the same shape (both accumulators
    start at zeros). lr: the learning rate of this step (the Adadelta object passes
    lr / (1 + decay * iterations)). Defaults (Keras 2): lr 1.0, rho 0.95, epsilon 1e-7.

    Worked example: first step with gradient 1: accumulator = 0.05,
    update = 1 * sqrt(1e-7) / sqrt(0.05 + 1e-7) = 3.1623e-4 / 0.22361 = 1.4142e-3, so the
    weight moves by 0.0014142 (small first steps: delta_accumulator starts at zero):

    >>> step = adadelta_step(np.array([1.0]), np.array([1.0]), np.zeros(1), np.zeros(1))
    >>> np.round(1.0 - step.param, 7)
    array([0.0014142])

    Conventions. Keras 2, Keras 3 and torch.optim.Adadelta compute the same rule; only the
    defaults differ (torch: rho 0.9, eps 1e-6; Keras 3: lr 0.001). All three take the two
    square roots as written above.
    """
    accumulator = rho * accumulator + (1 - rho) * grad ** 2
    update = grad * np.sqrt(delta_accumulator + epsilon) / np.sqrt(accumulator + epsilon)
    param = param - lr * update
    delta_accumulator = rho * delta_accumulator + (1 - rho) * update ** 2
    return AdadeltaStep(param, accumulator, delta_accumulator)


class Adadelta(Optimizer):
    """Adadelta(lr=1.0, rho=0.95, epsilon=1e-7, decay=0.0), Keras 2's arguments and defaults.

    lr (or learning_rate) >= 0. rho in [0, 1). epsilon >= 0 (with epsilon = 0 the first step
    divides 0 by 0). decay >= 0: rate lr / (1 + decay * iterations).

    State: ``accumulators`` (running average of grad**2) and ``delta_accumulators`` (running
    average of update**2), one array per weight each.

    The update rule, its conventions and a worked example: see ``adadelta_step``, which
    returns new arrays; ``update_step`` makes the same update in place.
    """

    state_names = ("accumulators", "delta_accumulators")
    _hyperparameters = ("lr", "rho", "epsilon", "decay")

    def __init__(self, lr=_Default(1.0), rho=0.95, epsilon=1e-7, decay=0.0, learning_rate=None):
        super().__init__(lr, decay, learning_rate)
        self.rho = check_number("Adadelta", "rho", rho, high=1.0, default=0.95)
        self.epsilon = check_number("Adadelta", "epsilon", epsilon, default=1e-7)

    def update_step(self, gradient, variable, learning_rate):
        """a <- rho a + (1 - rho) g^2; d = g sqrt(D + eps) / sqrt(a + eps); w <- w - lr d;
        D <- rho D + (1 - rho) d^2. In place."""
        i = self._get_variable_index(variable)
        accumulator, delta_accumulator = self.accumulators[i], self.delta_accumulators[i]
        accumulator *= self.rho
        accumulator += (1 - self.rho) * gradient ** 2
        update = gradient * np.sqrt(delta_accumulator + self.epsilon) / np.sqrt(accumulator + self.epsilon)
        variable -= learning_rate * update
        delta_accumulator *= self.rho
        delta_accumulator += (1 - self.rho) * update ** 2
