"""Pictures of training: learning curves, decision boundaries, optimizer races, timing sweeps.

    plot_history          training and validation loss and accuracy per epoch (overfitting)
    plot_histories        one metric per panel, one line per run (e.g. per optimizer)
    plot_decision_boundary the regions a 2-D classifier assigns to each class, with the data
    plot_training         what the training dashboard shows: boundary, loss, accuracy, and each
                          layer's outputs, gradients and update-to-weight ratio
    plot_batch_size_sweep time per epoch against batch size, per backend
    plot_book_comparison  the book's MNIST claims next to the measured accuracies
"""
from __future__ import annotations

import numpy as np
from contourpy import contour_generator
from matplotlib.collections import LineCollection
from matplotlib.colors import ListedColormap
from matplotlib.transforms import ScaledTranslation

from .render import moving
from .style import light_figure, set_limits, xlabel_offset
from .style import COLORS, LINESTYLES, color, new_figure, fs, lw

__all__ = ["plot_history", "plot_histories", "plot_decision_boundary", "plot_training", "TrainingFigure",
           "ZERO_WEIGHTS_NOTE",
           "plot_batch_size_sweep", "plot_book_comparison", "plot_overfitting"]


def _history_dict(history) -> dict:
    return history.history if hasattr(history, "history") else dict(history)


def _epochs(values) -> np.ndarray:
    return np.arange(1, len(values) + 1)


