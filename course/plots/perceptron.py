"""Figures for lesson 01: a neuron, the learning loop, and a perceptron drawing its line.

    plot_neuron(weights, bias, inputs, activation)   one neuron, its weighted sum and activation
    plot_learning_loop()                             the six steps of learning, as a cycle
    plot_dataset(x, y, title)                        a 2-D data set, one marker per class
    plot_boundaries_per_epoch(x, y, history)         small multiples: the line after each epoch
    plot_errors_per_epoch(errors)                    mistakes per epoch, one line per run
    plot_perceptron_state(x, y, weights, bias, errors)  the line and the errors (the dashboard)

Every function returns a matplotlib Figure (not attached to pyplot).
"""
from __future__ import annotations

import numpy as np
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Polygon
from matplotlib.ticker import MaxNLocator

from ..perceptron import neuron_forward
from .render import moving
from .style import light_figure, round_up, set_limits
from .style import COLORS, LINESTYLES, color, new_figure, fs, lw

__all__ = [
    "CLASS_STYLE", "draw_points", "draw_line_boundary", "plot_neuron", "plot_learning_loop",
    "plot_dataset", "plot_boundaries_per_epoch", "plot_errors_per_epoch", "plot_perceptron_state",
    "PerceptronFigure", "half_planes",
]

#: Class k is drawn with colour, marker and region tint CLASS_STYLE[k]: shape and colour differ,
#: so the classes stay apart in greyscale and for colour-blind viewers.
CLASS_STYLE = [
    {"color": COLORS["blue"], "marker": "o", "tint": "#e3eef7"},
    {"color": COLORS["orange"], "marker": "^", "tint": "#fcf0d6"},
    {"color": COLORS["green"], "marker": "s", "tint": "#dcf2eb"},
    {"color": COLORS["purple"], "marker": "D", "tint": "#f6e6ef"},
]


def update_class_points(ax, points: dict, x, y, size: float) -> bool:
    """Show the points of each class of (x, y) on ax, reusing the scatter artists in ``points``
    (class -> collection, updated in place). Returns True when the classes changed and the
    artists were made anew (a legend then needs drawing again)."""
    classes = [int(k) for k in np.unique(y)]
    changed = sorted(points) != classes
    if changed:
        for collection in points.values():
            collection.remove()
        points.clear()
        for k in classes:
            style = CLASS_STYLE[k % len(CLASS_STYLE)]
            points[k] = ax.scatter([], [], s=size, c=style["color"], marker=style["marker"],
                                   edgecolors="black", linewidths=0.3, label=f"class {k}", zorder=3)
    for k, collection in points.items():
        collection.set_offsets(x[y == k])
    return changed


def draw_points(ax, x, y, size: float = 18, legend: bool = True, legend_loc: str = "best") -> None:
    """Scatter the points x (n, 2) of each class y (n,) with its own colour and marker."""
    x, y = np.asarray(x), np.asarray(y)
    for k in np.unique(y):
        style = CLASS_STYLE[int(k) % len(CLASS_STYLE)]
        pts = x[y == k]
        ax.scatter(pts[:, 0], pts[:, 1], s=size, c=style["color"], marker=style["marker"],
                   edgecolors="black", linewidths=0.3, label=f"class {int(k)}", zorder=3)
    ax.set_xlabel("x₁")
    ax.set_ylabel("x₂")
    if legend:
        ax.legend(loc=legend_loc, framealpha=0.9)


def _limits(x, margin: float = 0.4):
    x = np.asarray(x)
    lo, hi = x.min(axis=0) - margin, x.max(axis=0) + margin
    return (lo[0], hi[0]), (lo[1], hi[1])


def draw_line_boundary(ax, weights, bias, xlim, ylim, resolution: int = 60, shade: bool = True,
                       line_color: str = "black") -> None:
    """Draw the perceptron's line w1 x1 + w2 x2 + b = 0 and tint each side by its prediction.

    Works for any weights, vertical lines included (it contours the weighted sum on a grid).
    """
    gx, gy = np.meshgrid(np.linspace(*xlim, resolution), np.linspace(*ylim, resolution))
    z = weights[0] * gx + weights[1] * gy + bias
    if shade:
        ax.contourf(gx, gy, (z >= 0).astype(float), levels=[-0.5, 0.5, 1.5],
                    colors=[CLASS_STYLE[0]["tint"], CLASS_STYLE[1]["tint"]], zorder=0)
    if z.min() < 0 < z.max():
        ax.contour(gx, gy, z, levels=[0.0], colors=[line_color], linewidths=2, zorder=2)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)


