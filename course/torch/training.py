"""Training a course model with PyTorch, on the CPU or a GPU: ``model.fit(x, y, device='cuda')``.

``fit(model, x, y, ..., device='cuda')`` takes the arguments of ``Sequential.fit`` and gives the
same result: the same loss and gradients, the same optimizer trajectory (``TorchOptimizer``), the
same batches (the order is drawn from the same NumPy generator as the NumPy path, so a seed gives
the same shuffles on every backend), the same History and the same progress display: the
epoch loop is ``course.training.run_epochs``, shared with the NumPy path. The trained weights
and the optimizer's state are copied back into the course model, so ``evaluate`` and
``predict`` work as before.

What makes it fast on a GPU:

- the whole data set is copied to the device once; each batch is gathered there by index;
- nothing waits for the GPU inside an epoch: every batch writes its loss and accuracy into a
  tensor on the device, which is read once, at the end of the epoch;
- the training step (gather, forward, loss, backward, update, bookkeeping) is captured in a
  CUDA graph and replayed: one launch per step instead of about thirty. A graph replays exactly
  the arithmetic it recorded, numbers included. Adam (whose torch eps changes at every step)
  and every optimizer with Keras's decay replay an update that reads its changing numbers,
  the learning rate among them, from the GPU (``TorchOptimizer.graph_step``). The others
  replay torch.optim's step while their settings stay the same; after a change of learning
  rate (a schedule) a new graph is captured once the settings settle.

Differences from the NumPy path, all about when the host learns a value:

- batch callbacks (``on_batch_begin``/``on_batch_end``) of your own callbacks make every batch
  wait for its loss, which they receive as floats, as on the NumPy path; without them the
  progress bar advances every batch and shows the epoch's values at its end;
- a NaN or infinite loss is noticed at the end of the epoch (or of the batch, with batch
  callbacks): training stops, as on the NumPy path, and the weights from the start of that epoch
  are kept (the NumPy path keeps those from just before the bad batch);
- weights a callback writes into the course model during training are not seen by the torch copy.
"""
from __future__ import annotations

import contextlib
import warnings

import numpy as np
import torch
import torch.nn.functional as F

from .. import metrics as metrics_module
from ..callbacks import History
from ..losses import EPSILON
from ..training import Backend, run_epochs
from ..utils import get_rng
from . import kernels
from .bridge import from_torch, to_torch

__all__ = ["fit", "resolve_device", "Criterion", "DeviceFallbackWarning", "CudaGraphWarning",
           "WARMUP_STEPS"]

#: Eager steps with unchanged settings before the step is captured in a CUDA graph (they also
#: warm up cuBLAS and the allocator on a side stream, which capture requires).
WARMUP_STEPS = 3


class DeviceFallbackWarning(UserWarning):
    """The requested device is not available; training runs on the CPU instead."""


class CudaGraphWarning(UserWarning):
    """A training step could not be captured as a CUDA graph; training goes on without graphs."""


def resolve_device(device) -> torch.device:
    """The torch.device to train on; 'cuda' without a usable GPU gives 'cpu' and a warning.

    >>> resolve_device('cpu')
    device(type='cpu')
    """
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"device must be 'cpu', 'cuda', 'cuda:1', ... or a torch.device, got {device!r} "
                         f"({error}).") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        built = torch.version.cuda or "none: this is a CPU-only build of PyTorch"
        warnings.warn(f"device={str(device)!r} was requested but no CUDA GPU is available (torch "
                      f"{torch.__version__}, CUDA {built}). Training with PyTorch on the CPU instead; "
                      "pass device=None for the NumPy path.", DeviceFallbackWarning, stacklevel=3)
        return torch.device("cpu")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        count = torch.cuda.device_count()
        raise ValueError(f"device {str(device)!r} does not exist: this machine has {count} CUDA "
                         f"device(s), cuda:0 to cuda:{count - 1}.")
    if device.type == "mps" and not torch.backends.mps.is_available():
        warnings.warn("device='mps' was requested but MPS is not available; training with PyTorch on "
                      "the CPU instead.", DeviceFallbackWarning, stacklevel=3)
        return torch.device("cpu")
    return device


