"""A whole network in PyTorch: the bridge, one training step, and fit(device=...) against NumPy.

The torch side is built from the course model by course.torch.to_torch; the loss is the one
fit uses on a device (course.torch.training.Criterion). On 'cuda', fit replays its step as a
CUDA graph, so the same comparisons check the graph too.
"""
import re
import warnings

import numpy as np
import pytest
import torch

from course import Dense, Sequential, callbacks, optimizers, to_categorical
from course.datasets import make_blobs
from course.torch import DeviceFallbackWarning, from_torch, to_torch, training

# (output activation, loss, hidden activations): every kind of output fit handles
NETWORKS = {
    "softmax + categorical": ("softmax", "categorical_crossentropy", ("tanh", "relu")),
    "softmax + sparse": ("softmax", "sparse_categorical_crossentropy", ("relu", "sigmoid")),
    "sigmoid + binary": ("sigmoid", "binary_crossentropy", ("tanh", "tanh")),
    "linear + mse": ("linear", "mean_squared_error", ("sigmoid", "relu")),
    "softmax + mse": ("softmax", "mean_squared_error", ("relu", "tanh")),
}


def network(kind, dtype, optimizer=None, metrics=("accuracy",)):
    """A 3-layer network 2 -> 16 -> 8 -> out with fixed initial weights."""
    out, loss, (first, second) = NETWORKS[kind]
    units = 1 if out == "sigmoid" or out == "linear" else 3
    model = Sequential([Dense(16, activation=first, input_shape=(2,), seed=1, dtype=dtype),
                        Dense(8, activation=second, seed=2, dtype=dtype),
                        Dense(units, activation=out, seed=3, dtype=dtype)])
    model.compile(loss=loss, optimizer=optimizer or optimizers.SGD(lr=0.1, momentum=0.9),
                  metrics=list(metrics))
    return model


def data(kind, dtype, n=200):
    x, labels = make_blobs(n_samples=n, seed=0)
    x = x.astype(dtype)
    out, loss, _ = NETWORKS[kind]
    if loss == "sparse_categorical_crossentropy":
        return x, labels
    if out in ("sigmoid", "linear"):
        return x, (labels == 1).astype(dtype).reshape(-1, 1)
    return x, to_categorical(labels, 3, dtype=dtype)


def torch_grads(net):
    """Gradients of an nn.Sequential of Linear layers, kernels back in the Keras layout."""
    grads = []
    for module in net:
        if isinstance(module, torch.nn.Linear):
            grads.append(module.weight.grad.T)
            if module.bias is not None:
                grads.append(module.bias.grad)
    return grads


# --- one training step ----------------------------------------------------------------------------
@pytest.mark.parametrize("kind", NETWORKS)
@pytest.mark.parametrize("optimizer", ["sgd", "adam", "nadam"])
def test_one_training_step_matches_torch(kind, optimizer, device, dtype, assert_close):
    """Loss, every gradient and every updated weight of one step, from the same weights."""
    model = network(kind, dtype, optimizers.get(optimizer))
    x, y = data(kind, dtype, n=32)
    net, torch_opt = to_torch(model, device)
    targets = model._check_data(x, y)[1]          # y as fit sees it (labels as integers, ...)
    criterion = training.Criterion(model, targets)
    batch = {name: torch.from_numpy(np.ascontiguousarray(a)).to(device)
             for name, a in criterion.batch_arrays(targets).items()}

    loss, grads = model.compute_gradients(x, y)
    model.train_on_batch(x, y)

    out = criterion.body(net)(torch.from_numpy(x).to(device))
    torch_loss, row = criterion(out, batch)
    torch_loss.backward()
    torch_opt.step()
    assert_close(row[0], np.asarray(loss, dtype=dtype), dtype, f"training step loss ({kind})")
    for mine, theirs in zip(torch_grads(net), grads):
        assert_close(mine, theirs, dtype, f"training step gradient ({kind})")
    for mine, theirs in zip([p.T if p.dim() == 2 else p for p in net.parameters()], model.get_weights()):
        assert_close(mine, theirs, dtype, f"training step weights ({kind})")


