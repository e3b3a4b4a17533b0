"""Figures for lesson 03: losses, the backward pass, gradient checks, vanishing gradients.

    plot_losses_vs_prediction()              MSE and cross-entropy for a true label of 1
    plot_error_shares(trace)                 a tiny network with each neuron's share of the error
    plot_gradient_check(names, errors)       relative error of each weight's gradient (log scale)
    plot_gradient_norms(norms)               ||dL/dkernel|| per layer, one line per network
    plot_backprop_step(...)                  the backprop stepper's figure: loss, gradients, regions
    plot_computation_graph(graph)            a 2-2-1 network as a computation graph: values
                                             forward, gradients backward (by hand)

Every function returns a matplotlib Figure (not attached to pyplot).
"""
from __future__ import annotations

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import offset_copy

from .network import draw_network
from .perceptron import CLASS_STYLE, update_class_points
from .render import moving
from .style import (COLORS, LINESTYLES, color, light_figure, log_ticks, new_figure, fs, lw, presenting,
                    round_up, set_limits)

__all__ = ["plot_losses_vs_prediction", "plot_error_shares", "plot_gradient_check",
           "plot_gradient_norms", "stack_heatmaps", "plot_backprop_step", "BackpropFigure",
           "plot_computation_graph"]


def plot_losses_vs_prediction():
    """For one example whose label is 1: the loss as the predicted probability p goes from wrong
    (0) to right (1), and the gradient that reaches the sigmoid's input z (p = sigmoid(z)).

        MSE:            L = (1 - p)^2,   dL/dz = -2 (1 - p) p (1 - p)
        cross-entropy:  L = -log p,      dL/dz = p - 1
    """
    p = np.linspace(0.005, 0.995, 199)
    fig, (left, right) = new_figure(2, 1, width=4.4, height=3.4)
    left.plot(p, (1 - p) ** 2, color=COLORS["blue"], label="mean squared error $(1-p)^2$")
    left.plot(p, -np.log(p), color=COLORS["vermillion"], linestyle="--",
              label="cross-entropy $-\\log p$")
    left.set_ylim(0, 5)
    left.set_xlabel("predicted probability p of the true class")
    left.set_ylabel("loss")
    left.set_title("Loss for a label of 1")
    left.legend()
    right.plot(p, np.abs(-2 * (1 - p) * p * (1 - p)), color=COLORS["blue"], label="mean squared error")
    right.plot(p, np.abs(p - 1), color=COLORS["vermillion"], linestyle="--", label="cross-entropy")
    right.set_xlabel("predicted probability p of the true class")
    right.set_ylabel("|dL/dz| at the sigmoid's input")
    right.set_title("Gradient that reaches the output neuron")
    right.legend()
    fig.suptitle("Confidently wrong (p near 0): cross-entropy pushes hard, "
                 "MSE through a sigmoid barely moves")
    return fig


