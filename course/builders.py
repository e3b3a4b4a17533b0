"""Model and optimizer builders the lessons, widgets and runs share.

    mlp                 the book's kind of network: Dense layers, softmax on top
    fresh_optimizer     a new optimizer (no state) from a name, a dict or another optimizer
    scaled_normal       an initialiser N(0, stddev^2) named for the plots
    activation_memory   bytes of activations one batch keeps for the backward pass

NumPy only, like the rest of the core.
"""
from __future__ import annotations

import functools
import numbers

from . import initializers
from . import optimizers as optimizers_module
from .layers import Dense
from .models import Sequential

__all__ = ["mlp", "fresh_optimizer", "scaled_normal", "activation_memory"]


def mlp(hidden=(64,), activation: str = "relu", n_inputs: int = 784, n_outputs: int = 10,
        output_activation: str = "softmax", kernel_initializer="glorot_uniform",
        seed: int = 0) -> Sequential:
    """A stack of Dense layers: n_inputs -> hidden[0] -> hidden[1] -> ... -> n_outputs.

    hidden: the width of each hidden layer (an int for one layer). Layer i draws its initial
    weights with seed + i, so the same seed always gives the same network.

    >>> mlp(hidden=(10,), activation='sigmoid').count_params()   # the book's first network
    7960
    """
    if isinstance(hidden, numbers.Integral):
        hidden = (int(hidden),)
    widths = list(hidden) + [n_outputs]
    layers = []
    for i, units in enumerate(widths):
        last = i == len(widths) - 1
        layers.append(Dense(units, activation=output_activation if last else activation,
                            input_shape=(n_inputs,) if i == 0 else None,
                            kernel_initializer=kernel_initializer, seed=seed + i))
    return Sequential(layers)


def fresh_optimizer(spec) -> optimizers_module.Optimizer:
    """A new optimizer, with no state, for ``spec``.

    spec: a name ('adam'), a dict as ``optimizers.get`` takes, an optimizer object (its
    settings are copied, its state is not) or a function that returns an optimizer.
    Races need this: an optimizer keeps velocities and moments for the weights it has seen.
    """
    if isinstance(spec, optimizers_module.Optimizer):
        return type(spec)(**spec.get_config())
    if callable(spec) and not isinstance(spec, type):
        spec = spec()
    return optimizers_module.get(spec)


def scaled_normal(stddev: float):
    """An initialiser drawing N(0, stddev^2), named for the plots: ``scaled_normal(0.01)``."""
    init = functools.partial(initializers.random_normal, stddev=float(stddev))
    init.__name__ = f"normal(std={stddev:g})"
    return init



def activation_memory(model: Sequential, batch_size: int, bytes_per_number: int = 4) -> int:
    """Bytes the activations of one batch occupy while they wait for the backward pass.

    Each layer keeps its input and its output for the backward pass: about
    batch_size * (n_inputs + sum of the layer widths) numbers. The weights, their gradients
    and the optimizer's state come on top and do not depend on the batch size.

    >>> activation_memory(mlp(hidden=(512,)), batch_size=100)   # 100 * (784 + 512 + 10) * 4
    522400
    """
    widths = model.input_shape[-1] + sum(layer.units for layer in model.layers)
    return int(batch_size) * int(widths) * int(bytes_per_number)

