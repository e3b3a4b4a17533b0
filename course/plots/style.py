"""One look for every figure of the course: colours that survive a projector and colour-blind
viewers, readable font sizes, and a helper that makes a titled, labelled figure.

The palette is Okabe and Ito's (2008), distinguishable with every common kind of colour
blindness; lines also differ by style where several share an axis. Its order puts far-apart
hues next to each other (orange and vermilion, blue and sky blue are never neighbours), so that
the first four series of a panel stay apart for every viewer.

Two looks, one switch:

    default      for a learner at a laptop: 100 dpi, no text under 9 pt (12.5 px)
    projector    for a lecture room: ``presentation()``, or COURSE_PRESENTATION=1 in the
                 environment before ``course`` is imported (``make lecture`` sets it): larger
                 text (at least 14 pt), thicker lines, 110 dpi

Sizes written in the plot functions go through ``fs(points)`` (text) and ``lw(points)``
(lines), which apply the floor and the scale of the current look.
"""
from __future__ import annotations

import math
import os

import matplotlib
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullLocator
from matplotlib.transforms import ScaledTranslation

__all__ = ["COLORS", "LINESTYLES", "presentation", "presenting", "fs", "lw", "figure_dpi", "new_figure", "light_figure", "color", "log_ticks", "xlabel_offset", "round_up", "set_limits"]