def plot_error_shares(trace, example: int = 0, title: str | None = None):
    """A tiny network annotated with the numbers of the backward pass for one example.

    trace: a ``BackpropTrace`` (course.analysis.backprop_trace). Each neuron shows dz = dL/dz,
    the error signal it passes back; each hidden neuron also shows its share dout, received from
    the layer above as dz_above @ kernel_above.T, before its own activation's slope scales it.
    """
    layers = trace.layers
    sizes = [layers[0].x.shape[1]] + [lt.dz.shape[1] for lt in layers]
    texts = [[f"x{i + 1} = {v:+.2f}" for i, v in enumerate(layers[0].x[example])]]
    for k, lt in enumerate(layers):
        last = k == len(layers) - 1
        rows = []
        for j in range(lt.dz.shape[1]):
            if last:
                rows.append(f"out {lt.out[example, j]:.3f}\ndz = {lt.dz[example, j]:+.4f}")
            else:
                rows.append(f"share {lt.dout[example, j]:+.4f}\n"
                            f"× slope {_slope(lt, example, j):.3f}\n= dz {lt.dz[example, j]:+.4f}")
        texts.append(rows)
    fig, ax = new_figure(width=2.9 * len(sizes), height=3.9)
    centres = draw_network(ax, sizes, node_text=texts, edge_alpha=0.0, node_size=420,
                           xs=np.linspace(0.16, 0.8, len(sizes)),
                           layer_names=["input"] + [f"{lt.name} ({lt.activation})" for lt in layers])
    # connections coloured by sign and labelled with the weight (what the error is multiplied by)
    for k, lt in enumerate(layers):
        kernel = lt.kernel
        for i, a in enumerate(centres[k]):
            for j, b in enumerate(centres[k + 1]):
                w = kernel[i, j]
                ax.plot([a[0], b[0]], [a[1], b[1]], color=COLORS["green"] if w >= 0 else COLORS["vermillion"],
                        lw=lw(0.8) + 1.2 * min(abs(w), 2.0), alpha=0.7, zorder=1)
                t = 0.78 - 0.4 * j / max(len(centres[k + 1]) - 1, 1)
                ax.text(a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]), f"{w:+.1f}", fontsize=fs(8),
                        ha="center", va="center", zorder=4,
                        bbox={"fc": "white", "ec": "none", "pad": 0.3, "alpha": 0.9})
    ax.set_xlim(0, 1.02)
    ax.set_title(title or f"The return for one example (loss {trace.loss:.4f}): each neuron's "
                 "share of the error", fontsize=fs(11))
    return fig


def _slope(layer_trace, example: int, j: int) -> float:
    dout, dz = layer_trace.dout[example, j], layer_trace.dz[example, j]
    if dout != 0:
        return float(dz / dout)
    out = layer_trace.out[example, j]
    return {"sigmoid": out * (1 - out), "tanh": 1 - out * out, "relu": float(out > 0)}.get(
        layer_trace.activation, 1.0)


def plot_gradient_check(names, errors, title: str = "Gradient check: analytic vs numerical"):
    """Bar chart (log scale) of the relative error of each weight array's gradient.

    Reference lines: below 1e-7 the gradients agree (float64); above 1e-2 something is wrong.
    """
    errors = np.maximum(np.asarray(errors, dtype=float), 1e-18)
    fig, ax = new_figure(width=6.0, height=3.4)
    ax.bar(list(names), errors, color=COLORS["blue"], edgecolor="black", label="relative error")
    ax.axhline(1e-7, color=COLORS["green"], linestyle="--", label="1e-7: correct (float64)")
    ax.axhline(1e-2, color=COLORS["vermillion"], linestyle=":", label="1e-2: a bug")
    ax.set_yscale("log")
    ax.set_ylim(1e-17, 1)
    ax.set_xlabel("weight array")
    ax.set_ylabel("relative error")
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize=fs(9))
    ax.tick_params(axis="x", labelrotation=30)
    return fig


def plot_gradient_norms(norms, title: str = "Gradient size per layer"):
    """||dL/dkernel|| per layer (1 = first hidden layer) on a log scale.

    norms: dict label -> array (n_layers,), e.g. {'sigmoid': ..., 'relu': ...}.
    """
    fig, ax = new_figure(width=6.2, height=3.8)
    for i, (label, values) in enumerate(norms.items()):
        values = np.maximum(np.asarray(values, dtype=float), 1e-30)
        ax.plot(np.arange(1, len(values) + 1), values, marker="o", markersize=5, color=color(i),
                linestyle=LINESTYLES[i % len(LINESTYLES)], label=label)
    ax.set_yscale("log")
    ax.set_xlabel("layer (1 = first hidden layer; the last is the output)")
    ax.set_ylabel("||dL/dkernel||")
    ax.set_title(title)
    ax.legend()
    return fig


