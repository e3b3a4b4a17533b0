"""Self-checks for the exercises: each one fails with a message a learner can act on.

A test cell of an exercise notebook calls these helpers. When a check fails it raises an
AssertionError whose message says what was called, what came back, what was expected and
what to try, for example

    sigmoid(-1000.0) returned nan, expected 0.0: np.exp overflowed; compute it from exp(-|x|).

instead of a bare ``AssertionError``. The autograder counts a test cell as passed when it runs
without an error, so the same message is what the learner reads in the feedback.

    call(label, func, *args, hint=...)           run the learner's function and return its result:
                                                 not written yet, a floating-point overflow or an
                                                 argument changed in place become clear messages
    check_close(label, actual, expected, hint)   same shape and values, up to rtol/atol
    check_shape(label, actual, shape, hint)      an array of that shape
    check_finite(label, actual, hint)            no nan, no inf
    check_no_mutation(label, func, *args)        func leaves its array arguments unchanged
    check_true(condition, message)               anything else, with your own message

Only NumPy is needed.
"""
from __future__ import annotations

import warnings
from typing import Any, Callable

import numpy as np

from course import check_feedback

check_feedback.install()  # in a notebook, a failed check shows its message, not a traceback

__all__ = ["call", "check_close", "check_shape", "check_finite", "check_no_mutation", "check_true",
           "check_type"]


def _with_hint(message: str, hint: str | None) -> str:
    return f"{message}: {hint}" if hint else f"{message}."


def _show(value: Any, limit: int = 120) -> str:
    """A short printable form of a value, for messages."""
    if isinstance(value, np.ndarray):
        with np.printoptions(precision=6, threshold=12, edgeitems=3, linewidth=limit):
            text = np.array2string(value, separator=", ")
    else:
        text = repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _describe(label: str, actual: np.ndarray, expected: np.ndarray, bad: np.ndarray) -> str:
    """'label returned a, expected b' for a scalar; the first bad index for an array."""
    if actual.ndim == 0:
        return f"{label} returned {_show(actual.item())}, expected {_show(expected.item())}"
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    return (f"{label} holds {_show(actual[index].item())} at index {index}, expected "
            f"{_show(expected[index].item())}")


def check_true(condition: Any, message: str) -> None:
    """Fail with ``message`` unless ``condition`` is true."""
    __tracebackhide__ = True  # IPython and pytest show the message, not this frame
    if not condition:
        raise AssertionError(message)


def check_type(label: str, actual: Any, expected_type: type | tuple, hint: str | None = None) -> None:
    """``actual`` is an instance of ``expected_type`` (a type or a tuple of types)."""
    __tracebackhide__ = True  # IPython and pytest show the message, not this frame
    if isinstance(actual, expected_type):
        return
    names = (" or ".join(t.__name__ for t in expected_type) if isinstance(expected_type, tuple)
             else expected_type.__name__)
    raise AssertionError(_with_hint(f"{label} returned {_show(actual)} of type "
                                    f"{type(actual).__name__}, expected {names}", hint))


def _as_array(label: str, actual: Any, hint: str | None) -> np.ndarray:
    __tracebackhide__ = True  # IPython and pytest show the message, not this frame
    if actual is None:
        raise AssertionError(_with_hint(f"{label} returned None, expected an array",
                                        hint or "does the function end with `return`?"))
    if isinstance(actual, tuple) and len(actual) > 1:
        raise AssertionError(_with_hint(f"{label} returned a tuple of {len(actual)} values, "
                                        f"expected one array", hint))
    try:
        array = np.asarray(actual)
    except Exception as error:  # a ragged list, an object numpy cannot read
        raise AssertionError(_with_hint(f"{label} returned {_show(actual)}, which is not an "
                                        f"array of numbers ({error})", hint)) from None
    if array.dtype.kind not in "biuf":
        raise AssertionError(_with_hint(f"{label} returned {_show(actual)} (dtype {array.dtype}), "
                                        f"expected numbers", hint))
    return array


