"""The compiled kernels behind ``fused.py`` (imported only when numba is installed).

Each loop body is the in-place NumPy update of the same optimizer, one weight at a time, with
its operations in the same order: ``a *= b; a += c`` there is ``a * b + c`` here. The arrays
are flat views; every scalar arrives already converted to the arrays' dtype, as NumPy converts
a Python float in ``array * 0.9``. No fastmath: each operation is rounded as NumPy rounds it.
"""
from __future__ import annotations

import numpy as np
from numba import njit

# error_model="numpy": a division by zero gives inf or nan, as in NumPy, and the loops vectorise
_jit = njit(cache=False, nogil=True, error_model="numpy")


@_jit
def sgd_plain(param, grad, velocity, minus_lr):
    for i in range(param.size):
        step = grad[i] * minus_lr
        velocity[i] = step
        param[i] = param[i] + step


@_jit
def sgd_momentum(param, grad, velocity, lr, momentum):
    for i in range(param.size):
        vel = velocity[i] * momentum - grad[i] * lr
        velocity[i] = vel
        param[i] = param[i] + vel


@_jit
def sgd_nesterov(param, grad, velocity, lr, momentum):
    for i in range(param.size):
        lr_grad = grad[i] * lr
        vel = velocity[i] * momentum - lr_grad
        velocity[i] = vel
        param[i] = (param[i] + vel * momentum) - lr_grad


@_jit
def rmsprop(param, grad, accumulator, lr, rho, one_minus_rho, epsilon):
    for i in range(param.size):
        g = grad[i]
        acc = accumulator[i] * rho + (g * g) * one_minus_rho
        accumulator[i] = acc
        param[i] = param[i] - (g * lr) / (np.sqrt(acc) + epsilon)


@_jit
def adagrad(param, grad, accumulator, lr, epsilon):
    for i in range(param.size):
        g = grad[i]
        acc = accumulator[i] + g * g
        accumulator[i] = acc
        param[i] = param[i] - (g * lr) / (np.sqrt(acc) + epsilon)


@_jit
def adadelta(param, grad, accumulator, delta_accumulator, lr, rho, one_minus_rho, epsilon):
    for i in range(param.size):
        g = grad[i]
        acc = accumulator[i] * rho + (g * g) * one_minus_rho
        accumulator[i] = acc
        update = np.sqrt((delta_accumulator[i] + epsilon) / (acc + epsilon)) * g
        param[i] = param[i] - update * lr
        delta_accumulator[i] = delta_accumulator[i] * rho + (update * update) * one_minus_rho


@_jit
def adam(param, grad, m, v, lr_t, beta_1, one_minus_beta_1, beta_2, one_minus_beta_2, epsilon):
    for i in range(param.size):
        g = grad[i]
        mi = m[i] * beta_1 + g * one_minus_beta_1
        vi = v[i] * beta_2 + (g * g) * one_minus_beta_2
        m[i] = mi
        v[i] = vi
        param[i] = param[i] - (mi * lr_t) / (np.sqrt(vi) + epsilon)


@_jit
def _maximum(a, b):
    """np.maximum of two numbers: nan if either is nan."""
    if a != a:
        return a
    if b != b or b > a:
        return b
    return a


@_jit
def adam_amsgrad(param, grad, m, v, vhat, lr_t, beta_1, one_minus_beta_1, beta_2,
                 one_minus_beta_2, epsilon):
    for i in range(param.size):
        g = grad[i]
        mi = m[i] * beta_1 + g * one_minus_beta_1
        vi = v[i] * beta_2 + (g * g) * one_minus_beta_2
        vh = _maximum(vhat[i], vi)
        m[i] = mi
        v[i] = vi
        vhat[i] = vh
        param[i] = param[i] - (mi * lr_t) / (np.sqrt(vh) + epsilon)


@_jit
def adamax(param, grad, m, u, lr_t, beta_1, one_minus_beta_1, beta_2, epsilon):
    for i in range(param.size):
        g = grad[i]
        mi = m[i] * beta_1 + g * one_minus_beta_1
        ui = _maximum(u[i] * beta_2, np.abs(g))
        m[i] = mi
        u[i] = ui
        param[i] = param[i] - (mi * lr_t) / (ui + epsilon)


@_jit
def nadam(param, grad, m, v, lr_root, beta_1, one_minus_beta_1, beta_2, one_minus_beta_2,
          epsilon_root, c_grad, c_m):
    for i in range(param.size):
        g = grad[i]
        mi = m[i] * beta_1 + g * one_minus_beta_1
        vi = v[i] * beta_2 + (g * g) * one_minus_beta_2
        m[i] = mi
        v[i] = vi
        m_bar = g * c_grad + mi * c_m
        param[i] = param[i] - (m_bar * lr_root) / (np.sqrt(vi) + epsilon_root)
