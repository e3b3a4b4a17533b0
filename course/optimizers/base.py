"""What every optimizer shares: the loop over the weights, the learning rate, decay, the state.

An optimizer moves each weight against its gradient. The update rules differ (see ``sgd.py``,
``adam.py``, ...), the bookkeeping does not, and it lives here, in the shape of Keras 3:

    apply_gradients(params, grads)      what the model calls after every batch:
        build(params)                   the first time: the state of each weight (zeros)
        for each weight and its gradient:
            update_step(gradient, variable, learning_rate)    <- the one rule of each optimizer
        iterations += 1

    lr          the base learning rate eta (also readable and writable as ``learning_rate``)
    decay       Keras 2's time decay: the rate used at an update is
                    current_lr = lr / (1 + decay * iterations)
    iterations  how many updates were already made (0 before the first one)

``update_step`` changes the weight in place, as Keras 3 does (``variable.assign_sub(...)``,
here ``variable -= ...``): the layers hold the arrays, so nothing is copied back, and each
weight is read and written once. ``grads`` are never changed.

Each rule is also written as a pure function that returns new arrays and never modifies its
arguments: ``sgd_step(param, grad, velocity, ...)``, ``adam_step(param, grad, m, v, t, ...)``,
... in the names of the paper. The lessons call those; the tests check that an optimizer's
``update_step`` gives the same weights, bit for bit, over many steps.
"""
from __future__ import annotations

import numpy as np

from ..utils import check_bool as utils_check_bool
from ..utils import check_real

__all__ = ["Optimizer", "check_number", "check_bool"]


# -- hyperparameter checks --------------------------------------------------------------------
def check_number(owner: str, name: str, value, low: float = 0.0, high: float | None = None,
                 default=None) -> float:
    """``course.utils.check_real`` for a hyperparameter in [low, high) of optimizer ``owner``.

    The message names the optimizer, the argument, the allowed range, the value given and
    (``default``) the Keras 2 default.
    """
    hint = f"The Keras 2 default is {name}={default!r}." if default is not None else ""
    try:
        return check_real(name, value, low=low, high=high, high_open=True, owner=owner)
    except ValueError as error:          # ArgumentTypeError too: it is also a ValueError
        raise type(error)(f"{error}{' ' + hint if hint else ''}") from None


def check_bool(owner: str, name: str, value) -> bool:
    """``course.utils.check_bool`` for a switch of optimizer ``owner``."""
    return utils_check_bool(name, value, owner=owner)


class _Default(float):
    """A float that remembers it is a default value.

    It lets ``SGD(lr=0.1, learning_rate=0.2)`` be reported as a mistake while the signature
    still reads ``lr=0.01``.
    """