@pytest.mark.parametrize("kind", ["softmax + categorical", "softmax + sparse", "sigmoid + binary"])
def test_the_reported_loss_is_keras_clipped_one_for_confident_predictions(kind, device, dtype, assert_close):
    """Logits of +-30: probabilities of 1e-13 and 1 - 1e-13, both clipped by Keras (to 1e-7)."""
    model = network(kind, dtype)
    x, y = data(kind, dtype, n=6)
    y = model._check_data(x, y)[1]
    units = model.output_shape[-1]
    rng = np.random.default_rng(6)
    logits = (30.0 * np.sign(rng.normal(size=(6, units)))).astype(dtype)
    probs = model.layers[-1].activation.forward(logits)
    criterion = training.Criterion(model, y)
    batch = {name: torch.from_numpy(np.ascontiguousarray(a)).to(device)
             for name, a in criterion.batch_arrays(y).items()}
    _, row = criterion(torch.from_numpy(logits).to(device), batch)
    assert_close(row[0], np.asarray(model.loss.forward(y, probs), dtype=dtype), dtype,
                 f"reported loss, clipped ({kind})")


# --- the bridge --------------------------------------------------------------------------------------
def test_to_torch_builds_linear_layers_and_activation_modules():
    net, opt = to_torch(network("softmax + categorical", np.float32))
    assert [type(m).__name__ for m in net] == ["Linear", "Tanh", "Linear", "ReLU", "Linear", "Softmax"]
    assert net[0].weight.shape == (16, 2) and net[0].weight.dtype == torch.float32
    assert type(opt.torch_optimizer) is torch.optim.SGD


def test_the_bridge_round_trip_keeps_weights_and_predictions(device, dtype, assert_close):
    model = network("softmax + categorical", dtype)
    x, _ = data("softmax + categorical", dtype, n=50)
    net, _ = to_torch(model, device)
    with torch.no_grad():
        torch_pred = net(torch.from_numpy(x).to(device))
    assert_close(torch_pred, model.predict(x), dtype, "bridge predictions")
    copy = network("softmax + categorical", dtype)
    copy.set_weights([w * 0 for w in copy.get_weights()])
    from_torch(net, copy)
    for mine, theirs in zip(copy.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(mine, theirs)


def test_from_torch_refuses_a_network_of_another_shape():
    model = network("softmax + categorical", np.float32)
    net = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Linear(16, 3))
    with pytest.raises(ValueError, match="Linear layers"):
        from_torch(net, model)


# --- fit on a torch device ------------------------------------------------------------------------------
FIT = dict(epochs=3, batch_size=16, seed=5, verbose=0, validation_split=0.25)


@pytest.mark.parametrize("kind", NETWORKS)
def test_fit_on_a_device_gives_the_numpy_history_and_weights(kind, device, assert_close):
    dtype = np.dtype(np.float64)
    x, y = data(kind, dtype)
    reference, model = network(kind, dtype), network(kind, dtype)
    expected = reference.fit(x, y, **FIT)
    history = model.fit(x, y, device=device, **FIT)
    assert list(history.history) == list(expected.history)
    for key, values in expected.history.items():
        assert_close(np.array(history.history[key]), np.array(values), dtype, f"fit history ({kind})")
    for mine, theirs in zip(model.get_weights(), reference.get_weights()):
        assert_close(mine, theirs, dtype, f"fit weights ({kind})")
    assert model.optimizer.iterations == reference.optimizer.iterations
    assert history.device.startswith(device)


