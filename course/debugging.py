"""Debugging a network that does not learn: the checks practitioners run first.

    overfit_one_batch   can the network drive the loss on ONE small batch to about zero? If not,
                        something is broken (the data, the model, the loss, the update), not the
                        amount of data or regularisation
    lr_range_test       raise the learning rate exponentially, one batch at a time, and watch the
                        loss: it falls, flattens, then blows up; a good rate lies about ten times
                        below the rate of the lowest loss
    layer_health        per layer, for one batch: the spread of the outputs, the share of dead ReLU
                        units, the gradient's size and the update-to-weight ratio
                        lr * ||dkernel|| / ||kernel|| (about 1e-3 is healthy; 1e-1 or more moves
                        the weights wholesale at every step; 1e-5 or less barely moves them), or,
                        given the last step each kernel took, ||step|| / ||kernel before it||
                        (what any optimizer did, Adam's rescaled steps included)
    alike_units         the hidden layers whose units all have the same weights (zero or constant
                        initialisation): they compute the same and get the same update for ever
    BROKEN, check_fix   a network with three planted faults, and the self-check of a learner's fix
                        (assignment 05 checks its fixed model's symmetry with ``alike_units`` too)

Every function takes a seed; the training uses the course's own ``Sequential`` and ``SGD``.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .optimizers import SGD
from .utils import SelfCheck

__all__ = ["build", "alike_units", "overfit_one_batch", "OverfitBatch", "lr_range_test", "RangeTest", "layer_health",
           "LayerHealth", "BROKEN", "HEALTHY", "check_fix", "FixCheck"]

#: The planted faults of the "fix this network" exercise: three settings, each one a classic.
BROKEN = {"scale_inputs": False, "learning_rate": 3.0, "kernel_initializer": "zeros"}
#: One setting that fixes all three (the reference the tests use).
HEALTHY = {"scale_inputs": True, "learning_rate": 0.1, "kernel_initializer": "he_normal"}
HIDDEN = (64, 64)


def build(settings: dict, seed: int = 0):
    """The exercise's network, 784-64-64-10 with ReLU and softmax, compiled with SGD(settings' rate)."""
    from .builders import mlp

    unknown = set(settings) - set(BROKEN)
    if unknown:
        raise ValueError(f"unknown settings {sorted(unknown)}; the exercise's settings are {sorted(BROKEN)}.")
    model = mlp(HIDDEN, activation="relu", kernel_initializer=settings["kernel_initializer"], seed=seed)
    model.compile(loss="categorical_crossentropy", optimizer=SGD(lr=float(settings["learning_rate"])),
                  metrics=["accuracy"])
    return model


def alike_units(model, atol: float = 1e-6) -> list[str]:
    """The names of the hidden layers whose units all have the same incoming weights.

    A unit is a column of the layer's kernel (inputs, units); the units are alike when every
    column equals the first within ``atol``. Such units compute the same output and receive the
    same gradient, so training never makes them differ: the symmetry that random initialisation
    breaks. The output layer is left out (its units differ by their targets).
    """
    return [layer.name for layer in model.layers[:-1]
            if np.allclose(layer.kernel, layer.kernel[:, :1], atol=atol, rtol=0.0)]


def prepare(x, settings: dict) -> np.ndarray:
    """The inputs as the settings feed them: pixels in [0, 1], or (a planted fault) 0 to 255."""
    x = np.asarray(x, dtype=np.float32)
    return x if settings["scale_inputs"] else x * 255.0


class OverfitBatch(NamedTuple):
    """One small batch trained on again and again."""

    losses: np.ndarray      # (steps + 1,): the loss on the batch before each step, and at the end
    accuracy: float         # on the batch, at the end
    passed: bool            # the loss fell below ``target``


def overfit_one_batch(model, x, y, steps: int = 100, target: float = 0.05) -> OverfitBatch:
    """Train ``model`` on the batch (x, y) alone for ``steps`` updates; a healthy network memorises it.

    Changes the model's weights: pass a fresh model.
    """
    losses = []
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for _ in range(steps):
            loss, _ = model.compute_gradients(x, y)
            losses.append(float(loss))
            if not math.isfinite(loss):
                break
            model.optimizer.apply_gradients(model.trainable_weights, model.gradients)
        final = float(model.compute_gradients(x, y)[0])
        losses.append(final)
        accuracy = float(np.mean(model.predict(x).argmax(1) == np.asarray(y).argmax(1)))
    return OverfitBatch(np.array(losses), accuracy, bool(math.isfinite(final) and final < target))


class RangeTest(NamedTuple):
    """The learning-rate range test: the rate and the loss of each batch."""

    learning_rates: np.ndarray
    losses: np.ndarray       # smoothed (exponential average over about 10 batches), as usually plotted
    best_lr: float           # where the smoothed loss was lowest
    suggested_lr: float      # a tenth of it: fast, and safely below the blow-up


def lr_range_test(settings: dict, x, y, lr_min: float = 1e-4, lr_max: float = 10.0, steps: int = 100,
                  batch_size: int = 32, seed: int = 0) -> RangeTest:
    """Train a fresh network one batch per step with the rate growing from lr_min to lr_max.

    Stops early when the smoothed loss is twice its lowest value, or not finite.
    """
    model = build(dict(settings), seed=seed)
    x, y = prepare(x, settings), np.asarray(y)
    rng = np.random.default_rng(seed)
    rates = lr_min * (lr_max / lr_min) ** (np.arange(steps) / (steps - 1))
    smoothed, average, kept = [], 0.0, []
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for k, lr in enumerate(rates):
            batch = rng.choice(len(x), size=batch_size, replace=False)
            loss, _ = model.compute_gradients(x[batch], y[batch])
            if not math.isfinite(loss):
                break
            average = 0.9 * average + 0.1 * float(loss)
            value = average / (1 - 0.9 ** (k + 1))          # bias-corrected, as in Adam
            smoothed.append(value)
            kept.append(lr)
            if value > 2 * min(smoothed):
                break
            model.optimizer.lr = float(lr)
            model.optimizer.apply_gradients(model.trainable_weights, model.gradients)
    if not smoothed:
        raise ValueError("the loss was not finite at the first step: fix the data or the network first.")
    best = float(kept[int(np.argmin(smoothed))])
    return RangeTest(np.array(kept), np.array(smoothed), best, best / 10)


class LayerHealth(NamedTuple):
    """One Dense layer's numbers for one batch."""

    name: str
    output_std: float
    dead_fraction: float     # ReLU units that output 0 for every example of the batch
    gradient_std: float      # of dkernel
    update_ratio: float      # the step over the kernel: lr * ||dkernel|| / ||kernel||, or the step
                             # taken (see layer_health); inf where the kernel is all zero


