"""Answers a learner can check by hand, and the Keras behaviour the textbook describes.

Each test states one answer the library once got wrong or surprising: a wrong gradient, the
wrong epochs, Keras's argument order, a plotting import that changed the backend, History and
return values that differ from Keras, a gradient check that failed a correct float32 model,
errors that were hidden or pointed into the library, seeds and dtypes.
"""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from course import Dense, Sequential, set_seed
from course import losses, metrics
from course.callbacks import LearningRateScheduler, NaNLossWarning
from course.datasets import toy
from course.gradcheck import check_model_gradients
from course.optimizers import SGD


def softmax_model(dtype=np.float32, units=3, inputs=4, seed=0):
    model = Sequential([Dense(units, activation="softmax", input_shape=(inputs,), dtype=dtype, seed=seed)])
    return model


# -- 1. the gradient of sparse labels shaped (B, 1) ------------------------------------------------
def test_softmax_crossentropy_gradient_of_labels_shaped_b_by_1_equals_that_of_labels_shaped_b():
    probs = np.array([[0.2, 0.5, 0.3], [0.1, 0.1, 0.8]])
    labels = np.array([1, 2])
    expected = (probs - np.eye(3)[labels]) / 2          # (softmax - one_hot) / B
    got = losses.softmax_crossentropy_backward(labels.reshape(-1, 1), probs)
    np.testing.assert_allclose(got, expected, err_msg=f"labels (B, 1) {labels.reshape(-1, 1).tolist()}")


def test_a_model_trained_on_labels_shaped_b_by_1_gets_the_gradients_of_labels_shaped_b():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 4))
    labels = rng.integers(0, 3, 6)
    model = softmax_model(np.float64)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    _, flat = model.compute_gradients(x, labels)
    _, column = model.compute_gradients(x, labels.reshape(-1, 1))
    for want, got, name in zip(flat, column, ["kernel", "bias"]):
        np.testing.assert_allclose(got, want, rtol=1e-12, err_msg=f"d{name} with labels shaped (B, 1)")


