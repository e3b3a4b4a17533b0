"""Weight initialisers: where the learning starts.

Every initialiser is a function ``init(shape, seed=None, dtype=np.float32) -> array``.
``seed=None`` draws from the course-wide generator (see ``course.utils.set_seed``); an int gives
a reproducible array on its own.

The "fans" of a kernel of shape (fan_in, fan_out) are its inputs and its units. The variance
scaling rules pick the spread of the initial weights from them, so that the signal neither
shrinks nor grows as it passes through the layers:

    glorot (Xavier):  Var(w) = 2 / (fan_in + fan_out)   suits tanh, sigmoid, softmax
    he:               Var(w) = 2 / fan_in               suits relu
    lecun:            Var(w) = 1 / fan_in

A uniform U(-a, a) has variance a^2 / 3, so glorot_uniform uses a = sqrt(6 / (fan_in + fan_out)).
The "normal" variants draw from a normal truncated at two standard deviations, with the
standard deviation divided by 0.87962566 so the variance still matches (as Keras does).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .utils import get_rng

__all__ = [
    "zeros", "ones", "random_normal", "random_uniform", "glorot_uniform", "glorot_normal",
    "he_uniform", "he_normal", "lecun_normal", "compute_fans", "get", "NAMES",
]

_TRUNCATED_STD = 0.87962566103423978  # std of a unit normal truncated to [-2, 2]


def compute_fans(shape: tuple) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight array: a kernel (in, out) gives (in, out); a bias (n,) gives (n, n)."""
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    return shape[-2] * receptive, shape[-1] * receptive


def zeros(shape, seed=None, dtype=np.float32) -> np.ndarray:
    """All weights 0. Fine for biases; for kernels every unit stays identical (no symmetry breaking)."""
    return np.zeros(shape, dtype=dtype)


def ones(shape, seed=None, dtype=np.float32) -> np.ndarray:
    """All weights 1."""
    return np.ones(shape, dtype=dtype)


def random_normal(shape, seed=None, dtype=np.float32, mean=0.0, stddev=0.05) -> np.ndarray:
    """Normal N(mean, stddev^2); Keras's defaults mean 0, stddev 0.05."""
    return get_rng(seed).normal(mean, stddev, size=shape).astype(dtype)


def random_uniform(shape, seed=None, dtype=np.float32, minval=-0.05, maxval=0.05) -> np.ndarray:
    """Uniform U(minval, maxval); Keras's defaults -0.05 and 0.05."""
    return get_rng(seed).uniform(minval, maxval, size=shape).astype(dtype)


def _truncated_normal(shape, stddev, rng) -> np.ndarray:
    """Normal(0, stddev^2) redrawn wherever |value| > 2 stddev."""
    values = rng.standard_normal(size=shape)
    bad = np.abs(values) > 2
    while bad.any():
        values[bad] = rng.standard_normal(size=int(bad.sum()))
        bad = np.abs(values) > 2
    return values * stddev


def _variance_scaling(shape, seed, dtype, scale, mode, distribution) -> np.ndarray:
    fan_in, fan_out = compute_fans(tuple(shape))
    n = {"fan_in": fan_in, "fan_avg": (fan_in + fan_out) / 2}[mode]
    variance = scale / max(1.0, n)
    rng = get_rng(seed)
    if distribution == "uniform":
        limit = np.sqrt(3.0 * variance)
        return rng.uniform(-limit, limit, size=shape).astype(dtype)
    return _truncated_normal(shape, np.sqrt(variance) / _TRUNCATED_STD, rng).astype(dtype)


def glorot_uniform(shape, seed=None, dtype=np.float32) -> np.ndarray:
    """U(-a, a) with a = sqrt(6 / (fan_in + fan_out)); the Keras default for Dense kernels.

    For the book's 784 -> 10 layer: a = sqrt(6 / 794) = 0.0869.
    """
    return _variance_scaling(shape, seed, dtype, 1.0, "fan_avg", "uniform")


def glorot_normal(shape, seed=None, dtype=np.float32) -> np.ndarray:
    """Truncated normal with Var(w) = 2 / (fan_in + fan_out)."""
    return _variance_scaling(shape, seed, dtype, 1.0, "fan_avg", "normal")


def he_uniform(shape, seed=None, dtype=np.float32) -> np.ndarray:
    """U(-a, a) with a = sqrt(6 / fan_in): Var(w) = 2 / fan_in, made for ReLU layers."""
    return _variance_scaling(shape, seed, dtype, 2.0, "fan_in", "uniform")


def he_normal(shape, seed=None, dtype=np.float32) -> np.ndarray:
    """Truncated normal with Var(w) = 2 / fan_in, made for ReLU layers."""
    return _variance_scaling(shape, seed, dtype, 2.0, "fan_in", "normal")


def lecun_normal(shape, seed=None, dtype=np.float32) -> np.ndarray:
    """Truncated normal with Var(w) = 1 / fan_in."""
    return _variance_scaling(shape, seed, dtype, 1.0, "fan_in", "normal")


_REGISTRY: dict[str, Callable] = {
    f.__name__: f
    for f in (zeros, ones, random_normal, random_uniform, glorot_uniform, glorot_normal,
              he_uniform, he_normal, lecun_normal)
}
NAMES = tuple(_REGISTRY)


def get(identifier) -> Callable:
    """Look up an initialiser by its Keras name; a callable ``f(shape, seed, dtype)`` is returned as is."""
    if isinstance(identifier, str):
        key = identifier.lower()
        if key in _REGISTRY:
            return _REGISTRY[key]
        raise ValueError(f"Unknown initializer {identifier!r}. Valid names: {', '.join(NAMES)}.")
    if callable(identifier):
        return identifier
    raise TypeError(
        f"initializer must be a name such as 'glorot_uniform' (one of {', '.join(NAMES)}) or a "
        f"function f(shape, seed, dtype), got {type(identifier).__name__}."
    )