FLOAT32_OPTIMIZERS = {
    "SGD nesterov": optimizers.SGD(lr=0.05, momentum=0.9, nesterov=True),
    "SGD momentum decay": optimizers.SGD(lr=0.1, momentum=0.5, decay=0.01),
    "SGD nesterov decay": optimizers.SGD(lr=0.05, momentum=0.9, decay=0.01, nesterov=True),
    "RMSprop": optimizers.RMSprop(), "RMSprop decay": optimizers.RMSprop(decay=0.01),
    "Adagrad": optimizers.Adagrad(), "Adagrad decay": optimizers.Adagrad(decay=0.01),
    "Adadelta": optimizers.Adadelta(), "Adadelta decay": optimizers.Adadelta(decay=0.01),
    "Adam": optimizers.Adam(), "Adam amsgrad": optimizers.Adam(amsgrad=True),
    "Adam decay": optimizers.Adam(decay=0.01),
    "Adamax": optimizers.Adamax(), "Adamax decay": optimizers.Adamax(decay=0.01),
    "Nadam": optimizers.Nadam(),
}


@pytest.mark.parametrize("optimizer", FLOAT32_OPTIMIZERS.values(), ids=FLOAT32_OPTIMIZERS)
def test_fit_float32_on_a_device_follows_numpy_with_every_optimizer(optimizer, device):
    """float32, where a GPU trains fastest: the two runs stay within float32 rounding."""
    kind = "softmax + categorical"
    x, y = data(kind, np.float32, n=160)
    reference = network(kind, np.float32, type(optimizer)(**optimizer.get_config()))
    model = network(kind, np.float32, type(optimizer)(**optimizer.get_config()))
    fit = dict(FIT, batch_size=8)        # 15 full steps per epoch: the GPU captures and replays
    expected = reference.fit(x, y, **fit)
    history = model.fit(x, y, device=device, **fit)
    np.testing.assert_allclose(history.history["loss"], expected.history["loss"], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(history.history["val_accuracy"], expected.history["val_accuracy"])
    for mine, theirs in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-5 * np.abs(theirs).max())
    if device == "cuda":
        assert history.steps_replayed > 0, "the training step never ran as a CUDA graph"


def test_fit_continues_where_a_numpy_fit_stopped(device, assert_close):
    dtype = np.dtype(np.float64)
    x, y = data("softmax + categorical", dtype)
    reference = network("softmax + categorical", dtype, optimizers.Adam())
    model = network("softmax + categorical", dtype, optimizers.Adam())
    reference.fit(x, y, epochs=2, batch_size=20, seed=3, verbose=0)
    model.fit(x, y, epochs=1, batch_size=20, seed=3, verbose=0)
    model.fit(x, y, epochs=1, batch_size=20, seed=_second_epoch_rng(3, len(x)), verbose=0, device=device)
    for mine, theirs in zip(model.get_weights(), reference.get_weights()):
        assert_close(mine, theirs, dtype, "fit continued on a device")
    assert model.optimizer.iterations == reference.optimizer.iterations == 20


def _second_epoch_rng(seed, n):
    """A generator in the state the NumPy fit's generator is in after its first epoch."""
    rng = np.random.default_rng(seed)
    rng.permutation(n)
    return rng


def test_callbacks_see_the_trained_model_at_every_epoch(device):
    x, y = data("softmax + categorical", np.float32)
    model = network("softmax + categorical", np.float32)
    stopper = callbacks.EarlyStopping(monitor="val_loss", patience=0, restore_best_weights=True)
    schedule = callbacks.LearningRateScheduler(lambda epoch: 0.1 * 0.5 ** epoch)
    batches = callbacks.BatchLossLogger()
    history = model.fit(x, y, epochs=4, batch_size=25, validation_split=0.25, verbose=0, seed=1,
                        callbacks=[stopper, schedule, batches], device=device)
    assert history.history["lr"] == [0.1 * 0.5 ** e for e in range(len(history.epoch))]
    assert len(batches.losses) == 6 * len(history.epoch)
    assert all(isinstance(v, float) for v in batches.losses)
    assert history.history["loss"][0] == pytest.approx(np.mean(batches.losses[:6]), rel=1e-6)
    reference = network("softmax + categorical", np.float32)
    reference.fit(x, y, epochs=4, batch_size=25, validation_split=0.25, verbose=0, seed=1,
                  callbacks=[callbacks.LearningRateScheduler(lambda epoch: 0.1 * 0.5 ** epoch)])
    assert history.history["loss"][0] == pytest.approx(reference.history.history["loss"][0], rel=1e-5)


