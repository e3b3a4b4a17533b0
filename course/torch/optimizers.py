"""torch.optim optimizers that follow the course's (Keras 2) optimizers step for step.

``TorchOptimizer(course_optimizer, params)`` builds the torch.optim optimizer of the same family
and, before every step, sets what Keras 2 and torch.optim define differently, so that both
produce the same weights from the same gradients. Each family is one class below (``TorchSGD``,
``TorchAdam``, ...; ``TorchOptimizer(...)`` returns the one of the course optimizer's family),
in the order of ``course/optimizers``, and holds all that is particular to it:

    SGD       lr = lr / (1 + decay * iterations) at every step. torch keeps its momentum buffer
              without the learning rate (b = mu*b + g; p -= eta*b) where Keras keeps it inside
              (v = mu*v - eta*g; p += v), so -eta*b = v. When eta changes (decay, a schedule),
              the buffer must be rescaled by eta_old/eta_new: without Nesterov this is done by
              giving torch the momentum mu*eta_old/eta_new for that step; with Nesterov (whose
              look-ahead needs mu itself) by multiplying the buffer.
    RMSprop   alpha = rho, same eps, outside the root in both.
    Adagrad   initial_accumulator_value = 0; Keras's decay is torch's lr_decay exactly.
    Adadelta  the same rule; only the defaults differ.
    Adam      Keras adds epsilon to sqrt(v) BEFORE the bias correction of v, torch AFTER it:
              torch's eps is set before step t to epsilon / sqrt(1 - beta_2**t).
    Adamax    torch adds eps inside the maximum, u = max(beta_2*u, |g| + eps), Keras in the
              division, m / (u + eps). torch's u is then Keras's u + eps; shifting it by
              eps/beta_2 - eps after each step makes torch's next maximum equal Keras's plus eps.
    Nadam     momentum_decay = schedule_decay (Keras 2's psi = 0.004 is torch's default).

Keras 2's ``decay`` (every optimizer but Nadam, and Adagrad, which has lr_decay) becomes a new
learning rate lr / (1 + decay * iterations) before every step. The learning rate is read from
the course optimizer at each step, so a ``LearningRateScheduler`` that changes ``opt.lr`` is
followed too.

CUDA graphs replay the arithmetic they recorded, numbers included, so a step whose torch
hyperparameters change (Adam's eps at every step, any rate under Keras's decay) cannot be
replayed as torch.optim recorded it. For Adam and for every optimizer with decay,
``use_device_scalars()`` lets such steps be captured anyway: ``graph_step`` makes the same
update with torch's foreach operations on torch.optim's own state, reading the step's numbers
(the rate, Adam's lr * sqrt(1 - beta_2**t) / (1 - beta_1**t), SGD's momentum) from small
tensors on the device that ``prepare_graph`` fills before each replay. That update is each
family's ``_graph_rule``, the course's ``update_step`` written with foreach operations on
torch's state; tests/torch checks every one against the NumPy optimizer, step by step. Eager
steps keep using torch.optim.

The course optimizer's state (velocities, moments, ...) and its ``iterations`` are copied into
torch's state at the start (so training continues where it stopped) and back with
``write_course_state``. Kernels are transposed on the way: pass ``transposed`` to say which
parameters are kept in torch's (out, in) layout.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import torch

from .. import optimizers as course_optimizers

__all__ = ["TorchOptimizer", "TorchSGD", "TorchRMSprop", "TorchAdagrad", "TorchAdadelta",
           "TorchAdam", "TorchAdamax", "TorchNadam"]


class TorchOptimizer:
    """A torch.optim optimizer driven to follow a course optimizer's trajectory.

    TorchOptimizer(optimizer, params, transposed=None, capturable=False)

    optimizer: a course optimizer (``course.optimizers.SGD(lr=0.1, momentum=0.9)``, ...); its
    hyperparameters, learning rate and state are read from it. params: the torch parameters,
    in the order of the course weights. transposed: one bool per parameter, True where the
    torch tensor is the transpose of the course array (a Dense kernel in nn.Linear). capturable:
    keep step counters on the GPU so the step can be captured in a CUDA graph (GPU only;
    ignored by SGD and Adagrad, which need none, and by Adam, whose eps changes every step).

    Returns the class of the optimizer's family (``TorchSGD``, ``TorchAdam``, ...). Use it like
    a torch.optim optimizer: ``zero_grad()``, ``loss.backward()``, ``step()``.
    ``torch_optimizer`` is the torch.optim object; ``iterations`` counts the updates.

    >>> from course.optimizers import SGD
    >>> w = torch.nn.Parameter(torch.tensor([1.0], dtype=torch.float64))
    >>> opt = TorchOptimizer(SGD(lr=0.01), [w])
    >>> w.grad = torch.tensor([1.5], dtype=torch.float64); opt.step(); round(w.item(), 12)
    0.985
    """

    #: What each family sets: the course class it follows, whether torch.optim's version takes
    #: ``capturable``, whether its update needs device scalars even without decay (Adam).
    course_class: type = None
    capturable_family = False
    always_device_scalars = False
    _families: dict[type, type] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        TorchOptimizer._families[cls.course_class] = cls

    def __new__(cls, optimizer, *args, **kwargs):
        if cls is TorchOptimizer:
            if not isinstance(optimizer, course_optimizers.Optimizer):
                raise TypeError(f"TorchOptimizer follows a course optimizer such as SGD(lr=0.01), got "
                                f"{type(optimizer).__name__}.")
            family = next((TorchOptimizer._families[c] for c in type(optimizer).__mro__
                           if c in TorchOptimizer._families), None)
            if family is None:
                raise TypeError(f"no torch.optim equivalent is known for {type(optimizer).__name__}.")
            cls = family
        return super().__new__(cls)

    def __init__(self, optimizer, params, transposed=None, capturable: bool = False):
        self.course = optimizer
        self.params = list(params)
        if not self.params:
            raise ValueError("TorchOptimizer needs at least one parameter to update.")
        self.transposed = list(transposed) if transposed is not None else [False] * len(self.params)
        if len(self.transposed) != len(self.params):
            raise ValueError(f"transposed has {len(self.transposed)} entries for {len(self.params)} "
                             "parameters: give one bool per parameter.")
        self.capturable = (bool(capturable) and self.capturable_family
                           and self.params[0].device.type == "cuda")
        self.iterations = optimizer.iterations
        self._scalars = None             # device tensors of the changing numbers (use_device_scalars)
        self.torch_optimizer = self._build(self._rate(self.iterations))
        self._last_rate = self._rate(self.iterations - 1) if self.iterations else None
        if optimizer.built and optimizer.iterations > 0:
            self._load_course_state()
        else:
            self._fresh_state()

    # -- what each family defines ----------------------------------------------------------------
    def _build(self, rate: float) -> torch.optim.Optimizer:
        """The torch.optim optimizer, with the rate of the next step."""
        raise NotImplementedError

    def _prepare(self, group: dict, rate: float):
        """Set torch's settings for the next step; the tuple of those a captured step reads, or
        None when they change at every step."""
        group["lr"] = rate
        return (rate,)

    def _fill_scalars(self, scalars, rate: float, t: int) -> bool:
        """Put step t's changing numbers into the device scalars; False when there can be no
        graph step now."""
        scalars[0].fill_(rate)
        return True

    def _graph_rule(self, params, grads, state, rate):
        """The update of every parameter as foreach operations on torch's state (``state(key)``:
        the list of that entry), reading ``rate`` from the device; returns the steps to subtract."""
        raise NotImplementedError

    def _torch_entry(self, i: int, p: torch.Tensor, state, t: int) -> dict | None:
        """torch.optim's state of parameter i from the course's (``state(name)``: as a tensor)."""
        raise NotImplementedError

    def _course_state(self, entry: dict, put) -> None:
        """Write torch's state ``entry`` of one parameter into the course's (``put(name, tensor)``)."""
        raise NotImplementedError

    def _has_state(self) -> bool:
        return True

    def _fresh_state(self) -> None:
        """torch's state before the first step, where torch's own would not do."""

    def _after_torch_step(self) -> None:
        """What follows torch.optim's step (Adamax's shift)."""

    # -- shared ------------------------------------------------------------------------------------
    def _rate(self, iterations: int) -> float:
        """Keras 2's learning rate after ``iterations`` updates: lr / (1 + decay * iterations)."""
        return self.course.lr / (1.0 + self.course.decay * iterations)

    @property
    def param_groups(self):
        return self.torch_optimizer.param_groups

    @property
    def state(self):
        return self.torch_optimizer.state

    # -- one step --------------------------------------------------------------------------------
    def prepare(self):
        """Set torch's hyperparameters for the next step; return what a CUDA graph depends on.

        Returns a tuple of the values torch will read (equal tuples: a captured step can be
        replayed), or None when the next steps change in a way a captured step cannot follow
        (decay, Adam's eps).
        """
        if self._scalars is not None:
            self._sync_steps()             # graph steps made since the last eager one
        key = self._prepare(self.torch_optimizer.param_groups[0], self._rate(self.iterations))
        return key if self.course.decay == 0.0 else None

    # -- graph steps on device scalars ------------------------------------------------------------
    @property
    def device_scalars(self) -> bool:
        """True once ``use_device_scalars`` has switched graph steps to ``graph_step``."""
        return self._scalars is not None

    def use_device_scalars(self) -> bool:
        """Let steps whose hyperparameters change be captured: Adam, and any optimizer with decay.

        Returns True when this optimizer is one of those (then the trainer calls
        ``prepare_graph`` and captures ``graph_step``), False otherwise (nothing changes).
        """
        if not (self.always_device_scalars or self.course.decay > 0):
            return False
        p = self.params[0]
        storage = torch.zeros(2, dtype=p.dtype, device=p.device)
        self._scalars = [storage[0], storage[1]]      # 0-d views: a graph reads them at replay
        return True

    def prepare_graph(self):
        """Fill the device scalars for the next step; return the key of what else it depends on.

        The key holds the optimizer's settings other than the learning rate, which the device
        scalars carry: a new rate (a schedule) needs no new graph. None when the step cannot be
        a graph step yet: torch.optim's state is made by the first eager step.
        """
        state = self.torch_optimizer.state
        if self._has_state() and any(p not in state or not state[p] for p in self.params):
            return None
        if not self._fill_scalars(self._scalars, self._rate(self.iterations), self.iterations + 1):
            return None
        config = self.course.get_config()
        config.pop("lr", None)
        return (type(self.course).__name__,) + tuple(sorted(config.items()))

    def graph_step(self) -> None:
        """The update of ``torch_step`` for a CUDA graph: device work only, and the numbers that
        change from step to step read from the device scalars (see ``_graph_rule``)."""
        if self._scalars is None:
            self.torch_step()
            return
        params = [p for p in self.params if p.grad is not None]
        entries = self.torch_optimizer.state

        def state(key):
            return [entries[p][key] for p in params]

        with torch.no_grad():
            step = self._graph_rule(params, [p.grad for p in params], state, self._scalars[0])
            torch._foreach_sub_(params, step)

    def _sync_steps(self) -> None:
        """torch.optim counts its steps in its state; graph steps do not (they need no count):
        before an eager step, set it."""
        for p in self.params:
            entry = self.torch_optimizer.state.get(p)
            if entry and "step" in entry:
                entry["step"].fill_(float(self.iterations))

    def torch_step(self) -> None:
        """torch.optim's step (and what a family adds to it): device work only, so it can be captured."""
        if self.capturable and not torch.cuda.is_current_stream_capturing():
            # A capturable optimizer warns when it runs outside a graph; the first steps of a
            # training run are run that way on purpose (they warm the GPU up before capture).
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*capturable=True.*")
                self.torch_optimizer.step()
        else:
            self.torch_optimizer.step()
        self._after_torch_step()

    def advance(self) -> None:
        """Count the step that was just made."""
        self._last_rate = self._rate(self.iterations)
        self.iterations += 1

    def step(self) -> None:
        """One update of every parameter from its ``.grad``, as the course optimizer would make."""
        self.prepare()
        self.torch_step()
        self.advance()

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.torch_optimizer.zero_grad(set_to_none=set_to_none)

    # -- state -----------------------------------------------------------------------------------
    def _state_list(self, key: str) -> list[torch.Tensor]:
        state = self.torch_optimizer.state
        return [state[p][key] for p in self.params if key in state.get(p, {})]

    def state_tensors(self) -> list[torch.Tensor]:
        """Every tensor of torch's state, in a fixed order (for snapshots)."""
        out = []
        for p in self.params:
            entry = self.torch_optimizer.state.get(p, {})
            out.extend(entry[k] for k in sorted(entry) if torch.is_tensor(entry[k]))
        return out

    def _to_torch(self, array: np.ndarray, i: int) -> torch.Tensor:
        p = self.params[i]
        value = array.T if self.transposed[i] else array
        return torch.tensor(np.ascontiguousarray(value), dtype=p.dtype, device=p.device)

    def _to_course(self, tensor: torch.Tensor, i: int) -> np.ndarray:
        value = tensor.detach().cpu().numpy()
        return value.T if self.transposed[i] else value

    def _step_tensor(self, t: int, p: torch.Tensor) -> torch.Tensor:
        # torch's own convention: float32, on the CPU unless the optimizer is capturable.
        if self.capturable:
            return torch.tensor(float(t), dtype=torch.float32, device=p.device)
        return torch.tensor(float(t), dtype=torch.float32)

    def _load_course_state(self) -> None:
        """Copy the course optimizer's state into torch's, so training continues from it."""
        opt, t = self.course, self.iterations
        course_state = opt.state
        if len(opt._shapes) != len(self.params):
            raise ValueError(f"the course optimizer holds state for {len(opt._shapes)} weights, but "
                             f"{len(self.params)} torch parameters were given.")
        for i, p in enumerate(self.params):
            def state(name, i=i):
                return self._to_torch(course_state[name][i], i)

            entry = self._torch_entry(i, p, state, t)
            if entry is not None:
                self.torch_optimizer.state[p] = entry

    def write_course_state(self, weights) -> None:
        """Copy torch's state and the step count back into the course optimizer.

        weights: the course model's weight arrays (``model.trainable_weights``), used to create
        the course state if the optimizer has not made an update yet.
        """
        opt = self.course
        weights = list(weights)
        if not opt.built:
            opt.build(weights)
        for i, p in enumerate(self.params):
            entry = self.torch_optimizer.state.get(p, {})
            if not entry:
                continue

            def put(name, tensor, i=i):
                opt.state[name][i][...] = self._to_course(tensor, i)

            self._course_state(entry, put)
        opt.iterations = self.iterations

    def __repr__(self) -> str:
        return f"TorchOptimizer({self.course!r} -> {type(self.torch_optimizer).__name__})"


