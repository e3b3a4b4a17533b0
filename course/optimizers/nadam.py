"""Nadam: Adam with Nesterov momentum and a slowly warming momentum schedule (Keras 2)."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .base import Optimizer, _Default, check_number

__all__ = ["NadamStep", "nadam_momentum", "nadam_step", "Nadam"]


class NadamStep(NamedTuple):
    """What ``nadam_step`` returns: the new weight, moments and momentum product."""

    param: np.ndarray
    m: np.ndarray
    v: np.ndarray
    m_schedule: float


def nadam_momentum(t, beta_1=0.9, schedule_decay=0.004) -> float:
    """The momentum of step t: mu_t = beta_1 * (1 - 0.5 * 0.96 ** (t * schedule_decay)).

    It starts near beta_1 / 2 (0.45007 at t = 1) and creeps up towards beta_1.
    """
    return beta_1 * (1 - 0.5 * 0.96 ** (t * schedule_decay))


def nadam_step(param, grad, m, v, t, m_schedule=1.0, lr=0.002, beta_1=0.9, beta_2=0.999,
               epsilon=1e-7, schedule_decay=0.004) -> NadamStep:
    """One Nadam update at step t (t = 1 first); returns new arrays, changes no argument.

        mu_t, mu_next = nadam_momentum(t), nadam_momentum(t + 1)
        m_schedule    <- m_schedule * mu_t                 product mu_1 * ... * mu_t (starts at 1)
        g_hat = grad / (1 - m_schedule)
        m     <- beta_1 * m + (1 - beta_1) * grad
        m_hat = m / (1 - m_schedule * mu_next)
        v     <- beta_2 * v + (1 - beta_2) * grad**2
        v_hat = v / (1 - beta_2**t)
        m_bar = (1 - mu_t) * g_hat + mu_next * m_hat       Nesterov: look one momentum step ahead
        param <- param - lr * m_bar / (sqrt(v_hat) + epsilon)

    param, grad, m, v: arrays of the same shape, m and v start at zeros. m_schedule: a float,
    the product of the momenta of the earlier steps (1.0 before the first step), shared by all
    the weights. Defaults (Keras 2): lr 0.002, beta_1 0.9, beta_2 0.999, epsilon 1e-7,
    schedule_decay 0.004.

    Worked example: on the first step mu_1 = 0.450073, mu_2 = 0.450147, g_hat = 1.81842 g,
    m_hat = 0.1 g / (1 - 0.202599) = 0.125407 g, v_hat = g**2, so
    m_bar = 0.549927 * 1.81842 g + 0.450147 * 0.125407 g = 1.056452 g and the weight moves by
    lr * 1.056452 = 0.0021129 (for |g| much larger than epsilon):

    >>> step = nadam_step(np.array([1.0]), np.array([1.0]), np.zeros(1), np.zeros(1), t=1)
    >>> np.round(1.0 - step.param, 7), round(step.m_schedule, 6)
    (array([0.0021129]), 0.450073)

    Conventions. t counts from 1. torch.optim.NAdam(momentum_decay=schedule_decay) computes the
    same rule (epsilon after the bias correction of v in both). Keras 3's Nadam fixes the
    schedule exponent to t (0.96 ** t, i.e. torch's momentum_decay=1) and defaults to lr 0.001.
    Keras 2's Nadam has no ``decay`` argument: schedule_decay shapes the momentum, not lr.
    """
    mu_t = nadam_momentum(t, beta_1, schedule_decay)
    mu_next = nadam_momentum(t + 1, beta_1, schedule_decay)
    m_schedule = m_schedule * mu_t
    m_schedule_next = m_schedule * mu_next
    g_hat = grad / (1 - m_schedule)
    m = beta_1 * m + (1 - beta_1) * grad
    m_hat = m / (1 - m_schedule_next)
    v = beta_2 * v + (1 - beta_2) * grad ** 2
    v_hat = v / (1 - beta_2 ** t)
    m_bar = (1 - mu_t) * g_hat + mu_next * m_hat
    param = param - lr * m_bar / (np.sqrt(v_hat) + epsilon)
    return NadamStep(param, m, v, m_schedule)


class Nadam(Optimizer):
    """Nadam(lr=0.002, beta_1=0.9, beta_2=0.999, epsilon=1e-7, schedule_decay=0.004).

    Keras 2's arguments and defaults. lr (or learning_rate) >= 0. beta_1, beta_2 in [0, 1).
    epsilon >= 0. schedule_decay >= 0: how fast the momentum warms up from beta_1 / 2 to
    beta_1. There is no ``decay`` (``opt.decay`` is 0, so current_lr is lr).

    State: ``m`` (running mean of the gradients) and ``v`` (of their squares), one array per
    weight each, and ``m_schedule``, the float product of the momenta so far (1.0 at the start).

    The update rule, its conventions and a worked example: see ``nadam_step``, which returns
    new arrays; ``update_step`` makes the same update in place.
    """

    state_names = ("m", "v")
    _hyperparameters = ("lr", "beta_1", "beta_2", "epsilon", "schedule_decay")

    def __init__(self, lr=_Default(0.002), beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 schedule_decay=0.004, learning_rate=None):
        super().__init__(lr, 0.0, learning_rate)
        self.beta_1 = check_number("Nadam", "beta_1", beta_1, high=1.0, default=0.9)
        self.beta_2 = check_number("Nadam", "beta_2", beta_2, high=1.0, default=0.999)
        self.epsilon = check_number("Nadam", "epsilon", epsilon, default=1e-7)
        self.schedule_decay = check_number("Nadam", "schedule_decay", schedule_decay, default=0.004)
        self.m_schedule = 1.0

    def build(self, params) -> None:
        super().build(params)
        self.m_schedule = 1.0

    def _start_step(self):
        """The momentum schedule of this step, the same for every weight: computed once."""
        t = self.iterations + 1
        mu_t = nadam_momentum(t, self.beta_1, self.schedule_decay)
        mu_next = nadam_momentum(t + 1, self.beta_1, self.schedule_decay)
        self.m_schedule = self.m_schedule * mu_t
        self._schedule = (mu_t, mu_next, self.m_schedule * mu_next)

    def update_step(self, gradient, variable, learning_rate):
        """Adam's m and v, with Nesterov's look-ahead: w <- w - lr m_bar / (sqrt(v_hat) + eps),
        m_bar = (1 - mu_t) g_hat + mu_next m_hat (see ``nadam_step``). In place."""
        i, t = self._get_variable_index(variable), self.iterations + 1
        m, v = self.m[i], self.v[i]
        mu_t, mu_next, m_schedule_next = self._schedule
        g_hat = gradient / (1 - self.m_schedule)
        m *= self.beta_1
        m += (1 - self.beta_1) * gradient
        m_hat = m / (1 - m_schedule_next)
        v *= self.beta_2
        v += (1 - self.beta_2) * gradient ** 2
        v_hat = v / (1 - self.beta_2 ** t)
        m_bar = (1 - mu_t) * g_hat + mu_next * m_hat
        variable -= learning_rate * m_bar / (np.sqrt(v_hat) + self.epsilon)
