"""Initialisers: shapes, seeding, and the variance each rule promises."""
import numpy as np
import pytest

from course import initializers as I
from course.utils import set_seed

RANDOM = ["random_normal", "random_uniform", "glorot_uniform", "glorot_normal", "he_uniform",
          "he_normal", "lecun_normal"]


@pytest.mark.parametrize("name", I.NAMES)
def test_shape_and_default_dtype(name):
    w = I.get(name)((784, 10), seed=0)
    assert w.shape == (784, 10) and w.dtype == np.float32


@pytest.mark.parametrize("name", RANDOM)
def test_same_seed_same_weights_other_seed_other_weights(name):
    init = I.get(name)
    np.testing.assert_array_equal(init((20, 30), seed=7), init((20, 30), seed=7))
    assert not np.array_equal(init((20, 30), seed=7), init((20, 30), seed=8))


@pytest.mark.parametrize("name", RANDOM)
def test_set_seed_makes_unseeded_draws_reproducible(name):
    set_seed(3)
    a = I.get(name)((5, 5))
    set_seed(3)
    np.testing.assert_array_equal(a, I.get(name)((5, 5)))


def test_glorot_uniform_limit_for_the_books_first_layer():
    w = I.glorot_uniform((784, 10), seed=0)
    limit = np.sqrt(6 / (784 + 10))
    assert limit == pytest.approx(0.0869, abs=1e-4)
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.95 * limit


@pytest.mark.parametrize("name, expected_var", [
    ("glorot_uniform", 2 / (400 + 300)), ("glorot_normal", 2 / (400 + 300)),
    ("he_uniform", 2 / 400), ("he_normal", 2 / 400), ("lecun_normal", 1 / 400),
    ("random_normal", 0.05 ** 2), ("random_uniform", 0.1 ** 2 / 12),
])
def test_variance_matches_the_rule(name, expected_var):
    w = I.get(name)((400, 300), seed=1, dtype=np.float64)
    assert w.var() == pytest.approx(expected_var, rel=0.03), f"{name}: var {w.var():.3e}"
    assert abs(w.mean()) < 0.02 * np.sqrt(expected_var) * 10


@pytest.mark.parametrize("name", ["glorot_normal", "he_normal", "lecun_normal"])
def test_normal_variants_are_truncated_at_two_standard_deviations(name):
    w = I.get(name)((400, 300), seed=2, dtype=np.float64)
    std = np.sqrt({"glorot_normal": 2 / 700, "he_normal": 2 / 400, "lecun_normal": 1 / 400}[name])
    assert np.abs(w).max() <= 2 * std / 0.87962566103423978 + 1e-12


def test_zeros_and_ones():
    np.testing.assert_array_equal(I.zeros((2, 3)), 0)
    np.testing.assert_array_equal(I.ones((3,)), 1)


def test_unknown_initializer_lists_the_valid_names():
    with pytest.raises(ValueError, match="Unknown initializer 'xavier'.*glorot_uniform.*he_normal"):
        I.get("xavier")
