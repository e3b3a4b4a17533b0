"""The dashboards of lessons 01-03, driven from Python as a learner drives them with the mouse:
every control changes what is computed and what is shown."""
import numpy as np
import pytest

from course.widgets.activations import activation_explorer
from course.widgets.backprop import BackpropStepper, backprop_stepper, build_toy_network
from course.widgets.perceptron import perceptron_dashboard


def _png(dash) -> bytes:
    return bytes(dash.image.value)


@pytest.mark.parametrize("builder", [perceptron_dashboard, activation_explorer, backprop_stepper])
def test_builders_need_no_arguments_and_draw_at_once(builder):
    dash = builder()
    assert dash.redraws == 1 and dash.last_error is None
    assert _png(dash)[:4] == b"\x89PNG" and dash.figure is not None


# --- perceptron ----------------------------------------------------------------------------------
@pytest.mark.parametrize("control, value", [
    ("learning_rate", 1.0), ("epochs", 3), ("dataset", "xor"), ("seed", 4),
])
@pytest.mark.slow
def test_each_perceptron_control_changes_the_run_and_the_picture(control, value):
    dash = perceptron_dashboard()
    before_state, before_png = dash.state, _png(dash)
    dash.set(**{control: value})
    after = dash.state
    changed = (after.history.weights.shape != before_state.history.weights.shape
               or not np.array_equal(after.history.weights, before_state.history.weights))
    assert changed, f"{control}={value!r} left the weights as they were"
    assert _png(dash) != before_png, f"{control}={value!r} left the picture as it was"


def test_perceptron_dashboard_shows_xor_never_settling():
    dash = perceptron_dashboard(dataset="xor", epochs=15)
    assert dash.state.history.errors.min() > 0
    dash.set(dataset="blobs", epochs=15)
    assert dash.state.history.errors[-1] == 0


def test_perceptron_dashboard_refuses_an_unknown_data_set():
    with pytest.raises(ValueError, match="dataset must be one of"):
        perceptron_dashboard(dataset="spirals")


# --- activations ---------------------------------------------------------------------------------
@pytest.mark.parametrize("control, value", [
    ("function", "tanh"), ("x_range", (-2.0, 3.0)), ("x0", -0.5),
])
def test_each_activation_control_changes_the_curve_and_the_picture(control, value):
    dash = activation_explorer()
    before_state, before_png = dash.state, _png(dash)
    dash.set(**{control: value})
    after = dash.state
    changed = (after.x.shape != before_state.x.shape or not np.allclose(after.x, before_state.x)
               or not np.allclose(after.f, before_state.f) or after.x0 != before_state.x0)
    assert changed, f"{control}={value!r} left the curve as it was"
    assert _png(dash) != before_png


def test_activation_explorer_reads_the_slope_at_x0():
    dash = activation_explorer(function="tanh", x0=2.0)
    assert dash.state.slope == pytest.approx(1 - np.tanh(2.0) ** 2)
    dash.set(function="relu", x0=-1.0)
    assert dash.state.slope == 0.0 and dash.state.value == 0.0
    dash.set(x_range=(0.0, 3.0))  # x0 = -1 is outside: it is kept inside the range
    assert dash.state.x0 == 0.0


# --- backprop stepper ----------------------------------------------------------------------------
def test_step_takes_one_update_and_lowers_the_loss():
    dash = backprop_stepper()
    assert dash.state.steps == 0 and len(dash.state.losses) == 1
    weights0, png0 = dash.state.model.get_weights(), _png(dash)
    dash.step()
    assert dash.state.steps == 1 and dash.values["steps"] == 1
    assert dash.state.losses[1] < dash.state.losses[0]
    assert any(not np.array_equal(a, b) for a, b in zip(weights0, dash.state.model.get_weights()))
    assert _png(dash) != png0


@pytest.mark.slow
def test_the_step_buttons_click_like_step():
    dash = backprop_stepper()
    dash.controls["step_button"].click()
    assert dash.state.steps == 1
    dash.controls["step10_button"].click()
    assert dash.state.steps == 11 and dash.redraws == 3


@pytest.mark.slow
def test_stepping_one_by_one_equals_jumping_to_the_same_step():
    one_by_one = backprop_stepper()
    for _ in range(5):
        one_by_one.step()
    jumped = backprop_stepper(steps=5)
    np.testing.assert_allclose(one_by_one.state.losses, jumped.state.losses, rtol=1e-6)
    for a, b in zip(one_by_one.state.dkernels, jumped.state.dkernels):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-8)
    one_by_one.set(steps=2)  # going back trains again from step 0
    np.testing.assert_allclose(one_by_one.state.losses, jumped.state.losses[:3], rtol=1e-6)


@pytest.mark.slow
def test_going_back_from_a_kept_copy_gives_the_run_from_step_0():
    from course.widgets.backprop import CHECKPOINT_EVERY

    dash = backprop_stepper(steps=3 * CHECKPOINT_EVERY + 7)
    for target in (2 * CHECKPOINT_EVERY + 3, CHECKPOINT_EVERY, 5, 2 * CHECKPOINT_EVERY + 11):
        dash.set(steps=target)                 # back, back, back, then forward again
        fresh = backprop_stepper(steps=target)
        np.testing.assert_array_equal(dash.state.losses, fresh.state.losses)
        np.testing.assert_array_equal(dash.state.norms, fresh.state.norms)
        for a, b in zip(dash.state.model.get_weights(), fresh.state.model.get_weights()):
            np.testing.assert_array_equal(a, b)
        for a, b in zip(dash.state.dkernels, fresh.state.dkernels):
            np.testing.assert_array_equal(a, b)
        assert dash.state.model.optimizer.iterations == target


@pytest.mark.slow
def test_the_gradients_shown_are_those_of_the_current_weights():
    dash = backprop_stepper(steps=3)
    model = build_toy_network(seed=0)
    model.set_weights(dash.state.model.get_weights())
    from course.widgets.backprop import _data

    x, y, _ = _data(0)
    loss, grads = model.compute_gradients(x, y)
    assert loss == pytest.approx(dash.state.losses[-1], rel=1e-6)
    np.testing.assert_allclose(grads[0], dash.state.dkernels[0], rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("control, value", [
    ("learning_rate", 1.5), ("activation", "sigmoid"), ("seed", 3), ("steps", 20),
])
def test_each_stepper_control_changes_the_training_and_the_picture(control, value):
    dash = backprop_stepper(steps=5)
    before_losses, before_png = dash.state.losses.copy(), _png(dash)
    before_weights = dash.state.model.get_weights()
    dash.set(**{control: value})
    after = dash.state
    changed = (len(after.losses) != len(before_losses) or not np.allclose(after.losses, before_losses)
               or any(not np.array_equal(a, b) for a, b in zip(before_weights, after.model.get_weights())))
    assert changed, f"{control}={value!r} left the training as it was"
    assert _png(dash) != before_png


def test_stepper_stops_at_its_last_step_and_refuses_unknown_activations():
    dash = BackpropStepper(max_steps=12, steps=10)
    dash.step(10)
    assert dash.state.steps == 12
    with pytest.raises(ValueError, match="activation must be one of"):
        backprop_stepper(activation="softmax")
