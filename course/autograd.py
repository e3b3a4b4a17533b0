"""Backpropagation built by hand: a scalar autograd ``Value`` and the checks for a learner's own.

A ``Value`` holds a number, the gradient dL/dvalue, and how it was made: which values it came
from and a function that sends its gradient back to them. Each operation's derivative sits next
to the operation (as in micrograd's ``engine.py``):

    c = a + b      dc/da = 1,  dc/db = 1          a.grad += c.grad;       b.grad += c.grad
    c = a * b      dc/da = b,  dc/db = a          a.grad += b * c.grad;   b.grad += a * c.grad
    s = sigmoid(a) ds/da = s (1 - s)              a.grad += s (1 - s) * s.grad

``backward()`` sets dL/dL = 1 and calls each node's function once, in reverse topological
order: a node sends its gradient back only after every node that uses it has sent theirs
(``+=``, because a value used twice collects a gradient from each use).

    Value                 the reference (what the checks compare with)
    network_221           the lesson-3 2-2-1 network built from Values of any class
    check_value           a learner's Value class against the reference, the course's kernels and
                          torch.autograd, step by step; never raises
    check_dense_backward  a learner's ``dense_backward(dout, cache)`` (the signature of
                          ``course.layers.dense_backward`` and of assignment 03) against
                          ``course.gradcheck`` finite differences: the inputs of
                          ``dense_backward_case`` judged by ``judge_dense_backward``, which
                          assignment 03's tests call too
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .utils import SelfCheck, get_rng

__all__ = ["Value", "network_221", "Check", "check_value", "check_dense_backward", "DenseBackwardCase",
           "dense_backward_case", "judge_dense_backward"]


class Value:
    """A scalar in a computation graph: ``data``, ``grad`` = dL/dvalue, and how it was made.

    >>> a, b = Value(2.0), Value(-3.0)
    >>> c = a * b + a                  # c = ab + a: dc/da = b + 1 = -2, dc/db = a = 2
    >>> c.backward()
    >>> c.data, a.grad, b.grad
    (-4.0, -2.0, 2.0)
    """

    def __init__(self, data: float, _children=(), _op: str = ""):
        self.data = float(data)
        self.grad = 0.0
        self._backward = lambda: None      # sends self.grad back to the children
        self._prev = tuple(_children)
        self._op = _op

    def __add__(self, other) -> "Value":
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other) -> "Value":
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def sigmoid(self) -> "Value":
        s = 1.0 / (1.0 + math.exp(-self.data)) if self.data >= 0 else \
            math.exp(self.data) / (1.0 + math.exp(self.data))      # stable for either sign
        out = Value(s, (self,), "sigmoid")

        def _backward():
            self.grad += s * (1.0 - s) * out.grad
        out._backward = _backward
        return out

    def backward(self) -> None:
        """dL/dnode for every node below this one (this one is L: its gradient is 1)."""
        order, seen = [], set()

        def visit(node):
            if id(node) not in seen:
                seen.add(id(node))
                for child in node._prev:
                    visit(child)
                order.append(node)           # after all its children: topological order
        visit(self)
        self.grad = 1.0
        for node in reversed(order):
            node._backward()

    # the rest is + and * again, so a learner's class gets them for free
    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-other if isinstance(other, Value) else -float(other))

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __repr__(self) -> str:
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g})"


def network_221(value_class=Value, x=None, y=None, weights=None) -> dict:
    """The 2-2-1 sigmoid network of lesson 3 for one example, built from ``value_class``.

    Uses only ``+``, ``*`` and ``.sigmoid()`` (and a number times a Value): z_j = x1 w1j + x2 w2j
    + b_j, h_j = sigmoid(z_j), z3 = h1 v1 + h2 v2 + c, p = sigmoid(z3), L = (p - y)(p - y).
    Returns name -> node for the weights ('w11' .. 'c') and the nodes ('z1', 'h1', ..., 'p', 'L').
    Defaults: ``course.derivations.EXAMPLE_221``.
    """
    from .derivations import EXAMPLE_221

    x = EXAMPLE_221["x"] if x is None else x
    y = EXAMPLE_221["y"] if y is None else y
    nodes = {name: value_class(float(v)) for name, v in (weights or EXAMPLE_221["weights"]).items()}
    x1, x2 = (value_class(float(v)) for v in x)
    for j in (1, 2):
        nodes[f"z{j}"] = x1 * nodes[f"w1{j}"] + x2 * nodes[f"w2{j}"] + nodes[f"b{j}"]
        nodes[f"h{j}"] = nodes[f"z{j}"].sigmoid()
    nodes["z3"] = nodes["h1"] * nodes["v1"] + nodes["h2"] * nodes["v2"] + nodes["c"]
    nodes["p"] = nodes["z3"].sigmoid()
    error = nodes["p"] + value_class(-float(y))
    nodes["L"] = error * error
    return nodes


Check = SelfCheck   # passed or not, and what to look at (course.utils.SelfCheck)


WEIGHTS = ("w11", "w12", "w21", "w22", "b1", "b2", "v1", "v2", "c")


def _torch_gradients() -> dict | None:
    """The 2-2-1 gradients from torch.autograd, or None where torch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    from .derivations import EXAMPLE_221

    w = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in EXAMPLE_221["weights"].items()}
    x1, x2 = (torch.tensor(v, dtype=torch.float64) for v in EXAMPLE_221["x"])
    h = [torch.sigmoid(x1 * w[f"w1{j}"] + x2 * w[f"w2{j}"] + w[f"b{j}"]) for j in (1, 2)]
    p = torch.sigmoid(h[0] * w["v1"] + h[1] * w["v2"] + w["c"])
    ((p - EXAMPLE_221["y"]) ** 2).backward()
    return {k: float(w[k].grad) for k in WEIGHTS}


