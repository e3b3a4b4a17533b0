"""Dashboards redraw only what moves (course.plots.render.CachedTextCanvas), and the picture is
still the figure's: the same as matplotlib draws it whole, as ``savefig`` does."""
import io

import numpy as np
import pytest
from support import png_pixels

from course.widgets import (activation_explorer, backprop_stepper, descent_dashboard, perceptron_dashboard,
                            training_dashboard)


def _whole(fig) -> np.ndarray:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=fig.dpi)
    return png_pixels(buffer.getvalue())


def _differs(a: np.ndarray, b: np.ndarray) -> float:
    """The fraction of pixels whose colour differs by more than 40 of 255 in some channel."""
    assert a.shape == b.shape
    return float((np.abs(a.astype(int) - b.astype(int)).max(axis=2) > 40).mean())


def _training():
    dash = training_dashboard(auto_train=False)
    return dash


# builder, the slider a learner drags (the browser benchmark's), its values, another change
CASES = {
    "perceptron": (perceptron_dashboard, "epochs", list(range(1, 31)), {"dataset": "xor"}),
    "activation": (activation_explorer, "x0", [round(v, 1) for v in np.linspace(-9, 9, 30)], {"function": "tanh"}),
    "backprop": (backprop_stepper, "steps", list(range(0, 600, 20)), {"learning_rate": 1.0}),
    "descent": (descent_dashboard, "learning_rate", [0.01, 0.03, 0.1, 0.3, 0.5, 0.9], {"optimizer": "Adam"}),
    "training": (_training, "hidden_units", list(range(2, 33, 2)), {"activation": "relu"}),
}


@pytest.mark.parametrize("name", CASES)
@pytest.mark.slow
def test_each_picture_of_a_drag_is_the_whole_figure(name):
    build, slider, values, other = CASES[name]
    dash = build()
    canvas = dash.figure.canvas
    for k, value in enumerate(values):
        dash.set(**{slider: value})
        if k == len(values) // 2:
            dash.set(**other)               # another control: the axes may change
        shown = png_pixels(dash.image.value)
        assert _differs(shown, _whole(dash.figure)) < 0.015, f"{name}, {slider}={value}"


@pytest.mark.parametrize("name", ["perceptron", "activation", "backprop", "descent", "training"])
@pytest.mark.slow
def test_a_drag_keeps_the_axes_and_redraws_what_moves(name):
    build, slider, values, _ = CASES[name]
    dash = build()
    canvas = dash.figure.canvas
    for value in values:
        dash.set(**{slider: value})
    assert canvas.backgrounds_reused >= len(values) // 2, (
        f"{name}: the axes were drawn again {canvas.backgrounds_drawn} times in {len(values)} pictures")


def test_saving_draws_the_animated_artists_and_the_next_picture_is_right():
    dash = backprop_stepper()
    dash.set(steps=40)
    fig = dash.figure
    whole = _whole(fig)                    # savefig: a draw of its own, every artist
    dash.set(steps=60)
    shown = png_pixels(dash.image.value)
    assert _differs(shown, _whole(fig)) < 0.015
    assert _differs(whole, shown) > 0.001, "the loss curve and the maps moved between steps 40 and 60"


@pytest.mark.parametrize("name", ["backprop", "descent", "training"])
@pytest.mark.slow
def test_in_the_projector_look_too(name):
    from course.plots.style import presentation, presenting

    was = presenting()
    presentation(True)
    try:
        test_each_picture_of_a_drag_is_the_whole_figure(name)
    finally:
        presentation(was)


def test_limits_set_again_to_the_same_values_leave_the_axes_as_drawn():
    from course.plots.style import light_figure, set_limits

    fig, (ax,) = light_figure(1)
    assert set_limits(ax, (0, 10), (0, 1))
    ax.stale = False                    # as after a draw
    assert not set_limits(ax, (0.0, 10.0), (0, 1)) and not ax.stale, "the same limits marked the axes changed"
    assert set_limits(ax, ylim=(0, 2)) and ax.stale and ax.get_xlim() == (0, 10)


def test_the_text_cache_warns_once_when_it_switches_itself_off(monkeypatch):
    import warnings

    from course.plots import new_figure, render

    def broken(*args, **kwargs):
        raise RuntimeError("a matplotlib the cache does not know")

    monkeypatch.setattr(render, "_enabled", True)
    monkeypatch.setattr(render._TextCachingRendererAgg, "_rasterise", broken)
    render.clear_text_cache()
    fig, ax = new_figure()
    ax.set_title("a title no other test draws")
    with pytest.warns(render.TextCacheWarning, match="text cache is off"):
        first = render.render_png(fig)
    assert render._enabled is False
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # no second warning
        assert render.render_png(fig) == first


def test_moving_marks_the_artists_and_places_a_title_that_saving_draws():
    from course.plots import new_figure
    from course.plots.render import animated_artists, moving

    fig, ax = new_figure()
    line, = ax.plot([0, 1], [0, 1])
    title = moving(fig, line, None, title="step 3", fontsize=9)
    assert line.get_animated() and title.get_animated() and title.get_fontsize() == 9
    assert set(animated_artists(fig)) == {line, title}
    x, y = title.get_position()
    assert (x, y) == (0.5, 0.98) and title.get_transform() == fig.transFigure
    assert moving(fig, line) is None
