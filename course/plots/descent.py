"""Pictures of gradient descent: a point moving on a loss landscape, and how fast its loss falls.

Every function takes data (a landscape of ``course.landscapes`` and the ``Trajectory`` objects
that ``run_optimizer`` returns) and gives back a matplotlib Figure.

    plot_gradient_step    one step: the slope at a point, the arrow against it, the next point
    plot_descent_1d       paths on a 1-D loss curve (one or several runs)
    plot_learning_rates   the same start with several learning rates, one panel each
    plot_paths_2d         paths on the contour lines of a 2-D landscape
    plot_race             paths and loss curves of several optimizers, side by side
    plot_descent          what the descent dashboard shows: the path and its loss curve
    plot_restarts         many random starts, coloured by the minimum each one reaches
    plot_batch_noise      loss of every update for online, mini-batch and batch descent
    plot_lr_schedules     learning rate against update number (decay)
    plot_step_per_weight  paths on a valley, and how far each weight moves per step (Adagrad's idea)
"""
from __future__ import annotations

import textwrap

import numpy as np

from ..landscapes import divergence_step
from .render import moving
from .style import (COLORS, LINESTYLES, _few_ticks, color, fs, light_figure, log_ticks, lw, new_figure, presenting,
                    set_limits)

__all__ = [
    "plot_gradient_step", "plot_descent_1d", "plot_learning_rates", "plot_paths_2d", "plot_race",
    "plot_descent", "DescentFigure", "plot_restarts", "plot_batch_noise", "plot_lr_schedules", "plot_loss_curves",
    "plot_step_per_weight",
]


def _as_dict(trajectories, default_label: str = "path") -> dict:
    if isinstance(trajectories, dict):
        return trajectories
    if hasattr(trajectories, "path"):                   # a single Trajectory
        return {default_label: trajectories}
    return {f"run {i + 1}": t for i, t in enumerate(trajectories)}


#: Beyond this many times the starting loss a run counts as diverged and is not drawn further.
DIVERGED = 1e8


def _capped(losses) -> np.ndarray:
    """The losses up to the step where the run diverged (see ``divergence_step``), then NaN."""
    losses = np.array(losses, dtype=float)
    step = divergence_step(losses, DIVERGED)
    if step is not None:
        losses[step:] = np.nan
    return losses


def _finite(trajectory):
    losses = _capped(trajectory.losses)
    keep = np.isfinite(losses) & np.all(np.isfinite(trajectory.path), axis=1)
    return trajectory.path[keep], losses[keep]


# -- one dimension ----------------------------------------------------------------------------------
def _draw_curve(ax, landscape, n: int = 400):
    x, values = landscape.grid(n)
    ax.plot(x, values, color=COLORS["black"], linewidth=lw(1.5), label="loss L(w)")
    ax.set_xlim(*landscape.bounds[0])
    ax.set_xlabel("weight w")
    ax.set_ylabel("loss L(w)")
    return x, values


def _draw_path_1d(ax, trajectory, index: int, label: str, markersize: float | None = None):
    path, losses = _finite(trajectory)
    if markersize is None:
        markersize = 5 if len(path) <= 40 else 3
    ax.plot(path[:, 0], losses, marker="o", markersize=markersize, color=color(index),
            linestyle=LINESTYLES[index % len(LINESTYLES)], linewidth=lw(1.2), alpha=0.9, label=label)
    ax.plot(path[:1, 0], losses[:1], marker="s", markersize=markersize + 3, color=color(index),
            linestyle="none")