# -- the families, in the order of course/optimizers ---------------------------------------------------
class TorchSGD(TorchOptimizer):
    """SGD: the course's v = mu*v - eta*g; p += v is torch's b = mu*b + g; p -= eta*b with
    v = -eta*b. When eta changes (decay, a schedule) the buffer is rescaled by eta_old/eta_new:
    without Nesterov by giving torch the momentum mu*eta_old/eta_new for that step; with
    Nesterov (whose look-ahead needs mu itself) by multiplying the buffer."""

    course_class = course_optimizers.SGD

    def _build(self, rate):
        opt = self.course
        # torch refuses Nesterov without momentum; Keras's Nesterov with mu = 0 is plain SGD.
        return torch.optim.SGD(self.params, lr=rate, momentum=opt.momentum,
                               nesterov=opt.nesterov and opt.momentum > 0)

    def _has_state(self):
        return self.course.momentum > 0

    def _has_buffers(self) -> bool:
        return all("momentum_buffer" in self.torch_optimizer.state.get(p, {}) for p in self.params)

    def _prepare(self, group, rate):
        opt, last = self.course, self._last_rate
        group["lr"] = rate
        momentum = opt.momentum
        if momentum > 0 and last is not None and last != rate and self._has_buffers():
            if rate == 0:
                raise ValueError(
                    "SGD with momentum cannot continue on torch with a learning rate of 0 after "
                    f"{last:g}: Keras keeps the rate inside its velocity and torch does not. Use "
                    "a small positive rate, or train with device=None.")
            if opt.nesterov:
                for buffer in self._state_list("momentum_buffer"):
                    buffer.mul_(last / rate)
            else:
                momentum = opt.momentum * last / rate
        group["momentum"] = momentum
        return (rate, momentum)

    def _fill_scalars(self, scalars, rate, t):
        opt = self.course
        scalars[0].fill_(rate)
        if opt.momentum > 0:
            if rate == 0:
                return False                                   # _prepare says why
            last = self._last_rate if self._last_rate is not None else rate
            if opt.nesterov:
                scalars[1].fill_(last / rate)                  # the buffer's rescaling
            else:
                scalars[1].fill_(opt.momentum * last / rate)   # torch's momentum for this step
        return True

    def _graph_rule(self, params, grads, state, rate):
        opt = self.course
        if opt.momentum == 0:
            step = grads                                       # w <- w - eta g
        else:
            buffers = state("momentum_buffer")
            torch._foreach_mul_(buffers, self._scalars[1])
            if opt.nesterov:
                torch._foreach_mul_(buffers, opt.momentum)
                torch._foreach_add_(buffers, grads)
                step = torch._foreach_add(grads, buffers, alpha=opt.momentum)
            else:
                torch._foreach_add_(buffers, grads)
                step = buffers
        return torch._foreach_mul(step, rate)

    def _torch_entry(self, i, p, state, t):
        if self.course.momentum == 0:
            return None
        scale = self._last_rate
        if scale == 0:
            if np.any(self.course.velocities[i]):
                raise ValueError("the course SGD was last used with a learning rate of 0 and "
                                 "keeps a velocity torch cannot represent; take one step "
                                 "with a positive rate first.")
            scale = 1.0
            self._last_rate = None
        return {"momentum_buffer": -state("velocities") / scale}

    def _course_state(self, entry, put):
        if "momentum_buffer" in entry and self._last_rate is not None:
            put("velocities", -self._last_rate * entry["momentum_buffer"])


