"""Figures for the activation functions of lesson 02: each function beside its derivative.

    activation_curve(name, x)                  f(x) and f'(x) as arrays (what the plots draw)
    plot_activation(name, x_min, x_max, x0)    one function, its derivative, and a tangent at x0
    plot_activations(names)                    the five of the chapter side by side
    plot_softmax(logits)                       scores in, a probability distribution out

Softmax acts on a whole vector of scores, not on one number. To draw it as a curve, the first
score varies along the x axis while the others are held at ``SOFTMAX_OTHERS`` = (0, 1); the curve
is the probability of that first class, and its slope is p (1 - p).
"""
from __future__ import annotations

import numpy as np

from .. import activations
from .render import moving
from .style import light_figure
from .style import COLORS, new_figure, fs, lw

__all__ = ["SOFTMAX_OTHERS", "RANGES", "USES", "activation_curve", "plot_activation", "ActivationFigure",
           "plot_activations", "plot_softmax"]

SOFTMAX_OTHERS = (0.0, 1.0)

#: The range of each function's values, as the lesson states it.
RANGES = {
    "linear": "(-inf, inf)", "sigmoid": "(0, 1)", "tanh": "(-1, 1)", "relu": "[0, inf)",
    "softmax": "(0, 1), rows sum to 1", "step": "{0, 1}",
}

#: Where each function is usually found.
USES = {
    "linear": "regression outputs",
    "sigmoid": "yes/no outputs (a probability)",
    "tanh": "hidden layers (centred on 0)",
    "relu": "hidden layers (the default)",
    "softmax": "outputs over exclusive classes",
    "step": "the perceptron (no gradient)",
}


def activation_curve(name: str, x) -> tuple[np.ndarray, np.ndarray]:
    """(f(x), f'(x)) for the activation ``name`` at the points x (1-D).

    For softmax: the probability of the first class when its score is x and the other scores
    are SOFTMAX_OTHERS, and the slope of that probability, p (1 - p).

    >>> f, df = activation_curve('relu', np.array([-1.0, 2.0]))
    >>> f, df
    (array([0., 2.]), array([0., 1.]))
    """
    x = np.asarray(x, dtype=np.float64)
    act = activations.get(name)
    if act.name == "softmax":
        scores = np.column_stack([x] + [np.full_like(x, s) for s in SOFTMAX_OTHERS])
        p = activations.softmax(scores)[:, 0]
        return p, p * (1 - p)
    return act.forward(x), activations.derivative(act.name, x)


def _draw(ax, name: str, x, legend: bool = True, x0: float | None = None):
    f, df = activation_curve(name, x)
    ax.plot(x, f, color=COLORS["blue"], label=f"{name}(x)")
    ax.plot(x, df, color=COLORS["vermillion"], linestyle="--", label="derivative")
    if x0 is not None:
        f0, df0 = (float(v[0]) for v in activation_curve(name, np.array([x0])))
        span = (x[-1] - x[0]) / 6
        tx = np.array([x0 - span, x0 + span])
        ax.plot(tx, f0 + df0 * (tx - x0), color=COLORS["green"], linestyle=":", lw=lw(2.5),
                label=f"slope at x0 = {df0:.3g}")
        ax.plot([x0], [f0], "o", color=COLORS["green"], markersize=7, zorder=4)
    ax.axhline(0, color="black", lw=lw(0.7))
    ax.axvline(0, color="black", lw=lw(0.7))
    ax.set_xlabel("x (the weighted sum z)" if name != "softmax" else "score of class 1")
    ax.set_ylabel("value")
    if legend:
        ax.legend(loc="upper left", fontsize=fs(9), framealpha=0.9)
    return f, df


