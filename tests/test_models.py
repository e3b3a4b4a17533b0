"""Sequential: the book's code, fit/evaluate/predict, reproducibility, and every bad input."""
import io
import re

import numpy as np
import pytest

from course import BatchLossLogger, Dense, EarlyStopping, LearningRateScheduler, Sequential, set_seed
from course.callbacks import NaNLossWarning
from course.datasets import toy
from course.gradcheck import check_model_gradients
from course.optimizers import SGD
from course.utils import to_categorical


def book_model():
    model = Sequential()
    model.add(Dense(10, activation="sigmoid", input_shape=(784,)))
    model.add(Dense(10, activation="softmax"))
    return model


def small_model(hidden=8, activation="tanh", dtype=np.float32, seed=0, out=3, out_act="softmax"):
    return Sequential([Dense(hidden, activation=activation, input_shape=(4,), dtype=dtype, seed=seed),
                       Dense(out, activation=out_act, dtype=dtype, seed=seed + 1)])


@pytest.fixture
def data(rng):
    x = rng.normal(size=(64, 4)).astype(np.float32)
    labels = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0)
    return x, to_categorical(labels, 3), labels


def summary_text(model):
    buffer = io.StringIO()
    model.summary(print_fn=lambda line: buffer.write(line + "\n"))
    return buffer.getvalue()


# --- the book's code -------------------------------------------------------------------------
def test_book_summary_shows_7850_plus_110_equals_7960():
    text = summary_text(book_model())
    assert re.search(r"dense \(Dense\)\s+\(None, 10\)\s+7850", text), text
    assert re.search(r"dense_1 \(Dense\)\s+\(None, 10\)\s+110", text), text
    assert "Total params: 7,960" in text and "Trainable params: 7,960" in text


@pytest.mark.slow
def test_book_code_runs_end_to_end_on_mnist(mnist_flat):
    (x_train, y_train), (x_test, y_test) = mnist_flat
    set_seed(0)
    model = book_model()
    model.compile(loss="categorical_crossentropy", optimizer="sgd", metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=2, batch_size=100, verbose=0)
    assert set(history.history) >= {"loss", "accuracy"}
    assert history.history["loss"][1] < history.history["loss"][0]
    loss, acc = model.evaluate(x_test, y_test)
    assert 0.3 < acc <= 1.0
    sgd = SGD(lr=0.01, momentum=0.0, decay=0.0, nesterov=False)
    model.compile(loss="categorical_crossentropy", optimizer=sgd, metrics=["accuracy"])
    assert model.optimizer is sgd


# --- training behaviour ------------------------------------------------------------------------
def test_fit_returns_history_with_train_and_validation_keys(data):
    x, y, _ = data
    model = small_model()
    model.compile(loss="categorical_crossentropy", optimizer=SGD(lr=0.1), metrics=["accuracy"])
    h = model.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0)
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(h.history)
    assert all(len(v) == 3 for v in h.history.values()) and h.epoch == [0, 1, 2]
    h2 = model.fit(x, y, epochs=1, batch_size=16, validation_data=(x[:8], y[:8]), verbose=0)
    assert "val_loss" in h2.history


def test_fit_learns_xor_which_a_single_layer_cannot(rng):
    x, labels = toy.make_xor(n_samples=200, seed=0)
    set_seed(0)
    model = Sequential([Dense(8, activation="tanh", input_shape=(2,)), Dense(1, activation="sigmoid")])
    model.compile(loss="binary_crossentropy", optimizer=SGD(lr=0.5, momentum=0.9), metrics=["accuracy"])
    model.fit(x, labels, epochs=60, batch_size=20, verbose=0, seed=0)
    assert model.evaluate(x, labels)[1] > 0.95


def test_train_on_batch_returns_the_loss_before_the_update(data):
    x, y, _ = data
    model = small_model()
    model.compile(loss="categorical_crossentropy", optimizer=SGD(lr=0.5))
    before = model.evaluate(x, y)
    assert model.train_on_batch(x, y) == pytest.approx(before, rel=1e-5)
    assert model.evaluate(x, y) < before