# -- 2. initial_epoch counts towards epochs, as in Keras --------------------------------------------
def test_fit_from_initial_epoch_3_to_epochs_5_trains_epochs_3_and_4():
    x = np.random.default_rng(0).standard_normal((20, 4)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[np.arange(20) % 3]
    model = softmax_model()
    model.compile("sgd", "categorical_crossentropy")
    history = model.fit(x, y, batch_size=10, epochs=5, initial_epoch=3, verbose=0, seed=0)
    assert history.epoch == [3, 4], history.epoch
    assert model.optimizer.iterations == 2 * 2, model.optimizer.iterations
    assert len(history.history["loss"]) == 2


def test_fit_with_initial_epoch_at_epochs_trains_nothing():
    x = np.zeros((4, 4), np.float32)
    y = np.eye(3, dtype=np.float32)[[0, 1, 2, 0]]
    model = softmax_model()
    model.compile("sgd", "categorical_crossentropy")
    history = model.fit(x, y, epochs=2, initial_epoch=2, verbose=0)
    assert history.epoch == [] and model.optimizer.iterations == 0


# -- 3. compile(optimizer, loss, metrics): Keras's order ---------------------------------------------
def test_compile_takes_the_optimizer_first_as_keras_does():
    model = softmax_model()
    model.compile("sgd", "categorical_crossentropy", ["accuracy"])
    assert isinstance(model.optimizer, SGD)
    assert model.loss.name == "categorical_crossentropy"
    assert [name for name, _ in model.metrics] == ["accuracy"]


def test_compile_without_a_loss_says_which_argument_is_missing():
    model = softmax_model()
    with pytest.raises(ValueError, match="loss"):
        model.compile("sgd")
    assert model.optimizer is None and model.loss is None


# -- 4. importing the plots leaves matplotlib's backend alone -----------------------------------------
@pytest.mark.parametrize("module", ["course.plots", "course.widgets"])
@pytest.mark.slow
def test_importing_the_plots_keeps_the_learners_backend(module):
    code = ("import matplotlib; matplotlib.use('svg'); "
            f"import {module}; import matplotlib.pyplot as plt; print(matplotlib.get_backend())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "svg", f"import {module} changed the backend to {out.stdout.strip()!r}"


# -- 5. History and the values returned, as in Keras --------------------------------------------------
def compiled_model_and_data(metrics_list=("accuracy",)):
    x = np.random.default_rng(0).standard_normal((12, 4)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[np.arange(12) % 3]
    model = softmax_model()
    model.compile("sgd", "categorical_crossentropy", list(metrics_list))
    return model, x, y


def test_history_holds_the_keras_keys_only():
    model, x, y = compiled_model_and_data()
    history = model.fit(x, y, epochs=2, verbose=0, validation_split=0.25)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(history.epoch_seconds) == 2 and all(s > 0 for s in history.epoch_seconds)


def test_evaluate_and_train_on_batch_return_python_floats():
    model, x, y = compiled_model_and_data()
    for result, call in [(model.evaluate(x, y), "evaluate"), (model.train_on_batch(x, y), "train_on_batch")]:
        assert [type(v) for v in result] == [float, float], f"{call} returned {[type(v) for v in result]}"


@pytest.mark.parametrize("name", ["accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
                                  "binary_accuracy"])
def test_every_metric_returns_a_python_float(name):
    y_pred = np.array([[0.9, 0.1], [0.2, 0.8]])
    y_true = np.array([0, 0]) if name == "sparse_categorical_accuracy" else np.array([[1, 0], [1, 0]])
    _, fn = metrics.get(name)
    value = fn(y_true, y_pred)
    assert type(value) is float and value == 0.5, (name, value, type(value))


@pytest.mark.parametrize("call", ["evaluate", "predict", "fit"])
def test_batch_size_0_is_refused_everywhere(call):
    model, x, y = compiled_model_and_data()
    before = model.get_weights()
    args = (x,) if call == "predict" else (x, y)
    with pytest.raises(ValueError, match=r"batch_size must be an integer >= 1, got 0"):
        getattr(model, call)(*args, batch_size=0, **({"verbose": 0} if call == "fit" else {}))
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)


# -- 6. the gradient check of a float32 model ---------------------------------------------------------
def test_the_gradient_check_passes_a_correct_float32_model():
    set_seed(0)
    model = Sequential([Dense(5, activation="sigmoid", input_shape=(4,)), Dense(3, activation="softmax")])
    model.compile("sgd", "categorical_crossentropy")
    x = np.random.default_rng(1).standard_normal((6, 4)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[np.arange(6) % 3]
    before = model.get_weights()
    errors = check_model_gradients(model, x, y)
    assert max(errors) < 1e-6, f"relative errors {errors} for a correct float32 model"
    for a, b in zip(model.get_weights(), before):
        assert a.dtype == np.float32
        np.testing.assert_array_equal(a, b)


# -- 7. errors the learner can act on ---------------------------------------------------------------
def test_a_typeerror_inside_the_learners_schedule_reaches_the_learner():
    model, x, y = compiled_model_and_data()

    def schedule(epoch, lr):
        return lr * "half"          # the learner's own mistake

    with pytest.raises(TypeError, match="can't multiply sequence|unsupported operand"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[LearningRateScheduler(schedule)])


def test_a_schedule_of_the_epoch_alone_is_still_accepted():
    model, x, y = compiled_model_and_data()
    model.fit(x, y, epochs=2, verbose=0, callbacks=[LearningRateScheduler(lambda epoch: 0.5 / (epoch + 1))])
    assert model.optimizer.lr == 0.25


def test_the_nan_warning_points_at_the_learners_line():
    model, x, y = compiled_model_and_data(())
    model.optimizer.lr = 1e30
    with pytest.warns(NaNLossWarning) as record:
        model.fit(x * 1e20, y, epochs=3, batch_size=4, verbose=0)
    assert record[0].filename == __file__, f"the warning points at {record[0].filename}:{record[0].lineno}"


def test_train_on_batch_warns_when_the_loss_is_not_finite():
    model, x, y = compiled_model_and_data(())
    model.optimizer.lr = 1e30
    with pytest.warns(NaNLossWarning) as record:
        for _ in range(5):
            model.train_on_batch(x * 1e20, y)
    assert record[0].filename == __file__


# -- 8. seeds and dtypes -------------------------------------------------------------------------------
@pytest.mark.parametrize("make", ["make_blobs", "make_xor", "make_moons", "make_circles", "make_spirals"])
def test_toy_data_without_a_seed_follows_set_seed(make):
    set_seed(3)
    first = getattr(toy, make)(seed=None)
    set_seed(3)
    second = getattr(toy, make)(seed=None)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b, err_msg=f"{make}(seed=None) after set_seed(3), twice")


def test_layers_of_mixed_dtypes_are_refused_with_both_dtypes_named():
    model = Sequential([Dense(3, input_shape=(4,), dtype=np.float64)])
    with pytest.raises(ValueError, match=r"float32.*float64|float64.*float32"):
        model.add(Dense(2, dtype=np.float32))
    assert len(model.layers) == 1