class ActivationFigure:
    """The activation explorer's picture, built once and updated for each choice.

    One function f and its derivative on [x_min, x_max]; with ``tangent`` (the default), the
    tangent line at a point x0 and its slope in the legend. ``update(name, x_min, x_max, x0)``
    moves the lines of the existing figure instead of building a new one.
    """

    def __init__(self, tangent: bool = True, points: int = 201):
        self.points = points
        self.fig, (self.ax,) = light_figure(1, width=5.6, height=3.8, left=0.7, top=0.6)
        ax = self.ax
        self.f, = ax.plot([], [], color=COLORS["blue"], label="f(x)")
        self.df, = ax.plot([], [], color=COLORS["vermillion"], linestyle="--", label="derivative")
        self.tangent = self.point = None
        if tangent:
            self.tangent, = ax.plot([], [], color=COLORS["green"], linestyle=":", lw=lw(2.5), label="slope at x0")
            self.point, = ax.plot([], [], "o", color=COLORS["green"], markersize=7, zorder=4)
        ax.axhline(0, color="black", lw=lw(0.7))
        ax.axvline(0, color="black", lw=lw(0.7))
        ax.set_ylabel("value")
        self.legend = ax.legend(loc="upper left", fontsize=fs(9), framealpha=0.9)
        # What moves with x0 is "animated": the curves, axes and labels are drawn once per
        # function and range, and kept while x0 moves (course.plots.render).
        self._shown = None
        moving(self.fig, self.tangent, self.point, self.legend,
               *self.legend.get_texts())    # (a legend's texts would mark the Axes changed)

    def update(self, name: str = "sigmoid", x_min: float = -5.0, x_max: float = 5.0, x0: float | None = None):
        """Draw ``name`` on [x_min, x_max] (and its tangent at x0); returns the Figure."""
        if not x_min < x_max:
            raise ValueError(f"x_min must be smaller than x_max, got x_min={x_min}, x_max={x_max}.")
        x = np.linspace(x_min, x_max, self.points)
        f, df = activation_curve(name, x)
        curves_changed = self._shown != (name, x_min, x_max)
        if curves_changed:
            self.f.set_data(x, f)
            self.df.set_data(x, df)
        labels = [f"{name}(x)", "derivative"]
        if self.tangent is not None:
            show = x0 is not None
            self.tangent.set_visible(show)
            self.point.set_visible(show)
            if show:
                f0, df0 = (float(v[0]) for v in activation_curve(name, np.array([x0])))
                span = (x[-1] - x[0]) / 6
                tx = np.array([x0 - span, x0 + span])
                self.tangent.set_data(tx, f0 + df0 * (tx - x0))
                self.point.set_data([x0], [f0])
            labels.append(f"slope at x0 = {df0:.3g}" if show else "slope at x0")
        for line, text, label in zip((self.f, self.df, self.tangent), self.legend.get_texts(), labels):
            if line.get_label() != label:
                line.set_label(label)
            text.set_text(label)
        if curves_changed:          # the axes fit the curves; the tangent is cut at their edges
            moving = [a for a in (self.tangent, self.point) if a is not None]
            shown = [a.get_visible() for a in moving]
            for artist in moving:
                artist.set_visible(False)
            self.ax.relim(visible_only=True)
            self.ax.autoscale_view()
            for artist, visible in zip(moving, shown):
                artist.set_visible(visible)
            self.ax.set_xlabel("x (the weighted sum z)" if name != "softmax" else "score of class 1")
            self.ax.set_title(f"{name}: values in {RANGES.get(name, '?')}\nused for {USES.get(name, '?')}",
                              fontsize=fs(10))
            self._shown = (name, x_min, x_max)
        return self.fig


def plot_activation(name: str = "sigmoid", x_min: float = -5.0, x_max: float = 5.0,
                    x0: float | None = None, points: int = 201):
    """One activation and its derivative on [x_min, x_max]; with x0, the tangent line there
    (a new ``ActivationFigure``)."""
    return ActivationFigure(tangent=x0 is not None, points=points).update(name, x_min, x_max, x0)


def plot_activations(names=("linear", "sigmoid", "tanh", "relu", "softmax"), x_min: float = -5.0,
                     x_max: float = 5.0):
    """The chapter's activations side by side, each with its derivative (dashed)."""
    x = np.linspace(x_min, x_max, 201)
    fig, axes = new_figure(len(names), 1, width=2.9, height=3.0, sharey=False)
    axes = np.atleast_1d(axes)
    for i, (ax, name) in enumerate(zip(axes, names)):
        _draw(ax, name, x, legend=False)
        title = f"{name}\nrange {RANGES.get(name, '?')}"
        if name == "softmax":
            title = "softmax (scores x, 0, 1)\nrange (0, 1)"
        ax.set_title(title, fontsize=fs(10))
        if name in ("linear", "relu"):
            ax.set_ylim(-5.5, 5.5)
        else:
            ax.set_ylim(-1.15, 1.15)
        if i:
            ax.set_ylabel("")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, ["f(x)", "derivative f'(x)"], loc="outside lower center", ncols=2)
    fig.suptitle("Activation functions (solid) and their derivatives (dashed)")
    return fig


def plot_softmax(logits, class_names=None, title: str = "Softmax turns scores into probabilities"):
    """Two bar charts: the scores (logits) of each class, and softmax of them, which sum to 1."""
    logits = np.asarray(logits, dtype=np.float64)
    probs = activations.softmax(logits)
    names = list(class_names) if class_names is not None else [str(i) for i in range(len(logits))]
    fig, (left, right) = new_figure(2, 1, width=3.8, height=3.0)
    left.bar(names, logits, color=COLORS["sky"], edgecolor="black")
    left.axhline(0, color="black", lw=lw(0.7))
    left.set_title("scores z (any real numbers)")
    left.set_xlabel("class")
    left.set_ylabel("score")
    bars = right.bar(names, probs, color=COLORS["blue"], edgecolor="black")
    for bar, p in zip(bars, probs):
        right.text(bar.get_x() + bar.get_width() / 2, p + 0.02, f"{p:.2f}", ha="center", fontsize=fs(9))
    right.set_ylim(0, 1.1)
    right.set_title(f"softmax(z): sum = {probs.sum():.2f}")
    right.set_xlabel("class")
    right.set_ylabel("probability")
    fig.suptitle(title)
    return fig
