"""course.analysis: collapsing linear layers, the traced backward pass, gradient sizes, autograd."""
import numpy as np
import pytest

from course import Dense, Sequential
from course.analysis import (backprop_trace, collapse_linear, collapse_linear_model, deep_network,
                             gradient_norms, torch_gradients)
from course.datasets import make_moons
from course.gradcheck import relative_error
from course.utils import to_categorical


def _model(sizes, activations, loss, seed=0):
    model = Sequential()
    for i, (units, act) in enumerate(zip(sizes[1:], activations)):
        model.add(Dense(units, activation=act, input_shape=(sizes[0],) if i == 0 else None,
                        seed=seed + i, dtype=np.float64))
    model.compile(loss=loss, optimizer="sgd")
    return model


# --- two linear layers are one ----------------------------------------------------------------
def test_collapse_by_hand():
    # 3 * (2x + 1) - 1 = 6x + 2
    kernel, bias = collapse_linear(np.array([[2.0]]), np.array([1.0]), np.array([[3.0]]), np.array([-1.0]))
    np.testing.assert_allclose(kernel, [[6.0]])
    np.testing.assert_allclose(bias, [2.0])


@pytest.mark.parametrize("sizes", [(2, 3, 1), (4, 16, 8, 3), (5, 1, 5)])
def test_a_stack_of_linear_layers_computes_one_linear_map(sizes, rng):
    model = _model(sizes, [None] * (len(sizes) - 1), "mse")
    for layer in model.layers:
        layer.bias[...] = rng.normal(size=layer.bias.shape)
    kernel, bias = collapse_linear_model(model)
    x = rng.normal(size=(7, sizes[0]))
    assert kernel.shape == (sizes[0], sizes[-1])
    np.testing.assert_allclose(model.predict(x), x @ kernel + bias, atol=1e-12)


def test_a_nonlinear_layer_does_not_collapse():
    model = _model((2, 3, 1), ["relu", None], "mse")
    with pytest.raises(ValueError, match=r"not linear: dense \(relu\)"):
        collapse_linear_model(model)


def test_collapse_refuses_mismatched_kernels():
    with pytest.raises(ValueError, match="same h"):
        collapse_linear(np.zeros((2, 3)), np.zeros(3), np.zeros((4, 1)), np.zeros(1))


# --- the traced backward pass ---------------------------------------------------------------
@pytest.mark.parametrize("activations, loss", [
    (["sigmoid", "linear"], "mse"),
    (["tanh", "relu", "sigmoid"], "binary_crossentropy"),
    (["relu", "softmax"], "categorical_crossentropy"),
])
def test_trace_gives_the_models_gradients_and_passes_dz_times_kernel_down(activations, loss):
    x, y = make_moons(n_samples=20, seed=0)
    sizes = (2,) + (5,) * (len(activations) - 1) + ((2,) if loss == "categorical_crossentropy" else (1,))
    model = _model(sizes, activations, loss)
    y = to_categorical(y, 2) if loss == "categorical_crossentropy" else y.reshape(-1, 1)
    loss_value, grads = model.compute_gradients(x, y)
    trace = backprop_trace(model, x, y)
    assert trace.loss == pytest.approx(loss_value, rel=1e-12)
    for k, layer_trace in enumerate(trace.layers):
        assert relative_error(layer_trace.dkernel, grads[2 * k]) < 1e-9, layer_trace.name
        assert relative_error(layer_trace.dbias, grads[2 * k + 1]) < 1e-9, layer_trace.name
        np.testing.assert_allclose(layer_trace.dx, layer_trace.dz @ layer_trace.kernel.T)
    for below, above in zip(trace.layers[:-1], trace.layers[1:]):
        np.testing.assert_array_equal(below.dout, above.dx)  # each layer receives its share