# --- a neuron ---------------------------------------------------------------------------------
def plot_neuron(weights=(0.5, -1.0, 0.8), bias: float = 0.2, inputs=None,
                activation: str = "sigmoid", title: str | None = None):
    """A neuron j: inputs x_i, one weight w_ij per arrow, the sum z_j = sum_i x_i w_ij + b_j,
    then the activation. With ``inputs`` given, the numbers of that example are written in."""
    weights = np.asarray(weights, dtype=float)
    n = len(weights)
    fig, ax = new_figure(width=7.5, height=3.4)
    ax.set_xlim(0, 10)
    ax.set_ylim(-0.3, max(n, 3) + 0.3)
    ax.set_aspect("equal")
    ax.axis("off")
    ys = np.linspace(max(n, 3) - 0.5, 0.5, n)
    sum_xy, act_xy = (5.0, max(n, 3) / 2), (7.4, max(n, 3) / 2)
    for i, (w, yy) in enumerate(zip(weights, ys)):
        ax.add_patch(Circle((1.0, yy), 0.38, fc="white", ec=COLORS["blue"], lw=lw(2)))
        ax.text(1.0, yy, f"$x_{i + 1}$", ha="center", va="center", fontsize=fs(12))
        if inputs is not None:
            ax.text(0.5, yy, f"{inputs[i]:g}", ha="right", va="center", fontsize=fs(11),
                    color=COLORS["blue"])
        ax.add_patch(FancyArrowPatch((1.4, yy), (sum_xy[0] - 0.65, sum_xy[1]), arrowstyle="-|>",
                                     mutation_scale=14, lw=lw(1.2) + 1.5 * abs(w) / np.abs(weights).max(),
                                     color=COLORS["vermillion"] if w < 0 else COLORS["green"]))
        t = 0.45
        mx, my = 1.4 + t * (sum_xy[0] - 2.05), yy + t * (sum_xy[1] - yy)
        ax.text(mx, my + 0.22, f"$w_{{{i + 1}j}}$ = {w:g}", ha="center", fontsize=fs(10),
                bbox={"fc": "white", "ec": "none", "alpha": 0.85, "pad": 1})
    ax.add_patch(Circle(sum_xy, 0.62, fc="#eeeeee", ec="black", lw=lw(2)))
    ax.text(*sum_xy, r"$\Sigma$", ha="center", va="center", fontsize=fs(18))
    ax.text(sum_xy[0], sum_xy[1] - 1.0, f"+ $b_j$ = {bias:g}", ha="center", fontsize=fs(10))
    ax.add_patch(FancyArrowPatch((sum_xy[0] + 0.62, sum_xy[1]), (act_xy[0] - 0.75, act_xy[1]),
                                 arrowstyle="-|>", mutation_scale=14, lw=lw(1.5), color="black"))
    ax.add_patch(FancyBboxPatch((act_xy[0] - 0.75, act_xy[1] - 0.45), 1.5, 0.9,
                                boxstyle="round,pad=0.05", fc="white", ec=COLORS["purple"], lw=lw(2)))
    ax.text(*act_xy, f"{activation}", ha="center", va="center", fontsize=fs(10))
    ax.add_patch(FancyArrowPatch((act_xy[0] + 0.8, act_xy[1]), (9.6, act_xy[1]),
                                 arrowstyle="-|>", mutation_scale=14, lw=lw(1.5), color="black"))
    if inputs is not None:
        z, out = (float(v) for v in neuron_forward(inputs, weights, bias, activation))
        ax.text(6.2, sum_xy[1] + 0.3, f"$z_j$ = {z:.2f}", ha="center", fontsize=fs(10))
        ax.text(9.6, act_xy[1] + 0.3, f"out = {out:.3f}", ha="right", fontsize=fs(10))
    else:
        ax.text(6.2, sum_xy[1] + 0.3, "$z_j$", ha="center", fontsize=fs(11))
        ax.text(9.6, act_xy[1] + 0.3, "$f(z_j)$", ha="right", fontsize=fs(11))
    ax.set_title(title or r"A neuron: $z_j = \sum_i x_i\, w_{ij} + b_j$, output $f(z_j)$"
                 "\n(green arrows: positive weights, orange: negative; thicker = larger)")
    return fig


