"""The lessons' sentences about experiments the learner can repeat (the "things to try" and
the prose of lesson 4) hold for the course library."""
import numpy as np
import pytest

from course import landscapes
from course.landscapes import divergence_step, run_optimizer
from course.optimizers import SGD
from course.runs import optimizers as lesson4


def test_momentum_one_swings_for_ever_without_growing_and_above_one_grows():
    bowl = landscapes.bowl(1)
    path = run_optimizer(SGD(lr=0.1, momentum=1.0), bowl, [1.8], steps=2000).path[:, 0]
    early, late = np.abs(path[:200]).max(), np.abs(path[-200:]).max()
    assert np.isclose(early, late, rtol=0.01), "undamped: it swings as far at the end as at the start"
    assert np.abs(path[-200:]).min() < 0.1 * late, "and never settles"
    grown = run_optimizer(SGD(lr=0.1, momentum=1.1), bowl, [1.8], steps=300).path[:, 0]
    assert np.abs(grown[-50:]).max() > 100 * np.abs(grown[:50]).max()


def test_the_descent_things_to_try_of_lesson_4():
    wavy = landscapes.wavy()
    stops = {m: run_optimizer(SGD(lr=0.3, momentum=m), wavy, [4.5], 60).path[-1] for m in (0.0, 0.9)}
    assert lesson4.nearest_minimum(wavy, stops[0.0]) != 0 and lesson4.nearest_minimum(wavy, stops[0.9]) == 0
    bowl = landscapes.bowl(1)
    assert divergence_step(run_optimizer(SGD(lr=2.5), bowl, [1.8], 60).losses) is not None
    assert run_optimizer(SGD(lr=2.5, decay=0.1), bowl, [1.8], 60).losses[-1] < 1e-6
    valley = landscapes.valley()
    crawl = run_optimizer(SGD(lr=0.02), valley, (-2.5, 1.0), 100).losses[-1]
    rolled = run_optimizer(SGD(lr=0.02, momentum=0.8), valley, (-2.5, 1.0), 100).losses[-1]
    assert rolled < 1e-6 < 1e-2 < crawl
    rosenbrock = landscapes.rosenbrock()
    assert divergence_step(run_optimizer(SGD(lr=0.002), rosenbrock, (-1.5, 2.0), 60).losses) is None
    assert divergence_step(run_optimizer(SGD(lr=0.003), rosenbrock, (-1.5, 2.0), 60).losses) is not None


def test_the_perceptron_things_to_try_of_lesson_1():
    from course.perceptron import train_perceptron
    from course.widgets.perceptron import _data

    x, y = _data("blobs", 0)
    for lr in (0.001, 10.0):
        assert train_perceptron(x, y, learning_rate=lr, epochs=10, seed=0).errors[-1] == 0
    slow = train_perceptron(x, y, learning_rate=0.001, epochs=10, seed=0).errors
    fast = train_perceptron(x, y, learning_rate=0.1, epochs=10, seed=0).errors
    assert np.argmax(slow == 0) > np.argmax(fast == 0), "a tiny rate needs more epochs"
    x, y = _data("xor", 0)
    errors = train_perceptron(x, y, learning_rate=0.1, epochs=30, seed=0).errors
    assert errors.min() > len(x) / 4


def _toy_run(dataset="moons", units=8, activation="tanh", initializer="glorot_uniform", optimizer="Adam",
             lr=0.03, batch_size=32, epochs=40):
    """What the training dashboard of lesson 5 trains for these settings: the loss per epoch."""
    from course.builders import fresh_optimizer, mlp
    from course.widgets.training import DATASETS, INITIALIZERS

    x, y = DATASETS[dataset](0)
    model = mlp((units,) * 2, activation=activation, n_inputs=2, n_outputs=1, output_activation="sigmoid",
                kernel_initializer=INITIALIZERS[initializer], seed=0)
    model.compile(loss="binary_crossentropy", optimizer=fresh_optimizer({"class_name": optimizer,
                                                                         "config": {"lr": lr}}))
    y = y.reshape(-1, 1) if y.ndim == 1 else y
    return np.array(model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0, seed=0).history["loss"])


@pytest.mark.slow
def test_the_training_dashboard_things_to_try_of_lesson_5():
    zeros = _toy_run(initializer="zeros (no symmetry breaking)")
    assert abs(zeros[-1] - zeros[0]) < 0.01, "tanh from zeros learns nothing"
    large, glorot = _toy_run(initializer="normal, std 1 (too large)"), _toy_run()
    assert abs(large[-1] - glorot[-1]) < 0.1, "on this small network std 1 learns about as fast"
    online, full = _toy_run(batch_size=1), _toy_run(batch_size=200)
    assert online[2] < full[2] - 0.2 and full[-1] > online[-1] + 0.05
    slow, fast = _toy_run(optimizer="SGD", lr=0.01), _toy_run(optimizer="SGD", lr=1.0)
    assert slow[-1] > fast[-1] + 0.1 and slow[-2] > slow[-1], "0.01 creeps and is still falling"
