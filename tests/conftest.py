"""Shared fixtures. MNIST is read through COURSE_DATA_DIR (the Makefile and CI set it)."""
import os

import numpy as np
import pytest


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
