"""The course's kernels again, built on PyTorch: the independent implementation ours are checked
against, on the CPU or on a GPU.

Each function here takes and returns torch tensors on any device. Wherever torch has the
operation built in, it is used as it is, so that a comparison with ``course.activations``,
``course.losses`` and ``course.layers`` sets two implementations side by side, not one copied
twice:

    forward passes     torch.sigmoid, torch.tanh, F.relu, F.softmax, F.linear, ...
    backward passes    torch.autograd.grad of the forward pass (never a hand-written derivative)
    losses             F.mse_loss, F.binary_cross_entropy, F.nll_loss, F.cross_entropy

Conventions that differ between the two, and how they are reconciled:

- The course's backward functions take the forward OUTPUT (``relu_backward(dout, out)``);
  autograd needs the INPUT, so ``activation_backward(name, dout, x)`` takes x.
- Keras clips probabilities to [1e-7, 1 - 1e-7] before a log; torch's losses on probabilities do
  not. The clip is applied here with ``torch.clamp`` before the torch loss, so the values agree
  and autograd's gradient is 0 wherever a probability was clipped, as in the course.
- torch has no cross-entropy on probabilities with soft targets: ``categorical_crossentropy``
  writes Keras's formula with torch operations and lets autograd differentiate it.
- ``F.linear`` takes its weight in torch's (out, in) layout: the Keras kernel (in, out) is passed
  transposed, and its gradient comes back in the Keras layout.

Shapes are those of the NumPy kernels: x, out, dout (B, units); y_true, y_pred (B, K), or integer
labels (B,) for the sparse loss; kernel (n, m), bias (m,).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..losses import EPSILON

__all__ = [
    "ACTIVATIONS", "activation", "activation_backward", "log_softmax",
    "LOSSES", "loss", "loss_backward",
    "mean_squared_error", "binary_crossentropy", "categorical_crossentropy",
    "sparse_categorical_crossentropy", "softmax_crossentropy", "sigmoid_binary_crossentropy",
    "logits_backward", "dense_forward", "dense_backward",
]


# --- activations ---------------------------------------------------------------------------------
def _step(x: torch.Tensor) -> torch.Tensor:
    """Heaviside step, 1 where x >= 0: torch.heaviside with the value 1 at x = 0."""
    return torch.heaviside(x, torch.ones((), dtype=x.dtype, device=x.device))


#: Forward pass of every activation, by its Keras name.
ACTIVATIONS = {
    "linear": lambda x: x,
    "step": _step,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": F.relu,
    "softmax": lambda x: F.softmax(x, dim=-1),
}


def _lookup(table: dict, kind: str, name: str):
    try:
        return table[name]
    except KeyError:
        raise ValueError(f"no torch {kind} called {name!r}; the names are {', '.join(table)}.") from None


def activation(name: str, x: torch.Tensor) -> torch.Tensor:
    """f(x) for the activation ``name`` ('relu', 'softmax', ...), with torch's own function.

    >>> activation('relu', torch.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    """
    return _lookup(ACTIVATIONS, "activation", name)(x)


def activation_backward(name: str, dout: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """dL/dx given dout = dL/dout, where out = f(x): torch.autograd.grad of ``activation``.

    x is the forward INPUT (the course's ``*_backward`` functions take the output instead).
    The step function has no derivative in torch (``torch.heaviside`` refuses autograd); its
    slope is 0 wherever it exists, so the step passes zeros back, as in the course.

    >>> activation_backward('relu', torch.ones(2), torch.tensor([-1.0, 2.0]))
    tensor([0., 1.])
    """
    forward = _lookup(ACTIVATIONS, "activation", name)
    if name == "step":
        return torch.zeros_like(dout)
    with torch.enable_grad():
        x = x.detach().requires_grad_(True)
        (dx,) = torch.autograd.grad(forward(x), x, grad_outputs=dout)
    return dx


def log_softmax(x: torch.Tensor) -> torch.Tensor:
    """log(softmax(x)) over the last axis: F.log_softmax."""
    return F.log_softmax(x, dim=-1)


# --- losses ----------------------------------------------------------------------------------------
def _clip(p: torch.Tensor) -> torch.Tensor:
    """Keras's clip of probabilities to [1e-7, 1 - 1e-7], in p's dtype (as NumPy's clip does)."""
    return p.clamp(EPSILON, 1 - EPSILON)


def mean_squared_error(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """mean (y_pred - y_true)^2 over every entry: F.mse_loss."""
    return F.mse_loss(y_pred, y_true)


def binary_crossentropy(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """mean of -(y log p + (1 - y) log(1 - p)), p = y_pred clipped: F.binary_cross_entropy."""
    return F.binary_cross_entropy(_clip(y_pred), y_true)


def categorical_crossentropy(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """Keras's categorical cross-entropy on probabilities, with torch operations.

    q = y_pred / sum_k y_pred_k (each row rescaled to sum to 1), clipped; L = mean over the
    batch of -sum_k y_k log q_k. torch's F.cross_entropy takes logits, not probabilities, so the
    formula is written out; its gradient is autograd's.
    """
    q = _clip(y_pred / y_pred.sum(dim=-1, keepdim=True))
    return -(y_true * torch.log(q)).sum() / (y_pred.shape[0] if y_pred.dim() > 1 else 1)


def sparse_categorical_crossentropy(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """Mean of -log q[label], q the rescaled and clipped probabilities: F.nll_loss on log q.

    y_true: integer labels (B,) or (B, 1).
    """
    q = _clip(y_pred / y_pred.sum(dim=-1, keepdim=True))
    return F.nll_loss(torch.log(q), y_true.reshape(-1).long())


def softmax_crossentropy(y_true: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of softmax(logits), straight from the logits: F.cross_entropy.

    y_true: one-hot rows (B, K) or integer labels (B,). Its gradient with respect to the logits
    is (softmax(logits) - y) / B, the course's ``softmax_crossentropy_backward``. No clipping:
    the value equals Keras's while every true-class probability is inside (1e-7, 1 - 1e-7).
    """
    if y_true.dim() == logits.dim():
        return F.cross_entropy(logits, y_true)
    return F.cross_entropy(logits, y_true.reshape(-1).long())


def sigmoid_binary_crossentropy(y_true: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of sigmoid(logits), from the logits: F.binary_cross_entropy_with_logits.

    Its gradient with respect to the logits is (sigmoid(logits) - y) / (B * K), the course's
    ``sigmoid_binary_crossentropy_backward``.
    """
    return F.binary_cross_entropy_with_logits(logits, y_true)


#: Loss value functions of probabilities (or any output), by Keras name.
LOSSES = {
    "mean_squared_error": mean_squared_error,
    "binary_crossentropy": binary_crossentropy,
    "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
}


def loss(name: str, y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """The loss ``name`` of a batch, a 0-d tensor ('mse' is 'mean_squared_error')."""
    name = "mean_squared_error" if name == "mse" else name
    return _lookup(LOSSES, "loss", name)(y_true, y_pred)


def _grad_wrt_second(fn, y_true: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    with torch.enable_grad():
        z = z.detach().requires_grad_(True)
        (dz,) = torch.autograd.grad(fn(y_true, z), z)
    return dz


def loss_backward(name: str, y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """dL/dy_pred of the loss ``name``: torch.autograd.grad of ``loss``. Shape of y_pred."""
    name = "mean_squared_error" if name == "mse" else name
    return _grad_wrt_second(_lookup(LOSSES, "loss", name), y_true, y_pred)


def logits_backward(name: str, y_true: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """dL/dlogits of a fused output: 'softmax_crossentropy' or 'sigmoid_binary_crossentropy'.

    torch.autograd.grad of F.cross_entropy or F.binary_cross_entropy_with_logits.
    """
    fused = {"softmax_crossentropy": softmax_crossentropy,
             "sigmoid_binary_crossentropy": sigmoid_binary_crossentropy}
    return _grad_wrt_second(_lookup(fused, "fused loss", name), y_true, logits)


# --- Dense ---------------------------------------------------------------------------------------
def dense_forward(x: torch.Tensor, kernel: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """out = x @ kernel + bias with F.linear, which takes the weight in torch's (out, in) layout.

    x (B, n); kernel (n, m), the Keras layout; bias (m,) or None. Returns out (B, m).
    """
    return F.linear(x, kernel.t(), bias)


def dense_backward(dout: torch.Tensor, x: torch.Tensor, kernel: torch.Tensor,
                   bias: torch.Tensor | None):
    """(dx, dkernel, dbias) of ``dense_forward`` given dout (B, m): torch.autograd.grad.

    dx (B, n); dkernel (n, m), the Keras layout; dbias (m,), or None without a bias.
    """
    with torch.enable_grad():
        leaves = [t.detach().requires_grad_(True) for t in (x, kernel)]
        if bias is not None:
            leaves.append(bias.detach().requires_grad_(True))
        out = dense_forward(leaves[0], leaves[1], leaves[2] if bias is not None else None)
        grads = torch.autograd.grad(out, leaves, grad_outputs=dout)
    return grads[0], grads[1], (grads[2] if bias is not None else None)
