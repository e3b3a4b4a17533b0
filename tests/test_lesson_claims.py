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

    def first_zero(errors):
        """The first epoch (from 1) from which on no epoch makes a mistake; None if the last one does."""
        if errors[-1]:
            return None
        mistakes = np.flatnonzero(errors)
        return int(mistakes[-1]) + 2 if len(mistakes) else 1

    runs = {(lr, seed): train_perceptron(*_data("blobs", seed), learning_rate=lr, epochs=10, seed=seed).errors
            for lr in (0.001, 0.1, 10.0) for seed in range(10)}
    assert first_zero(runs[0.001, 0]) == 7, "0.001: seed 0 needs 7 epochs"
    assert sum(runs[0.001, seed][-1] > 0 for seed in range(10)) == 8, "0.001: 10 epochs are not enough for 8 seeds"
    assert max(first_zero(runs[10.0, seed]) for seed in range(10)) == 7, "10: every seed within 7 epochs"
    assert max(first_zero(runs[0.1, seed]) for seed in range(10)) == 4, "0.1: every seed within 4 epochs"
    slower = [first_zero(runs[10.0, seed]) > first_zero(runs[0.1, seed]) for seed in range(10)]
    faster = [first_zero(runs[10.0, seed]) < first_zero(runs[0.1, seed]) for seed in range(10)]
    assert any(slower) and not any(faster), "past 0.1 the rate speeds nothing up; 10 is slower with some seeds"
    x, y = _data("xor", 0)
    errors = train_perceptron(x, y, learning_rate=0.1, epochs=30, seed=0).errors
    assert (len(x), errors.min(), errors.max()) == (120, 43, 66), "43 to 66 of the 120 points"
    assert errors.min() > len(x) / 3 and errors.max() > len(x) / 2


def test_from_zero_weights_the_perceptrons_rate_only_scales_them():
    """Lesson 1's dashboard note: from zero weights (and bias 0) every rate makes the same mistakes."""
    from course.perceptron import train_perceptron
    from course.widgets.perceptron import _data

    x, y = _data("blobs", 1)
    runs = [train_perceptron(x, y, learning_rate=lr, epochs=10, seed=1, init_scale=0.0) for lr in (0.001, 0.1, 10.0)]
    assert all(np.array_equal(run.errors, runs[0].errors) for run in runs)
    assert np.allclose(runs[2].weights, 1e4 * runs[0].weights) and np.allclose(runs[2].biases, 1e4 * runs[0].biases)


def test_the_epochs_slider_of_the_perceptron_dashboard_ends_at_30():
    pytest.importorskip("ipywidgets")
    from course.widgets.perceptron import perceptron_dashboard

    assert perceptron_dashboard().controls["epochs"].max == 30


# -- lessons 1 and 2: the numbers their sentences quote ---------------------------------------------
def test_the_neuron_and_rule_examples_of_lesson_1():
    from course.perceptron import RULE_CASES, neuron_forward, perceptron_update

    outputs = {a: neuron_forward([1.0, 2.0, 0.5], [0.5, -1.0, 0.8], 0.2, activation=a) for a in ("step", "sigmoid", "relu")}
    assert all(np.isclose(float(z), -0.9) for z, _ in outputs.values()), "the sum is -0.9 whatever the activation"
    assert [round(float(out), 4) for _, out in outputs.values()] == [0.0, 0.2891, 0.0]
    step = perceptron_update(np.array([1.0, 2.0]), 1, np.array([0.0, -1.0]), 0.0, learning_rate=0.5)
    assert np.array([1.0, 2.0]) @ np.array([0.0, -1.0]) == -2 and step.error
    assert step.weights.tolist() == [0.5, 0.0] and step.bias == 0.5, "towards x: (0, -1) + 0.5 (1, 2)"
    corrected = perceptron_update(np.array([2.0, -1.0]), 1, np.array([-1.0, 0.0]), 0.0, learning_rate=0.1)
    assert np.allclose(corrected.weights, [-0.8, -0.1]) and np.isclose(corrected.bias, 0.1)
    kinds = []
    for x, y, w, b, _ in RULE_CASES:     # "four examples: a right answer, both kinds of mistake, a sum of 0"
        total = float(x @ w + b)
        kinds.append("sum 0" if total == 0 else ("right" if (total >= 0) == bool(y) else f"said {int(total >= 0)}"))
    assert sorted(kinds) == ["right", "said 0", "said 1", "sum 0"], kinds


def test_the_blobs_run_of_lesson_1():
    from course.datasets import make_blobs
    from course.perceptron import perceptron_predict, train_perceptron

    x, y = make_blobs(n_samples=200, noise=1.0, seed=0)
    history = train_perceptron(x, y, learning_rate=0.1, epochs=8, seed=0)
    start = history.weights[0]
    assert round(float(np.mean(perceptron_predict(x, start, history.biases[0]) == y)), 2) == 0.52
    cosine = start @ np.array([1.0, 1.0]) / (np.linalg.norm(start) * np.sqrt(2))
    assert abs(cosine) < 0.1, "the random line runs along the diagonal, at about right angles to a separating one"
    assert history.errors.tolist()[:5] == [15, 11, 5, 3, 0] and not history.errors[4:].any(), \
        "zero mistakes from the fifth epoch on"
    assert history.errors[7] == 0 and np.array_equal(history.weights[8], history.weights[7]), \
        "the eighth epoch, left out of the small multiples, changes nothing"


