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
    check_no_mutation(label, func, *args)        func leaves its arguments unchanged, at any depth
    check_true(condition, message)               anything else, with your own message
    hidden_rng()                                 the random generator a hidden test draws its
                                                 inputs from (see below)

A failed check raises ``CheckFailed`` (an AssertionError) that also carries a message without
any value (``quiet``): the grader shows that one for a hidden test, whose inputs must not reach
the feedback.

Hidden tests draw their inputs from ``hidden_rng()``. Under the batch grader it is seeded from
the course secret (a file ``course_secret`` beside the instructor's ``source/`` folder, never in
the repository), the student, the notebook and the test cell: two students get different
inputs, and a table of answers built from one submission's feedback is worth nothing on the
next. Elsewhere (the instructor's own JupyterLab, ``nbgrader validate``) it is seeded afresh on
each call, so a solution that passes passes on any inputs.

Only NumPy is needed.
"""
from __future__ import annotations

import warnings
from typing import Any, Callable

import numpy as np

__all__ = ["call", "check_close", "check_shape", "check_finite", "check_no_mutation", "check_true",
           "check_type", "hidden_rng", "CheckFailed"]


class CheckFailed(AssertionError):
    """A check that failed. ``str()`` is the whole message; ``quiet`` says which check failed
    without any value, for the feedback of a hidden test."""

    def __init__(self, message: str, quiet: str = "a hidden check failed"):
        super().__init__(message)
        self.quiet = quiet


# Set by the grader's trusted process around each test cell: (key, student, notebook, test).
_hidden_context: tuple[bytes, str, str, str] | None = None
_hidden_draws = 0


def hidden_rng() -> np.random.Generator:
    """The generator a hidden test draws its inputs from (a new stream on each call)."""
    global _hidden_draws
    if _hidden_context is None:
        return np.random.default_rng()
    import hashlib
    import hmac

    key, student, notebook, test = _hidden_context
    _hidden_draws += 1
    message = "\0".join((student, notebook, test, str(_hidden_draws))).encode("utf-8")
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return np.random.default_rng(int.from_bytes(digest, "big"))


def _enter_hidden(key: bytes, student: str, notebook: str, test: str) -> None:
    """The grader's trusted process: the test cell ``test`` of ``student`` is about to run."""
    global _hidden_context, _hidden_draws
    _hidden_context, _hidden_draws = (key, student, notebook, test), 0


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
        raise CheckFailed(message)


def check_type(label: str, actual: Any, expected_type: type | tuple, hint: str | None = None) -> None:
    """``actual`` is an instance of ``expected_type`` (a type or a tuple of types)."""
    __tracebackhide__ = True  # IPython and pytest show the message, not this frame
    if isinstance(actual, expected_type):
        return
    names = (" or ".join(t.__name__ for t in expected_type) if isinstance(expected_type, tuple)
             else expected_type.__name__)
    raise CheckFailed(_with_hint(f"{label} returned {_show(actual)} of type "
                                 f"{type(actual).__name__}, expected {names}", hint),
                      f"{label} returned a value of the wrong type")


def _as_array(label: str, actual: Any, hint: str | None) -> np.ndarray:
    __tracebackhide__ = True  # IPython and pytest show the message, not this frame
    if actual is None:
        raise CheckFailed(_with_hint(f"{label} returned None, expected an array",
                                     hint or "does the function end with `return`?"),
                          f"{label} returned None, expected an array")
    if isinstance(actual, tuple) and len(actual) > 1:
        raise CheckFailed(_with_hint(f"{label} returned a tuple of {len(actual)} values, "
                                     f"expected one array", hint),
                          f"{label} returned a tuple, expected one array")
    try:
        array = np.asarray(actual)
    except Exception as error:  # a ragged list, an object numpy cannot read
        raise CheckFailed(_with_hint(f"{label} returned {_show(actual)}, which is not an "
                                     f"array of numbers ({error})", hint),
                          f"{label} returned something that is not an array of numbers") from None
    if array.dtype.kind not in "biuf":
        raise CheckFailed(_with_hint(f"{label} returned {_show(actual)} (dtype {array.dtype}), "
                                     f"expected numbers", hint),
                          f"{label} returned something that is not numbers")
    return array


def check_shape(label: str, actual: Any, shape: tuple, hint: str | None = None) -> None:
    """``actual`` is an array (or number) of exactly this shape."""
    __tracebackhide__ = True  # IPython and pytest show the message, not this frame
    array = _as_array(label, actual, hint)
    if array.shape != tuple(shape):
        raise CheckFailed(_with_hint(f"{label} has shape {array.shape}, expected {tuple(shape)}",
                                     hint), f"{label} has the wrong shape")


def check_finite(label: str, actual: Any, hint: str | None = None) -> None:
    """``actual`` holds no nan and no infinity."""
    __tracebackhide__ = True  # IPython and pytest show the message, not this frame
    array = _as_array(label, actual, hint)
    bad = ~np.isfinite(array)
    if np.any(bad):
        index = tuple(int(i) for i in np.argwhere(bad)[0]) if array.ndim else ()
        value = array[index]
        where = f" at index {index}" if index else ""
        raise CheckFailed(_with_hint(f"{label} returned {value}{where}", hint),
                          f"{label} holds nan or infinity")


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
        raise CheckFailed(_with_hint(f"{label} has shape {array.shape}, expected "
                                     f"{expected.shape}", hint), f"{label} has the wrong shape")
    broken = ~np.isfinite(array) & np.isfinite(expected)
    if np.any(broken):
        raise CheckFailed(_with_hint(_describe(label, array, expected, broken), hint),
                          f"{label} holds nan or infinity where a number is expected")
    far = ~np.isclose(array, expected, rtol=rtol, atol=atol, equal_nan=True)
    if np.any(far):
        worst = float(np.max(np.abs(array[far].astype(np.float64) - expected[far])))
        raise CheckFailed(_with_hint(f"{_describe(label, array, expected, far)} (largest "
                                     f"difference {worst:.3g})", hint),
                          f"{label} does not match the expected values")


def _snapshot(value, depth: int = 0):
    """A deep copy of the arrays, lists, tuples and dicts in ``value`` (the rest as it is)."""
    if depth > 50:
        return value
    if isinstance(value, np.ndarray):
        return np.array(value, copy=True)
    if isinstance(value, (list, tuple)):
        return [_snapshot(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {k: _snapshot(v, depth + 1) for k, v in value.items()}
    return value


def changes(before, after, path: str = "", depth: int = 0) -> list[str]:
    """Where ``after`` differs from ``before`` (a snapshot), as paths such as ``['W1']`` or ``[0]``."""
    if depth > 50:
        return []
    if isinstance(before, np.ndarray):
        if not isinstance(after, np.ndarray) or before.shape != after.shape or \
                before.dtype != after.dtype or not np.array_equal(before, after, equal_nan=before.dtype.kind in "fc"):
            return [path]
        return []
    if isinstance(before, (list, tuple)):
        if not isinstance(after, (list, tuple)) or len(before) != len(after):
            return [path]
        return [p for i, (b, a) in enumerate(zip(before, after)) for p in changes(b, a, f"{path}[{i}]", depth + 1)]
    if isinstance(before, dict):
        if not isinstance(after, dict) or before.keys() != after.keys():
            return [path]
        return [p for k in before for p in changes(before[k], after[k], f"{path}[{k!r}]", depth + 1)]
    return []


def parameter_names(func, args: tuple, kwargs: dict) -> list[str]:
    """The names the function gives its positional arguments (``argument 3`` where unknown)."""
    import inspect

    try:
        names = [p.name for p in inspect.signature(func).parameters.values()
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        names = []
    return [names[i] if i < len(names) else f"argument {i + 1}" for i in range(len(args))]


def _changed(func, before, args: tuple, kwargs: dict) -> str | None:
    """The first argument ``func`` changed in place, named as its parameter, with the path."""
    names = parameter_names(func, args, kwargs)
    found = [names[i] + p for i, (b, a) in enumerate(zip(before[0], args)) for p in changes(b, a)]
    found += [k + p for k in before[1] for p in changes(before[1][k], kwargs.get(k))]
    # a function of the submission that ran in the grader's jail reports its own changes there
    found += list(getattr(func, "changed_in_place", None) or ())
    if not found:
        return None
    return ", ".join(found[:3]) + (" and more" if len(found) > 3 else "")


def call(label: str, func: Callable, *args, hint: str | None = None, **kwargs):
    """Call ``func(*args, **kwargs)`` as a self-check does, and return its result.

    It turns the usual mistakes into messages that say what to do:
    - the function still raises NotImplementedError (its body was not written yet);
    - NumPy overflowed or divided by zero (the message quotes NumPy and adds ``hint``);
    - the function changed one of its array arguments in place.
    """
    __tracebackhide__ = True  # IPython and pytest show the message, not this frame
    name = getattr(func, "__name__", "the function")
    before = (_snapshot(args), _snapshot(kwargs))
    try:
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"), \
                warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            result = func(*args, **kwargs)
    except NotImplementedError:
        message = (f"{label}: {name} is not written yet. Replace the line "
                   f"`raise NotImplementedError()` with your code.")
        raise CheckFailed(message, message) from None
    except (FloatingPointError, RuntimeWarning) as error:
        raise CheckFailed(_with_hint(f"{label} failed inside NumPy ({error})", hint),
                          f"{label} failed inside NumPy (an overflow or a division by zero)") from None
    _fail_if_changed(label, func, before, args, kwargs)
    return result


def _fail_if_changed(label: str, func, before, args: tuple, kwargs: dict) -> None:
    __tracebackhide__ = True  # IPython and pytest show the message, not this frame
    changed = _changed(func, before, args, kwargs)
    if changed:
        message = (f"{label} changed {changed} in place. Compute new arrays (for example "
                   f"w = w - lr * g) instead of writing into the argument (w -= lr * g).")
        raise CheckFailed(message, message)


def check_no_mutation(label: str, func: Callable, *args, **kwargs):
    """``func(*args, **kwargs)`` leaves every array argument as it was; returns its result."""
    __tracebackhide__ = True  # IPython and pytest show the message, not this frame
    before = (_snapshot(args), _snapshot(kwargs))
    result = func(*args, **kwargs)
    _fail_if_changed(label, func, before, args, kwargs)
    return result
