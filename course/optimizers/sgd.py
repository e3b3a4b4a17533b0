"""Stochastic gradient descent, with optional momentum and Nesterov momentum (Keras 2's SGD)."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .base import Optimizer, _Default, check_bool, check_number

__all__ = ["SGDStep", "sgd_step", "SGD"]


class SGDStep(NamedTuple):
    """What ``sgd_step`` returns: the new weight and the new velocity."""

    param: np.ndarray
    velocity: np.ndarray


def sgd_step(param, grad, velocity, lr=0.01, momentum=0.0, nesterov=False) -> SGDStep:
    """One SGD update; returns new arrays and leaves the arguments unchanged.

        velocity <- momentum * velocity - lr * grad
        param    <- param + velocity                               (nesterov=False)
        param    <- param + (momentum * velocity - lr * grad)      (nesterov=True, new velocity)

    Without momentum this is plain gradient descent: param <- param - lr * grad (the velocity
    returned is then the step, -lr * grad).

    param, grad, velocity: arrays of the same shape (velocity starts at zeros).
    lr: the learning rate of this step (the SGD object passes lr / (1 + decay * iterations)).

    Worked example (the book's): a weight 1.0 with gradient 1.5 and lr 0.01 moves by
    0.01 * 1.5 = 0.015 to 0.985. With momentum 0.9 a second identical gradient moves it by
    0.9 * 0.015 + 0.015 = 0.0285:

    >>> step = sgd_step(np.array([1.0]), np.array([1.5]), np.zeros(1), lr=0.01, momentum=0.9)
    >>> step.param, step.velocity
    (array([0.985]), array([-0.015]))
    >>> sgd_step(step.param, np.array([1.5]), step.velocity, lr=0.01, momentum=0.9).velocity
    array([-0.0285])

    Conventions. Keras 2 keeps the learning rate inside the velocity (v = mu*v - eta*g);
    torch.optim.SGD keeps a buffer without it (b = mu*b + g, starting at b = g) and multiplies
    by eta afterwards (p -= eta*b). The two give the same weights while eta is constant; they
    differ once the learning rate changes (decay, schedules), because Keras's velocity
    remembers the old rates. torch's Nesterov variant is p -= eta*(g + mu*b). Keras 3 uses
    Keras 2's rule but has no ``decay`` argument (it takes a schedule object instead).
    """
    velocity = momentum * velocity - lr * grad
    if nesterov:
        param = param + (momentum * velocity - lr * grad)
    else:
        param = param + velocity
    return SGDStep(param, velocity)


class SGD(Optimizer):
    """Stochastic gradient descent: SGD(lr=0.01, momentum=0.0, decay=0.0, nesterov=False).

    lr (or learning_rate): learning rate eta >= 0. momentum: mu >= 0 (0.9 is common).
    decay >= 0: the rate at update k (k = 0, 1, ...) is lr / (1 + decay * k).
    nesterov: True or False, look ahead along the velocity (Nesterov momentum).

    State: with momentum, ``velocities``, one array per weight (zeros at the start); plain SGD
    (momentum 0) keeps none.

    The update rule, its conventions and a worked example: see ``sgd_step``, which returns new
    arrays; ``update_step`` makes the same update in place.

    >>> opt = SGD(lr=0.01)
    >>> w = np.array([1.0])
    >>> opt.apply_gradients([w], [np.array([1.5])])
    >>> w
    array([0.985])
    """

    _hyperparameters = ("lr", "momentum", "decay", "nesterov")

    def __init__(self, lr=_Default(0.01), momentum=0.0, decay=0.0, nesterov=False, learning_rate=None):
        super().__init__(lr, decay, learning_rate)
        self.momentum = check_number("SGD", "momentum", momentum, default=0.0)
        self.nesterov = check_bool("SGD", "nesterov", nesterov)

    @property
    def state_names(self) -> tuple[str, ...]:
        return ("velocities",) if self.momentum else ()

    def update_step(self, gradient, variable, learning_rate):
        """w <- w - eta g; with momentum mu: v <- mu v - eta g, then w <- w + v
        (Nesterov: w <- w + (mu v - eta g)). In place."""
        if not self.momentum:
            variable -= learning_rate * gradient
            return
        velocity = self.velocities[self._get_variable_index(variable)]
        velocity *= self.momentum
        velocity -= learning_rate * gradient
        if self.nesterov:
            variable += self.momentum * velocity - learning_rate * gradient
        else:
            variable += velocity