def plot_gradient_step(landscape, w0: float, lr: float, title: str | None = None):
    """The chapter's picture of one gradient-descent step on a 1-D loss.

    Draws the loss curve, the tangent at ``w0`` (its slope is the gradient), an arrow pointing
    downhill (minus the gradient) and the next weight ``w0 - lr * gradient``.
    """
    if landscape.dim != 1:
        raise ValueError(f"plot_gradient_step needs a 1-D landscape such as bowl(1) or wavy(), "
                         f"got {landscape.name} with {landscape.dim} coordinates.")
    fig, ax = new_figure(width=6.0, height=3.8)
    x, values = _draw_curve(ax, landscape)
    loss0 = float(landscape.value(w0))
    slope = float(landscape.grad(w0)[0])
    w1 = w0 - lr * slope
    span = 0.15 * (landscape.bounds[0][1] - landscape.bounds[0][0])
    tx = np.linspace(w0 - span, w0 + span, 2)
    ax.plot(tx, loss0 + slope * (tx - w0), color=COLORS["orange"], linestyle="--",
            label=f"slope (gradient) = {slope:.2f}")
    ax.annotate("", xy=(w1, loss0), xytext=(w0, loss0),
                arrowprops=dict(arrowstyle="-|>", color=COLORS["vermillion"], linewidth=lw(2),
                                mutation_scale=18))
    ax.plot([], [], color=COLORS["vermillion"], label=f"step = -lr x gradient = {-lr * slope:.2f}")
    loss1 = float(landscape.value(w1))
    ax.plot([w1, w1], [loss0, loss1], color=COLORS["green"], linestyle=":", linewidth=lw(1.5))
    ax.plot([w0], [loss0], "s", color=COLORS["blue"], markersize=9, label=f"w = {w0:.2f}")
    ax.plot([w1], [loss1], "o", color=COLORS["green"], markersize=9, label=f"next w = {w1:.2f}")
    ax.set_ylim(min(values) - 0.05 * np.ptp(values), max(values) * 1.05)
    ax.set_title(title or f"One step of gradient descent (learning rate {lr:g})")
    ax.legend(loc="lower left", fontsize=fs(9))
    return fig


def plot_descent_1d(landscape, trajectories, title: str = "Gradient descent in one dimension",
                    ax=None):
    """Paths on a 1-D loss curve: each point is the weight after one more step (square: the start)."""
    trajectories = _as_dict(trajectories)
    fig = None
    if ax is None:
        fig, ax = new_figure(width=6.0, height=3.8)
    _draw_curve(ax, landscape)
    for i, (label, trajectory) in enumerate(trajectories.items()):
        _draw_path_1d(ax, trajectory, i, label)
    ax.plot([], [], "s", color="0.4", markersize=7, linestyle="none", label="start")
    ax.set_title(title)
    ax.legend(loc="upper center", fontsize=fs(9))
    return fig if fig is not None else ax.figure


def plot_loss_curves(trajectories, ax=None, log: bool = True, title: str = "Loss at each step"):
    """Loss against step number for each trajectory (log scale when every loss is positive)."""
    trajectories = _as_dict(trajectories)
    fig = None
    if ax is None:
        fig, ax = new_figure(width=5.0, height=3.6)
    positive = True
    for i, (label, trajectory) in enumerate(trajectories.items()):
        losses = _capped(trajectory.losses)
        positive &= bool(np.all(losses[np.isfinite(losses)] > 0))
        ax.plot(np.arange(len(losses)), losses, color=color(i), linestyle=LINESTYLES[i % len(LINESTYLES)],
                label=label)
    if log and positive:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss" + (" (log scale)" if log and positive else ""))
    ax.set_title(title)
    if len(trajectories) > 1:
        ax.legend(fontsize=fs(9))
    return fig if fig is not None else ax.figure


def plot_learning_rates(landscape, trajectories: dict, title: str = "The same start, three learning rates"):
    """One panel per run (label -> Trajectory) on a 1-D landscape, then all the loss curves."""
    if landscape.dim != 1:
        raise ValueError(f"plot_learning_rates draws 1-D landscapes; {landscape.name} has {landscape.dim}.")
    n = len(trajectories)
    fig, axes = new_figure(ncols=n + 1, width=3.1, height=3.1)
    for i, (ax, (label, trajectory)) in enumerate(zip(axes, trajectories.items())):
        _draw_curve(ax, landscape)
        _draw_path_1d(ax, trajectory, i, label, markersize=4)
        ax.set_title(label)
        ax.legend(loc="upper center", fontsize=fs(8))
    plot_loss_curves(trajectories, ax=axes[-1], log=True, title="Loss at each step")
    fig.suptitle(title)
    return fig