def test_sparse_labels_train_like_one_hot(data):
    x, y, labels = data
    a, b = small_model(), small_model()
    a.compile(loss="categorical_crossentropy", optimizer=SGD(lr=0.1))
    b.compile(loss="sparse_categorical_crossentropy", optimizer=SGD(lr=0.1))
    ha = a.fit(x, y, epochs=2, batch_size=16, verbose=0, seed=1)
    hb = b.fit(x, labels, epochs=2, batch_size=16, verbose=0, seed=1)
    np.testing.assert_allclose(ha.history["loss"], hb.history["loss"], rtol=1e-5)


def test_predict_and_evaluate_shapes(data):
    x, y, _ = data
    model = small_model()
    model.compile(loss="categorical_crossentropy", optimizer="sgd", metrics=["accuracy"])
    assert model.predict(x).shape == (64, 3)
    np.testing.assert_allclose(model.predict(x).sum(axis=1), 1, rtol=1e-5)
    assert isinstance(model.evaluate(x, y), list)
    model.compile(loss="categorical_crossentropy", optimizer="sgd")
    assert isinstance(model.evaluate(x, y), float)


def test_same_seed_gives_the_same_run(data):
    x, y, _ = data

    def run():
        set_seed(42)
        model = Sequential([Dense(8, activation="relu", input_shape=(4,)), Dense(3, activation="softmax")])
        model.compile(loss="categorical_crossentropy", optimizer=SGD(lr=0.1), metrics=["accuracy"])
        h = model.fit(x, y, epochs=3, batch_size=8, verbose=0)
        return h.history["loss"], model.get_weights()

    (l1, w1), (l2, w2) = run(), run()
    assert l1 == l2
    for a, b in zip(w1, w2):
        np.testing.assert_array_equal(a, b)


def test_get_and_set_weights_round_trip(data):
    model = small_model()
    weights = model.get_weights()
    assert [w.shape for w in weights] == [(4, 8), (8,), (8, 3), (3,)]
    kernel = model.layers[0].kernel
    model.set_weights([w + 1 for w in weights])
    assert model.layers[0].kernel is kernel  # copied in place: optimizer state stays attached
    np.testing.assert_array_equal(model.get_weights()[0], weights[0] + 1)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "linear"])
@pytest.mark.parametrize("loss, out_act", [("categorical_crossentropy", "softmax"),
                                           ("mean_squared_error", "linear"),
                                           ("mean_squared_error", "softmax")])
def test_whole_model_passes_gradient_check(activation, loss, out_act, data):
    x, y, _ = data
    model = Sequential([Dense(5, activation=activation, input_shape=(4,), dtype=np.float64, seed=3),
                        Dense(6, activation="tanh", dtype=np.float64, seed=4),
                        Dense(3, activation=out_act, dtype=np.float64, seed=5)])
    model.compile(loss=loss, optimizer="sgd")
    x = x[:6].astype(np.float64) + 0.013  # keep ReLU inputs off the kink
    errors = check_model_gradients(model, x, y[:6])
    assert max(errors) < 1e-6, errors


def test_binary_model_gradient_check(rng):
    model = Sequential([Dense(4, activation="tanh", input_shape=(3,), dtype=np.float64, seed=1),
                        Dense(1, activation="sigmoid", dtype=np.float64, seed=2)])
    model.compile(loss="binary_crossentropy", optimizer="sgd")
    x, y = rng.normal(size=(7, 3)), rng.integers(0, 2, size=7)
    assert max(check_model_gradients(model, x, y)) < 1e-6


def test_progress_bar_verbose_1_prints_each_epoch(data, capsys):
    x, y, _ = data
    model = small_model()
    model.compile(loss="categorical_crossentropy", optimizer="sgd", metrics=["accuracy"])
    model.fit(x, y, epochs=2, batch_size=16, verbose=1)
    out = capsys.readouterr()
    assert "Epoch 1/2" in out.out + out.err and "Epoch 2/2" in out.out + out.err


