"""Figures of whole networks: the diagram, forward and backward propagation, decision regions.

    draw_network(ax, layer_sizes, ...)      circles and connections on an existing Axes
    plot_network(layer_sizes, ...)          a network diagram (big layers drawn with a gap)
    plot_going_and_return(layer_sizes)      the "going" (forward) and "return" (backward) scheme
    plot_decision_regions(predict, x, y)    the class a model predicts at every point of the plane

Every function returns a matplotlib Figure (not attached to pyplot), except ``draw_network``.
"""
from __future__ import annotations

import numpy as np
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from .perceptron import CLASS_STYLE, draw_points
from .style import COLORS, new_figure, fs, lw

__all__ = ["draw_network", "plot_network", "plot_going_and_return", "plot_decision_regions",
           "decision_grid"]

LAYER_COLORS = [COLORS["blue"], COLORS["green"], COLORS["purple"], COLORS["orange"], COLORS["sky"]]


def _shown(size: int, max_shown: int) -> tuple[list[float], bool]:
    """Vertical positions (in [0, 1], first neuron on top) of the neurons drawn for a layer, and
    True if some are left out."""
    if size <= max_shown:
        gap = min(0.3, 0.9 / max(size - 1, 1))
        return list(0.5 + gap * ((size - 1) / 2 - np.arange(size))), False
    half = max_shown // 2
    top = np.linspace(0.95, 0.62, half)
    bottom = np.linspace(0.38, 0.05, half)
    return list(top) + list(bottom), True


def draw_network(ax, layer_sizes, layer_names=None, max_shown: int = 8, node_text=None,
                 edge_alpha: float = 0.35, xs=None, node_size: float = 260) -> list:
    """Draw neurons (circles) and every connection between neighbouring layers on ``ax``.

    layer_sizes: e.g. (784, 10, 10). Layers larger than ``max_shown`` are drawn with a gap
    marked by dots; ``node_size`` is the marker area in points^2. node_text: optional list (one
    per layer) of lists of strings written beside each drawn neuron (left of the inputs,
    above right of the others). Returns the (x, y) centre of every drawn neuron, layer by layer.
    """
    layer_sizes = [int(s) for s in layer_sizes]
    n_layers = len(layer_sizes)
    xs = list(xs) if xs is not None else list(np.linspace(0.08, 0.92, n_layers))
    positions = []
    for size in layer_sizes:
        ys, _ = _shown(size, max_shown)
        positions.append(ys)
    centres = [[(x, y) for y in ys] for x, ys in zip(xs, positions)]
    for left, right in zip(centres[:-1], centres[1:]):
        for a in left:
            for b in right:
                ax.plot([a[0], b[0]], [a[1], b[1]], color="grey", lw=lw(0.6), alpha=edge_alpha, zorder=1)
    for k, (size, layer) in enumerate(zip(layer_sizes, centres)):
        col = LAYER_COLORS[k % len(LAYER_COLORS)] if k else COLORS["black"]
        ax.scatter([p[0] for p in layer], [p[1] for p in layer], s=node_size, facecolors="white",
                   edgecolors=col, linewidths=2, zorder=3)
        for j, (x, y) in enumerate(layer):
            if node_text is not None and node_text[k] is not None and j < len(node_text[k]):
                left = k == 0 and n_layers > 1
                ax.text(x - 0.035 if left else x + 0.03, y + (0 if left else 0.1), node_text[k][j],
                        fontsize=fs(9), va="center", ha="right" if left else "left",
                        bbox={"fc": "white", "ec": "none", "alpha": 0.85, "pad": 0.5}, zorder=5)
        if size > max_shown:
            for dy in (-0.04, 0.0, 0.04):
                ax.plot([xs[k]], [0.5 + dy], "o", color=col, markersize=2.5)
        name = layer_names[k] if layer_names is not None else (
            "input" if k == 0 else "output" if k == n_layers - 1 else f"hidden {k}")
        ax.text(xs[k], -0.07, f"{name}\n{size} neuron{'s' if size > 1 else ''}"
                if k else f"{name}\n{size} value{'s' if size > 1 else ''}",
                ha="center", va="top", fontsize=fs(10))
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.22, 1.05)
    ax.set_aspect("auto")
    ax.axis("off")
    return centres


def plot_network(layer_sizes=(784, 10, 10), layer_names=None, title: str | None = None,
                 max_shown: int = 6, annotate_params: bool = True):
    """A diagram of a fully connected network; with ``annotate_params``, the parameter count of
    each layer (n inputs x m units weights + m biases) under its connections."""
    sizes = [int(s) for s in layer_sizes]
    fig, ax = new_figure(width=2.2 * len(sizes) + 1.5, height=4.2)
    draw_network(ax, sizes, layer_names, max_shown)
    if annotate_params:
        xs = np.linspace(0.08, 0.92, len(sizes))
        for k in range(1, len(sizes)):
            n, m = sizes[k - 1], sizes[k]
            ax.text((xs[k - 1] + xs[k]) / 2, 1.04, f"{n}x{m} + {m} = {n * m + m:,} parameters",
                    ha="center", fontsize=fs(10), color=COLORS["vermillion"])
        ax.set_ylim(-0.22, 1.12)
    ax.set_title(title or "A fully connected network: " + "-".join(map(str, sizes)))
    return fig


