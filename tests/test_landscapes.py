"""Loss landscapes: gradients, minima, grids, and optimizers moving on them."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course import landscapes as L
from course.optimizers import SGD, Adam, Nadam, OPTIMIZERS

ALL = {name: factory() for name, factory in L.LANDSCAPES.items()}
ALL["bowl-1d"] = L.bowl(dim=1)
ALL["valley-turned"] = L.valley(condition=10, angle=30)
ALL["rosenbrock-a2"] = L.Rosenbrock(a=2.0, b=10.0)


def inside(landscape, rng, n=20):
    """n random points inside the plotting range, shape (n, dim)."""
    low = np.array([b[0] for b in landscape.bounds])
    high = np.array([b[1] for b in landscape.bounds])
    return low + (high - low) * rng.random((n, landscape.dim))


def central_differences(landscape, p, h=1e-6):
    grad = np.zeros_like(p)
    for i in range(landscape.dim):
        step = np.zeros(landscape.dim)
        step[i] = h
        grad[..., i] = (landscape.value(p + step) - landscape.value(p - step)) / (2 * h)
    return grad


@pytest.mark.parametrize("name", ALL)
def test_analytic_gradient_matches_central_differences(name, rng):
    landscape = ALL[name]
    points = inside(landscape, rng)
    analytic, numeric = landscape.grad(points), central_differences(landscape, points)
    scale = np.maximum(np.abs(analytic), 1.0)
    error = np.max(np.abs(analytic - numeric) / scale)
    assert error < 1e-6, (f"{name}: worst relative error {error:.2g}\n"
                          f"analytic {analytic[:3]}\nnumeric {numeric[:3]}")


@pytest.mark.parametrize("name", ALL)
def test_listed_minima_are_minima_and_the_first_is_the_lowest(name):
    landscape = ALL[name]
    minima = landscape.minima
    assert minima.shape[1] == landscape.dim
    grads = landscape.grad(minima)
    assert np.max(np.abs(grads)) < 1e-9, f"{name}: gradient at the minima {grads}"
    values = landscape.value(minima)
    assert np.all(values[0] <= values + 1e-12), f"{name}: values at the minima {values}"
    # every direction goes up: a small ring (1-D: two points) around each minimum is higher
    angles = np.linspace(0, 2 * np.pi, 16, endpoint=False)
    ring = np.stack([np.cos(angles), np.sin(angles)], axis=1)[:, :landscape.dim] if landscape.dim == 2 \
        else np.array([[1.0], [-1.0]])
    for point, value in zip(minima, values):
        around = landscape.value(point + 1e-3 * ring)
        assert np.all(around > value), f"{name}: {point} is not a local minimum ({value} vs {around})"
    np.testing.assert_array_equal(landscape.global_minimum, minima[0])


@pytest.mark.parametrize("name", ALL)
def test_no_grid_point_is_below_the_global_minimum(name):
    landscape = ALL[name]
    values = landscape.grid(101)[-1]
    assert values.min() >= landscape.value(landscape.global_minimum) - 1e-12


@pytest.mark.parametrize("name, point, value", [
    ("bowl", [1.0, 2.0], 2.5), ("valley", [1.0, 1.0], 10.5), ("rosenbrock", [1.0, 1.0], 0.0),
    ("rosenbrock", [0.0, 0.0], 1.0), ("rosenbrock", [-1.0, 2.0], 4.0 + 100.0), ("wavy", [0.0], 0.0),
    ("wavy", [np.pi], np.pi ** 2 / 10), ("six_hump_camel", [0.0, 0.0], 0.0),
    ("six_hump_camel", [1.0, 1.0], (4 - 2.1 + 1 / 3) + 1 + 0),
])
def test_values_worked_by_hand(name, point, value):
    assert ALL[name].value(point) == pytest.approx(value, abs=1e-12), f"{name} at {point}"


def test_bowl_gradient_is_the_point_itself():
    np.testing.assert_array_equal(L.bowl().grad([3.0, -4.0]), [3.0, -4.0])


def test_turned_valley_has_its_curvatures_along_the_turned_axes():
    valley = L.valley(condition=25, angle=30)
    np.testing.assert_allclose(np.linalg.eigvalsh(valley.matrix), [1.0, 25.0], rtol=1e-12)
    steep = np.array([-np.sin(np.radians(30)), np.cos(np.radians(30))])
    np.testing.assert_allclose(valley.grad(steep), 25 * steep, rtol=1e-12)


@pytest.mark.parametrize("name", ALL)
def test_value_and_grad_work_on_any_batch_of_points(name, rng):
    landscape = ALL[name]
    points = inside(landscape, rng, 12).reshape(3, 4, landscape.dim)
    values, grads = landscape.value(points), landscape.grad(points)
    assert values.shape == (3, 4) and grads.shape == (3, 4, landscape.dim)
    for index in [(0, 0), (2, 3)]:  # a batch may sum in another order: equal to rounding
        assert values[index] == pytest.approx(landscape.value(points[index]), rel=1e-14)
        np.testing.assert_allclose(grads[index], landscape.grad(points[index]), rtol=1e-14, atol=1e-300)
    assert landscape(points[0, 0]) == landscape.value(points[0, 0])


@pytest.mark.parametrize("name", ALL)
def test_grid_covers_the_bounds(name):
    landscape = ALL[name]
    grid = landscape.grid(31)
    if landscape.dim == 1:
        x, values = grid
        assert x.shape == values.shape == (31,)
        assert (x[0], x[-1]) == landscape.bounds[0]
        np.testing.assert_array_equal(values, landscape.value(x[:, None]))
    else:
        X, Y, Z = grid
        assert X.shape == Y.shape == Z.shape == (31, 31)
        assert (X[0, 0], X[0, -1]) == landscape.bounds[0] and (Y[0, 0], Y[-1, 0]) == landscape.bounds[1]
        assert Z[5, 7] == landscape.value([X[5, 7], Y[5, 7]])


def test_points_of_the_wrong_shape_are_explained():
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 2\).*got shape \(3,\)"):
        L.bowl().value([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"pass x\[:, None\]"):
        L.wavy().value(np.linspace(0, 1, 5))
    assert L.wavy().value(0.5) == pytest.approx(0.025 + 1 - np.cos(1.0))
    with pytest.raises(ValueError, match=r"grid\(n\) must be an integer >= 2"):
        L.bowl().grid(1)


# -- run_optimizer --------------------------------------------------------------------------------
def test_run_optimizer_returns_the_path_and_the_losses():
    opt = SGD(lr=0.1)
    path, losses = L.run_optimizer(opt, L.bowl(), start=[1.0, 2.0], steps=3)
    np.testing.assert_allclose(path, [[1.0, 2.0], [0.9, 1.8], [0.81, 1.62], [0.729, 1.458]], rtol=1e-14)
    np.testing.assert_allclose(losses, 0.5 * (path ** 2).sum(axis=1), rtol=1e-14)
    assert opt.iterations == 3, "the optimizer object itself made the steps"


def test_sgd_reaches_the_bottom_of_the_bowl():
    path, losses = L.run_optimizer(SGD(lr=0.1), L.bowl(), start=[1.5, -2.0], steps=300)
    assert np.linalg.norm(path[-1]) < 1e-9, f"ended at {path[-1]}"
    assert np.all(np.diff(losses) < 0), "every step of SGD on a round bowl lowers the loss"


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_every_optimizer_at_its_defaults_goes_downhill_on_the_bowl(name):
    path, losses = L.run_optimizer(name, L.bowl(), start=[1.0, 1.0], steps=300)
    assert losses[-1] < 0.9 * losses[0], f"{name}: loss {losses[0]} -> {losses[-1]}"
    assert np.all(np.abs(path[-1]) < 1.0), f"{name}: ended at {path[-1]}"


def test_momentum_rolls_over_the_bump_where_plain_sgd_stops():
    """wavy(), starting at x = 4.9 with lr 0.05 for 1000 steps.

    Plain SGD slides into the nearest hollow, the local minimum x = 2.98978 (loss 0.93962).
    With momentum 0.9 the ball arrives with speed, rolls over the bump at x = 1.654 and
    settles in the global minimum x = 0.
    """
    landscape = L.wavy()
    plain = L.run_optimizer(SGD(lr=0.05), landscape, start=[4.9], steps=1000)
    heavy = L.run_optimizer(SGD(lr=0.05, momentum=0.9), landscape, start=[4.9], steps=1000)
    assert plain.path[-1, 0] == pytest.approx(2.9897818149298603, abs=1e-6), f"plain SGD: {plain.path[-1]}"
    assert heavy.path[-1, 0] == pytest.approx(0.0, abs=1e-6), f"momentum: {heavy.path[-1]}"
    assert heavy.losses[-1] < plain.losses[-1]


def test_adam_walks_along_the_rosenbrock_valley_towards_1_1():
    path, losses = L.run_optimizer(Adam(lr=0.02), L.rosenbrock(), start=[-1.5, 2.0], steps=5000)
    assert np.linalg.norm(path[-1] - [1.0, 1.0]) < 0.05, f"ended at {path[-1]}"


def test_a_diverging_run_stops_and_leaves_nan_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path, losses = L.run_optimizer(SGD(lr=1.5), L.valley(), start=[1.0, 1.0], steps=500)
    assert np.isnan(path[-1]).all() and np.isnan(losses[-1])
    assert np.isfinite(path[:10]).all(), "the first steps are recorded"


@settings(max_examples=25, deadline=None)
@given(start=st.lists(st.floats(-2, 2), min_size=2, max_size=2), steps=st.integers(0, 30))
def test_path_starts_at_start_and_has_one_row_per_step(start, steps):
    path, losses = L.run_optimizer(Nadam(), L.six_hump_camel(), start=start, steps=steps)
    assert path.shape == (steps + 1, 2) and losses.shape == (steps + 1,)
    np.testing.assert_array_equal(path[0], start)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(start=[1.0]), ValueError, "start must be 2 finite number"),
    (dict(start=[1.0, np.nan]), ValueError, "start must be 2 finite number"),
    (dict(start=[1.0, 1.0], steps=-1), ValueError, "steps must be an integer >= 0"),
    (dict(start=[1.0, 1.0], steps=2.5), ValueError, "steps must be an integer >= 0"),
])
def test_run_optimizer_checks_its_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        L.run_optimizer(SGD(), L.bowl(), **kwargs)


def test_run_optimizer_needs_a_landscape_and_an_optimizer():
    with pytest.raises(TypeError, match="landscape must be a Landscape"):
        L.run_optimizer(SGD(), lambda p: p, start=[0.0])
    with pytest.raises(ValueError, match="unknown optimizer"):
        L.run_optimizer("sgdd", L.bowl(), start=[0.0, 0.0])
