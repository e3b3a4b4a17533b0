"""Training a course model with PyTorch, on the CPU or a GPU: ``model.fit(x, y, device='cuda')``.

``fit(model, x, y, ..., device='cuda')`` takes the arguments of ``Sequential.fit`` and gives the
same result: the same loss and gradients, the same optimizer trajectory (``TorchOptimizer``), the
same batches (the order is drawn from the same NumPy generator as the NumPy path, so a seed gives
the same shuffles on every backend), the same History keys, including 'time', and the same
progress display. The trained weights and the optimizer's state are copied back into the course
model, so ``evaluate`` and ``predict`` work as before.

What makes it fast on a GPU:

- the whole data set is copied to the device once; each batch is gathered there by index;
- nothing waits for the GPU inside an epoch: every batch writes its loss and accuracy into a
  tensor on the device, which is read once, at the end of the epoch;
- the training step (gather, forward, loss, backward, update, bookkeeping) is captured in a
  CUDA graph and replayed: one launch per step instead of about thirty. A graph replays exactly
  the arithmetic it recorded, so it is used while the optimizer's settings stay the same from
  step to step; steps whose settings change (Keras's decay, Adam's eps, a new learning rate)
  run eagerly, and a new graph is captured once the settings settle.

Differences from the NumPy path, all of them about when the host learns a value:

- batch callbacks (``on_batch_begin``/``on_batch_end``) defined by your own callbacks make every
  batch wait for its loss, which they receive as floats, as on the NumPy path; the progress bar
  advances every batch and shows the epoch's values at its end;
- a NaN or infinite loss is found at the end of the epoch (or of the batch, with batch
  callbacks): training stops and the weights from the start of that epoch are kept;
- weights a callback writes into the course model during training are not seen by the torch copy.
"""
from __future__ import annotations

import numbers
import time
import warnings

import numpy as np
import torch
import torch.nn.functional as F

from .. import metrics as metrics_module
from ..callbacks import Callback, History, ProgressBar, warn_nan
from ..losses import EPSILON
from ..utils import check_positive_int, get_rng
from . import kernels
from .bridge import from_torch, to_torch

__all__ = ["fit", "resolve_device", "DeviceFallbackWarning", "Criterion"]

#: Eager steps with unchanged settings before a step is captured in a CUDA graph (they also warm
#: up cuBLAS and the allocator, which capture requires).
WARMUP_STEPS = 3


class DeviceFallbackWarning(UserWarning):
    """The requested device is not available; training runs on the CPU instead."""


