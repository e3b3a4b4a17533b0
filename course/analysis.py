"""Looking inside a network: what the lessons on layers and backpropagation measure.

    collapse_linear(kernel1, bias1, kernel2, bias2)  two linear layers are one linear layer
    collapse_linear_model(model)                     the same for a whole stack of linear layers
    backprop_trace(model, x, y)                      every number of one forward and backward pass
    gradient_norms(model, x, y)                      the size of dL/dkernel in each layer
    deep_network(depth, units, activation, ...)      a deep, narrow model to watch gradients vanish
    torch_gradients(model, x, y, device)             the same gradients from PyTorch autograd
    distinct_units(kernel)                           how many different hidden units a kernel holds

Everything here uses NumPy and the course's own kernels, except ``torch_gradients``, which
imports torch (and ``course.torch``) when it is called.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .layers import Dense, DenseCache, dense_backward, dense_forward
from .models import Sequential

__all__ = [
    "collapse_linear", "collapse_linear_model", "LayerTrace", "BackpropTrace", "backprop_trace",
    "gradient_norms", "deep_network", "torch_gradients", "distinct_units",
]


# --- stacked linear layers -------------------------------------------------------------------
def collapse_linear(kernel1, bias1, kernel2, bias2):
    """The single linear layer equal to two stacked linear layers.

        (x @ K1 + b1) @ K2 + b2 = x @ (K1 @ K2) + (b1 @ K2 + b2)

    kernel1 (n, h), bias1 (h,), kernel2 (h, m), bias2 (m,). Returns (kernel (n, m), bias (m,)).
    However many units the middle layer has, the pair computes no more than one layer could.

    >>> k, b = collapse_linear(np.array([[2.0]]), np.array([1.0]), np.array([[3.0]]), np.array([-1.0]))
    >>> k, b                              # 3 * (2x + 1) - 1 = 6x + 2
    (array([[6.]]), array([2.]))
    """
    kernel1, kernel2 = np.asarray(kernel1), np.asarray(kernel2)
    if kernel1.ndim != 2 or kernel2.ndim != 2 or kernel1.shape[1] != kernel2.shape[0]:
        raise ValueError(f"kernel1 must be (n, h) and kernel2 (h, m) with the same h; got shapes "
                         f"{kernel1.shape} and {kernel2.shape}.")
    return kernel1 @ kernel2, np.asarray(bias1) @ kernel2 + np.asarray(bias2)


def collapse_linear_model(model: Sequential):
    """The (kernel, bias) of one linear layer that computes exactly what ``model`` computes.

    Every layer of the model must have the linear activation; a single non-linear layer breaks
    the collapse, and that is the point of activation functions.
    """
    _check_dense_model(model)
    nonlinear = [f"{layer.name} ({layer.activation.name})" for layer in model.layers
                 if layer.activation.name != "linear"]
    if nonlinear:
        raise ValueError(f"only linear layers collapse into one; these are not linear: "
                         f"{', '.join(nonlinear)}.")
    first = model.layers[0]
    kernel = first.kernel.astype(np.float64)
    bias = _bias(first).astype(np.float64)
    for layer in model.layers[1:]:
        kernel, bias = collapse_linear(kernel, bias, layer.kernel, _bias(layer))
    return kernel, bias


# --- one forward and backward pass, every number kept ----------------------------------------
class LayerTrace(NamedTuple):
    """One layer's numbers in one forward and backward pass (B = batch, n inputs, m units).

    kernel (n, m) is a copy of the layer's weights at the time of the pass.

    Going:   z = x @ kernel + bias  (B, m);  out = activation(z)  (B, m)
    Return:  dout = dL/dout (B, m)  ->  dz = dL/dz (B, m)  ->  dkernel (n, m), dbias (m,),
             dx = dz @ kernel.T (B, n): the share of the error passed to the layer below.
    """

    name: str
    activation: str
    kernel: np.ndarray
    x: np.ndarray
    z: np.ndarray
    out: np.ndarray
    dout: np.ndarray
    dz: np.ndarray
    dkernel: np.ndarray
    dbias: np.ndarray
    dx: np.ndarray


class BackpropTrace(NamedTuple):
    """The loss and every layer's LayerTrace, first layer first."""

    loss: float
    layers: list


