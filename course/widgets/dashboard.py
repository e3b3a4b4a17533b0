"""What every dashboard of the course shares: controls, a figure, and a redraw on every change.

A dashboard is a small object, not a bare widget, so that a test (or an instructor at the
keyboard) can drive it from Python exactly as a learner does with the mouse:

    dash = descent_dashboard()          # doctest: +SKIP
    dash                                # shows the controls and the figure in Jupyter
    dash.set(learning_rate=0.5)         # moves the slider: the figure redraws
    dash.state                          # what the last redraw computed (paths, weights, ...)
    dash.figure                         # the matplotlib Figure of the last redraw
    dash.image.value                    # the PNG bytes on screen

The figure is drawn with matplotlib (Agg) and shown as PNG in an ``ipywidgets.Image``: no
plotting extension is needed in JupyterLab, the output stored in a notebook is small, and a test
can see that the picture changed. Errors raised while computing or drawing are shown in the
dashboard's message line (and kept in ``last_error``) instead of disappearing into a log.
"""
from __future__ import annotations

import base64
import time
import traceback

import ipywidgets as widgets
from matplotlib.figure import Figure

from ..plots.render import render_png
from ..plots.style import figure_dpi

__all__ = ["Dashboard", "figure_to_png"]


def figure_to_png(fig: Figure, dpi: int | None = None) -> bytes:
    """Render a matplotlib Figure to PNG bytes.

    Drawn on a canvas that keeps the pixels of every string it has drawn (text is most of a
    redraw) and encoded with light compression: see ``course.plots.render``. Course figures lay
    themselves out: no "tight" pass.
    """
    return render_png(fig, figure_dpi() if dpi is None else dpi)


class Dashboard:
    """Controls + a figure that is recomputed and redrawn whenever a control changes.

    Subclasses (or callers) provide:
        controls: dict name -> ipywidget with a ``value`` (sliders, dropdowns, checkboxes)
        compute(values) -> state    the model side: train, run an optimizer, ... (no drawing)
        draw(state, values) -> Figure   the picture of that state

    Attributes after each redraw: ``state``, ``figure``, ``redraw_seconds``, ``redraws``
    (a counter), ``last_error`` (None, or the text of the exception).
    """

    def __init__(self, controls: dict, compute, draw, title: str = "", dpi: int | None = None,
                 columns: int = 3, auto: bool = True):
        self.controls = dict(controls)
        self._compute, self._draw = compute, draw
        self.dpi = figure_dpi() if dpi is None else dpi     # the projector look draws larger
        self.state = None
        self.figure: Figure | None = None
        self.redraw_seconds = float("nan")
        self.redraws = 0
        self.last_error: str | None = None
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self.message = widgets.HTML(value="")
        rows = [widgets.HBox(list(self.controls.values())[i:i + columns])
                for i in range(0, len(self.controls), columns)]
        header = [widgets.HTML(f"<b>{title}</b>")] if title else []
        self.widget = widgets.VBox(header + rows + [self.image, self.message])
        self.widget.add_class("course-dashboard")
        for control in self.controls.values():
            if hasattr(control, "value"):
                control.observe(self._on_change, names="value")
        if auto:
            self.redraw()

    # -- driving ----------------------------------------------------------------------------------
    @property
    def values(self) -> dict:
        """The current value of every control, by name."""
        return {name: c.value for name, c in self.controls.items() if hasattr(c, "value")}

    def set(self, **values) -> "Dashboard":
        """Set controls by name, as a learner would; each change redraws once at the end."""
        unknown = set(values) - set(self.controls)
        if unknown:
            raise KeyError(f"no control named {sorted(unknown)}; the controls are {sorted(self.controls)}.")
        self._holding = True
        try:
            for name, value in values.items():
                self.controls[name].value = value
        finally:
            self._holding = False
        self.redraw()
        return self

    def _on_change(self, change) -> None:
        if not getattr(self, "_holding", False):
            self.redraw()

    def redraw(self) -> None:
        """Recompute the state from the controls and draw it."""
        start = time.perf_counter()
        try:
            values = self.values
            self.state = self._compute(values)
            figure = self._draw(self.state, values)
            self.image.value = figure_to_png(figure, self.dpi)
            self.figure = figure
            self.last_error = None
            self.message.value = ""
        except Exception as error:  # noqa: BLE001 - shown to the learner, kept for tests
            self.last_error = "".join(traceback.format_exception_only(type(error), error)).strip()
            self.message.value = (f"<span style='color:#b00020' class='course-dashboard-error'>"
                                  f"Error: {_escape(self.last_error)}</span>")
            raise
        finally:
            self.redraw_seconds = time.perf_counter() - start
            self.redraws += 1

    # -- display ----------------------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs):
        """The live widget, plus a picture of its current figure for places that cannot run it
        (a notebook stored with its outputs, a page on the web)."""
        bundle = dict(self.widget._repr_mimebundle_(**kwargs) or {})
        if self.image.value:
            bundle["image/png"] = base64.b64encode(bytes(self.image.value)).decode("ascii")
        bundle["text/plain"] = f"{type(self).__name__}: run this cell in Jupyter to use the controls."
        return bundle


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