def resolve_device(device) -> torch.device:
    """The torch.device to train on; 'cuda' without a usable GPU falls back to 'cpu' with a warning."""
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
        raise ValueError(f"device {str(device)!r} does not exist: this machine has "
                         f"{torch.cuda.device_count()} CUDA device(s), cuda:0 to "
                         f"cuda:{torch.cuda.device_count() - 1}.")
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
    """The loss and metrics of a compiled course model, computed with torch on a batch.

    Criterion(model, y): y are the targets as ``Sequential._check_data`` returns them. It sets
    ``fused`` (the last activation is folded into the loss, as in the NumPy backward pass) and
    ``tensors``: the target arrays a batch needs, by name ('target', 'labels', 'y').

    ``criterion(out, batch)`` returns (loss, row): the loss to differentiate, and a 1-D tensor
    [loss value, metric 1, ...] of the numbers the NumPy path reports for the batch. ``out`` is
    the output of ``body(net)``: the logits when fused, else the model's output.

    The reported loss is Keras's, with probabilities clipped to [1e-7, 1 - 1e-7]; the
    differentiated loss of a fused pair is torch's F.cross_entropy or
    F.binary_cross_entropy_with_logits, whose gradient is the course's fused gradient.
    """

    _METRICS = {
        metrics_module.accuracy: "auto", metrics_module.binary_accuracy: "binary",
        metrics_module.categorical_accuracy: "categorical",
        metrics_module.sparse_categorical_accuracy: "categorical",
    }

    def __init__(self, model, y: np.ndarray):
        self.loss_name = model.loss.name
        last = model.layers[-1].activation.name
        self.lo, self.hi = _clip_bounds(model.dtype)
        sparse = self.loss_name == "sparse_categorical_crossentropy"
        units = model.output_shape[-1]
        labels = None
        if sparse:
            labels = y.reshape(-1).astype(np.int64)
        elif units > 1 and y.ndim == 2 and y.shape[1] == units:
            labels = y.argmax(axis=1).astype(np.int64)
        one_hot = labels is not None and not sparse and bool(
            np.all((y == 0) | (y == 1)) and np.all(y.sum(axis=1) == 1))
        binary = bool(np.all((y == 0) | (y == 1))) if not sparse else False

        if last == "softmax" and self.loss_name in ("categorical_crossentropy",
                                                    "sparse_categorical_crossentropy"):
            self.fused = "softmax"
            self.mode = "labels" if (sparse or one_hot) else "soft"
        elif last == "sigmoid" and self.loss_name == "binary_crossentropy":
            self.fused = "sigmoid"
            self.mode = "binary" if binary else "soft"
        else:
            self.fused = None
            self.mode = "labels" if sparse else "soft"
        self.tensors = {"target": labels if self.mode == "labels" else y}

        self.metrics = []
        for name, fn in model.metrics:
            kind = self._METRICS.get(fn)
            if kind is None:
                raise ValueError(
                    f"the metric {name!r} is a Python function of NumPy arrays, which cannot run on a "
                    "torch device. On a device the built-in metrics 'accuracy', 'binary_accuracy', "
                    "'categorical_accuracy' and 'sparse_categorical_accuracy' are available; train "
                    "with device=None to use your own.")
            if kind == "auto":
                kind = "binary" if units == 1 else "categorical"
            if kind == "categorical":
                if labels is None:
                    raise ValueError(f"the metric {name!r} compares classes, but the model has "
                                     f"{units} output unit(s) and targets of shape {y.shape}.")
                if self.mode != "labels":
                    self.tensors["labels"] = labels
            elif "y" not in self.tensors and self.mode == "labels":
                self.tensors["y"] = y
            self.metrics.append(kind)

    def body(self, net: torch.nn.Sequential) -> torch.nn.Module:
        """The part of ``net`` whose output the criterion takes: without the last activation if fused."""
        return net[:-1] if self.fused else net

    def probabilities(self, out: torch.Tensor) -> torch.Tensor:
        """The model's output from the criterion's input (softmax or sigmoid of the logits)."""
        if self.fused == "softmax":
            return F.softmax(out, dim=-1)
        if self.fused == "sigmoid":
            return torch.sigmoid(out)
        return out

    def __call__(self, out: torch.Tensor, batch: dict):
        target = batch["target"]
        if self.fused == "softmax" and self.mode == "labels":
            per_example = F.cross_entropy(out, target, reduction="none")
            loss = per_example.mean()
            value = per_example.detach().clamp(self.lo, self.hi).mean()
        elif self.fused == "sigmoid" and self.mode == "binary":
            per_entry = F.binary_cross_entropy_with_logits(out, target, reduction="none")
            loss = per_entry.mean()
            value = per_entry.detach().clamp(self.lo, self.hi).mean()
        elif self.fused == "softmax":
            loss = kernels.softmax_crossentropy(target, out)
            value = kernels.categorical_crossentropy(target, F.softmax(out.detach(), dim=-1))
        elif self.fused == "sigmoid":
            loss = kernels.sigmoid_binary_crossentropy(target, out)
            value = kernels.binary_crossentropy(target, torch.sigmoid(out.detach()))
        else:
            loss = kernels.loss(self.loss_name, target, out)
            value = loss.detach()
        row = [value] + self.metric_values(out.detach(), batch)
        return loss, torch.stack(row)

    def metric_values(self, out: torch.Tensor, batch: dict) -> list[torch.Tensor]:
        """Each metric of the batch as a 0-d tensor (the fraction of right answers)."""
        values = []
        for kind in self.metrics:
            if kind == "categorical":
                labels = batch["labels"] if "labels" in batch else batch["target"]
                right = out.argmax(dim=-1) == labels
            else:
                y = batch["y"] if "y" in batch else batch["target"]
                right = (self.probabilities(out) > 0.5) == (y > 0.5)
            values.append(right.to(out.dtype).mean())
        return values

    def evaluate(self, y_pred: torch.Tensor, targets: dict) -> list[float]:
        """[loss, metric, ...] over a whole set from the model's outputs, as ``Sequential.evaluate``."""
        name = self.loss_name
        target = targets["target"]
        value = kernels.loss(name, target, y_pred)
        logits_like = y_pred if not self.fused else y_pred  # argmax and > 0.5 read probabilities too
        row = [value] + [v for v in self._probability_metrics(logits_like, targets)]
        return torch.stack(row).tolist()

    def _probability_metrics(self, probs: torch.Tensor, batch: dict) -> list[torch.Tensor]:
        values = []
        for kind in self.metrics:
            if kind == "categorical":
                labels = batch["labels"] if "labels" in batch else batch["target"]
                right = probs.argmax(dim=-1) == labels
            else:
                y = batch["y"] if "y" in batch else batch["target"]
                right = (probs > 0.5) == (y > 0.5)
            values.append(right.to(probs.dtype).mean())
        return values


