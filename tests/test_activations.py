"""Activations: worked examples, properties, gradient checks, stability."""
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from course import activations as A
from course.gradcheck import check_gradient

ELEMENTWISE = ["linear", "sigmoid", "tanh", "relu"]


@pytest.mark.parametrize("name, x, expected", [
    ("linear", [-2.0, 0.0, 3.0], [-2.0, 0.0, 3.0]),
    ("step", [-0.5, 0.0, 2.0], [0.0, 1.0, 1.0]),
    ("sigmoid", [0.0, np.log(3.0), -np.log(3.0)], [0.5, 0.75, 0.25]),
    ("tanh", [0.0, np.log(2.0)], [0.0, 0.6]),
    ("relu", [-1.0, 0.0, 2.5], [0.0, 0.0, 2.5]),
    ("softmax", [0.0, np.log(3.0)], [0.25, 0.75]),
])
def test_worked_example_by_hand(name, x, expected):
    out = A.get(name)(np.array(x))
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-15, err_msg=f"{name}({x})")


@pytest.mark.parametrize("name, x, slope", [
    ("sigmoid", 0.0, 0.25), ("tanh", 0.0, 1.0), ("relu", 3.0, 1.0), ("relu", -3.0, 0.0),
    ("linear", 7.0, 1.0), ("step", 1.0, 0.0),
])
def test_derivative_worked_example(name, x, slope):
    assert A.derivative(name, np.array([x]))[0] == pytest.approx(slope)


def test_relu_backward_worked_example_keeps_dtype():
    """Gradient passes where the unit is on, and nowhere else: 0 at the kink (x = 0) too."""
    out = A.relu(np.array([[-1.0, 0.0, 2.0]], np.float32))
    dx = A.relu_backward(np.array([[2.0, 3.0, 4.0]], np.float32), out)
    np.testing.assert_array_equal(dx, [[0.0, 0.0, 4.0]])
    assert dx.dtype == np.float32


finite_rows = arrays(np.float64, (3, 4), elements=st.floats(-50, 50))


@given(finite_rows)
def test_sigmoid_is_between_0_and_1_and_symmetric(x):
    out = A.sigmoid(x)
    assert np.all((out >= 0) & (out <= 1))
    np.testing.assert_allclose(A.sigmoid(-x), 1 - out, atol=1e-12)


@given(finite_rows)
def test_softmax_rows_are_distributions_and_shift_invariant(x):
    p = A.softmax(x)
    assert np.all(p >= 0)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(A.softmax(x + 123.0), p, atol=1e-12)
    np.testing.assert_allclose(A.log_softmax(x), np.log(np.maximum(p, 1e-300)), atol=1e-9)


@given(finite_rows)
def test_relu_and_tanh_properties(x):
    assert np.all(A.relu(x) >= 0)
    np.testing.assert_array_equal(A.relu(x) - A.relu(-x), x)
    np.testing.assert_allclose(A.tanh(-x), -A.tanh(x))


@pytest.mark.parametrize("name", ELEMENTWISE + ["softmax"])
def test_backward_passes_gradient_check(name, rng):
    act = A.get(name)
    x = rng.normal(size=(4, 5))
    if name == "relu":
        x[np.abs(x) < 1e-3] = 0.5  # keep away from the kink
    dout = rng.normal(size=x.shape)
    analytic = act.backward(dout, act.forward(x))
    err = check_gradient(lambda v: float(np.sum(dout * act.forward(v))), x, analytic)
    assert err < 1e-7, f"{name}: relative error {err:.2e}"


def test_softmax_backward_equals_dense_jacobian_product(rng):
    x, dout = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    p = A.softmax(x)
    expected = np.stack([(np.diag(pi) - np.outer(pi, pi)).T @ di for pi, di in zip(p, dout)])
    np.testing.assert_allclose(A.softmax_backward(dout, p), expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("fn", [A.sigmoid, A.softmax, A.log_softmax])
def test_stays_finite_and_silent_for_inputs_of_magnitude_1e4(fn, dtype):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, 1e4]], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            out = fn(x)
    assert np.all(np.isfinite(out)), f"{fn.__name__} gave {out}"
    assert out.dtype == dtype


def test_extreme_values_are_exact():
    np.testing.assert_array_equal(A.sigmoid(np.array([1e4, -1e4])), [1.0, 0.0])
    np.testing.assert_allclose(A.log_softmax(np.array([0.0, -1e4])), [0.0, -1e4])


@pytest.mark.parametrize("name", A.NAMES)
def test_activations_do_not_modify_their_input(name, rng):
    act = A.get(name)
    x = rng.normal(size=(3, 4)).astype(np.float32)
    before = x.copy()
    out = act.forward(x)
    act.backward(np.ones_like(out), out)
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", A.NAMES)
def test_dtype_is_preserved(name, dtype):
    x = np.linspace(-3, 3, 12, dtype=dtype).reshape(3, 4)
    out = A.get(name)(x)
    assert out.dtype == dtype
    assert A.get(name).backward(np.ones_like(out), out).dtype == dtype


def test_step_passes_no_gradient():
    np.testing.assert_array_equal(A.step_backward(np.ones(3), A.step(np.array([-1.0, 0, 1]))), 0)


def test_lookup_by_keras_name_and_none_is_linear():
    assert A.get("ReLU").name == "relu"
    assert A.get(None).name == "linear"


def test_unknown_activation_lists_the_valid_names():
    with pytest.raises(ValueError, match="Unknown activation 'swish'.*relu.*softmax"):
        A.get("swish")
    with pytest.raises(TypeError, match="activation must be a name"):
        A.get(3)
