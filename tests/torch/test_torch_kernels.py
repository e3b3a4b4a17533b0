"""Every NumPy kernel (activations, losses, Dense) equals its PyTorch equivalent, on every device.

The torch side is course.torch.kernels: torch's own functions forward, torch.autograd backward.
Inputs are drawn at random with a fixed seed and include large values, so the stable forms
(sigmoid, softmax) and the clipped ones (cross-entropy) are exercised.
"""
import numpy as np
import pytest
import torch

from course import activations, layers, losses
from course.torch import kernels

BATCH, UNITS = 7, 5


def tensor(array, device):
    return torch.from_numpy(np.ascontiguousarray(array)).to(device)


@pytest.fixture
def x(dtype):
    rng = np.random.default_rng(0)
    values = rng.normal(scale=3.0, size=(BATCH, UNITS))
    values[0, :2] = [40.0, -40.0]      # saturates sigmoid and tanh, dominates a softmax row
    values[1, 0] = 0.0                 # the kink of relu and the step
    return values.astype(dtype)


@pytest.fixture
def dout(dtype):
    return np.random.default_rng(1).normal(size=(BATCH, UNITS)).astype(dtype)


# --- assert_close, which every comparison relies on -----------------------------------------------
def test_assert_close_refuses_a_row_where_a_vector_is_expected(assert_close):
    with pytest.raises(AssertionError, match="shape"):
        assert_close(torch.zeros(1, 64, dtype=torch.float64), np.zeros(64), np.float64, "shape check",
                     record=False)


def test_assert_close_refuses_a_difference_above_the_tolerance(assert_close):
    with pytest.raises(AssertionError, match="relative error"):
        assert_close(torch.tensor([1.0, 2.0 + 1e-4]), np.array([1.0, 2.0], np.float32), np.float32,
                     "tolerance check", record=False)


def test_assert_close_refuses_a_torch_result_of_another_dtype(assert_close):
    with pytest.raises(AssertionError, match="float32"):
        assert_close(torch.zeros(3, dtype=torch.float32), np.zeros(3), np.float64, "dtype check",
                     record=False)


# --- activations -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", activations.NAMES)
def test_activation_forward_matches_torch(name, x, device, dtype, assert_close):
    expected = activations.get(name).forward(x)
    assert_close(kernels.activation(name, tensor(x, device)), expected, dtype, f"activation {name}")


@pytest.mark.parametrize("name", activations.NAMES)
def test_activation_backward_matches_torch_autograd(name, x, dout, device, dtype, assert_close):
    act = activations.get(name)
    expected = act.backward(dout, act.forward(x))
    actual = kernels.activation_backward(name, tensor(dout, device), tensor(x, device))
    assert_close(actual, expected, dtype, f"activation {name} backward")


def test_log_softmax_matches_torch(x, device, dtype, assert_close):
    assert_close(kernels.log_softmax(tensor(x, device)), activations.log_softmax(x), dtype, "log_softmax")


def test_softmax_backward_of_a_vector_matches_torch(device, dtype, assert_close):
    z = np.array([0.5, -1.0, 2.0], dtype=dtype)
    d = np.array([1.0, 0.0, -2.0], dtype=dtype)
    expected = activations.softmax_backward(d, activations.softmax(z))
    actual = kernels.activation_backward("softmax", tensor(d, device), tensor(z, device))
    assert_close(actual, expected, dtype, "activation softmax backward")


# --- losses ------------------------------------------------------------------------------------------
def loss_inputs(name, dtype):
    """(y_true, y_pred) for a loss: probabilities with some outside the clip range."""
    rng = np.random.default_rng(2)
    if name in ("binary_crossentropy", "mean_squared_error"):
        y_pred = 1 / (1 + np.exp(-rng.normal(scale=3.0, size=(BATCH, 3))))
        y_pred[0, 0], y_pred[1, 1] = 1e-9, 1 - 1e-9           # clipped: gradient 0
        y_true = rng.integers(0, 2, size=(BATCH, 3)).astype(dtype)
        return y_true, y_pred.astype(dtype)
    y_pred = activations.softmax(rng.normal(scale=2.0, size=(BATCH, UNITS)))
    y_pred[0] = [1e-9, 1e-9, 1e-9, 1e-9, 1 - 4e-9]           # a confident row, clipped twice
    labels = rng.integers(0, UNITS, size=BATCH)
    labels[0] = 0
    if name == "sparse_categorical_crossentropy":
        return labels, y_pred.astype(dtype)
    return np.eye(UNITS, dtype=dtype)[labels], y_pred.astype(dtype)


@pytest.mark.parametrize("name", losses.NAMES)
def test_loss_value_matches_torch(name, device, dtype, assert_close):
    y_true, y_pred = loss_inputs(name, dtype)
    expected = np.asarray(losses.get(name).forward(y_true, y_pred), dtype=dtype)
    actual = kernels.loss(name, tensor(y_true, device), tensor(y_pred, device))
    assert_close(actual, expected, dtype, f"loss {name}")