def test_trace_by_hand_on_a_tiny_network():
    model = Sequential([Dense(2, activation="sigmoid", input_shape=(2,), dtype=np.float64),
                        Dense(1, dtype=np.float64)])
    model.set_weights([np.array([[0.5, -1.0], [1.5, 0.5]]), np.zeros(2), np.array([[1.0], [-2.0]]), np.zeros(1)])
    model.compile(loss="mse", optimizer="sgd")
    trace = backprop_trace(model, np.array([[1.0, 0.5]]), np.array([[1.0]]))
    hidden, output = trace.layers
    h = 1 / (1 + np.exp(-np.array([1.25, -0.75])))       # z = [1*0.5 + 0.5*1.5, -1 + 0.25]
    y_hat = h @ np.array([1.0, -2.0])
    dz_out = 2 * (y_hat - 1.0)                             # MSE on one output
    assert output.dz[0, 0] == pytest.approx(dz_out)
    np.testing.assert_allclose(hidden.dout[0], dz_out * np.array([1.0, -2.0]))  # shares
    np.testing.assert_allclose(hidden.dz[0], dz_out * np.array([1.0, -2.0]) * h * (1 - h))


def test_trace_needs_a_compiled_model():
    model = Sequential([Dense(1, input_shape=(2,))])
    with pytest.raises(RuntimeError, match="compile the model first"):
        backprop_trace(model, np.zeros((1, 2)), np.zeros((1, 1)))


# --- gradient sizes ----------------------------------------------------------------------------
def test_gradients_vanish_towards_the_input_in_a_deep_sigmoid_network():
    x, y = make_moons(n_samples=100, seed=0)
    sigmoid = gradient_norms(deep_network(depth=10, units=16, activation="sigmoid"), x, y)
    relu = gradient_norms(deep_network(depth=10, units=16, activation="relu"), x, y)
    assert sigmoid.shape == (11,) and relu.shape == (11,)
    assert sigmoid[0] < 1e-4 * sigmoid[-1], f"sigmoid norms {sigmoid}"
    assert relu[0] > 1e-2 * relu[-1], f"relu norms {relu}"


def test_gradient_norms_leave_the_weights_alone():
    x, y = make_moons(n_samples=20, seed=0)
    model = deep_network(depth=2, units=4)
    before = model.get_weights()
    gradient_norms(model, x, y)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_deep_network_is_reproducible_and_refuses_zero_depth():
    a, b = deep_network(depth=3, seed=4), deep_network(depth=3, seed=4)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert len(a.layers) == 4
    with pytest.raises(ValueError, match="depth"):
        deep_network(depth=0)


# --- PyTorch autograd ----------------------------------------------------------------------------
@pytest.mark.parametrize("activations, loss", [
    (["sigmoid", "linear"], "mse"),
    (["tanh", "relu", "sigmoid"], "binary_crossentropy"),
    (["relu", "softmax"], "categorical_crossentropy"),
    (["tanh", "softmax"], "sparse_categorical_crossentropy"),
])
@pytest.mark.slow                 # imports torch
def test_autograd_agrees_with_the_course_backward_pass(activations, loss):
    pytest.importorskip("torch")
    x, y = make_moons(n_samples=32, seed=1)
    classes = loss.endswith("categorical_crossentropy")
    sizes = (2,) + (6,) * (len(activations) - 1) + ((2,) if classes else (1,))
    model = _model(sizes, activations, loss)
    if loss == "categorical_crossentropy":
        y = to_categorical(y, 2)
    elif not classes:
        y = y.reshape(-1, 1)
    _, grads = model.compute_gradients(x, y)
    for ours, theirs in zip(grads, torch_gradients(model, x, y)):
        assert relative_error(ours, theirs) < 1e-9, f"{loss}: {relative_error(ours, theirs)}"


@pytest.mark.gpu
def test_autograd_on_the_gpu_agrees_too():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    x, y = make_moons(n_samples=32, seed=1)
    model = _model((2, 6, 1), ["tanh", "sigmoid"], "binary_crossentropy")
    _, grads = model.compute_gradients(x, y.reshape(-1, 1))
    for ours, theirs in zip(grads, torch_gradients(model, x, y.reshape(-1, 1), device="cuda")):
        assert relative_error(ours, theirs) < 1e-9


def test_perceptron_and_analysis_modules_import_numpy_only():
    import subprocess
    import sys

    code = ("import sys, course.perceptron, course.analysis;"
            "heavy = {'torch', 'matplotlib', 'ipywidgets', 'tqdm', 'IPython'} & set(sys.modules);"
            "print(sorted(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", f"importing them loaded {out.stdout.strip()}"
