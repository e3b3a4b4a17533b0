"""course.autograd: the scalar Value, and the checks that lesson 3's learners run on their own."""
import json
import math
from pathlib import Path

import numpy as np
import pytest

from course import autograd, derivations
from course.autograd import Value, check_dense_backward, check_value

LESSON_3 = Path(__file__).resolve().parents[1] / "notebooks" / "03_backpropagation.ipynb"


def test_value_worked_example_by_hand():
    a, b = Value(2.0), Value(-3.0)
    c = a * b + a                      # dc/da = b + 1 = -2, dc/db = a = 2
    c.backward()
    assert (c.data, a.grad, b.grad) == (-4.0, -2.0, 2.0)


def test_a_value_used_twice_collects_both_shares():
    a = Value(3.0)
    (a * a + a).backward()
    assert a.grad == 7.0


@pytest.mark.parametrize("z", [-800.0, -5.0, 0.0, 5.0, 800.0])
def test_sigmoid_is_stable_and_its_gradient_matches_finite_differences(z):
    a = Value(z)
    s = a.sigmoid()
    s.backward()
    assert 0.0 <= s.data <= 1.0 and math.isfinite(a.grad)
    h = 1e-6
    numeric = (Value(z + h).sigmoid().data - Value(z - h).sigmoid().data) / (2 * h)
    assert a.grad == pytest.approx(numeric, abs=1e-9)


def test_the_221_network_gives_the_hand_computation_digit_for_digit():
    nodes = autograd.network_221()
    nodes["L"].backward()
    hand = derivations.backprop_by_hand()
    assert nodes["L"].data == pytest.approx(hand.value["L"], rel=1e-12)
    for name, grad in hand.weight_grad.items():
        assert nodes[name].grad == pytest.approx(grad, rel=1e-12), name


def test_the_221_network_matches_torch_autograd():
    torch_grads = autograd._torch_gradients()
    if torch_grads is None:
        pytest.skip("torch is not installed")
    nodes = autograd.network_221()
    nodes["L"].backward()
    for name, grad in torch_grads.items():
        assert nodes[name].grad == pytest.approx(grad, rel=1e-12), name


def test_check_value_accepts_the_reference():
    result = check_value(Value)
    assert result.passed and "all 9 gradients match" in result.message, result.message
    assert result._repr_markdown_().startswith("✔")


def _learner_class(fill):
    """The lesson's MyValue with its four 'your turn' lines replaced by ``fill``."""
    source = next("".join(c["source"]) for c in json.loads(LESSON_3.read_text())["cells"]
                  if "class MyValue" in "".join(c["source"]))
    source = source.replace("check_value(MyValue)", "")
    for marker, line in fill.items():
        source = "\n".join(l.split("pass")[0] + line if marker in l and "pass" in l else l
                           for l in source.splitlines())
    namespace = {}
    exec(source, namespace)  # the lesson's own cell
    return namespace["MyValue"]


SOLUTION = {"d(a + b)/da": "self.grad += out.grad; other.grad += out.grad",
            "d(ab)/da": "self.grad += other.data * out.grad; other.grad += self.data * out.grad",
            "dσ/da": "self.grad += s * (1 - s) * out.grad",
            "every node's _backward": "[node._backward() for node in reversed(order)]"}


def test_the_lesson_stub_says_not_yet_and_its_solution_passes():
    stub = check_value(_learner_class({}))
    assert not stub.passed and stub.message.startswith("Not yet. a + b"), stub.message
    assert check_value(_learner_class(SOLUTION)).passed


def test_the_usual_mistakes_are_named():
    assigned = dict(SOLUTION, **{"d(ab)/da": "self.grad = other.data * out.grad; other.grad = self.data * out.grad"})
    result = check_value(_learner_class(assigned))
    assert not result.passed and "used three times" in result.message and "+=" in result.message, result.message
    forward = dict(SOLUTION, **{"every node's _backward": "[node._backward() for node in order]"})
    result = check_value(_learner_class(forward))
    assert not result.passed and "Not yet" in result.message, result.message
    broken = dict(SOLUTION, **{"dσ/da": "self.grad += undefined_name"})
    assert "NameError" in check_value(_learner_class(broken)).message


def test_check_dense_backward_accepts_the_library_kernel_and_names_the_wrong_gradient():
    from course.layers import dense_backward

    assert check_dense_backward(dense_backward).passed
    mean_bias = check_dense_backward(lambda d, c: (d @ c.kernel.T, c.x.T @ d, d.mean(axis=0)))
    assert not mean_bias.passed and "dbias is wrong" in mean_bias.message, mean_bias.message
    transposed = check_dense_backward(lambda d, c: (d @ c.kernel.T, d.T @ c.x, d.sum(axis=0)))
    assert "dkernel must have the shape of kernel, (3, 2); got (2, 3)" in transposed.message
    stub = check_dense_backward(lambda d, c: (np.zeros_like(c.x), np.zeros_like(c.kernel), np.zeros(d.shape[1])))
    assert not stub.passed and stub.message.startswith("Not yet")
    assert "raised" in check_dense_backward(lambda *a: 1 / 0).message
