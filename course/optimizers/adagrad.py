"""Adagrad: divide each step by the root of the sum of all past squared gradients (Keras 2)."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .base import Optimizer, _Default, check_number

__all__ = ["AdagradStep", "adagrad_step", "Adagrad"]


class AdagradStep(NamedTuple):
    """What ``adagrad_step`` returns: the new weight and the new accumulator."""

    param: np.ndarray
    accumulator: np.ndarray


def adagrad_step(param, grad, accumulator, lr=0.01, epsilon=1e-7) -> AdagradStep:
    """One Adagrad update; returns new arrays and leaves the arguments unchanged.

        accumulator <- accumulator + grad**2
        param       <- param - lr * grad / (sqrt(accumulator) + epsilon)

    The accumulator only grows, so every weight's steps shrink over time, faster for weights
    that have seen large gradients.

    param, grad, accumulator: arrays of the same shape (the accumulator starts at zeros).
    lr: the learning rate of this step (the Adagrad object passes lr / (1 + decay * iterations)).
    Defaults (Keras 2): lr 0.01, epsilon 1e-7.

    Worked example: the first step is lr * g / (|g| + epsilon), about lr whatever g is. With
    g = 3 then g = 4: accumulator 9 then 25, steps 0.01 * 3/3 = 0.01 then 0.01 * 4/5 = 0.008:

    >>> step = adagrad_step(np.array([1.0]), np.array([3.0]), np.zeros(1), epsilon=0.0)
    >>> step = adagrad_step(step.param, np.array([4.0]), step.accumulator, epsilon=0.0)
    >>> step.accumulator, np.round(1.0 - step.param, 12)
    (array([25.]), array([0.018]))

    Conventions. Keras 2 is torch.optim.Adagrad with initial_accumulator_value=0 and the same
    eps, and Keras 2's ``decay`` is torch's ``lr_decay``. torch's eps default is 1e-10. Keras 3
    starts the accumulator at 0.1 and puts epsilon inside the root, sqrt(accumulator + eps).
    """
    accumulator = accumulator + grad ** 2
    param = param - lr * grad / (np.sqrt(accumulator) + epsilon)
    return AdagradStep(param, accumulator)


class Adagrad(Optimizer):
    """Adagrad(lr=0.01, epsilon=1e-7, decay=0.0), Keras 2's arguments and defaults.

    lr (or learning_rate) >= 0. epsilon >= 0. decay >= 0: rate lr / (1 + decay * iterations).

    State: ``accumulators``, one array per weight: the sum of all grad**2 so far.

    The update rule, its conventions and a worked example: see ``adagrad_step``, which returns
    new arrays; ``update_step`` makes the same update in place.
    """

    state_names = ("accumulators",)
    _hyperparameters = ("lr", "epsilon", "decay")

    def __init__(self, lr=_Default(0.01), epsilon=1e-7, decay=0.0, learning_rate=None):
        super().__init__(lr, decay, learning_rate)
        self.epsilon = check_number("Adagrad", "epsilon", epsilon, default=1e-7)

    def update_step(self, gradient, variable, learning_rate):
        """a <- a + g^2; w <- w - lr g / (sqrt(a) + eps). In place."""
        accumulator = self.accumulators[self._get_variable_index(variable)]
        accumulator += gradient ** 2
        variable -= learning_rate * gradient / (np.sqrt(accumulator) + self.epsilon)
