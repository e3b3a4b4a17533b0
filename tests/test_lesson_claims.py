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


# -- lesson 4, section 8.0: the valley's conditioning -----------------------------------------------
def test_the_valley_numbers_of_lesson_4_section_8_0():
    from course import conditioning

    valley = landscapes.valley()
    assert conditioning.stable_lr(valley) == 0.1
    rows = {row.label.split(",")[0] if "momentum" in row.label else row.label: row
            for row in conditioning.conditioning_table(valley)}
    best = rows["SGD, lr = 0.0952 (best)"]
    assert round(best.predicted, 3) == 0.905 and round(best.measured, 3) == 0.905
    assert best.steps_to_1e_minus_6 == 139
    small = rows["SGD, lr = 0.025"]
    assert round(small.predicted, 3) == 0.975 and small.steps_to_1e_minus_6 > 500
    above = rows["SGD, lr = 0.105 (above 2/λ_max)"]
    assert round(above.measured, 2) == 1.1 and above.steps_to_1e_minus_6 < 0
    momentum = next(row for row in rows.values() if row.momentum > 0)
    assert round(momentum.predicted, 3) == 0.635 and momentum.steps_to_1e_minus_6 == 31
    assert abs(momentum.measured - momentum.predicted) < 0.02 * momentum.predicted


def test_adagrad_steps_are_eta_over_root_t_whatever_the_gradient_size():
    from course.optimizers import Adagrad

    for g in (10.0, 0.1):
        w = np.array([0.0])
        opt = Adagrad(lr=0.5, epsilon=0.0) if "epsilon" in Adagrad.__init__.__code__.co_varnames else Adagrad(lr=0.5)
        steps = []
        for _ in range(100):
            before = w.copy()
            opt.apply_gradients([w], [np.array([g])])
            steps.append(float(before[0] - w[0]))
        assert np.isclose(steps[0], 0.5, rtol=1e-4) and np.isclose(steps[-1], 0.5 / 10, rtol=1e-4), (g, steps[-1])


def test_the_rosenbrock_sentence_of_lesson_4():
    from course.optimizers import Adadelta, Adagrad, Adam, Adamax, Nadam, RMSprop

    rosenbrock = landscapes.rosenbrock()
    contenders = {"SGD": SGD(lr=0.001), "RMSprop": RMSprop(lr=0.01), "Adagrad": Adagrad(lr=1.0),
                  "Adadelta": Adadelta(lr=1.0), "Adam": Adam(lr=0.1), "Adamax": Adamax(lr=0.5),
                  "Nadam": Nadam(lr=0.03)}
    runs = lesson4.landscape_race(contenders, rosenbrock, start=[-1.5, 2.0], steps=500)
    assert runs["SGD"].losses[0] == 12.5
    assert round(runs["Adagrad"].losses[1], -1) == 760 and round(runs["Adamax"].losses[1], -1) == 230
    assert round(runs["Adadelta"].losses[50], 2) == 6.45
    others = [n for n in runs if n not in ("Adagrad", "Adamax", "Adadelta")]
    assert all(runs[n].losses[10] < 7.5 for n in others), "most reach the floor (about 6) in a few steps"
    assert min(runs, key=lambda n: runs[n].losses[-1]) == "Adam"


def test_nadam_momentum_warm_up_numbers():
    from course.optimizers.nadam import nadam_momentum

    assert round(nadam_momentum(1), 2) == 0.45
    half = next(t for t in range(1, 100_000) if nadam_momentum(t) >= 0.675)
    within = next(t for t in range(1, 100_000) if nadam_momentum(t) >= 0.99 * 0.9)
    assert round(half, -2) == 4200 and round(within, -3) == 24000, (half, within)


# -- lesson 3: the stepper's things to try ---------------------------------------------------------
def _xor_losses(activation, lr, steps=150):
    from course.widgets.backprop import _data, build_toy_network

    x, y, _ = _data(0)
    model = build_toy_network(activation, lr, seed=0)
    losses = [model.compute_gradients(x, y)[0]]
    for _ in range(steps):
        model.optimizer.apply_gradients(model.trainable_weights, model.gradients)
        losses.append(model.compute_gradients(x, y)[0])
    return np.array(losses)


def test_the_stepper_things_to_try_of_lesson_3():
    sigmoid = _xor_losses("sigmoid", 0.5)
    assert np.all(np.abs(sigmoid[10:] - 0.69) < 0.01), "sigmoid stalls near 0.69 for 150 steps"
    assert _xor_losses("tanh", 0.5)[30] < 0.15 and abs(_xor_losses("relu", 0.5)[30] - 0.15) < 0.01
    tanh3 = _xor_losses("tanh", 3.0)
    rises = np.flatnonzero(np.diff(tanh3) > 0.01)
    assert len(rises) >= 1 and rises.max() - rises.min() <= 2, "one spike"
    assert tanh3[30] < 0.02
    sigmoid3 = _xor_losses("sigmoid", 3.0)
    assert np.all(np.diff(sigmoid3) < 0.01), "no jumps at all"
    assert sigmoid3[60] > 0.68 and sigmoid3[100] < 0.6 and sigmoid3[150] < 0.05