# -- the base class -----------------------------------------------------------------------------
class Optimizer:
    """Base class of the optimizers: the loop over the weights; subclasses write ``update_step``.

    Attributes:
        lr (= learning_rate)  base learning rate, a float; may be changed between batches
        decay                 Keras 2 time decay of the learning rate (0: constant)
        iterations            number of updates already made
        current_lr            lr / (1 + decay * iterations): the rate the next update will use
        built                 True once the state has been created (at the first update)
        state_names           names of the per-weight state lists, e.g. ('m', 'v') for Adam

    A subclass sets ``state_names`` and ``_hyperparameters`` and writes
    ``update_step(gradient, variable, learning_rate)``, which updates one weight in place and
    reads its state with ``self.m[self._get_variable_index(variable)]`` (as in Keras 3). The
    state lists named in ``state_names`` are created by ``build``.
    """

    state_names: tuple[str, ...] = ()
    _hyperparameters: tuple[str, ...] = ("lr", "decay")

    def __init__(self, lr, decay=0.0, learning_rate=None):
        name = type(self).__name__
        if learning_rate is not None:
            if not isinstance(lr, _Default):
                raise TypeError(f"{name}: give the learning rate once, as lr or as learning_rate, "
                                f"not both (got lr={lr!r} and learning_rate={learning_rate!r}).")
            lr = learning_rate
        self.lr = lr
        self.decay = check_number(name, "decay", decay, default=0.0)
        self.iterations = 0
        self.built = False
        self._shapes: list[tuple[tuple, np.dtype]] = []
        self._variable_index: dict[int, int] = {}

    # -- the learning rate ----------------------------------------------------------------------
    @property
    def lr(self) -> float:
        """The base learning rate eta (a float >= 0). Setting it checks the value."""
        return self._lr

    @lr.setter
    def lr(self, value) -> None:
        self._lr = check_number(type(self).__name__, "lr", value)

    @property
    def learning_rate(self) -> float:
        """Keras 3's name for ``lr``: the same attribute."""
        return self._lr

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        self.lr = value

    @property
    def current_lr(self) -> float:
        """The rate the next update uses: lr / (1 + decay * iterations) (Keras 2's decay)."""
        return self._lr / (1.0 + self.decay * self.iterations)

    # -- state ----------------------------------------------------------------------------------
    def build(self, params) -> None:
        """Create the state for ``params``: for each weight, zeros of its shape and dtype.

        Called by ``apply_gradients`` the first time; calling it again starts the state afresh
        (iterations is not reset). An optimizer with state of another kind (Nadam's momentum
        product) extends it.
        """
        params = list(params)
        for i, param in enumerate(params):
            if not isinstance(param, np.ndarray) or param.dtype.kind != "f":
                raise TypeError(f"{type(self).__name__}: parameter {i} must be a NumPy array of floats, "
                                f"got {_describe(param)}.")
        for state_name in self.state_names:
            setattr(self, state_name, [np.zeros_like(p) for p in params])
        self._shapes = [(p.shape, p.dtype) for p in params]
        self.built = True

    @property
    def state(self) -> dict[str, list[np.ndarray]]:
        """The state lists by name, e.g. {'m': [...], 'v': [...]} (empty before the first update)."""
        if not self.built:
            return {}
        return {state_name: getattr(self, state_name) for state_name in self.state_names}

    def _get_variable_index(self, variable) -> int:
        """The position of ``variable`` in the list given to ``apply_gradients`` (Keras 3's name)."""
        return self._variable_index[id(variable)]

    # -- the update -----------------------------------------------------------------------------
    def apply_gradients(self, params, grads) -> None:
        """Update every array in ``params`` in place from ``grads`` (same order, same shapes).

        params: list of weight arrays, e.g. [kernel_1, bias_1, kernel_2, bias_2].
        grads:  list of their gradients dL/dparam, same length and shapes; never modified.
        Gradients of another float dtype are converted to the weight's dtype.
        Uses the learning rate ``current_lr``, then adds one to ``iterations``.
        """
        params, grads = self._check(params, grads)
        if not self.built:
            self.build(params)
        self._variable_index = {id(variable): i for i, variable in enumerate(params)}
        learning_rate = self.current_lr
        self._start_step()
        for gradient, variable in zip(grads, params):
            self.update_step(gradient, variable, learning_rate)
        self.iterations += 1

    def _start_step(self) -> None:
        """What a step computes once for all the weights, before them (Nadam's momentum product)."""

    def update_step(self, gradient, variable, learning_rate) -> None:
        """Move one weight, in place, by the rule of this optimizer (``variable -= ...``).

        gradient: dL/dvariable, same shape; never modified. learning_rate: this step's rate
        (``current_lr``). The step number t, where a rule needs it, is ``self.iterations + 1``.
        """
        raise NotImplementedError

    def _check(self, params, grads):
        name = type(self).__name__
        if isinstance(params, np.ndarray) or isinstance(grads, np.ndarray):
            raise TypeError(f"{name}.apply_gradients expects lists of arrays, e.g. "
                            "apply_gradients([kernel, bias], [dkernel, dbias]); wrap a single array "
                            "in a list: apply_gradients([w], [dw]).")
        params, grads = list(params), list(grads)
        if len(params) != len(grads):
            raise ValueError(f"{name}.apply_gradients got {len(params)} parameters but {len(grads)} "
                             "gradients: give one gradient per parameter, in the same order.")
        if self.built and len(params) != len(self._shapes):
            raise ValueError(f"{name} was built for {len(self._shapes)} parameters and now got "
                             f"{len(params)}. An optimizer keeps state for one model: create a new "
                             f"optimizer, e.g. {name}(), for another model.")
        checked = []
        for i, (param, grad) in enumerate(zip(params, grads)):
            if not isinstance(param, np.ndarray):
                raise TypeError(f"{name}: parameter {i} must be a NumPy array (it is updated in "
                                f"place), got {_describe(param)}.")
            if not isinstance(grad, np.ndarray):
                grad = np.asarray(grad)
            if grad.shape != param.shape:
                raise ValueError(f"{name}: gradient {i} has shape {grad.shape} but parameter {i} has "
                                 f"shape {param.shape}; each gradient must have its parameter's shape.")
            if self.built and (param.shape, param.dtype) != self._shapes[i]:
                shape, dtype = self._shapes[i]
                raise ValueError(f"{name} was built for parameter {i} of shape {shape} and dtype "
                                 f"{dtype}, now got {param.shape} {param.dtype}. Create a new optimizer "
                                 "for a new model.")
            if grad.dtype != param.dtype:
                grad = grad.astype(param.dtype)
            checked.append(grad)
        return params, checked

    # -- configuration --------------------------------------------------------------------------
    def get_config(self) -> dict:
        """The hyperparameters as a dict, e.g. {'lr': 0.01, 'momentum': 0.0, ...}.

        ``type(opt)(**opt.get_config())`` makes a fresh optimizer with the same settings.
        """
        return {name: getattr(self, name) for name in self._hyperparameters}

    @classmethod
    def from_config(cls, config: dict) -> "Optimizer":
        """A new optimizer from ``get_config()``'s dict."""
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype}"
    return f"{value!r} ({type(value).__name__})"
