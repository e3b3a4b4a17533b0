"""The Dashboard base: controls drive a recompute and a redraw, errors are shown, not lost."""
import ipywidgets as widgets
import pytest
from support import png_pixels

from course.plots import new_figure
from course.widgets import Dashboard


def make(compute=None):
    def draw(state, values):
        fig, ax = new_figure()
        ax.plot(range(5), [state * i for i in range(5)], label="line")
        ax.set(title="t", xlabel="x", ylabel="y")
        return fig

    return Dashboard({"slope": widgets.FloatSlider(value=1.0, min=0, max=5),
                      "name": widgets.Dropdown(options=["a", "b"], value="a")},
                     compute or (lambda v: v["slope"]), draw, title="demo")


def test_changing_a_control_recomputes_and_redraws():
    dash = make()
    first = bytes(dash.image.value)
    assert dash.state == 1.0 and first[:4] == b"\x89PNG" and dash.redraws == 1
    dash.controls["slope"].value = 3.0  # as a learner's drag does
    assert dash.state == 3.0 and bytes(dash.image.value) != first and dash.redraws == 2


def test_set_changes_several_controls_with_one_redraw():
    dash = make()
    dash.set(slope=2.0, name="b")
    assert dash.values == {"slope": 2.0, "name": "b"} and dash.redraws == 2
    with pytest.raises(KeyError, match="no control named.*slope"):
        dash.set(speed=1)


def test_an_error_in_compute_is_shown_in_the_message_line():
    def compute(values):
        if values["slope"] > 4:
            raise ValueError("slope too steep")
        return values["slope"]

    dash = make(compute)
    with pytest.raises(ValueError):
        dash.set(slope=4.5)
    assert "slope too steep" in dash.last_error and "slope too steep" in dash.message.value
    dash.set(slope=1.5)
    assert dash.last_error is None and dash.message.value == ""


# -- the fast renderer the dashboards draw with ----------------------------------------------------
def _pixels(png: bytes):
    return png_pixels(png).astype(int)


def test_the_text_cache_draws_what_matplotlib_draws():
    import io

    import numpy as np

    from course.plots import render
    from course.widgets import figure_to_png

    fig, ax = new_figure()
    ax.plot([0.001, 1, 10], [1, 5, 2], label="a line")
    ax.set(title="Title with descenders: gjpqy\non two lines", xlabel="x (the weighted sum z)",
           ylabel="$\\|dkernel\\|$")
    ax.legend()
    plain = io.BytesIO()
    fig.savefig(plain, format="png", dpi=fig.dpi)     # matplotlib's own canvas, no cache
    render.clear_text_cache()
    first = figure_to_png(fig)                         # every string rasterised once ...
    cached = len(render._cache)
    again = figure_to_png(fig)                         # ... and stamped the second time
    assert cached > 10 and len(render._cache) == cached and render._enabled
    assert again == first
    expected, got = _pixels(plain.getvalue()), _pixels(first)
    assert expected.shape == got.shape
    differ = np.abs(expected - got).max(axis=2)
    assert np.count_nonzero(differ > 8) <= 0.001 * differ.size, "the cached text is not where matplotlib puts it"
