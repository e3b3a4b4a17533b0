"""The Sequential model: a stack of layers trained with compile() and fit(), as in Keras.

One training step (``train_on_batch``) is the learning loop of the course:

    1. forward:   each layer turns its input into its output ("going")
    2. loss:      compare the last output with the labels
    3. backward:  from the loss back through every layer, each one receiving its share of the
                  error and computing the gradients of its weights ("return")
    4. update:    the optimizer moves every weight against its gradient
"""
from __future__ import annotations

import numpy as np

from . import losses as losses_module
from . import metrics as metrics_module
from .callbacks import Callback, History, warn_nan_batch
from .layers import Layer
from .training import NumpyBackend, run_epochs
from .utils import (check_batch_size, check_choice, check_finite, check_int, check_real, check_type,
                    get_rng)

__all__ = ["Sequential"]


class Sequential:
    """A linear stack of layers.

    >>> from course.layers import Dense
    >>> model = Sequential()
    >>> model.add(Dense(10, activation='sigmoid', input_shape=(784,)))
    >>> model.add(Dense(10, activation='softmax'))
    >>> model.count_params()
    7960
    """

    def __init__(self, layers=None, name: str | None = None):
        self.name = name or "sequential"
        self.layers: list[Layer] = []
        self.optimizer = None
        self.loss = None
        self.metrics: list[tuple[str, callable]] = []
        self.stop_training = False
        self.history: History | None = None
        for layer in layers or []:
            self.add(layer)

    # -- building -----------------------------------------------------------------------------
    def add(self, layer: Layer) -> None:
        """Append a layer. The first layer needs ``input_shape``; the others take the previous
        layer's output."""
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add expects a layer such as Dense(10), got {type(layer).__name__}.")
        if any(layer is other for other in self.layers):
            raise ValueError(f"layer {layer.name!r} is already in this model.")
        if layer.name is None:
            layer.name = self._unique_name(type(layer).__name__.lower())
        dtype = getattr(layer, "dtype", None)
        if self.layers and dtype is not None and np.dtype(dtype) != self.dtype:
            raise ValueError(
                f"layer {layer.name!r} has dtype {np.dtype(dtype)}, but the model's layers have dtype "
                f"{self.dtype}: give every layer the same dtype, e.g. Dense(..., dtype=np.{self.dtype})."
            )
        if self.layers:
            expected = self.output_shape
            if layer.built:
                if layer.input_shape[1:] != expected[1:]:
                    raise ValueError(
                        f"layer {layer.name!r} expects inputs of shape {layer.input_shape}, but the "
                        f"previous layer {self.layers[-1].name!r} outputs {expected}. Drop its "
                        "input_shape (only the first layer needs one) or fix the sizes."
                    )
            else:
                layer.build(expected)
        elif not layer.built:
            raise ValueError(
                f"the first layer of a model needs input_shape, e.g. Dense({getattr(layer, 'units', 10)}, "
                "input_shape=(784,)), so the model knows the size of its inputs."
            )
        self.layers.append(layer)

    def _unique_name(self, base: str) -> str:
        taken = {layer.name for layer in self.layers}
        if base not in taken:
            return base
        k = 1
        while f"{base}_{k}" in taken:
            k += 1
        return f"{base}_{k}"

    @property
    def input_shape(self) -> tuple:
        self._require_layers()
        return self.layers[0].input_shape

    @property
    def output_shape(self) -> tuple:
        self._require_layers()
        shape = self.layers[0].input_shape
        for layer in self.layers:
            shape = layer.compute_output_shape(shape)
        return shape

    def _require_layers(self):
        if not self.layers:
            raise ValueError("the model has no layers yet: add some with model.add(Dense(...)).")

    def count_params(self) -> int:
        return sum(layer.count_params() for layer in self.layers)

    def summary(self, print_fn=print) -> None:
        """Print a Keras-style table: each layer, its output shape and its number of parameters.

        A Dense layer with n inputs and m units has n * m weights plus m biases.
        """
        self._require_layers()
        width = 65
        cols = (29, 26)
        lines = [f'Model: "{self.name}"', "_" * width,
                 f"{'Layer (type)':<{cols[0]}}{'Output Shape':<{cols[1]}}Param #", "=" * width]
        shape = self.input_shape
        for i, layer in enumerate(self.layers):
            shape = layer.compute_output_shape(shape)
            label = f"{layer.name} ({type(layer).__name__})"
            lines.append(f"{label:<{cols[0]}}{_shape_str(shape):<{cols[1]}}{layer.count_params()}")
            lines.append("=" * width if i == len(self.layers) - 1 else "_" * width)
        total = self.count_params()
        lines += [f"Total params: {total:,}", f"Trainable params: {total:,}", "Non-trainable params: 0",
                  "_" * width]
        for line in lines:
            print_fn(line)

    # -- compiling ----------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None) -> None:
        """Choose the optimizer, the loss and the metrics to report, in Keras's order.

        Each may be given by name ('sgd', 'categorical_crossentropy', ['accuracy']) or as an
        object (``SGD(lr=0.1)``): ``model.compile('sgd', 'categorical_crossentropy')`` or
        ``model.compile(loss='categorical_crossentropy', optimizer=SGD(lr=0.1))``. Nothing
        changes unless all three are valid.
        """
        from . import optimizers as optimizers_module  # the optimizers import models lazily too

        self._require_layers()
        if loss is None:
            raise ValueError("compile needs a loss, e.g. model.compile(optimizer='sgd', "
                             "loss='categorical_crossentropy'); got loss=None.")
        optimizer = optimizers_module.get(optimizer)
        loss = losses_module.get(loss)
        if metrics is None:
            metrics = []
        elif isinstance(metrics, str) or callable(metrics):
            metrics = [metrics]
        resolved = [metrics_module.get(m) for m in metrics]
        self.loss, self.optimizer, self.metrics = loss, optimizer, resolved

    def _require_compiled(self, what: str):
        if self.loss is None or self.optimizer is None:
            raise RuntimeError(
                f"call model.compile(optimizer=..., loss=..., metrics=[...]) before model.{what}(); "
                "for example model.compile(optimizer='sgd', loss='categorical_crossentropy', metrics=['accuracy'])."
            )

    # -- the passes -----------------------------------------------------------------------------
    @property
    def dtype(self) -> np.dtype:
        return self.layers[0].kernel.dtype

    def _fused(self) -> bool:
        """True when the gradient of the loss wrt the last layer's pre-activation is fused."""
        last = self.layers[-1].activation.name
        return (last == "softmax" and self.loss.name in ("categorical_crossentropy",
                                                         "sparse_categorical_crossentropy")) or (
            last == "sigmoid" and self.loss.name == "binary_crossentropy")

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Run x (B, n) through every layer; each layer keeps what its backward pass needs."""
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, y_true: np.ndarray, y_pred: np.ndarray) -> None:
        """From the loss back to the first layer, storing each layer's ``dkernel`` and ``dbias``.

        The first layer does not compute dL/dx: its input is the data, which is not trained.
        """
        last = self.layers[-1]
        if self._fused():
            if last.activation.name == "softmax":
                dz = losses_module.softmax_crossentropy_backward(y_true, y_pred)
            else:
                dz = losses_module.sigmoid_binary_crossentropy_backward(y_true, y_pred)
            grad = last.backward(None, need_dx=len(self.layers) > 1, dz=dz)
        else:
            grad = last.backward(self.loss.backward(y_true, y_pred), need_dx=len(self.layers) > 1)
        for i in range(len(self.layers) - 2, -1, -1):
            grad = self.layers[i].backward(grad, need_dx=i > 0)

    @property
    def trainable_weights(self) -> list[np.ndarray]:
        return [w for layer in self.layers for w in layer.weights]

    @property
    def gradients(self) -> list[np.ndarray]:
        return [g for layer in self.layers for g in layer.gradients]

    def compute_gradients(self, x, y):
        """Loss and the gradient of every weight for one batch, without updating anything.

        Returns (loss, grads) with grads in the order of ``get_weights()``.
        """
        self._require_compiled("compute_gradients")
        x, y = self._check_data(x, y)
        y_pred = self.forward(x)
        loss = self.loss.forward(y, y_pred)
        self.backward(y, y_pred)
        return loss, [g.copy() for g in self.gradients]

    def train_step(self, x: np.ndarray, y: np.ndarray) -> list[float]:
        """Forward, loss, backward, update on one checked batch; returns [loss, metric, ...].

        The loss is the one before the update. A NaN or infinite loss updates nothing (the
        callers stop, with a NaNLossWarning). NumPy's overflow warnings are silenced here: a
        diverging run reports that once, clearly, instead of a stream of them.
        """
        with np.errstate(over="ignore", invalid="ignore"):
            y_pred = self.forward(x)
            loss = self.loss.forward(y, y_pred)
            if np.isfinite(loss):
                self.backward(y, y_pred)
                self.optimizer.apply_gradients(self.trainable_weights, self.gradients)
            return [float(loss)] + [float(fn(y, y_pred)) for _, fn in self.metrics]

    def train_on_batch(self, x, y):
        """One update on one batch. Returns the loss before the update (and metrics, if any).

        A NaN or infinite loss changes no weight and gives a NaNLossWarning.
        """
        self._require_compiled("train_on_batch")
        x, y = self._check_data(x, y)
        values = self.train_step(x, y)
        if not np.isfinite(values[0]):
            warn_nan_batch(values[0])
        return values if self.metrics else values[0]

    def _result(self, loss, y, y_pred):
        if not self.metrics:
            return float(loss)
        return [float(loss)] + [float(fn(y, y_pred)) for _, fn in self.metrics]

    # -- fit / evaluate / predict ---------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs: int = 1, verbose: int = 1, callbacks=None,
            validation_split: float = 0.0, validation_data=None, shuffle: bool = True,
            initial_epoch: int = 0, seed=None, device=None) -> History:
        """Train on (x, y) in mini-batches of ``batch_size`` (default 32) up to epoch ``epochs``.

        As in Keras, ``epochs`` is the epoch to end at, counted with ``initial_epoch``:
        fit(epochs=5) trains epochs 0 to 4, fit(epochs=5, initial_epoch=3) trains epochs 3 and 4.

        x: (n, features); y: (n, classes) one-hot, or (n,) labels for the sparse loss.
        validation_split: the LAST fraction of x, y is held out (before shuffling) to compute
        'val_loss' and 'val_<metric>' after each epoch; or give validation_data=(x_val, y_val).
        shuffle: reshuffle the training examples every epoch. seed: an int makes the shuffles
        reproducible (otherwise the course-wide generator of ``set_seed`` is used).
        verbose: 0 silent, 1 a progress bar per epoch, 2 one line per epoch.
        device: None trains with the NumPy kernels of this library. 'cuda' (a GPU), 'cpu' or a
        torch.device trains the same network with PyTorch there (``course.torch.training.fit``:
        same loss, optimizer trajectory, shuffles and History), then copies the trained weights
        back into this model. 'cuda' without a GPU falls back to the CPU with a warning.

        Returns a History: ``history.history['loss']``, ['accuracy'], ['val_loss'], ... per epoch,
        and ``history.epoch_seconds``. The epoch loop is ``course.training.run_epochs``, shared
        by both backends.
        If the loss becomes NaN or infinite, training stops with a warning and the History so
        far is returned.
        """
        if device is not None:
            from .torch.training import fit as torch_fit  # imports torch only when asked for

            return torch_fit(self, x, y, batch_size=batch_size, epochs=epochs, verbose=verbose,
                             callbacks=callbacks, validation_split=validation_split,
                             validation_data=validation_data, shuffle=shuffle,
                             initial_epoch=initial_epoch, seed=seed, device=device)
        x, y, x_val, y_val, batch_size, callbacks = self._check_fit_arguments(
            x, y, batch_size, epochs, verbose, callbacks, validation_split, validation_data, initial_epoch)
        backend = NumpyBackend(self, x, y, batch_size, x_val, y_val)
        return run_epochs(self, backend, epochs, initial_epoch, shuffle, get_rng(seed), verbose,
                          callbacks, validation=x_val is not None)

    def _check_fit_arguments(self, x, y, batch_size, epochs, verbose, callbacks, validation_split,
                             validation_data, initial_epoch):
        """Check fit's arguments (before anything changes) and split off the validation data.

        Returns (x, y, x_val, y_val, batch_size, callbacks); x_val is None without validation.
        Shared by every training backend, so they all refuse the same inputs alike.
        """
        self._require_compiled("fit")
        check_int("epochs", epochs, low=0)
        check_int("initial_epoch", initial_epoch, low=0)
        check_choice("verbose", verbose, (0, 1, 2))
        check_real("validation_split", validation_split, low=0.0, high=1.0)
        callbacks = list(callbacks or [])
        for i, cb in enumerate(callbacks):
            check_type(f"callbacks[{i}]", cb, Callback, "a Callback object such as EarlyStopping()")
        x, y = self._check_data(x, y)
        batch_size = check_batch_size(batch_size)
        x_val = y_val = None
        if validation_data is not None:
            if validation_split:
                raise ValueError("give validation_data or validation_split, not both.")
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise ValueError("validation_data must be a pair (x_val, y_val).")
            x_val, y_val = self._check_data(*validation_data, what="validation_data")
        elif validation_split:
            split = int(len(x) * (1.0 - validation_split))
            if split == 0 or split == len(x):
                raise ValueError(f"validation_split={validation_split} leaves no examples for training or "
                                 f"validation out of {len(x)}.")
            x, x_val, y, y_val = x[:split], x[split:], y[:split], y[split:]
        return x, y, x_val, y_val, batch_size, callbacks

    def predict(self, x, batch_size=None, verbose: int = 0) -> np.ndarray:
        """The model's outputs for x (n, features), computed in batches (default 32)."""
        self._require_layers()
        batch_size = check_batch_size(batch_size)
        x = self._check_inputs(x)
        outputs = [self.forward(x[i:i + batch_size]) for i in range(0, len(x), batch_size)]
        return np.concatenate(outputs) if outputs else np.zeros((0,) + self.output_shape[1:], self.dtype)

    def evaluate(self, x=None, y=None, batch_size=None, verbose: int = 0):
        """Loss (and metrics) over (x, y): a float, or [loss, metric, ...] when there are metrics."""
        self._require_compiled("evaluate")
        batch_size = check_batch_size(batch_size)
        x, y = self._check_data(x, y)
        y_pred = self.predict(x, batch_size=batch_size)
        return self._result(self.loss.forward(y, y_pred), y, y_pred)

    # -- weights --------------------------------------------------------------------------------
    def get_weights(self) -> list[np.ndarray]:
        """Copies of all weights: [kernel_1, bias_1, kernel_2, bias_2, ...]."""
        return [w.copy() for w in self.trainable_weights]

    def set_weights(self, weights) -> None:
        """Load weights in the order of ``get_weights()``; shapes must match exactly.

        The values are copied into the existing arrays, so an optimizer's state stays attached.
        """
        current = self.trainable_weights
        weights = list(weights)
        if len(weights) != len(current):
            raise ValueError(f"set_weights expects {len(current)} arrays (kernel and bias per layer), "
                             f"got {len(weights)}.")
        arrays = []
        for i, (new, old) in enumerate(zip(weights, current)):
            new = np.asarray(new)
            if new.shape != old.shape:
                raise ValueError(f"weight {i} must have shape {old.shape}, got {new.shape}.")
            check_finite(f"weight {i}", new)
            arrays.append(new)
        for new, old in zip(arrays, current):
            old[...] = new

    # -- input checks ---------------------------------------------------------------------------
    def _check_inputs(self, x, what: str = "x") -> np.ndarray:
        if x is None:
            raise ValueError(f"{what} is missing: pass the inputs as an array of shape (n, {self.input_shape[-1]}).")
        x = np.asarray(x)
        if x.dtype.kind not in "biuf":
            raise ValueError(f"{what} must hold numbers, got dtype {x.dtype}.")
        expected = self.input_shape[1:]
        if x.ndim != len(expected) + 1 or x.shape[1:] != expected:
            hint = ""
            if x.ndim > 2 and int(np.prod(x.shape[1:])) == int(np.prod(expected)):
                hint = f" Flatten it first: {what}.reshape(len({what}), {int(np.prod(expected))})."
            raise ValueError(
                f"{what} has shape {x.shape}, but layer {self.layers[0].name!r} expects inputs of shape "
                f"(n, {', '.join(map(str, expected))}).{hint}"
            )
        x = np.ascontiguousarray(x, dtype=self.dtype)
        check_finite(what, x)
        return x

    def _check_data(self, x, y, what: str | None = None):
        xname, yname = (f"{what} inputs", f"{what} targets") if what else ("x", "y")
        x = self._check_inputs(x, xname)
        if y is None:
            raise ValueError(f"{yname} is missing: pass the targets (labels) with the inputs.")
        y = np.asarray(y)
        if y.dtype.kind not in "biuf":
            raise ValueError(f"{yname} must hold numbers, got dtype {y.dtype}.")
        if len(y) != len(x):
            raise ValueError(f"{xname} has {len(x)} examples but {yname} has {len(y)}: they must match.")
        losses_module.check_targets(self.loss, y, self.output_shape[1:])
        if self.loss.name == "sparse_categorical_crossentropy":
            y = y.astype(np.intp, copy=False)
        else:
            if y.ndim == 1:
                y = y.reshape(-1, 1)
            y = np.asarray(y, dtype=self.dtype)
            check_finite(yname, y)
        return x, y

    def __repr__(self) -> str:
        return f"Sequential([{', '.join(map(repr, self.layers))}])"


def _shape_str(shape: tuple) -> str:
    return "(" + ", ".join("None" if s is None else str(s) for s in shape) + ")"
