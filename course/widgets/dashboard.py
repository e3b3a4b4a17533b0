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
dashboard's message line (and kept in ``last_error``) instead of disappearing into a log. The
course's figures mark what moves from one picture to the next as "animated", and the canvas
keeps their axes and labels from one picture to the next (``course.plots.render``): a picture
of a drag costs the lines and points that moved, not the whole figure.

Following the mouse. Sliders send their value on every move of a drag (``continuous_update``),
far more often than a figure can be drawn. A change that comes from the page is therefore not
drawn where it arrives: it only marks the picture as out of date and wakes the dashboard's
drawing thread (``LatestOnly``), which draws the controls' values *as they are when it starts*.
Values passed over while a picture was being drawn are never drawn: the latest value wins, a
burst of changes ends with one picture of its last value, and the picture is never more than
one drawing behind the mouse. The kernel answers the browser as soon as the thread has taken
the change up; until then the browser holds the moves back and sends only the newest (ipywidgets
keeps one message in flight per control), so a drag costs one message per picture, not one per
pointer move (see ``Dashboard.pace_seconds``). Changes made from Python (``dash.set(...)``, or
assigning a control's ``value`` in a cell) are drawn at once, before the call returns, so the
next line can read ``dash.state``. ``dash.wait()`` waits for the drawing thread to catch up.

Each PNG names the settings it was drawn from in its "Description" text chunk (``describe``):
it travels with the picture in the same message, so the browser benchmark can tell which
move of the mouse a picture answers, and a picture saved from the page says what it shows.
"""
from __future__ import annotations

import base64
import threading
import time
import traceback

import ipywidgets as widgets
from matplotlib.figure import Figure

from ..plots.render import render_png
from ..plots.style import figure_dpi

__all__ = ["Dashboard", "LatestOnly", "figure_to_png", "describe"]


def figure_to_png(fig: Figure, dpi: int | None = None, description: str | None = None) -> bytes:
    """Render a matplotlib Figure to PNG bytes (``description``: text stored in the file).

    Drawn on a canvas that keeps the pixels of every string it has drawn (text is most of a
    redraw) and encoded with light compression: see ``course.plots.render``. Course figures lay
    themselves out: no "tight" pass.
    """
    return render_png(fig, figure_dpi() if dpi is None else dpi, description)


class LatestOnly:
    """Run ``job`` in a thread of its own whenever asked, never more than one at a time, and
    never once per request: requests made while ``job`` runs are merged into one more run.

        worker = LatestOnly(job)
        worker.request()      # returns at once; job() runs soon in the worker thread
        worker.request()      # ... while it runs: one more run after it, however many requests
        worker.wait()         # until nothing is pending or running

    ``job`` reads the newest inputs itself when it starts, so the newest value is always the one
    drawn. ``settled`` (optional) runs once after a burst: when ``settle`` seconds have passed
    with no request after the last run of ``job`` (what the training dashboard uses to start
    training once per drag). The thread is started on the first request and ends after
    ``idle`` seconds without one.
    """

    def __init__(self, job, settled=None, settle: float = 0.3, idle: float = 10.0, name: str = "redraw"):
        self._job, self._settled, self.settle, self.idle, self.name = job, settled, settle, idle, name
        self._cond = threading.Condition()
        self._pending = False           # a request not yet served
        self._unsettled = False         # job ran since the last settled()
        self._busy = False
        self._thread: threading.Thread | None = None
        self.runs = 0                   # how many times job ran
        self.requests = 0

    def request(self, until_started: float = 0.0) -> None:
        """Ask for one more run. ``until_started``: wait up to that many seconds for the thread
        to take the request up (to start the run that serves it) before returning."""
        with self._cond:
            self.requests += 1
            self._pending = True
            self._unsettled = self._settled is not None
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
                self._thread.start()
            self._cond.notify_all()
            if until_started > 0 and threading.current_thread() is not self._thread:
                self._cond.wait_for(lambda: not self._pending, until_started)

    def cancel(self) -> None:
        """Forget requests not yet served (a redraw from Python has just drawn the same values)."""
        with self._cond:
            self._pending = False
            self._cond.notify_all()

    @property
    def busy(self) -> bool:
        with self._cond:
            return self._pending or self._busy or self._unsettled

    def wait(self, timeout: float | None = None) -> bool:
        """Block until nothing is pending, running or waiting to settle; False on timeout."""
        if threading.current_thread() is self._thread:
            return True
        with self._cond:
            return self._cond.wait_for(lambda: not (self._pending or self._busy or self._unsettled), timeout)

    def _loop(self) -> None:
        while True:
            with self._cond:
                if not self._pending and self._unsettled:
                    if not self._cond.wait_for(lambda: self._pending, self.settle):
                        job, self._unsettled = self._settled, False
                        self._busy = True
                    else:
                        continue
                else:
                    if not self._cond.wait_for(lambda: self._pending or self._unsettled, self.idle):
                        self._thread = None
                        self._cond.notify_all()
                        return
                    if not self._pending:
                        continue
                    job, self._pending, self._busy = self._job, False, True
                    self.runs += 1
            try:
                job()
            except Exception:  # noqa: BLE001 - the job reports its own errors (message line)
                pass
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()


def describe(controls: dict, values: dict | None = None) -> str:
    """The settings of ``controls`` as a line of text: 'learning rate 0.1, epochs 10, ...'
    (their current values, or those given in ``values``)."""
    parts = []
    for name, control in controls.items():
        if not hasattr(control, "value") or isinstance(control, widgets.Button):
            continue
        label = getattr(control, "description", "") or name
        value = control.value if values is None or name not in values else values[name]
        options = list(zip(getattr(control, "_options_labels", ()), getattr(control, "_options_values", ())))
        shown = [lab for lab, v in options if v == value]
        if shown:
            text = str(shown[0])
        elif isinstance(value, float):
            text = f"{value:.4g}"
        elif isinstance(value, tuple):
            text = "(" + ", ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in value) + ")"
        else:
            text = str(value)
        parts.append(f"{label} {text}")
    return ", ".join(parts)


class Dashboard:
    """Controls + a figure that is recomputed and redrawn whenever a control changes.

    Subclasses (or callers) provide:
        controls: dict name -> ipywidget with a ``value`` (sliders, dropdowns, checkboxes)
        compute(values) -> state    the model side: train, run an optimizer, ... (no drawing)
        draw(state, values) -> Figure   the picture of that state

    Attributes after each redraw: ``state``, ``figure``, ``redraw_seconds``, ``redraws``
    (a counter), ``last_error`` (None, or the text of the exception), ``drawn_values`` (the
    controls' values that the picture on screen shows).

    Changes that come from the page (a drag) are drawn by a thread of the dashboard, latest
    value first (see the module's documentation); ``wait()`` waits for it.
    """

    #: Seconds without a change after which a drag counts as finished (see TrainingDashboard).
    settle_seconds = 0.3
    #: How long the kernel may wait for the drawing thread to take up a change from the page
    #: before it answers the browser. The browser keeps one message in flight per control and
    #: merges the moves made meanwhile, so it sends about one value per picture.
    pace_seconds = 1.0

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
        self.drawn_values: dict | None = None
        self._draw_lock = threading.RLock()      # one computation and drawing at a time
        self._worker = LatestOnly(self._redraw_in_background, settled=self._settled_job(),
                                  settle=self.settle_seconds, name=f"{type(self).__name__} redraw")
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

    def wait(self, timeout: float | None = None) -> "Dashboard":
        """Block until the pictures asked for by changes from the page have been drawn."""
        self._worker.wait(timeout)
        return self

    def _on_change(self, change) -> None:
        if getattr(self, "_holding", False):
            return
        if _from_the_page(change):
            self._changed_in_the_page()
        else:
            self.redraw()

    def _changed_in_the_page(self) -> None:
        """A control moved in the browser: draw the latest values soon, in the drawing thread."""
        self._worker.request(until_started=self.pace_seconds)

    def _settled_job(self):
        """What to run once when the changes from the page have stopped (None: nothing)."""
        return None

    def _redraw_in_background(self) -> None:
        try:
            self._redraw_now()
        except Exception:  # noqa: BLE001 - shown in the message line by _redraw_now
            pass

    def redraw(self) -> None:
        """Recompute the state from the controls and draw it."""
        self._worker.cancel()
        self._redraw_now()

    def _redraw_now(self) -> None:
        with self._draw_lock:
            start = time.perf_counter()
            try:
                values = self.values
                self.state = self._compute(values)
                figure = self._draw(self.state, values)
                self._show(figure, values)
                self.show_error(None)
            except Exception as error:  # noqa: BLE001 - shown to the learner, kept for tests
                self.show_error(error)
                raise
            finally:
                self.redraw_seconds = time.perf_counter() - start
                self.redraws += 1

    def show_error(self, error: BaseException | None) -> None:
        """Show ``error`` in the dashboard's message line and keep its text in ``last_error``;
        None clears both. Every error of computing, drawing or training is shown this way."""
        if error is None:
            self.last_error = None
            if self.message.value:
                self.message.value = ""
            return
        self.last_error = "".join(traceback.format_exception_only(type(error), error)).strip()
        self.message.value = (f"<span style='color:#b00020' class='course-dashboard-error'>"
                              f"Error: {_escape(self.last_error)}</span>")

    def _show(self, figure: Figure, values: dict) -> None:
        """Put the picture of ``figure`` on screen; the PNG names the settings it shows."""
        self.image.value = figure_to_png(figure, self.dpi, describe(self.controls, values))
        self.figure = figure
        self.drawn_values = dict(values)

    # -- display ----------------------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs):
        """The live widget, plus a picture of its current figure for places that cannot run it
        (a notebook stored with its outputs, a page on the web)."""
        bundle = dict(self.widget._repr_mimebundle_(**kwargs) or {})
        if self.image.value:
            bundle["image/png"] = base64.b64encode(bytes(self.image.value)).decode("ascii")
        bundle["text/plain"] = f"{type(self).__name__}: run this cell in Jupyter to use the controls."
        return bundle


def _from_the_page(change) -> bool:
    """True when a change was sent by the browser (ipywidgets locks the property meanwhile),
    False when Python code made it."""
    owner = change.get("owner") if isinstance(change, dict) else getattr(change, "owner", None)
    return bool(getattr(owner, "_property_lock", None))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
