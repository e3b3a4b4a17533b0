"""course.debugging: the recipe for a network that does not learn, and the 'fix this network' check."""
import math

import numpy as np
import pytest

from course import debugging
from course.datasets import mnist


@pytest.fixture(scope="module")
def data(mnist_flat):
    return mnist.load_subset(n_train=2000, n_val=1000, seed=0, data=mnist_flat)


def test_a_healthy_network_memorises_one_batch_and_the_broken_one_cannot(data):
    x, y = data.x_train[:32], data.y_train[:32]
    healthy = debugging.overfit_one_batch(debugging.build(debugging.HEALTHY), x, y)
    assert healthy.passed and healthy.accuracy == 1.0 and healthy.losses[-1] < 0.05
    broken = debugging.overfit_one_batch(debugging.build(debugging.BROKEN), debugging.prepare(x, debugging.BROKEN), y)
    assert not broken.passed and broken.losses[0] == pytest.approx(math.log(10), rel=1e-4)


def test_the_range_test_rises_then_stops_and_suggests_a_tenth_of_the_best_rate(data):
    sweep = debugging.lr_range_test(debugging.HEALTHY, data.x_train, data.y_train)
    assert sweep.learning_rates[0] == pytest.approx(1e-4)
    assert np.all(np.diff(sweep.learning_rates) > 0)
    assert sweep.losses.min() < 0.8 * sweep.losses[0], "the loss falls as the rate grows"
    assert sweep.losses[-1] > 1.2 * sweep.losses.min(), "then it blows up"
    assert sweep.learning_rates[-1] < 10, "it stops when the loss blows up, before the last rate"
    assert sweep.suggested_lr == pytest.approx(sweep.best_lr / 10)
    assert 0.01 < sweep.suggested_lr < 0.2


def test_layer_health_of_the_healthy_and_the_broken_network(data):
    x, y = data.x_train[:32], data.y_train[:32]
    healthy = debugging.layer_health(debugging.build(debugging.HEALTHY), x, y)
    assert len(healthy) == 3 and all(1e-4 < layer.update_ratio < 0.1 for layer in healthy)
    broken = debugging.layer_health(debugging.build(debugging.BROKEN), debugging.prepare(x, debugging.BROKEN), y)
    assert broken[0].gradient_std == 0 and broken[0].dead_fraction == 1.0, "zero kernels: ReLU gets nothing"


def test_layer_health_measures_the_step_the_optimizer_took(data):
    from course.optimizers import Adam

    x, y = data.x_train[:32], data.y_train[:32]
    model = debugging.build(debugging.HEALTHY)
    before = [layer.kernel.copy() for layer in model.layers]
    estimated = debugging.layer_health(model, x, y)            # plain SGD's step, lr * ||dK|| / ||K||
    model.train_on_batch(x, y)                                  # SGD: the step is exactly lr * dK
    measured = debugging.layer_health(model, x, y, kernels_before=before)
    np.testing.assert_allclose([h.update_ratio for h in measured], [h.update_ratio for h in estimated], rtol=1e-4)
    # Adam moves every weight by about lr at its first step, whatever the gradient's size
    model = debugging.build(debugging.HEALTHY)
    model.compile(loss="categorical_crossentropy", optimizer=Adam(lr=0.001))
    before = [layer.kernel.copy() for layer in model.layers]
    model.train_on_batch(x, y)
    for row, layer, kernel in zip(debugging.layer_health(model, x, y, kernels_before=before), model.layers, before):
        moved = np.count_nonzero(layer.kernel != kernel)
        adam_step = 0.001 * np.sqrt(moved) / np.linalg.norm(kernel)     # lr for each weight that moved
        assert 0.5 * adam_step < row.update_ratio <= 1.001 * adam_step, (row, adam_step)
    with pytest.raises(ValueError, match="one kernel per layer"):
        debugging.layer_health(model, x, y, kernels_before=before[:1])


@pytest.mark.parametrize("change, names", [
    ({}, ["inputs reach 255", "starts the same", "learning rate moves the weights"]),
    ({"scale_inputs": True}, ["starts the same", "learning rate moves the weights"]),
    ({"scale_inputs": True, "kernel_initializer": "he_normal"}, ["learning rate moves the weights"]),
    ({"kernel_initializer": "glorot_uniform", "learning_rate": 0.1}, ["inputs reach 255"]),
])
def test_check_fix_names_exactly_the_faults_that_remain(change, names, data):
    result = debugging.check_fix(dict(debugging.BROKEN, **change), data)
    assert not result.passed and f"{len(names)} fault(s) found" in result.message, result.message
    for name in names:
        assert name in result.message, (name, result.message)


def test_check_fix_passes_the_fixed_network_and_rejects_a_rate_too_small_to_learn(data):
    fixed = debugging.check_fix(debugging.HEALTHY, data)
    assert fixed.passed and fixed._repr_markdown_().startswith("✔"), fixed.message
    slow = debugging.check_fix(dict(debugging.HEALTHY, learning_rate=0.001), data)
    assert not slow.passed and "cannot memorise one batch" in slow.message
    assert "do not build a network" in debugging.check_fix({"learning_rate": 0.1, "dropout": 0.5}, data).message


def test_alike_units_names_the_hidden_layers_whose_units_start_the_same():
    broken, healthy = debugging.build(debugging.BROKEN), debugging.build(debugging.HEALTHY)
    assert debugging.alike_units(broken) == [layer.name for layer in broken.layers[:-1]]
    assert debugging.alike_units(healthy) == []
    healthy.layers[1].kernel[...] = 0.5                 # one constant layer among random ones
    assert debugging.alike_units(healthy) == [healthy.layers[1].name]
