"""The optimizers of lesson 4 as two lines of ideas that join in Adam, and the lesson-3
computation graph of a 2-2-1 network worked by hand.

The two lines: momentum (a velocity), and a step size per weight (Adagrad, then RMSprop, then
Adadelta). Adam joins them, with a bias correction; Adamax and Nadam are variants of Adam.

    OPTIMIZER_CHAIN    the seven rules: name, what it builds on, the new idea, the update rule
                       (LaTeX), the step function
    update_lines       the few lines of ``course.optimizers`` that implement one step of the chain
    implementation     the same lines with the function's name, to print in a lesson
    show_update        the rule and its lines side by side, as Markdown for a notebook cell
    step_sizes         how far each weight moved at each step of a trajectory
    valley_steps       SGD, Adagrad, RMSprop ... on an elongated valley: paths and step per weight
    backprop_by_hand   a 2-2-1 sigmoid network, one example, squared error: the chain rule
                       written out number by number, values forward and gradients backward
    kernel_gradients   the same gradients from the course's kernels (``analysis.backprop_trace``)

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

__all__ = ["ChainStep", "OPTIMIZER_CHAIN", "update_lines", "implementation", "show_update", "step_sizes",
           "valley_steps", "HandGraph", "backprop_by_hand", "kernel_gradients", "EXAMPLE_221"]


class ChainStep(NamedTuple):
    """One optimizer of the chain."""

    name: str
    builds_on: str             # the rule(s) it takes its ideas from
    idea: str                  # what it adds to them, in one line
    formula: str               # the update rule, LaTeX (for a Markdown cell: $$ ... $$)
    step: Callable             # the function of course.optimizers that makes one update
    make: Callable             # a new optimizer object with the lesson's settings


OPTIMIZER_CHAIN = [
    ChainStep("momentum", "SGD",
              "keep a velocity: a running sum of past steps, so steps that agree add up and "
              "steps that alternate cancel",
              r"v \leftarrow \mu v - \eta g, \qquad w \leftarrow w + v"
              r"\qquad\text{(Nesterov: } w \leftarrow w + \mu v - \eta g\text{, with the updated } v)",
              opt.sgd_step, lambda: opt.SGD(lr=0.05, momentum=0.9)),
    ChainStep("Adagrad", "SGD",
              "a learning rate per weight: divide by the root of the sum of that weight's squared "
              "gradients, so a weight with large gradients gets a small effective rate and the "
              "steps of all weights come out about the same size",
              r"G \leftarrow G + g^2, \qquad w \leftarrow w - \frac{\eta}{\sqrt{G} + \epsilon}\, g",
              opt.adagrad_step, lambda: opt.Adagrad(lr=0.5)),
    ChainStep("RMSprop", "Adagrad",
              "forget old gradients: a moving average of g² instead of the sum, so the steps "
              "stop shrinking",
              r"s \leftarrow \rho s + (1-\rho) g^2, \qquad w \leftarrow w - \frac{\eta}{\sqrt{s} + \epsilon}\, g",
              opt.rmsprop_step, lambda: opt.RMSprop(lr=0.05)),
    ChainStep("Adadelta", "RMSprop",
              "steps in the units of the weights: replace the learning rate by the root of the "
              "moving average of past squared steps",
              r"s \leftarrow \rho s + (1-\rho) g^2, \quad \Delta = \frac{\sqrt{d + \epsilon}}{\sqrt{s + \epsilon}}\, g,"
              r"\quad w \leftarrow w - \eta \Delta, \quad d \leftarrow \rho d + (1-\rho) \Delta^2",
              opt.adadelta_step, lambda: opt.Adadelta(lr=1.0)),
    ChainStep("Adam", "momentum and RMSprop",
              "momentum and RMSprop together, with a bias correction for averages that start at zero",
              r"m \leftarrow \beta_1 m + (1-\beta_1) g, \quad v \leftarrow \beta_2 v + (1-\beta_2) g^2,"
              r"\quad w \leftarrow w - \eta \frac{\sqrt{1-\beta_2^t}}{1-\beta_1^t} \frac{m}{\sqrt{v} + \epsilon}",
              opt.adam_step, lambda: opt.Adam(lr=0.05)),
    ChainStep("Adamax", "Adam",
              "the infinity norm: divide by the largest recent |g| (decayed) instead of the root "
              "of the mean of g²",
              r"m \leftarrow \beta_1 m + (1-\beta_1) g, \quad u \leftarrow \max(\beta_2 u, |g|),"
              r"\quad w \leftarrow w - \frac{\eta}{1-\beta_1^t} \frac{m}{u + \epsilon}",
              opt.adamax_step, lambda: opt.Adamax(lr=0.05)),
    ChainStep("Nadam", "Adam",
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


def implementation(name: str) -> str:
    """The step function's name and its update lines, as plain text for a notebook cell to print."""
    step = _chain_step(name).step
    lines = "\n".join("    " + line for line in update_lines(name))
    return f"{step.__module__}.{step.__name__}(...):\n{lines}"


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


# -- backpropagation by hand on a 2-2-1 network ------------------------------------------------------
class HandGraph(NamedTuple):
    """The computation graph of a 2-2-1 network for one example, every node with its numbers.

    value: node -> its value in the forward pass ('x1', 'x2', 'z1', 'z2', 'h1', 'h2', 'z3',
    'p', 'L'; and the label 'y'). grad: node -> dL/dnode in the backward pass (the same nodes but the inputs).
    weight_grad: weight -> dL/dweight ('w11' .. 'w22', 'b1', 'b2', 'v1', 'v2', 'c'). weights:
    the weights used. ``lines``: the chain rule, one line per gradient, with its numbers.
    """

    value: dict
    grad: dict
    weight_grad: dict
    weights: dict
    lines: list


