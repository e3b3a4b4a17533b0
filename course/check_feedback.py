"""A failed self-check, in a notebook, shows its message and the line that ran it: no traceback.

A self-check (``course.grading.checks``) fails with an AssertionError whose message says what went
wrong and what to try. IPython would print the whole traceback, frames inside the checks
included (ipykernel does not honour ``__tracebackhide__``), with the message on its last line.
``install()``, run when ``course.grading.checks`` is imported in IPython, registers a handler for
AssertionError that shows, for an error raised by a check,

    AssertionError: sigmoid(-1000.0) returned nan, expected 0.0: np.exp overflowed; ...
    (the self-check in line 4 of the cell)

and leaves every other error to IPython's own traceback. The cell still fails (a run stops there,
the autograder counts it), and the error's name and message are the same as before.
"""
from __future__ import annotations

import traceback
from pathlib import Path

__all__ = ["install", "short_feedback", "raised_by_a_check"]

CHECKS = Path(__file__).resolve().parent / "grading" / "checks.py"


def raised_by_a_check(tb) -> bool:
    """Whether the traceback ``tb`` passes through ``course/grading/checks.py``."""
    return any(Path(frame.filename).resolve() == CHECKS for frame in traceback.extract_tb(tb) if frame.filename)


def short_feedback(etype, value, tb) -> list[str]:
    """The lines a learner sees for a failed check: the message, then where the check was."""
    lines = f"{etype.__name__}: {value}".splitlines() or [etype.__name__]
    own = [f for f in traceback.extract_tb(tb)
           if f.filename and not Path(f.filename).resolve().is_relative_to(CHECKS.parents[1])]
    if own:
        lines.append(f"(the self-check in line {own[-1].lineno} of the cell)")
    return lines


def _handler(shell, etype, value, tb, tb_offset=None):
    if not raised_by_a_check(tb):
        return shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
    red, reset = "\x1b[0;31m", "\x1b[0m"
    lines = short_feedback(etype, value, tb)
    head, _, rest = lines[0].partition(": ")
    shell._showtraceback(etype, value, [f"{red}{head}{reset}: {rest}", *lines[1:]])
    return None


def install(shell=None) -> bool:
    """Register the handler in IPython (``shell``: the running one); False outside IPython or
    where another custom handler for AssertionError is already registered."""
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return False
        shell = get_ipython()
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return False
    current = getattr(shell, "custom_exceptions", ())
    if current and getattr(shell.CustomTB, "__func__", shell.CustomTB).__name__ != _handler.__name__:
        return False
    shell.set_custom_exc((AssertionError,), _handler)
    return True