# --- the learning loop ------------------------------------------------------------------------
LOOP_STEPS = (
    ("1. initialise", "weights $w_{ij}$, biases $b_j$\n(random)"),
    ("2. forward", "pass examples through\nthe network: predictions"),
    ("3. loss", "compare predictions\nwith the labels"),
    ("4. backpropagate", "send the loss back to\nevery weight: gradients"),
    ("5. update", "move each weight against\nits gradient (descent)"),
    ("6. repeat", "steps 2-5 until the\nmodel is good enough"),
)


def plot_learning_loop(highlight=None):
    """The six steps of learning drawn as a cycle: 1 once, then 2 -> 3 -> 4 -> 5 -> 2 ...

    ``highlight``: a step number (1-6) or several, e.g. (3, 4), drawn in a stronger colour.
    """
    if highlight is None:
        highlight = ()
    elif isinstance(highlight, int):
        highlight = (highlight,)
    fig, ax = new_figure(width=8.5, height=5.0)
    ax.set_xlim(-2.3, 2.2)
    ax.set_ylim(-1.35, 1.45)
    ax.set_aspect("equal")
    ax.axis("off")
    # Steps 2..5 go round an ellipse clockwise (angles in degrees); 1 enters it from the upper
    # left, once; 6 sits in the middle, the instruction to go round again.
    rx, ry = 1.45, 1.0
    angles = {2: 90.0, 3: 0.0, 4: -90.0, 5: 180.0}
    half_gap = {2: 34.0, 3: 20.0, 4: 34.0, 5: 20.0}   # half the angle each box covers

    def on_ellipse(deg):
        return rx * np.cos(np.radians(deg)), ry * np.sin(np.radians(deg))

    boxes = {k: on_ellipse(a) for k, a in angles.items()}
    boxes.update({1: (-1.62, 1.12), 6: (0.0, 0.0)})
    for k, (name, text) in enumerate(LOOP_STEPS, start=1):
        cx, cy = boxes[k]
        strong = k in highlight
        ax.add_patch(FancyBboxPatch((cx - 0.6, cy - 0.27), 1.2, 0.54, boxstyle="round,pad=0.04",
                                    fc=CLASS_STYLE[0]["tint"] if strong else "white",
                                    ec=color(k - 1), lw=lw(3.5) if strong else 2, zorder=2))
        ax.text(cx, cy + 0.13, name, ha="center", va="center", fontsize=fs(11), weight="bold", zorder=3)
        ax.text(cx, cy - 0.1, text, ha="center", va="center", fontsize=fs(8.5), zorder=3)
    arrow = dict(arrowstyle="-|>", mutation_scale=16, lw=lw(1.8), color="black", zorder=1)
    ax.add_patch(FancyArrowPatch((-0.98, 1.12), (-0.64, 1.0), **arrow))
    for a, b in ((2, 3), (3, 4), (4, 5), (5, 2)):
        start_deg = angles[a] - half_gap[a]
        end_deg = (angles[b] if b != 2 else 90.0 - 360.0) + half_gap[b]
        if a == 5:
            start_deg = 180.0 - half_gap[5]
            end_deg = 90.0 + half_gap[2]
        ax.add_patch(FancyArrowPatch(on_ellipse(start_deg), on_ellipse(end_deg),
                                     connectionstyle="arc3,rad=-0.25", **arrow))
    ax.set_title("The learning loop: initialise once, then forward, loss, backpropagate, update, repeat")
    return fig


