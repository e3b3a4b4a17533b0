"""Other ways a dashboard could draw the changes that come from the page, for
``bench_dashboards_browser.py --drawing`` to compare with the one the course uses.

    paced     the course's way (``Dashboard`` as it is): the dashboard's drawing thread draws;
              the kernel answers the browser once the thread has taken the change up, so the
              browser (one message in flight per control, the moves made meanwhile merged)
              sends about one value per picture
    unpaced   the drawing thread draws, but the kernel answers at once: the browser sends
              every move
    handler   the kernel's message handler draws each change itself, one after another (no
              drawing thread); the training dashboard stops, draws and trains for every value

In the kernel, before the drags: ``use("unpaced")``; ``use("paced")`` puts the course's way back.
"""
from __future__ import annotations

from course.widgets.dashboard import Dashboard
from course.widgets.training import TrainingDashboard

MODES = ("paced", "unpaced", "handler")

_COURSE = {cls: cls.__dict__["_changed_in_the_page"] for cls in (Dashboard, TrainingDashboard)}


def _unpaced(self) -> None:
    self._worker.request(until_started=0.0)


def _handler(self) -> None:
    self._redraw_in_background()


def _training_handler(self) -> None:
    try:
        self.redraw()               # stop, draw, train: for every value
    except Exception:  # noqa: BLE001 - shown in the dashboard's message line
        pass


_WAYS = {
    "paced": _COURSE,
    "unpaced": {Dashboard: _unpaced, TrainingDashboard: _COURSE[TrainingDashboard]},
    "handler": {Dashboard: _handler, TrainingDashboard: _training_handler},
}


def use(mode: str) -> None:
    """Make every dashboard of this kernel draw the changes from the page in ``mode``'s way."""
    if mode not in _WAYS:
        raise ValueError(f"drawing mode {mode!r}: choose among {', '.join(MODES)}.")
    for cls, method in _WAYS[mode].items():
        setattr(cls, "_changed_in_the_page", method)
