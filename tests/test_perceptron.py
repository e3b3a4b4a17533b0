"""The neuron and the perceptron: worked examples, the learning rule's properties, blobs vs XOR."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course.datasets import make_blobs, make_xor
from course.perceptron import (Perceptron, neuron_forward, perceptron_epoch, perceptron_predict,
                               perceptron_update, train_perceptron)

finite = st.floats(-10, 10, allow_nan=False, allow_infinity=False)


# --- the neuron --------------------------------------------------------------------------------
def test_neuron_weighted_sum_and_activation_by_hand():
    # z = 1*0.5 + 2*(-1) + 0.5*0.8 + 0.2 = -0.9; sigmoid(-0.9) = 0.28905...
    result = neuron_forward([1.0, 2.0, 0.5], [0.5, -1.0, 0.8], 0.2, activation="sigmoid")
    assert float(result.z) == pytest.approx(-0.9), f"z = {result.z}, expected -0.9"
    assert float(result.out) == pytest.approx(1 / (1 + np.exp(0.9))), f"out = {result.out}"


def test_neuron_on_a_batch_gives_one_sum_per_example():
    x = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    result = neuron_forward(x, [2.0, -3.0], 1.0, activation="relu")
    np.testing.assert_allclose(result.z, [3.0, -2.0, 0.0])
    np.testing.assert_allclose(result.out, [3.0, 0.0, 0.0])


def test_neuron_rejects_weights_of_the_wrong_length():
    with pytest.raises(ValueError, match=r"weights must have shape \(3,\)"):
        neuron_forward([1.0, 2.0, 3.0], [1.0, 2.0], 0.0)


# --- the rule ----------------------------------------------------------------------------------
def test_update_by_hand_moves_towards_a_missed_positive_example():
    # z = 1*0 + 2*(-1) + 0 = -2 -> y_hat 0, y = 1: w += 0.5 * [1, 2], b += 0.5
    step = perceptron_update(np.array([1.0, 2.0]), 1, np.array([0.0, -1.0]), 0.0, 0.5)
    np.testing.assert_allclose(step.weights, [0.5, 0.0])
    assert step.bias == 0.5 and step.error


def test_update_moves_away_from_a_missed_negative_example():
    step = perceptron_update(np.array([1.0, 2.0]), 0, np.array([1.0, 1.0]), 0.0, 0.1)
    np.testing.assert_allclose(step.weights, [0.9, 0.8])
    assert step.bias == pytest.approx(-0.1) and step.error


@settings(max_examples=60, deadline=None)
@given(st.lists(finite, min_size=2, max_size=2), st.lists(finite, min_size=2, max_size=2), finite)
def test_update_leaves_a_correct_prediction_unchanged(x, w, b):
    x, w = np.array(x), np.array(w)
    y = int(x @ w + b >= 0)  # the label the perceptron already predicts
    step = perceptron_update(x, y, w, b, learning_rate=0.3)
    np.testing.assert_array_equal(step.weights, w)
    assert step.bias == b and not step.error


def test_update_does_not_modify_its_arguments():
    x, w = np.array([1.0, 2.0]), np.array([0.0, -1.0])
    perceptron_update(x, 1, w, 0.0, 0.5)
    np.testing.assert_array_equal(w, [0.0, -1.0])
    np.testing.assert_array_equal(x, [1.0, 2.0])


def test_epoch_counts_one_error_per_update():
    x = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    y = np.array([1, 1, 0])
    # start: w = 0, b = -1: predicts 0 everywhere; example 0 is missed -> w=[1,0], b=0;
    # example 1 (z = 0 -> 1) right; example 2 (z = -1 -> 0) right.
    result = perceptron_epoch(x, y, np.zeros(2), -1.0, 1.0)
    assert result.errors == 1, f"expected 1 mistake, got {result.errors}"
    np.testing.assert_allclose(result.weights, [1.0, 0.0])
    assert result.bias == 0.0


def test_predict_is_the_step_of_the_weighted_sum():
    x = np.array([[1.0, 1.0], [-1.0, -1.0], [0.5, -0.5]])
    np.testing.assert_array_equal(perceptron_predict(x, np.array([1.0, 1.0]), 0.0), [1, 0, 1])


# --- training ------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_perceptron_separates_the_blobs_and_stops_making_mistakes(seed):
    x, y = make_blobs(n_samples=120, noise=1.0, seed=seed)
    history = train_perceptron(x, y, learning_rate=0.1, epochs=30, seed=seed)
    assert history.errors[-1] == 0, f"errors per epoch {history.errors.tolist()}"
    assert np.all(perceptron_predict(x, history.weights[-1], history.biases[-1]) == y)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_perceptron_never_gets_through_an_epoch_of_xor_without_a_mistake(seed):
    x, y = make_xor(n_samples=120, seed=seed)
    history = train_perceptron(x, y, learning_rate=0.1, epochs=50, seed=seed)
    assert history.errors.min() > 0, f"errors per epoch {history.errors.tolist()}"
    accuracy = np.mean(perceptron_predict(x, history.weights[-1], history.biases[-1]) == y)
    assert accuracy < 0.8, (f"a line classified {accuracy:.0%} of XOR; a line gets at most 3 of "
                            "the 4 clouds right")


def test_history_keeps_the_random_start_and_every_epoch():
    x, y = make_blobs(n_samples=40, seed=0)
    history = train_perceptron(x, y, epochs=5, seed=0)
    assert history.weights.shape == (6, 2) and history.biases.shape == (6,)
    assert history.errors.shape == (5,) and history.errors.dtype == np.int64
    assert history.biases[0] == 0.0 and np.any(history.weights[0] != 0)


def test_same_seed_same_run_other_seed_other_start():
    x, y = make_blobs(n_samples=40, seed=0)
    a = train_perceptron(x, y, epochs=3, seed=5)
    b = train_perceptron(x, y, epochs=3, seed=5)
    c = train_perceptron(x, y, epochs=3, seed=6)
    np.testing.assert_array_equal(a.weights, b.weights)
    assert not np.allclose(a.weights[0], c.weights[0])


def test_a_larger_learning_rate_moves_the_weights_further():
    x, y = make_blobs(n_samples=40, noise=1.0, seed=0)
    small = train_perceptron(x, y, learning_rate=0.01, epochs=1, seed=0)
    large = train_perceptron(x, y, learning_rate=1.0, epochs=1, seed=0)
    moved_small = np.linalg.norm(small.weights[1] - small.weights[0])
    moved_large = np.linalg.norm(large.weights[1] - large.weights[0])
    assert moved_large > moved_small, f"lr 1.0 moved {moved_large}, lr 0.01 moved {moved_small}"


def test_perceptron_object_fits_predicts_and_reports_errors():
    x, y = make_blobs(n_samples=40, seed=0)
    p = Perceptron(learning_rate=0.1, epochs=5, seed=0)
    with pytest.raises(RuntimeError, match="call fit"):
        p.predict(x)
    p.fit(x, y)
    assert np.all(p.predict(x) == y)
    assert len(p.errors_per_epoch) == 5 and p.errors_per_epoch[-1] == 0
    assert p.weights.shape == (2,) and isinstance(p.bias, float)


@pytest.mark.parametrize("kwargs, message", [
    ({"learning_rate": 0.0}, "learning_rate must be a finite number > 0"),
    ({"learning_rate": -1.0}, "learning_rate must be a finite number > 0"),
    ({"epochs": -1}, "epochs must be an integer >= 0"),
    ({"epochs": 2.5}, "epochs must be an integer >= 0"),
])
def test_bad_hyperparameters_are_refused_with_an_example(kwargs, message):
    x, y = make_blobs(n_samples=10, seed=0)
    with pytest.raises(ValueError, match=message):
        train_perceptron(x, y, **kwargs)


def test_labels_other_than_0_and_1_are_refused():
    x, _ = make_blobs(n_samples=6, seed=0)
    with pytest.raises(ValueError, match="0 and 1 only"):
        train_perceptron(x, np.array([0, 1, 2, 0, 1, 2]))


def test_inputs_must_be_a_table_of_examples():
    with pytest.raises(ValueError, match=r"x must have shape \(n_examples, n_features\)"):
        perceptron_predict(np.array([1.0, 2.0]), np.array([1.0, 1.0]), 0.0)
    with pytest.raises(ValueError, match="one label per example"):
        train_perceptron(np.zeros((4, 2)), np.array([0, 1]))


def test_check_update_rule_accepts_the_rule_and_says_what_is_wrong_otherwise():
    from course.perceptron import check_update_rule

    def right(x, y, w, b, lr):
        p = 1 if x @ w + b >= 0 else 0
        return w + lr * (y - p) * x, b + lr * (y - p)

    def strict(x, y, w, b, lr):          # a sum of 0 counted as class 0
        p = 1 if x @ w + b > 0 else 0
        return w + lr * (y - p) * x, b + lr * (y - p)

    def in_place(x, y, w, b, lr):
        p = 1 if x @ w + b >= 0 else 0
        w += lr * (y - p) * x
        return w, b + lr * (y - p)

    assert check_update_rule(right).passed
    result = check_update_rule(strict)
    assert not result.passed and "weighted sum 0" in result.message, result.message
    assert "changed its input: it turned the weights [-1.0, 0.0] into" in check_update_rule(in_place).message
    stub = check_update_rule(lambda x, y, w, b, lr: (w, b))
    assert not stub.passed and "Not yet" in stub.message
    assert "raised NotImplementedError" in check_update_rule(lambda *a: (_ for _ in ()).throw(NotImplementedError())).message
    assert check_update_rule(right)._repr_markdown_().startswith("✔")


def test_check_update_rule_keeps_its_cases_when_the_learner_changes_the_input():
    from course.perceptron import RULE_CASES, check_update_rule
    before = [(x.copy(), w.copy()) for x, _, w, _, _ in RULE_CASES]

    def in_place(x, y, w, b, lr):
        p = 1 if x @ w + b >= 0 else 0
        w += lr * (y - p) * x
        x *= 2
        return w, b + lr * (y - p)

    for _ in range(3):
        message = check_update_rule(in_place).message
        assert "changed its input: it turned the x [2.0, 1.0] into [4.0, 2.0]" in message, message
    for (x, _, w, _, _), (x0, w0) in zip(RULE_CASES, before):
        np.testing.assert_array_equal(x, x0)
        np.testing.assert_array_equal(w, w0)