# --- a data set and the perceptron's line -----------------------------------------------------
def plot_dataset(x, y, title: str = "A two-class data set"):
    """The points of a 2-D data set, one colour and marker per class."""
    fig, ax = new_figure(width=4.4, height=4.0)
    draw_points(ax, x, y)
    ax.set_title(title)
    return fig


def plot_boundaries_per_epoch(x, y, history, epochs=None, ncols: int = 4, title: str | None = None):
    """Small multiples: the perceptron's line after each epoch (0 = the random start).

    history: a ``PerceptronHistory``; epochs: which epochs to draw (default all, up to 8).
    The panel title gives the mistakes made during that epoch.
    """
    n_epochs = len(history.errors)
    if epochs is None:
        epochs = list(range(min(n_epochs, 7) + 1))
    epochs = list(epochs)
    nrows = -(-len(epochs) // ncols)
    fig, axes = new_figure(ncols, nrows, width=2.6, height=2.5, sharex=True, sharey=True)
    axes = np.atleast_1d(axes).ravel()
    xlim, ylim = _limits(x)
    for ax, k in zip(axes, epochs):
        draw_line_boundary(ax, history.weights[k], history.biases[k], xlim, ylim)
        draw_points(ax, x, y, size=14, legend=False)
        ax.label_outer()
        label = "random start" if k == 0 else f"{int(history.errors[k - 1])} mistakes in epoch"
        ax.set_title(f"after epoch {k}\n{label}", fontsize=fs(10))
    for ax in axes[len(epochs):]:
        ax.axis("off")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(labels))
    fig.suptitle(title or "The perceptron's line after each epoch "
                 "(tint: the class it predicts on each side)")
    return fig


def plot_errors_per_epoch(errors, title: str = "Mistakes per epoch"):
    """Mistakes per epoch: ``errors`` is an array, or a dict label -> array for several runs."""
    runs = errors if isinstance(errors, dict) else {"perceptron": errors}
    fig, ax = new_figure(width=5.5, height=3.4)
    for i, (label, values) in enumerate(runs.items()):
        values = np.asarray(values)
        ax.plot(np.arange(1, len(values) + 1), values, marker="o", markersize=4, color=color(i),
                linestyle=LINESTYLES[i % len(LINESTYLES)], label=label)
    ax.axhline(0, color="black", lw=lw(0.8))
    ax.set_xlabel("epoch")
    ax.set_ylabel("misclassified examples")
    ax.set_title(title)
    if len(runs) > 1:
        ax.legend()
    return fig


def half_planes(weights, bias, xlim, ylim):
    """Cut the rectangle xlim x ylim along the line w1 x1 + w2 x2 + b = 0.

    Returns (positive, negative, crossing): the corners of the part where the weighted sum is
    >= 0 (the perceptron says class 1) and of the part where it is < 0, each a list of (x1, x2)
    points (empty when the line misses the rectangle on that side), and the two points where
    the line crosses the rectangle's border (empty when it does not cross).

    >>> pos, neg, cross = half_planes([1.0, 0.0], 0.0, (-1, 1), (-1, 1))   # the line x1 = 0
    >>> sorted(pos), cross
    ([(0.0, -1.0), (0.0, 1.0), (1, -1), (1, 1)], [(0.0, -1.0), (0.0, 1.0)])
    """
    (x0, x1), (y0, y1) = xlim, ylim
    corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    w1, w2 = float(weights[0]), float(weights[1])
    z = [w1 * cx + w2 * cy + float(bias) for cx, cy in corners]
    positive, negative, crossing = [], [], []
    for i in range(4):                                    # Sutherland-Hodgman, one edge at a time
        (px, py), (qx, qy) = corners[i], corners[(i + 1) % 4]
        zp, zq = z[i], z[(i + 1) % 4]
        (positive if zp >= 0 else negative).append(corners[i])
        if (zp >= 0) != (zq >= 0) and zp != zq:
            t = zp / (zp - zq)
            point = (px + t * (qx - px), py + t * (qy - py))
            positive.append(point)
            negative.append(point)
            crossing.append(point)
    if not (min(z) < 0 < max(z)):
        crossing = []
    return positive, negative, crossing