def test_a_diverging_run_stops_with_the_numpy_warning_and_keeps_finite_weights(device):
    x, y = data("linear + mse", np.float32)
    model = network("linear + mse", np.float32, optimizers.SGD(lr=50.0))
    before = model.get_weights()
    with pytest.warns(UserWarning, match="NaN or infinite"):
        history = model.fit(x * 1e3, y, epochs=5, batch_size=10, verbose=0, device=device)
    assert len(history.epoch) == 1 and history.stopped_reason
    for w, w0 in zip(model.get_weights(), before):
        assert np.isfinite(w).all()
        np.testing.assert_array_equal(w, w0)     # the weights from the start of the epoch


def test_verbose_2_prints_one_line_per_epoch(capsys):
    x, y = data("softmax + categorical", np.float32)
    model = network("softmax + categorical", np.float32)
    model.fit(x, y, epochs=2, batch_size=50, verbose=2, device="cpu")
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Epoch")]
    assert len(lines) == 2 and "loss:" in lines[0] and "accuracy:" in lines[0]
    assert re.search(r" - \d+\.\d\ds - ", lines[0]), lines[0]


def test_cuda_without_a_gpu_falls_back_to_the_cpu_with_a_warning(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    x, y = data("softmax + categorical", np.float32)
    model = network("softmax + categorical", np.float32)
    with pytest.warns(DeviceFallbackWarning, match="no CUDA GPU is available.*CPU"):
        history = model.fit(x, y, epochs=1, verbose=0, device="cuda")
    assert history.device == "cpu"
    assert set(history.history) == {"loss", "accuracy"}


def test_a_metric_written_in_numpy_is_refused_on_a_device_with_the_alternatives():
    def my_metric(y_true, y_pred):
        return float(np.mean(y_pred))
    x, y = data("softmax + categorical", np.float32)
    model = network("softmax + categorical", np.float32, metrics=[my_metric])
    with pytest.raises(ValueError, match="device=None"):
        model.fit(x, y, epochs=1, verbose=0, device="cpu")


def test_a_device_that_does_not_exist_is_named_in_the_error():
    model = network("softmax + categorical", np.float32)
    x, y = data("softmax + categorical", np.float32)
    with pytest.raises(ValueError, match="device"):
        model.fit(x, y, epochs=1, verbose=0, device="gpu-please")


def test_without_a_device_fit_stays_on_numpy():
    x, y = data("softmax + categorical", np.float32)
    model = network("softmax + categorical", np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = model.fit(x, y, epochs=1, verbose=0)
    assert not hasattr(history, "device")


class _FakeGraph:
    """Stands in for a CUDA graph on the CPU: replay() runs the step that would have been captured."""

    def __init__(self, trainer):
        self.trainer = trainer

    def replay(self):
        t = trainer = self.trainer
        t.optimizer.zero_grad(set_to_none=True)     # a replayed backward writes, never adds
        row = trainer._forward_backward(t.perm_full.index_select(0, t.counter).view(-1))
        t.optimizer.graph_step()
        t.values.index_copy_(0, t.counter, row.unsqueeze(0))
        t.counter.add_(1)


@pytest.mark.parametrize("optimizer", FLOAT32_OPTIMIZERS.values(), ids=FLOAT32_OPTIMIZERS)
def test_the_graph_schedule_of_fit_follows_numpy_on_the_cpu(optimizer, monkeypatch):
    """fit's choice between eager, captured and replayed steps, run on the CPU with a stand-in for
    the graph: what each replay computes (graph_step, counters, batch values) matches NumPy."""
    captured = []
    original_init = training._Trainer.__init__

    def init(self, *args):
        original_init(self, *args[:-1], True)          # use_graphs=True, as on a GPU

    def capture(self):
        captured.append(self.optimizer.iterations)
        return _FakeGraph(self)

    monkeypatch.setattr(training._Trainer, "__init__", init)
    monkeypatch.setattr(training._Trainer, "_capture", capture)
    kind = "softmax + categorical"
    x, y = data(kind, np.float32, n=160)
    reference = network(kind, np.float32, type(optimizer)(**optimizer.get_config()))
    model = network(kind, np.float32, type(optimizer)(**optimizer.get_config()))
    fit = dict(FIT, batch_size=8)        # 15 full steps per epoch, 45 in all
    expected = reference.fit(x, y, **fit)
    history = model.fit(x, y, device="cpu", **fit)
    np.testing.assert_allclose(history.history["loss"], expected.history["loss"], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(history.history["val_accuracy"], expected.history["val_accuracy"])
    for mine, theirs in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-5 * np.abs(theirs).max())
    assert model.optimizer.iterations == reference.optimizer.iterations == 45
    # captured once, after the warm-up steps, then replayed (a schedule keeps its key); a step on
    # device scalars also waits for torch.optim's state, which the first step makes (torch's
    # Adagrad makes it when it is built)
    scalars = isinstance(optimizer, optimizers.Adam) or optimizer.decay > 0
    if isinstance(optimizer, optimizers.SGD) or scalars:   # others need step counters on a GPU
        waits = scalars and not isinstance(optimizer, optimizers.Adagrad)
        assert captured == [training.WARMUP_STEPS + int(waits)]
        assert history.steps_replayed >= 40 and history.steps_eager == 45 - history.steps_replayed


@pytest.mark.parametrize("optimizer", [optimizers.Adam(lr=0.01), optimizers.SGD(lr=0.1, momentum=0.9, decay=0.01),
                                       optimizers.SGD(lr=0.1, momentum=0.9)], ids=["Adam", "SGD decay", "SGD"])
def test_a_schedule_on_device_scalars_needs_no_new_graph(optimizer, device, monkeypatch):
    """A learning rate changed by a schedule at every epoch: an update on device scalars reads
    the new rate from the device, so its one graph serves every epoch; torch.optim's own step
    (SGD without decay) is captured again for each new rate. Both follow NumPy. On the CPU a
    stand-in replays the step that a GPU would capture."""
    captured = []
    original_init, original_capture = training._Trainer.__init__, training._Trainer._capture

    def init(self, *args):
        original_init(self, *args[:-1], True)          # use_graphs=True, as on a GPU

    def capture(self):
        captured.append(self.optimizer.iterations)
        return original_capture(self) if device == "cuda" else _FakeGraph(self)

    if device == "cpu":
        monkeypatch.setattr(training._Trainer, "__init__", init)
    monkeypatch.setattr(training._Trainer, "_capture", capture)
    x, y = data("softmax + categorical", np.float32, n=160)
    fit = dict(epochs=3, batch_size=10, seed=2, verbose=0)
    reference = network("softmax + categorical", np.float32, type(optimizer)(**optimizer.get_config()))
    model = network("softmax + categorical", np.float32, type(optimizer)(**optimizer.get_config()))
    rate = optimizer.lr

    def schedule():
        return callbacks.LearningRateScheduler(lambda epoch: rate * 0.5 ** epoch)

    expected = reference.fit(x, y, callbacks=[schedule()], **fit)
    history = model.fit(x, y, callbacks=[schedule()], device=device, **fit)
    np.testing.assert_allclose(history.history["loss"], expected.history["loss"], rtol=1e-4, atol=1e-6)
    for mine, theirs in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-5 * np.abs(theirs).max())
    scalars = isinstance(optimizer, optimizers.Adam) or optimizer.decay > 0
    assert len(captured) == (1 if scalars else 3), captured