class TorchRMSprop(TorchOptimizer):
    """RMSprop: alpha = rho, the same eps, outside the root in both."""

    course_class = course_optimizers.RMSprop
    capturable_family = True

    def _build(self, rate):
        opt = self.course
        return torch.optim.RMSprop(self.params, lr=rate, alpha=opt.rho, eps=opt.epsilon,
                                   capturable=self.capturable)

    def _graph_rule(self, params, grads, state, rate):
        opt = self.course
        square_avg = state("square_avg")
        torch._foreach_mul_(square_avg, opt.rho)
        torch._foreach_addcmul_(square_avg, grads, grads, value=1 - opt.rho)
        return _over_root(grads, rate, square_avg, opt.epsilon)

    def _torch_entry(self, i, p, state, t):
        return {"step": self._step_tensor(t, p), "square_avg": state("accumulators")}

    def _course_state(self, entry, put):
        put("accumulators", entry["square_avg"])


class TorchAdagrad(TorchOptimizer):
    """Adagrad: initial_accumulator_value = 0; Keras's decay is torch's lr_decay exactly."""

    course_class = course_optimizers.Adagrad

    def _build(self, rate):
        opt = self.course
        return torch.optim.Adagrad(self.params, lr=opt.lr, lr_decay=opt.decay, eps=opt.epsilon,
                                   initial_accumulator_value=0.0)

    def _prepare(self, group, rate):
        group["lr"] = self.course.lr       # torch applies lr_decay itself, from its step count
        return (self.course.lr,)

    def _graph_rule(self, params, grads, state, rate):
        sums = state("sum")
        torch._foreach_addcmul_(sums, grads, grads, value=1)
        return _over_root(grads, rate, sums, self.course.epsilon)

    def _torch_entry(self, i, p, state, t):
        return {"step": self._step_tensor(t, p), "sum": state("accumulators")}

    def _course_state(self, entry, put):
        put("accumulators", entry["sum"])