COLORS = {
    "blue": "#0072B2", "orange": "#E69F00", "green": "#009E73", "vermillion": "#D55E00",
    "purple": "#CC79A7", "sky": "#56B4E9", "yellow": "#F0E442", "black": "#000000",
}
# blue, orange, bluish green, reddish purple, black, vermilion, sky blue
CYCLE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#000000", "#D55E00", "#56B4E9"]
LINESTYLES = ["-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1)), (0, (1, 1))]

DEFAULT_RC = {
    "font.size": 11, "axes.titlesize": 12, "axes.labelsize": 11, "legend.fontsize": 10,
    "xtick.labelsize": 10, "ytick.labelsize": 10, "figure.titlesize": 12,
    "axes.grid": True, "grid.alpha": 0.3, "lines.linewidth": 2.0,
    "axes.prop_cycle": matplotlib.cycler(color=CYCLE),
    "figure.dpi": 100, "savefig.dpi": 100,
}
PROJECTOR_RC = {
    **DEFAULT_RC,
    "font.size": 15, "axes.titlesize": 16, "axes.labelsize": 15, "legend.fontsize": 14,
    "xtick.labelsize": 14, "ytick.labelsize": 14, "figure.titlesize": 17,
    "lines.linewidth": 3.0, "lines.markersize": 8, "axes.linewidth": 1.2, "grid.linewidth": 1.0,
    "xtick.major.width": 1.2, "ytick.major.width": 1.2,
    "figure.dpi": 110, "savefig.dpi": 110,
}
#: (floor in points, scale) for sizes written in the plot functions: see ``fs``.
_TEXT = {False: (9.0, 1.0), True: (14.0, 1.4)}
_LINE = {False: 1.0, True: 1.5}

#: The settings new figures are made with (changed in place by ``presentation``).
RC = dict(DEFAULT_RC)
_state = {"on": False}


def presentation(on: bool = True) -> None:
    """Switch every figure and dashboard drawn from now on to the projector look (or back).

    Projector: text of at least 14 pt and lines 1.5 times as thick, at 110 dpi, so that the
    smallest text of any figure of the lessons is at least 14 px high in a 1280x720 window.
    The setting also reaches matplotlib's defaults (``rcParams``), for figures drawn by hand.
    """
    _state["on"] = bool(on)
    RC.clear()
    RC.update(PROJECTOR_RC if on else DEFAULT_RC)
    matplotlib.rcParams.update({k: v for k, v in RC.items() if k != "axes.prop_cycle"})
    matplotlib.rcParams["axes.prop_cycle"] = RC["axes.prop_cycle"]
    try:
        from .render import clear_text_cache

        clear_text_cache()
    except Exception:  # noqa: BLE001 - the cache only speeds things up
        pass


def presenting() -> bool:
    """True while the projector look is on."""
    return _state["on"]


def fs(points: float) -> float:
    """A font size written in a plot function, in the current look: at least the look's floor
    (9 pt by default, 14 pt on a projector), scaled up on a projector."""
    floor, scale = _TEXT[_state["on"]]
    return max(floor, points * scale)


def lw(points: float) -> float:
    """A line width written in a plot function, in the current look (thicker on a projector)."""
    return points * _LINE[_state["on"]]


def figure_dpi() -> int:
    """Dots per inch of the figures and dashboards in the current look."""
    return int(RC["figure.dpi"])


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
    text again on each draw and costs about a third of a redraw. For the same reason the axes'
    titles and x labels sit at fixed distances from the axes (where matplotlib would put them
    for one line of tick labels) instead of being placed again after measuring the tick labels
    at every draw. Returns (fig, axes).
    """
    # the projector's text is larger: so are the margins, added to the figure (the axes keep
    # their size), or the labels would run into the ticks and off the figure
    k = _TEXT[_state["on"]][1]
    extra_w = (k - 1) * (left + right + wspace * (ncols - 1))
    extra_h = (k - 1) * (top + bottom)
    left, right, bottom, top, wspace = (v * k for v in (left, right, bottom, top, wspace))
    width, height = width + extra_w / ncols, height + extra_h
    with matplotlib.rc_context({**RC, "axes.titley": 1.0}):    # a fixed title position
        fig = Figure(figsize=(width * ncols, height))
        axes = fig.subplots(1, ncols, squeeze=False)[0]
        below = xlabel_offset()
    total = width * ncols
    fig.subplots_adjust(left=left / total, right=1 - right / total, bottom=bottom / height,
                        top=1 - top / height, wspace=wspace * ncols / total)
    for ax in axes:
        ax.grid(True, alpha=0.3)
        _few_ticks(ax, "linear")
        ax.xaxis.set_label_coords(0.5, 0.0, ax.transAxes + ScaledTranslation(0, -below / 72,
                                                                                fig.dpi_scale_trans))
    return fig, axes


def xlabel_offset(labelpad: float | None = None) -> float:
    """Points between the bottom of an axes and the top of its x label when the x tick labels
    are one line of text: tick, tick pad, tick labels (one line of the font), label pad."""
    rc = matplotlib.rcParams
    size = FontProperties(size=rc["xtick.labelsize"]).get_size_in_points()
    pad = rc["axes.labelpad"] if labelpad is None else labelpad
    return rc["xtick.major.size"] + rc["xtick.major.pad"] + size * _line_height(size) + pad


def _line_height(size: float) -> float:
    """Height of one line of text of the default font, in font sizes (ascent + descent)."""
    try:
        from matplotlib.font_manager import findfont, get_font

        font = get_font(findfont(FontProperties(size=size)))
        table = font.get_sfnt_table("OS/2") or {}
        head = font.get_sfnt_table("head")
        return (table["sTypoAscender"] - table["sTypoDescender"]) / head["unitsPerEm"]
    except Exception:  # noqa: BLE001 - DejaVu Sans, matplotlib's default font
        return 1.0


def _few_ticks(ax, yscale: str) -> None:
    """About five labelled ticks per axis, no minor ticks: every tick label costs drawing time."""
    ax.xaxis.set_major_locator(MaxNLocator(5, steps=_TICK_STEPS))
    if yscale == "log":
        log_ticks(ax.yaxis)
    else:
        ax.yaxis.set_major_locator(MaxNLocator(5, steps=_TICK_STEPS))


def log_ticks(axis, low: float | None = None, high: float | None = None) -> None:
    """Ticks of a log-scale axis for a dashboard: powers of ten (and 2 and 5 times them when
    the values span less than about a decade and a half, so that some ticks show), labelled in
    plain text such as 0.01 or 1e-05 (math text such as 10^-2 costs a third of a redraw), no
    minor ticks. low, high: the range of the values shown (positive; default: many decades)."""
    decades = math.log10(high / low) if low and high and low > 0 and high > low else 10.0
    subs = (1.0,) if decades > 1.5 else (1.0, 2.0, 5.0)
    axis.set_major_locator(LogLocator(base=10, subs=subs, numticks=6))
    axis.set_major_formatter(FuncFormatter(_plain_power))
    axis.set_minor_locator(NullLocator())


def round_up(value: float) -> float:
    """The smallest of 1, 2, 5, 10, 20, 50, ... (times any power of ten) at or above ``value``
    (1 for zero, a negative or a non-finite value): where a dashboard's growing axis ends, so
    that it changes seldom while a slider moves.

    >>> [round_up(v) for v in (0.7, 3, 20, 21, 480)]
    [1.0, 5.0, 20.0, 50.0, 500.0]
    """
    if not (value > 0 and math.isfinite(value)):
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    return float(next(m * power for m in (1, 2, 5, 10) if m * power >= value * (1 - 1e-12)))


def set_limits(ax, xlim=None, ylim=None) -> bool:
    """Give ``ax`` the limits ``xlim`` and ``ylim`` (pairs; None: leave as they are) where they
    differ from those it has, and say whether any changed. Setting limits marks the Axes as
    changed even when they are the same, and a changed Axes is drawn again (its ticks and
    labels included) instead of being kept (``course.plots.render``)."""
    changed = False
    for limits, get, put in ((xlim, ax.get_xlim, ax.set_xlim), (ylim, ax.get_ylim, ax.set_ylim)):
        if limits is not None and tuple(float(v) for v in get()) != tuple(float(v) for v in limits):
            put(*limits)
            changed = True
    return changed


def _plain_power(value, _position=None) -> str:
    """0.01, 0.5, 100 as such; 1e-05, 2e+08 beyond."""
    if value == 0 or 1e-3 <= abs(value) < 1e4:
        return f"{value:g}"
    return f"{value:.0e}"


_TICK_STEPS = [1, 2, 2.5, 5, 10]


if os.environ.get("COURSE_PRESENTATION", "").strip().lower() in ("1", "true", "yes", "on"):
    presentation(True)
