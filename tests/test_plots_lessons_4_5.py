"""The figures of lessons 4 and 5: each is a Figure with a title, labelled axes and legends."""

import numpy as np
import pytest
from support import assert_readable

from course import landscapes, results
from course.datasets import toy
from course.optimizers import SGD, Adam
from course.plots import descent, initialization, training
from course.runs import hyperparameters as lesson5
from course.runs import optimizers as lesson4


@pytest.fixture
def wavy_race():
    return lesson4.landscape_race({"SGD": SGD(lr=0.3), "momentum": SGD(lr=0.3, momentum=0.9)},
                                      landscapes.wavy(), start=[4.5], steps=30)


@pytest.mark.slow
def test_gradient_step_shows_the_slope_and_the_next_weight():
    fig = descent.plot_gradient_step(landscapes.bowl(1), w0=1.6, lr=0.5)
    assert_readable(fig)
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert "next w = 0.80" in labels and "slope (gradient) = 1.60" in labels


def test_gradient_step_refuses_a_2d_landscape():
    with pytest.raises(ValueError, match="1-D"):
        descent.plot_gradient_step(landscapes.bowl(2), w0=1.0, lr=0.1)


@pytest.mark.slow
def test_descent_1d_and_learning_rates_panels(wavy_race):
    assert_readable(descent.plot_descent_1d(landscapes.wavy(), wavy_race))
    fig = descent.plot_learning_rates(landscapes.wavy(), wavy_race)
    assert len(fig.axes) == 3 and fig.axes[-1].get_yscale() == "log"
    assert_readable(fig)


@pytest.mark.slow
def test_race_on_a_2d_landscape_has_paths_and_loss_curves():
    runs = lesson4.landscape_race({"SGD": SGD(lr=0.05), "Adam": Adam(lr=0.1)}, landscapes.valley(),
                                      start=[-2.5, 1.0], steps=20)
    fig = descent.plot_race(landscapes.valley(), runs)
    assert_readable(fig)
    paths = fig.axes[0]
    assert paths.get_xlim() == (-3.0, 3.0), "the contour panel shows the landscape's bounds"


def test_a_diverging_run_is_cut_where_it_blows_up():
    run = landscapes.run_optimizer(SGD(lr=0.1), landscapes.rosenbrock(), [-1.5, 2.0], 30)
    fig = descent.plot_descent(landscapes.rosenbrock(), run, "SGD", "diverges")
    assert_readable(fig)
    loss_line = fig.axes[1].get_lines()[0]
    drawn = np.asarray(loss_line.get_ydata(), dtype=float)
    assert np.nanmax(drawn) <= descent.DIVERGED * run.losses[0]


@pytest.mark.slow
def test_restarts_batch_noise_and_schedules():
    restarts = lesson4.random_restarts(SGD(lr=0.1), landscapes.wavy(), n_starts=5, steps=20, seed=1)
    assert_readable(descent.plot_restarts(landscapes.wavy(), restarts))
    x, y = toy.make_blobs(64, seed=0)
    onehot = np.eye(2, dtype=np.float32)[y]
    runs = lesson4.batch_size_runs(x, onehot, {"online": 1, "batch": 64}, epochs=2, hidden=(4,))
    assert_readable(descent.plot_batch_noise(runs))
    schedules = {f"decay {d}": lesson4.learning_rate_schedule(SGD(lr=0.1, decay=d), 20) for d in (0.0, 0.1)}
    assert_readable(descent.plot_lr_schedules(schedules))


def _history(epochs=6):
    t = np.arange(1, epochs + 1)
    return {"loss": list(1 / t), "accuracy": list(1 - 0.5 / t), "val_loss": list(1 / t + 0.02 * t),
            "val_accuracy": list(0.9 - 0.4 / t)}


@pytest.mark.slow
def test_history_marks_the_best_epoch():
    fig = training.plot_history(_history(), best_epoch=2)
    assert_readable(fig)
    assert any(line.get_label() == "best epoch (3)" for line in fig.axes[0].get_lines())


def test_history_without_the_metrics_says_what_it_holds():
    with pytest.raises(ValueError, match="holds"):
        training.plot_history({"time": [1.0]})


@pytest.mark.slow
def test_histories_and_training_dashboard_picture():
    assert_readable(training.plot_histories({"a": _history(), "b": _history()}))
    x, y = toy.make_moons(60, seed=0)
    fig = training.plot_training(lambda p: 1 / (1 + np.exp(-p[:, 0])), x, y, _history(3), epochs=10, title="t")
    assert_readable(fig)
    assert fig.axes[1].get_xlim()[1] >= 10, "the curves leave room for the epochs still to come"


@pytest.mark.slow
def test_batch_size_sweep_and_book_comparison(tmp_path):
    path = tmp_path / "sweep.csv"
    path.write_text("batch_size,numpy_cpu,torch_cpu\n16,2.0,1.0\n64,1.0,0.4\n256,0.8,0.2\n")
    assert_readable(training.plot_batch_size_sweep(results.load_batch_size_sweep(path)))
    records = [{"run": f"run {k}", "hidden": h, "activation": a, "epochs": e, "book_claim": "-",
                "course_acc_mean": acc, "course_acc_std": 0.003, "course_s_per_epoch": 1.0,
                "keras_acc_mean": acc + 0.002}
               for k, (h, a, e, acc) in enumerate([(10, "sigmoid", 5, 0.88), (10, "relu", 5, 0.90),
                                                   (512, "relu", 5, 0.91), (512, "relu", 20, 0.95)])]
    fig = training.plot_book_comparison(lesson5.compare_with_book(records))
    assert_readable(fig)