def check_shape(label: str, actual: Any, shape: tuple, hint: str | None = None) -> None:
    """``actual`` is an array (or number) of exactly this shape."""
    __tracebackhide__ = True  # IPython and pytest show the message, not this frame
    array = _as_array(label, actual, hint)
    if array.shape != tuple(shape):
        raise AssertionError(_with_hint(f"{label} has shape {array.shape}, expected {tuple(shape)}",
                                        hint))


def check_finite(label: str, actual: Any, hint: str | None = None) -> None:
    """``actual`` holds no nan and no infinity."""
    __tracebackhide__ = True  # IPython and pytest show the message, not this frame
    array = _as_array(label, actual, hint)
    bad = ~np.isfinite(array)
    if np.any(bad):
        index = tuple(int(i) for i in np.argwhere(bad)[0]) if array.ndim else ()
        value = array[index]
        where = f" at index {index}" if index else ""
        raise AssertionError(_with_hint(f"{label} returned {value}{where}", hint))


def check_close(label: str, actual: Any, expected: Any, hint: str | None = None,
                rtol: float = 1e-5, atol: float = 1e-7) -> None:
    """``actual`` has the shape of ``expected`` and |actual - expected| <= atol + rtol * |expected|.

    A nan or infinity where a finite number is expected is reported as such (it usually means
    an overflow), before any comparison of values.
    """
    __tracebackhide__ = True  # IPython and pytest show the message, not this frame
    expected = np.asarray(expected)
    array = _as_array(label, actual, hint)
    if array.shape != expected.shape:
        raise AssertionError(_with_hint(f"{label} has shape {array.shape}, expected "
                                        f"{expected.shape}", hint))
    broken = ~np.isfinite(array) & np.isfinite(expected)
    if np.any(broken):
        raise AssertionError(_with_hint(_describe(label, array, expected, broken), hint))
    far = ~np.isclose(array, expected, rtol=rtol, atol=atol, equal_nan=True)
    if np.any(far):
        worst = float(np.max(np.abs(array[far].astype(np.float64) - expected[far])))
        raise AssertionError(_with_hint(f"{_describe(label, array, expected, far)} (largest "
                                        f"difference {worst:.3g})", hint))


def _snapshot(values) -> list:
    return [np.array(v, copy=True) if isinstance(v, np.ndarray) else None for v in values]


def _changed(name: str, before, after) -> str | None:
    for position, (old, new) in enumerate(zip(before, after)):
        if old is not None and (old.shape != new.shape or not np.array_equal(old, new, equal_nan=True)):
            return f"argument {position + 1} of {name}"
    return None


def call(label: str, func: Callable, *args, hint: str | None = None, **kwargs):
    """Call ``func(*args, **kwargs)`` as a self-check does, and return its result.

    It turns the usual mistakes into messages that say what to do:
    - the function still raises NotImplementedError (its body was not written yet);
    - NumPy overflowed or divided by zero (the message quotes NumPy and adds ``hint``);
    - the function changed one of its array arguments in place.
    """
    __tracebackhide__ = True  # IPython and pytest show the message, not this frame
    name = getattr(func, "__name__", "the function")
    before = _snapshot(args)
    try:
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"), \
                warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            result = func(*args, **kwargs)
    except NotImplementedError:
        raise AssertionError(f"{label}: {name} is not written yet. Replace the line "
                             f"`raise NotImplementedError()` with your code.") from None
    except (FloatingPointError, RuntimeWarning) as error:
        raise AssertionError(_with_hint(f"{label} failed inside NumPy ({error})", hint)) from None
    changed = _changed(name, before, args)
    if changed:
        raise AssertionError(f"{label} changed {changed} in place. Compute new arrays "
                             f"(for example w = w - lr * g) instead of writing into the argument "
                             f"(w -= lr * g).")
    return result


def check_no_mutation(label: str, func: Callable, *args, **kwargs):
    """``func(*args, **kwargs)`` leaves every array argument as it was; returns its result."""
    __tracebackhide__ = True  # IPython and pytest show the message, not this frame
    before = _snapshot(args)
    result = func(*args, **kwargs)
    changed = _changed(getattr(func, "__name__", "the function"), before, args)
    if changed:
        raise AssertionError(f"{label} changed {changed} in place. Compute new arrays "
                             f"(for example w = w - lr * g) instead of writing into the argument "
                             f"(w -= lr * g).")
    return result
