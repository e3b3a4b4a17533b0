"""Loss functions: how far the predictions are from the labels, and the gradient of that.

Each loss comes as two pure functions:

    loss(y_true, y_pred)           -> float      mean over the batch
    loss_backward(y_true, y_pred)  -> dy_pred    dL/dy_pred, same shape as y_pred

Conventions (those of Keras 2):
- Each example's loss is averaged over its last axis (MSE, binary cross-entropy) or summed over
  the classes (categorical cross-entropy); the batch loss is the mean over the B examples, so
  every gradient carries a factor 1/B.
- Probability inputs are clipped to [EPSILON, 1 - EPSILON] with EPSILON = 1e-7 before the log,
  so the loss never becomes infinite; where a probability is clipped, its gradient is 0.
  Categorical cross-entropy first rescales each row to sum to 1.
- A softmax output layer followed by categorical cross-entropy has the fused gradient
  dL/dz = (softmax(z) - y) / B with respect to the logits z (``softmax_crossentropy_backward``);
  sigmoid with binary cross-entropy likewise has (sigmoid(z) - y) / (B * D). It is exact, cheaper
  and never divides by a tiny probability, so the model uses it whenever the pair occurs.

Shapes: y_pred (B, K). y_true (B, K), except sparse categorical cross-entropy, which takes
integer labels of shape (B,) (or (B, 1)).
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

__all__ = [
    "EPSILON", "mean_squared_error", "mean_squared_error_backward",
    "binary_crossentropy", "binary_crossentropy_backward",
    "categorical_crossentropy", "categorical_crossentropy_backward",
    "sparse_categorical_crossentropy", "sparse_categorical_crossentropy_backward",
    "softmax_crossentropy_backward", "sigmoid_binary_crossentropy_backward",
    "Loss", "get", "NAMES", "check_targets",
]

EPSILON = 1e-7


def _batch(y_pred: np.ndarray) -> int:
    return y_pred.shape[0] if y_pred.ndim > 1 else 1


# --- mean squared error ----------------------------------------------------------------------
def mean_squared_error(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """L = mean over the batch of mean_k (y_pred_k - y_true_k)^2.

    >>> mean_squared_error(np.array([[1.0, 0.0]]), np.array([[0.5, 0.5]]))
    0.25
    """
    diff = y_pred - y_true
    return float(np.mean(diff * diff))


def mean_squared_error_backward(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """dL/dy_pred = 2 (y_pred - y_true) / (B * K)."""
    return (y_pred - y_true) * (2.0 / y_pred.size)


# --- binary cross-entropy --------------------------------------------------------------------
def binary_crossentropy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """L = mean of -(y log p + (1 - y) log(1 - p)), with p clipped to [1e-7, 1 - 1e-7].

    y_pred holds probabilities (a sigmoid output); y_true holds 0/1 labels of the same shape.

    >>> round(binary_crossentropy(np.array([[1.0]]), np.array([[0.5]])), 6)  # log 2
    0.693147
    """
    p = np.clip(y_pred, EPSILON, 1 - EPSILON)
    return float(np.mean(-(y_true * np.log(p) + (1 - y_true) * np.log(1 - p))))


def binary_crossentropy_backward(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """dL/dp = (p - y) / (p (1 - p)) / (B * K) where p is inside the clip range, else 0."""
    p = np.clip(y_pred, EPSILON, 1 - EPSILON)
    inside = (y_pred > EPSILON) & (y_pred < 1 - EPSILON)
    grad = (p - y_true) / (p * (1 - p)) / y_pred.size
    return np.where(inside, grad, 0).astype(y_pred.dtype, copy=False)


def sigmoid_binary_crossentropy_backward(y_true: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Fused gradient with respect to the logits z of a sigmoid output: (sigmoid(z) - y) / (B*K)."""
    return (probs - y_true) * (1.0 / probs.size)


# --- categorical cross-entropy ---------------------------------------------------------------
def categorical_crossentropy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """L = mean over the batch of -sum_k y_k log p_k, where p = y_pred / sum(y_pred), clipped.

    y_true must be one-hot (or a distribution) with the shape of y_pred: integer labels belong
    with ``sparse_categorical_crossentropy`` or need ``to_categorical`` first.

    >>> round(categorical_crossentropy(np.array([[0.0, 1.0]]), np.array([[0.25, 0.75]])), 6)
    0.287682
    """
    p = np.clip(y_pred / y_pred.sum(axis=-1, keepdims=True), EPSILON, 1 - EPSILON)
    return float(-np.sum(y_true * np.log(p)) / _batch(y_pred))