# -- two dimensions ---------------------------------------------------------------------------------
def _levels(Z, n: int = 12):
    """Contour levels packed near the minimum: quantiles of the values, squared spacing."""
    finite = Z[np.isfinite(Z)]
    levels = np.unique(np.quantile(finite, np.linspace(0.0, 0.9, n) ** 2))
    return levels if len(levels) > 1 else n


def _draw_contours(ax, landscape, n: int = 120, grids: dict | None = None, labels: bool = True):
    key = (landscape.name, n)
    if grids is not None and key in grids:
        X, Y, Z, levels = grids[key]
    else:
        X, Y, Z = landscape.grid(n)
        levels = _levels(Z)
        if grids is not None:
            grids[key] = (X, Y, Z, levels)
    ax.contourf(X, Y, Z, levels=levels, cmap="Greys", alpha=0.3, extend="both", antialiased=False)
    ax.contour(X, Y, Z, levels=levels, colors="0.55", linewidths=0.5)
    minima = landscape.minima
    values = landscape.value(minima)
    best = values <= values[0] + 1e-9 * max(1.0, abs(values[0]))   # the global minimum may be shared
    ax.plot(minima[best, 0], minima[best, 1], marker="*", color=COLORS["black"], markersize=14,
            linestyle="none", label="global minimum" if labels else "_global minimum")
    if not best.all():
        ax.plot(minima[~best, 0], minima[~best, 1], marker="x", color=COLORS["black"], markersize=7,
                linestyle="none", label="local minima" if labels else "_local minima")
    ax.set_xlim(*landscape.bounds[0])
    ax.set_ylim(*landscape.bounds[1])
    ax.set_xlabel("weight w1")
    ax.set_ylabel("weight w2")


def plot_paths_2d(landscape, trajectories, title: str | None = None, ax=None, grids: dict | None = None,
                  legend: bool = True, legend_loc: str = "lower right"):
    """Paths of one or several runs on the contour lines of a 2-D landscape.

    ``grids``: a dict used as a cache of the contour grid, so redrawing the same landscape is fast.
    """
    if landscape.dim != 2:
        raise ValueError(f"plot_paths_2d draws 2-D landscapes; {landscape.name} has {landscape.dim} "
                         "coordinate(s): use plot_descent_1d.")
    trajectories = _as_dict(trajectories)
    fig = None
    if ax is None:
        fig, ax = new_figure(width=5.5, height=4.2)
    _draw_contours(ax, landscape, grids=grids, labels=legend)
    for i, (label, trajectory) in enumerate(trajectories.items()):
        path, _ = _finite(trajectory)
        ax.plot(path[:, 0], path[:, 1], color=color(i), linestyle=LINESTYLES[i % len(LINESTYLES)],
                linewidth=lw(1.6), marker="o" if len(path) <= 40 else None, markersize=3, label=label)
        ax.plot(path[-1:, 0], path[-1:, 1], marker="o", color=color(i), markersize=6,
                markeredgecolor="white", linestyle="none")
    start = next(iter(trajectories.values())).path[0]
    ax.plot([start[0]], [start[1]], marker="s", color=COLORS["black"], markersize=7,
            linestyle="none", label="start" if legend else "_start")
    ax.set_title(title or f"Paths on the {landscape.name} landscape")
    if legend:
        ax.legend(fontsize=fs(8), loc=legend_loc, framealpha=0.85)
    return fig if fig is not None else ax.figure


def plot_race(landscape, trajectories: dict, title: str | None = None):
    """Paths on the landscape (left) and the loss at each step (right) for several optimizers."""
    fig, (left, right) = new_figure(ncols=2, width=5.2, height=4.2)
    if landscape.dim == 2:
        plot_paths_2d(landscape, trajectories, title="Paths (\u25a0 start, \u2605 global minimum)", ax=left,
                      legend=False)
    else:
        plot_descent_1d(landscape, trajectories, title="Paths", ax=left)
    plot_loss_curves(trajectories, ax=right, title="Loss at each step")
    fig.suptitle(title or f"Optimizers on the {landscape.name} landscape")
    return fig


