"""The training dashboard: choose a network and its hyperparameters, watch it learn a toy problem.

    dash = training_dashboard()          # shows itself in a notebook cell and starts training
    dash.set(hidden_units=16, activation="relu")   # retrains with the new settings
    dash.wait()                          # (from Python) wait for the training to finish
    dash.state.history["val_accuracy"]   # the curves on screen, as numbers

How it behaves, and why:

- Every change of a control builds the network again from the same seed and draws it untrained
  at once (within a fraction of a second), then trains it. So each picture is reproducible:
  the same settings always give the same curves. ``auto_train=False`` waits for the Train
  button instead, for an instructor who wants to set several controls first.
- Training runs in a background thread, one epoch after another. The kernel stays free, so the
  Stop button is handled while training runs: it sets a flag that is checked after every
  epoch, and training ends there (the curves keep what was learned so far). The progress bar
  moves after every epoch; the figure is redrawn every ``redraw_every`` epochs and at the end.
- From Python, ``dash.train()`` starts a run, ``dash.stop()`` interrupts it and ``dash.wait()``
  waits for it; ``dash.set(...)`` changes controls as the mouse would.
- While the mouse drags a slider, the picture follows it: each value the drawing thread gets to
  is drawn untrained at once (latest value first, see ``dashboard.py``), and the run of the old
  settings is dropped at its next batch without the kernel waiting for it. Training starts
  again once, ``settle_seconds`` after the last change of the drag, for the value the mouse
  stopped on; in the background, as always.

The network: 2 inputs -> two hidden Dense layers of ``hidden units`` each -> one sigmoid unit,
trained with binary cross-entropy on 200 points, validated on 200 others from the same
distribution.

The fourth panel looks inside: for each layer, on the 200 training points, the spread of its
outputs and of its kernel's gradient, and the update-to-weight ratio of the last step the
optimizer took, ||step|| / ||kernel|| (``course.debugging.layer_health``; about 1e-3 is
healthy). Before training there is no step yet, so no ratio.
"""
from __future__ import annotations

import threading
import time
from typing import NamedTuple

import ipywidgets as widgets
import numpy as np

from .. import optimizers as optimizers_module
from ..builders import fresh_optimizer, mlp, scaled_normal
from ..callbacks import Callback
from ..datasets import toy
from ..debugging import layer_health
from ..plots.training import ZERO_WEIGHTS_NOTE, TrainingFigure
from .dashboard import Dashboard

__all__ = ["TrainingState", "TrainingDashboard", "training_dashboard", "DATASETS", "INITIALIZERS"]

#: The toy problems: key -> function(seed) -> (x (n, 2) float32, y (n,) 0/1).
DATASETS = {
    "moons": lambda seed: toy.make_moons(200, noise=0.2, seed=seed),
    "circles": lambda seed: toy.make_circles(200, noise=0.1, factor=0.5, seed=seed),
    "spirals": lambda seed: toy.make_spirals(200, noise=0.03, seed=seed),
}

#: The initialisers on offer: label -> what ``Dense(kernel_initializer=...)`` takes.
INITIALIZERS = {
    "glorot_uniform": "glorot_uniform",
    "he_normal": "he_normal",
    "random_normal (std 0.05)": "random_normal",
    "normal, std 1 (too large)": scaled_normal(1.0),
    "normal, std 0.01 (too small)": scaled_normal(0.01),
    "zeros (no symmetry breaking)": "zeros",
}

BATCH_SIZES = [("1 (online)", 1), ("8", 8), ("32", 32), ("64", 64), ("200 (whole batch)", 200)]


class TrainingState(NamedTuple):
    """The network and its training, as the dashboard holds them."""

    model: object             # the Sequential being trained
    data: tuple               # (x_train, y_train, x_val, y_val)
    initial_weights: list     # copies of the weights before training
    history: dict             # 'loss', 'accuracy', 'val_loss', 'val_accuracy': one value per finished epoch
    epochs: int               # epochs asked for
    batch_size: int
    values: dict              # the controls' values this network was built from
    kernels_before: list      # each layer's kernel before the latest update (empty before training)


