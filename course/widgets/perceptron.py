"""The perceptron dashboard: change the learning rate, the epochs, the data or the seed, and
watch the perceptron's line and its mistakes per epoch.

    dash = perceptron_dashboard()              # shows itself in a notebook cell
    dash.set(dataset="xor", epochs=20)         # as a learner would with the controls
    dash.state.history.errors                  # the mistakes made in each epoch

On the blobs the mistakes reach 0 and the line stops moving; on XOR they never do.
"""
from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import ipywidgets as widgets
import numpy as np

from ..datasets import make_blobs, make_xor
from ..perceptron import PerceptronHistory, train_perceptron
from ..plots.perceptron import PerceptronFigure
from .dashboard import Dashboard

__all__ = ["PerceptronState", "perceptron_dashboard", "DATASETS"]

#: The data sets on offer: name -> function(seed) returning (x, y).
DATASETS = {
    "blobs": lambda seed: make_blobs(n_samples=120, noise=1.0, seed=seed),
    "xor": lambda seed: make_xor(n_samples=120, noise=0.25, seed=seed),
}


@lru_cache(maxsize=32)
def _data(name: str, seed: int):
    x, y = DATASETS[name](seed)
    x.flags.writeable = False  # shared between redraws: nobody may change it
    y.flags.writeable = False
    return x, y


class PerceptronState(NamedTuple):
    """What a redraw computed: the data and the whole training run."""

    x: np.ndarray
    y: np.ndarray
    history: PerceptronHistory

    @property
    def weights(self) -> np.ndarray:
        return self.history.weights[-1]

    @property
    def bias(self) -> float:
        return float(self.history.biases[-1])


def perceptron_dashboard(learning_rate: float = 0.1, epochs: int = 10, dataset: str = "blobs",
                         seed: int = 0) -> Dashboard:
    """A Dashboard with controls learning_rate, epochs, dataset ('blobs' or 'xor') and seed."""
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {sorted(DATASETS)}, got {dataset!r}.")
    style = {"description_width": "initial"}
    controls = {
        "learning_rate": widgets.FloatLogSlider(value=learning_rate, base=10, min=-3, max=1, step=0.25,
                                                description="learning rate", style=style,
                                                readout_format=".3g"),
        "epochs": widgets.IntSlider(value=epochs, min=1, max=30, description="epochs", style=style),
        "dataset": widgets.Dropdown(options=list(DATASETS), value=dataset, description="data set",
                                    style=style),
        "seed": widgets.IntSlider(value=seed, min=0, max=9, description="seed", style=style),
    }

    def compute(values) -> PerceptronState:
        x, y = _data(values["dataset"], values["seed"])
        history = train_perceptron(x, y, learning_rate=values["learning_rate"],
                                   epochs=values["epochs"], seed=values["seed"])
        return PerceptronState(x, y, history)

    figure = PerceptronFigure()      # built once, updated at each redraw

    def draw(state: PerceptronState, values):
        return figure.update(
            state.x, state.y, state.weights, state.bias, state.history.errors,
            title=f"Perceptron on {values['dataset']}, learning rate {values['learning_rate']:.3g}")

    return Dashboard(controls, compute, draw, title="The perceptron learning rule")
