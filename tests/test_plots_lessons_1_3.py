"""The figures of lessons 01-03: each returns a titled Figure with labelled axes (and a legend
where several lines share an axis), and the small computations behind them are right."""
import numpy as np
import pytest
from matplotlib.figure import Figure

from course import Dense, Sequential
from course.analysis import backprop_trace
from course.datasets import make_blobs, make_moons, make_xor
from course.perceptron import train_perceptron
from course.plots import activations as act_plots
from course.plots import backprop as bp_plots
from course.plots import network as net_plots
from course.plots import perceptron as p_plots


def _titles(fig):
    return [ax.get_title() for ax in fig.axes] + ([fig._suptitle.get_text()] if fig._suptitle else [])


def _check(fig, data_axes=None):
    """A Figure with a title; every axes that shows data has both axis labels."""
    assert isinstance(fig, Figure)
    assert any(t.strip() for t in _titles(fig)), "the figure has no title"
    for ax in (data_axes if data_axes is not None else fig.axes):
        assert ax.get_xlabel() and ax.get_ylabel(), f"axes {ax.get_title()!r} lacks a label"
    fig.canvas.draw()  # renders without error
    return fig


def _tiny_trace():
    model = Sequential([Dense(2, activation="sigmoid", input_shape=(2,), dtype=np.float64, name="hidden"),
                        Dense(1, dtype=np.float64, name="output")])
    model.set_weights([np.array([[0.5, -1.0], [1.5, 0.5]]), np.zeros(2), np.array([[1.0], [-2.0]]), np.zeros(1)])
    model.compile(loss="mse", optimizer="sgd")
    return backprop_trace(model, np.array([[1.0, 0.5]]), np.array([[1.0]]))


# --- lesson 01 -----------------------------------------------------------------------------------
def test_neuron_diagram_writes_the_numbers_of_the_example():
    fig = p_plots.plot_neuron([0.5, -1.0, 0.8], 0.2, inputs=[1.0, 2.0, 0.5])
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert any("-0.90" in t for t in texts), texts          # z = 0.5 - 2 + 0.4 + 0.2
    assert any("0.289" in t for t in texts), texts          # sigmoid(-0.9)
    assert _titles(fig)[0].startswith("A neuron")


def test_learning_loop_names_the_six_steps_in_order():
    fig = p_plots.plot_learning_loop(highlight=(3, 4))
    texts = [t.get_text() for t in fig.axes[0].texts]
    names = [t for t in texts if t[:1].isdigit() and ". " in t]
    assert names == ["1. initialise", "2. forward", "3. loss", "4. backpropagate", "5. update", "6. repeat"]
    assert "learning loop" in _titles(fig)[0]
    thick = [p for p in fig.axes[0].patches if p.get_linewidth() > 3]
    assert len(thick) == 2, "steps 3 and 4 should be highlighted"


def test_small_multiples_show_one_panel_per_requested_epoch():
    x, y = make_blobs(n_samples=60, noise=1.0, seed=0)
    history = train_perceptron(x, y, epochs=5, seed=0)
    fig = p_plots.plot_boundaries_per_epoch(x, y, history, epochs=[0, 1, 2, 5], ncols=2)
    visible = [ax for ax in fig.axes if ax.axison]
    assert len(visible) == 4
    assert visible[0].get_title().startswith("after epoch 0")
    assert f"{int(history.errors[4])} mistakes" in visible[3].get_title()
    _check(fig, data_axes=[])
    assert fig.legends, "the classes need a legend"


def test_errors_plot_has_a_legend_for_several_runs():
    fig = p_plots.plot_errors_per_epoch({"blobs": [3, 1, 0], "xor": [60, 55, 58]})
    ax = _check(fig).axes[0]
    assert len(ax.lines) >= 2 and ax.get_legend() is not None
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), [60, 55, 58])


def test_dataset_and_perceptron_state_plots():
    x, y = make_xor(n_samples=40, seed=0)
    _check(p_plots.plot_dataset(x, y, "XOR"))
    history = train_perceptron(x, y, epochs=4, seed=0)
    fig = p_plots.plot_perceptron_state(x, y, history.weights[-1], history.biases[-1], history.errors,
                                        title="xor")
    _check(fig)
    assert "last:" in fig.axes[1].get_title()


def test_line_boundary_handles_a_vertical_line():
    fig, ax = p_plots.new_figure()
    p_plots.draw_line_boundary(ax, np.array([1.0, 0.0]), -0.5, (-1, 1), (-1, 1))
    assert ax.collections, "nothing was drawn"


