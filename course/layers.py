"""The Dense layer: every input connected to every unit.

Two levels, as everywhere in the course:

- pure kernel functions ``dense_forward(x, kernel, bias) -> (out, cache)`` and
  ``dense_backward(dout, cache) -> (dx, dkernel, dbias)`` that compute and never modify their
  arguments;
- the ``Dense`` object (Keras's name and arguments), which owns the weights, applies the
  activation and keeps what the backward pass needs.

Shapes (B = batch size, n = inputs, m = units), Keras's layout:
    x (B, n)    kernel (n, m)    bias (m,)    out (B, m)
"""
from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np

from . import activations, initializers
from .utils import check_int, get_rng

__all__ = ["DenseCache", "dense_forward", "dense_backward", "Layer", "Dense"]


class DenseCache(NamedTuple):
    """What ``dense_backward`` needs from the forward pass."""

    x: np.ndarray       # (B, n) the layer's input
    kernel: np.ndarray  # (n, m)


def dense_forward(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray | None):
    """out = x @ kernel + bias: each unit j computes sum_i x_i * w_ij + b_j.

    x: (B, n); kernel: (n, m); bias: (m,) or None. Returns out (B, m) and a DenseCache.

    >>> out, _ = dense_forward(np.array([[1.0, 2.0]]), np.array([[1.0], [1.0]]), np.array([0.5]))
    >>> out
    array([[3.5]])
    """
    out = x @ kernel
    if bias is not None:
        out += bias  # out is a fresh array: adding in place saves a copy
    return out, DenseCache(x, kernel)


def dense_backward(dout: np.ndarray, cache: DenseCache, need_dx: bool = True):
    """Gradients of out = x @ kernel + bias, given dout = dL/dout of shape (B, m).

        dkernel = x.T @ dout      (n, m)   each weight w_ij gets x_i times unit j's error
        dbias   = sum_B dout      (m,)
        dx      = dout @ kernel.T (B, n)   each input gets the errors of the units it feeds,
                                           weighted by the connections: its share of the error

    ``need_dx=False`` skips dx (the first layer's input is data, which is not trained): dx is None.
    """
    x, kernel = cache
    dkernel = x.T @ dout
    dbias = dout.sum(axis=0)
    dx = dout @ kernel.T if need_dx else None
    return dx, dkernel, dbias


class Layer:
    """Base class: a layer has a name, weights (possibly none), forward and backward."""

    def __init__(self, name: str | None = None):
        self.name = name
        self.built = False
        self.input_shape: tuple | None = None

    @property
    def weights(self) -> list[np.ndarray]:
        return []

    @property
    def gradients(self) -> list[np.ndarray]:
        return []

    def count_params(self) -> int:
        return int(sum(w.size for w in self.weights))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        raise NotImplementedError

    def build(self, input_shape: tuple) -> None:
        self.input_shape = tuple(input_shape)
        self.built = True


class Dense(Layer):
    """A fully connected layer: out = activation(x @ kernel + bias).

    Dense(units, activation=None, input_shape=None, use_bias=True,
          kernel_initializer='glorot_uniform', bias_initializer='zeros')

    units: number of neurons m. activation: a Keras name ('relu', 'sigmoid', 'tanh', 'softmax',
    'linear', 'step') or None for linear. input_shape: (n,), needed on the first layer of a model
    only. The weights are created when the input size is known (``build``).

    Attributes after a forward and backward pass: ``kernel`` (n, m), ``bias`` (m,), and
    ``dkernel``, ``dbias`` holding dL/dkernel and dL/dbias of the last batch.

    >>> layer = Dense(3, activation='relu', input_shape=(4,))
    >>> layer.kernel.shape, layer.bias.shape, layer.count_params()
    ((4, 3), (3,), 15)
    """

    def __init__(self, units: int, activation=None, input_shape=None, use_bias: bool = True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 name: str | None = None, dtype=np.float32, seed=None, input_dim: int | None = None):
        super().__init__(name)
        check_int("Dense(units)", units, low=1, example=10)
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise ValueError(f"Dense dtype must be a floating type such as float32, got {self.dtype}.")
        self.seed = seed
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        if input_shape is not None:
            input_shape = _as_shape(input_shape)
            if len(input_shape) != 1:
                raise ValueError(
                    f"Dense takes flat inputs: input_shape must be (features,), got {input_shape}. "
                    "Flatten images first, e.g. x.reshape(len(x), -1)."
                )
        self.declared_input_shape = input_shape
        self.kernel: np.ndarray | None = None
        self.bias: np.ndarray | None = None
        self.dkernel: np.ndarray | None = None
        self.dbias: np.ndarray | None = None
        self._cache: DenseCache | None = None
        self._out: np.ndarray | None = None
        if input_shape is not None:
            self.build((None,) + input_shape)

    # -- weights ------------------------------------------------------------------------------
    def build(self, input_shape: tuple) -> None:
        """Create kernel (n, m) and bias (m,) for inputs of shape (batch, n)."""
        n = input_shape[-1]
        rng = get_rng(self.seed)
        self.kernel = np.ascontiguousarray(self.kernel_initializer((n, self.units), rng, self.dtype))
        self.bias = (
            np.ascontiguousarray(self.bias_initializer((self.units,), rng, self.dtype))
            if self.use_bias else None
        )
        super().build(input_shape)

    @property
    def weights(self) -> list[np.ndarray]:
        return [self.kernel, self.bias] if self.use_bias else [self.kernel]

    @property
    def gradients(self) -> list[np.ndarray]:
        return [self.dkernel, self.dbias] if self.use_bias else [self.dkernel]

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return tuple(input_shape[:-1]) + (self.units,)

    # -- passes -------------------------------------------------------------------------------
    def forward(self, x: np.ndarray) -> np.ndarray:
        """activation(x @ kernel + bias) for x of shape (B, n); remembers what backward needs."""
        z, self._cache = dense_forward(x, self.kernel, self.bias)
        self._out = self.activation.forward(z)
        return self._out

    def backward(self, dout: np.ndarray, need_dx: bool = True, dz: np.ndarray | None = None):
        """Backpropagate dL/dout (B, m) through the activation and the weights.

        Stores ``dkernel`` and ``dbias`` and returns dx (B, n) (None if ``need_dx`` is False).
        Pass ``dz`` (dL/d(x @ kernel + bias)) instead of ``dout`` when it is already known, as
        with the fused softmax + cross-entropy gradient.
        """
        if self._cache is None:
            raise RuntimeError(f"{self.name}: call forward() before backward().")
        if dz is None:
            dz = self.activation.backward(dout, self._out)
        dx, self.dkernel, self.dbias = dense_backward(dz, self._cache, need_dx)
        return dx

    @property
    def output(self) -> np.ndarray | None:
        """The activations of the last forward pass, shape (B, m)."""
        return self._out

    def __repr__(self) -> str:
        return f"Dense({self.units}, activation={self.activation.name!r}, name={self.name!r})"


def _as_shape(shape) -> tuple:
    if isinstance(shape, numbers.Integral):
        shape = (shape,)
    try:
        shape = tuple(int(s) for s in shape)
    except (TypeError, ValueError):
        raise ValueError(f"input_shape must be a tuple of positive integers such as (784,), got {shape!r}.") from None
    if any(s < 1 for s in shape):
        raise ValueError(f"input_shape must hold positive integers, got {shape}.")
    return shape