def layer_health(model, x, y, kernels_before=None) -> list[LayerHealth]:
    """Per-layer statistics of one forward and backward pass (nothing is updated).

    kernels_before: each layer's kernel before the last update (a list, one per layer). With
    them the update-to-weight ratio is the step the optimizer took, ||kernel - before|| /
    ||before||; without them it is plain SGD's step, lr * ||dkernel|| / ||kernel||, which is
    not the step of an optimizer that rescales the gradient (Adam moves each weight by about lr).
    """
    from .analysis import backprop_trace

    lr = float(model.optimizer.lr)
    if kernels_before is not None and len(kernels_before) != len(model.layers):
        raise ValueError(f"kernels_before holds {len(kernels_before)} kernels; the model has "
                         f"{len(model.layers)} layers: pass one kernel per layer, in order.")
    rows = []
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for k, layer in enumerate(backprop_trace(model, x, y).layers):
            if kernels_before is None:
                weight_norm = float(np.linalg.norm(layer.kernel))
                step_norm = lr * float(np.linalg.norm(layer.dkernel))
            else:
                before = np.asarray(kernels_before[k])
                weight_norm = float(np.linalg.norm(before))
                step_norm = float(np.linalg.norm(layer.kernel - before))
            ratio = step_norm / weight_norm if weight_norm > 0 else (math.inf if step_norm > 0 else 0.0)
            dead = float(np.mean(np.all(layer.out <= 0, axis=0))) if layer.activation == "relu" else 0.0
            rows.append(LayerHealth(layer.name, float(np.std(layer.out)), dead, float(np.std(layer.dkernel)), ratio))
    return rows