def stack_heatmaps(arrays, gap: int = 1):
    """Place 2-D arrays side by side, top-aligned, each scaled to [-1, 1] by its own largest |value|.

    Returns (canvas, spans, scales): canvas (max rows, total columns) with NaN in the gaps and
    below shorter arrays; spans[k] = (first column, last column + 1) of array k; scales[k] its
    largest |value| (what 1 stands for). Scaling each array by itself keeps a layer whose
    gradients are a million times smaller visible, and ``scales`` says how small they are.

    >>> canvas, spans, scales = stack_heatmaps([np.array([[2.0, -1.0]]), np.array([[0.5], [0.25]])])
    >>> canvas
    array([[ 1. , -0.5,  nan,  1. ],
           [ nan,  nan,  nan,  0.5]])
    >>> spans, scales
    ([(0, 2), (3, 4)], [2.0, 0.5])
    """
    arrays = [np.atleast_2d(np.asarray(a, dtype=float)) for a in arrays]
    rows = max(a.shape[0] for a in arrays)
    width = sum(a.shape[1] for a in arrays) + gap * (len(arrays) - 1)
    canvas = np.full((rows, width), np.nan)
    spans, scales, col = [], [], 0
    for a in arrays:
        scale = float(np.abs(a).max()) if a.size else 0.0
        canvas[:a.shape[0], col:col + a.shape[1]] = a / scale if scale > 0 else a
        spans.append((col, col + a.shape[1]))
        scales.append(scale)
        col += a.shape[1] + gap
    return canvas, spans, scales


def _short(name: str) -> str:
    """hidden_1 -> h1, output -> out: a layer's name under a narrow heat-map column."""
    if name.startswith("hidden_"):
        return "h" + name[len("hidden_"):]
    return {"output": "out"}.get(name, name)


