"""Losses: worked examples, Keras clipping, gradient checks, the fused softmax gradient."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from course import activations as A
from course import losses as L
from course.gradcheck import check_gradient
from course.utils import to_categorical


def test_mse_worked_example():
    assert L.mean_squared_error(np.array([[1.0, 0.0]]), np.array([[0.5, 0.5]])) == pytest.approx(0.25)
    np.testing.assert_allclose(L.mean_squared_error_backward(np.array([[1.0, 0.0]]), np.array([[0.5, 0.5]])),
                               [[-0.5, 0.5]])


def test_binary_crossentropy_worked_example():
    assert L.binary_crossentropy(np.array([[1.0]]), np.array([[0.5]])) == pytest.approx(np.log(2))


def test_categorical_crossentropy_worked_example():
    y, p = np.array([[0.0, 1.0]]), np.array([[0.25, 0.75]])
    assert L.categorical_crossentropy(y, p) == pytest.approx(-np.log(0.75))
    assert L.sparse_categorical_crossentropy(np.array([1]), p) == pytest.approx(-np.log(0.75))


def test_categorical_crossentropy_is_a_mean_over_the_batch():
    y = np.eye(3)
    p = np.full((3, 3), 1 / 3)
    assert L.categorical_crossentropy(y, p) == pytest.approx(np.log(3))


def test_keras_clipping_caps_the_loss_and_zeroes_the_gradient():
    y, p = np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])
    assert L.categorical_crossentropy(y, p) == pytest.approx(-np.log(1e-7))  # 16.118
    assert -np.log(1e-7) == pytest.approx(16.118, abs=1e-3)
    np.testing.assert_array_equal(L.categorical_crossentropy_backward(y, p), 0)
    assert np.isfinite(L.binary_crossentropy(np.array([[1.0]]), np.array([[0.0]])))
    np.testing.assert_array_equal(L.binary_crossentropy_backward(np.array([[1.0]]), np.array([[0.0]])), 0)


def _probs(rng, shape):
    return A.softmax(rng.normal(size=shape))


@pytest.mark.parametrize("name", L.NAMES)
def test_gradient_check(name, rng):
    loss = L.get(name)
    if name == "sparse_categorical_crossentropy":
        y, p = rng.integers(0, 4, size=5), _probs(rng, (5, 4))
    elif name == "binary_crossentropy":
        y, p = rng.integers(0, 2, size=(5, 3)).astype(float), rng.uniform(0.05, 0.95, size=(5, 3))
    elif name == "categorical_crossentropy":
        y, p = to_categorical(rng.integers(0, 4, size=5), 4).astype(float), _probs(rng, (5, 4))
    else:
        y, p = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    err = check_gradient(lambda v: loss.forward(y, v), p, loss.backward(y, p))
    assert err < 1e-7, f"{name}: relative error {err:.2e}"


def test_categorical_gradient_includes_the_row_rescaling(rng):
    """Unnormalised rows: the gradient accounts for p / sum(p), as Keras's autodiff does."""
    y = to_categorical([0, 2], 3).astype(float)
    p = rng.uniform(0.1, 1.0, size=(2, 3))
    err = check_gradient(lambda v: L.categorical_crossentropy(y, v), p, L.categorical_crossentropy_backward(y, p))
    assert err < 1e-7


@given(arrays(np.float64, (4, 5), elements=st.floats(-5, 5)), st.integers(0, 2**31 - 1))
def test_fused_softmax_gradient_equals_the_chain_rule(z, seed):
    """Logits within [-5, 5] keep every probability of 5 classes inside (1e-7, 1 - 1e-7), where
    Keras does not clip (outside, its gradient is 0 and the fused one is not): every example
    drawn is checked."""
    labels = np.random.default_rng(seed).integers(0, 5, size=4)
    y = to_categorical(labels, 5).astype(float)
    p = A.softmax(z)
    assert np.all((p > L.EPSILON) & (p < 1 - L.EPSILON)), f"a clipped probability in {p}"
    chained = A.softmax_backward(L.categorical_crossentropy_backward(y, p), p)
    np.testing.assert_allclose(L.softmax_crossentropy_backward(y, p), chained, atol=1e-9)
    np.testing.assert_allclose(L.softmax_crossentropy_backward(labels, p), (p - y) / 4, atol=1e-15)


def test_fused_sigmoid_gradient_equals_the_chain_rule(rng):
    z, y = rng.normal(size=(6, 2)), rng.integers(0, 2, size=(6, 2)).astype(float)
    p = A.sigmoid(z)
    chained = A.sigmoid_backward(L.binary_crossentropy_backward(y, p), p)
    np.testing.assert_allclose(L.sigmoid_binary_crossentropy_backward(y, p), chained, rtol=1e-9)


@pytest.mark.parametrize("name", L.NAMES)
def test_losses_do_not_modify_inputs(name, rng):
    loss = L.get(name)
    p = _probs(rng, (4, 3)).astype(np.float32)
    y = rng.integers(0, 3, size=4) if name.startswith("sparse") else to_categorical(rng.integers(0, 3, size=4), 3)
    before = (y.copy(), p.copy())
    loss.forward(y, p)
    g = loss.backward(y, p)
    np.testing.assert_array_equal(y, before[0])
    np.testing.assert_array_equal(p, before[1])
    assert g.dtype == np.float32 and g.shape == p.shape


def test_unknown_loss_lists_valid_names():
    with pytest.raises(ValueError, match="Unknown loss 'hinge'.*categorical_crossentropy"):
        L.get("hinge")
    assert L.get("mse").name == "mean_squared_error"


def test_integer_labels_for_categorical_crossentropy_suggest_the_fix():
    with pytest.raises(ValueError, match="to_categorical.*sparse_categorical_crossentropy"):
        L.check_targets(L.get("categorical_crossentropy"), np.array([1, 2, 3]), (10,))


def test_sparse_labels_out_of_range_are_reported():
    with pytest.raises(ValueError, match=r"labels in 0\.\.9"):
        L.check_targets(L.get("sparse_categorical_crossentropy"), np.array([0, 10]), (10,))
