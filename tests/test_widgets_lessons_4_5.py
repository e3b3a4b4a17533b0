"""The dashboards of lessons 4 and 5, driven from Python: every control changes the model and the picture."""
import numpy as np
import pytest
from matplotlib.text import Text

from course import landscapes
from course.optimizers import SGD, Adam
from course.widgets.descent import descent_dashboard, make_optimizer
from course.widgets.training import training_dashboard


# -- the descent dashboard ---------------------------------------------------------------------------------
def _descent_snapshot(dash):
    state = dash.state
    return (state.trajectory.path.copy(), state.optimizer.get_config(), type(state.optimizer).__name__,
            state.landscape.name)


# control -> (settings before, new value): the settings put the control where it has an effect
DESCENT_CHANGES = {
    "landscape": ({}, "valley"),
    "optimizer": ({}, "Adam"),
    "learning_rate": ({}, 0.05),
    "momentum": ({"optimizer": "SGD"}, 0.9),
    "nesterov": ({"optimizer": "SGD", "momentum": 0.9}, True),
    "decay": ({}, 0.1),
    "start_x": ({}, 6.8),
    "start_y": ({"landscape": "valley"}, -0.5),
    "steps": ({}, 200),
}


@pytest.mark.parametrize("control", sorted(DESCENT_CHANGES))
def test_every_descent_control_changes_the_run_and_the_picture(control):
    before, value = DESCENT_CHANGES[control]
    dash = descent_dashboard()
    if before:
        dash.set(**before)
    assert dash.controls[control].value != value, "the new value must differ from the current one"
    old_state, old_png = _descent_snapshot(dash), dash.image.value
    dash.set(**{control: value})
    new_state = _descent_snapshot(dash)
    assert dash.last_error is None
    assert dash.controls[control].value == value
    changed = (old_state[0].shape != new_state[0].shape or not np.array_equal(old_state[0], new_state[0],
                                                                            equal_nan=True)
               or old_state[1:] != new_state[1:])
    assert changed, f"setting {control}={value!r} left the optimizer run unchanged"
    assert dash.image.value != old_png, f"setting {control}={value!r} left the picture unchanged"


def test_the_dashboard_runs_the_course_optimizer_on_the_course_landscape():
    dash = descent_dashboard(landscape="valley", optimizer="SGD", learning_rate=0.05, momentum=0.5,
                             start=(-2.0, 1.0), steps=40)
    expected = landscapes.run_optimizer(SGD(lr=0.05, momentum=0.5), landscapes.valley(), [-2.0, 1.0], 40)
    np.testing.assert_array_equal(dash.state.trajectory.path, expected.path)
    assert dash.state.optimizer.iterations == 40


def test_momentum_lets_the_ball_roll_out_of_the_first_ripple():
    dash = descent_dashboard(landscape="wavy", optimizer="SGD", learning_rate=0.3, start=(4.5,), steps=150)
    stuck = dash.state.trajectory.path[-1, 0]
    dash.set(momentum=0.9)
    rolled = dash.state.trajectory.path[-1, 0]
    assert abs(stuck - 2.99) < 0.01 and abs(rolled) < 0.05, (stuck, rolled)


def test_changing_the_landscape_moves_the_start_sliders_into_its_range():
    dash = descent_dashboard(landscape="wavy")
    assert dash.controls["start_y"].disabled, "a 1-D landscape has no second coordinate"
    dash.controls["landscape"].value = "rosenbrock"        # as the mouse does: one redraw
    assert (dash.controls["start_x"].min, dash.controls["start_x"].max) == (-2.0, 2.0)
    assert (dash.controls["start_y"].min, dash.controls["start_y"].max) == (-1.0, 3.0)
    assert not dash.controls["start_y"].disabled
    assert dash.state.landscape.name == "rosenbrock" and dash.state.trajectory.path.shape[1] == 2


def test_controls_that_do_not_apply_are_greyed_out():
    dash = descent_dashboard(optimizer="SGD")
    assert not dash.controls["momentum"].disabled
    dash.set(optimizer="Adam")
    assert dash.controls["momentum"].disabled and dash.controls["nesterov"].disabled
    dash.set(optimizer="Nadam")
    assert dash.controls["decay"].disabled


def test_a_diverging_run_is_reported_in_the_title():
    dash = descent_dashboard(landscape="bowl1", learning_rate=3.0, steps=100)
    assert dash.last_error is None
    assert dash.state.diverged_at is not None
    texts = [t.get_text() for t in dash.figure.findobj(Text) if t.get_visible()]
    assert any("diverged at step" in text for text in texts), texts


def test_make_optimizer_leaves_out_the_arguments_an_optimizer_does_not_take():
    assert make_optimizer("SGD", 0.1, momentum=0.9, nesterov=True, decay=0.01).get_config() == \
        {"lr": 0.1, "momentum": 0.9, "decay": 0.01, "nesterov": True}
    adam = make_optimizer("Adam", 0.1, momentum=0.9, decay=0.01)
    assert isinstance(adam, Adam) and adam.decay == 0.01
    assert "decay" not in make_optimizer("Nadam", 0.1, decay=0.5).get_config()


