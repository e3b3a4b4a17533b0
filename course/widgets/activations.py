"""The activation explorer: pick a function and an input range, see it beside its derivative,
and move a point x0 to read the slope there (the number backpropagation multiplies by).

    dash = activation_explorer()
    dash.set(function="tanh", x_range=(-3.0, 3.0), x0=2.0)
    dash.state.slope                           # tanh'(2) = 1 - tanh(2)^2
"""
from __future__ import annotations

from typing import NamedTuple

import ipywidgets as widgets
import numpy as np

from ..plots.activations import ActivationFigure, activation_curve
from .dashboard import Dashboard

__all__ = ["ActivationState", "activation_explorer", "FUNCTIONS"]

FUNCTIONS = ("linear", "sigmoid", "tanh", "relu", "softmax", "step")


class ActivationState(NamedTuple):
    """The curve and its derivative on the chosen range, and the point x0 with its slope."""

    x: np.ndarray
    f: np.ndarray
    df: np.ndarray
    x0: float
    value: float
    slope: float


def activation_explorer(function: str = "sigmoid", x_range=(-5.0, 5.0), x0: float = 1.0) -> Dashboard:
    """A Dashboard with controls function, x_range (a (low, high) pair) and x0 (a point inside it;
    kept inside the range)."""
    if function not in FUNCTIONS:
        raise ValueError(f"function must be one of {', '.join(FUNCTIONS)}, got {function!r}.")
    style = {"description_width": "initial"}
    controls = {
        "function": widgets.Dropdown(options=list(FUNCTIONS), value=function, description="function",
                                     style=style),
        # wide enough for its readout ("-10.0 – 10.0") beside the track
        "x_range": widgets.FloatRangeSlider(value=tuple(x_range), min=-10.0, max=10.0, step=0.5,
                                            description="input range", readout_format=".1f", style=style,
                                            layout=widgets.Layout(width="480px")),
        "x0": widgets.FloatSlider(value=float(np.clip(x0, *x_range)), min=x_range[0], max=x_range[1], step=0.1,
                                  description="point x0", style=style, layout=widgets.Layout(width="480px")),
    }

    def keep_x0_inside(change):
        """x0's slider spans the input range: the point never sits outside the curve drawn, and
        when the range moves past it the slider shows where the point went."""
        low, high = change["new"]
        slider = controls["x0"]
        if low < high:
            slider.min, slider.max = min(low, slider.max), max(high, slider.min)
            slider.min, slider.max = low, high
            slider.value = float(np.clip(slider.value, low, high))

    controls["x_range"].observe(keep_x0_inside, names="value")

    def compute(values) -> ActivationState:
        low, high = values["x_range"]
        if not low < high:
            raise ValueError(f"the input range must have low < high, got ({low}, {high}).")
        x = np.linspace(low, high, 201)
        f, df = activation_curve(values["function"], x)
        point = float(np.clip(values["x0"], low, high))
        f0, df0 = activation_curve(values["function"], np.array([point]))
        return ActivationState(x, f, df, point, float(f0[0]), float(df0[0]))

    figure = ActivationFigure()      # built once, updated at each redraw

    def draw(state: ActivationState, values):
        return figure.update(values["function"], float(state.x[0]), float(state.x[-1]), x0=state.x0)

    return Dashboard(controls, compute, draw, title="Activation functions and their slopes")
