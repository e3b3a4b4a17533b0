"""The optimizers of lesson 4 as a chain of ideas, each from the one before, and the lesson-3
computation graph of a 2-2-1 network worked by hand.

    OPTIMIZER_CHAIN    the seven steps: name, the new idea, the update rule (LaTeX), the step function
    update_lines       the few lines of ``course.optimizers`` that implement one step of the chain
    show_update        the rule and its lines side by side, as Markdown for a notebook cell
    step_sizes         how far each weight moved at each step of a trajectory
    valley_steps       SGD, Adagrad, RMSprop ... on an elongated valley: paths and step per weight

The rules are not written a second time here: ``update_lines`` reads them from the step
functions of ``course.optimizers`` (``sgd_step``, ``adagrad_step``, ...), so what the lesson
shows is what the library runs.
"""
from __future__ import annotations

import inspect
from typing import Callable, NamedTuple

import numpy as np

from . import optimizers as opt
from .landscapes import Landscape, Trajectory, run_optimizer, valley

__all__ = ["ChainStep", "OPTIMIZER_CHAIN", "update_lines", "show_update", "step_sizes",
           "valley_steps"]


class ChainStep(NamedTuple):
    """One optimizer of the chain."""

    name: str
    idea: str                  # what it adds to the one before, in one line
    formula: str               # the update rule, LaTeX (for a Markdown cell: $$ ... $$)
    step: Callable             # the function of course.optimizers that makes one update
    make: Callable             # a new optimizer object with the lesson's settings


OPTIMIZER_CHAIN = [
    ChainStep("momentum",
              "keep a velocity: a running sum of past steps, so steps that agree add up and "
              "steps that alternate cancel",
              r"v \leftarrow \mu v - \eta g, \qquad w \leftarrow w + v"
              r"\qquad\text{(Nesterov: } w \leftarrow w + \mu v - \eta g\text{, with the updated } v)",
              opt.sgd_step, lambda: opt.SGD(lr=0.05, momentum=0.9)),
    ChainStep("Adagrad",
              "a step size per weight: divide by the root of the sum of that weight's squared "
              "gradients, so steep directions get small steps and flat ones large steps",
              r"G \leftarrow G + g^2, \qquad w \leftarrow w - \frac{\eta}{\sqrt{G} + \epsilon}\, g",
              opt.adagrad_step, lambda: opt.Adagrad(lr=0.5)),
    ChainStep("RMSprop",
              "forget old gradients: a moving average of g² instead of the sum, so the steps "
              "stop shrinking",
              r"s \leftarrow \rho s + (1-\rho) g^2, \qquad w \leftarrow w - \frac{\eta}{\sqrt{s} + \epsilon}\, g",
              opt.rmsprop_step, lambda: opt.RMSprop(lr=0.05)),
    ChainStep("Adadelta",
              "steps in the units of the weights: replace the learning rate by the root of the "
              "moving average of past squared steps",
              r"s \leftarrow \rho s + (1-\rho) g^2, \quad \Delta = \frac{\sqrt{d + \epsilon}}{\sqrt{s + \epsilon}}\, g,"
              r"\quad w \leftarrow w - \eta \Delta, \quad d \leftarrow \rho d + (1-\rho) \Delta^2",
              opt.adadelta_step, lambda: opt.Adadelta(lr=1.0)),
    ChainStep("Adam",
              "momentum and RMSprop together, with a bias correction for averages that start at zero",
              r"m \leftarrow \beta_1 m + (1-\beta_1) g, \quad v \leftarrow \beta_2 v + (1-\beta_2) g^2,"
              r"\quad w \leftarrow w - \eta \frac{\sqrt{1-\beta_2^t}}{1-\beta_1^t} \frac{m}{\sqrt{v} + \epsilon}",
              opt.adam_step, lambda: opt.Adam(lr=0.05)),
    ChainStep("Adamax",
              "the infinity norm: divide by the largest recent |g| (decayed) instead of the root "
              "of the mean of g²",
              r"m \leftarrow \beta_1 m + (1-\beta_1) g, \quad u \leftarrow \max(\beta_2 u, |g|),"
              r"\quad w \leftarrow w - \frac{\eta}{1-\beta_1^t} \frac{m}{u + \epsilon}",
              opt.adamax_step, lambda: opt.Adamax(lr=0.05)),
    ChainStep("Nadam",
              "Nesterov inside Adam: use the next step's momentum on the corrected average, "
              "plus the current gradient",
              r"\hat g = \frac{g}{1-\prod_{i\le t}\mu_i}, \quad \hat m = \frac{m}{1-\prod_{i\le t+1}\mu_i},"
              r"\quad \hat v = \frac{v}{1-\beta_2^t}, \quad w \leftarrow w - \eta \frac{(1-\mu_t)\hat g + \mu_{t+1}\hat m}{\sqrt{\hat v} + \epsilon}",
              opt.nadam_step, lambda: opt.Nadam(lr=0.05)),
]


def _chain_step(name: str) -> ChainStep:
    for step in OPTIMIZER_CHAIN:
        if step.name.lower() == name.lower():
            return step
    raise ValueError(f"no optimizer {name!r} in the chain; choose one of "
                     f"{[s.name for s in OPTIMIZER_CHAIN]}.")


def update_lines(name: str) -> list[str]:
    """The lines of the step function of ``course.optimizers`` that implement ``name``'s rule.

    The body of the function after its docstring, without the blank lines, dedented.

    >>> update_lines("RMSprop")[0]
    'accumulator = rho * accumulator + (1 - rho) * grad ** 2'
    """
    source = inspect.getsource(_chain_step(name).step)
    lines = source.splitlines()
    quotes = [i for i, line in enumerate(lines) if '"""' in line]
    body = lines[quotes[1] + 1:] if len(quotes) >= 2 else lines[1:]
    return [line.strip() if line.startswith("    ") and not line.startswith("        ") else
            line[4:] for line in body if line.strip()]


def show_update(name: str) -> str:
    """The update rule and the lines that implement it, as Markdown (display with ``Markdown``)."""
    step = _chain_step(name)
    module = step.step.__module__
    code = "\n".join(update_lines(name))
    return (f"**{step.name}**: {step.idea}.\n\n$${step.formula}$$\n\n"
            f"`{module}.{step.step.__name__}`:\n\n```python\n{code}\n```")


def step_sizes(trajectory: Trajectory) -> np.ndarray:
    """(steps, dim): |change of each weight| at each step of the trajectory."""
    return np.abs(np.diff(np.asarray(trajectory.path, dtype=float), axis=0))


def valley_steps(names=("momentum", "Adagrad", "RMSprop", "Adam"), landscape: Landscape | None = None,
                 start=(-2.5, 1.0), steps: int = 30, sgd_lr: float = 0.09) -> dict:
    """Plain SGD and the chain's optimizers on an elongated valley; label -> Trajectory.

    The valley (``landscapes.valley()``, 20 times steeper across than along) is the picture of
    the per-weight step size: SGD's step is lr times the gradient, large across and tiny along;
    Adagrad and its successors divide each weight's step by that weight's gradient size.
    """
    landscape = landscape or valley()
    runs = {f"SGD (lr {sgd_lr})": run_optimizer(opt.SGD(lr=sgd_lr), landscape, start, steps)}
    for name in names:
        runs[name] = run_optimizer(_chain_step(name).make(), landscape, start, steps)
    return runs