class _Superseded(Exception):
    """The controls changed: the run being trained no longer matches the picture's settings."""


class _Progress(Callback):
    """Reports every epoch to the dashboard; stops the fit when the stop flag is set, and drops
    it at once (mid-epoch) when the dashboard has moved on to other settings."""

    def __init__(self, dashboard, state, stop_flag):
        super().__init__()
        self.dashboard, self.state, self.stop_flag = dashboard, state, stop_flag

    def on_batch_begin(self, batch, logs=None):
        # the kernels before this batch's update: the layer panel measures the step against them
        self.state.kernels_before[:] = [layer.kernel.copy() for layer in self.model.layers]

    def on_batch_end(self, batch, logs=None):
        if self.dashboard.state is not self.state:
            raise _Superseded

    def on_epoch_end(self, epoch, logs=None):
        if self.dashboard.state is not self.state:
            raise _Superseded
        for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
            if logs and key in logs:
                self.state.history.setdefault(key, []).append(float(logs[key]))
        self.dashboard._epoch_done(self.state, epoch + 1)
        if self.stop_flag.is_set():
            self.model.stop_training = True


class TrainingDashboard(Dashboard):
    """A Dashboard whose redraw rebuilds the network, and which trains it in a background thread."""

    def __init__(self, controls, compute, draw, title, redraw_every: int = 5, auto_train: bool = True):
        self.redraw_every = redraw_every
        self.auto_train = auto_train
        self.train_redraw_seconds: list[float] = []
        self.stopped = False
        self._thread: threading.Thread | None = None
        self._stop_flag = threading.Event()
        self.trainings_started = 0      # runs started, by any means (a test counts them per drag)
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="epoch",
                                            layout=widgets.Layout(width="330px"))
        self.status = widgets.HTML(value="")
        self.train_button = widgets.Button(description="Train", button_style="success", icon="play")
        self.stop_button = widgets.Button(description="Stop", button_style="danger", icon="stop")
        self.train_button.on_click(lambda _: self.train())
        self.stop_button.on_click(lambda _: self.stop(wait=False))
        super().__init__(controls, compute, draw, title=title, auto=False)
        run_row = widgets.HBox([self.train_button, self.stop_button, self.progress, self.status])
        children = list(self.widget.children)
        self.widget.children = tuple(children[:-2] + [run_row] + children[-2:])

    # -- driving ----------------------------------------------------------------------------------
    def redraw(self) -> None:
        """Stop any training, rebuild the network from the controls, draw it, then train it."""
        self.stop(wait=True)
        super().redraw()
        if self.auto_train:
            self.train()

    def _changed_in_the_page(self) -> None:
        # Drop the current run without waiting for it (it notices at its next batch), draw the
        # new settings untrained in the drawing thread, train once the drag has settled.
        self._stop_flag.set()
        if self.auto_train:
            self.status.value = "training starts when the controls stop moving"
        super()._changed_in_the_page()

    def _settled_job(self):
        return self._train_after_drag

    def _train_after_drag(self) -> None:
        if self.auto_train and self.last_error is None:
            self.train()

    def train(self) -> "TrainingDashboard":
        """(Re)start training the current settings from the initial weights, in the background."""
        self.stop(wait=True)
        with self._draw_lock:
            if self.state is None:
                return self
            if self.state.history:          # train again from the start: same weights, same seed
                self._redraw_now()
            state = self.state
            self.stopped = False
            self._stop_flag = threading.Event()
            self.progress.max = max(state.epochs, 1)
            self.progress.value = 0
            self._thread = threading.Thread(target=self._run, args=(state, self._stop_flag), daemon=True)
            self.trainings_started += 1
            self._thread.start()
        return self

    def stop(self, wait: bool = True) -> "TrainingDashboard":
        """Ask the training to stop after the current epoch (and, with ``wait``, wait for it)."""
        if wait:
            super().wait()              # a drag's restart, if one is due, comes first
        self._stop_flag.set()
        if wait:
            self.wait()
        return self

    def wait(self, timeout: float | None = None) -> "TrainingDashboard":
        """Block until the background training has finished (or ``timeout`` seconds passed),
        after the pictures and the training asked for by a drag in the page have started."""
        super().wait(timeout)
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        return self

    @property
    def running(self) -> bool:
        """True while a training thread is working."""
        return self._thread is not None and self._thread.is_alive()

    # -- the background thread ------------------------------------------------------------------------
    def _run(self, state: TrainingState, stop_flag: threading.Event) -> None:
        x, y, x_val, y_val = state.data
        try:
            # A run that blows up is reported in the status line (below), not as overflow warnings.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                state.model.fit(x, y, batch_size=state.batch_size, epochs=state.epochs, verbose=0,
                                validation_data=(x_val, y_val), seed=0,
                                callbacks=[_Progress(self, state, stop_flag)])
            if self.state is not state:
                return                      # other settings are on screen now
            self.stopped = stop_flag.is_set() and len(state.history.get("loss", [])) < state.epochs
            self._draw_now(state, final=True)
        except _Superseded:
            return
        except Exception as error:  # noqa: BLE001 - shown in the dashboard, kept for tests
            if self.state is not state:
                return
            self.show_error(error)

    def _epoch_done(self, state: TrainingState, epochs_done: int) -> None:
        if self.state is not state:
            raise _Superseded
        self.progress.value = epochs_done
        h = state.history
        self.status.value = (f"epoch {epochs_done}/{state.epochs}: loss {h['loss'][-1]:.3f}, "
                             f"validation accuracy {h.get('val_accuracy', [float('nan')])[-1]:.2f}")
        if epochs_done % max(1, self.redraw_every) == 0 and epochs_done < state.epochs:
            self._draw_now(state)

    def _draw_now(self, state: TrainingState, final: bool = False) -> None:
        with self._draw_lock:
            if self.state is not state:
                raise _Superseded
            start = time.perf_counter()
            figure = self._draw(state, state.values)
            self._show(figure, state.values)
            self.train_redraw_seconds.append(time.perf_counter() - start)
        if final:
            done = len(state.history.get("loss", []))
            if done and not np.isfinite(state.history["loss"][-1]):
                self.status.value = (f"the loss became NaN at epoch {done}: the weights blew up. "
                                     "Try a smaller learning rate.")
                return
            word = "stopped" if self.stopped else "done"
            acc = state.history.get("val_accuracy", [float("nan")])[-1] if done else float("nan")
            self.status.value = f"{word} after {done} epoch(s): validation accuracy {acc:.2f}"