FixCheck = SelfCheck   # passed or not, and what to look at (course.utils.SelfCheck)


def check_fix(settings: dict, data, seed: int = 0) -> FixCheck:
    """Run the debugging checks on a learner's settings and say which faults remain.

    data: a ``course.datasets.mnist.Subset`` (pixels in [0, 1]). Looks at the behaviour, not at
    the values typed: the inputs' range, whether the hidden units can differ and receive a
    gradient, the update-to-weight ratio, one batch overfitted, then three epochs' validation
    accuracy. Never raises on a learner's settings.
    """
    try:
        model = build(dict(settings), seed=seed)
    except (ValueError, TypeError, KeyError) as err:
        return FixCheck(False, f"These settings do not build a network: {err}")
    x, y = prepare(data.x_train, settings), data.y_train
    batch = slice(0, 32)
    faults = []
    if float(np.max(np.abs(x))) > 1.5:
        faults.append(f"the inputs reach {float(np.max(np.abs(x))):.0f}: scale the pixels to [0, 1]")
    health = layer_health(model, x[batch], y[batch])
    hidden = health[:-1]
    if alike_units(model) or all(h.gradient_std == 0 for h in hidden):
        faults.append("every hidden unit starts the same (and gets the same gradient, here none): "
                      "start from random weights")
    # the learning rate on its own: the same rate on random weights and scaled inputs, so that
    # neither of the other faults hides or imitates this one
    probe_settings = dict(settings, scale_inputs=True, kernel_initializer="he_normal")
    probe = layer_health(build(probe_settings, seed=seed), prepare(data.x_train[batch], probe_settings), y[batch])
    largest = max(h.update_ratio for h in probe)
    if not largest <= 0.1:
        faults.append(f"the learning rate moves the weights by {largest:.2g} of their size per step (healthy: "
                      "about 1e-3; above 1e-1 the weights change wholesale): lower the learning rate")
    if faults:
        return FixCheck(False, f"Not yet: {len(faults)} fault(s) found. " + "; ".join(faults) + ".")
    fresh = build(dict(settings), seed=seed)
    memorised = overfit_one_batch(fresh, x[batch], y[batch])
    if not memorised.passed:
        return FixCheck(False, f"Not yet: the network cannot memorise one batch of 32 (loss "
                               f"{memorised.losses[-1]:.3g} after {len(memorised.losses) - 1} steps); "
                               "try a learning rate between 0.01 and 0.5.")
    model = build(dict(settings), seed=seed)
    with np.errstate(over="ignore", invalid="ignore"):
        history = model.fit(x, y, epochs=3, batch_size=32, verbose=0, seed=seed,
                            validation_data=(prepare(data.x_val, settings), data.y_val))
    accuracy = history.history["val_accuracy"][-1]
    if not accuracy > 0.8:
        return FixCheck(False, f"Not yet: the network learns, but reaches only {accuracy:.1%} validation "
                               "accuracy in 3 epochs (aim for more than 80 %).")
    ratios = ", ".join(f"{h.update_ratio:.1e}" for h in health)
    return FixCheck(True, f"Fixed: inputs in [0, 1], units that differ, update-to-weight ratios {ratios}; one "
                          f"batch memorised (loss {memorised.losses[-1]:.3f}) and {accuracy:.1%} validation "
                          "accuracy after 3 epochs.")
