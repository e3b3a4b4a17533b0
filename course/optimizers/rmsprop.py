"""RMSprop: divide each step by a running root-mean-square of recent gradients (Keras 2)."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .base import Optimizer, _Default, check_number

__all__ = ["RMSpropStep", "rmsprop_step", "RMSprop"]


class RMSpropStep(NamedTuple):
    """What ``rmsprop_step`` returns: the new weight and the new accumulator."""

    param: np.ndarray
    accumulator: np.ndarray


def rmsprop_step(param, grad, accumulator, lr=0.001, rho=0.9, epsilon=1e-7) -> RMSpropStep:
    """One RMSprop update; returns new arrays and leaves the arguments unchanged.

        accumulator <- rho * accumulator + (1 - rho) * grad**2
        param       <- param - lr * grad / (sqrt(accumulator) + epsilon)

    The accumulator is a running average of squared gradients, so each weight's step is its
    gradient divided by the typical size of its recent gradients: about lr for every weight.

    param, grad, accumulator: arrays of the same shape (the accumulator starts at zeros).
    lr: the learning rate of this step (the RMSprop object passes lr / (1 + decay * iterations)).
    Defaults (Keras 2): lr 0.001, rho 0.9, epsilon 1e-7.

    Worked example: first step, gradient 2, lr 0.001. accumulator = 0.1 * 4 = 0.4,
    sqrt(0.4) = 0.63246, step = 0.001 * 2 / 0.63246 = 0.0031623 (= lr / sqrt(1 - rho) on the
    first step, whatever the gradient):

    >>> step = rmsprop_step(np.array([1.0]), np.array([2.0]), np.zeros(1))
    >>> step.accumulator, np.round(1.0 - step.param, 7)
    (array([0.4]), array([0.0031623]))

    Conventions. Keras 2 and torch.optim.RMSprop (with alpha = rho and the same eps) compute
    the same thing: epsilon is added outside the square root. torch's defaults differ
    (lr 0.01, alpha 0.99, eps 1e-8). Keras 3 puts epsilon inside the root,
    sqrt(accumulator + epsilon), so it matches this rule exactly only for epsilon = 0.
    """
    accumulator = rho * accumulator + (1 - rho) * grad ** 2
    param = param - lr * grad / (np.sqrt(accumulator) + epsilon)
    return RMSpropStep(param, accumulator)


class RMSprop(Optimizer):
    """RMSprop(lr=0.001, rho=0.9, epsilon=1e-7, decay=0.0), Keras 2's arguments and defaults.

    lr (or learning_rate) >= 0. rho in [0, 1): how much of the old average is kept each step.
    epsilon >= 0: keeps the division finite. decay >= 0: rate lr / (1 + decay * iterations).

    State: ``accumulators``, one array per weight: the running average of grad**2.

    The update rule, its conventions and a worked example: see ``rmsprop_step``, which returns
    new arrays; ``update_step`` makes the same update in place.
    """

    state_names = ("accumulators",)
    _hyperparameters = ("lr", "rho", "epsilon", "decay")

    def __init__(self, lr=_Default(0.001), rho=0.9, epsilon=1e-7, decay=0.0, learning_rate=None):
        super().__init__(lr, decay, learning_rate)
        self.rho = check_number("RMSprop", "rho", rho, high=1.0, default=0.9)
        self.epsilon = check_number("RMSprop", "epsilon", epsilon, default=1e-7)

    def update_step(self, gradient, variable, learning_rate):
        """a <- rho a + (1 - rho) g^2; w <- w - lr g / (sqrt(a) + eps). In place."""
        accumulator = self.accumulators[self._get_variable_index(variable)]
        accumulator *= self.rho
        accumulator += (1 - self.rho) * gradient ** 2
        variable -= learning_rate * gradient / (np.sqrt(accumulator) + self.epsilon)