def plot_going_and_return(layer_sizes=(3, 4, 4, 2)):
    """The chapter's scheme of one learning iteration: the data go forward through the layers to
    a prediction ("going"), the loss compares it with the label, and the error comes back layer
    by layer ("return"), each neuron receiving its share; then the weights are updated."""
    fig, ax = new_figure(width=9.0, height=4.8)
    n = len(layer_sizes)
    xs = list(np.linspace(0.06, 0.66, n))
    draw_network(ax, layer_sizes, xs=xs, layer_names=["input"] + [f"layer {k}" for k in range(1, n)])
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.42, 1.3)
    forward = COLORS["blue"]
    backward = COLORS["vermillion"]
    ax.add_patch(FancyArrowPatch((0.04, 1.1), (0.8, 1.1), arrowstyle="-|>", mutation_scale=22, lw=lw(3),
                                 color=forward))
    ax.text(0.42, 1.16, "going: forward propagation, each layer transforms and passes on",
            ha="center", fontsize=fs(10), color=forward)
    ax.add_patch(FancyBboxPatch((0.79, 0.33), 0.18, 0.34, boxstyle="round,pad=0.01", fc="#f5f5f5",
                                ec="black", lw=lw(1.5)))
    ax.text(0.88, 0.5, "loss\nprediction\nvs label", ha="center", va="center", fontsize=fs(10))
    ax.add_patch(FancyArrowPatch((0.70, 0.5), (0.785, 0.5), arrowstyle="-|>", mutation_scale=16,
                                 lw=lw(2), color=forward))
    ax.add_patch(FancyArrowPatch((0.88, 0.3), (0.88, -0.3), arrowstyle="-", lw=lw(3), color=backward))
    ax.add_patch(FancyArrowPatch((0.88, -0.3), (0.04, -0.3), arrowstyle="-|>", mutation_scale=22,
                                 lw=lw(3), color=backward))
    ax.text(0.46, -0.4, "return: backpropagation, each neuron gets its share of the error, "
            "then every weight is updated", ha="center", fontsize=fs(10), color=backward)
    ax.set_title("One iteration of learning: going (forward) and return (backward)")
    return fig


def decision_grid(x, resolution: int = 100, margin: float = 0.5):
    """A grid covering the points x (n, 2): returns (gx, gy, points) with points (resolution^2, 2)."""
    x = np.asarray(x)
    lo, hi = x.min(axis=0) - margin, x.max(axis=0) + margin
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    return gx, gy, np.column_stack([gx.ravel(), gy.ravel()]).astype(np.float32)


def plot_decision_regions(predict, x, y, title: str = "Decision regions", resolution: int = 100,
                          ax=None):
    """Colour the plane by the class ``predict`` gives each point, and overlay the data.

    predict: a function of points (k, 2) returning probabilities: (k,) or (k, 1) for one sigmoid
    output (class 1 when > 0.5), or (k, K) for a softmax output (the most probable class).
    A Figure is returned, or the figure of ``ax`` when one is given.
    """
    gx, gy, points = decision_grid(x, resolution)
    out = np.asarray(predict(points))
    if out.ndim == 2 and out.shape[1] > 1:
        classes = out.argmax(axis=1)
    else:
        classes = (out.reshape(-1) > 0.5).astype(int)
    n_classes = max(int(np.max(y)) + 1, int(classes.max()) + 1)
    if ax is None:
        fig, ax = new_figure(width=4.4, height=4.0)
    else:
        fig = ax.figure
    tints = [CLASS_STYLE[k % len(CLASS_STYLE)]["tint"] for k in range(n_classes)]
    ax.contourf(gx, gy, classes.reshape(gx.shape), levels=np.arange(n_classes + 1) - 0.5,
                colors=tints, zorder=0)
    if n_classes == 2:
        ax.contour(gx, gy, classes.reshape(gx.shape), levels=[0.5], colors=["black"], linewidths=1.5)
    draw_points(ax, x, y, size=14)
    accuracy = float(np.mean(_predict_classes(predict, x) == np.asarray(y)))
    ax.set_title(f"{title}\ntraining accuracy {accuracy:.0%}", fontsize=fs(11))
    return fig


def _predict_classes(predict, x):
    out = np.asarray(predict(np.asarray(x, dtype=np.float32)))
    if out.ndim == 2 and out.shape[1] > 1:
        return out.argmax(axis=1)
    return (out.reshape(-1) > 0.5).astype(int)
