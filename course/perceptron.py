"""A single neuron, and the perceptron with its learning rule.

A neuron j receives inputs x_1 .. x_n, one weight w_ij per connection and a bias b_j:

    z_j   = sum_i x_i * w_ij + b_j        the weighted sum
    out_j = f(z_j)                        the activation (sigmoid, relu, step, ...)

The perceptron is one such neuron with the step activation (out = 1 if z >= 0 else 0), trained
by Rosenblatt's rule, one example at a time:

    y_hat = step(x . w + b)
    w <- w + learning_rate * (y - y_hat) * x
    b <- b + learning_rate * (y - y_hat)

When the prediction is right, y - y_hat = 0 and nothing moves; when it is wrong, the weights move
towards (y = 1) or away from (y = 0) that example. If a straight line separates the two classes,
the rule finds one after finitely many mistakes; if none does (XOR), it never stops making them.

Two levels, as everywhere in the course: pure functions (``neuron_forward``,
``perceptron_predict``, ``perceptron_update``, ``perceptron_epoch``, ``train_perceptron``) that
return new arrays, and a small ``Perceptron`` object that keeps the weights.

Shapes: x (n, d) (n examples, d features); y (n,) of 0/1; weights (d,); bias a float.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import activations
from .utils import SelfCheck, check_int, check_real, get_rng

__all__ = [
    "RuleCheck", "RULE_CASES", "check_update_rule",
    "NeuronOutput", "neuron_forward", "perceptron_predict", "PerceptronStep", "perceptron_update",
    "EpochResult", "perceptron_epoch", "PerceptronHistory", "train_perceptron", "Perceptron",
]


# --- one neuron --------------------------------------------------------------------------------
class NeuronOutput(NamedTuple):
    """The weighted sum z and the activation out = f(z) of a neuron."""

    z: np.ndarray    # (n,) or a scalar for one example
    out: np.ndarray  # same shape as z


def neuron_forward(x, weights, bias: float, activation: str = "sigmoid") -> NeuronOutput:
    """z = sum_i x_i * w_i + b, out = activation(z), for one example (d,) or a batch (n, d).

    weights: (d,). activation: a name from ``course.activations`` ('step', 'sigmoid', 'relu', ...).

    >>> r = neuron_forward([1.0, 2.0], [0.5, -0.25], 0.5, activation='relu')
    >>> float(r.z), float(r.out)      # 1*0.5 + 2*(-0.25) + 0.5
    (0.5, 0.5)
    """
    x = np.asarray(x, dtype=np.float64)
    weights = _as_weights(weights, x.shape[-1])
    z = x @ weights + float(bias)
    return NeuronOutput(z, activations.get(activation).forward(np.asarray(z)))


# --- the perceptron ------------------------------------------------------------------------------
def perceptron_predict(x, weights, bias: float) -> np.ndarray:
    """y_hat = step(x @ weights + bias): 1 where the weighted sum is >= 0, else 0.

    x: (n, d); weights: (d,). Returns int64 of shape (n,).

    >>> perceptron_predict(np.array([[1.0, 1.0], [-1.0, -1.0]]), np.array([1.0, 1.0]), 0.0)
    array([1, 0])
    """
    x = _as_inputs(x)
    weights = _as_weights(weights, x.shape[1])
    return (x @ weights + float(bias) >= 0).astype(np.int64)


class PerceptronStep(NamedTuple):
    """The weights after one example, and whether that example was misclassified."""

    weights: np.ndarray  # (d,)
    bias: float
    error: bool


def perceptron_update(x, y: int, weights, bias: float, learning_rate: float) -> PerceptronStep:
    """Rosenblatt's rule for ONE example x (d,) with label y in {0, 1}:

        y_hat = step(x . w + b);   w' = w + lr * (y - y_hat) * x;   b' = b + lr * (y - y_hat)

    Returns new arrays; the inputs are not modified.

    >>> s = perceptron_update(np.array([1.0, 2.0]), 1, np.array([0.0, -1.0]), 0.0, 0.5)
    >>> s.weights, s.bias, s.error      # z = -2 -> y_hat = 0, wrong: w += 0.5 * x, b += 0.5
    (array([0.5, 0. ]), 0.5, True)
    """
    x = np.asarray(x, dtype=np.float64)
    weights = _as_weights(weights, x.shape[-1])
    y_hat = 1 if float(x @ weights) + float(bias) >= 0 else 0
    delta = int(y) - y_hat
    return PerceptronStep(weights + learning_rate * delta * x, float(bias) + learning_rate * delta,
                          delta != 0)


class EpochResult(NamedTuple):
    """The weights after one pass over the data and the number of mistakes made during it."""

    weights: np.ndarray  # (d,)
    bias: float
    errors: int


def perceptron_epoch(x, y, weights, bias: float, learning_rate: float, order=None) -> EpochResult:
    """One epoch: ``perceptron_update`` on every example in turn (in ``order`` if given).

    ``errors`` counts the examples that were misclassified when their turn came (each caused an
    update). 0 errors means a whole pass without a mistake: the line separates the data.
    """
    x, y = _check_data(x, y)
    learning_rate = _check_learning_rate(learning_rate)
    weights = _as_weights(weights, x.shape[1]).copy()
    bias = float(bias)
    errors = 0
    for i in (range(len(x)) if order is None else order):
        y_hat = 1 if x[i] @ weights + bias >= 0 else 0
        delta = y[i] - y_hat
        if delta:
            weights += learning_rate * delta * x[i]
            bias += learning_rate * delta
            errors += 1
    return EpochResult(weights, bias, errors)


class PerceptronHistory(NamedTuple):
    """Everything a training run went through, epoch by epoch.

    weights[k], biases[k]: the parameters after k epochs (k = 0 is the random start), so
    ``weights`` has shape (epochs + 1, d) and ``biases`` (epochs + 1,). errors[k]: the mistakes
    made during epoch k + 1, shape (epochs,).
    """

    weights: np.ndarray
    biases: np.ndarray
    errors: np.ndarray


def train_perceptron(x, y, learning_rate: float = 0.1, epochs: int = 10, seed=0,
                     init_scale: float = 0.5, shuffle: bool = True) -> PerceptronHistory:
    """Train a perceptron from a random start; keep the weights after every epoch.

    Step 1 of the learning loop: weights ~ Normal(0, init_scale^2), bias 0. Then each epoch
    visits the examples in a fresh random order (``shuffle``) and applies the perceptron rule.
    Training continues for all ``epochs``, even after an epoch without errors (nothing moves then).

    >>> from course.datasets import make_blobs
    >>> x, y = make_blobs(n_samples=40, seed=0)
    >>> history = train_perceptron(x, y, learning_rate=0.1, epochs=5, seed=0)
    >>> history.weights.shape, history.errors.shape, int(history.errors[-1])
    ((6, 2), (5,), 0)
    """
    x, y = _check_data(x, y)
    learning_rate = _check_learning_rate(learning_rate)
    epochs = check_int("epochs", epochs, low=0, example=10)
    rng = get_rng(seed)
    weights = rng.normal(0.0, init_scale, size=x.shape[1])
    bias = 0.0
    all_weights, all_biases, errors = [weights.copy()], [bias], []
    for _ in range(int(epochs)):
        order = rng.permutation(len(x)) if shuffle else None
        weights, bias, n_errors = perceptron_epoch(x, y, weights, bias, learning_rate, order)
        all_weights.append(weights.copy())
        all_biases.append(bias)
        errors.append(n_errors)
    return PerceptronHistory(np.array(all_weights), np.array(all_biases),
                             np.array(errors, dtype=np.int64))


class Perceptron:
    """A perceptron that keeps its weights: ``Perceptron(learning_rate, epochs, seed).fit(x, y)``.

    After ``fit``: ``weights`` (d,), ``bias``, ``history`` (a PerceptronHistory) and
    ``errors_per_epoch`` (a list of ints).

    >>> from course.datasets import make_blobs
    >>> x, y = make_blobs(n_samples=40, seed=0)
    >>> p = Perceptron(learning_rate=0.1, epochs=5, seed=0).fit(x, y)
    >>> float((p.predict(x) == y).mean())
    1.0
    """

    def __init__(self, learning_rate: float = 0.1, epochs: int = 10, seed=0):
        self.learning_rate = _check_learning_rate(learning_rate)
        self.epochs = epochs
        self.seed = seed
        self.weights: np.ndarray | None = None
        self.bias: float | None = None
        self.history: PerceptronHistory | None = None

    def fit(self, x, y) -> "Perceptron":
        self.history = train_perceptron(x, y, self.learning_rate, self.epochs, self.seed)
        self.weights = self.history.weights[-1].copy()
        self.bias = float(self.history.biases[-1])
        return self

    @property
    def errors_per_epoch(self) -> list[int]:
        if self.history is None:
            raise RuntimeError("call fit(x, y) first: the perceptron has not been trained.")
        return [int(e) for e in self.history.errors]

    def predict(self, x) -> np.ndarray:
        """0/1 predictions for x (n, d)."""
        if self.weights is None:
            raise RuntimeError("call fit(x, y) before predict(x): the perceptron has no weights yet.")
        return perceptron_predict(x, self.weights, self.bias)

    def __repr__(self) -> str:
        return f"Perceptron(learning_rate={self.learning_rate}, epochs={self.epochs}, seed={self.seed})"


# --- checks ------------------------------------------------------------------------------------
def _as_inputs(x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"x must have shape (n_examples, n_features), got shape {x.shape}. "
                         "For a single example use x.reshape(1, -1).")
    return x


def _as_weights(weights, n_features: int) -> np.ndarray:
    weights = np.asarray(weights, dtype=np.float64)
    if weights.shape != (n_features,):
        raise ValueError(f"weights must have shape ({n_features},), one per input feature, "
                         f"got shape {weights.shape}.")
    return weights


def _check_data(x, y):
    x = _as_inputs(x)
    y = np.asarray(y)
    if y.shape != (len(x),):
        raise ValueError(f"y must hold one label per example, shape ({len(x)},), got shape {y.shape}.")
    if y.size and not np.all((y == 0) | (y == 1)):
        raise ValueError(f"the perceptron learns two classes: y must hold 0 and 1 only, got values "
                         f"{np.unique(y)[:6].tolist()}.")
    return x, y.astype(np.int64)


def _check_learning_rate(learning_rate) -> float:
    return check_real("learning_rate", learning_rate, low=0.0, low_open=True, example=0.1)


# -- the learner's own rule, checked at once ------------------------------------------------------
RuleCheck = SelfCheck   # passed or not, and what to look at (course.utils.SelfCheck)


#: (x, y, weights, bias, learning rate): a right answer, two kinds of mistake, a zero sum, lr 0.5
RULE_CASES = [
    (np.array([2.0, 1.0]), 1, np.array([1.0, 1.0]), 0.0, 0.1),     # right: nothing moves
    (np.array([2.0, -1.0]), 1, np.array([-1.0, 0.0]), 0.0, 0.1),   # predicted 0, label 1
    (np.array([1.0, 3.0]), 0, np.array([0.5, 0.5]), 0.2, 0.1),     # predicted 1, label 0
    (np.array([1.0, -1.0]), 0, np.array([1.0, 1.0]), 0.0, 0.5),    # sum exactly 0 counts as 1
]


def check_update_rule(update) -> RuleCheck:
    """Check a learner's perceptron rule against ``perceptron_update`` on a few examples.

    update(x, y, weights, bias, learning_rate) -> (new_weights, new_bias). Never raises: the
    result says which example went wrong, what was expected and what came back.
    """
    for x, y, weights, bias, lr in RULE_CASES:
        expected = perceptron_update(x, y, weights, bias, lr)
        given_x, given_weights = x.copy(), weights.copy()   # the cases stay as they are, whatever it does
        try:
            new_weights, new_bias = update(given_x, y, given_weights, bias, lr)
        except Exception as err:  # the learner's code: say what happened, do not stop the lesson
            return RuleCheck(False, f"Your function raised {type(err).__name__}: {err}")
        changed = [f"{name} {kept.tolist()} into {given.tolist()}"
                   for name, given, kept in (("weights", given_weights, weights), ("x", given_x, x))
                   if not np.array_equal(given, kept)]
        if changed:
            return RuleCheck(False, f"Your function changed its input: it turned the {' and the '.join(changed)}. "
                                    "Return new arrays instead (weights + ..., not weights += ...); the "
                                    "check gave you copies, so the lesson's examples are unchanged.")
        z = float(x @ weights) + bias
        if not (np.allclose(new_weights, expected.weights) and np.isclose(float(new_bias), expected.bias)):
            return RuleCheck(False, f"Not yet. For x = {x.tolist()}, label {y}, weights {weights.tolist()}, "
                                    f"bias {bias:g}, lr {lr:g} (weighted sum {z:g}, so the prediction is "
                                    f"{int(z >= 0)}), expected weights {np.round(expected.weights, 6).tolist()} "
                                    f"and bias {expected.bias:g}; got {np.round(np.asarray(new_weights, float), 6).tolist()} "
                                    f"and {float(new_bias):g}.")
    return RuleCheck(True, f"Right on all {len(RULE_CASES)} checks: no change when the prediction is "
                           "right, a step of lr · (y - ŷ) · x when it is wrong.")