def training_dashboard(dataset: str = "moons", hidden_units: int = 8, activation: str = "tanh",
                       initializer: str = "glorot_uniform", optimizer: str = "Adam",
                       learning_rate: float = 0.03, batch_size: int = 32, epochs: int = 40,
                       seed: int = 0, redraw_every: int = 5, auto_train: bool = True) -> TrainingDashboard:
    """A small network learning a 2-D toy problem, with every choice on a control.

    dataset: 'moons', 'circles' or 'spirals'. initializer: a key of INITIALIZERS. optimizer:
    'SGD', 'RMSprop', 'Adagrad', 'Adadelta', 'Adam', 'Adamax' or 'Nadam'. batch_size: one of
    1, 8, 32, 64, 200. seed fixes the data, the initial weights and the shuffles.

    Returns a TrainingDashboard (see the module's documentation for when it trains).
    """
    names = [cls.__name__ for cls in optimizers_module.OPTIMIZERS.values()]
    checks = (("dataset", dataset, list(DATASETS)), ("initializer", initializer, list(INITIALIZERS)),
              ("optimizer", optimizer, names),
              ("activation", activation, ["relu", "tanh", "sigmoid", "linear"]),
              ("batch_size", batch_size, [b for _, b in BATCH_SIZES]))
    for what, value, allowed in checks:
        if value not in allowed:
            raise ValueError(f"{what} must be one of {allowed}, got {value!r}.")
    style = {"description_width": "100px"}
    layout = widgets.Layout(width="330px")
    controls = {
        "dataset": widgets.Dropdown(options=list(DATASETS), value=dataset, description="data set",
                                    style=style, layout=layout),
        "hidden_units": widgets.IntSlider(value=hidden_units, min=1, max=64, description="hidden units",
                                          style=style, layout=layout),
        "activation": widgets.Dropdown(options=["relu", "tanh", "sigmoid", "linear"], value=activation,
                                       description="activation", style=style, layout=layout),
        "initializer": widgets.Dropdown(options=list(INITIALIZERS), value=initializer,
                                        description="initialiser", style=style, layout=layout),
        "optimizer": widgets.Dropdown(options=names, value=optimizer, description="optimizer",
                                      style=style, layout=layout),
        "learning_rate": widgets.FloatLogSlider(value=learning_rate, base=10, min=-4, max=0, step=0.1,
                                                description="learning rate", readout_format=".3g",
                                                style=style, layout=layout),
        "batch_size": widgets.Dropdown(options=BATCH_SIZES, value=batch_size, description="batch size",
                                       style=style, layout=layout),
        "epochs": widgets.IntSlider(value=epochs, min=1, max=300, description="epochs",
                                    style=style, layout=layout),
    }
    data_cache: dict = {}
    shown = {"figure": None, "x": None}   # one TrainingFigure, built once and updated; the points it shows

    def compute(values):
        key = values["dataset"]
        if key not in data_cache:
            x, y = DATASETS[key](seed)
            x_val, y_val = DATASETS[key](seed + 1)
            data_cache[key] = (x, y, x_val, y_val)
        model = mlp((values["hidden_units"],) * 2, activation=values["activation"], n_inputs=2,
                    n_outputs=1, output_activation="sigmoid",
                    kernel_initializer=INITIALIZERS[values["initializer"]], seed=seed)
        opt = fresh_optimizer({"class_name": values["optimizer"], "config": {"lr": values["learning_rate"]}})
        model.compile(loss="binary_crossentropy", optimizer=opt, metrics=["accuracy"])
        return TrainingState(model, data_cache[key], model.get_weights(), {}, values["epochs"],
                             values["batch_size"], dict(values), [])

    def draw(state, values):
        x, y = state.data[0], state.data[1]
        done = len(state.history.get("loss", []))
        title = (f"{values['dataset']}: 2 x {values['hidden_units']} {values['activation']} units, "
                 f"{values['initializer'].split(' ')[0]}, {values['optimizer']} lr {values['learning_rate']:.3g}, "
                 f"batch {state.batch_size} -- epoch {done}/{state.epochs}")
        if shown["figure"] is None:
            shown["figure"] = TrainingFigure(x, y)
        elif shown["x"] is not x:                      # another data set: move the points
            shown["figure"].set_data(x, y)
        shown["x"] = x
        with np.errstate(over="ignore", invalid="ignore"):
            health = layer_health(state.model, x, y.reshape(-1, 1), state.kernels_before or None)
            if not state.kernels_before:                    # no step taken yet: no ratio to show
                health = [row._replace(update_ratio=float("nan")) for row in health]
            zero = not any(np.any(layer.kernel) for layer in state.model.layers)
            return shown["figure"].update(state.model.predict, state.history, state.epochs, title, health,
                                          ZERO_WEIGHTS_NOTE if zero else None)

    dash = TrainingDashboard(controls, compute, draw, title="Train a small network on a toy problem",
                             redraw_every=redraw_every, auto_train=auto_train)
    dash.redraw()
    return dash