@pytest.mark.slow
def test_initialisation_figures():
    x, y = toy.make_blobs(50, seed=0)
    onehot = np.eye(2, dtype=np.float32)[y]
    stats = {name: lesson5.layer_statistics(x, onehot, name, "tanh", depth=4, width=16)
             for name in ("glorot_uniform", "zeros")}
    fig = initialization.plot_activation_histograms(stats)
    assert len(fig.axes) == 2 * 4
    assert_readable(fig)
    assert_readable(initialization.plot_layer_spread(stats))
    run = lesson5.symmetry_run(x, y, "glorot_uniform", hidden=3, epochs=3)
    fig = initialization.plot_symmetry({"glorot": run})
    assert "3 distinct unit(s)" in fig.axes[0].get_title()
    assert_readable(fig)


@pytest.mark.slow
def test_training_figure_moved_to_another_data_set_equals_a_new_one():
    from course.widgets import figure_to_png

    moons, moons_y = toy.make_moons(60, seed=0)
    circles, circles_y = toy.make_circles(60, seed=0)

    def predict(p):
        return 1 / (1 + np.exp(-p[:, 0] * p[:, 1]))

    figure = training.TrainingFigure(moons, moons_y)
    figure.update(predict, _history(3), 10, "moons")
    figure.set_data(circles, circles_y)
    reused = figure_to_png(figure.update(predict, _history(4), 12, "circles"))
    assert reused == figure_to_png(training.plot_training(predict, circles, circles_y, _history(4), 12, "circles"))


def test_descent_figure_log_axis_has_plain_labelled_ticks():
    run = landscapes.run_optimizer(Adam(lr=0.1), landscapes.bowl(), [1.5, 1.2], 5)
    fig = descent.plot_descent(landscapes.bowl(), run, "Adam", "few decades")
    assert_readable(fig)
    right = fig.axes[1]
    assert right.get_yscale() == "log"
    low, high = right.get_ylim()
    ticks = [t for t in right.get_yticks() if low <= t <= high]
    assert len(ticks) >= 2, "a narrow log range still shows ticks"
    labels = [right.yaxis.get_major_formatter()(t) for t in ticks]
    assert all("$" not in label for label in labels), labels


@pytest.mark.parametrize("first, second", [("bowl1", "valley"), ("valley", "wavy"),
                                           ("rosenbrock", "six_hump_camel")])
def test_descent_figure_moved_to_another_landscape_equals_a_new_one(first, second):
    from course.widgets import figure_to_png
    from course.widgets.descent import LANDSCAPE_CHOICES

    def run(key):
        _, factory, start = LANDSCAPE_CHOICES[key]
        land = factory()
        return land, landscapes.run_optimizer(SGD(lr=0.01), land, list(start), 30)

    land, trajectory = run(first)
    figure = descent.DescentFigure(land)
    figure.update(trajectory, "SGD", "first")
    land, trajectory = run(second)
    figure.set_landscape(land)
    reused = figure_to_png(figure.update(trajectory, "SGD", "second"))
    assert reused == figure_to_png(descent.plot_descent(land, trajectory, "SGD", "second"))


def test_overfitting_figure_marks_the_best_epoch_and_the_stop():
    history = {"accuracy": [0.5, 0.7, 0.8, 0.9, 0.95, 1.0], "val_accuracy": [0.6, 0.7, 0.68, 0.66, 0.64, 0.62]}
    run = lesson5.OverfitRun(history, 2, 5, 2, 100, 0.3)
    fig = training.plot_overfitting(run)
    assert_readable(fig)
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert any("epoch 2" in label for label in labels) and any("epoch 5" in label for label in labels)


def test_training_figure_says_what_its_layer_panel_cannot_draw():
    from course.debugging import LayerHealth

    x, y = toy.make_moons(60, seed=0)
    flat = [LayerHealth(name, 0.0, 0.0, 0.0, float("inf")) for name in ("dense_1", "dense_2", "dense_3")]
    fig = training.plot_training(lambda p: np.full(len(p), 0.5), x, y, _history(2), 4, "zeros", health=flat)
    note, = [t for t in fig.axes[3].texts if t.get_visible() and t.get_text()]
    assert "outputs' std: 0" in note.get_text() and "update / weight: infinite" in note.get_text()
    fig = training.plot_training(lambda p: np.full(len(p), 0.5), x, y, _history(2), 4, "zeros", health=flat,
                                 health_note=training.ZERO_WEIGHTS_NOTE)
    assert any(t.get_visible() and t.get_text() == training.ZERO_WEIGHTS_NOTE for t in fig.axes[3].texts)
    assert_readable(fig)
    healthy = [LayerHealth(name, 0.5, 0.0, 1e-2, 1e-3) for name in ("dense_1", "dense_2", "dense_3")]
    fig = training.plot_training(lambda p: np.full(len(p), 0.5), x, y, _history(2), 4, "random", health=healthy)
    assert not any(t.get_visible() and t.get_text() for t in fig.axes[3].texts)