class BackpropFigure:
    """The backprop stepper's figure, one row of four panels, built once and updated each step:

    the loss at each step so far; ||dkernel|| of each layer at each step so far (log scale);
    each layer's dkernel now, side by side, each scaled by its own largest |value| (given below
    it); the class the network predicts now. ``update(...)`` moves the lines, the heat map and
    the regions of the existing figure: building four axes costs more than drawing them.
    """

    def __init__(self, layer_names, title: bool = True):
        self.layer_names = list(layer_names)
        # wider on a projector: three layers' names and scales under the heat map
        self.fig, axes = light_figure(4, width=3.2 if presenting() else 2.9, height=3.1, top=0.75 if title else 0.45,
                                      bottom=0.75, wspace=1.2)
        self.loss_ax, self.norm_ax, self.heat_ax, self.region_ax = loss_ax, norm_ax, heat_ax, region_ax = axes
        self.loss, = loss_ax.plot([], [], color=COLORS["blue"])
        self.last, = loss_ax.plot([], [], "o", color=COLORS["blue"])
        loss_ax.set_xlabel("step")
        loss_ax.set_ylabel("loss")
        loss_ax.set_title("loss", fontsize=fs(10))
        self.norms = [norm_ax.plot([], [], color=color(k), linestyle=LINESTYLES[k % len(LINESTYLES)],
                                   label=name)[0] for k, name in enumerate(self.layer_names)]
        norm_ax.set_yscale("log")
        norm_ax.set_xlabel("step")
        norm_ax.set_ylabel("||dkernel||")
        norm_ax.set_title("gradient size per layer", fontsize=fs(10))
        norm_ax.legend(fontsize=fs(8), loc="upper right", framealpha=0.8)
        self.heat = None
        heat_ax.grid(False)
        heat_ax.set_yticks([])
        heat_ax.set_ylabel("input of the layer")
        heat_ax.set_title("dkernel now (orange +, purple -)", fontsize=fs(10))
        self.regions = None
        self.points: dict = {}
        region_ax.set_xlabel("x₁")
        region_ax.set_ylabel("x₂")
        region_ax.set_title("predicted class now", fontsize=fs(10))
        # few ticks: creating and measuring tick labels is most of the cost of a redraw
        for ax in (loss_ax, norm_ax, region_ax):
            ax.xaxis.set_major_locator(MaxNLocator(4, integer=ax is not region_ax))
        loss_ax.yaxis.set_major_locator(MaxNLocator(4))
        region_ax.yaxis.set_major_locator(MaxNLocator(4))
        region_ax.grid(False)
        # What changes from one step to the next is "animated": the axes, ticks and labels are
        # drawn once and kept until a limit or a label changes (course.plots.render). The limits
        # change seldom: the steps axis ends at 1, 2 or 5 times a power of ten, the loss axis
        # at 0 and a round number, the gradient axis at whole decades.
        self._scale_texts: list = []
        self.title = moving(self.fig, self.loss, self.last, *self.norms, norm_ax.get_legend(), loss_ax.title,
                            title="", fontsize=fs(11))

    def update(self, steps: int, losses, norm_history, dkernels, regions=None, x=None, y=None, title: str = ""):
        """Show the state after ``steps`` updates (see ``plot_backprop_step``); returns the Figure."""
        losses = np.asarray(losses, dtype=float)
        t = np.arange(len(losses))
        self.loss.set_data(t, losses)
        self.last.set_data(t[-1:], losses[-1:])
        last_step = round_up(max(len(losses) - 1, 1))
        steps_axis = (-0.05 * last_step, 1.05 * last_step)
        finite = losses[np.isfinite(losses)]
        set_limits(self.loss_ax, steps_axis, (0.0, 1.05 * round_up(finite.max())) if finite.size else None)
        self.loss_ax.title.set_text(f"loss after {steps} steps: {losses[-1]:.3f}")   # not set_title:
        # that places all three titles of the Axes again, which means drawing the Axes again
        norm_history = np.asarray(norm_history, dtype=float).reshape(len(t), -1)
        for k, line in enumerate(self.norms):
            line.set_data(t, np.maximum(norm_history[:, k], 1e-12))
        positive = norm_history[(norm_history > 0) & np.isfinite(norm_history)]
        decades = None
        if positive.size:
            low, high = np.floor(np.log10(positive.min())), np.ceil(np.log10(positive.max()))
            decades = (10.0 ** low, 10.0 ** max(high, low + 1))
        if set_limits(self.norm_ax, steps_axis, decades) and decades:
            # plain labels such as 1e-02, more ticks when the sizes span little
            log_ticks(self.norm_ax.yaxis, *decades)
        self._show_dkernels(dkernels)
        if regions is not None:
            gx, gy, probs = regions
            self._show_regions(gx, gy, np.asarray(probs).reshape(gx.shape))
        if x is not None:
            self._show_points(np.asarray(x), np.asarray(y).reshape(-1))
        self.title.set_text(title)
        return self.fig

    def _show_regions(self, gx, gy, probs) -> None:
        """The class predicted on the grid (gx, gy): probabilities above 0.5 in the tint of
        class 1, the others in that of class 0."""
        extent = (gx.min(), gx.max(), gy.min(), gy.max())
        classes = (probs > 0.5).astype(float)
        if self.regions is None:
            self.regions = self.region_ax.imshow(
                classes, extent=extent, origin="lower", aspect="auto", interpolation="nearest", zorder=0,
                cmap=ListedColormap([CLASS_STYLE[0]["tint"], CLASS_STYLE[1]["tint"]]), vmin=0, vmax=1)
            moving(self.fig, self.regions)
        else:
            self.regions.set_data(classes)
            if tuple(self.regions.get_extent()) != extent:
                self.regions.set_extent(extent)
        set_limits(self.region_ax, extent[:2], extent[2:])

    def _show_dkernels(self, dkernels) -> None:
        canvas, spans, scales = stack_heatmaps(dkernels)
        data = np.ma.masked_invalid(canvas)
        rows, cols = canvas.shape
        if self.heat is None or self.heat.get_array().shape != canvas.shape:
            if self.heat is not None:
                self.heat.remove()
            for text in self._scale_texts:
                text.remove()
            self.heat = self.heat_ax.imshow(data, cmap="PuOr_r", vmin=-1, vmax=1, aspect="auto",
                                            interpolation="nearest")
            moving(self.fig, self.heat)
            self.heat_ax.set_xlim(-0.5, cols - 0.5)
            self.heat_ax.set_ylim(rows - 0.5, -0.5)
            centres = [(a + b - 1) / 2 for a, b in spans]
            # larger text on a projector, the same room: short names ("h1", "out")
            names = [_short(name) if presenting() else name for name in self.layer_names]
            self.heat_ax.set_xticks(centres, names, fontsize=fs(7.5))
            # each layer's scale on a line under its name: it changes at every step, the names
            # never, so it is a text of its own (animated), not part of the tick labels
            axis = self.heat_ax.xaxis
            below = axis.get_tick_padding() + axis.get_major_ticks()[0].get_pad() + 1.2 * fs(7.5)
            under_names = offset_copy(self.heat_ax.get_xaxis_transform(), fig=self.fig, y=-below, units="points")
            self._scale_texts = [self.heat_ax.text(x, 0, "", transform=under_names, ha="center", va="top",
                                                   fontsize=fs(7.5), animated=True, clip_on=False)
                                 for x in centres]
        else:
            self.heat.set_data(data)
        for text, scale in zip(self._scale_texts, scales):
            text.set_text(f"{scale:.0e}" if presenting() else f"max {scale:.0e}")

    def _show_points(self, x, y) -> None:
        update_class_points(self.region_ax, self.points, x, y, size=10)
        moving(self.fig, *self.points.values())