# --- lesson 02 -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name, x, f, df", [
    ("linear", [-2.0, 3.0], [-2.0, 3.0], [1.0, 1.0]),
    ("sigmoid", [0.0], [0.5], [0.25]),
    ("tanh", [0.0], [0.0], [1.0]),
    ("relu", [-1.0, 2.0], [0.0, 2.0], [0.0, 1.0]),
    ("softmax", [0.0], [1 / (2 + np.e)], [(1 / (2 + np.e)) * (1 - 1 / (2 + np.e))]),
])
def test_activation_curve_values_by_hand(name, x, f, df):
    got_f, got_df = act_plots.activation_curve(name, np.array(x))
    np.testing.assert_allclose(got_f, f, rtol=1e-12)
    np.testing.assert_allclose(got_df, df, rtol=1e-12)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu"])
def test_activation_curve_derivative_matches_finite_differences(name):
    x = np.linspace(-3, 3, 13) + 0.05  # away from relu's kink at 0
    f_plus, _ = act_plots.activation_curve(name, x + 1e-6)
    f_minus, _ = act_plots.activation_curve(name, x - 1e-6)
    _, df = act_plots.activation_curve(name, x)
    np.testing.assert_allclose(df, (f_plus - f_minus) / 2e-6, atol=1e-6)


def test_activation_plots():
    fig = _check(act_plots.plot_activation("tanh", -3, 3, x0=1.0))
    assert fig.axes[0].get_legend() is not None
    assert any("slope at x0 = 0.42" in t.get_text() for t in fig.axes[0].get_legend().get_texts())
    fig = act_plots.plot_activations()
    assert len(fig.axes) == 5 and fig.legends
    _check(fig, data_axes=[fig.axes[0]])
    with pytest.raises(ValueError, match="x_min must be smaller"):
        act_plots.plot_activation("relu", 2.0, 1.0)


def test_softmax_plot_shows_probabilities_that_sum_to_one():
    fig = _check(act_plots.plot_softmax([2.0, 1.0, 0.1]))
    heights = [bar.get_height() for bar in fig.axes[1].patches]
    assert sum(heights) == pytest.approx(1.0)
    assert "sum = 1.00" in fig.axes[1].get_title()


def test_network_diagram_counts_the_books_parameters():
    fig = net_plots.plot_network((784, 10, 10))
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "784x10 + 10 = 7,850 parameters" in texts and "10x10 + 10 = 110 parameters" in texts
    assert _titles(fig)[0].endswith("784-10-10")


def test_going_and_return_names_both_directions():
    fig = net_plots.plot_going_and_return()
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    assert "going" in texts and "return" in texts and "loss" in texts


def test_decision_regions_colour_the_plane_by_predicted_class():
    x, y = make_moons(n_samples=40, seed=0)
    fig = net_plots.plot_decision_regions(lambda p: (p[:, 0] > 0.5).astype(float), x, y, title="rule")
    _check(fig)
    assert "training accuracy" in fig.axes[0].get_title()
    probs = lambda p: np.column_stack([p[:, 0] < 0, p[:, 0] >= 0]).astype(float)  # noqa: E731
    _check(net_plots.plot_decision_regions(probs, x, y))


def test_decision_grid_covers_the_data():
    x = np.array([[0.0, 0.0], [1.0, 2.0]], dtype=np.float32)
    gx, gy, points = net_plots.decision_grid(x, resolution=5, margin=0.5)
    assert points.shape == (25, 2) and gx.shape == (5, 5)
    assert points[:, 0].min() == -0.5 and points[:, 1].max() == 2.5


# --- lesson 03 -----------------------------------------------------------------------------------
def test_losses_figure_shows_both_losses_and_their_gradients():
    fig = _check(bp_plots.plot_losses_vs_prediction())
    for ax in fig.axes:
        assert ax.get_legend() is not None and len(ax.lines) == 2
    # at p = 0.005 cross-entropy's gradient is ~1, MSE's through the sigmoid is ~0.01
    mse, ce = fig.axes[1].lines
    assert ce.get_ydata()[0] > 50 * mse.get_ydata()[0]


def test_error_shares_figure_writes_each_neurons_share():
    fig = bp_plots.plot_error_shares(_tiny_trace())
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    trace = _tiny_trace()
    assert f"share {trace.layers[0].dout[0, 0]:+.4f}" in texts
    assert f"dz = {trace.layers[1].dz[0, 0]:+.4f}" in texts
    assert "+1.5" in texts and "-2.0" in texts  # the weights on the connections


def test_gradient_check_and_norms_figures():
    fig = _check(bp_plots.plot_gradient_check(["k1", "b1"], [1e-10, 0.0]))
    assert fig.axes[0].get_yscale() == "log" and fig.axes[0].get_legend() is not None
    fig = _check(bp_plots.plot_gradient_norms({"sigmoid": [1e-6, 1e-3, 0.5], "relu": [0.1, 0.2, 0.3]}))
    assert fig.axes[0].get_legend() is not None and len(fig.axes[0].lines) == 2


