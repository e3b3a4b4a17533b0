"""Small helpers shared by the whole course: seeding, one-hot labels, input checks.

Everything random in the course (initial weights, shuffling, toy data) draws from a NumPy
``Generator``. ``set_seed(n)`` resets the course-wide generator, so that

    >>> set_seed(0); a = Sequential([...]).fit(...)   # doctest: +SKIP
    >>> set_seed(0); b = Sequential([...]).fit(...)   # doctest: +SKIP

give identical weights and histories. Functions that take a ``seed=`` argument use their own
generator instead and leave the course-wide one untouched.
"""
from __future__ import annotations

import math
import numbers
import os
import sys
import warnings
from typing import NamedTuple

import numpy as np

__all__ = ["set_seed", "get_rng", "to_categorical", "check_finite", "check_int", "check_real",
           "check_bool", "check_choice", "ArgumentTypeError", "check_type", "check_batch_size", "warn_outside_course"]

_rng = np.random.default_rng()


class SelfCheck(NamedTuple):
    """What a lesson's self-check returns: passed or not, and what to look at.

    Shown in Jupyter as one line of Markdown that starts with ✔ or ✘ (both in DejaVu Sans, so no
    emoji font is needed); ``repr`` is the message alone.
    """

    passed: bool
    message: str

    def __repr__(self) -> str:
        return self.message

    def _repr_markdown_(self) -> str:
        return ("✔ " if self.passed else "✘ ") + self.message


def set_seed(seed: int) -> None:
    """Reset the course-wide random generator, making every later random draw reproducible.

    Example: ``set_seed(42)`` before building and fitting a model gives the same initial
    weights, the same shuffles and therefore the same History every time.
    """
    global _rng
    _rng = np.random.default_rng(check_int("seed", seed, low=0, example=0))


def get_rng(seed: int | np.random.Generator | None = None) -> np.random.Generator:
    """Return the generator to draw from: a new one for an int ``seed``, the given Generator,
    or (``seed=None``) the course-wide generator that ``set_seed`` controls."""
    if seed is None:
        return _rng
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(check_int("seed", seed, low=0, example=0))


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


# -- argument checks ---------------------------------------------------------------------------
# One set for the whole course. Each returns the value in its plain Python type, or raises an
# error that names the argument, what was expected and what was given (and changes nothing).

class ArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong type (a string where a number belongs, ...).

    It is a TypeError, and also a ValueError, so that ``except ValueError`` catches every bad
    argument value alike.
    """


def _given(value) -> str:
    return f"{value!r} ({type(value).__name__})"


def _example(name: str, example) -> str:
    return f" Pass e.g. {name}={example!r}." if example is not None else ""


def check_int(name: str, value, low: int | None = None, high: int | None = None, example=None) -> int:
    """Return ``value`` as an int if it is an integer in [low, high] (None: no limit).

    Anything else, True/False and 3.0 included, is a ValueError:

    >>> check_int("epochs", 5, low=0)
    5
    >>> check_int("batch_size", 0, low=1)
    Traceback (most recent call last):
    ...
    ValueError: batch_size must be an integer >= 1, got 0 (int).
    """
    is_int = not isinstance(value, (bool, np.bool_)) and isinstance(value, numbers.Integral)
    if not is_int or (low is not None and value < low) or (high is not None and value > high):
        if low is not None and high is not None:
            expected = f"an integer from {low} to {high}"
        elif low is not None:
            expected = f"an integer >= {low}"
        elif high is not None:
            expected = f"an integer <= {high}"
        else:
            expected = "an integer"
        error = ValueError if is_int else ArgumentTypeError
        raise error(f"{name} must be {expected}, got {_given(value)}.{_example(name, example)}")
    return int(value)


def check_real(name: str, value, low: float | None = None, high: float | None = None,
               low_open: bool = False, high_open: bool = False, example=None, owner: str = "") -> float:
    """Return ``value`` as a float if it is a finite number in the range given.

    low, high: the limits (None: none); low_open/high_open: the limit itself is excluded.
    Something that is not a number (a string, None, True/False) is an ArgumentTypeError; NaN,
    infinity or a number out of range is a ValueError. ``owner`` prefixes the message
    ('SGD: lr must be ...').

    >>> check_real("validation_split", 0.2, low=0.0, high=1.0, high_open=True)
    0.2
    >>> check_real("validation_split", 1.5, low=0.0, high=1.0, high_open=True)
    Traceback (most recent call last):
    ...
    ValueError: validation_split must be a finite number in [0, 1), got 1.5 (float).
    """
    if low is not None and high is not None:
        allowed = f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    elif low is not None:
        allowed = f"{'>' if low_open else '>='} {low:g}"
    elif high is not None:
        allowed = f"{'<' if high_open else '<='} {high:g}"
    else:
        allowed = ""
    prefix = f"{owner}: " if owner else ""
    expected = f"{prefix}{name} must be a finite number{' ' + allowed if allowed else ''}"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ArgumentTypeError(f"{expected}, got {_given(value)}.{_example(name, example)}")
    ok = math.isfinite(value) \
        and (low is None or (value > low if low_open else value >= low)) \
        and (high is None or (value < high if high_open else value <= high))
    if not ok:
        raise ValueError(f"{expected}, got {_given(value)}.{_example(name, example)}")
    return float(value)


def check_bool(name: str, value, owner: str = "") -> bool:
    """Return ``value`` if it is True or False; anything else (1, 0, 'yes', None) is an ArgumentTypeError."""
    if not isinstance(value, (bool, np.bool_)):
        prefix = f"{owner}: " if owner else ""
        raise ArgumentTypeError(f"{prefix}{name} must be True or False, got {_given(value)}.")
    return bool(value)


def check_choice(name: str, value, choices):
    """Return ``value`` if it is one of ``choices``, else a ValueError listing them."""
    if isinstance(value, bool) or value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {listed}, got {_given(value)}.")
    return value


def check_type(name: str, value, cls, expected: str):
    """Return ``value`` if it is an instance of ``cls``; else an ArgumentTypeError saying ``expected``."""
    if not isinstance(value, cls):
        raise ArgumentTypeError(f"{name} must be {expected}, got {_given(value)}.")
    return value


def check_batch_size(batch_size) -> int:
    """fit/evaluate/predict's batch_size: None means 32 (Keras's default); 0 is refused."""
    return 32 if batch_size is None else check_int("batch_size", batch_size, low=1, example=32)


# -- warnings ------------------------------------------------------------------------------------
_COURSE_DIR = os.path.dirname(os.path.abspath(__file__))


def warn_outside_course(message: str, category=UserWarning) -> None:
    """``warnings.warn`` pointing at the first line outside the course library: the learner's."""
    frame, level = sys._getframe(0), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_COURSE_DIR + os.sep):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