#: The lesson's example: inputs, label and weights (w_ij: input i to hidden unit j; v_j: hidden j
#: to the output; b, c: biases).
EXAMPLE_221 = {"x": (1.0, 0.5), "y": 1.0,
               "weights": {"w11": 0.4, "w12": -0.6, "w21": 0.3, "w22": 0.8, "b1": 0.1, "b2": -0.1,
                           "v1": 0.7, "v2": -0.5, "c": 0.2}}


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + float(np.exp(-z)))


def backprop_by_hand(x=EXAMPLE_221["x"], y: float = EXAMPLE_221["y"],
                     weights: dict | None = None) -> HandGraph:
    """One forward and one backward pass through a 2-2-1 network with scalars only.

    Going:  z_j = x1 w1j + x2 w2j + b_j,  h_j = sigmoid(z_j)  (j = 1, 2)
            z3 = h1 v1 + h2 v2 + c,  p = sigmoid(z3),  L = (p - y)^2
    Return: dL/dp = 2 (p - y);  dL/dz3 = dL/dp * p (1 - p);  dL/dv_j = dL/dz3 * h_j;
            dL/dh_j = dL/dz3 * v_j;  dL/dz_j = dL/dh_j * h_j (1 - h_j);  dL/dw_ij = dL/dz_j * x_i

    Every line is one use of the chain rule: the gradient arriving at a node times the local
    derivative of that node. The numbers are those of ``kernel_gradients`` for the same network.
    """
    w = dict(EXAMPLE_221["weights"] if weights is None else weights)
    x1, x2 = (float(v) for v in x)
    value = {"x1": x1, "x2": x2, "y": float(y)}
    for j in (1, 2):
        value[f"z{j}"] = x1 * w[f"w1{j}"] + x2 * w[f"w2{j}"] + w[f"b{j}"]
        value[f"h{j}"] = _sigmoid(value[f"z{j}"])
    value["z3"] = value["h1"] * w["v1"] + value["h2"] * w["v2"] + w["c"]
    value["p"] = _sigmoid(value["z3"])
    value["L"] = (value["p"] - y) ** 2
    grad, weight_grad, lines = {"L": 1.0}, {}, []

    def say(name, formula, result):
        lines.append(f"{name} = {formula} = {result:+.4f}")

    p = value["p"]
    grad["p"] = 2 * (p - y)
    say("dL/dp", f"2 (p - y) = 2 ({p:.4f} - {y:g})", grad["p"])
    grad["z3"] = grad["p"] * p * (1 - p)
    say("dL/dz3", f"dL/dp * p (1 - p) = {grad['p']:+.4f} * {p * (1 - p):.4f}", grad["z3"])
    weight_grad["c"] = grad["z3"]
    say("dL/dc", "dL/dz3 * 1", weight_grad["c"])
    for j in (1, 2):
        h = value[f"h{j}"]
        weight_grad[f"v{j}"] = grad["z3"] * h
        say(f"dL/dv{j}", f"dL/dz3 * h{j} = {grad['z3']:+.4f} * {h:.4f}", weight_grad[f"v{j}"])
    for j in (1, 2):
        h = value[f"h{j}"]
        grad[f"h{j}"] = grad["z3"] * w[f"v{j}"]
        say(f"dL/dh{j}", f"dL/dz3 * v{j} = {grad['z3']:+.4f} * {w[f'v{j}']:+.2f}", grad[f"h{j}"])
        grad[f"z{j}"] = grad[f"h{j}"] * h * (1 - h)
        say(f"dL/dz{j}", f"dL/dh{j} * h{j} (1 - h{j}) = {grad[f'h{j}']:+.4f} * {h * (1 - h):.4f}",
            grad[f"z{j}"])
        for i, xi in ((1, x1), (2, x2)):
            weight_grad[f"w{i}{j}"] = grad[f"z{j}"] * xi
            say(f"dL/dw{i}{j}", f"dL/dz{j} * x{i} = {grad[f'z{j}']:+.4f} * {xi:g}",
                weight_grad[f"w{i}{j}"])
        weight_grad[f"b{j}"] = grad[f"z{j}"]
        say(f"dL/db{j}", f"dL/dz{j} * 1", weight_grad[f"b{j}"])
    return HandGraph(value, grad, weight_grad, w, lines)


def kernel_gradients(graph: HandGraph) -> dict:
    """The same gradients from the course's kernels: a ``Sequential`` 2-2-1 with the graph's
    weights, loss 'mse', traced by ``course.analysis.backprop_trace``; weight name -> gradient.
    """
    from .analysis import backprop_trace
    from .layers import Dense
    from .models import Sequential

    w = graph.weights
    model = Sequential([Dense(2, activation="sigmoid", input_shape=(2,)), Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="mse")
    model.set_weights([np.array([[w["w11"], w["w12"]], [w["w21"], w["w22"]]]), np.array([w["b1"], w["b2"]]),
                       np.array([[w["v1"]], [w["v2"]]]), np.array([w["c"]])])
    x = np.array([[graph.value["x1"], graph.value["x2"]]])
    y = np.array([[graph.value["y"]]])
    trace = backprop_trace(model, x, y)
    hidden, out = trace.layers
    grads = {f"w{i + 1}{j + 1}": float(hidden.dkernel[i, j]) for i in range(2) for j in range(2)}
    grads.update(b1=float(hidden.dbias[0]), b2=float(hidden.dbias[1]), v1=float(out.dkernel[0, 0]),
                 v2=float(out.dkernel[1, 0]), c=float(out.dbias[0]))
    grads["loss"] = trace.loss
    return grads