class TorchAdadelta(TorchOptimizer):
    """Adadelta: the same rule; only the defaults differ."""

    course_class = course_optimizers.Adadelta
    capturable_family = True

    def _build(self, rate):
        opt = self.course
        return torch.optim.Adadelta(self.params, lr=rate, rho=opt.rho, eps=opt.epsilon,
                                    capturable=self.capturable)

    def _graph_rule(self, params, grads, state, rate):
        opt = self.course
        square_avg, acc_delta = state("square_avg"), state("acc_delta")
        torch._foreach_mul_(square_avg, opt.rho)
        torch._foreach_addcmul_(square_avg, grads, grads, value=1 - opt.rho)
        std = torch._foreach_add(square_avg, opt.epsilon)
        torch._foreach_sqrt_(std)
        delta = torch._foreach_add(acc_delta, opt.epsilon)
        torch._foreach_sqrt_(delta)
        torch._foreach_div_(delta, std)
        torch._foreach_mul_(delta, grads)
        torch._foreach_mul_(acc_delta, opt.rho)
        torch._foreach_addcmul_(acc_delta, delta, delta, value=1 - opt.rho)
        return torch._foreach_mul(delta, rate)

    def _torch_entry(self, i, p, state, t):
        return {"step": self._step_tensor(t, p), "square_avg": state("accumulators"),
                "acc_delta": state("delta_accumulators")}

    def _course_state(self, entry, put):
        put("accumulators", entry["square_avg"])
        put("delta_accumulators", entry["acc_delta"])


