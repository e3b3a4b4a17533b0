"""Metrics: numbers that tell a person how training goes (they are not differentiated).

``accuracy`` follows Keras's meaning, chosen from the shapes of the targets and predictions:

- one-hot targets (B, K), K > 1:       categorical accuracy, argmax(y_pred) == argmax(y_true)
- integer labels (B,) or (B, 1), K > 1: sparse categorical accuracy, argmax(y_pred) == label
- a single output unit (B, 1) or (B,):  binary accuracy, (y_pred > 0.5) == y_true
"""
from __future__ import annotations

import numpy as np

__all__ = ["binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy", "accuracy", "get"]


def binary_accuracy(y_true: np.ndarray, y_pred: np.ndarray, threshold: float = 0.5) -> float:
    """Fraction of outputs on the right side of ``threshold``.

    >>> binary_accuracy(np.array([1, 0, 1]), np.array([0.9, 0.2, 0.4]))
    0.6666666666666666
    """
    y_pred = np.asarray(y_pred)
    y_true = np.asarray(y_true).reshape(y_pred.shape)
    return float(np.mean((y_pred > threshold) == (y_true > 0.5)))


def categorical_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Fraction of rows where the most probable class is the labelled one (one-hot y_true)."""
    hits = np.argmax(y_pred, axis=-1) == np.argmax(y_true, axis=-1)
    return float(np.count_nonzero(hits) / hits.size)


def sparse_categorical_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Fraction of rows where argmax(y_pred) equals the integer label."""
    hits = np.argmax(y_pred, axis=-1) == np.asarray(y_true).reshape(-1)
    return float(np.count_nonzero(hits) / hits.size)


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Keras's 'accuracy': binary, categorical or sparse, chosen from the shapes (see module doc)."""
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    units = y_pred.shape[-1] if y_pred.ndim > 1 else 1
    if units == 1:
        return binary_accuracy(y_true, y_pred)
    if y_true.ndim == 1 or (y_true.ndim == 2 and y_true.shape[1] == 1):
        return sparse_categorical_accuracy(y_true, y_pred)
    return categorical_accuracy(y_true, y_pred)


_REGISTRY = {
    "accuracy": accuracy,
    "acc": accuracy,
    "binary_accuracy": binary_accuracy,
    "categorical_accuracy": categorical_accuracy,
    "sparse_categorical_accuracy": sparse_categorical_accuracy,
}


def get(identifier):
    """Return (name, function) for a metric name such as 'accuracy', or a function f(y_true, y_pred)."""
    if isinstance(identifier, str):
        key = identifier.lower()
        if key not in _REGISTRY:
            raise ValueError(f"Unknown metric {identifier!r}. Valid names: {', '.join(_REGISTRY)}.")
        return ("accuracy" if key == "acc" else key), _REGISTRY[key]
    if callable(identifier):
        return identifier.__name__, identifier
    raise TypeError(f"a metric must be a name such as 'accuracy' or a function, got {type(identifier).__name__}.")
