"""What every optimizer shares: the learning rate, Keras 2's decay, the step counter, the state.

An optimizer moves each weight against its gradient. The update rules differ (see ``sgd.py``,
``adam.py``, ...), the bookkeeping does not, and it lives here:

    lr          the base learning rate eta (also readable and writable as ``learning_rate``)
    decay       Keras 2's time decay: the rate used at an update is
                    current_lr = lr / (1 + decay * iterations)
    iterations  how many updates were already made (0 before the first one)
    build       creates the state (velocities, moments, ...) the first time weights are seen:
                zeros of the same shape and dtype as each weight

``apply_gradients(params, grads)`` is what the model calls after every batch. It changes the
arrays in ``params`` in place (the layers hold them) and never changes ``grads``.

Each update rule is written once, as a pure function that returns new arrays and never
modifies its arguments: ``sgd_step(param, grad, velocity, ...)``, ``adam_step(param, grad, m,
v, t, ...)``, ... in the names of the paper and of the Keras documentation. The optimizer
object calls that function for each weight and stores what it returns: the new weight is
copied into the layer's array (``param[...] = new``), the new state replaces the old. What
``fit`` runs is what you read.
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
    """Base class of the optimizers. Subclasses define the update rule and the state they keep.

    Attributes:
        lr (= learning_rate)  base learning rate, a float; may be changed between batches
        decay                 Keras 2 time decay of the learning rate (0: constant)
        iterations            number of updates already made
        current_lr            lr / (1 + decay * iterations): the rate the next update will use
        built                 True once the state has been created (at the first update)
        state_names           names of the per-weight state lists, e.g. ('m', 'v') for Adam

    A subclass sets ``state_names``, ``_hyperparameters`` and implements
    ``_apply(params, grads, lr, t)``, which calls its update rule once per weight.
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
        (iterations is not reset).
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
        lr, t = self.current_lr, self.iterations + 1
        self._apply(params, grads, lr, t)
        self._end_step(t)
        self.iterations += 1

    def _apply(self, params, grads, lr: float, t: int) -> None:
        """Update the weights in place with the learning rate lr at step t (t = 1 first).

        Each subclass calls its update rule (``sgd_step``, ``adam_step``, ...) for every weight,
        copies the new weight into ``param`` and keeps the new state.
        """
        raise NotImplementedError

    def _end_step(self, t: int) -> None:
        """Bookkeeping after the weights of step t are updated (Nadam's momentum product)."""

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