class TorchAdam(TorchOptimizer):
    """Adam: Keras adds epsilon to sqrt(v) BEFORE the bias correction of v, torch AFTER it:
    torch's eps is set before step t to epsilon / sqrt(1 - beta_2**t). That changes at every
    step, so a CUDA graph always runs ``_graph_rule``, Keras's rule on torch's m and v."""

    course_class = course_optimizers.Adam
    always_device_scalars = True

    def _adam_eps(self, t: int) -> float:
        """torch's eps that makes its step t equal to Keras's: epsilon / sqrt(1 - beta_2**t)."""
        return self.course.epsilon / math.sqrt(1.0 - self.course.beta_2 ** t)

    def _build(self, rate):
        opt = self.course
        return torch.optim.Adam(self.params, lr=rate, betas=(opt.beta_1, opt.beta_2),
                                eps=self._adam_eps(self.iterations + 1), amsgrad=opt.amsgrad)

    def _prepare(self, group, rate):
        group["lr"] = rate
        group["eps"] = self._adam_eps(self.iterations + 1)
        return None                        # eps changes at every step

    def _fill_scalars(self, scalars, rate, t):
        opt = self.course
        scalars[0].fill_(rate * (math.sqrt(1 - opt.beta_2 ** t) / (1 - opt.beta_1 ** t)))
        return True

    def _graph_rule(self, params, grads, state, rate):
        """m = beta_1 m + (1 - beta_1) g; v = beta_2 v + (1 - beta_2) g^2;
        step = lr_t m / (sqrt(v) + epsilon), with lr_t from the device."""
        opt = self.course
        m, v = state("exp_avg"), state("exp_avg_sq")
        torch._foreach_mul_(m, opt.beta_1)
        torch._foreach_add_(m, grads, alpha=1 - opt.beta_1)
        torch._foreach_mul_(v, opt.beta_2)
        torch._foreach_addcmul_(v, grads, grads, value=1 - opt.beta_2)
        if opt.amsgrad:
            vhat = state("max_exp_avg_sq")
            torch._foreach_maximum_(vhat, v)
            v = vhat
        return _over_root(m, rate, v, opt.epsilon)

    def _torch_entry(self, i, p, state, t):
        entry = {"step": self._step_tensor(t, p), "exp_avg": state("m"), "exp_avg_sq": state("v")}
        if self.course.amsgrad:
            entry["max_exp_avg_sq"] = state("vhat")
        return entry

    def _course_state(self, entry, put):
        put("m", entry["exp_avg"])
        put("v", entry["exp_avg_sq"])
        if self.course.amsgrad:
            put("vhat", entry["max_exp_avg_sq"])


