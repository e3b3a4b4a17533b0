"""The examples in the core modules' docstrings are run as tests: what help() shows is true."""
from __future__ import annotations

import doctest
import importlib

import numpy as np
import pytest

CORE_MODULES = [
    "course.activations", "course.losses", "course.metrics", "course.initializers", "course.layers",
    "course.models", "course.callbacks", "course.gradcheck", "course.utils", "course.training",
    "course.landscapes", "course.conditioning", "course.autograd", "course.perceptron", "course.builders",
    "course.runs.optimizers", "course.runs.hyperparameters", "course.datasets.toy", "course.plots.render",
    "course.plots.style",
    "course.optimizers", "course.optimizers.base", "course.optimizers.sgd", "course.optimizers.rmsprop",
    "course.optimizers.adagrad", "course.optimizers.adadelta", "course.optimizers.adam",
    "course.optimizers.adamax", "course.optimizers.nadam",
]


@pytest.mark.parametrize("name", CORE_MODULES)
def test_the_examples_in_the_docstrings_give_what_they_show(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = finder.find(module, name, globs={"np": np, **vars(module)})
    for test in tests:
        runner.run(test, out=lambda text: None)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} fail: " \
                               f"python -m doctest -v {module.__file__}"