class _Trainer:
    """Runs the training steps of one ``fit`` call on one device."""

    def __init__(self, model, net, optimizer, criterion, device, x, batch_size, use_graphs):
        self.net, self.optimizer, self.criterion, self.device = net, optimizer, criterion, device
        self.body = criterion.body(net)
        self.x = torch.from_numpy(x).to(device)
        self.targets = {name: torch.from_numpy(np.ascontiguousarray(a)).to(device)
                        for name, a in criterion.tensors.items()}
        self.n, self.batch_size = len(x), batch_size
        self.full_steps = self.n // batch_size
        self.steps = -(-self.n // batch_size)
        self.perm = torch.arange(self.n, device=device)
        self.perm_full = self.perm[: self.full_steps * batch_size].view(self.full_steps, batch_size)
        self.values = torch.zeros(max(self.steps, 1), 1 + len(criterion.metrics),
                                  dtype=self.x.dtype, device=device)
        self.pinned = torch.empty(self.n, dtype=torch.int64, pin_memory=device.type == "cuda")
        self.use_graphs = use_graphs
        self.counter = torch.zeros(1, dtype=torch.int64, device=device)
        self.counter_value = 0            # what the counter on the device holds, as the host knows it
        self.graph = None
        self.graph_key = None
        self.last_key, self.same_key_steps = None, 0
        self.replayed_steps = 0
        self.eager_steps = 0

    # -- the step ----------------------------------------------------------------------------------
    def _forward_backward(self, idx: torch.Tensor) -> torch.Tensor:
        batch = {name: t.index_select(0, idx) for name, t in self.targets.items()}
        out = self.body(self.x.index_select(0, idx))
        loss, row = self.criterion(out, batch)
        loss.backward()
        return row

    def _eager_step(self, batch: int) -> None:
        lo, hi = batch * self.batch_size, min(self.n, (batch + 1) * self.batch_size)
        self.optimizer.zero_grad(set_to_none=True)
        row = self._forward_backward(self.perm[lo:hi])
        self.optimizer.torch_step()
        self.values[batch] = row
        self.eager_steps += 1

    def _capture(self):
        """Record one full-batch step, reading its batch number from ``counter``, as a CUDA graph."""
        self.optimizer.zero_grad(set_to_none=True)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            idx = self.perm_full.index_select(0, self.counter).view(-1)
            row = self._forward_backward(idx)
            self.optimizer.torch_step()
            self.values.index_copy_(0, self.counter, row.unsqueeze(0))
            self.counter.add_(1)
        return graph

    def step(self, batch: int) -> None:
        """Launch training step ``batch`` of the epoch (the host does not wait for it)."""
        key = self.optimizer.prepare()
        if self.use_graphs and batch < self.full_steps and key is not None:
            if self.graph is not None and key == self.graph_key:
                self._replay(batch)
                return
            self.same_key_steps = self.same_key_steps + 1 if key == self.last_key else 1
            self.last_key = key
            if self.same_key_steps > WARMUP_STEPS:
                try:
                    graph = self._capture()
                except Exception as error:  # an operation that cannot be captured on this setup
                    self.use_graphs = False
                    warnings.warn(f"CUDA graph capture failed ({type(error).__name__}: {error}); training "
                                  "continues without CUDA graphs.", RuntimeWarning, stacklevel=2)
                else:
                    self.graph, self.graph_key = graph, key
                    self.counter_value = None
                    self._replay(batch)
                    return
        self._eager_step(batch)

    def _replay(self, batch: int) -> None:
        if self.counter_value != batch:
            self.counter.fill_(batch)
        self.graph.replay()
        self.counter_value = batch + 1
        self.replayed_steps += 1

    # -- epochs --------------------------------------------------------------------------------------
    def start_epoch(self, order: np.ndarray | None) -> None:
        if order is not None:
            self.pinned.numpy()[:] = order
            self.perm.copy_(self.pinned, non_blocking=True)
        elif self.perm_is_shuffled():
            self.perm.copy_(torch.arange(self.n, device=self.device))

    def perm_is_shuffled(self) -> bool:
        return getattr(self, "_shuffled", False)

    def batch_values(self, batch: int) -> list[float]:
        return self.values[batch].tolist()

    def epoch_values(self) -> np.ndarray:
        return self.values[: self.steps].cpu().numpy().astype(np.float64)

    def snapshot(self) -> list[torch.Tensor]:
        tensors = list(self.net.parameters()) + self.optimizer.state_tensors()
        return [t.detach().clone() for t in tensors], self.optimizer.iterations, self.optimizer._last_rate

    def restore(self, snapshot) -> None:
        copies, iterations, last_rate = snapshot
        tensors = list(self.net.parameters()) + self.optimizer.state_tensors()
        with torch.no_grad():
            if len(tensors) == len(copies):
                for t, c in zip(tensors, copies):
                    t.copy_(c)
            else:  # the optimizer created its state during the failed epoch
                for p, c in zip(self.net.parameters(), copies):
                    p.copy_(c)
                self.optimizer.torch_optimizer.state.clear()
        self.optimizer.iterations, self.optimizer._last_rate = iterations, last_rate

    def predict(self, x: torch.Tensor, batch_size: int) -> torch.Tensor:
        with torch.no_grad():
            return torch.cat([self.net(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])


def _check_arguments(model, x, y, batch_size, epochs, verbose, validation_split, validation_data,
                     initial_epoch):
    """The checks and the validation split of ``Sequential.fit``, with its messages."""
    model._require_compiled("fit")
    epochs = check_positive_int("epochs", epochs, allow_zero=True)
    initial_epoch = check_positive_int("initial_epoch", initial_epoch, allow_zero=True)
    if verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1 or 2, got {verbose!r}.")
    if isinstance(validation_split, bool) or not isinstance(validation_split, numbers.Real) \
            or not 0.0 <= validation_split < 1.0:
        raise ValueError(f"validation_split must be a number in [0, 1), got {validation_split!r}.")
    x, y = model._check_data(x, y)
    batch_size = check_positive_int("batch_size", 32 if batch_size is None else batch_size)
    x_val = y_val = None
    if validation_data is not None:
        if validation_split:
            raise ValueError("give validation_data or validation_split, not both.")
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ValueError("validation_data must be a pair (x_val, y_val).")
        x_val, y_val = model._check_data(*validation_data, what="validation_data")
    elif validation_split:
        split = int(len(x) * (1.0 - validation_split))
        if split == 0 or split == len(x):
            raise ValueError(f"validation_split={validation_split} leaves no examples for training or "
                             f"validation out of {len(x)}.")
        x, x_val, y, y_val = x[:split], x[split:], y[:split], y[split:]
    return x, y, x_val, y_val, batch_size, epochs, initial_epoch


def _overrides(callback, method: str) -> bool:
    return getattr(type(callback), method) is not getattr(Callback, method)


def fit(model, x=None, y=None, batch_size=None, epochs: int = 1, verbose: int = 1, callbacks=None,
        validation_split: float = 0.0, validation_data=None, shuffle: bool = True,
        initial_epoch: int = 0, seed=None, device="cuda", cuda_graphs: bool = True) -> History:
    """``model.fit`` with PyTorch on ``device``; the arguments and the History are those of
    ``Sequential.fit``.

    device: 'cuda' (falls back to the CPU with a DeviceFallbackWarning when no GPU is
    available), 'cuda:1', 'cpu', or a torch.device. cuda_graphs: replay the training step as a
    CUDA graph where possible (GPU only; False runs every step eagerly).

    The History also records ``history.device`` (where training ran) and
    ``history.steps_replayed`` / ``history.steps_eager`` (how many steps ran as a CUDA graph).
    At the end the trained weights and the optimizer's state are copied into ``model``.
    """
    x, y, x_val, y_val, batch_size, epochs, initial_epoch = _check_arguments(
        model, x, y, batch_size, epochs, verbose, validation_split, validation_data, initial_epoch)
    callbacks = list(callbacks or [])
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(f"callbacks must be Callback objects, got {type(cb).__name__}.")
    device = resolve_device(device)
    criterion = Criterion(model, y)
    use_graphs = bool(cuda_graphs) and device.type == "cuda" and hasattr(torch.cuda, "CUDAGraph")
    # Step counters on the GPU serve a captured step; in float64 they would cost precision.
    net, optimizer = to_torch(model, device, capturable=use_graphs and model.dtype == np.float32)
    trainer = _Trainer(model, net, optimizer, criterion, device, x, batch_size, use_graphs)
    rng = get_rng(seed)

    history = History()
    history.device = str(device)
    all_callbacks = callbacks + [history]
    if verbose:
        all_callbacks.append(ProgressBar(initial_epoch + epochs, trainer.steps, verbose))
    for cb in all_callbacks:
        cb.set_model(model)
    begin_callbacks = [cb for cb in all_callbacks if _overrides(cb, "on_batch_begin")]
    end_callbacks = [cb for cb in all_callbacks if _overrides(cb, "on_batch_end")]
    live = any(_overrides(cb, "on_batch_begin") or _overrides(cb, "on_batch_end") for cb in callbacks)
    model.history = history
    model.stop_training = False
    names = ["loss"] + [name for name, _ in model.metrics]
    targets_val = None
    if x_val is not None:
        x_val_t = torch.from_numpy(x_val).to(device)
        targets_val = {name: torch.from_numpy(np.ascontiguousarray(a)).to(device)
                       for name, a in Criterion(model, y_val).tensors.items()}
        if "target" in targets_val and criterion.mode == "labels" and targets_val["target"].dtype != torch.int64:
            targets_val["target"] = targets_val["target"].long()
    sizes = np.diff(np.minimum(np.arange(trainer.steps + 1) * batch_size, trainer.n)).astype(np.float64)

    stream = torch.cuda.Stream(device) if device.type == "cuda" else None
    if stream is not None:
        stream.wait_stream(torch.cuda.current_stream(device))
    finished = False
    try:
        with torch.cuda.stream(stream) if stream is not None else _nothing():
            for cb in all_callbacks:
                cb.on_train_begin({})
            for epoch in range(initial_epoch, initial_epoch + epochs):
                for cb in all_callbacks:
                    cb.on_epoch_begin(epoch, {})
                order = rng.permutation(trainer.n) if shuffle else None
                started = time.perf_counter()
                trainer.start_epoch(order)
                trainer._shuffled = order is not None
                snapshot = trainer.snapshot()
                stopped_at = None
                for batch in range(trainer.steps):
                    for cb in begin_callbacks:
                        cb.on_batch_begin(batch, {})
                    trainer.step(batch)
                    trainer.optimizer.advance()
                    logs = {}
                    if live:
                        logs = dict(zip(names, trainer.batch_values(batch)))
                    for cb in end_callbacks:
                        cb.on_batch_end(batch, logs)
                    if live and not np.isfinite(logs["loss"]):
                        stopped_at = batch
                        break
                values = trainer.epoch_values()
                if stopped_at is None:
                    bad = np.flatnonzero(~np.isfinite(values[:, 0]))
                    stopped_at = int(bad[0]) if bad.size else None
                if stopped_at is not None:
                    values, batch_sizes = values[: stopped_at + 1], sizes[: stopped_at + 1]
                    trainer.restore(snapshot)
                    history.stopped_reason = warn_nan(epoch, stopped_at)
                    model.stop_training = True
                else:
                    batch_sizes = sizes
                totals = (values * batch_sizes[:, None]).sum(axis=0) / max(batch_sizes.sum(), 1.0)
                logs = {k: float(v) for k, v in zip(names, totals)}
                if x_val is not None and not model.stop_training:
                    y_pred = trainer.predict(x_val_t, max(batch_size, 256))
                    logs.update({f"val_{k}": float(v)
                                 for k, v in zip(names, criterion.evaluate(y_pred, targets_val))})
                logs["time"] = time.perf_counter() - started
                from_torch(net, model)
                for cb in all_callbacks:
                    cb.on_epoch_end(epoch, logs)
                if model.stop_training:
                    break
            _copy_back(net, model, optimizer, stream)
            finished = True
        history.steps_replayed, history.steps_eager = trainer.replayed_steps, trainer.eager_steps
        for cb in all_callbacks:
            cb.on_train_end({})
    finally:
        if not finished:
            _copy_back(net, model, optimizer, stream)
    return history


def _copy_back(net, model, optimizer, stream) -> None:
    """Wait for the device, then put the weights and the optimizer's state into the course model."""
    if stream is not None:
        stream.synchronize()
    if all(bool(torch.isfinite(p).all()) for p in net.parameters()):
        from_torch(net, model, optimizer)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