def test_the_activation_slopes_quoted_in_lesson_2():
    from course.activations import relu, relu_backward, sigmoid, sigmoid_backward, tanh, tanh_backward

    x = np.array([0.0, 2.0, 4.0])
    assert np.allclose(sigmoid_backward(np.ones(3), sigmoid(x))[[0, 2]], [0.25, 0.018], atol=5e-4)
    assert np.allclose(tanh_backward(np.ones(3), tanh(x))[:2], [1.0, 0.07], atol=1e-3)
    assert relu_backward(np.ones(2), relu(np.array([-1.0, 2.0]))).tolist() == [0.0, 1.0]


# -- lesson 5: the training dashboard's things to try -----------------------------------------------
def _toy_accuracy(activation, initializer, epochs):
    from course.builders import fresh_optimizer, mlp
    from course.widgets.training import DATASETS, INITIALIZERS

    (x, y), (x_val, y_val) = DATASETS["moons"](0), DATASETS["moons"](1)
    model = mlp((8, 8), activation=activation, n_inputs=2, n_outputs=1, output_activation="sigmoid",
                kernel_initializer=INITIALIZERS[initializer], seed=0)
    model.compile(loss="binary_crossentropy", optimizer=fresh_optimizer({"class_name": "Adam", "config": {"lr": 0.03}}),
                  metrics=["accuracy"])
    h = model.fit(x, y.reshape(-1, 1), epochs=epochs, batch_size=32, verbose=0, seed=0,
                  validation_data=(x_val, y_val.reshape(-1, 1))).history
    return h["loss"][-1], h["val_accuracy"][-1]


def test_zero_and_glorot_starts_in_the_training_dashboard_of_lesson_5():
    zeros = "zeros (no symmetry breaking)"
    loss, accuracy = _toy_accuracy("tanh", zeros, 40)
    assert abs(loss - np.log(2)) < 0.002 and accuracy == 0.5
    assert round(_toy_accuracy("sigmoid", zeros, 40)[1], 3) == 0.885
    assert round(_toy_accuracy("sigmoid", "glorot_uniform", 150)[1], 3) == 0.885
    assert round(_toy_accuracy("tanh", "glorot_uniform", 40)[1], 3) == 0.975


def test_std_1_tanh_at_64_units_learns_as_fast_as_he_relu_under_adam():
    large = _toy_run(units=64, initializer="normal, std 1 (too large)")
    he = _toy_run(units=64, activation="relu", initializer="he_normal")
    assert large[5] < he[5] and abs(large[-1] - he[-1]) < 0.05


def test_lesson_5_stops_early_where_keras_would():
    import json
    import re
    from pathlib import Path

    nb = json.loads((Path(__file__).resolve().parents[1] / "notebooks" / "05_hyperparameters.ipynb").read_text())
    printed = "".join("".join(o.get("text", "")) for c in nb["cells"] if c["cell_type"] == "code"
                      for o in c.get("outputs", []))
    stopped, best = map(int, re.search(r"stopped after epoch (\d+); kept the weights of epoch (\d+)", printed).groups())
    assert stopped == best + 5, "patience 5: Keras stops when 5 epochs in a row have not improved"
    stops, keeps = map(int, re.search(r"patience=3\) stops after epoch (\d+); .* epoch (\d+)\.", printed).groups())
    assert stops == keeps + 3


def _toy_accuracy_of(learning_rate):
    from course.widgets.training import training_dashboard

    return training_dashboard(redraw_every=1000, learning_rate=learning_rate).wait().state.history["val_accuracy"][-1]


def _layer_ratios(**settings):
    """The update-to-weight ratios the training dashboard of lesson 5 shows after training, and
    the training loss per epoch."""
    from course.widgets.training import training_dashboard

    dash = training_dashboard(redraw_every=1000, **settings).wait()
    line, = [line for line in dash.figure.axes[3].get_lines() if line.get_label() == "update / weight"]
    return np.asarray(line.get_ydata(), dtype=float), np.array(dash.state.history["loss"])


@pytest.mark.slow
def test_the_layer_panel_thing_to_try_of_lesson_5():
    (calm, steady), (wild, jumpy) = _layer_ratios(learning_rate=0.001), _layer_ratios(learning_rate=1.0)
    assert np.all(np.diff(steady) < 0), "0.001: the loss falls at every epoch"
    assert np.diff(jumpy).max() > 0.1, "1: the loss jumps up between epochs"
    assert np.all((0.0008 <= calm) & (calm <= 0.001)), calm
    assert round(wild[-1], 2) == 0.13 and wild[-1] > 100 * 1e-3, wild
    assert np.all(np.abs(wild[:2] - 0.015) < 0.004), "the hidden layers' ratios grow less"
    worse, better = (_toy_accuracy_of(lr) for lr in (1.0, 0.03))
    assert worse < better
