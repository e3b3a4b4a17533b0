"""course.derivations: the optimizer chain of lesson 4 shows the library's own update lines."""
import numpy as np
import pytest

from course import derivations, landscapes
from course.plots import descent


def test_the_chain_runs_in_the_lesson_order_and_each_step_is_a_library_function():
    names = [step.name for step in derivations.OPTIMIZER_CHAIN]
    assert names == ["momentum", "Adagrad", "RMSprop", "Adadelta", "Adam", "Adamax", "Nadam"]
    for step in derivations.OPTIMIZER_CHAIN:
        assert step.step.__module__.startswith("course.optimizers")
        assert step.formula and step.idea


@pytest.mark.parametrize("name, must_hold", [
    ("momentum", "velocity = momentum * velocity - lr * grad"),
    ("Adagrad", "accumulator = accumulator + grad ** 2"),
    ("RMSprop", "rho * accumulator + (1 - rho) * grad ** 2"),
    ("Adadelta", "np.sqrt(delta_accumulator + epsilon)"),
    ("Adam", "lr_t = lr * (math.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t))"),
    ("Adamax", "u = np.maximum(beta_2 * u, np.abs(grad))"),
    ("Nadam", "m_bar = (1 - mu_t) * g_hat + mu_next * m_hat"),
])
def test_update_lines_are_the_code_after_the_docstring(name, must_hold):
    lines = derivations.update_lines(name)
    assert any(must_hold in line for line in lines), lines
    assert lines[-1].startswith("return ") and not any('"""' in line for line in lines)
    markdown = derivations.show_update(name)
    assert "$$" in markdown and "```python" in markdown and must_hold in markdown


def test_unknown_optimizer_names_the_choices():
    with pytest.raises(ValueError, match="Adagrad"):
        derivations.update_lines("LBFGS")


def test_adagrad_gives_both_weights_the_same_first_step_where_sgd_does_not():
    runs = derivations.valley_steps(names=("Adagrad",), steps=5)
    sgd, adagrad = (derivations.step_sizes(t) for t in runs.values())
    assert sgd.shape == (5, 2)
    assert sgd[0, 1] / sgd[0, 0] > 5              # steep weight moves far more under SGD
    assert np.isclose(adagrad[0, 0], adagrad[0, 1])  # lr * g / |g| on both weights


def test_step_per_weight_figure():
    runs = derivations.valley_steps(names=("Adagrad", "RMSprop"), steps=10)
    fig = descent.plot_step_per_weight(landscapes.valley(), runs)
    left, right = fig.axes[:2]
    assert right.get_yscale() == "log" and right.get_xlabel() and right.get_ylabel()
    assert len(right.get_legend_handles_labels()[1]) == 2 * len(runs)
    assert fig._suptitle is not None and left.get_title()


# -- backpropagation by hand on a 2-2-1 network ------------------------------------------------------
def test_backprop_by_hand_matches_the_course_kernels():
    graph = derivations.backprop_by_hand()
    kernels = derivations.kernel_gradients(graph)
    assert set(graph.weight_grad) == set(kernels) - {"loss"}
    for name, value in graph.weight_grad.items():
        assert np.isclose(value, kernels[name], rtol=1e-5, atol=1e-7), (name, value, kernels[name])
    assert np.isclose(graph.value["L"], kernels["loss"], rtol=1e-5)


def test_backprop_by_hand_on_other_weights_too(rng):
    names = ["w11", "w12", "w21", "w22", "b1", "b2", "v1", "v2", "c"]
    weights = dict(zip(names, rng.normal(size=9)))
    graph = derivations.backprop_by_hand(x=(-0.3, 2.0), y=0.0, weights=weights)
    kernels = derivations.kernel_gradients(graph)
    for name in names:
        assert np.isclose(graph.weight_grad[name], kernels[name], rtol=1e-4, atol=1e-6), name


def test_each_hand_line_is_one_chain_rule_step_with_its_number():
    graph = derivations.backprop_by_hand()
    by_name = {line.split(" = ")[0]: line for line in graph.lines}
    assert by_name["dL/dz3"].startswith("dL/dz3 = dL/dp * p (1 - p)")
    assert by_name["dL/dw21"].endswith(f"{graph.weight_grad['w21']:+.4f}")
    assert len(graph.lines) == 9 + 6       # nine weights, and the nodes p, z3, h1, h2, z1, z2


def test_computation_graph_figure_shows_every_value_and_gradient():
    from course.plots import backprop

    graph = derivations.backprop_by_hand()
    fig = backprop.plot_computation_graph(graph)
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    for name in ("z1", "h2", "z3", "p"):
        assert f"{graph.value[name]:+.4f}" in texts and f"{graph.grad[name]:+.4f}" in texts, name
    for name, value in graph.weight_grad.items():
        assert f"∂L/∂{name} = {value:+.4f}" in texts, name
    ax = fig.axes[0]
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()


def test_implementation_names_the_function_and_indents_its_lines():
    text = derivations.implementation("Adamax")
    assert text.startswith("course.optimizers.adamax.adamax_step(...):\n    lr_t = ")


def test_the_optimizers_are_two_lines_that_join_in_adam():
    builds_on = {step.name: step.builds_on for step in derivations.OPTIMIZER_CHAIN}
    assert builds_on["momentum"] == "SGD" and builds_on["Adagrad"] == "SGD", "two lines, both from SGD"
    assert builds_on["RMSprop"] == "Adagrad" and builds_on["Adadelta"] == "RMSprop"
    assert builds_on["Adam"] == "momentum and RMSprop", "Adam joins the lines (not Adadelta: it keeps lr)"
    assert builds_on["Adamax"] == builds_on["Nadam"] == "Adam", "Nadam builds on Adam, not on Adamax"
