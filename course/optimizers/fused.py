"""Fused updates for large weight arrays: every optimizer's rule in one pass over memory.

The in-place NumPy update (``_adam_step_inplace`` and its siblings) runs one ufunc per
operation: Adam's rule is about eleven passes over each weight array. On a small network that
costs nothing; on the book's 784-512-10 network each pass streams 1.6 MB, and memory, not
arithmetic, sets the time. A fused kernel reads each weight, gradient and state number once,
does the whole rule on it, and writes the results back: the same arithmetic, element by
element. Written out for one weight ``i``, Adam's fused step is

    m[i] = m[i] * beta_1 + grad[i] * (1 - beta_1)
    v[i] = v[i] * beta_2 + (grad[i] * grad[i]) * (1 - beta_2)
    param[i] -= (m[i] * lr_t) / (sqrt(v[i]) + epsilon)

which is ``adam_step`` read one number at a time. The kernels are compiled by numba, when it
is installed, the first time an array of at least ``MIN_SIZE`` numbers is updated; from then on
that kernel updates the small arrays of that dtype as well (a bias, the output layer's kernel),
as one compiled call costs about a microsecond and the NumPy update of even a tiny array ten
or more. Until then small arrays are left to NumPy, so that a small network never waits for
numba to import and compile (about a second, once per kernel and dtype). Each one
performs the in-place NumPy update's operations in the same order and in the array's dtype, so
the results are identical to the last bit (``tests/test_optimizers_fused.py`` checks this for
every optimizer and option). Without numba, with ``COURSE_FUSED=0`` in the environment, for
small arrays before their kernel is compiled, or for arrays that are not contiguous or do not
share one float dtype, the NumPy update runs instead.

Each function below returns True when it has done the update and False when the caller must.
"""
from __future__ import annotations

import os
import warnings

import numpy as np

__all__ = ["MIN_SIZE", "available", "sgd", "rmsprop", "adagrad", "adadelta", "adam", "adamax",
           "nadam"]

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


def _run(kernel: str, *args) -> bool:
    """Call a kernel. A kernel that cannot be compiled here fails before it touches any array:
    then the kernels are turned off, with one warning, and the NumPy update runs instead."""
    global _kernels
    try:
        getattr(_kernels, kernel)(*args)
    except Exception as error:  # noqa: BLE001 - numba's compile errors have no common base class
        _kernels = False
        warnings.warn(f"the fused optimizer kernels cannot run here ({type(error).__name__}: "
                      f"{str(error)[:200]}); the NumPy update is used instead", RuntimeWarning,
                      stacklevel=4)
        return False
    _compiled.add((kernel, args[0].dtype.char))
    return True


def _flat(kernel, *arrays):
    """The arrays as flat views when ``kernel`` may update them, else None.

    The caller has checked that the arrays have one shape; the sizes are checked again here, as
    a kernel reads and writes ``param.size`` numbers of every array.
    """
    first = arrays[0]
    dtype, size = first.dtype, first.size
    if size < MIN_SIZE and (kernel, dtype.char) not in _compiled:
        return None
    if dtype.char not in "fd" or not _load():          # float32 and float64 only
        return None
    flat = []
    for i, array in enumerate(arrays):
        flags = array.flags
        if array.dtype != dtype or array.size != size or not flags.c_contiguous:
            return None
        if i != 1 and not flags.writeable:            # everything but the gradient is written
            return None
        flat.append(array.reshape(-1))
    return flat


def sgd(param, grad, velocity, lr, momentum, nesterov) -> bool:
    kernel = "sgd_nesterov" if nesterov else "sgd_momentum" if momentum else "sgd_plain"
    flat = _flat(kernel, param, grad, velocity)
    if flat is None:
        return False
    f = param.dtype.type
    if kernel == "sgd_plain":
        return _run(kernel, *flat, f(-lr))
    return _run(kernel, *flat, f(lr), f(momentum))


def rmsprop(param, grad, accumulator, lr, rho, epsilon) -> bool:
    flat = _flat("rmsprop", param, grad, accumulator)
    if flat is None:
        return False
    f = param.dtype.type
    return _run("rmsprop", *flat, f(lr), f(rho), f(1 - rho), f(epsilon))


def adagrad(param, grad, accumulator, lr, epsilon) -> bool:
    flat = _flat("adagrad", param, grad, accumulator)
    if flat is None:
        return False
    f = param.dtype.type
    return _run("adagrad", *flat, f(lr), f(epsilon))


def adadelta(param, grad, accumulator, delta_accumulator, lr, rho, epsilon) -> bool:
    flat = _flat("adadelta", param, grad, accumulator, delta_accumulator)
    if flat is None:
        return False
    f = param.dtype.type
    return _run("adadelta", *flat, f(lr), f(rho), f(1 - rho), f(epsilon))


def adam(param, grad, m, v, vhat, lr_t, beta_1, beta_2, epsilon) -> bool:
    """lr_t: the bias-corrected rate of this step, as the NumPy update computes it."""
    kernel = "adam" if vhat is None else "adam_amsgrad"
    flat = _flat(kernel, param, grad, m, v, *([] if vhat is None else [vhat]))
    if flat is None:
        return False
    f = param.dtype.type
    return _run(kernel, *flat, f(lr_t), f(beta_1), f(1 - beta_1), f(beta_2), f(1 - beta_2),
                f(epsilon))


def adamax(param, grad, m, u, lr_t, beta_1, beta_2, epsilon) -> bool:
    """lr_t: lr / (1 - beta_1**t), as the NumPy update computes it."""
    flat = _flat("adamax", param, grad, m, u)
    if flat is None:
        return False
    f = param.dtype.type
    return _run("adamax", *flat, f(lr_t), f(beta_1), f(1 - beta_1), f(beta_2), f(epsilon))


def nadam(param, grad, m, v, lr, beta_1, beta_2, epsilon, t, c_grad, c_m) -> bool:
    """c_grad, c_m: the weights of the gradient and of m in m_bar, as the NumPy update has them."""
    flat = _flat("nadam", param, grad, m, v)
    if flat is None:
        return False
    f = param.dtype.type
    return _run("nadam", *flat, f(lr), f(beta_1), f(1 - beta_1), f(beta_2), f(1 - beta_2),
                f(epsilon), f(c_grad), f(c_m), f(1 - beta_2 ** t))