class DescentFigure:
    """The descent dashboard's picture, built once and updated for each new run.

    Left: the path on the loss curve (1-D) or on the contour lines (2-D); right: the loss at each
    step (log scale when every loss is positive). The dashboard redraws many times: moving the
    lines of an existing figure skips rebuilding its axes, contours and tick labels, and
    ``set_landscape`` swaps the curve or the contours for those of another landscape.

    >>> figure = DescentFigure(landscapes.bowl(1))                          # doctest: +SKIP
    >>> fig = figure.update(trajectory, "SGD(lr=0.1)", "title")             # doctest: +SKIP
    """

    def __init__(self, landscape, grids: dict | None = None, width: float = 4.0, height: float = 3.0):
        self.grids = grids
        # on a projector the long title (optimizer, landscape, loss, where) takes two lines
        self.fig, (self.left, self.right) = light_figure(ncols=2, width=width, height=height,
                                                         top=0.8 if presenting() else 0.6)
        # zorder 3: above the curve or the contours, whichever landscape is shown
        self.path, = self.left.plot([], [], color=color(0), linewidth=lw(1.4), marker="o", markersize=3, zorder=3)
        self.start, = self.left.plot([], [], "s", color=color(0), markersize=7, zorder=3)
        self.end, = self.left.plot([], [], "o", color=color(0), markersize=6, markeredgecolor="white", zorder=3)
        self.loss, = self.right.plot([], [], color=color(0))
        self.right.set_xlabel("step")
        self.right.set_title("Loss at each step")
        # What changes from one run to the next is "animated": the curve or the contours, the
        # axes and their labels are drawn once and kept until a limit changes
        # (course.plots.render). The loss axis ends at whole decades (log) or round numbers.
        # The title names the optimizer and its settings: it changes with every control.
        self.title = moving(self.fig, self.path, self.start, self.end, self.loss, title="", fontsize=fs(10))
        self.landscape = None
        self._background: list = []
        self.set_landscape(landscape)

    def set_landscape(self, landscape) -> None:
        """Show ``landscape`` (its loss curve, or its contour lines and minima) on the left."""
        if landscape is self.landscape:
            return
        for artist in self._background:
            artist.remove()
        for line in (self.path, self.start, self.end):     # the old path is not in the new range
            line.set_data([], [])
        before = {id(artist) for artist in self.left.get_children()}
        if landscape.dim == 1:
            _draw_curve(self.left, landscape, n=300)
            self.left.set_title("Path on the loss curve")
        else:
            _draw_contours(self.left, landscape, grids=self.grids, labels=False)
            self.left.set_title("Path (\u25a0 start, \u2605 minimum)")
        self._background = [artist for artist in self.left.get_children() if id(artist) not in before]
        self.start.set_color(COLORS["black"] if landscape.dim == 2 else color(0))
        self.left.relim()                                   # the new curve's range (1-D)
        self.left.set_autoscaley_on(landscape.dim == 1)
        self.left.autoscale_view(scalex=False)
        self.landscape = landscape

    def update(self, trajectory, label: str, title: str):
        """Show ``trajectory`` (a Trajectory); returns the Figure."""
        path, losses = _finite(trajectory)
        self.path.set_label(label)
        self.path.set_marker("o" if len(path) <= 60 or self.landscape.dim == 1 else "")
        if self.landscape.dim == 1:
            xy = (path[:, 0], losses)
        else:
            xy = (path[:, 0], path[:, 1])
        self.path.set_data(*xy)
        self.start.set_data(xy[0][:1], xy[1][:1])
        self.end.set_data(xy[0][-1:], xy[1][-1:])
        capped = _capped(trajectory.losses)
        steps = np.arange(len(capped))
        self.loss.set_data(steps, capped)
        log = self.landscape.dim == 2 and bool(np.all(capped[np.isfinite(capped)] > 0))
        scale = "log" if log else "linear"
        rescaled = self.right.get_yscale() != scale
        if rescaled:
            self.right.set_yscale(scale)
            _few_ticks(self.right, scale)
        finite = capped[np.isfinite(capped)]
        low, high = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
        if log:             # whole decades around [low / 2, high * 2]
            ylim = (10.0 ** np.floor(np.log10(low / 2)), 10.0 ** np.ceil(np.log10(high * 2)))
        else:               # round numbers around [low, high], and a margin
            step = 10.0 ** np.floor(np.log10(high - low)) if high > low else 1.0
            bottom, top = np.floor(low / step) * step, np.ceil(high / step) * step
            pad = 0.05 * (top - bottom) or 0.5
            ylim = (bottom - pad, top + pad)
        if (set_limits(self.right, (0, max(len(capped) - 1, 1)), ylim) or rescaled) and log:
            log_ticks(self.right.yaxis, *ylim)
        ylabel = "loss (log scale)" if log else "loss"
        if self.right.get_ylabel() != ylabel:
            self.right.set_ylabel(ylabel)
        if presenting():    # the characters that fit the figure's width at the title's size
            fits = int(self.fig.get_figwidth() * 72 / (0.6 * self.title.get_fontsize()))
            title = "\n".join(textwrap.wrap(title, width=fits)) if title else title
        self.title.set_text(title)
        return self.fig


