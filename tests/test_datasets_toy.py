"""Tests of course.datasets.toy: the small 2-D data sets made in code."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course import datasets
from course.datasets import toy

MAKERS = [toy.make_blobs, toy.make_xor, toy.make_moons, toy.make_circles, toy.make_spirals]
ids = [f.__name__ for f in MAKERS]


@pytest.mark.parametrize("make", MAKERS, ids=ids)
@pytest.mark.parametrize("n_samples", [1, 2, 7, 200])
def test_shapes_and_dtypes(make, n_samples):
    x, y = make(n_samples=n_samples)
    assert x.shape == (n_samples, 2) and x.dtype == np.float32
    assert y.shape == (n_samples,) and y.dtype == np.int64
    assert np.all(np.isfinite(x))


@pytest.mark.parametrize("make", MAKERS, ids=ids)
def test_classes_are_balanced(make):
    x, y = make(n_samples=101)
    counts = np.bincount(y)
    assert counts.sum() == 101 and counts.max() - counts.min() <= 1
    assert len(counts) == 2


@pytest.mark.parametrize("make", MAKERS, ids=ids)
def test_same_seed_same_arrays_other_seed_other_arrays(make):
    x1, y1 = make(n_samples=50, seed=3)
    x2, y2 = make(n_samples=50, seed=3)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    x3, _ = make(n_samples=50, seed=4)
    assert not np.array_equal(x1, x3)


@pytest.mark.parametrize("make", MAKERS, ids=ids)
def test_default_seed_is_reproducible(make):
    np.testing.assert_array_equal(make()[0], make()[0])


@pytest.mark.parametrize("make", MAKERS, ids=ids)
def test_points_come_shuffled(make):
    _, y = make(n_samples=200)
    assert not np.all(np.diff(y) >= 0)  # not sorted by class


@pytest.mark.parametrize("make", MAKERS, ids=ids)
@pytest.mark.parametrize("n_samples", [0, -3, 2.5, "10", True, None])
def test_bad_n_samples(make, n_samples):
    with pytest.raises(ValueError, match=r"n_samples must be an integer >= 1, got"):
        make(n_samples=n_samples)


@pytest.mark.parametrize("make", MAKERS, ids=ids)
@pytest.mark.parametrize("noise", [-0.1, float("nan"), float("inf"), "0.1", None])
def test_bad_noise(make, noise):
    with pytest.raises(ValueError, match=r"noise must be a finite number >= 0"):
        make(noise=noise)


@pytest.mark.parametrize("make", MAKERS, ids=ids)
@pytest.mark.parametrize("seed", [-1, 1.5, "0"])
def test_bad_seed(make, seed):
    with pytest.raises(ValueError, match="seed must be an integer >= 0"):
        make(seed=seed)


@pytest.mark.parametrize("make", MAKERS, ids=ids)
def test_numpy_integers_are_accepted(make):
    x, y = make(n_samples=np.int64(10), noise=np.float32(0.1), seed=np.int32(1))
    assert x.shape == (10, 2)


@pytest.mark.parametrize("make", MAKERS, ids=ids)
def test_seed_none_gives_a_fresh_sample(make):
    x, _ = make(n_samples=20, seed=None)
    assert x.shape == (20, 2)


def test_the_package_exposes_mnist_and_the_makers():
    assert datasets.mnist.load_data is not None
    for make in MAKERS:
        assert getattr(datasets, make.__name__) is make


# --------------------------------------------------------------------------------------
# The promises of each data set
# --------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    n_samples=st.integers(1, 400),
    noise=st.floats(0.0, 20.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_blobs_are_separated_by_the_line_x1_plus_x2_equals_0(n_samples, noise, seed):
    x, y = toy.make_blobs(n_samples=n_samples, noise=noise, seed=seed)
    signed_distance = (x[:, 0].astype(np.float64) + x[:, 1]) / np.sqrt(2.0)
    assert np.all((signed_distance > 0) == (y == 1))
    assert np.all(np.abs(signed_distance) >= 0.99 * toy.BLOBS_MARGIN)  # float32 rounding


def test_blobs_sit_around_their_centres():
    x, y = toy.make_blobs(n_samples=4000, noise=0.3)
    np.testing.assert_allclose(x[y == 0].mean(axis=0), [-1, -1], atol=0.05)
    np.testing.assert_allclose(x[y == 1].mean(axis=0), [1, 1], atol=0.05)
    np.testing.assert_allclose(x[y == 0].std(axis=0), [0.3, 0.3], atol=0.03)


@settings(max_examples=40, deadline=None)
@given(
    n_samples=st.integers(1, 400),
    noise=st.floats(0.0, 20.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_xor_labels(n_samples, noise, seed):
    x, y = toy.make_xor(n_samples=n_samples, noise=noise, seed=seed)
    assert np.all(y == ((x[:, 0] > 0) ^ (x[:, 1] > 0)))


def test_xor_has_four_clouds():
    x, y = toy.make_xor(n_samples=400, noise=0.1)
    quadrants = 2 * (x[:, 0] > 0) + (x[:, 1] > 0)
    assert np.bincount(quadrants).tolist() == [100, 100, 100, 100]
    # No straight line separates XOR: the class means coincide (at the origin).
    np.testing.assert_allclose(x[y == 0].mean(axis=0), x[y == 1].mean(axis=0), atol=0.05)


def test_moons_without_noise_lie_on_their_half_circles():
    x, y = toy.make_moons(n_samples=200, noise=0.0)
    upper, lower = x[y == 0].astype(np.float64), x[y == 1].astype(np.float64)
    np.testing.assert_allclose(np.hypot(*upper.T), 1.0, atol=1e-6)
    assert np.all(upper[:, 1] >= -1e-6)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0, atol=1e-6)
    assert np.all(lower[:, 1] <= 0.5 + 1e-6)


def test_circles_without_noise_have_their_radii():
    x, y = toy.make_circles(n_samples=200, noise=0.0, factor=0.3)
    radius = np.hypot(*x.astype(np.float64).T)
    np.testing.assert_allclose(radius[y == 0], 1.0, atol=1e-6)
    np.testing.assert_allclose(radius[y == 1], 0.3, atol=1e-6)


@pytest.mark.parametrize("factor", [0, 1, 1.5, -0.2, float("nan")])
def test_circles_bad_factor(factor):
    with pytest.raises(ValueError, match="factor"):
        toy.make_circles(factor=factor)


@pytest.mark.parametrize("n_classes", [2, 3, 5])
def test_spirals_have_one_arm_per_class(n_classes):
    x, y = toy.make_spirals(n_samples=100 * n_classes, noise=0.0, n_classes=n_classes)
    assert np.bincount(y).tolist() == [100] * n_classes
    radius = np.hypot(*x.astype(np.float64).T)
    assert np.all(radius <= 1.0 + 1e-6)
    # Without noise each point is where its arm is at its radius.
    angle = 2 * np.pi * y / n_classes + 1.5 * np.pi * radius
    np.testing.assert_allclose(x[:, 0], radius * np.cos(angle), atol=1e-5)
    np.testing.assert_allclose(x[:, 1], radius * np.sin(angle), atol=1e-5)


@pytest.mark.parametrize("n_classes", [1, 0, 2.0, "3"])
def test_spirals_bad_n_classes(n_classes):
    with pytest.raises(ValueError, match="n_classes must be an integer >= 2"):
        toy.make_spirals(n_classes=n_classes)


@pytest.mark.parametrize("make", MAKERS, ids=ids)
def test_noise_spreads_the_points(make):
    quiet, _ = make(n_samples=300, noise=0.0)
    loud, _ = make(n_samples=300, noise=0.5)
    assert not np.allclose(quiet, loud)
