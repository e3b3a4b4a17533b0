"""Interactive dashboards (ipywidgets) for the lessons.

Each builder returns a ``Dashboard`` (see ``dashboard.py``): display it in a notebook cell, or
drive it from Python with ``dash.set(name=value)``.
"""
from .dashboard import Dashboard, figure_to_png

__all__ = ["Dashboard", "figure_to_png"]
