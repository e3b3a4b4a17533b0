"""Shared fixtures. MNIST is read through COURSE_DATA_DIR (the Makefile and CI set it); helpers
that are not fixtures are in support.py."""
import os

import numpy as np
import pytest
from hypothesis import settings

# Property tests: no time limit per example (the machine may be busy: slowness is no failure).
# `make test-fast` runs them with the "fast" profile, fewer examples for the tests that do not
# set their own number.
settings.register_profile("course", deadline=None)
settings.register_profile("fast", deadline=None, max_examples=20)
settings.load_profile("course")


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(scope="session")
def mnist_flat():
    """MNIST as (x_train, y_train), (x_test, y_test): float32 in [0, 1], one-hot labels."""
    from course.datasets import mnist

    if not os.environ.get("COURSE_DATA_DIR"):
        pytest.skip("COURSE_DATA_DIR is not set: point it at a folder holding mnist/ (make test does).")
    return mnist.load_flat()


@pytest.fixture
def fake_mnist(rng):
    """Something shaped like mnist.load_flat(): 300 training and 50 test 'images' of 784 values."""
    x = rng.random((300, 784), dtype=np.float32)
    labels = rng.integers(0, 10, size=300)
    y = np.eye(10, dtype=np.float32)[labels]
    return (x, y), (x[:50], y[:50])
