"""Small helpers shared by the whole course: seeding, one-hot labels, input checks.

Everything random in the course (initial weights, shuffling, toy data) draws from a NumPy
``Generator``. ``set_seed(n)`` resets the course-wide generator, so that

    >>> set_seed(0); a = Sequential([...]).fit(...)   # doctest: +SKIP
    >>> set_seed(0); b = Sequential([...]).fit(...)   # doctest: +SKIP

give identical weights and histories. Functions that take a ``seed=`` argument use their own
generator instead and leave the course-wide one untouched.
"""
from __future__ import annotations

import numbers

import numpy as np

__all__ = ["set_seed", "get_rng", "to_categorical", "check_finite", "check_positive_int"]

_rng = np.random.default_rng()


def set_seed(seed: int) -> None:
    """Reset the course-wide random generator, making every later random draw reproducible.

    Example: ``set_seed(42)`` before building and fitting a model gives the same initial
    weights, the same shuffles and therefore the same History every time.
    """
    global _rng
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"set_seed expects a non-negative integer, got {seed!r}.")
    _rng = np.random.default_rng(int(seed))


def get_rng(seed: int | np.random.Generator | None = None) -> np.random.Generator:
    """Return the generator to draw from: a new one for an int ``seed``, the given Generator,
    or (``seed=None``) the course-wide generator that ``set_seed`` controls."""
    if seed is None:
        return _rng
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be None, a non-negative integer or a numpy Generator, got {seed!r}.")
    return np.random.default_rng(int(seed))


def to_categorical(y, num_classes: int | None = None, dtype=np.float32) -> np.ndarray:
    """Turn integer class labels into one-hot rows.

    y: integer labels, shape (n,) (or (n, 1)); num_classes: K, default max(y) + 1.
    Returns an array of shape (n, K) with a single 1 per row.

    >>> to_categorical([0, 2, 1], num_classes=3)
    array([[1., 0., 0.],
           [0., 0., 1.],
           [0., 1., 0.]], dtype=float32)
    """
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(
            f"to_categorical expects integer labels of shape (n,), got shape {y.shape}. "
            "If your labels are already one-hot, use them as they are."
        )
    if y.size and not np.all(np.equal(np.mod(y, 1), 0)):
        raise ValueError("to_categorical expects integer class labels, got non-integer values.")
    y = y.astype(np.int64)
    if y.size and y.min() < 0:
        raise ValueError(f"to_categorical expects labels >= 0, got {y.min()}.")
    if num_classes is None:
        num_classes = int(y.max()) + 1 if y.size else 0
    elif y.size and y.max() >= num_classes:
        raise ValueError(
            f"label {int(y.max())} does not fit num_classes={num_classes}: labels must be in 0..{num_classes - 1}."
        )
    out = np.zeros((y.shape[0], num_classes), dtype=dtype)
    out[np.arange(y.shape[0]), y] = 1
    return out


def check_finite(name: str, array: np.ndarray) -> None:
    """Raise ValueError if ``array`` holds NaN or infinite values, saying where the first one is."""
    if array.dtype.kind in "fc" and not np.isfinite(array).all():
        bad = np.argwhere(~np.isfinite(array))[0]
        raise ValueError(
            f"{name} contains NaN or infinite values (first at index {tuple(int(i) for i in bad)}, "
            f"value {array[tuple(bad)]}). Clean or rescale the data before training."
        )


def check_positive_int(name: str, value, allow_zero: bool = False) -> int:
    """Return ``value`` as an int, or raise ValueError if it is not a positive integer."""
    low = 0 if allow_zero else 1
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        kind = "a non-negative" if allow_zero else "a positive"
        raise ValueError(f"{name} must be {kind} integer, got {value!r}.")
    return int(value)