def backprop_trace(model: Sequential, x, y) -> BackpropTrace:
    """Run one forward and one backward pass with the pure kernels and keep every array.

    The loss gradient is taken with respect to the model's output (``loss.backward``) and then
    passed through each activation's backward function, layer by layer from the last, exactly
    as the chain rule reads. (The model's own training step fuses softmax with cross-entropy
    for speed; the numbers are the same.) The model must be compiled; nothing is updated.
    """
    _check_dense_model(model)
    if model.loss is None:
        raise RuntimeError("compile the model first (model.compile(loss=..., optimizer=...)): "
                           "the trace needs its loss.")
    x, y = model._check_data(x, y)
    inputs, zs, outs = [], [], []
    a = x
    for layer in model.layers:
        z, _ = dense_forward(a, layer.kernel, layer.bias)
        inputs.append(a)
        zs.append(z)
        a = layer.activation.forward(z)
        outs.append(a)
    loss = model.loss.forward(y, a)
    dout = model.loss.backward(y, a)
    traces = []
    for layer, a_in, z, out in reversed(list(zip(model.layers, inputs, zs, outs))):
        dz = layer.activation.backward(dout, out)
        dx, dkernel, dbias = dense_backward(dz, DenseCache(a_in, layer.kernel))
        traces.append(LayerTrace(layer.name, layer.activation.name, layer.kernel.copy(), a_in, z,
                                 out, dout, dz, dkernel, dbias, dx))
        dout = dx
    return BackpropTrace(float(loss), traces[::-1])


def gradient_norms(model: Sequential, x, y) -> np.ndarray:
    """||dL/dkernel|| (Frobenius norm) of each layer for the batch (x, y), first layer first.

    The model must be compiled; its weights are not changed. Returns shape (n_layers,).
    """
    _check_dense_model(model)
    model.compute_gradients(x, y)
    return np.array([float(np.linalg.norm(layer.dkernel)) for layer in model.layers])


def deep_network(depth: int = 10, units: int = 16, activation: str = "sigmoid", input_dim: int = 2,
                 output_units: int = 1, output_activation: str = "sigmoid",
                 loss: str = "binary_crossentropy", kernel_initializer: str = "glorot_uniform",
                 seed: int = 0, dtype=np.float32) -> Sequential:
    """A compiled model of ``depth`` hidden Dense layers of ``units`` units, then an output layer.

    Each layer gets its own seed (seed, seed + 1, ...), so the same arguments give the same
    weights. Used to compare how gradients shrink from the output back to the first layer.
    """
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or depth < 1:
        raise ValueError(f"depth (the number of hidden layers) must be an integer >= 1, got {depth!r}.")
    model = Sequential(name=f"deep_{activation}")
    model.add(Dense(units, activation=activation, input_shape=(input_dim,),
                    kernel_initializer=kernel_initializer, seed=seed, dtype=dtype))
    for i in range(1, depth):
        model.add(Dense(units, activation=activation, kernel_initializer=kernel_initializer,
                        seed=seed + i, dtype=dtype))
    model.add(Dense(output_units, activation=output_activation,
                    kernel_initializer=kernel_initializer, seed=seed + depth, dtype=dtype))
    model.compile(loss=loss, optimizer="sgd")
    return model


# --- the same gradients from PyTorch ---------------------------------------------------------
def torch_gradients(model: Sequential, x, y, device: str = "cpu") -> list[np.ndarray]:
    """dL/dweight for every weight of ``model``, computed by PyTorch autograd on ``device``.

    The model is copied into a ``torch.nn.Sequential`` (``course.torch.to_torch``, same weights,
    same dtype), its loss is computed with ``course.torch.kernels.loss`` (torch operations
    following the course's definitions) and ``loss.backward()`` fills every ``.grad``.
    torch keeps a Linear layer's weight as (units, inputs), the transpose of our kernel, so each
    weight gradient is transposed back. Returns NumPy arrays in the order of
    ``model.get_weights()``, to compare with ``model.compute_gradients(x, y)``.
    """
    import torch  # imported here: the rest of the course does not need PyTorch

    from .torch import kernels, to_torch

    _check_dense_model(model)
    if model.loss is None:
        raise RuntimeError("compile the model first: the gradients are those of its loss.")
    x, y = model._check_data(x, y)
    net, _ = to_torch(model, device)
    xt = torch.as_tensor(x, device=device)
    yt = torch.as_tensor(y, device=device)
    loss = kernels.loss(model.loss.name, yt, net(xt))
    loss.backward()
    grads = []
    for module in net:
        if isinstance(module, torch.nn.Linear):
            grads.append(module.weight.grad.T.detach().cpu().numpy())
            if module.bias is not None:
                grads.append(module.bias.grad.detach().cpu().numpy())
    return grads


# --- checks ------------------------------------------------------------------------------------
def _check_dense_model(model) -> None:
    if not isinstance(model, Sequential) or not model.layers:
        raise TypeError(f"expected a Sequential model with Dense layers, got {model!r}.")
    for layer in model.layers:
        if not isinstance(layer, Dense):
            raise TypeError(f"expected Dense layers only, got {type(layer).__name__} ({layer.name!r}).")


def _bias(layer: Dense) -> np.ndarray:
    return layer.bias if layer.use_bias else np.zeros(layer.units, dtype=layer.kernel.dtype)


def distinct_units(kernel, decimals: int = 6) -> int:
    """How many different hidden units a kernel (n_inputs, units) holds (columns equal up to rounding)."""
    return len(np.unique(np.round(np.asarray(kernel, dtype=float).T, decimals), axis=0))