class PerceptronFigure:
    """The perceptron dashboard's picture, built once and updated for each run.

    Left: the data, the perceptron's line and the side of it that each class is predicted on;
    right: the mistakes made in each epoch. ``update(x, y, weights, bias, errors, title)``
    moves the points, the line and the curve of an existing figure instead of building a new one
    (a dashboard redraws many times; building the axes is a good part of a redraw).
    """

    def __init__(self, width: float = 3.9, height: float = 3.4, top: float = 0.75):
        self.fig, (self.left, self.right) = light_figure(2, width=width, height=height, top=top)
        left, right = self.left, self.right
        self.tints = [left.add_patch(Polygon(np.zeros((3, 2)), closed=True, facecolor=CLASS_STYLE[k]["tint"],
                                             edgecolor="none", zorder=0)) for k in (0, 1)]
        self.line, = left.plot([], [], color="black", linewidth=lw(2), zorder=2)
        self.points: dict = {}
        left.set_xlabel("x₁")
        left.set_ylabel("x₂")
        self.errors, = right.plot([], [], marker="o", markersize=3, color=color(0))
        right.axhline(0, color="black", lw=lw(0.8))
        right.xaxis.set_major_locator(MaxNLocator(5, integer=True))
        right.yaxis.set_major_locator(MaxNLocator(5, integer=True, steps=[1, 2, 2.5, 5, 10]))
        right.set_xlabel("epoch")
        right.set_ylabel("misclassified examples")
        left.set_title(" ")
        right.set_title(" ")
        left.grid(False)                    # the two tints cover the plane
        # What changes from one run to the next is "animated": the axes and their labels are
        # drawn once and kept until a limit changes (course.plots.render). The epoch axis ends
        # at 1, 2 or 5 times a power of ten, so a drag over the epochs seldom changes it.
        self.title = moving(self.fig, *self.tints, self.line, self.errors, left.title, right.title, title="")

    def _show_points(self, x, y) -> None:
        if update_class_points(self.left, self.points, x, y, size=12):   # new classes: new legend
            # a fixed place: loc="best" searches the points and costs a quarter of a redraw
            legend = self.left.legend(loc="upper center", ncols=2, fontsize=fs(9), framealpha=0.9)
            moving(self.fig, legend)        # over the points, which move
        moving(self.fig, *self.points.values())

    def update(self, x, y, weights, bias, errors, title: str = ""):
        """Show the data (x, y), the line of (weights, bias) and the mistakes per epoch."""
        x, y = np.asarray(x), np.asarray(y)
        self._show_points(x, y)
        xlim, (low, high) = _limits(x)
        ylim = (low, high + 0.22 * (high - low))  # room for the legend above the points
        positive, negative, crossing = half_planes(weights, bias, xlim, ylim)
        for tint, corners in zip(self.tints, (negative, positive)):
            tint.set_visible(len(corners) >= 3)
            if len(corners) >= 3:
                tint.set_xy(corners)
        self.line.set_data([p[0] for p in crossing], [p[1] for p in crossing])
        set_limits(self.left, xlim, ylim)
        errors = np.asarray(errors)
        # titles by set_text: set_title places the Axes' three titles again (drawing it again)
        self.left.title.set_text(f"line after {len(errors)} epoch{'' if len(errors) == 1 else 's'}")
        self.errors.set_data(np.arange(1, len(errors) + 1), errors)
        top = float(errors.max()) if len(errors) else 1.0
        last_epoch = max(round_up(len(errors)), 2)             # at least two whole epochs on the axis
        set_limits(self.right, (0.5, last_epoch + 0.5), (-0.5, round_up(max(top, 1.0)) * 1.08 + 0.5))
        self.right.title.set_text("mistakes per epoch" + (f" (last: {int(errors[-1])})" if len(errors) else ""))
        self.title.set_text(title)
        return self.fig



def plot_perceptron_state(x, y, weights, bias, errors, title: str = ""):
    """Two panels: the data with the final line, and the mistakes per epoch (the dashboard's
    figure: a new ``PerceptronFigure``)."""
    return PerceptronFigure(top=0.75 if title else 0.45).update(x, y, weights, bias, errors, title)
