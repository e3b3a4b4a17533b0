"""The descent dashboard: move the sliders, watch an optimizer walk down a loss landscape.

    dash = descent_dashboard()                         # shows itself in a notebook cell
    dash.set(optimizer="SGD", learning_rate=0.3, momentum=0.9)
    dash.state.trajectory.path                         # where the point went, step by step

Every redraw builds a fresh optimizer from ``course.optimizers`` (the same objects that train
the networks) and moves a point with ``course.landscapes.run_optimizer``: the picture is what
those objects do, not a second implementation of their arithmetic.

Controls: the landscape (1-D or 2-D), the optimizer, the learning rate, SGD's momentum and
Nesterov switch, Keras 2's learning-rate decay, the start point and the number of steps.
Momentum and Nesterov belong to SGD only, and Nadam has no ``decay``: those controls are greyed
out when they do not apply. Changing the landscape moves the start sliders to its range and to
a start point that shows something (set the landscape first when you drive it from Python).
"""
from __future__ import annotations

from typing import NamedTuple

import ipywidgets as widgets
import numpy as np

from .. import landscapes
from .. import optimizers as optimizers_module
from ..landscapes import divergence_step
from ..plots.descent import DIVERGED, DescentFigure
from .dashboard import Dashboard

__all__ = ["DescentState", "DescentDashboard", "descent_dashboard", "LANDSCAPE_CHOICES", "make_optimizer"]

#: The landscapes on offer: key -> (label, factory, default start point).
LANDSCAPE_CHOICES = {
    "wavy": ("wavy: 1-D with local minima", landscapes.wavy, (4.5,)),
    "bowl1": ("bowl: 1-D", lambda: landscapes.bowl(1), (1.8,)),
    "bowl": ("bowl: 2-D", landscapes.bowl, (1.5, 1.2)),
    "valley": ("valley: 2-D, elongated", landscapes.valley, (-2.5, 1.0)),
    "rosenbrock": ("Rosenbrock: 2-D, curved valley", landscapes.rosenbrock, (-1.5, 2.0)),
    "six_hump_camel": ("six-hump camel: 2-D, local minima", landscapes.six_hump_camel, (-1.5, 0.6)),
}


class DescentState(NamedTuple):
    """What a redraw computed."""

    landscape: landscapes.Landscape
    optimizer: optimizers_module.Optimizer   # after the run: its iterations, state, current_lr
    trajectory: landscapes.Trajectory
    diverged_at: int | None                  # the step where the loss blew up (see divergence_step)


def make_optimizer(name: str, learning_rate: float, momentum: float = 0.0, nesterov: bool = False,
                   decay: float = 0.0) -> optimizers_module.Optimizer:
    """The optimizer ``name`` with these settings; those it does not take are left out.

    momentum and nesterov go to SGD only; decay to every optimizer but Nadam.

    >>> make_optimizer("SGD", 0.1, momentum=0.9)
    SGD(lr=0.1, momentum=0.9, decay=0.0, nesterov=False)
    >>> make_optimizer("Adam", 0.1, momentum=0.9)    # Adam has no momentum argument
    Adam(lr=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-07, decay=0.0, amsgrad=False)
    """
    cls = optimizers_module.OPTIMIZERS[name.lower()]
    kwargs = {"lr": learning_rate}
    if cls is optimizers_module.SGD:
        kwargs.update(momentum=momentum, nesterov=nesterov)
    if cls is not optimizers_module.Nadam:
        kwargs["decay"] = decay
    return cls(**kwargs)


def _set_range(slider, low: float, high: float, value: float) -> None:
    """Give a slider a new range and value without ever having min > max on the way."""
    slider.min, slider.max = min(slider.min, low), max(slider.max, high)
    slider.value = value
    slider.min, slider.max = low, high


class DescentDashboard(Dashboard):
    """A ``Dashboard`` whose landscape control also resets the range of the start sliders."""

    def __init__(self, controls, compute, draw, title="", **kwargs):
        self._landscapes: dict = {}
        super().__init__(controls, compute, draw, title=title, **kwargs)

    def landscape(self, key: str) -> landscapes.Landscape:
        """The landscape object for a key of LANDSCAPE_CHOICES (made once, then reused)."""
        if key not in self._landscapes:
            self._landscapes[key] = LANDSCAPE_CHOICES[key][1]()
        return self._landscapes[key]

    def _on_change(self, change) -> None:
        holding = getattr(self, "_holding", False)
        self._holding = True
        try:
            if change["owner"] is self.controls["landscape"]:
                with self._draw_lock:   # no drawing may read the sliders half moved
                    self._fit_start_sliders(change["new"])
            self._enable_controls()
        finally:
            self._holding = holding
        super()._on_change(change)

    def _fit_start_sliders(self, key: str) -> None:
        landscape = self.landscape(key)
        start = LANDSCAPE_CHOICES[key][2]
        (x_low, x_high), *rest = landscape.bounds
        _set_range(self.controls["start_x"], x_low, x_high, start[0])
        if landscape.dim == 2:
            _set_range(self.controls["start_y"], rest[0][0], rest[0][1], start[1])
        self.controls["start_y"].disabled = landscape.dim == 1

    def _enable_controls(self) -> None:
        name = self.controls["optimizer"].value
        self.controls["momentum"].disabled = name != "SGD"
        self.controls["nesterov"].disabled = name != "SGD"
        self.controls["decay"].disabled = name == "Nadam"