class TorchAdamax(TorchOptimizer):
    """Adamax: torch adds eps inside the maximum, u = max(beta_2*u, |g| + eps), Keras in the
    division, m / (u + eps). torch's u is then Keras's u + eps; shifting it by
    eps/beta_2 - eps after each step makes torch's next maximum equal Keras's plus eps."""

    course_class = course_optimizers.Adamax
    capturable_family = True

    def _offset(self) -> float:
        """What torch's exp_inf holds above Keras's u between steps: epsilon / beta_2."""
        opt = self.course
        return opt.epsilon / opt.beta_2 if opt.beta_2 > 0 else opt.epsilon

    def _build(self, rate):
        opt = self.course
        return torch.optim.Adamax(self.params, lr=rate, betas=(opt.beta_1, opt.beta_2),
                                  eps=opt.epsilon, capturable=self.capturable)

    def _fill_scalars(self, scalars, rate, t):
        scalars[0].fill_(rate / (1 - self.course.beta_1 ** t))     # torch's bias-corrected rate
        return True

    def _graph_rule(self, params, grads, state, rate):
        opt = self.course
        exp_avg, exp_inf = state("exp_avg"), state("exp_inf")
        torch._foreach_lerp_(exp_avg, grads, 1 - opt.beta_1)
        torch._foreach_mul_(exp_inf, opt.beta_2)
        norms = torch._foreach_abs(grads)
        torch._foreach_add_(norms, opt.epsilon)
        torch._foreach_maximum_(exp_inf, norms)
        step = torch._foreach_mul(exp_avg, rate)
        torch._foreach_div_(step, exp_inf)
        shift = self._offset() - opt.epsilon
        if shift:
            torch._foreach_add_(exp_inf, shift)
        return step

    def _after_torch_step(self):
        shift = self._offset() - self.course.epsilon
        if shift:
            for u in self._state_list("exp_inf"):
                u.add_(shift)

    def _torch_entry(self, i, p, state, t):
        return {"step": self._step_tensor(t, p), "exp_avg": state("m"),
                "exp_inf": state("u") + self._offset()}

    def _course_state(self, entry, put):
        put("m", entry["exp_avg"])
        put("u", entry["exp_inf"] - self._offset())


