"""Dense: the kernel functions and the layer object."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from course.gradcheck import check_gradient, numerical_gradient, relative_error
from course.layers import Dense, dense_backward, dense_forward


def test_dense_forward_worked_example():
    x = np.array([[1.0, 2.0]])
    kernel = np.array([[1.0, -1.0], [1.0, 0.5]])
    out, cache = dense_forward(x, kernel, np.array([0.5, 0.0]))
    np.testing.assert_array_equal(out, [[3.5, 0.0]])
    assert cache.x is x and cache.kernel is kernel


def test_dense_backward_worked_example():
    x = np.array([[1.0, 2.0]])
    kernel = np.array([[1.0], [3.0]])
    _, cache = dense_forward(x, kernel, np.zeros(1))
    dx, dkernel, dbias = dense_backward(np.array([[2.0]]), cache)
    np.testing.assert_array_equal(dkernel, [[2.0], [4.0]])  # x_i times the unit's error
    np.testing.assert_array_equal(dbias, [2.0])
    np.testing.assert_array_equal(dx, [[2.0, 6.0]])         # each input's share of the error


@pytest.mark.parametrize("wrt", ["x", "kernel", "bias"])
def test_dense_backward_gradient_check(wrt, rng):
    x, kernel, bias = rng.normal(size=(4, 3)), rng.normal(size=(3, 5)), rng.normal(size=5)
    dout = rng.normal(size=(4, 5))
    _, cache = dense_forward(x, kernel, bias)
    grads = dict(zip(["x", "kernel", "bias"], dense_backward(dout, cache)))
    args = {"x": x, "kernel": kernel, "bias": bias}

    def f(v):
        return float(np.sum(dout * dense_forward(**{**args, wrt: v})[0]))

    assert check_gradient(f, args[wrt], grads[wrt]) < 1e-8


@given(arrays(np.float64, (3, 4), elements=st.floats(-10, 10)), arrays(np.float64, (4, 2), elements=st.floats(-10, 10)))
def test_dense_kernels_never_modify_their_inputs(x, kernel):
    bias = np.ones(2)
    saved = (x.copy(), kernel.copy(), bias.copy())
    out, cache = dense_forward(x, kernel, bias)
    dense_backward(np.ones_like(out), cache)
    for a, b in zip((x, kernel, bias), saved):
        np.testing.assert_array_equal(a, b)


def test_need_dx_false_skips_the_input_gradient(rng):
    _, cache = dense_forward(rng.normal(size=(2, 3)), rng.normal(size=(3, 4)), None)
    dx, dkernel, _ = dense_backward(np.ones((2, 4)), cache, need_dx=False)
    assert dx is None and dkernel.shape == (3, 4)


def test_dense_layer_uses_keras_layout_and_defaults():
    layer = Dense(10, input_shape=(784,), seed=0)
    assert layer.kernel.shape == (784, 10) and layer.bias.shape == (10,)
    assert layer.kernel.dtype == np.float32
    np.testing.assert_array_equal(layer.bias, 0)
    assert np.abs(layer.kernel).max() <= np.sqrt(6 / 794)
    assert layer.count_params() == 7850
    assert layer.activation.name == "linear"


def test_dense_layer_backward_matches_numerical_gradient(rng):
    layer = Dense(3, activation="tanh", input_shape=(4,), dtype=np.float64, seed=1)
    x, dout = rng.normal(size=(5, 4)), rng.normal(size=(5, 3))
    layer.forward(x)
    dx = layer.backward(dout)

    def loss():
        return float(np.sum(dout * layer.forward(x)))

    assert check_gradient(lambda v: float(np.sum(dout * layer.forward(v))), x, dx) < 1e-7
    layer.forward(x)
    layer.backward(dout)
    assert relative_error(layer.dkernel, numerical_gradient(loss, layer.kernel)) < 1e-7
    assert relative_error(layer.dbias, numerical_gradient(loss, layer.bias)) < 1e-7


def test_use_bias_false_has_only_a_kernel():
    layer = Dense(4, input_shape=(3,), use_bias=False)
    assert len(layer.weights) == 1 and layer.count_params() == 12


@pytest.mark.parametrize("bad", [0, -3, 2.5, "10", True])
def test_units_must_be_a_positive_integer(bad):
    with pytest.raises(ValueError, match="units"):
        Dense(bad)


def test_image_input_shape_is_refused_with_a_hint():
    with pytest.raises(ValueError, match="Flatten"):
        Dense(10, input_shape=(28, 28))


def test_backward_before_forward_is_explained():
    with pytest.raises(RuntimeError, match="forward"):
        Dense(2, input_shape=(3,)).backward(np.ones((1, 2)))
