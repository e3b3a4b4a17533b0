"""The dashboards' PNG encoder: the same pixels as matplotlib drew, the settings in the file."""
import io

import numpy as np
import pytest

from course.plots.render import encode_png, render_png
from course.plots.style import light_figure

Image = pytest.importorskip("PIL.Image")


def test_a_figure_round_trips_through_the_encoder_pixel_for_pixel():
    fig, (ax,) = light_figure(1)
    ax.plot([0, 1, 2], [2, 0, 1], label="a line")
    ax.set_title("a title")
    ax.legend()
    png = render_png(fig, fig.dpi, "learning rate 0.1, epochs 10")
    decoded = Image.open(io.BytesIO(png))
    decoded.load()
    assert np.array_equal(np.asarray(decoded), np.asarray(fig.canvas.buffer_rgba()))
    assert decoded.info["Description"] == "learning rate 0.1, epochs 10"
    assert decoded.info["dpi"] == pytest.approx((fig.dpi, fig.dpi), abs=0.01)


def test_another_resolution_still_carries_the_description():
    fig, (ax,) = light_figure(1)
    png = render_png(fig, fig.dpi * 2, "seed 3")
    decoded = Image.open(io.BytesIO(png))
    assert decoded.size == (round(fig.get_figwidth() * fig.dpi * 2), round(fig.get_figheight() * fig.dpi * 2))
    assert decoded.info["Description"] == "seed 3"


def test_random_pixels_and_odd_text_survive():
    rgba = np.random.default_rng(0).integers(0, 256, size=(7, 5, 4), dtype=np.uint8)
    decoded = Image.open(io.BytesIO(encode_png(rgba, "x₁ → w² (not Latin-1)")))
    assert np.array_equal(np.asarray(decoded), rgba)
    assert decoded.info["Description"] == "x? ? w² (not Latin-1)"     # ² is Latin-1, ₁ and → are not


@pytest.mark.parametrize("bad", [np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4, 4), np.float32), np.zeros((4, 4), np.uint8)])
def test_anything_but_rgba_bytes_is_refused(bad):
    with pytest.raises(ValueError, match=r"\(height, width, 4\) uint8"):
        encode_png(bad)
