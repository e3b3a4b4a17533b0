"""The backprop stepper: train a small network on XOR one gradient-descent step at a time and
watch the loss, the size of each layer's gradient and each layer's dkernel.

    dash = backprop_stepper()          # shows itself in a notebook cell; click "Step"
    dash.step()                        # the same as one click
    dash.step(10)                      # ten clicks
    dash.set(activation="sigmoid")     # a new network, trained again for the same number of steps
    dash.state.losses                  # the loss after 0, 1, ..., steps updates

After k steps the figure shows the weights W_k: the loss at W_k, and the gradients at W_k,
which the next step will use (W_{k+1} = W_k - learning_rate * gradient). Each step is one
full-batch update with ``course.optimizers.SGD`` on the whole toy data set, so the state is a
function of the controls: the same settings and step count always give the same picture.
Going forward one step reuses the previous steps; going back starts again from the nearest
copy of the network kept on the way (one every ``CHECKPOINT_EVERY`` steps), so that dragging
the steps slider back and forth stays quick; any other change trains again from step 0.
"""
from __future__ import annotations

import copy
from functools import lru_cache
from typing import NamedTuple

import ipywidgets as widgets
import numpy as np

from ..datasets import make_xor
from ..layers import Dense
from ..models import Sequential
from ..optimizers import SGD
from ..plots.backprop import BackpropFigure
from ..plots.network import decision_grid
from .dashboard import Dashboard

__all__ = ["StepperState", "BackpropStepper", "backprop_stepper", "build_toy_network"]

HIDDEN_ACTIVATIONS = ("tanh", "sigmoid", "relu")
#: A copy of the network (weights, gradients and optimizer) is kept every this many steps.
CHECKPOINT_EVERY = 25


@lru_cache(maxsize=16)
def _data(seed: int):
    x, y = make_xor(n_samples=64, noise=0.3, seed=seed)
    grid = decision_grid(x, resolution=40)
    for a in (x, y, *grid):
        a.flags.writeable = False
    return x, y.reshape(-1, 1).astype(np.float32), grid


def build_toy_network(activation: str = "tanh", learning_rate: float = 0.5, hidden=(4, 4),
                      seed: int = 0) -> Sequential:
    """The stepper's network: 2 inputs, hidden Dense layers with ``activation``, one sigmoid
    output, binary cross-entropy, SGD(lr=learning_rate). Weights seeded (seed, seed + 1, ...)."""
    model = Sequential(name=f"xor_{activation}")
    sizes = list(hidden) + [1]
    for i, units in enumerate(sizes):
        last = i == len(sizes) - 1
        model.add(Dense(units, activation="sigmoid" if last else activation,
                        input_shape=(2,) if i == 0 else None, seed=seed + i,
                        name="output" if last else f"hidden_{i + 1}"))
    model.compile(loss="binary_crossentropy", optimizer=SGD(lr=learning_rate))
    return model


class StepperState(NamedTuple):
    """The network after ``steps`` updates and everything measured on the way.

    losses (steps + 1,): the loss at W_0 .. W_k. norms (steps + 1, n_layers): ||dkernel|| of each
    layer at W_0 .. W_k. dkernels: each layer's dkernel at W_k. probabilities: the network's
    output on the decision grid at W_k.
    """

    steps: int
    model: Sequential
    losses: np.ndarray
    norms: np.ndarray
    dkernels: list
    probabilities: np.ndarray