def _clip_bounds(dtype) -> tuple[float, float]:
    """-log(1 - EPSILON) and -log(EPSILON) in ``dtype``: the range of one clipped log-loss term."""
    lo = -np.log(np.asarray(1 - EPSILON, dtype=dtype))
    hi = -np.log(np.asarray(EPSILON, dtype=dtype))
    return float(lo), float(hi)


class Criterion:
    """A compiled course model's loss and metrics, computed with torch on a batch.

    Criterion(model, y): y are the training targets as ``Sequential._check_data`` returns them.

    ``fused`` is 'softmax' or 'sigmoid' when the last activation is folded into the loss, as in
    the NumPy backward pass (softmax with categorical cross-entropy, sigmoid with binary
    cross-entropy), else None; ``body(net)`` is then the network without that activation, and
    its output, the logits, is what ``criterion(out, batch)`` takes.

    ``criterion(out, batch)`` returns (loss, row): the loss to differentiate, and a 1-D tensor
    [loss value, metric 1, ...] of the numbers the NumPy path reports for the batch. The
    reported loss is Keras's, with probabilities clipped to [1e-7, 1 - 1e-7]; the
    differentiated loss of a fused pair is F.cross_entropy or F.binary_cross_entropy_with_logits,
    whose gradient with respect to the logits is the course's fused gradient. With one-hot
    targets (or labels) the clipped value is the per-example cross-entropy clamped to
    [-log(1 - 1e-7), -log(1e-7)], which costs two small kernels instead of a second softmax.
    """

    _METRICS = {
        metrics_module.accuracy: "auto", metrics_module.binary_accuracy: "binary",
        metrics_module.categorical_accuracy: "categorical",
        metrics_module.sparse_categorical_accuracy: "categorical",
    }

    def __init__(self, model, y: np.ndarray):
        self.loss_name = model.loss.name
        self.sparse = self.loss_name == "sparse_categorical_crossentropy"
        self.units = model.output_shape[-1]
        self.lo, self.hi = _clip_bounds(model.dtype)
        one_hot = (not self.sparse and y.ndim == 2 and self.units > 1
                   and bool(np.all((y == 0) | (y == 1))) and bool(np.all(y.sum(axis=1) == 1)))
        last = model.layers[-1].activation.name
        if last == "softmax" and self.loss_name in ("categorical_crossentropy",
                                                    "sparse_categorical_crossentropy"):
            self.fused = "softmax"
            self.mode = "labels" if (self.sparse or one_hot) else "soft"
        elif last == "sigmoid" and self.loss_name == "binary_crossentropy":
            self.fused = "sigmoid"
            self.mode = "soft"
        else:
            self.fused = None
            self.mode = "labels" if self.sparse else "soft"

        self.metrics = []
        for name, fn in model.metrics:
            kind = self._METRICS.get(fn)
            if kind is None:
                raise ValueError(
                    f"the metric {name!r} is a Python function of NumPy arrays, which cannot run on a "
                    "torch device. The built-in metrics 'accuracy', 'binary_accuracy', "
                    "'categorical_accuracy' and 'sparse_categorical_accuracy' run there; train with "
                    "device=None to use your own.")
            if kind == "auto":
                kind = "binary" if self.units == 1 else "categorical"
            if kind == "categorical" and self.units == 1:
                raise ValueError(f"the metric {name!r} compares classes, but the model has a single "
                                 "output unit; use 'accuracy' or 'binary_accuracy'.")
            self.metrics.append(kind)

    def _labels(self, y: np.ndarray) -> np.ndarray:
        return (y.reshape(-1) if self.sparse else y.argmax(axis=1)).astype(np.int64)

    def batch_arrays(self, y: np.ndarray) -> dict[str, np.ndarray]:
        """The target arrays a training batch is cut from: 'target' for the loss, and 'labels'
        or 'y' when a metric needs them in another form."""
        arrays = {"target": self._labels(y) if self.mode == "labels" else y}
        if "categorical" in self.metrics and self.mode != "labels":
            arrays["labels"] = self._labels(y)
        if "binary" in self.metrics and self.mode == "labels" and not self.sparse:
            arrays["y"] = y
        return arrays

    def eval_arrays(self, y: np.ndarray) -> dict[str, np.ndarray]:
        """The target arrays ``evaluate`` needs: the loss's own targets, and labels for metrics."""
        arrays = {"target": self._labels(y) if self.sparse else y}
        if "categorical" in self.metrics and not self.sparse:
            arrays["labels"] = self._labels(y)
        return arrays

    def body(self, net: torch.nn.Sequential) -> torch.nn.Module:
        """The part of ``net`` whose output the criterion takes: without the last activation if fused."""
        return net[:-1] if self.fused else net

    def __call__(self, out: torch.Tensor, batch: dict):
        target = batch["target"]
        if self.fused == "softmax" and self.mode == "labels":
            per_example = F.cross_entropy(out, target, reduction="none")
            loss = per_example.mean()
            value = per_example.detach().clamp(self.lo, self.hi).mean()
        elif self.fused == "softmax":
            loss = kernels.softmax_crossentropy(target, out)
            value = kernels.categorical_crossentropy(target, F.softmax(out.detach(), dim=-1))
        elif self.fused == "sigmoid":
            loss = kernels.sigmoid_binary_crossentropy(target, out)
            value = kernels.binary_crossentropy(target, torch.sigmoid(out.detach()))
        else:
            loss = kernels.loss(self.loss_name, target, out)
            value = loss.detach()
        return loss, torch.stack([value] + self.metric_values(out.detach(), batch, self.fused))

    def metric_values(self, out: torch.Tensor, batch: dict, fused=None) -> list[torch.Tensor]:
        """Each metric as a 0-d tensor, the fraction of right answers; ``out`` holds logits if fused."""
        values = []
        for kind in self.metrics:
            if kind == "categorical":     # softmax keeps the order: the argmax of the logits
                right = out.argmax(dim=-1) == batch.get("labels", batch["target"])
            else:
                right = (_probabilities(out, fused) > 0.5) == (batch.get("y", batch["target"]) > 0.5)
            values.append(right.to(out.dtype).mean())
        return values

    def evaluate(self, y_pred: torch.Tensor, targets: dict) -> list[float]:
        """[loss, metric, ...] over a whole set from the model's outputs, as ``Sequential.evaluate``."""
        value = kernels.loss(self.loss_name, targets["target"], y_pred)
        return torch.stack([value] + self.metric_values(y_pred, targets)).tolist()


