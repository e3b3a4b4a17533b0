"""Activation functions, each with its derivative right beside it.

Every activation ``f`` comes as two pure functions:

    f(x)                 -> out          the forward pass, elementwise (softmax: per row)
    f_backward(dout, out) -> dx          the backward pass: dL/dx given dL/dout

The backward pass is written in terms of the forward OUTPUT, because every derivative here can
be: sigmoid' = out * (1 - out), tanh' = 1 - out**2, relu' = (out > 0). That is also what a layer
keeps from its forward pass, so nothing is computed twice.

Shapes: x, out, dout and dx all have the same shape, (batch, units) in a Dense layer.
None of these functions modifies its arguments.

Look an activation up by its Keras name with ``get('relu')``.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

__all__ = [
    "linear", "linear_backward", "step", "step_backward", "sigmoid", "sigmoid_backward",
    "tanh", "tanh_backward", "relu", "relu_backward", "softmax", "softmax_backward",
    "log_softmax", "derivative", "Activation", "get", "NAMES",
]


# --- linear ----------------------------------------------------------------------------------
def linear(x: np.ndarray) -> np.ndarray:
    """f(x) = x. The identity: a layer with it computes only x @ kernel + bias.

    >>> linear(np.array([-2.0, 3.0]))
    array([-2.,  3.])
    """
    return np.asarray(x)


def linear_backward(dout: np.ndarray, out: np.ndarray) -> np.ndarray:
    """f'(x) = 1, so dx = dout."""
    return dout


# --- step (the perceptron's activation) ------------------------------------------------------
def step(x: np.ndarray) -> np.ndarray:
    """Heaviside step: f(x) = 1 if x >= 0 else 0 (same dtype as x).

    The perceptron fires when its weighted sum reaches the threshold.

    >>> step(np.array([-0.5, 0.0, 2.0]))
    array([0., 1., 1.])
    """
    x = np.asarray(x)
    return (x >= 0).astype(x.dtype if x.dtype.kind == "f" else np.float32)


def step_backward(dout: np.ndarray, out: np.ndarray) -> np.ndarray:
    """f'(x) = 0 everywhere (undefined at 0): the step passes no gradient back.

    That is why the perceptron uses its own learning rule and why gradient descent needs a
    smooth activation such as the sigmoid.
    """
    return np.zeros_like(dout)


# --- sigmoid ---------------------------------------------------------------------------------
def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function: f(x) = 1 / (1 + exp(-x)), values in (0, 1).

    Computed from z = exp(-|x|), which never overflows:
        x >= 0:  1 / (1 + z)        x < 0:  z / (1 + z)
    so sigmoid(1e4) = 1.0 and sigmoid(-1e4) = 0.0 with no warning.

    >>> sigmoid(np.array([0.0]))
    array([0.5])
    """
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    z = np.exp(-np.abs(x))          # in (0, 1]: never overflows
    out = 1 / (1 + z)               # sigmoid(|x|)
    return np.where(x >= 0, out, z * out)  # sigmoid(-|x|) = z / (1 + z) = z * sigmoid(|x|)


def sigmoid_backward(dout: np.ndarray, out: np.ndarray) -> np.ndarray:
    """f'(x) = f(x) * (1 - f(x)) = out * (1 - out); dx = dout * out * (1 - out).

    The largest slope is 0.25, at x = 0: each sigmoid layer shrinks the gradient at least
    fourfold, the root of vanishing gradients in deep sigmoid networks.
    """
    return dout * out * (1 - out)


# --- tanh ------------------------------------------------------------------------------------
def tanh(x: np.ndarray) -> np.ndarray:
    """Hyperbolic tangent: f(x) = (e^x - e^-x) / (e^x + e^-x), values in (-1, 1), f(0) = 0.

    >>> tanh(np.array([0.0]))
    array([0.])
    """
    return np.tanh(x)


def tanh_backward(dout: np.ndarray, out: np.ndarray) -> np.ndarray:
    """f'(x) = 1 - f(x)^2 = 1 - out^2; dx = dout * (1 - out^2). Largest slope 1, at 0."""
    return dout * (1 - out * out)