class TorchNadam(TorchOptimizer):
    """Nadam: momentum_decay = schedule_decay (Keras 2's psi = 0.004 is torch's default). It has
    no decay, so a CUDA graph replays torch.optim's own (capturable) step."""

    course_class = course_optimizers.Nadam
    capturable_family = True

    def _build(self, rate):
        opt = self.course
        return torch.optim.NAdam(self.params, lr=opt.lr, betas=(opt.beta_1, opt.beta_2),
                                 eps=opt.epsilon, momentum_decay=opt.schedule_decay,
                                 capturable=self.capturable)

    def _mu_product(self, value: float, p: torch.Tensor) -> torch.Tensor:
        # torch keeps the product of the momenta in float32 unless told otherwise; in the
        # weights' dtype it follows a float64 run to the last digits.
        return torch.tensor(value, dtype=p.dtype, device=p.device if self.capturable else "cpu")

    def _fresh_state(self):
        for p in self.params:
            self.torch_optimizer.state[p] = {
                "step": self._step_tensor(0, p), "mu_product": self._mu_product(1.0, p),
                "exp_avg": torch.zeros_like(p), "exp_avg_sq": torch.zeros_like(p),
            }

    def _torch_entry(self, i, p, state, t):
        return {"step": self._step_tensor(t, p), "exp_avg": state("m"), "exp_avg_sq": state("v"),
                "mu_product": self._mu_product(self.course.m_schedule, p)}

    def _course_state(self, entry, put):
        put("m", entry["exp_avg"])
        put("v", entry["exp_avg_sq"])
        self.course.m_schedule = float(entry["mu_product"])


def _over_root(numerators, rate, squares, epsilon):
    """numerator * rate / (sqrt(square) + epsilon) for each tensor, as new tensors (the step of
    Adam, RMSprop and Adagrad, in torch's order of operations)."""
    denominator = torch._foreach_sqrt(squares)
    torch._foreach_add_(denominator, epsilon)
    step = torch._foreach_mul(numerators, rate)
    torch._foreach_div_(step, denominator)
    return step