@pytest.mark.parametrize("name", losses.NAMES)
def test_loss_gradient_matches_torch_autograd(name, device, dtype, assert_close):
    y_true, y_pred = loss_inputs(name, dtype)
    expected = losses.get(name).backward(y_true, y_pred)
    actual = kernels.loss_backward(name, tensor(y_true, device), tensor(y_pred, device))
    assert_close(actual, expected, dtype, f"loss {name} gradient")


def test_clipped_probabilities_get_no_gradient_on_either_side(device, dtype):
    y_true, y_pred = loss_inputs("binary_crossentropy", dtype)
    actual = kernels.loss_backward("binary_crossentropy", tensor(y_true, device), tensor(y_pred, device))
    assert actual[0, 0].item() == 0.0 and actual[1, 1].item() == 0.0
    assert losses.binary_crossentropy_backward(y_true, y_pred)[0, 0] == 0.0


@pytest.mark.parametrize("targets", ["one-hot", "labels"])
def test_softmax_crossentropy_gradient_of_the_logits_matches_the_fused_gradient(
        targets, device, dtype, assert_close):
    rng = np.random.default_rng(3)
    logits = rng.normal(scale=3.0, size=(BATCH, UNITS)).astype(dtype)
    labels = rng.integers(0, UNITS, size=BATCH)
    y = np.eye(UNITS, dtype=dtype)[labels] if targets == "one-hot" else labels
    probs = activations.softmax(logits)
    expected = losses.softmax_crossentropy_backward(y, probs)
    actual = kernels.logits_backward("softmax_crossentropy", tensor(y, device), tensor(logits, device))
    assert_close(actual, expected, dtype, "softmax + crossentropy gradient")
    value = kernels.softmax_crossentropy(tensor(y, device), tensor(logits, device))
    name = "sparse_categorical_crossentropy" if targets == "labels" else "categorical_crossentropy"
    loss = losses.get(name)
    assert_close(value, np.asarray(loss.forward(y, probs), dtype=dtype), dtype, "softmax + crossentropy")


def test_sigmoid_binary_crossentropy_gradient_of_the_logits_matches_the_fused_gradient(
        device, dtype, assert_close):
    rng = np.random.default_rng(4)
    logits = rng.normal(scale=3.0, size=(BATCH, 2)).astype(dtype)
    y = rng.integers(0, 2, size=(BATCH, 2)).astype(dtype)
    probs = activations.sigmoid(logits)
    expected = losses.sigmoid_binary_crossentropy_backward(y, probs)
    actual = kernels.logits_backward("sigmoid_binary_crossentropy", tensor(y, device), tensor(logits, device))
    assert_close(actual, expected, dtype, "sigmoid + binary crossentropy gradient")
    value = kernels.sigmoid_binary_crossentropy(tensor(y, device), tensor(logits, device))
    assert_close(value, np.asarray(losses.binary_crossentropy(y, probs), dtype=dtype), dtype,
                 "sigmoid + binary crossentropy")


# --- Dense -------------------------------------------------------------------------------------------
@pytest.fixture
def dense_inputs(dtype):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(BATCH, 4)).astype(dtype)
    kernel = rng.normal(size=(4, 3)).astype(dtype)
    bias = rng.normal(size=(3,)).astype(dtype)
    dout = rng.normal(size=(BATCH, 3)).astype(dtype)
    return x, kernel, bias, dout


@pytest.mark.parametrize("use_bias", [True, False], ids=["bias", "no-bias"])
def test_dense_forward_matches_torch_linear(use_bias, dense_inputs, device, dtype, assert_close):
    x, kernel, bias, _ = dense_inputs
    bias = bias if use_bias else None
    expected, _ = layers.dense_forward(x, kernel, bias)
    actual = kernels.dense_forward(tensor(x, device), tensor(kernel, device),
                                   tensor(bias, device) if use_bias else None)
    assert_close(actual, expected, dtype, "dense forward")


@pytest.mark.parametrize("use_bias", [True, False], ids=["bias", "no-bias"])
def test_dense_backward_matches_torch_autograd(use_bias, dense_inputs, device, dtype, assert_close):
    x, kernel, bias, dout = dense_inputs
    bias = bias if use_bias else None
    _, cache = layers.dense_forward(x, kernel, bias)
    dx, dkernel, dbias = layers.dense_backward(dout, cache)
    tdx, tdkernel, tdbias = kernels.dense_backward(tensor(dout, device), tensor(x, device),
                                                   tensor(kernel, device),
                                                   tensor(bias, device) if use_bias else None)
    assert_close(tdx, dx, dtype, "dense backward dx")
    assert_close(tdkernel, dkernel, dtype, "dense backward dkernel")
    if use_bias:
        assert_close(tdbias, dbias, dtype, "dense backward dbias")
    else:
        assert tdbias is None


def test_an_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="relu"):
        kernels.activation("swish", torch.zeros(2))