# --- relu ------------------------------------------------------------------------------------
def relu(x: np.ndarray) -> np.ndarray:
    """Rectified linear unit: f(x) = max(x, 0).

    >>> relu(np.array([-1.0, 0.0, 2.0]))
    array([0., 0., 2.])
    """
    return np.maximum(x, 0)


def relu_backward(dout: np.ndarray, out: np.ndarray) -> np.ndarray:
    """f'(x) = 1 if x > 0 else 0 (we take 0 at x = 0); dx = dout * f'(x) = dout * (out > 0).

    The slope is 1 wherever the unit is active, so the gradient passes unshrunk; where the unit
    is off, nothing passes. (Multiplying by the 0/1 mask is several times faster than
    np.where(out > 0, dout, 0), whose per-element choice the CPU cannot predict. The two differ
    only for an infinite or NaN dout at an off unit, where 0 * inf gives NaN.)
    """
    return dout * (out > 0)


# --- softmax ---------------------------------------------------------------------------------
def softmax(x: np.ndarray) -> np.ndarray:
    """Softmax over the last axis: f(x)_i = exp(x_i) / sum_j exp(x_j).

    Each row becomes a probability distribution (positive, sums to 1) over mutually exclusive
    classes. Subtracting the row maximum first changes nothing mathematically
    (exp(x_i - m) / sum_j exp(x_j - m) is the same fraction) but keeps every exp() <= 1, so
    inputs of any size are safe.

    x: shape (batch, classes) or (classes,). Returns the same shape.

    >>> softmax(np.array([0.0, np.log(3.0)]))
    array([0.25, 0.75])
    """
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    e /= e.sum(axis=-1, keepdims=True)
    return e


def softmax_backward(dout: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Vector-Jacobian product of softmax, row by row, without building the Jacobian.

    The Jacobian is J_ij = out_i * (delta_ij - out_j), so
        dx_i = sum_j dout_j * J_ji = out_i * (dout_i - sum_j dout_j * out_j).
    Cost O(batch * classes), not O(batch * classes^2).
    """
    return out * (dout - (dout * out).sum(axis=-1, keepdims=True))


def log_softmax(x: np.ndarray) -> np.ndarray:
    """log(softmax(x)) over the last axis, computed stably as (x - m) - log(sum exp(x - m)).

    Never takes log(0): log_softmax([0, -1e4]) = [0, -1e4], where log(softmax(...)) gives -inf.
    """
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


# --- lookup ----------------------------------------------------------------------------------
class Activation(NamedTuple):
    """An activation's name, forward and backward functions."""

    name: str
    forward: Callable[[np.ndarray], np.ndarray]
    backward: Callable[[np.ndarray, np.ndarray], np.ndarray]

    def __call__(self, x):
        return self.forward(x)


_REGISTRY = {
    "linear": Activation("linear", linear, linear_backward),
    "sigmoid": Activation("sigmoid", sigmoid, sigmoid_backward),
    "tanh": Activation("tanh", tanh, tanh_backward),
    "relu": Activation("relu", relu, relu_backward),
    "softmax": Activation("softmax", softmax, softmax_backward),
    "step": Activation("step", step, step_backward),
}
NAMES = tuple(_REGISTRY)


def get(identifier) -> Activation:
    """Look up an activation by its Keras name ('relu', 'sigmoid', ...); None means 'linear'.

    An ``Activation`` is returned as is. An unknown name raises ValueError listing the valid ones.
    """
    if identifier is None:
        return _REGISTRY["linear"]
    if isinstance(identifier, Activation):
        return identifier
    if isinstance(identifier, str):
        key = identifier.lower()
        if key in _REGISTRY:
            return _REGISTRY[key]
        raise ValueError(f"Unknown activation {identifier!r}. Valid names: {', '.join(NAMES)}.")
    raise TypeError(
        f"activation must be a name such as 'relu' (one of {', '.join(NAMES)}), None or an "
        f"Activation, got {type(identifier).__name__}."
    )


def derivative(name: str, x: np.ndarray) -> np.ndarray:
    """f'(x) for the activation called ``name``, elementwise (softmax: the diagonal J_ii).

    Handy for plotting an activation beside its slope.
    """
    act = get(name)
    out = act.forward(x)
    if act.name == "softmax":
        return out * (1 - out)
    return act.backward(np.ones_like(out), out)