def plot_backprop_step(steps: int, losses, norm_history, dkernels, layer_names, regions=None,
                       x=None, y=None, title: str = ""):
    """The backprop stepper's figure, one row of four panels (a new ``BackpropFigure``):

    the loss at each step so far; ||dkernel|| of each layer at each step so far (log scale);
    each layer's dkernel now, side by side, each scaled by its own largest |value| (given below
    it); the class the network predicts now (``regions`` = (gx, gy, probabilities)).
    """
    figure = BackpropFigure(layer_names, title=bool(title))
    return figure.update(steps, losses, norm_history, dkernels, regions=regions, x=x, y=y, title=title)


_GRAPH_NODES = {"x1": (0.0, 1.0), "x2": (0.0, 0.0), "z1": (2.2, 1.0), "z2": (2.2, 0.0),
                "h1": (3.7, 1.0), "h2": (3.7, 0.0), "z3": (5.3, 0.5), "p": (6.6, 0.5), "L": (7.9, 0.5)}
_GRAPH_EDGES = [("x1", "z1", "w11"), ("x2", "z1", "w21"), ("x1", "z2", "w12"), ("x2", "z2", "w22"),
                ("z1", "h1", "σ"), ("z2", "h2", "σ"), ("h1", "z3", "v1"), ("h2", "z3", "v2"),
                ("z3", "p", "σ"), ("p", "L", "(p-y)²")]
#: where each weight's label sits: fraction along its edge, and a vertical offset
_LABEL_AT = {"w11": (0.5, 0.16), "w22": (0.5, -0.16), "w21": (0.36, 0.0), "w12": (0.36, 0.0),
             "v1": (0.62, 0.2), "v2": (0.45, -0.2)}
_BOX = {"fc": "white", "ec": COLORS["vermillion"], "pad": 0.25, "alpha": 0.95, "lw": 0.6}


