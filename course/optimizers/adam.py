"""Adam: momentum on the gradient, RMSprop-style scaling, and a correction for the zero start."""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .base import Optimizer, _Default, check_bool, check_number

__all__ = ["AdamStep", "adam_step", "Adam"]


class AdamStep(NamedTuple):
    """What ``adam_step`` returns: the new weight, moments and (AMSGrad only) vhat."""

    param: np.ndarray
    m: np.ndarray
    v: np.ndarray
    vhat: np.ndarray | None = None


def adam_step(param, grad, m, v, t, lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
              vhat=None) -> AdamStep:
    """One Adam update at step t (t = 1 first); returns new arrays, changes no argument.

        m     <- beta_1 * m + (1 - beta_1) * grad           running mean of the gradient
        v     <- beta_2 * v + (1 - beta_2) * grad**2        running mean of its square
        lr_t  =  lr * sqrt(1 - beta_2**t) / (1 - beta_1**t) corrects for m, v starting at 0
        param <- param - lr_t * m / (sqrt(v) + epsilon)

    AMSGrad (pass the array ``vhat``, zeros at the start): vhat <- max(vhat, v) and vhat
    replaces v in the last line, so a weight's step can never grow because v shrank.

    param, grad, m, v (and vhat): arrays of the same shape; m and v start at zeros.
    lr: the learning rate of this step (the Adam object passes lr / (1 + decay * iterations)).
    Defaults (Keras 2 and 3): lr 0.001, beta_1 0.9, beta_2 0.999, epsilon 1e-7.

    Worked example: on the first step m = 0.1 g, v = 0.001 g**2 and lr_t = lr * 0.031623 / 0.1,
    so the weight moves by lr * g / (|g| + epsilon / 0.031623): lr = 0.001, whatever g is.

    >>> step = adam_step(np.array([1.0]), np.array([-20.0]), np.zeros(1), np.zeros(1), t=1)
    >>> step.m, step.v, np.round(step.param - 1.0, 9)
    (array([-2.]), array([0.4]), array([0.001]))

    Conventions. t counts from 1. Keras's epsilon is "epsilon hat" of the paper, added to
    sqrt(v) before the bias correction of v. torch.optim.Adam adds eps after it:
    param -= lr / (1 - beta_1**t) * m / (sqrt(v) / sqrt(1 - beta_2**t) + eps), which is the same
    for eps = 0, or with torch's eps set to epsilon / sqrt(1 - beta_2**t) at step t. torch's
    default eps is 1e-8. Keras 3 computes the same rule as Keras 2 (no ``decay`` argument).
    """
    lr_t = lr * (math.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t))
    m = beta_1 * m + (1 - beta_1) * grad
    v = beta_2 * v + (1 - beta_2) * grad ** 2
    if vhat is not None:
        vhat = np.maximum(vhat, v)
        param = param - lr_t * m / (np.sqrt(vhat) + epsilon)
    else:
        param = param - lr_t * m / (np.sqrt(v) + epsilon)
    return AdamStep(param, m, v, vhat)


class Adam(Optimizer):
    """Adam(lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, decay=0.0, amsgrad=False).

    Keras 2's arguments and defaults. lr (or learning_rate) >= 0. beta_1, beta_2 in [0, 1):
    how much of the old averages is kept each step. epsilon >= 0. decay >= 0: rate
    lr / (1 + decay * iterations). amsgrad: True or False.

    State: ``m`` (running mean of the gradients) and ``v`` (of their squares), one array per
    weight each, and ``vhat`` (the running maximum of v) when amsgrad is True.

    The update rule, its conventions and a worked example: see ``adam_step``, which returns
    new arrays; ``update_step`` makes the same update in place.
    """

    _hyperparameters = ("lr", "beta_1", "beta_2", "epsilon", "decay", "amsgrad")

    def __init__(self, lr=_Default(0.001), beta_1=0.9, beta_2=0.999, epsilon=1e-7, decay=0.0,
                 amsgrad=False, learning_rate=None):
        super().__init__(lr, decay, learning_rate)
        self.beta_1 = check_number("Adam", "beta_1", beta_1, high=1.0, default=0.9)
        self.beta_2 = check_number("Adam", "beta_2", beta_2, high=1.0, default=0.999)
        self.epsilon = check_number("Adam", "epsilon", epsilon, default=1e-7)
        self.amsgrad = check_bool("Adam", "amsgrad", amsgrad)

    @property
    def state_names(self) -> tuple[str, ...]:
        return ("m", "v", "vhat") if self.amsgrad else ("m", "v")

    def update_step(self, gradient, variable, learning_rate):
        """m <- b1 m + (1 - b1) g; v <- b2 v + (1 - b2) g^2; w <- w - lr_t m / (sqrt(v) + eps).
        In place; AMSGrad divides by sqrt(vhat), vhat = max(vhat, v)."""
        i, t = self._get_variable_index(variable), self.iterations + 1
        m, v = self.m[i], self.v[i]
        lr_t = learning_rate * (math.sqrt(1 - self.beta_2 ** t) / (1 - self.beta_1 ** t))
        m *= self.beta_1
        m += (1 - self.beta_1) * gradient
        v *= self.beta_2
        v += (1 - self.beta_2) * gradient ** 2
        if self.amsgrad:
            v = np.maximum(self.vhat[i], v, out=self.vhat[i])
        variable -= lr_t * m / (np.sqrt(v) + self.epsilon)
