"""Pictures of weight initialisation: what the signal looks like in every layer at the start.

    plot_activation_histograms  a grid: one row per initialiser, one column per layer
    plot_layer_spread           spread of the activations and of the gradients, layer by layer
    plot_symmetry               the first-layer weights during training, zeros against random
"""
from __future__ import annotations

import numpy as np

from .style import LINESTYLES, color, new_figure, fs, lw

__all__ = ["plot_activation_histograms", "plot_layer_spread", "plot_symmetry"]


def plot_activation_histograms(stats: dict, layers=None, title: str = "Activations in each layer",
                               bins: int = 40, value_range=None):
    """Histograms of each hidden layer's outputs; rows = initialisers, columns = layers.

    stats: label -> LayerStats (``course.runs.hyperparameters.layer_statistics``). layers: 0-based
    indices of the layers to show (default: up to four, spread over the depth). value_range:
    (low, high) of the histograms; by default each row chooses its own (the printed spread
    tells how wide the values really are).
    """
    depth = len(next(iter(stats.values())).activations)
    if layers is None:
        layers = sorted(set(np.linspace(0, depth - 1, min(depth, 4)).round().astype(int).tolist()))
    fig, axes = new_figure(ncols=len(layers), nrows=len(stats), width=2.6, height=1.9, squeeze=False)
    for r, (label, s) in enumerate(stats.items()):
        row_values = np.concatenate([s.activations[j].ravel() for j in layers])
        row_values = row_values[np.isfinite(row_values)]
        if value_range is not None:
            lo, hi = value_range
        elif row_values.size and np.ptp(row_values) > 0:
            lo, hi = np.quantile(row_values, [0.001, 0.999])
            lo, hi = (lo, hi) if hi > lo else (row_values.min(), row_values.max())
        else:
            lo, hi = -1.0, 1.0
        for c, j in enumerate(layers):
            ax = axes[r][c]
            values = s.activations[j].ravel()
            ax.hist(values[np.isfinite(values)], bins=bins, range=(lo, hi), color=color(r), alpha=0.85)
            ax.set_yticks([])
            ax.set_title(f"layer {j + 1}: std {s.activation_std[j]:.2g}", fontsize=fs(9))
            if c == 0:
                ax.set_ylabel(label, fontsize=fs(9))
            ax.tick_params(labelsize=fs(7))
    fig.supxlabel("output value of the layer's units (each row shares one range)", fontsize=fs(10))
    fig.supylabel("number of outputs (one row per initialisation)", fontsize=fs(10))
    fig.suptitle(title)
    return fig


def plot_layer_spread(stats: dict, title: str = "How the signal travels through the layers"):
    """Left: standard deviation of each layer's outputs; right: of each layer's kernel gradient.

    Both on a log scale: a line that falls is vanishing, a line that climbs is exploding.
    Zero values (nothing flows at all) are drawn at the bottom of the axis, marked 'x'.
    """
    fig, (left, right) = new_figure(ncols=2, width=4.8, height=3.6)
    for ax, field, name, heading in ((left, "activation_std", "std of the layer's outputs", "Spread of the outputs"),
                                     (right, "gradient_std", "std of dL/dkernel", "Spread of the gradients")):
        floor = None
        for s in stats.values():
            values = getattr(s, field)
            positive = values[np.isfinite(values) & (values > 0)]
            if positive.size:
                floor = positive.min() if floor is None else min(floor, positive.min())
        floor = (floor or 1.0) / 10
        for i, (label, s) in enumerate(stats.items()):
            values = np.asarray(getattr(s, field), dtype=float)
            layers = np.arange(1, len(values) + 1)
            zero = ~(values > 0)
            ax.plot(layers, np.where(zero, floor, values), color=color(i),
                    linestyle=LINESTYLES[i % len(LINESTYLES)], marker="o", markersize=4, label=label)
            if zero.any():
                ax.plot(layers[zero], np.full(zero.sum(), floor), "x", color=color(i), markersize=8)
        ax.set_yscale("log")
        ax.set_xlabel("hidden layer")
        ax.set_ylabel(name + " (log scale)")
        ax.set_title(heading)
    fig.legend(*left.get_legend_handles_labels(), loc="outside lower center", ncol=3, fontsize=fs(9))
    fig.suptitle(title)
    return fig


def plot_symmetry(runs: dict, input_index: int = 0, title: str = "Breaking the symmetry"):
    """One panel per run: the weight from input ``input_index`` to each hidden unit, per epoch.

    runs: label -> SymmetryRun (``course.runs.hyperparameters.symmetry_run``). With identical starting
    weights every unit follows the same line, so only one line is visible.
    """
    from ..analysis import distinct_units

    fig, axes = new_figure(ncols=len(runs), width=4.4, height=3.4, squeeze=False)
    for ax, (label, run) in zip(axes[0], runs.items()):
        kernels = run.kernels                                  # (epochs + 1, n_inputs, units)
        epochs = np.arange(kernels.shape[0])
        for j in range(kernels.shape[2]):
            ax.plot(epochs, kernels[:, input_index, j], color=color(j), linewidth=lw(1.5),
                    linestyle=LINESTYLES[(j + j // len(LINESTYLES)) % len(LINESTYLES)],
                    label=f"unit {j + 1}" if j < 8 else None)
        ax.set_xlabel("epoch")
        ax.set_ylabel(f"weight from input {input_index + 1} to each unit")
        final_acc = run.history["accuracy"][-1]
        ax.set_title(f"{label}: {distinct_units(kernels[-1])} distinct unit(s), "
                     f"accuracy {final_acc:.2f}", fontsize=fs(10))
        ax.legend(fontsize=fs(7), ncol=2, loc="best")
    fig.suptitle(title)
    return fig