def plot_descent(landscape, trajectory, label: str, title: str, grids: dict | None = None,
                 width: float = 4.0, height: float = 3.0):
    """The descent dashboard's picture for one run (a new ``DescentFigure``)."""
    return DescentFigure(landscape, grids, width, height).update(trajectory, label, title)


def plot_restarts(landscape, trajectories, title: str = "Restarting from random points"):
    """Many runs from random starts: where each one starts (square) and ends (circle).

    A run is coloured by the known minimum nearest to where it ends (blue: the global one).
    """
    trajectories = list(trajectories)
    fig, ax = new_figure(width=6.5, height=3.8)
    ends = np.array([t.path[-1] for t in trajectories])
    finals = np.array([t.losses[-1] for t in trajectories])
    best = int(np.nanargmin(finals))
    nearest = [int(np.argmin(np.linalg.norm(landscape.minima - end, axis=1))) for end in ends]
    if landscape.dim == 1:
        _draw_curve(ax, landscape)
    else:
        _draw_contours(ax, landscape)
    seen = set()
    for t, k in zip(trajectories, nearest):
        path, losses = _finite(t)
        c = COLORS["blue"] if k == 0 else COLORS["vermillion"]
        label = None
        if (k == 0) not in seen:
            label = "ends in the global minimum" if k == 0 else "ends in a local minimum"
            seen.add(k == 0)
        if landscape.dim == 1:
            ax.plot(path[:, 0], losses, color=c, linewidth=lw(1), alpha=0.6)
            ax.plot(path[:1, 0], losses[:1], "s", color=c, markersize=6, alpha=0.8)
            ax.plot(path[-1:, 0], losses[-1:], "o", color=c, markersize=8, label=label)
        else:
            ax.plot(path[:, 0], path[:, 1], color=c, linewidth=lw(1), alpha=0.6)
            ax.plot(path[:1, 0], path[:1, 1], "s", color=c, markersize=6, alpha=0.8)
            ax.plot(path[-1:, 0], path[-1:, 1], "o", color=c, markersize=8, label=label)
    ax.plot([], [], "s", color="0.4", markersize=6, label="start of a run")
    end = ends[best]
    y_best = finals[best] if landscape.dim == 1 else end[1]
    ax.annotate("best of the restarts", xy=(end[0], y_best), xytext=(0.02, 0.9), textcoords="axes fraction",
                arrowprops=dict(arrowstyle="->", color=COLORS["black"]))
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize=fs(9))
    return fig