def test_the_xor_sentences_of_lesson_1():
    from course.datasets import make_xor
    from course.perceptron import train_perceptron

    x, y = make_xor(n_samples=200, seed=0)
    angles = np.linspace(0, 2 * np.pi, 361)
    sums = x @ np.stack([np.cos(angles), np.sin(angles)])                    # (200, 361)
    best = max(np.mean((sums + b >= 0) == y[:, None], axis=0).max() for b in np.linspace(-2, 2, 201))
    assert 0.74 <= best <= 0.76, f"the best line gets about 75% right, got {best:.1%}"
    errors = train_perceptron(x, y, learning_rate=0.1, epochs=30, seed=0).errors
    assert (errors.min(), errors.max()) == (79, 110) and np.all((0.35 < errors / 200) & (errors / 200 < 0.6)), \
        "the mistakes stay near chance (half the points), never near zero"


def test_the_counts_and_softmax_of_lesson_2():
    from course import Dense, Sequential
    from course.activations import sigmoid, softmax

    model = Sequential([Dense(4, activation="relu", input_shape=(2,)), Dense(4, activation="relu"),
                        Dense(3, activation="softmax")])
    assert sum(layer.kernel.size for layer in model.layers) == 36 and sum(layer.bias.size for layer in model.layers) == 11
    mnist = Sequential([Dense(10, activation="sigmoid", input_shape=(784,)), Dense(10, activation="softmax")])
    assert [layer.count_params() for layer in mnist.layers] == [7850, 110] and mnist.count_params() == 7960
    assert 60000 // 100 == 600
    assert np.round(softmax(np.array([2.0, 1.0, 0.1, -1.0])), 3).tolist() == [0.638, 0.235, 0.095, 0.032]
    beyond = sigmoid(np.array([-4.0, -6.0, 4.0, 6.0]))
    assert np.all(np.minimum(beyond, 1 - beyond) < 0.02), "beyond +-4 the sigmoid is within 0.02 of 0 or 1"


@pytest.mark.slow
def test_the_small_networks_of_lesson_2():
    from course import Dense, Sequential
    from course.datasets import make_moons, make_xor

    def small_network(activation, hidden=(4,)):
        model = Sequential()
        for i, units in enumerate(hidden):
            model.add(Dense(units, activation=activation, input_shape=(2,) if i == 0 else None, seed=10 + i))
        model.add(Dense(1, activation="sigmoid", seed=20))
        model.compile(loss="binary_crossentropy", optimizer=SGD(lr=0.5), metrics=["accuracy"])
        return model

    x_xor, y_xor = make_xor(n_samples=200, seed=0)
    x_moons, y_moons = make_moons(n_samples=200, noise=0.15, seed=0)
    accuracy = {}
    for name, activation, hidden, (x, y) in (("tanh", "tanh", (4,), (x_xor, y_xor)),
                                             ("linear", "linear", (4,), (x_xor, y_xor)),
                                             ("moons", "relu", (16, 16), (x_moons, y_moons))):
        model = small_network(activation, hidden)
        model.fit(x, y, epochs=100, batch_size=20, verbose=0, seed=0)
        accuracy[name] = f"{model.evaluate(x, y)[1]:.0%}"          # as the lesson prints it
    assert accuracy == {"tanh": "100%", "linear": "50%", "moons": "98%"}, accuracy


def test_the_mnist_sentences_of_lesson_2_against_the_stored_runs():
    from course import results
    from course.runs import hyperparameters as lesson5

    try:
        rows = {row.run: row for row in lesson5.compare_with_book(results.load_book_runs())}
    except FileNotFoundError:
        pytest.skip("no stored MNIST runs")
    first = rows["784-10(sigmoid)-10, 5 ep"]
    assert 0.15 < first.seconds_per_epoch < 0.4, "about a quarter of a second per epoch"
    assert round(100 * first.keras_accuracy, 1) == 75.6 and round(100 * first.accuracy, 1) == 75.2
    assert first.claimed_accuracy == 0.90 and first.accuracy < first.claimed_accuracy - 0.1, "well below 90%"


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


def test_the_chapters_mnist_code_runs_with_only_its_imports_changed():
    """Lesson 2, section 6: the chapter's lines, as printed, build and compile the course's model with
    the settings section 8 names (plain SGD at 0.01, Keras's default for 'sgd')."""
    from course import Dense, Sequential

    model = Sequential()
    model.add(Dense(10, activation='sigmoid', input_shape=(784,)))
    model.add(Dense(10, activation='softmax'))
    model.compile(loss='categorical_crossentropy', optimizer='sgd', metrics=['accuracy'])
    assert type(model.optimizer).__name__ == "SGD" and model.optimizer.lr == 0.01 and model.optimizer.momentum == 0
    assert model.count_params() == 7960