def _describe(optimizer) -> str:
    config = optimizer.get_config()
    parts = [f"lr={config['lr']:.3g}"]     # as the slider reads it (a log slider's 2.00 is 1.99526)
    if config.get("momentum"):
        parts.append(f"momentum={config['momentum']:g}")
    if config.get("nesterov"):
        parts.append("nesterov")
    if config.get("decay"):
        parts.append(f"decay={config['decay']:g}")
    return f"{type(optimizer).__name__}({', '.join(parts)})"


def descent_dashboard(landscape: str = "wavy", optimizer: str = "SGD", learning_rate: float = 0.3,
                      momentum: float = 0.0, nesterov: bool = False, decay: float = 0.0,
                      start=None, steps: int = 60) -> DescentDashboard:
    """Gradient descent on a 1-D or 2-D landscape, driven by sliders.

    landscape: a key of LANDSCAPE_CHOICES ('wavy', 'bowl1', 'bowl', 'valley', 'rosenbrock',
    'six_hump_camel'). optimizer: 'SGD', 'RMSprop', 'Adagrad', 'Adadelta', 'Adam', 'Adamax' or
    'Nadam'. start: the start point (default: one chosen for the landscape).

    The figure shows the path on the landscape (left) and the loss at each step (right); its
    title gives the final loss, the learning rate reached after decay, and the step where the
    run diverged, if it did. Returns a DescentDashboard; ``dash.state`` is a DescentState.
    """
    if landscape not in LANDSCAPE_CHOICES:
        raise ValueError(f"unknown landscape {landscape!r}; choose one of {sorted(LANDSCAPE_CHOICES)}.")
    names = [cls.__name__ for cls in optimizers_module.OPTIMIZERS.values()]
    if optimizer not in names:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose one of {names}.")
    if not 1e-4 <= learning_rate <= 10 ** 0.5:
        raise ValueError(f"learning_rate must be between 1e-4 and 3.16 (the slider's range), got {learning_rate!r}.")
    if not 5 <= steps <= 500:
        raise ValueError(f"steps must be between 5 and 500 (the slider's range), got {steps!r}.")
    first = LANDSCAPE_CHOICES[landscape][1]()
    start = tuple(start) if start is not None else LANDSCAPE_CHOICES[landscape][2]
    if len(start) != first.dim:
        raise ValueError(f"start must have {first.dim} coordinate(s) for {landscape!r}, got {start!r}.")
    (x_low, x_high), *rest = first.bounds
    y_low, y_high = rest[0] if rest else (-1.0, 1.0)
    style = {"description_width": "110px"}
    layout = widgets.Layout(width="330px")
    controls = {
        "landscape": widgets.Dropdown(options=[(v[0], k) for k, v in LANDSCAPE_CHOICES.items()],
                                      value=landscape, description="landscape", style=style, layout=layout),
        "optimizer": widgets.Dropdown(options=names, value=optimizer, description="optimizer",
                                      style=style, layout=layout),
        "learning_rate": widgets.FloatLogSlider(value=learning_rate, base=10, min=-4, max=0.5, step=0.05,
                                                description="learning rate", readout_format=".3g",
                                                style=style, layout=layout),
        "momentum": widgets.FloatSlider(value=momentum, min=0.0, max=0.99, step=0.01,
                                        description="momentum",
                                        style=style, layout=layout),
        "nesterov": widgets.Checkbox(value=nesterov, description="Nesterov momentum", indent=True,
                                     layout=layout),
        "decay": widgets.FloatSlider(value=decay, min=0.0, max=0.5, step=0.005, description="decay",
                                     readout_format=".3f", style=style, layout=layout),
        "start_x": widgets.FloatSlider(value=start[0], min=x_low, max=x_high, step=0.05,
                                       description="start w1",
                                       style=style, layout=layout),
        "start_y": widgets.FloatSlider(value=start[1] if len(start) > 1 else (y_low + y_high) / 2,
                                       min=y_low, max=y_high, step=0.05, description="start w2",
                                       disabled=first.dim == 1,
                                       style=style, layout=layout),
        "steps": widgets.IntSlider(value=steps, min=5, max=500, step=5, description="steps",
                                   style=style, layout=layout),
    }
    grids: dict = {}
    figures: list = []     # one DescentFigure, built at the first redraw and updated at each one
    dash_ref: list = []

    def compute(values):
        land = dash_ref[0].landscape(values["landscape"]) if dash_ref else first
        opt = make_optimizer(values["optimizer"], values["learning_rate"], values["momentum"],
                             values["nesterov"], values["decay"])
        point = [values["start_x"], values["start_y"]][:land.dim]
        trajectory = landscapes.run_optimizer(opt, land, point, values["steps"])
        return DescentState(land, opt, trajectory, divergence_step(trajectory.losses, DIVERGED))

    def draw(state, values):
        trajectory = state.trajectory
        finite = np.isfinite(trajectory.losses)
        last = np.flatnonzero(finite)[-1]
        where = ", ".join(f"{v:.3g}" for v in trajectory.path[last])
        title = f"{_describe(state.optimizer)} on {state.landscape.name}: "
        if state.diverged_at is not None:
            title += f"diverged at step {state.diverged_at}"
        else:
            title += f"loss {trajectory.losses[-1]:.3g} at w = ({where}) after {values['steps']} steps"
        if values["decay"] and values["optimizer"] != "Nadam":
            title += f"; lr decayed to {state.optimizer.current_lr:.3g}"
        if not figures:
            figures.append(DescentFigure(state.landscape, grids=grids))
        figures[0].set_landscape(state.landscape)
        return figures[0].update(trajectory, _describe(state.optimizer), title)

    dash = DescentDashboard(controls, compute, draw, title="Gradient descent on a loss landscape",
                            auto=False)
    dash_ref.append(dash)
    dash._landscapes[landscape] = first
    dash._enable_controls()
    dash.redraw()
    return dash
