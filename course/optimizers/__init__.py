"""Optimizers: how the weights move once the gradients are known (Keras 2's names and defaults).

    SGD(lr=0.01, momentum=0.0, decay=0.0, nesterov=False)
    RMSprop(lr=0.001, rho=0.9, epsilon=1e-7, decay=0.0)
    Adagrad(lr=0.01, epsilon=1e-7, decay=0.0)
    Adadelta(lr=1.0, rho=0.95, epsilon=1e-7, decay=0.0)
    Adam(lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, decay=0.0, amsgrad=False)
    Adamax(lr=0.002, beta_1=0.9, beta_2=0.999, epsilon=1e-7, decay=0.0)
    Nadam(lr=0.002, beta_1=0.9, beta_2=0.999, epsilon=1e-7, schedule_decay=0.004)

Every one accepts ``learning_rate=`` in place of ``lr=`` (Keras 3's name). The model calls
``optimizer.apply_gradients(params, grads)`` after every batch; the base class loops over the
weights and each optimizer's ``update_step(gradient, variable, learning_rate)`` moves one weight
in place, in the names of the paper (Keras 3's shape). Each rule is also a pure function
(``sgd_step``, ``adam_step``, ...) that returns new arrays: the lessons call those, and the
tests check that both give the same weights. ``model.compile(optimizer=...)`` accepts an object,
a name or a dict (see ``get``).
"""
from __future__ import annotations

from .adadelta import Adadelta, AdadeltaStep, adadelta_step
from .adagrad import Adagrad, AdagradStep, adagrad_step
from .adam import Adam, AdamStep, adam_step
from .adamax import Adamax, AdamaxStep, adamax_step
from .base import Optimizer
from .nadam import Nadam, NadamStep, nadam_momentum, nadam_step
from .rmsprop import RMSprop, RMSpropStep, rmsprop_step
from .sgd import SGD, SGDStep, sgd_step

__all__ = [
    "Optimizer", "SGD", "RMSprop", "Adagrad", "Adadelta", "Adam", "Adamax", "Nadam",
    "sgd_step", "rmsprop_step", "adagrad_step", "adadelta_step", "adam_step", "adamax_step",
    "nadam_step", "nadam_momentum", "SGDStep", "RMSpropStep", "AdagradStep", "AdadeltaStep",
    "AdamStep", "AdamaxStep", "NadamStep", "get", "serialize", "OPTIMIZERS",
]

#: The optimizers ``get`` knows, by lower-case name.
OPTIMIZERS: dict[str, type[Optimizer]] = {
    cls.__name__.lower(): cls for cls in (SGD, RMSprop, Adagrad, Adadelta, Adam, Adamax, Nadam)
}

_EXPECTED = ("an Optimizer object such as SGD(lr=0.01), a name such as 'sgd' or 'adam', or a dict "
             "{'class_name': 'SGD', 'config': {'lr': 0.01}}")


def _lookup(name: str) -> type[Optimizer]:
    try:
        return OPTIMIZERS[name.lower()]
    except KeyError:
        valid = ", ".join(repr(k) for k in OPTIMIZERS)
        raise ValueError(f"unknown optimizer {name!r}. Valid names (any case): {valid}.") from None


def get(identifier) -> Optimizer:
    """The optimizer that ``identifier`` names.

    - an Optimizer object: returned as it is (it keeps its state);
    - a name, any case ('sgd', 'RMSprop', 'adam', ...): a new optimizer with Keras 2's defaults;
    - a dict {'class_name': 'SGD', 'config': {'lr': 0.1, 'momentum': 0.9}}: a new optimizer
      with those settings (the format of ``serialize``).

    >>> get('sgd')
    SGD(lr=0.01, momentum=0.0, decay=0.0, nesterov=False)
    >>> get({'class_name': 'Adam', 'config': {'lr': 0.01}}).lr
    0.01
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        return _lookup(identifier)()
    if isinstance(identifier, dict):
        if "class_name" not in identifier or not isinstance(identifier["class_name"], str):
            raise ValueError(f"an optimizer dict needs a 'class_name' string, e.g. "
                             f"{{'class_name': 'SGD', 'config': {{'lr': 0.01}}}}; got {identifier!r}.")
        unknown_keys = set(identifier) - {"class_name", "config"}
        if unknown_keys:
            raise ValueError(f"an optimizer dict has the keys 'class_name' and 'config' only; "
                             f"got also {sorted(unknown_keys)}.")
        cls = _lookup(identifier["class_name"])
        config = identifier.get("config") or {}
        if not isinstance(config, dict):
            raise TypeError(f"'config' must be a dict of arguments such as {{'lr': 0.01}}, got {config!r}.")
        accepted = set(cls().get_config()) | {"learning_rate"}
        wrong = sorted(set(config) - accepted)
        if wrong:
            raise ValueError(f"{cls.__name__} has no argument {', '.join(map(repr, wrong))}; its "
                             f"arguments are {', '.join(map(repr, sorted(accepted)))}.")
        return cls(**config)
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        raise TypeError(f"got the class {identifier.__name__}, not an optimizer object: call it, "
                        f"e.g. {identifier.__name__}(), or pass its name {identifier.__name__.lower()!r}.")
    raise TypeError(f"expected {_EXPECTED}; got {identifier!r} ({type(identifier).__name__}).")


def serialize(optimizer: Optimizer) -> dict:
    """{'class_name': ..., 'config': ...}: the dict ``get`` turns back into an equal optimizer."""
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"serialize expects an Optimizer object, got {type(optimizer).__name__}.")
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}
