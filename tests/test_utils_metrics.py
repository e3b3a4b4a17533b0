"""to_categorical, accuracy with Keras's three meanings, seeding, gradient checking."""
import numpy as np
import pytest

from course import metrics
from course.gradcheck import check_gradient, relative_error
from course.utils import get_rng, set_seed, to_categorical


def test_to_categorical_worked_example():
    np.testing.assert_array_equal(to_categorical([0, 2, 1], 3), [[1, 0, 0], [0, 0, 1], [0, 1, 0]])
    assert to_categorical(np.array([[3], [1]])).shape == (2, 4)
    assert to_categorical([1, 2]).dtype == np.float32


@pytest.mark.parametrize("bad, match", [([0.5, 1], "integer"), ([-1, 2], ">= 0"), (np.eye(3), "already one-hot")])
def test_to_categorical_rejects_bad_labels(bad, match):
    with pytest.raises(ValueError, match=match):
        to_categorical(bad)


def test_to_categorical_label_too_large_for_num_classes():
    with pytest.raises(ValueError, match="num_classes=3"):
        to_categorical([0, 3], num_classes=3)


def test_accuracy_one_hot_sparse_and_binary():
    p = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    assert metrics.accuracy(to_categorical([1, 0, 0, 0], 2), p) == 0.75
    assert metrics.accuracy(np.array([1, 0, 0, 0]), p) == 0.75
    assert metrics.accuracy(np.array([[1], [0], [0], [0]]), p) == 0.75
    assert metrics.accuracy(np.array([[1], [0], [1]]), np.array([[0.9], [0.2], [0.4]])) == pytest.approx(2 / 3)


def test_metric_lookup():
    assert metrics.get("acc")[0] == "accuracy"
    with pytest.raises(ValueError, match="Unknown metric 'f1'"):
        metrics.get("f1")


def test_set_seed_controls_the_course_generator():
    set_seed(5)
    a = get_rng().normal(size=3)
    set_seed(5)
    np.testing.assert_array_equal(a, get_rng().normal(size=3))
    with pytest.raises(ValueError, match="seed must be an integer >= 0"):
        set_seed(-1)


def test_gradient_check_catches_a_wrong_gradient():
    x = np.array([1.0, -2.0, 0.5])
    assert check_gradient(lambda v: float(np.sum(v ** 3)), x, 3 * x ** 2) < 1e-8
    assert check_gradient(lambda v: float(np.sum(v ** 3)), x, 2 * x ** 2) > 1e-2


def test_relative_error_refuses_different_shapes():
    with pytest.raises(ValueError, match="shapes"):
        relative_error(np.ones((64,)), np.ones((1, 64)))