class BackpropStepper(Dashboard):
    """A Dashboard with a "Step" button: ``step(n)`` advances the ``steps`` control by n."""

    def __init__(self, learning_rate: float = 0.5, activation: str = "tanh", seed: int = 0,
                 steps: int = 0, max_steps: int = 1000):
        if activation not in HIDDEN_ACTIVATIONS:
            raise ValueError(f"activation must be one of {', '.join(HIDDEN_ACTIVATIONS)}, "
                             f"got {activation!r}.")
        style = {"description_width": "initial"}
        controls = {
            "learning_rate": widgets.FloatSlider(value=learning_rate, min=0.01, max=3.0, step=0.01,
                                                 description="learning rate", style=style),
            "activation": widgets.Dropdown(options=list(HIDDEN_ACTIVATIONS), value=activation,
                                           description="hidden activation", style=style),
            "seed": widgets.IntSlider(value=seed, min=0, max=9, description="seed", style=style),
            "steps": widgets.IntSlider(value=steps, min=0, max=max_steps, description="steps taken",
                                       style=style),
            "step_button": widgets.Button(description="Step", button_style="primary",
                                          tooltip="one gradient-descent update"),
            "step10_button": widgets.Button(description="Step x10", tooltip="ten updates"),
        }
        controls["step_button"].on_click(lambda _: self.step(1))
        controls["step10_button"].on_click(lambda _: self.step(10))
        self._run = None  # (key, model, losses, norms) of the last computation, to step onward
        self._checkpoints: dict = {}  # step -> copy of the network at that step, for the same key
        self._figure: BackpropFigure | None = None    # built at the first redraw, then updated
        super().__init__(controls, self._compute_state, self._draw_state,
                         title="Backpropagation, one step at a time (XOR, 2-4-4-1 network)")

    def step(self, n: int = 1) -> "BackpropStepper":
        """Take n more update steps (what the Step button does); redraws once."""
        slider = self.controls["steps"]
        self.set(steps=min(slider.value + int(n), slider.max))
        return self

    # -- model side ---------------------------------------------------------------------------
    def _compute_state(self, values) -> StepperState:
        x, y, (_, _, grid) = _data(values["seed"])
        key = (values["learning_rate"], values["activation"], values["seed"])
        target = values["steps"]
        if self._run is None or self._run[0] != key:
            model = build_toy_network(values["activation"], values["learning_rate"], seed=values["seed"])
            loss, _ = model.compute_gradients(x, y)
            self._run = (key, model, [loss], [_norms(model)])
            self._checkpoints = {0: copy.deepcopy(model)}
        elif len(self._run[2]) - 1 > target:      # back: from the last copy at or before target
            step = max(k for k in self._checkpoints if k <= target)
            _, _, losses, norms = self._run
            self._run = (key, copy.deepcopy(self._checkpoints[step]), losses[:step + 1], norms[:step + 1])
        _, model, losses, norms = self._run
        while len(losses) - 1 < target:
            # W_{k+1} = W_k - lr * grad(W_k); the gradients of W_k are in the layers already.
            model.optimizer.apply_gradients(model.trainable_weights, model.gradients)
            loss, _ = model.compute_gradients(x, y)
            losses.append(loss)
            norms.append(_norms(model))
            if (len(losses) - 1) % CHECKPOINT_EVERY == 0:
                self._checkpoints.setdefault(len(losses) - 1, copy.deepcopy(model))
        return StepperState(target, model, np.array(losses), np.array(norms),
                            [layer.dkernel.copy() for layer in model.layers],
                            model.predict(grid, batch_size=len(grid)).reshape(-1))

    def _draw_state(self, state: StepperState, values):
        x, y, (gx, gy, _) = _data(values["seed"])
        names = [layer.name for layer in state.model.layers]
        if self._figure is None or self._figure.layer_names != names:
            self._figure = BackpropFigure(names)
        return self._figure.update(state.steps, state.losses, state.norms, state.dkernels,
                                   regions=(gx, gy, state.probabilities), x=x, y=y.reshape(-1),
                                   title=f"{values['activation']} hidden layers, learning rate "
                                         f"{values['learning_rate']:.2f}")


def _norms(model: Sequential) -> list[float]:
    return [float(np.linalg.norm(layer.dkernel)) for layer in model.layers]


def backprop_stepper(learning_rate: float = 0.5, activation: str = "tanh", seed: int = 0,
                     steps: int = 0) -> BackpropStepper:
    """A BackpropStepper with controls learning_rate, activation, seed, steps and Step buttons."""
    return BackpropStepper(learning_rate=learning_rate, activation=activation, seed=seed, steps=steps)