def test_descent_dashboard_refuses_unknown_choices():
    with pytest.raises(ValueError, match="landscape"):
        descent_dashboard(landscape="everest")
    with pytest.raises(ValueError, match="optimizer"):
        descent_dashboard(optimizer="adamw")
    with pytest.raises(ValueError, match="slider"):
        descent_dashboard(steps=2000)


# -- the training dashboard --------------------------------------------------------------------------------
def _small_trainer(**kwargs):
    settings = dict(epochs=4, hidden_units=4, redraw_every=100)
    settings.update(kwargs)
    return training_dashboard(**settings).wait()


TRAINING_CHANGES = {
    "dataset": ("circles", lambda s: s.data[0]),
    "hidden_units": (6, lambda s: s.model.layers[0].units),
    "activation": ("relu", lambda s: s.model.layers[0].activation.name),
    "initializer": ("he_normal", lambda s: s.initial_weights[0]),
    "optimizer": ("RMSprop", lambda s: type(s.model.optimizer).__name__),
    "learning_rate": (0.1, lambda s: s.model.optimizer.lr),
    "batch_size": (8, lambda s: s.model.optimizer.iterations),
    "epochs": (6, lambda s: len(s.history["loss"])),
}


def _differs(a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.shape(a) != np.shape(b) or not np.array_equal(a, b)
    return a != b


@pytest.mark.parametrize("control", sorted(TRAINING_CHANGES))
@pytest.mark.slow
def test_every_training_control_changes_the_model_and_the_picture(control):
    value, observe = TRAINING_CHANGES[control]
    dash = _small_trainer()
    assert dash.controls[control].value != value
    old_seen, old_png, old_history = observe(dash.state), dash.image.value, dash.state.history
    dash.set(**{control: value})
    dash.wait()
    assert dash.last_error is None
    assert _differs(observe(dash.state), old_seen), f"{control}={value!r} left the model unchanged"
    assert dash.state.history != old_history, f"{control}={value!r} left the training unchanged"
    assert dash.image.value != old_png, f"{control}={value!r} left the picture unchanged"


@pytest.mark.slow
def test_training_fills_the_progress_bar_and_the_curves():
    dash = _small_trainer(epochs=5, redraw_every=2)
    assert dash.progress.value == dash.progress.max == 5
    assert len(dash.state.history["val_accuracy"]) == 5
    assert dash.state.model.optimizer.iterations == 5 * 7      # 200 points in batches of 32
    assert "done after 5 epoch(s)" in dash.status.value
    assert len(dash.train_redraw_seconds) >= 3                # epochs 2 and 4, and the end


@pytest.mark.slow
def test_the_same_settings_give_the_same_run():
    a, b = _small_trainer(), _small_trainer()
    assert a.state.history == b.state.history
    assert a.image.value == b.image.value


@pytest.mark.slow
def test_stop_interrupts_a_long_training_between_epochs():
    dash = training_dashboard(epochs=300, batch_size=1, hidden_units=4, redraw_every=1000)
    dash.stop()
    done = len(dash.state.history.get("loss", []))
    assert dash.stopped and done < 300
    assert not dash.running
    assert f"stopped after {done} epoch(s)" in dash.status.value


@pytest.mark.slow
def test_buttons_start_and_stop_training():
    dash = training_dashboard(epochs=3, hidden_units=4, auto_train=False)
    assert dash.state.history == {} and not dash.running, "with auto_train=False nothing trains by itself"
    dash.train_button.click()
    dash.wait()
    assert len(dash.state.history["loss"]) == 3
    first = dash.state.history
    dash.train_button.click()                                # trains again from the same start
    dash.wait()
    assert dash.state.history == first
    dash.set(epochs=300, batch_size=1)                       # no training yet: auto_train is off
    dash.train_button.click()
    dash.stop_button.click()
    dash.wait()
    assert len(dash.state.history.get("loss", [])) < 300


@pytest.mark.filterwarnings("ignore::course.callbacks.NaNLossWarning")
@pytest.mark.slow
def test_a_diverging_training_stops_and_says_what_to_do():
    dash = _small_trainer(optimizer="SGD", learning_rate=1.0, initializer="normal, std 1 (too large)",
                          activation="linear", hidden_units=64, epochs=10)
    losses = dash.state.history["loss"]
    assert len(losses) < 10 and np.isnan(losses[-1]), losses
    assert "smaller learning rate" in dash.status.value
    assert dash.last_error is None


def test_training_dashboard_refuses_unknown_choices():
    with pytest.raises(ValueError, match="dataset"):
        training_dashboard(dataset="iris")
    with pytest.raises(ValueError, match="batch_size"):
        training_dashboard(batch_size=7)


# -- the training dashboard's layer panel ------------------------------------------------------------------
def _layer_panel(dash, label):
    """The values the layer panel shows for ``label``, one per layer (hidden 1, hidden 2, output)."""
    ax = dash.figure.axes[3]
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel() and ax.get_legend() is not None
    line, = [line for line in ax.get_lines() if line.get_label() == label]
    return np.asarray(line.get_ydata(), dtype=float)


def _sgd_ratios_before_the_last_step(learning_rate, epochs):
    """The dashboard's network (4 tanh units per layer, whole-batch SGD), trained by hand to just
    before its last step: plain SGD on the whole training set steps by lr * dkernel, so each
    layer's update-to-weight ratio is lr * ||dkernel|| / ||kernel|| there."""
    from course.builders import mlp
    from course.widgets.training import DATASETS

    x, y = DATASETS["moons"](0)
    model = mlp((4, 4), activation="tanh", n_inputs=2, n_outputs=1, output_activation="sigmoid", seed=0)
    model.compile(loss="binary_crossentropy", optimizer=SGD(lr=learning_rate))
    model.fit(x, y.reshape(-1, 1), epochs=epochs - 1, batch_size=200, verbose=0, seed=0)
    model.compute_gradients(x, y.reshape(-1, 1))
    return [learning_rate * np.linalg.norm(layer.gradients[0]) / np.linalg.norm(layer.kernel)
            for layer in model.layers]


@pytest.mark.slow
def test_the_layer_panel_shows_each_layers_step_of_the_current_training():
    from course.widgets.training import DATASETS

    dash = _small_trainer(optimizer="SGD", learning_rate=0.1, batch_size=200, epochs=3)
    np.testing.assert_allclose(_layer_panel(dash, "update / weight"), _sgd_ratios_before_the_last_step(0.1, 3),
                               rtol=1e-3)
    x = DATASETS["moons"](0)[0]
    np.testing.assert_allclose(_layer_panel(dash, "outputs' std")[-1], np.std(dash.state.model.predict(x)), rtol=1e-5)
    assert np.all(_layer_panel(dash, "gradient's std") > 0)
    dash.set(learning_rate=0.01)                        # another training: its own steps
    dash.wait()
    np.testing.assert_allclose(_layer_panel(dash, "update / weight"), _sgd_ratios_before_the_last_step(0.01, 3),
                               rtol=1e-3)


def test_the_layer_panel_shows_no_step_before_training():
    dash = training_dashboard(hidden_units=4, auto_train=False)
    assert np.isnan(_layer_panel(dash, "update / weight")).all(), "no step taken, no ratio"
    assert np.isfinite(_layer_panel(dash, "outputs' std")).all()


@pytest.mark.slow
def test_a_too_large_learning_rate_shows_a_ratio_far_above_one_in_a_thousand():
    calm = _small_trainer(learning_rate=0.001)
    wild = _small_trainer(learning_rate=1.0)
    calm_ratio, wild_ratio = _layer_panel(calm, "update / weight"), _layer_panel(wild, "update / weight")
    assert np.nanmax(wild_ratio) > 30 * 1e-3 and np.nanmax(calm_ratio) < 1e-2, (calm_ratio, wild_ratio)


def _health_note(dash):
    note, = dash.figure.axes[3].texts
    return note.get_text() if note.get_visible() else ""


def _legend_under_the_panel(dash):
    """The layer panel's legend lies wholly under the panel and its x label (it covers no marker,
    no note and no label) and inside the figure (none of it is cut off)."""
    fig = dash.figure
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[3]
    legend = ax.get_legend().get_window_extent(renderer)
    label = ax.xaxis.label.get_window_extent(renderer)
    assert legend.y1 <= label.y0 and legend.y1 <= ax.get_window_extent(renderer).y0, (legend, label)
    assert legend.x0 >= fig.bbox.x0 and legend.x1 <= fig.bbox.x1 and legend.y0 >= fig.bbox.y0, (legend, fig.bbox)
    title = ax.title.get_window_extent(renderer)
    assert title.x1 <= fig.bbox.x1, ("the panel's title runs off the figure", title, fig.bbox)


@pytest.mark.parametrize("train", [False, True], ids=["before training", "after training"])
def test_the_layer_panel_says_why_it_is_empty_when_all_weights_are_zero(train):
    dash = training_dashboard(hidden_units=4, initializer="zeros (no symmetry breaking)", epochs=2,
                              auto_train=train, redraw_every=100).wait()
    assert not any(np.isfinite(_layer_panel(dash, label)[:-1]).any()
                   for label in ("outputs' std", "gradient's std", "update / weight")), "nothing to draw"
    assert "all weights are zero" in _health_note(dash) and "no update-to-weight ratio" in _health_note(dash)
    _legend_under_the_panel(dash)


def test_the_layer_panel_has_no_note_when_it_has_values_to_draw():
    dash = _small_trainer(epochs=2)
    assert _health_note(dash) == ""
    assert np.isfinite(_layer_panel(dash, "update / weight")).all()
    _legend_under_the_panel(dash)
