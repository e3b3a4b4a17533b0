"""Fused updates: every optimizer's rule in one pass over memory.

The in-place NumPy update (``_adam_step_inplace`` and its siblings) runs one ufunc per
operation: Adam's rule is about eleven passes over each weight array. On a small network that
costs nothing; on the book's 784-512-10 network each pass streams 1.6 MB, and memory, not
arithmetic, sets the time. A fused kernel reads each weight, gradient and state number once,
does the whole rule on it, and writes the results back: the same arithmetic, element by
element. Written out for one weight ``i``, Adam's fused step is

    m[i] = m[i] * beta_1 + grad[i] * (1 - beta_1)
    v[i] = v[i] * beta_2 + (grad[i] * grad[i]) * (1 - beta_2)
    param[i] -= (m[i] * lr_t) / (sqrt(v[i]) + epsilon)

which is ``adam_step`` read one number at a time. Each kernel performs the in-place NumPy
update's operations in the same order and in the arrays' dtype, so the results are identical
to the last bit (``tests/test_optimizers_fused.py`` checks this for every optimizer and
option).

How a step runs. ``Optimizer.apply_gradients`` first offers the step to ``update`` below. The
optimizer names its kernel, its state and the numbers of this step (``_fused_step``); the first
time, ``update`` also checks every weight and state array once and keeps flat views of them
(a "plan"), reused as long as the optimizer is given the same weight arrays and keeps the same
state arrays. A step then costs one compiled call per weight, plus a check of the gradients:
at a step every millisecond, the Python around the update matters as much as the update.

The kernels are compiled by numba, when it is installed, the first time a model with an array
of at least ``MIN_SIZE`` numbers is updated; from then on the kernel updates models of any size
with that dtype. Until then small models are left to NumPy, so that a small network never
waits for numba to import and compile (about a second, once per kernel and dtype). Without
numba, with ``COURSE_FUSED=0`` in the environment, for a small model before its kernel is
compiled, or when an array is not contiguous or the arrays do not share one float dtype,
``update`` returns False and the NumPy update runs instead.
"""
from __future__ import annotations

import operator
import os
import warnings

import numpy as np

__all__ = ["MIN_SIZE", "available", "update"]

#: The smallest array for which a kernel is compiled: below it, eleven NumPy passes cost less
#: than compiling. Once compiled, a kernel takes arrays of any size.
MIN_SIZE = 1 << 15

_kernels = None          # the compiled module once loaded, False when numba is missing or off
_compiled = set()        # (kernel name, dtype char) pairs that have run once, so are compiled


def _load():
    global _kernels
    if _kernels is None:
        if os.environ.get("COURSE_FUSED", "1").strip().lower() in ("0", "false", "no", "off"):
            _kernels = False
        else:
            try:
                from . import _fused_kernels
            except ImportError:        # numba is not installed: the NumPy update is used
                _kernels = False
            else:
                _kernels = _fused_kernels
    return _kernels


def available() -> bool:
    """True when fused kernels can run here (numba is installed and COURSE_FUSED is not 0)."""
    return bool(_load())


class _Plan:
    """Flat views of an optimizer's weights and state, checked once and kept between steps."""

    __slots__ = ("params", "states", "views", "dtype", "large")

    def __init__(self, params, states, views, dtype, large):
        self.params = params      # the weight arrays the views belong to
        self.states = states      # the state arrays, in the order of ``_state_arrays``
        self.views = views        # per weight: [flat weight, flat state 1, flat state 2, ...]
        self.dtype = dtype
        self.large = large        # True when a weight has at least MIN_SIZE numbers

    def fits(self, params, states) -> bool:
        """True if these are the very arrays the plan was made for."""
        return (len(params) == len(self.params) and len(states) == len(self.states)
                and all(map(operator.is_, params, self.params))
                and all(map(operator.is_, states, self.states)))


_rule_checked: dict = {}


def _kernel_is_its_rule(cls) -> bool:
    """True if ``_fused_step`` and ``_apply`` come from the same class.

    A subclass that writes its own update rule (its own ``_apply``) and no kernel for it gets
    its own rule, in NumPy, not the kernel of the optimizer it derives from.
    """
    if cls not in _rule_checked:
        def owner(name):
            return next(k for k in cls.__mro__ if name in k.__dict__)
        _rule_checked[cls] = owner("_apply") is owner("_fused_step")
    return _rule_checked[cls]


def _state_arrays(optimizer, state_names, n):
    """The optimizer's state arrays, weight by weight: [s1[0], s2[0], s1[1], s2[1], ...]."""
    lists = [getattr(optimizer, name) for name in state_names]
    if any(len(states) != n for states in lists):
        return None
    return [states[i] for i in range(n) for states in lists]


def _make_plan(params, states, n_states):
    """A plan for these arrays, or None when one of them cannot go through a kernel."""
    dtype = params[0].dtype
    if dtype.char not in "fd":                          # float32 and float64 only
        return None
    views = []
    for i, param in enumerate(params):
        arrays = [param] + states[i * n_states:(i + 1) * n_states]
        for array in arrays:
            if (array.dtype != dtype or array.shape != param.shape
                    or not array.flags.c_contiguous or not array.flags.writeable):
                return None
        views.append([array.reshape(-1) for array in arrays])
    large = max(param.size for param in params) >= MIN_SIZE
    return _Plan(tuple(params), tuple(states), views, dtype, large)


def update(optimizer, params, grads, lr: float, t: int) -> bool:
    """Do the optimizer's step with its fused kernel, one call per weight; False if it cannot.

    params, grads: as ``Optimizer.apply_gradients`` has checked them (same shapes, the
    gradients in the weights' dtype). lr: this step's learning rate; t: its number (1 first).
    Returns False, having changed nothing, when the NumPy update must run instead.
    """
    if _kernels is False or not _kernel_is_its_rule(type(optimizer)):
        return False
    step = optimizer._fused_step(lr, t)
    if step is None or not params:
        return False
    kernel, state_names, numbers = step
    states = _state_arrays(optimizer, state_names, len(params))
    if states is None:
        return False
    plan = optimizer._fused_plan
    if plan is None or not plan.fits(params, states):
        plan = optimizer._fused_plan = _make_plan(params, states, len(state_names))
        if plan is None:
            return False
    if not plan.large and (kernel, plan.dtype.char) not in _compiled:
        return False                     # a small model: not worth compiling for
    if not _load():
        return False
    flat_grads = []
    for grad in grads:
        if not grad.flags.c_contiguous:
            grad = np.ascontiguousarray(grad)
        flat_grads.append(grad.reshape(-1))
    to_dtype = plan.dtype.type           # each number in the arrays' dtype, as NumPy converts it
    numbers = [to_dtype(x) for x in numbers]
    run = getattr(_kernels, kernel)
    views = plan.views
    try:
        run(views[0][0], flat_grads[0], *views[0][1:], *numbers)
    except Exception as error:  # noqa: BLE001 - numba's compile errors have no common base class
        _turn_off(error)        # a kernel that cannot compile fails before it touches an array
        return False
    _compiled.add((kernel, plan.dtype.char))
    for i in range(1, len(views)):
        run(views[i][0], flat_grads[i], *views[i][1:], *numbers)
    return True


def _turn_off(error) -> None:
    """Use the NumPy update from now on, with one warning."""
    global _kernels
    _kernels = False
    warnings.warn(f"the fused optimizer kernels cannot run here ({type(error).__name__}: "
                  f"{str(error)[:200]}); the NumPy update is used instead", RuntimeWarning,
                  stacklevel=4)
