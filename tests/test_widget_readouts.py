"""What a dashboard shows agrees with its controls: the activation explorer's point stays on its
slider, and the descent dashboard's title gives the learning rate as the slider reads it."""
import pytest

pytest.importorskip("ipywidgets")

from course.optimizers import SGD  # noqa: E402
from course.widgets.activations import activation_explorer  # noqa: E402
from course.widgets.descent import _describe  # noqa: E402


def test_the_point_x0_moves_with_the_input_range():
    dash = activation_explorer(function="tanh", x_range=(-4.0, 4.0), x0=2.0)
    x0 = dash.controls["x0"]
    assert (x0.min, x0.max) == (-4.0, 4.0)
    x0.value = 6.6                                  # beyond the range: the slider stops at its end
    assert x0.value == 4.0
    dash.controls["x_range"].value = (-8.0, 8.0)
    x0.value = 6.6
    assert x0.value == pytest.approx(6.6)
    dash.controls["x_range"].value = (-3.0, 3.0)    # the range moves past the point: it follows, visibly
    assert x0.value == 3.0 and (x0.min, x0.max) == (-3.0, 3.0)


def test_the_title_reads_the_learning_rate_as_the_slider_does():
    assert _describe(SGD(lr=10 ** 0.3)) == "SGD(lr=2)"
