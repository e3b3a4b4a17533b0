"""From a course model to the same network in PyTorch, and back.

    net, optimizer = to_torch(model, device='cuda')   # same weights, same optimizer trajectory
    ... train net with optimizer.zero_grad(); loss.backward(); optimizer.step() ...
    from_torch(net, model, optimizer)                 # trained weights (and state) back

A Dense layer becomes an ``nn.Linear`` followed by its activation as a torch module
(``nn.ReLU``, ``nn.Sigmoid``, ``nn.Tanh``, ``nn.Softmax(dim=-1)``; nothing for 'linear').
nn.Linear stores its weight as (out, in), the transpose of the Keras kernel (in, out):
weight = kernel.T on the way in, kernel = weight.T on the way back.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..layers import Dense
from .kernels import ACTIVATIONS
from .optimizers import TorchOptimizer

__all__ = ["Step", "to_torch", "from_torch", "torch_dtype"]


class Step(nn.Module):
    """The perceptron's step activation as a torch module: 1 where x >= 0, else 0."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return ACTIVATIONS["step"](x)


_MODULES = {
    "relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh,
    "softmax": lambda: nn.Softmax(dim=-1), "step": Step,
}


def torch_dtype(dtype) -> torch.dtype:
    """The torch dtype of a NumPy floating dtype (float32 -> torch.float32)."""
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"expected a floating dtype such as float32, got {dtype}.")
    return torch.from_numpy(np.zeros(0, dtype=dtype)).dtype


def to_torch(model, device="cpu", capturable: bool = False):
    """The model as a ``torch.nn.Sequential`` with the same weights, and its optimizer in torch.

    model: a course ``Sequential`` of Dense layers. device: 'cpu', 'cuda', ... or a
    torch.device. Returns (net, optimizer): net holds copies of the weights, in the model's
    dtype, on ``device``; optimizer is a ``TorchOptimizer`` that follows the model's compiled
    optimizer (and continues from its state), or None if the model is not compiled.
    capturable: see ``TorchOptimizer``.

    >>> from course import Sequential, Dense
    >>> net, _ = to_torch(Sequential([Dense(3, activation='relu', input_shape=(4,))]))
    >>> net
    Sequential(
      (0): Linear(in_features=4, out_features=3, bias=True)
      (1): ReLU()
    )
    """
    device = torch.device(device)
    modules, transposed = [], []
    for layer in model.layers:
        if not isinstance(layer, Dense):
            raise TypeError(f"to_torch converts Dense layers only; layer {layer.name!r} is a "
                            f"{type(layer).__name__}.")
        name = layer.activation.name
        if name != "linear" and name not in _MODULES:
            raise ValueError(f"layer {layer.name!r} has the activation {name!r}, which has no torch "
                             f"module here; the known ones are linear, {', '.join(_MODULES)}.")
        n, m = layer.kernel.shape
        linear = nn.Linear(n, m, bias=layer.use_bias, device=device, dtype=torch_dtype(layer.dtype))
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(layer.kernel.T)))
            transposed.append(True)
            if layer.use_bias:
                linear.bias.copy_(torch.from_numpy(layer.bias))
                transposed.append(False)
        modules.append(linear)
        if name != "linear":
            modules.append(_MODULES[name]())
    net = nn.Sequential(*modules)
    optimizer = None
    if model.optimizer is not None:
        optimizer = TorchOptimizer(model.optimizer, net.parameters(), transposed, capturable=capturable)
    return net, optimizer


def from_torch(torch_model: nn.Module, model, optimizer: TorchOptimizer | None = None) -> None:
    """Copy the weights of ``torch_model``'s Linear layers, in order, into ``model``'s Dense layers.

    Shapes must match (weight (out, in) for a kernel (in, out)). Pass the ``TorchOptimizer``
    to copy the optimizer's state and step count into the model's optimizer too.
    """
    linears = [m for m in torch_model.modules() if isinstance(m, nn.Linear)]
    if len(linears) != len(model.layers):
        raise ValueError(f"the torch model has {len(linears)} Linear layers but the course model has "
                         f"{len(model.layers)} Dense layers: they must correspond one to one.")
    weights = []
    for linear, layer in zip(linears, model.layers):
        if (linear.bias is not None) != layer.use_bias:
            raise ValueError(f"layer {layer.name!r}: use_bias={layer.use_bias} but the torch layer "
                             f"{'has' if linear.bias is not None else 'has no'} bias.")
        kernel = linear.weight.detach().cpu().numpy().T
        if kernel.shape != layer.kernel.shape:
            raise ValueError(f"layer {layer.name!r} has a kernel of shape {layer.kernel.shape}; the torch "
                             f"weight of shape {tuple(linear.weight.shape)} transposes to {kernel.shape}.")
        weights.append(kernel)
        if layer.use_bias:
            weights.append(linear.bias.detach().cpu().numpy())
    model.set_weights(weights)
    if optimizer is not None:
        optimizer.write_course_state(model.trainable_weights)