def _probabilities(out: torch.Tensor, fused) -> torch.Tensor:
    """The model's output from the logits of a fused pair (or ``out`` itself when not fused)."""
    if fused == "softmax":
        return F.softmax(out, dim=-1)
    if fused == "sigmoid":
        return torch.sigmoid(out)
    return out


class _Trainer(Backend):
    """Runs the training steps of one ``fit`` call on one device (the backend of ``run_epochs``).

    Not synchronous: each batch writes its loss and metrics into a tensor on the device, read
    at the end of the epoch (or after every batch when the learner's callbacks ask for them).
    """

    synchronous = False

    def __init__(self, net, optimizer, criterion, device, x, y, batch_size, model, use_graphs):
        self.net, self.optimizer, self.criterion, self.device = net, optimizer, criterion, device
        self.model, self.stream, self.copied_back = model, None, False
        self.body = criterion.body(net)
        self.x = _to_device(x, device)
        self.targets = {name: _to_device(a, device) for name, a in criterion.batch_arrays(y).items()}
        self.n, self.batch_size = len(x), batch_size
        self.full_steps = self.n // batch_size
        self.steps = -(-self.n // batch_size)
        self.sizes = np.diff(np.minimum(np.arange(self.steps + 1) * batch_size, self.n)).astype(np.float64)
        self.perm = torch.arange(self.n, device=device)
        self.perm_full = self.perm[: self.full_steps * batch_size].view(self.full_steps, batch_size)
        self.order = torch.empty(self.n, dtype=torch.int64, pin_memory=device.type == "cuda")
        self.values = torch.zeros(max(self.steps, 1), 1 + len(criterion.metrics), dtype=self.x.dtype,
                                  device=device)
        # Optimizers keeping a step counter need it on the GPU (capturable) to be replayed;
        # Adam and every optimizer with decay replay an update reading its changing numbers there.
        scalars = use_graphs and optimizer.use_device_scalars()
        self.use_graphs = use_graphs and (scalars or optimizer.capturable or "capturable" not in
                                          optimizer.torch_optimizer.defaults)
        self.counter = torch.zeros(1, dtype=torch.int64, device=device)
        self.counter_value = 0           # the batch number the device's counter holds
        self.graph, self.graph_key = None, None
        self.last_key, self.same_key_steps = None, 0
        self.steps_replayed, self.steps_eager = 0, 0
        self.snapshot = None             # weights at the start of the epoch (start_epoch)

    # -- one step ------------------------------------------------------------------------------------
    def _forward_backward(self, idx: torch.Tensor) -> torch.Tensor:
        batch = {name: t.index_select(0, idx) for name, t in self.targets.items()}
        loss, row = self.criterion(self.body(self.x.index_select(0, idx)), batch)
        loss.backward()
        return row

    def _eager_step(self, batch: int) -> None:
        lo, hi = batch * self.batch_size, min(self.n, (batch + 1) * self.batch_size)
        self.optimizer.zero_grad(set_to_none=True)
        row = self._forward_backward(self.perm[lo:hi])
        self.optimizer.torch_step()
        self.values[batch] = row
        self.steps_eager += 1

    def _capture(self) -> torch.cuda.CUDAGraph:
        """Record one full-batch step, which reads its batch number from ``counter``."""
        self.optimizer.zero_grad(set_to_none=True)   # the graph allocates its own gradients
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            row = self._forward_backward(self.perm_full.index_select(0, self.counter).view(-1))
            self.optimizer.graph_step()
            self.values.index_copy_(0, self.counter, row.unsqueeze(0))
            self.counter.add_(1)
        return graph

    def _replay(self, batch: int) -> None:
        if self.counter_value != batch:
            self.counter.fill_(batch)
        self.graph.replay()
        self.counter_value = batch + 1
        self.steps_replayed += 1

    def step(self, batch: int) -> None:
        """Launch training step ``batch`` of the epoch; the host does not wait for it."""
        optimizer = self.optimizer
        graph_step = self.use_graphs and batch < self.full_steps
        scalars = graph_step and optimizer.device_scalars
        key = optimizer.prepare_graph() if scalars else optimizer.prepare()
        if graph_step and key is not None:
            if self.graph is not None and key == self.graph_key:
                self._replay(batch)
                optimizer.advance()
                return
            self.same_key_steps = self.same_key_steps + 1 if key == self.last_key else 1
            self.last_key = key
            if self.same_key_steps > WARMUP_STEPS:
                try:
                    graph = self._capture()
                except Exception as error:   # an operation this torch or driver cannot capture
                    self.use_graphs = False
                    warnings.warn(f"the training step could not be captured as a CUDA graph "
                                  f"({type(error).__name__}: {error}); training goes on without.",
                                  CudaGraphWarning, stacklevel=2)
                else:
                    self.graph, self.graph_key, self.counter_value = graph, key, None
                    self._replay(batch)
                    optimizer.advance()
                    return
        if scalars:                  # the eager step reads torch.optim's own settings
            optimizer.prepare()
        self._eager_step(batch)
        optimizer.advance()

    # -- epochs ----------------------------------------------------------------------------------------
    def start_epoch(self, order: np.ndarray | None) -> None:
        """Upload the epoch's order of the examples (None: keep the order of the data), and keep
        a copy of the weights to come back to if a loss of this epoch turns out not finite."""
        self.snapshot = self._snapshot()
        if order is not None:
            self.order.numpy()[:] = order
            self.perm.copy_(self.order, non_blocking=True)

    def batch_values(self, batch: int) -> list[float]:
        """[loss, metric, ...] of one batch (waits for it)."""
        return self.values[batch].tolist()

    def epoch_values(self, steps: int) -> np.ndarray:
        """[loss, metric, ...] of the first ``steps`` batches, shape (steps, 1 + metrics) (waits).

        The host learns of a NaN or infinite loss only here, batches after it: the weights and
        the optimizer's state then go back to those of the start of the epoch.
        """
        values = self.values[:steps].cpu().numpy().astype(np.float64)
        if not np.isfinite(values[:, 0]).all():
            self._restore(self.snapshot)
        return values

    def set_validation(self, x_val, y_val, batch_size: int) -> None:
        self.x_val = _to_device(x_val, self.device)
        self.targets_val = {name: _to_device(a, self.device)
                            for name, a in self.criterion.eval_arrays(y_val).items()}
        self.val_batch_size = batch_size

    def validate(self) -> list[float]:
        y_pred = self.predict(self.x_val, self.val_batch_size)
        return [float(v) for v in self.criterion.evaluate(y_pred, self.targets_val)]

    def end_epoch(self) -> None:
        from_torch(self.net, self.model)    # callbacks such as EarlyStopping read the course model

    def end_training(self) -> None:
        _copy_back(self.net, self.model, self.optimizer, self.stream)
        self.copied_back = True
        self.model.history.steps_replayed = self.steps_replayed
        self.model.history.steps_eager = self.steps_eager

    def _snapshot(self):
        """Copies of the weights and the optimizer's state, to go back to if the loss blows up."""
        tensors = list(self.net.parameters()) + self.optimizer.state_tensors()
        return ([t.detach().clone() for t in tensors], self.optimizer.iterations,
                self.optimizer._last_rate)

    def _restore(self, snapshot) -> None:
        copies, iterations, last_rate = snapshot
        params = list(self.net.parameters())
        state = self.optimizer.state_tensors()
        with torch.no_grad():
            for p, c in zip(params, copies):
                p.copy_(c)
            if len(copies) == len(params) + len(state):
                for t, c in zip(state, copies[len(params):]):
                    t.copy_(c)
            else:                         # the state was created during the epoch: start it afresh
                self.optimizer.torch_optimizer.state.clear()
        self.optimizer.iterations, self.optimizer._last_rate = iterations, last_rate

    def predict(self, x: torch.Tensor, batch_size: int) -> torch.Tensor:
        with torch.no_grad():
            return torch.cat([self.net(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])


def _to_device(array: np.ndarray, device: torch.device) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(array)).to(device)


def fit(model, x=None, y=None, batch_size=None, epochs: int = 1, verbose: int = 1, callbacks=None,
        validation_split: float = 0.0, validation_data=None, shuffle: bool = True,
        initial_epoch: int = 0, seed=None, device="cuda", cuda_graphs: bool = True) -> History:
    """``model.fit`` with PyTorch on ``device``: the arguments and the History of ``Sequential.fit``.

    device: 'cuda' (the CPU, with a DeviceFallbackWarning, when no GPU is available), 'cuda:1',
    'cpu', or a torch.device. cuda_graphs: replay the training step as a CUDA graph where
    possible (GPU only); False runs every step eagerly.

    Besides the usual keys, the History records ``history.device`` (where training ran) and
    ``history.steps_replayed`` and ``history.steps_eager`` (how the steps ran). At the end the
    trained weights and the optimizer's state are in ``model``.
    """
    x, y, x_val, y_val, batch_size, callbacks = model._check_fit_arguments(
        x, y, batch_size, epochs, verbose, callbacks, validation_split, validation_data, initial_epoch)
    device = resolve_device(device)
    criterion = Criterion(model, y)
    use_graphs = bool(cuda_graphs) and device.type == "cuda"
    # Step counters on the GPU make a captured step replayable; torch keeps them in float32,
    # which would cost a float64 run its last digits, so float64 runs keep them on the host.
    net, optimizer = to_torch(model, device, capturable=use_graphs and model.dtype == np.float32)
    trainer = _Trainer(net, optimizer, criterion, device, x, y, batch_size, model, use_graphs)
    if x_val is not None:
        trainer.set_validation(x_val, y_val, max(batch_size, 256))
    history = History()
    history.device = str(device)

    # Training runs on a side stream of its own, as CUDA graph capture asks of the warm-up steps.
    stream = torch.cuda.Stream(device) if device.type == "cuda" else None
    trainer.stream = stream
    if stream is not None:
        stream.wait_stream(torch.cuda.current_stream(device))
    try:
        with torch.cuda.stream(stream) if stream is not None else contextlib.nullcontext():
            run_epochs(model, trainer, epochs, initial_epoch, shuffle, get_rng(seed), verbose,
                       callbacks, validation=x_val is not None, history=history)
    finally:
        if not trainer.copied_back:      # interrupted: keep what was learned so far
            _copy_back(net, model, optimizer, stream)
    return history


def _copy_back(net, model, optimizer, stream) -> None:
    """Wait for the device, then put the weights and the optimizer's state into the course model."""
    if stream is not None:
        stream.synchronize()
    if all(bool(torch.isfinite(p).all()) for p in net.parameters()):
        from_torch(net, model, optimizer)