def plot_history(history, title: str = "Learning curves", best_epoch: int | None = None,
                 metrics=("loss", "accuracy")):
    """Training and validation curves per epoch, one panel per metric.

    history: a History or its ``history`` dict. best_epoch: 0-based epoch to mark (e.g. the one
    ``EarlyStopping(restore_best_weights=True)`` kept).
    """
    h = _history_dict(history)
    metrics = [m for m in metrics if m in h]
    if not metrics:
        raise ValueError(f"the history holds {sorted(h)}, none of which is in {list(metrics)}.")
    fig, axes = new_figure(ncols=len(metrics), width=4.6, height=3.4, squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        ax.plot(_epochs(h[metric]), h[metric], color=COLORS["blue"], marker="o", markersize=3,
                label=f"training {metric}")
        if f"val_{metric}" in h:
            ax.plot(_epochs(h[f"val_{metric}"]), h[f"val_{metric}"], color=COLORS["vermillion"],
                    linestyle="--", marker="s", markersize=3, label=f"validation {metric}")
        if best_epoch is not None:
            ax.axvline(best_epoch + 1, color=COLORS["black"], linestyle=":", linewidth=lw(1.5),
                       label=f"best epoch ({best_epoch + 1})")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.set_title(metric.capitalize())
        ax.legend(fontsize=fs(9))
    fig.suptitle(title)
    return fig


def plot_histories(histories: dict, keys=("val_loss", "val_accuracy"), title: str = "",
                   labels: dict | None = None):
    """One panel per history key, one line per run (label -> History, dict or RaceResult)."""
    fig, axes = new_figure(ncols=len(keys), width=4.6, height=3.6, squeeze=False)
    names = {"loss": "training loss", "accuracy": "training accuracy", "val_loss": "validation loss",
             "val_accuracy": "validation accuracy"}
    names.update(labels or {})
    for ax, key in zip(axes[0], keys):
        for i, (label, history) in enumerate(histories.items()):
            h = _history_dict(getattr(history, "history", history))
            ax.plot(_epochs(h[key]), h[key], color=color(i), linestyle=LINESTYLES[i % len(LINESTYLES)],
                    marker="o", markersize=4, label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel(names.get(key, key))
        ax.set_title(names.get(key, key).capitalize())
        ax.set_xticks(_epochs(h[key]))
    axes[0][-1].legend(fontsize=fs(8), loc="best")
    if title:
        fig.suptitle(title)
    return fig


_REGIONS = ListedColormap(["#CFE3F2", "#F7E3BD"])  # light blue / light orange, as the points


def plot_decision_boundary(ax, predict, x, y, resolution: int = 60, padding: float = 0.5):
    """Shade where ``predict`` (points (n, 2) -> probability of class 1, (n,) or (n, 1)) says 1.

    Draws the 0.5 contour as the boundary and the points coloured by their label.
    """
    x = np.asarray(x)
    lo, hi = x.min(axis=0) - padding, x.max(axis=0) + padding
    _regions(ax, predict, lo, hi, resolution)
    for k, (c, marker) in enumerate(((COLORS["blue"], "o"), (COLORS["orange"], "^"))):
        mask = np.asarray(y).reshape(-1) == k
        ax.scatter(x[mask, 0], x[mask, 1], s=12, c=c, marker=marker, edgecolors="white",
                   linewidths=0.3, label=f"class {k}")
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    return ax


def _probabilities(predict, lo, hi, resolution: int):
    """The grid (gx, gy) of resolution x resolution points over [lo, hi] and predict's
    probability of class 1 at each (NaN counted as 0.5)."""
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)
    with np.errstate(over="ignore", invalid="ignore"):
        p = np.asarray(predict(grid), dtype=float).reshape(gx.shape)
    return gx, gy, np.nan_to_num(p, nan=0.5)


def _regions(ax, predict, lo, hi, resolution: int):
    gx, gy, p = _probabilities(predict, lo, hi, resolution)
    artists = [ax.contourf(gx, gy, (p > 0.5).astype(float), levels=[-0.5, 0.5, 1.5], cmap=_REGIONS, zorder=0)]
    if p.min() < 0.5 < p.max():
        artists.append(ax.contour(gx, gy, p, levels=[0.5], colors=COLORS["black"], linewidths=1.2, zorder=1))
    return artists


#: The layer panel's range (log scale): outputs' and gradients' spreads, and update-to-weight ratios.
HEALTH_LIMITS = (1e-6, 1e1)
#: The update-to-weight ratio of a healthy training, drawn as a reference line.
HEALTHY_RATIO = 1e-3
#: The band under the panels that holds the layer panel's legend (inches, two rows of two).
HEALTH_LEGEND_HEIGHT = 0.5
#: What the layer panel says when every weight of the network is zero.
ZERO_WEIGHTS_NOTE = ("all weights are zero:\nno update-to-weight ratio\n(a step over a weight of 0),\n"
                     "and the units of a layer\nare all alike (std 0)")


class TrainingFigure:
    """The training dashboard's picture: decision boundary, loss and accuracy curves so far, and
    the layers' health.

    Built once and updated after each redraw: the boundary is recomputed, the curves are moved,
    the axes stay (and the points, until ``set_data`` shows another data set).
    ``update(predict, history, epochs, title, health)``: predict maps points (n, 2) to the
    probability of class 1; history holds 'loss', 'accuracy' (and 'val_loss', 'val_accuracy') per
    finished epoch; the curves' x axis spans ``epochs`` so the learner sees how much of the
    training is done. health: ``course.debugging.LayerHealth`` rows, one per layer (hidden
    layers, then the output): the spread of each layer's outputs and of its kernel's gradient,
    and its update-to-weight ratio, against the healthy 1e-3 (a NaN ratio is not drawn: no step
    taken yet).
    """

    def __init__(self, x, y, width: float = 3.0, height: float = 2.8, resolution: int = 60, layers: int = 3):
        self.resolution = resolution
        # the layer panel's legend stands under it, in a band of its own below the x labels: the
        # statistics can fall anywhere on the panel's scale, so no corner inside it is free (and a
        # band, unlike a margin beside the panels, leaves the figure's width and text size alone)
        self.fig, (self.boundary, loss_ax, acc_ax, health_ax) = light_figure(
            ncols=4, width=width, height=height + HEALTH_LEGEND_HEIGHT, bottom=0.6 + HEALTH_LEGEND_HEIGHT)
        self.points = []
        for k, (c, marker) in enumerate(((COLORS["blue"], "o"), (COLORS["orange"], "^"))):
            self.points.append(self.boundary.scatter(np.zeros((0,)), np.zeros((0,)), s=12, c=c, marker=marker,
                                                     edgecolors="white", linewidths=0.3, label=f"class {k}",
                                                     zorder=2))
        self.boundary.set_xlabel("x1")
        self.boundary.set_ylabel("x2")
        self.boundary.set_title("Decision boundary")
        self.boundary.grid(False)                       # the regions cover the whole panel
        # the class predicted at each point of a grid, in the colours of the points: the
        # probability is interpolated between grid points and cut at 0.5, as a contour would
        self.regions = self.boundary.imshow(np.full((2, 2), 0.5), origin="lower", aspect="auto", cmap=_REGIONS,
                                            vmin=0.0, vmax=1.0, interpolation="bilinear",
                                            interpolation_stage="data", zorder=0)
        self.boundary_line = self.boundary.add_collection(
            LineCollection([], colors=COLORS["black"], linewidths=1.2, zorder=1), autolim=False)
        self.lines = {}
        legends = []
        for ax, key in ((loss_ax, "loss"), (acc_ax, "accuracy")):
            for k, (prefix, what, style) in enumerate((("", "training", "-"), ("val_", "validation", "--"))):
                self.lines[prefix + key], = ax.plot([], [], color=color(k), linestyle=style, label=what)
            ax.set_xlabel("epoch")
            ax.set_ylabel(key)
            ax.set_title(key.capitalize())
            legends.append(ax.legend(fontsize=fs(7), loc="upper right" if key == "loss" else "lower right"))
        self.loss_ax, self.acc_ax = loss_ax, acc_ax
        acc_ax.set_ylim(0.0, 1.02)
        # the layers, one column each: three markers per layer, on one log scale
        self.health_ax, self.layers = health_ax, layers
        positions = np.arange(1, layers + 1)
        self.health = {}
        for k, (field, what, marker) in enumerate((("output_std", "outputs' std", "o"),
                                                   ("gradient_std", "gradient's std", "s"),
                                                   ("update_ratio", "update / weight", "^"))):
            self.health[field], = health_ax.plot(positions + 0.2 * (k - 1), np.full(layers, np.nan), linestyle="none",
                                                 marker=marker, markersize=7, color=color(k), label=what)
        health_ax.axhline(HEALTHY_RATIO, color=COLORS["black"], linestyle=":", linewidth=lw(1.2),
                          label="healthy ratio 1e-3")
        health_ax.set_yscale("log")
        health_ax.set_ylim(*HEALTH_LIMITS)
        health_ax.set_xlim(0.5, layers + 0.5)
        health_ax.set_xticks(positions, [f"hidden {k}" for k in positions[:-1]] + ["output"])
        health_ax.set_xlabel("layer")
        health_ax.set_ylabel("size (log scale)")
        health_ax.set_title("Layer health")
        below_label = xlabel_offset() + 1.3 * health_ax.xaxis.label.get_size()      # points under the axes
        health_legend = health_ax.legend(
            fontsize=fs(7), ncols=2, loc="upper right", bbox_to_anchor=(1.0, 0.0), borderaxespad=0.0,
            bbox_transform=health_ax.transAxes + ScaledTranslation(0, -below_label / 72, self.fig.dpi_scale_trans))
        # what the panel cannot draw, said in words (all weights zero: no spread, no ratio)
        self.health_note = health_ax.text(0.5, 0.5, "", transform=health_ax.transAxes, ha="center", va="center",
                                          fontsize=fs(8), wrap=False, zorder=3,
                                          bbox=dict(boxstyle="round", facecolor="white", edgecolor=COLORS["black"],
                                                    linewidth=0.6, alpha=0.9))
        self.health_note.set_visible(False)
        # What changes from one redraw to the next is "animated": the axes, ticks and labels are
        # drawn once and kept until a limit changes (course.plots.render).
        # The curves change only while training runs (a few redraws an epoch at most): they stay
        # in the background, drawn again when they change, under their legends.
        # The layers' statistics change with every control, like the boundary: they move, and
        # their legend is drawn over them.
        # The figure's title names every setting: it changes with every control.
        self.title = moving(self.fig, self.regions, self.boundary_line, *self.points, *self.health.values(),
                            health_legend, self.health_note, title="", fontsize=fs(10))
        self.set_data(x, y)

    def set_data(self, x, y) -> None:
        """Show the points x (n, 2) with labels y (0 or 1) and fit the boundary panel to them."""
        x, y = np.asarray(x), np.asarray(y).reshape(-1)
        self.lo, self.hi = x.min(axis=0) - 0.5, x.max(axis=0) + 0.5
        for k, collection in enumerate(self.points):
            collection.set_offsets(x[y == k])
        self.regions.set_extent((self.lo[0], self.hi[0], self.lo[1], self.hi[1]))
        self.boundary.set_xlim(self.lo[0], self.hi[0])
        self.boundary.set_ylim(self.lo[1], self.hi[1])

    def update(self, predict, history: dict, epochs: int, title: str, health=None, health_note: str | None = None):
        """Redraw the boundary of ``predict``, the curves of ``history`` and the layers' ``health``
        (None: leave that panel empty); returns the Figure.

        health_note: why the layer panel may have nothing to draw (e.g. all weights zero), shown
        in the panel when none of its values can be drawn; without it the panel says which
        values it could not draw."""
        gx, gy, p = _probabilities(predict, self.lo, self.hi, self.resolution)
        self.regions.set_data(p)
        crossing = p.min() < 0.5 < p.max()
        self.boundary_line.set_segments(contour_generator(gx, gy, p).lines(0.5) if crossing else [])
        for key, line in self.lines.items():
            values = history.get(key, [])
            if len(line.get_ydata()) != len(values) or not np.array_equal(line.get_ydata(), values):
                line.set_data(_epochs(values), values)          # (setting them marks the panel changed)
        # limits only when they change: new limits mean drawing the panel's axes again
        set_limits(self.loss_ax, (0, max(epochs, 1) + 0.5))
        set_limits(self.acc_ax, (0, max(epochs, 1) + 0.5))
        losses = [v for v in history.get("loss", []) + history.get("val_loss", []) if np.isfinite(v)]
        set_limits(self.loss_ax, ylim=(0.0, max(losses) * 1.1 if losses else 1.0))
        self._show_health(health, health_note)
        self.title.set_text(title)
        return self.fig

    def _show_health(self, health, note: str | None = None) -> None:
        if health is not None and len(health) != self.layers:
            raise ValueError(f"the layer panel shows {self.layers} layers; got statistics of {len(health)}.")
        lo, hi = HEALTH_LIMITS
        shown = False
        for field, line in self.health.items():
            values = np.full(self.layers, np.nan) if health is None else np.array(
                [getattr(row, field) for row in health], dtype=float)
            values[~np.isfinite(values) | (values <= 0)] = np.nan       # log scale: nothing to draw
            shown = shown or bool(np.any((values >= lo) & (values <= hi)))
            if not np.array_equal(line.get_ydata(), values, equal_nan=True):
                line.set_ydata(values)
        text = "" if health is None or shown else (note or _health_gap(health))
        self.health_note.set_text(text)
        self.health_note.set_visible(bool(text))


def _health_gap(health) -> str:
    """Why the layer panel is empty, from its statistics: what is zero, infinite or off the scale."""
    lo, hi = HEALTH_LIMITS
    lines = []
    for field, what in (("output_std", "outputs' std"), ("gradient_std", "gradient's std"),
                        ("update_ratio", "update / weight")):
        values = np.array([getattr(row, field) for row in health], dtype=float)
        if np.all(np.isnan(values)):
            lines.append(f"{what}: no step taken yet")
        elif np.all(np.isfinite(values) & (np.abs(values) < lo)):
            lines.append(f"{what}: 0 (below {lo:.0e})")
        elif np.any(np.isinf(values)):
            lines.append(f"{what}: infinite (a weight matrix of 0)")
        else:
            lines.append(f"{what}: off the scale")
    return "nothing to draw:\n" + "\n".join(lines)



def plot_training(predict, x, y, history: dict, epochs: int, title: str, health=None,
                  width: float = 3.0, height: float = 2.8, health_note: str | None = None):
    """The training dashboard's picture for one moment of training (a new ``TrainingFigure``)."""
    layers = 3 if health is None else len(health)
    return TrainingFigure(x, y, width, height, layers=layers).update(predict, history, epochs, title, health,
                                                                     health_note)


def plot_batch_size_sweep(sweep, title: str = "Time per epoch against batch size"):
    """Seconds per epoch against batch size (log-log), one line per backend.

    sweep: a ``Sweep`` from ``course.results.load_batch_size_sweep``.
    """
    fig, ax = new_figure(width=6.0, height=3.8)
    for i, (label, seconds) in enumerate(sweep.seconds.items()):
        ok = np.isfinite(seconds)
        if not ok.any():
            continue
        ax.plot(sweep.batch_sizes[ok], seconds[ok], color=color(i), linestyle=LINESTYLES[i % 7],
                marker="o", label=label)
    ax.set_xscale("log")
    ax.set_xticks(sweep.batch_sizes, [f"{b:,}" for b in sweep.batch_sizes])
    ax.set_yscale("log")
    ax.set_xlabel("batch size (examples per update)")
    ax.set_ylabel("seconds per epoch (log scale)")
    ax.set_title(title)
    if len(sweep.seconds) > 3:     # several machines: the legend beside the axes, not over the lines
        fig.set_size_inches(9.0, 3.8)
        ax.legend(fontsize=fs(8), loc="center left", bbox_to_anchor=(1.02, 0.5))
    else:
        ax.legend()
    return fig


def plot_book_comparison(rows, title: str = "The book's MNIST runs, measured again"):
    """Measured test accuracy per run (mean, with the seed-to-seed spread), and the book's number.

    rows: ``BookRow`` objects from ``course.runs.hyperparameters.compare_with_book``.
    """
    fig, ax = new_figure(width=7.0, height=3.6)
    positions = np.arange(len(rows))
    acc = np.array([100 * r.accuracy for r in rows])
    err = np.array([100 * r.accuracy_std for r in rows])
    ax.errorbar(positions, acc, yerr=err, fmt="o", color=COLORS["blue"], markersize=9, capsize=5,
                label="course (mean ± std over seeds)")
    keras = [r.keras_accuracy for r in rows]
    if any(k is not None for k in keras):
        ax.plot(positions + 0.12, [100 * k if k is not None else np.nan for k in keras], "D",
                color=COLORS["green"], markersize=7, label="Keras (mean)")
    claimed = np.array([100 * r.claimed_accuracy if r.claimed_accuracy is not None else np.nan
                        for r in rows])
    bound = np.array([bool(getattr(r, "claim_is_lower_bound", False)) for r in rows])
    exact = np.where(bound, np.nan, claimed)
    if np.isfinite(exact).any():
        ax.plot(positions, exact, "_", color=COLORS["vermillion"], markersize=30, markeredgewidth=3,
                label="the book's claim")
    if bound.any():
        at_least = np.where(bound, claimed, np.nan)
        ax.plot(positions, at_least, "_", color=COLORS["orange"], markersize=30, markeredgewidth=3,
                label="the book's claim: more than this")
        for x, y in zip(positions[bound], at_least[bound]):
            ax.annotate("", xy=(x - 0.2, y + 2.5), xytext=(x - 0.2, y),
                        arrowprops=dict(arrowstyle="->", color=COLORS["orange"], lw=2))
    low = np.nanmin(np.concatenate([acc - err, claimed])) - 3
    ax.set_ylim(max(0, low), 100)
    ax.set_xlim(-0.5, len(rows) - 0.5)
    ax.set_xticks(positions, [r.run for r in rows], fontsize=fs(8))
    ax.set_ylabel("test accuracy on MNIST (%)")
    ax.set_xlabel("run")
    ax.set_title(title)
    ax.legend(fontsize=fs(8), loc="lower right")
    return fig


def plot_overfitting(run, title: str = "Overfitting: validation accuracy falls while training accuracy rises"):
    """Training and validation accuracy of ``course.runs.hyperparameters.overfitting_run``, with the epoch of
    the best validation accuracy and the epoch where early stopping stops."""
    h = run.history
    fig, ax = new_figure(width=7.0, height=3.8)
    epochs = _epochs(h["accuracy"])
    ax.plot(epochs, 100 * np.asarray(h["accuracy"]), color=COLORS["blue"], marker="o", markersize=3,
            label="training accuracy")
    ax.plot(epochs, 100 * np.asarray(h["val_accuracy"]), color=COLORS["vermillion"], linestyle="--",
            marker="s", markersize=3, label="validation accuracy")
    ax.axvline(run.best_epoch, color=COLORS["green"], linestyle=":", linewidth=2,
               label=f"best validation accuracy (epoch {run.best_epoch})")
    if run.stopped_epoch is not None:
        ax.axvline(run.stopped_epoch, color=COLORS["black"], linestyle="-.", linewidth=1.5,
                   label=f"early stopping stops (patience {run.patience}, epoch {run.stopped_epoch})")
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy (%)")
    ax.set_title(title)
    ax.legend(fontsize=fs(8), loc="lower right")
    return fig
