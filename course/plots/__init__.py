"""Plot functions for the lessons. Each takes data and returns a matplotlib Figure with a
title, labelled axes and, where several lines share an axis, a legend."""
from .style import COLORS, new_figure

__all__ = ["COLORS", "new_figure"]
