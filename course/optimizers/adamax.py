"""Adamax: Adam with the root-mean-square replaced by a running maximum of |gradient|."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .base import Optimizer, _Default, check_number

__all__ = ["AdamaxStep", "adamax_step", "Adamax"]


class AdamaxStep(NamedTuple):
    """What ``adamax_step`` returns: the new weight, first moment and running maximum."""

    param: np.ndarray
    m: np.ndarray
    u: np.ndarray


def adamax_step(param, grad, m, u, t, lr=0.002, beta_1=0.9, beta_2=0.999, epsilon=1e-7) -> AdamaxStep:
    """One Adamax update at step t (t = 1 first); returns new arrays, changes no argument.

        m     <- beta_1 * m + (1 - beta_1) * grad
        u     <- max(beta_2 * u, |grad|)                 decaying maximum of the gradient's size
        lr_t  =  lr / (1 - beta_1**t)                    corrects for m starting at 0
        param <- param - lr_t * m / (u + epsilon)

    param, grad, m, u: arrays of the same shape; m and u start at zeros.
    lr: the learning rate of this step (the Adamax object passes lr / (1 + decay * iterations)).
    Defaults (Keras 2): lr 0.002, beta_1 0.9, beta_2 0.999, epsilon 1e-7.

    Worked example: on the first step m = 0.1 g, u = |g|, lr_t = lr / 0.1, so the weight moves
    by lr * g / (|g| + epsilon): lr = 0.002 for any gradient much larger than epsilon.

    >>> step = adamax_step(np.array([1.0]), np.array([4.0]), np.zeros(1), np.zeros(1), t=1, epsilon=0.0)
    >>> step.m, step.u, np.round(1.0 - step.param, 12)
    (array([0.4]), array([4.]), array([0.002]))

    Conventions. t counts from 1. Keras adds epsilon to u in the division; torch.optim.Adamax
    adds it inside the maximum, u <- max(beta_2 * u, |grad| + eps), so the two agree only for
    eps = 0. torch's default eps is 1e-8. Keras 3's default lr is 0.001.
    """
    lr_t = lr / (1 - beta_1 ** t)
    m = beta_1 * m + (1 - beta_1) * grad
    u = np.maximum(beta_2 * u, np.abs(grad))
    param = param - lr_t * m / (u + epsilon)
    return AdamaxStep(param, m, u)


class Adamax(Optimizer):
    """Adamax(lr=0.002, beta_1=0.9, beta_2=0.999, epsilon=1e-7, decay=0.0), Keras 2's defaults.

    lr (or learning_rate) >= 0. beta_1, beta_2 in [0, 1). epsilon >= 0. decay >= 0: rate
    lr / (1 + decay * iterations).

    State: ``m`` (running mean of the gradients) and ``u`` (decaying maximum of |gradient|),
    one array per weight each.

    The update rule, its conventions and a worked example: see ``adamax_step``, which returns
    new arrays; ``update_step`` makes the same update in place.
    """

    state_names = ("m", "u")
    _hyperparameters = ("lr", "beta_1", "beta_2", "epsilon", "decay")

    def __init__(self, lr=_Default(0.002), beta_1=0.9, beta_2=0.999, epsilon=1e-7, decay=0.0,
                 learning_rate=None):
        super().__init__(lr, decay, learning_rate)
        self.beta_1 = check_number("Adamax", "beta_1", beta_1, high=1.0, default=0.9)
        self.beta_2 = check_number("Adamax", "beta_2", beta_2, high=1.0, default=0.999)
        self.epsilon = check_number("Adamax", "epsilon", epsilon, default=1e-7)

    def update_step(self, gradient, variable, learning_rate):
        """m <- b1 m + (1 - b1) g; u <- max(b2 u, |g|); w <- w - lr / (1 - b1^t) m / (u + eps).
        In place."""
        i, t = self._get_variable_index(variable), self.iterations + 1
        m, u = self.m[i], self.u[i]
        lr_t = learning_rate / (1 - self.beta_1 ** t)
        m *= self.beta_1
        m += (1 - self.beta_1) * gradient
        np.maximum(self.beta_2 * u, np.abs(gradient), out=u)
        variable -= lr_t * m / (u + self.epsilon)