def test_stack_heatmaps_scales_each_array_by_its_own_maximum():
    canvas, spans, scales = bp_plots.stack_heatmaps([np.array([[2.0, -1.0]]), np.array([[0.5], [0.25]])])
    assert spans == [(0, 2), (3, 4)] and scales == [2.0, 0.5]
    np.testing.assert_allclose(canvas[0], [1.0, -0.5, np.nan, 1.0])
    assert np.isnan(canvas[1, :3]).all() and canvas[1, 3] == 0.5
    canvas, _, scales = bp_plots.stack_heatmaps([np.zeros((2, 2))])
    assert scales == [0.0] and np.all(canvas == 0)


def test_backprop_step_figure():
    x, y = make_xor(n_samples=16, seed=0)
    gx, gy, _ = net_plots.decision_grid(x, resolution=10)
    fig = bp_plots.plot_backprop_step(
        2, [0.7, 0.6, 0.5], [[0.1, 0.2], [0.1, 0.15], [0.05, 0.1]],
        [np.ones((2, 3)), -np.ones((3, 1))], ["hidden_1", "output"],
        regions=(gx, gy, np.linspace(0, 1, 100)), x=x, y=y, title="demo")
    _check(fig, data_axes=fig.axes[:2])
    assert fig.axes[0].get_title() == "loss after 2 steps: 0.500"
    assert fig.axes[1].get_legend() is not None


# --- the dashboards' figures, updated in place -----------------------------------------------------
def _png(fig) -> bytes:
    from course.widgets import figure_to_png

    return figure_to_png(fig)


@pytest.mark.slow
def test_updated_perceptron_figure_equals_a_new_one():
    xor, xor_y = make_xor(n_samples=40, seed=0)
    blobs, blobs_y = make_blobs(n_samples=30, seed=1)
    run = train_perceptron(xor, xor_y, epochs=4, seed=0)
    figure = p_plots.PerceptronFigure()
    figure.update(blobs, blobs_y, np.array([0.0, 1.0]), 0.5, [3, 1, 0], title="first")
    reused = _png(figure.update(xor, xor_y, run.weights[-1], run.biases[-1], run.errors, title="xor"))
    fresh = _png(p_plots.PerceptronFigure().update(xor, xor_y, run.weights[-1], run.biases[-1], run.errors,
                                                   title="xor"))
    assert reused == fresh


@pytest.mark.parametrize("weights, bias", [([1.0, 0.0], -0.5), ([0.0, 1.0], 0.2), ([1.0, 1.0], 0.0),
                                           ([1.0, -2.0], 10.0), ([0.0, 0.0], -1.0)])
def test_half_planes_split_the_box_along_the_line(weights, bias):
    positive, negative, crossing = p_plots.half_planes(weights, bias, (-1.0, 1.0), (-1.0, 1.0))

    def area(corners):
        if len(corners) < 3:
            return 0.0
        xs, ys = np.array(corners).T
        return 0.5 * abs(np.dot(xs, np.roll(ys, 1)) - np.dot(ys, np.roll(xs, 1)))

    assert area(positive) + area(negative) == pytest.approx(4.0)
    grid = np.stack(np.meshgrid(np.linspace(-1, 1, 201), np.linspace(-1, 1, 201)), axis=-1).reshape(-1, 2)
    share = np.mean(grid @ np.array(weights) + bias >= 0)
    assert area(positive) / 4.0 == pytest.approx(share, abs=0.02)
    for point in crossing:
        assert np.dot(weights, point) + bias == pytest.approx(0.0, abs=1e-12)
    assert len(crossing) in (0, 2)


def test_updated_activation_figure_equals_a_new_one():
    figure = act_plots.ActivationFigure()
    figure.update("relu", -8.0, 2.0, x0=-1.0)
    reused = _png(figure.update("tanh", -3.0, 3.0, x0=1.0))
    assert reused == _png(act_plots.plot_activation("tanh", -3.0, 3.0, x0=1.0))
    assert any("slope at x0 = 0.42" in t.get_text() for t in figure.ax.get_legend().get_texts())


@pytest.mark.slow
def test_updated_backprop_figure_equals_a_new_one():
    x, y = make_xor(n_samples=16, seed=0)
    gx, gy, _ = net_plots.decision_grid(x, resolution=10)
    names = ["hidden_1", "output"]
    args = (3, [0.7, 0.6, 0.5, 0.45], [[0.1, 0.2], [0.1, 0.15], [0.05, 0.1], [0.04, 0.09]],
            [np.ones((2, 3)), -np.ones((3, 1))])
    kwargs = dict(regions=(gx, gy, np.linspace(0, 1, 100)), x=x, y=y, title="demo")
    figure = bp_plots.BackpropFigure(names)
    figure.update(1, [0.9, 0.8], [[1.0, 2.0], [0.5, 0.1]], [np.zeros((2, 3)), np.ones((3, 1))],
                  regions=(gx, gy, np.linspace(1, 0, 100)), x=-x, y=y, title="before")
    assert _png(figure.update(*args, **kwargs)) == _png(bp_plots.plot_backprop_step(*args, names, **kwargs))