def _close(a, b) -> bool:
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)


def check_value(value_class) -> Check:
    """Check a learner's ``Value`` class step by step: +, *, sigmoid, a value used twice, then the
    2-2-1 network against ``course.derivations`` (the course's kernels) and torch.autograd.

    Never raises: the result says which step went wrong, what was expected and what came back.
    """
    def attempt(build):
        try:
            return build(), None
        except Exception as err:  # the learner's code: say what happened, do not stop the lesson
            return None, f"{type(err).__name__}: {err}"

    steps = [
        ("a + b with a = 2, b = -3", lambda V: (lambda a, b: (a + b, a, b))(V(2.0), V(-3.0)),
         -1.0, (1.0, 1.0), "d(a + b)/da = 1 and d(a + b)/db = 1: each gets the gradient unchanged"),
        ("a * b with a = 2, b = -3", lambda V: (lambda a, b: (a * b, a, b))(V(2.0), V(-3.0)),
         -6.0, (-3.0, 2.0), "d(ab)/da = b and d(ab)/db = a"),
        ("sigmoid(a) with a = 0.5 (b unused)", lambda V: (lambda a, b: (a.sigmoid(), a, b))(V(0.5), V(0.0)),
         1 / (1 + math.exp(-0.5)), (0.2350037122015945, 0.0), "dσ/da = σ(a)(1 - σ(a))"),
        ("a * a + a with a = 3 (a used three times)", lambda V: (lambda a: (a * a + a, a, V(0.0)))(V(3.0)),
         12.0, (7.0, 0.0), "each use adds its share: 3 + 3 + 1 = 7, so accumulate with +=, do not assign"),
    ]
    for label, build, value, grads, hint in steps:
        built, error = attempt(lambda: build(value_class))
        if error:
            return Check(False, f"{label}: your Value raised {error}")
        out, a, b = built
        if not _close(out.data, value):
            return Check(False, f"{label}: the value should be {value:.6g}, got {out.data!r}.")
        _, error = attempt(out.backward)
        if error:
            return Check(False, f"{label}: backward() raised {error}")
        if not (_close(a.grad, grads[0]) and _close(b.grad, grads[1])):
            return Check(False, f"Not yet. {label}: expected gradients {grads[0]:.6g} and {grads[1]:.6g}, got "
                                f"{a.grad!r} and {b.grad!r} ({hint}).")
    nodes, error = attempt(lambda: network_221(value_class))
    if error:
        return Check(False, f"The 2-2-1 network: your Value raised {error}")
    _, error = attempt(nodes["L"].backward)
    if error:
        return Check(False, f"The 2-2-1 network: backward() raised {error}")
    from .derivations import backprop_by_hand, kernel_gradients

    kernels = kernel_gradients(backprop_by_hand())
    hand = backprop_by_hand()
    if not _close(nodes["L"].data, hand.value["L"]):
        return Check(False, f"The 2-2-1 network: L should be {hand.value['L']:.6f}, got {nodes['L'].data:.6f}.")
    wrong = [k for k in WEIGHTS if not math.isclose(nodes[k].grad, hand.weight_grad[k], rel_tol=1e-9, abs_tol=1e-12)]
    if wrong:
        k = wrong[0]
        return Check(False, f"Not yet. The 2-2-1 network: dL/d{k} should be {hand.weight_grad[k]:.6f}, got "
                            f"{nodes[k].grad:.6f} ({len(wrong)} of {len(WEIGHTS)} weights differ). If only "
                            "some differ, look at the order in backward(): a node may send its gradient "
                            "back before it has collected all of it.")
    worst_kernel = max(abs(nodes[k].grad - float(np.ravel(kernels[k])[0])) for k in WEIGHTS)
    torch_grads = _torch_gradients()
    against = f"the course's kernels (largest difference {worst_kernel:.1e}, float32)"
    if torch_grads is not None:
        worst_torch = max(abs(nodes[k].grad - torch_grads[k]) for k in WEIGHTS)
        if worst_torch > 1e-9:
            return Check(False, f"The 2-2-1 network differs from torch.autograd by {worst_torch:.1e}.")
        against += f" and torch.autograd (largest difference {worst_torch:.1e})"
    if worst_kernel > 1e-5:
        return Check(False, f"The 2-2-1 network differs from the course's kernels by {worst_kernel:.1e}.")
    return Check(True, f"Right: +, *, sigmoid and a value used three times; on the 2-2-1 network L = "
                       f"{nodes['L'].data:.4f}, and all {len(WEIGHTS)} gradients match the hand computation, "
                       f"{against}.")