def test_progress_works_without_tqdm(data, capsys, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_tqdm(name, *args, **kwargs):
        if name.startswith("tqdm"):
            raise ImportError("no tqdm here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tqdm)
    x, y, _ = data
    model = small_model()
    model.compile(loss="categorical_crossentropy", optimizer="sgd", metrics=["accuracy"])
    model.fit(x, y, epochs=2, batch_size=16, verbose=1)
    assert re.search(r"Epoch 2/2 - \d+\.\d\ds - loss:", capsys.readouterr().out)


def test_batch_loss_logger_records_every_update(data):
    x, y, _ = data
    model = small_model()
    model.compile(loss="categorical_crossentropy", optimizer="sgd")
    logger = BatchLossLogger()
    model.fit(x, y, epochs=3, batch_size=10, verbose=0, callbacks=[logger])
    assert len(logger.losses) == 3 * 7 and logger.epochs[-1] == 2


def test_learning_rate_scheduler_sets_lr_each_epoch(data):
    x, y, _ = data
    model = small_model()
    opt = SGD(lr=0.1)
    model.compile(loss="categorical_crossentropy", optimizer=opt)
    h = model.fit(x, y, epochs=3, verbose=0, callbacks=[LearningRateScheduler(lambda e: 0.1 * 0.5 ** e)])
    assert h.history["lr"] == pytest.approx([0.1, 0.05, 0.025])


def test_early_stopping_restores_the_best_weights(data):
    x, y, _ = data
    model = small_model()
    model.compile(loss="categorical_crossentropy", optimizer=SGD(lr=5.0))  # too large: val loss rises
    stop = EarlyStopping(monitor="val_loss", patience=1, restore_best_weights=True)
    h = model.fit(x, y, epochs=30, batch_size=8, validation_split=0.25, verbose=0, callbacks=[stop], seed=0)
    assert stop.stopped_epoch is not None and len(h.epoch) < 30
    best = int(np.argmin(h.history["val_loss"]))
    assert stop.best_epoch == best
    assert model.evaluate(x[48:], y[48:]) == pytest.approx(h.history["val_loss"][best], rel=1e-4)


# Keras's rule (keras/src/callbacks/early_stopping.py): after each epoch without improvement,
# wait += 1, and training stops once wait >= patience (never after the first epoch).
SCRIPTED_VAL_LOSS = [1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.45, 0.4,      # best in epoch 8 (1-based)
                     0.41, 0.42, 0.43, 0.44, 0.45, 0.46, 0.47, 0.48]


def replay_early_stopping(losses, patience):
    from types import SimpleNamespace
    stop = EarlyStopping(monitor="val_loss", patience=patience)
    stop.set_model(SimpleNamespace(stop_training=False))
    stop.on_train_begin()
    for epoch, loss in enumerate(losses):
        stop.on_epoch_end(epoch, {"val_loss": loss})
        if stop.model.stop_training:
            break
    return stop.best_epoch + 1, stop.stopped_epoch + 1


@pytest.mark.parametrize("patience, keras_stops_after", [(0, 9), (1, 9), (3, 11), (5, 13)])
def test_early_stopping_stops_where_keras_does(patience, keras_stops_after):
    best, stopped = replay_early_stopping(SCRIPTED_VAL_LOSS, patience)
    assert (best, stopped) == (8, keras_stops_after), (
        f"patience={patience}: Keras stops after epoch {keras_stops_after} (best 8), got {stopped}")


def test_early_stopping_never_stops_after_the_first_epoch():
    from types import SimpleNamespace
    stop = EarlyStopping(monitor="val_loss", patience=0, baseline=0.5)
    stop.set_model(SimpleNamespace(stop_training=False))
    stop.on_train_begin()
    stop.on_epoch_end(0, {"val_loss": 0.9})            # worse than the baseline: wait = 1
    assert not stop.model.stop_training
    stop.on_epoch_end(1, {"val_loss": 0.9})
    assert stop.model.stop_training and stop.stopped_epoch == 1


# --- bad input ---------------------------------------------------------------------------------
def assert_unchanged(model, weights):
    for a, b in zip(model.get_weights(), weights):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("bad_x, match", [
    (np.zeros((10, 5), np.float32), r"shape \(10, 5\).*layer 'dense' expects inputs of shape \(n, 4\)"),
    (np.zeros((10, 2, 2), np.float32), r"Flatten it first"),
    (np.full((10, 4), np.nan, np.float32), r"NaN or infinite"),
    (np.full((10, 4), np.inf, np.float32), r"NaN or infinite"),
])
def test_bad_inputs_are_explained_and_leave_the_model_unchanged(bad_x, match, data):
    _, y, _ = data
    model = small_model()
    model.compile(loss="categorical_crossentropy", optimizer="sgd")
    weights = model.get_weights()
    with pytest.raises(ValueError, match=match):
        model.fit(bad_x, y[:10], verbose=0)
    assert_unchanged(model, weights)


def test_integer_labels_with_categorical_crossentropy(data):
    x, _, labels = data
    model = small_model()
    model.compile(loss="categorical_crossentropy", optimizer="sgd")
    weights = model.get_weights()
    with pytest.raises(ValueError, match=r"to_categorical\(y, 3\).*sparse_categorical_crossentropy"):
        model.fit(x, labels, verbose=0)
    assert_unchanged(model, weights)


def test_mismatched_lengths_and_target_shapes(data):
    x, y, _ = data
    model = small_model()
    model.compile(loss="categorical_crossentropy", optimizer="sgd")
    with pytest.raises(ValueError, match="64 examples but y has 10"):
        model.fit(x, y[:10], verbose=0)
    with pytest.raises(ValueError, match=r"targets of shape \(n, 3\)"):
        model.fit(x, np.zeros((64, 5)), verbose=0)


@pytest.mark.parametrize("kind, make, match", [
    ("activation", lambda: Dense(3, activation="swish"), "relu"),
    ("initializer", lambda: Dense(3, kernel_initializer="xavier"), "glorot_uniform"),
])
def test_unknown_names_list_the_valid_ones(kind, make, match):
    with pytest.raises(ValueError, match=f"Unknown {kind}.*{match}"):
        make()


def test_unknown_loss_or_optimizer_leaves_compile_undone():
    model = small_model()
    with pytest.raises(ValueError, match="Unknown loss.*categorical_crossentropy"):
        model.compile(loss="hinge", optimizer="sgd")
    with pytest.raises(ValueError, match="sgd.*adam|adam.*sgd"):
        model.compile(loss="mse", optimizer="lbfgs")
    assert model.loss is None and model.optimizer is None


@pytest.mark.parametrize("kwargs, match", [
    ({"lr": -0.1}, "lr"), ({"momentum": -0.5}, "momentum"), ({"decay": -1e-3}, "decay"),
    ({"nesterov": 1}, "nesterov"),
])
def test_sgd_hyperparameters_out_of_range(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        SGD(**kwargs)


def test_fit_before_compile_says_to_compile(data):
    x, y, _ = data
    with pytest.raises(RuntimeError, match=r"model\.compile\(.*before model\.fit"):
        small_model().fit(x, y)


def test_first_layer_without_input_shape_and_mismatched_layers():
    with pytest.raises(ValueError, match="input_shape"):
        Sequential([Dense(3)])
    model = Sequential([Dense(3, input_shape=(4,))])
    with pytest.raises(ValueError, match=r"expects inputs of shape \(None, 5\).*outputs \(None, 3\)"):
        model.add(Dense(2, input_shape=(5,)))
    assert len(model.layers) == 1
    with pytest.raises(TypeError, match="Dense"):
        model.add("relu")


@pytest.mark.parametrize("kwargs, match", [
    ({"batch_size": 0}, "batch_size"), ({"epochs": -1}, "epochs"), ({"validation_split": 1.5}, "validation_split"),
    ({"batch_size": 2.5}, "batch_size"), ({"verbose": 3}, "verbose"),
])
def test_bad_fit_arguments(kwargs, match, data):
    x, y, _ = data
    model = small_model()
    model.compile(loss="categorical_crossentropy", optimizer="sgd")
    weights = model.get_weights()
    with pytest.raises(ValueError, match=match):
        model.fit(x, y, **{"verbose": 0, **kwargs})
    assert_unchanged(model, weights)


def test_nan_loss_stops_training_and_keeps_the_history(data):
    x, y, _ = data
    model = small_model(activation="relu", out_act="linear", out=3)
    model.compile(loss="mean_squared_error", optimizer=SGD(lr=1e6))
    with pytest.warns(NaNLossWarning, match="NaN or infinite.*smaller learning rate"):
        h = model.fit(x * 100, y * 1e3, epochs=50, batch_size=8, verbose=0)
    assert 1 <= len(h.epoch) < 50
    assert not np.isfinite(h.history["loss"][-1])
    assert h.stopped_reason is not None


def test_set_weights_refuses_wrong_shapes():
    model = small_model()
    weights = model.get_weights()
    with pytest.raises(ValueError, match=r"weight 0 must have shape \(4, 8\)"):
        model.set_weights([np.zeros((8, 4))] + weights[1:])
    with pytest.raises(ValueError, match="expects 4 arrays"):
        model.set_weights(weights[:2])
    assert_unchanged(model, weights)