def categorical_crossentropy_backward(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """dL/dy_pred through the row rescaling q = p / s (s = sum_k p_k) and the clip:

        g_k = -y_k / q_k  where q_k is inside the clip range, else 0      (dL/dq)
        dL/dp_k = (g_k - sum_j g_j q_j) / s / B

    For rows that already sum to 1 and a one-hot y this is (1 - y_k / p_k) / B.
    """
    s = y_pred.sum(axis=-1, keepdims=True)
    q = y_pred / s
    inside = (q > EPSILON) & (q < 1 - EPSILON)
    g = np.where(inside, -y_true / np.clip(q, EPSILON, 1 - EPSILON), 0)
    grad = (g - (g * q).sum(axis=-1, keepdims=True)) / s / _batch(y_pred)
    return grad.astype(y_pred.dtype, copy=False)


def softmax_crossentropy_backward(y_true: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Fused gradient with respect to the logits z of a softmax output: (softmax(z) - y) / B.

    ``probs`` is softmax(z), shape (B, K). Works for one-hot y_true of shape (B, K) and for
    integer labels of shape (B,) or (B, 1), for which the 1 is subtracted at each row's label.

    >>> softmax_crossentropy_backward(np.array([[1], [0]]), np.array([[0.2, 0.8], [0.6, 0.4]]))
    array([[ 0.1, -0.1],
           [-0.2,  0.2]])
    """
    if y_true.shape == probs.shape and probs.shape[-1] > 1:       # one-hot
        return (probs - y_true) * (1.0 / _batch(probs))
    grad = probs.copy()
    grad[np.arange(probs.shape[0]), _labels(y_true)] -= 1
    grad *= 1.0 / probs.shape[0]
    return grad


# --- sparse categorical cross-entropy --------------------------------------------------------
def _labels(y_true: np.ndarray) -> np.ndarray:
    y = y_true.reshape(-1) if y_true.ndim == 2 else y_true
    return y.astype(np.intp, copy=False)


def sparse_categorical_crossentropy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Categorical cross-entropy with integer labels: L = mean of -log p[label], p clipped.

    >>> round(sparse_categorical_crossentropy(np.array([1]), np.array([[0.25, 0.75]])), 6)
    0.287682
    """
    p = y_pred / y_pred.sum(axis=-1, keepdims=True)
    picked = np.clip(p[np.arange(p.shape[0]), _labels(y_true)], EPSILON, 1 - EPSILON)
    return float(-np.mean(np.log(picked)))


def sparse_categorical_crossentropy_backward(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """The gradient of ``categorical_crossentropy_backward`` with y the one-hot of the labels."""
    onehot = np.zeros_like(y_pred)
    onehot[np.arange(y_pred.shape[0]), _labels(y_true)] = 1
    return categorical_crossentropy_backward(onehot, y_pred)


# --- lookup and checks -----------------------------------------------------------------------
class Loss(NamedTuple):
    """A loss's Keras name, value function and gradient function."""

    name: str
    forward: Callable[[np.ndarray, np.ndarray], float]
    backward: Callable[[np.ndarray, np.ndarray], np.ndarray]

    def __call__(self, y_true, y_pred):
        return self.forward(y_true, y_pred)


_REGISTRY = {
    "mean_squared_error": Loss("mean_squared_error", mean_squared_error, mean_squared_error_backward),
    "binary_crossentropy": Loss("binary_crossentropy", binary_crossentropy, binary_crossentropy_backward),
    "categorical_crossentropy": Loss(
        "categorical_crossentropy", categorical_crossentropy, categorical_crossentropy_backward
    ),
    "sparse_categorical_crossentropy": Loss(
        "sparse_categorical_crossentropy", sparse_categorical_crossentropy,
        sparse_categorical_crossentropy_backward,
    ),
}
_ALIASES = {"mse": "mean_squared_error"}
NAMES = tuple(_REGISTRY)


def get(identifier) -> Loss:
    """Look up a loss by its Keras name ('categorical_crossentropy', 'mse', ...).

    A ``Loss`` is returned as is; an unknown name raises ValueError listing the valid ones.
    """
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        key = _ALIASES.get(identifier.lower(), identifier.lower())
        if key in _REGISTRY:
            return _REGISTRY[key]
        raise ValueError(
            f"Unknown loss {identifier!r}. Valid names: {', '.join(NAMES)} (or 'mse')."
        )
    raise TypeError(
        f"loss must be a name such as 'categorical_crossentropy' (one of {', '.join(NAMES)}) "
        f"or a Loss, got {type(identifier).__name__}."
    )


def check_targets(loss: Loss, y_true: np.ndarray, output_shape: tuple) -> None:
    """Raise a ValueError that says what to do when ``y_true`` does not suit ``loss``.

    output_shape is the model's output shape without the batch axis, e.g. (10,).
    """
    units = output_shape[-1]
    if loss.name == "sparse_categorical_crossentropy":
        ok = y_true.ndim == 1 or (y_true.ndim == 2 and y_true.shape[1] == 1)
        if not ok:
            raise ValueError(
                f"sparse_categorical_crossentropy expects integer labels of shape (n,), got targets "
                f"of shape {y_true.shape}. For one-hot targets use 'categorical_crossentropy'."
            )
        if y_true.size and (np.any(y_true < 0) or np.any(y_true >= units) or np.any(np.mod(y_true, 1) != 0)):
            raise ValueError(
                f"sparse_categorical_crossentropy expects integer labels in 0..{units - 1} "
                f"(the output has {units} units), got values from {y_true.min()} to {y_true.max()}."
            )
        return
    if loss.name == "categorical_crossentropy" and (
        y_true.ndim == 1 or (y_true.ndim == 2 and y_true.shape[1] == 1 and units > 1)
    ):
        raise ValueError(
            f"categorical_crossentropy expects one-hot targets of shape (n, {units}), got integer "
            f"labels of shape {y_true.shape}. Convert them with to_categorical(y, {units}) or use "
            "loss='sparse_categorical_crossentropy'."
        )
    if y_true.ndim == 1 and units == 1:
        return  # (n,) targets for a single output unit are read as (n, 1)
    if y_true.shape[1:] != tuple(output_shape):
        raise ValueError(
            f"{loss.name} expects targets of shape (n, {', '.join(map(str, output_shape))}) to match "
            f"the model's output, got shape {y_true.shape}."
        )