class DenseBackwardCase(NamedTuple):
    """The inputs on which a ``dense_backward`` is checked: out = x @ kernel + bias, L = sum(out * dout)."""

    x: np.ndarray          # (4, 3)
    kernel: np.ndarray     # (3, 2)
    bias: np.ndarray       # (2,)
    dout: np.ndarray       # (4, 2): dL/dout, for this L


def dense_backward_case(seed=0) -> DenseBackwardCase:
    """Random float64 inputs for checking a Dense backward pass (lesson 3 and assignment 03).

    seed: an int, or a ``numpy.random.Generator`` (a hidden test passes ``hidden_rng()``).
    """
    rng = get_rng(seed)
    x, kernel = rng.normal(size=(4, 3)), rng.normal(size=(3, 2))
    return DenseBackwardCase(x, kernel, rng.normal(size=2), rng.normal(size=(4, 2)))


def judge_dense_backward(case: DenseBackwardCase, gradients) -> Check:
    """Compare (dx, dkernel, dbias), computed on ``case``, with central finite differences of L.

    Each gradient must have the shape of what it is the gradient of, and a relative error
    (``course.gradcheck``, float64) of 1e-6 or less. Never raises.
    """
    from .gradcheck import numerical_gradient, relative_error

    x, kernel, bias, dout = (np.array(a, dtype=np.float64) for a in case)

    def loss():
        return float(np.sum((x @ kernel + bias) * dout))

    try:
        dx, dkernel, dbias = (np.asarray(g, dtype=np.float64) for g in gradients)
    except (TypeError, ValueError) as err:
        return Check(False, f"Not yet. Return three arrays, (dx, dkernel, dbias); got {type(gradients).__name__} "
                            f"({err}).")
    errors = {}
    for name, got, wrt in (("dx", dx, x), ("dkernel", dkernel, kernel), ("dbias", dbias, bias)):
        if got.shape != wrt.shape:
            return Check(False, f"Not yet. {name} must have the shape of {name[1:]}, {wrt.shape}; got {got.shape}.")
        errors[name] = relative_error(got, numerical_gradient(loss, wrt))
    worst = max(errors, key=errors.get)
    report = ", ".join(f"{k} {v:.1e}" for k, v in errors.items())
    if not errors[worst] <= 1e-6:
        return Check(False, f"Not yet. Relative errors against finite differences: {report}; {worst} is wrong.")
    return Check(True, f"Right: relative errors against finite differences {report} (a correct gradient "
                       "gives 1e-6 or less).")


def check_dense_backward(dense_backward, seed=0) -> Check:
    """Check a learner's ``dense_backward(dout, cache) -> (dx, dkernel, dbias)`` for out = x @ kernel + bias.

    ``cache`` is a ``course.layers.DenseCache(x, kernel)``; the order of the results is that of
    ``course.layers.dense_backward``. The inputs are ``dense_backward_case(seed)``; the loss is
    L = sum(out * dout), and ``judge_dense_backward`` compares each returned gradient with
    central finite differences of L. Assignment 03 grades its ``dense_backward`` with the same
    two functions. Never raises.
    """
    from .layers import DenseCache

    case = dense_backward_case(seed)
    try:
        returned = dense_backward(case.dout.copy(), DenseCache(case.x.copy(), case.kernel.copy()))
    except NotImplementedError:
        return Check(False, "Not yet: your function is not written yet (it raises NotImplementedError).")
    except Exception as err:  # the learner's code: say what happened, do not stop the lesson
        return Check(False, f"Your function raised {type(err).__name__}: {err}")
    return judge_dense_backward(case, returned)
