"""One look for every figure of the course: colours that survive a projector and colour-blind
viewers, readable font sizes, and a helper that makes a titled, labelled figure.

The palette is Okabe and Ito's (2008), distinguishable with every common kind of colour
blindness; lines also differ by style where several share an axis.
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg", force=False)
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import LogLocator, MaxNLocator, NullLocator  # noqa: E402

__all__ = ["COLORS", "LINESTYLES", "new_figure", "light_figure", "color"]

COLORS = {
    "blue": "#0072B2", "orange": "#E69F00", "green": "#009E73", "vermillion": "#D55E00",
    "purple": "#CC79A7", "sky": "#56B4E9", "yellow": "#F0E442", "black": "#000000",
}
CYCLE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000"]
LINESTYLES = ["-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1)), (0, (1, 1))]

RC = {
    "font.size": 11, "axes.titlesize": 12, "axes.labelsize": 11, "legend.fontsize": 10,
    "axes.grid": True, "grid.alpha": 0.3, "lines.linewidth": 2.0,
    "axes.prop_cycle": matplotlib.cycler(color=CYCLE),
    "figure.dpi": 80, "savefig.dpi": 80,
}


def color(i: int) -> str:
    """The i-th colour of the palette (cycling)."""
    return CYCLE[i % len(CYCLE)]


def new_figure(ncols: int = 1, nrows: int = 1, width: float = 5.0, height: float = 3.6, **kwargs):
    """A Figure (not attached to pyplot, so it never leaks) and its axes, in the course style.

    Returns (fig, axes): axes is a single Axes for 1x1, else an array. Figures made this way are
    shown in Jupyter by returning ``fig`` from a cell, or with ``display(fig)``.
    """
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
        axes = fig.subplots(nrows, ncols, **kwargs)
    for ax in (axes.flat if hasattr(axes, "flat") else [axes]):
        ax.grid(True, alpha=0.3)
    return fig, axes


def light_figure(ncols: int = 2, width: float = 4.0, height: float = 3.0, left: float = 0.8,
                 right: float = 0.2, bottom: float = 0.6, top: float = 0.6, wspace: float = 1.15):
    """A row of axes in the course style, laid out once by hand (margins in inches).

    The dashboards redraw many times a second; matplotlib's automatic layout measures every
    text again on each draw and costs about a third of a redraw. Returns (fig, axes).
    """
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(width * ncols, height))
        axes = fig.subplots(1, ncols, squeeze=False)[0]
    total = width * ncols
    fig.subplots_adjust(left=left / total, right=1 - right / total, bottom=bottom / height,
                        top=1 - top / height, wspace=wspace * ncols / total)
    for ax in axes:
        ax.grid(True, alpha=0.3)
        _few_ticks(ax, "linear")
    return fig, axes


def _few_ticks(ax, yscale: str) -> None:
    """About five labelled ticks per axis, no minor ticks: every tick label costs drawing time."""
    ax.xaxis.set_major_locator(MaxNLocator(5, steps=_TICK_STEPS))
    if yscale == "log":
        ax.yaxis.set_major_locator(LogLocator(numticks=5))
        ax.yaxis.set_minor_locator(NullLocator())
    else:
        ax.yaxis.set_major_locator(MaxNLocator(5, steps=_TICK_STEPS))


_TICK_STEPS = [1, 2, 2.5, 5, 10]