def plot_computation_graph(graph, title: str | None = None):
    """A 2-2-1 network drawn as a computation graph: each node with its value (forward, blue)
    and its gradient dL/dnode (backward, vermillion); each weight with its value and dL/dweight.

    graph: a ``HandGraph`` from ``course.derivations.backprop_by_hand``.
    """
    fig, ax = new_figure(width=11.5, height=5.0)
    value, grad, wgrad, w = graph.value, graph.grad, graph.weight_grad, graph.weights
    for a, b, label in _GRAPH_EDGES:
        (xa, ya), (xb, yb) = _GRAPH_NODES[a], _GRAPH_NODES[b]
        dx, dy = xb - xa, yb - ya
        norm = float(np.hypot(dx, dy))
        shrink = 0.22 / norm
        ax.annotate("", xy=(xb - shrink * dx, yb - shrink * dy), xytext=(xa + shrink * dx, ya + shrink * dy),
                    arrowprops=dict(arrowstyle="->", color="grey", lw=1.2), zorder=1)
        if label in w:
            t, offset = _LABEL_AT[label]
            ax.text(xa + t * dx, ya + t * dy + offset,
                    f"{label} = {w[label]:+.2f}\n∂L/∂{label} = {wgrad[label]:+.4f}", fontsize=fs(8),
                    ha="center", va="center", zorder=4, bbox=_BOX)
        else:
            ax.text(xa + dx / 2, ya + dy / 2 + 0.05, label, fontsize=fs(10), ha="center", va="bottom",
                    color="dimgrey")
    for name, (x, y) in _GRAPH_NODES.items():
        ax.scatter([x], [y], s=900, facecolors="white", edgecolors=COLORS["black"], linewidths=1.5, zorder=3)
        ax.text(x, y, name, ha="center", va="center", fontsize=fs(11), zorder=5, weight="bold")
        ax.text(x, y + 0.17, f"{value[name]:+.4f}", ha="center", va="bottom", fontsize=fs(9),
                color=COLORS["blue"], zorder=5)
        if name in grad:
            ax.text(x, y - 0.17, f"∂L/∂{name} = {grad[name]:+.4f}", ha="center", va="top", fontsize=fs(8.5),
                    color=COLORS["vermillion"], zorder=5)
    for name, (x, y), dy in (("b1", _GRAPH_NODES["z1"], 0.5), ("b2", _GRAPH_NODES["z2"], -0.5),
                             ("c", (_GRAPH_NODES["z3"][0] + 0.65, _GRAPH_NODES["z3"][1]), -0.55)):
        ax.text(x, y + dy, f"+ {name} = {w[name]:+.2f}\n∂L/∂{name} = {wgrad[name]:+.4f}",
                fontsize=fs(8), ha="center", va="center", zorder=4, bbox=_BOX)
    ax.annotate("", xy=(7.4, -0.9), xytext=(0.5, -0.9), arrowprops=dict(arrowstyle="->", color=COLORS["blue"], lw=2))
    ax.text(4.0, -0.86, "forward: values (blue, above each node)", color=COLORS["blue"], ha="center",
            va="bottom", fontsize=fs(9))
    ax.annotate("", xy=(0.5, -1.1), xytext=(7.4, -1.1),
                arrowprops=dict(arrowstyle="->", color=COLORS["vermillion"], lw=2))
    ax.text(4.0, -1.14, "backward: gradients ∂L/∂node (orange, below each node); each is the "
            "gradient arriving times the node's local derivative", color=COLORS["vermillion"],
            ha="center", va="top", fontsize=fs(9))
    ax.set_xlim(-0.6, 8.5)
    ax.set_ylim(-1.45, 1.75)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    ax.set_xlabel("input  →  hidden pre-activation z  →  hidden output h  →  output  →  loss")
    ax.set_ylabel("hidden unit 1 (top), 2 (bottom)")
    ax.set_title(title or f"Backpropagation by hand: one example (x1 = {value['x1']:g}, "
                 f"x2 = {value['x2']:g}, y = {value['y']:g}), loss {value['L']:.4f}")
    return fig