# -- how often to update, and with which learning rate ------------------------------------------
def plot_batch_noise(runs: dict, title: str = "Online, mini-batch and batch gradient descent"):
    """Left: the loss of every update against epochs; right: the loss on the whole training set.

    runs: label -> BatchRun (see ``course.runs.optimizers.batch_size_runs``).
    """
    fig, (left, right) = new_figure(ncols=2, width=5.0, height=3.6)
    for i, (label, run) in enumerate(runs.items()):
        epochs_axis = np.arange(len(run.losses)) / run.steps_per_epoch
        n = len(run.losses)
        left.plot(epochs_axis, run.losses, color=color(i), linestyle="-" if n > 50 else LINESTYLES[i % 7],
                  linewidth=lw(0.5) if n > 200 else 1.8, alpha=0.5 if n > 200 else 1.0,
                  marker=None if n > 50 else "o", markersize=6, zorder=3 if n <= 200 else 2,
                  label=f"{label}: batch {run.batch_size}, {run.steps_per_epoch} updates/epoch")
        right.plot(np.arange(len(run.epoch_loss)), run.epoch_loss, color=color(i),
                   linestyle=LINESTYLES[i % 7], marker="o", label=label)
    top = max(float(np.quantile(run.losses, 0.99)) for run in runs.values())
    left.set_ylim(0, 1.05 * top)
    left.set_xlabel("epochs (passes over the training data)")
    left.set_ylabel("loss of the update's batch")
    left.set_title("Loss of every update")
    left.legend(fontsize=fs(8), loc="lower left")
    right.set_xlabel("epoch")
    right.set_xticks(np.arange(len(next(iter(runs.values())).epoch_loss)))
    right.set_ylabel("loss on the whole training set")
    right.set_title("Progress per epoch")
    right.legend(fontsize=fs(8))
    fig.suptitle(title)
    return fig


def plot_lr_schedules(schedules: dict, title: str = "Learning-rate decay: lr / (1 + decay x iterations)"):
    """Learning rate against update number, one line per label -> array of rates."""
    fig, ax = new_figure(width=6.0, height=3.6)
    for i, (label, rates) in enumerate(schedules.items()):
        ax.plot(np.arange(len(rates)), rates, color=color(i), linestyle=LINESTYLES[i % 7], label=label)
    ax.set_xlabel("update number (iterations)")
    ax.set_ylabel("learning rate used")
    ax.set_title(title)
    ax.legend()
    return fig


def plot_step_per_weight(landscape, trajectories: dict, title: str = "A step size per weight",
                         weight_names=("w1 (flat direction)", "w2 (steep direction)")):
    """Left: the paths on a 2-D landscape. Right: |change of each weight| at every step, one
    colour per optimizer, solid for the first weight and dashed for the second.

    On an elongated valley plain SGD moves the steep weight far more than the flat one (its
    step is lr times the gradient); Adagrad and its successors give both weights steps of the
    same size at first, because each weight's step is divided by its own gradient size.
    """
    trajectories = _as_dict(trajectories)
    fig, (left, right) = new_figure(ncols=2, width=5.4, height=4.2)
    plot_paths_2d(landscape, trajectories, ax=left, title=f"Paths on the {landscape.name}")
    for i, (label, trajectory) in enumerate(trajectories.items()):
        path, _ = _finite(trajectory)
        steps = np.abs(np.diff(path, axis=0))
        k = np.arange(1, len(steps) + 1)
        for j, style in ((0, "-"), (1, "--")):
            values = np.where(steps[:, j] > 0, steps[:, j], np.nan)
            right.plot(k, values, color=color(i), linestyle=style, linewidth=1.6,
                       label=f"{label}: {weight_names[j]}")
    right.set_yscale("log")
    right.set_xlabel("step")
    right.set_ylabel("|change of the weight| in one step")
    right.set_title("How far each weight moves")
    right.legend(fontsize=fs(7), loc="lower left", framealpha=0.85)
    fig.suptitle(title)
    return fig
