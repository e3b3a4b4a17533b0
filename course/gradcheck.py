"""Gradient checking: compare an analytic gradient with central finite differences.

    df/dx_i ~ (f(x + h e_i) - f(x - h e_i)) / (2h)          error O(h^2)

and report the relative error  max_i |a_i - n_i| / max(|a_i| + |n_i|, tiny).
In float64 with h = 1e-6 a correct gradient gives about 1e-8 or less; 1e-2 or more means a bug.
Checks run in float64: float32 rounding alone gives errors near 1e-3, or 1.0 when a step of h
is lost in rounding. ``check_model_gradients`` checks a float32 model on a float64 copy.
"""
from __future__ import annotations

import copy
from typing import Callable

import numpy as np

__all__ = ["numerical_gradient", "relative_error", "check_gradient", "check_model_gradients"]


def numerical_gradient(f: Callable[[], float], x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of the scalar ``f()`` with respect to the array ``x``.

    ``f`` takes no argument and reads ``x``, which is perturbed in place one entry at a time
    and restored exactly afterwards. This makes it usable on a layer's or a model's weights.
    """
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i].copy()
        x[i] = old + h
        plus = f()
        x[i] = old - h
        minus = f()
        x[i] = old
        grad[i] = (plus - minus) / (2 * h)
    return grad


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| / max(|a| + |b|) elementwise, 0 when both are 0."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"cannot compare gradients of shapes {a.shape} and {b.shape}.")
    denom = np.maximum(np.abs(a) + np.abs(b), 1e-12)
    return float(np.max(np.abs(a - b) / denom)) if a.size else 0.0


def check_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, analytic: np.ndarray,
                   h: float = 1e-6) -> float:
    """Relative error between ``analytic`` and the numerical gradient of ``f(x)`` at ``x``.

    >>> x = np.array([1.0, -2.0])
    >>> check_gradient(lambda v: float(np.sum(v ** 2)), x, 2 * x) < 1e-8
    True
    """
    x = np.array(x, dtype=np.float64)
    numeric = numerical_gradient(lambda: f(x), x, h)
    return relative_error(analytic, numeric)


def check_model_gradients(model, x, y, h: float = 1e-6) -> list[float]:
    """Relative error of every weight's gradient in a compiled model, one value per weight array.

    The check runs in float64: a model of another dtype is checked on a float64 copy of
    itself (same layers, same weights, same code), which it leaves unchanged.
    """
    if model.dtype != np.float64:
        model = _float64_copy(model)
    loss, grads = model.compute_gradients(x, y)
    x, y = model._check_data(x, y)

    def f():
        return model.loss.forward(y, model.forward(x))

    return [relative_error(g, numerical_gradient(f, w, h)) for w, g in zip(model.trainable_weights, grads)]


def _float64_copy(model):
    """A copy of ``model`` whose layers hold their weights in float64."""
    twin = copy.deepcopy(model)
    for layer in twin.layers:
        for name in ("kernel", "bias"):
            if getattr(layer, name, None) is not None:
                setattr(layer, name, getattr(layer, name).astype(np.float64))
        if hasattr(layer, "dtype"):
            layer.dtype = np.dtype(np.float64)
    return twin
