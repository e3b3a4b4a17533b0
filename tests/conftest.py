"""Shared fixtures. MNIST is read through COURSE_DATA_DIR (the Makefile and CI set it); helpers
that are not fixtures are in support.py."""
import os
from fnmatch import fnmatch
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

# Property tests: no time limit per example (the machine may be busy: slowness is no failure).
# `make test-fast` runs them with the "fast" profile, fewer examples for the tests that do not
# set their own number.
settings.register_profile("course", deadline=None)
settings.register_profile("fast", deadline=None, max_examples=20)
settings.load_profile("course")

HERE = Path(__file__).parent

#: Files whose every test carries a marker, by their path under tests/: the marker, then any
#: marker some of their tests carry on their own. A run that leaves them out does not even import
#: these files (importing torch or starting the grader's machinery takes seconds). Tests
#: elsewhere carry their markers in their own files.
MARKED_FILES = {
    "torch/*": ("slow", "gpu"),           # the PyTorch parity suite: on the CPU, and on CUDA ("gpu")
    "test_optimizers_torch.py": ("slow",),  # every optimizer against torch.optim, hundreds of steps
    "test_grading*.py": ("slow",),        # kernels, jails and nbgrader, one submission at a time
    "grading/*": ("slow",),
    "test_exercises.py": ("slow",),       # nbgrader on every exercise
    "browser/*": ("browser",),            # JupyterLab in headless Chromium
    "test_lecture.py": ("lecture",),      # the lessons as slides: metadata, notes, decks
}


def _markers_of(path) -> tuple:
    try:
        relative = Path(path).relative_to(HERE).as_posix()
    except ValueError:
        return ()
    return next((markers for pattern, markers in MARKED_FILES.items()
                 if fnmatch(relative, pattern) or pattern == relative + "/*"), ())


def _left_out(config, markers: tuple) -> bool:
    """True when the run's -m expression leaves out every test of a file marked ``markers``."""
    expression = config.getoption("markexpr")
    if not expression or not markers:
        return False
    try:
        from _pytest.mark.expression import Expression

        compiled = Expression.compile(expression)
    except Exception:  # noqa: BLE001 - another pytest: collect, the markers still deselect
        return False
    carried = [{markers[0]}, set(markers)]
    return not any(compiled.evaluate(lambda name, **kwargs: name in names) for names in carried)


def pytest_ignore_collect(collection_path, config):
    return True if _left_out(config, _markers_of(collection_path)) else None


def pytest_collection_modifyitems(config, items):
    for item in items:
        markers = _markers_of(item.path)
        if markers:
            item.add_marker(getattr(pytest.mark, markers[0]))


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
