"""The optimizers against torch.optim, in float64.

Keras 2's rules and torch's are the same algebra written differently; where a setting has an
exact torch equivalent, it is built by ``torch_twin`` (the mappings of
reference/optimizer-conventions.md) and the weights must agree to a relative error of 1e-10:

- on a fixed, pre-generated sequence of 300 gradients (the weights do not feed back);
- in a closed loop of 60 steps training an 8-16-3 tanh/softmax network on the same batches.

Two settings have no torch equivalent (Nesterov momentum with a decaying rate; Adamax with
epsilon > 0): they are checked against short loops written here from the equations.
"""
import math

import numpy as np
import pytest

from course.layers import Dense
from course.models import Sequential
from course.optimizers import SGD, Adadelta, Adagrad, Adam, Adamax, Nadam, RMSprop

torch = pytest.importorskip("torch")

TOLERANCE = 1e-10
SHAPES = [(5, 3), (3,), (3, 2), (2,)]


@pytest.fixture(autouse=True)
def torch_float64():
    """torch keeps some optimizer scalars (NAdam's momentum product) in the default dtype.

    One thread: the tensors are tiny, and idle worker threads only compete for the cores.
    """
    previous, threads = torch.get_default_dtype(), torch.get_num_threads()
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)
    yield
    torch.set_default_dtype(previous)
    torch.set_num_threads(threads)


def keras_rate(opt, t):
    """Keras 2's learning rate at step t (t = 1 first): lr / (1 + decay * (t - 1))."""
    return opt.lr / (1 + opt.decay * (t - 1))


def torch_twin(opt, tensors):
    """A torch optimizer computing the same updates as ``opt``, and a hook to call before step t.

    Raises NotImplementedError for the settings that have no torch equivalent.
    """
    def no_hook(t):
        pass

    if isinstance(opt, SGD):
        if opt.nesterov and opt.decay:
            raise NotImplementedError("Nesterov momentum with a changing rate has no torch equivalent")
        twin = torch.optim.SGD(tensors, lr=opt.lr, momentum=opt.momentum, nesterov=opt.nesterov)

        def hook(t):  # lr = eta_t; momentum = mu * eta_{t-1} / eta_t keeps Keras's velocity
            group = twin.param_groups[0]
            group["lr"] = keras_rate(opt, t)
            if opt.momentum and t > 1:
                group["momentum"] = opt.momentum * keras_rate(opt, t - 1) / keras_rate(opt, t)
        return twin, hook
    if isinstance(opt, RMSprop):
        twin = torch.optim.RMSprop(tensors, lr=opt.lr, alpha=opt.rho, eps=opt.epsilon)
    elif isinstance(opt, Adagrad):
        return torch.optim.Adagrad(tensors, lr=opt.lr, lr_decay=opt.decay, eps=opt.epsilon,
                                   initial_accumulator_value=0.0), no_hook
    elif isinstance(opt, Adadelta):
        twin = torch.optim.Adadelta(tensors, lr=opt.lr, rho=opt.rho, eps=opt.epsilon)
    elif isinstance(opt, Adam):
        twin = torch.optim.Adam(tensors, lr=opt.lr, betas=(opt.beta_1, opt.beta_2), eps=0.0,
                                amsgrad=opt.amsgrad)

        def hook(t):  # Keras's epsilon hat, moved past torch's bias correction of v
            twin.param_groups[0]["lr"] = keras_rate(opt, t)
            twin.param_groups[0]["eps"] = opt.epsilon / math.sqrt(1 - opt.beta_2 ** t)
        return twin, hook
    elif isinstance(opt, Adamax):
        if opt.epsilon:
            raise NotImplementedError("torch's Adamax adds eps inside the maximum")
        twin = torch.optim.Adamax(tensors, lr=opt.lr, betas=(opt.beta_1, opt.beta_2), eps=0.0)
    elif isinstance(opt, Nadam):
        return torch.optim.NAdam(tensors, lr=opt.lr, betas=(opt.beta_1, opt.beta_2), eps=opt.epsilon,
                                 momentum_decay=opt.schedule_decay), no_hook
    else:
        raise NotImplementedError(type(opt).__name__)

    def set_rate(t):
        twin.param_groups[0]["lr"] = keras_rate(opt, t)
    return twin, set_rate


MAPPED = {
    "sgd": lambda: SGD(lr=0.1),
    "sgd-decay": lambda: SGD(lr=0.1, decay=0.01),
    "sgd-momentum": lambda: SGD(lr=0.05, momentum=0.9),
    "sgd-momentum-decay": lambda: SGD(lr=0.05, momentum=0.9, decay=0.01),
    "sgd-nesterov": lambda: SGD(lr=0.05, momentum=0.9, nesterov=True),
    "rmsprop": lambda: RMSprop(),
    "rmsprop-options": lambda: RMSprop(lr=0.01, rho=0.8, epsilon=1e-4, decay=0.01),
    "adagrad": lambda: Adagrad(),
    "adagrad-options": lambda: Adagrad(lr=0.1, epsilon=1e-3, decay=0.01),
    "adadelta": lambda: Adadelta(),
    "adadelta-options": lambda: Adadelta(lr=0.5, rho=0.9, epsilon=1e-6, decay=0.01),
    "adam": lambda: Adam(),
    "adam-epsilon-0": lambda: Adam(lr=0.01, epsilon=0.0),
    "adam-decay": lambda: Adam(lr=0.01, decay=0.01),
    "adam-amsgrad": lambda: Adam(lr=0.01, amsgrad=True),
    "adam-amsgrad-options": lambda: Adam(lr=0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-4, decay=0.01,
                                         amsgrad=True),
    "adamax-epsilon-0": lambda: Adamax(epsilon=0.0),
    "adamax-epsilon-0-decay": lambda: Adamax(lr=0.01, beta_1=0.8, beta_2=0.99, epsilon=0.0, decay=0.01),
    "nadam": lambda: Nadam(),
    "nadam-options": lambda: Nadam(lr=0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-4, schedule_decay=0.01),
}


def relative_error(ours, theirs) -> float:
    """max |ours - theirs| / max |theirs|."""
    return float(np.max(np.abs(ours - theirs)) / max(np.max(np.abs(theirs)), 1e-300))


def fixed_gradients(seed=0, steps=300):
    """A seeded sequence of gradients whose size changes from step to step (0.1x to 10x)."""
    rng = np.random.default_rng(seed)
    return [[10 ** rng.uniform(-1, 1) * rng.standard_normal(s) for s in SHAPES] for _ in range(steps)]


def start_params(seed=1):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in SHAPES]


def our_displacements(opt, params, gradients):
    """Run ``opt`` on the gradients; the displacement from the start after every step."""
    params = [p.copy() for p in params]
    start = [p.copy() for p in params]
    out = []
    for grads in gradients:
        opt.apply_gradients(params, grads)
        out.append([p - s for p, s in zip(params, start)])
    return out


def torch_displacements(opt, params, gradients):
    tensors = [torch.tensor(p, dtype=torch.float64) for p in params]
    twin, before_step = torch_twin(opt, tensors)
    out = []
    for t, grads in enumerate(gradients, start=1):
        for tensor, g in zip(tensors, grads):
            tensor.grad = torch.tensor(g, dtype=torch.float64)
        before_step(t)
        twin.step()
        out.append([tensor.detach().numpy() - p for tensor, p in zip(tensors, params)])
    return out


@pytest.mark.parametrize("config", MAPPED)
def test_300_steps_on_fixed_gradients_match_torch_optim(config):
    params, gradients = start_params(), fixed_gradients()
    ours = our_displacements(MAPPED[config](), params, gradients)
    theirs = torch_displacements(MAPPED[config](), params, gradients)
    for t, (mine, other) in enumerate(zip(ours, theirs), start=1):
        for i, (a, b) in enumerate(zip(mine, other)):
            error = relative_error(a, b)
            assert error <= TOLERANCE, (
                f"{MAPPED[config]()!r}, step {t}, parameter {i}: relative error {error:.3g} > {TOLERANCE}; "
                f"ours moved {a.ravel()[:3]}..., torch {b.ravel()[:3]}...")


# -- the settings torch cannot express: loops written from the equations -----------------------
def nesterov_with_decay_by_hand(params, gradients, lr, momentum, decay):
    """Keras 2: eta = lr / (1 + decay * k); v = mu v - eta g; p = p + mu v - eta g."""
    params = [p.copy() for p in params]
    velocities = [np.zeros_like(p) for p in params]
    for k, grads in enumerate(gradients):
        eta = lr / (1 + decay * k)
        for i, g in enumerate(grads):
            velocities[i] = momentum * velocities[i] - eta * g
            params[i] = params[i] + momentum * velocities[i] - eta * g
    return params


def adamax_by_hand(params, gradients, lr, beta_1, beta_2, epsilon):
    """Keras 2: m = b1 m + (1 - b1) g; u = max(b2 u, |g|); p -= lr / (1 - b1^t) m / (u + eps)."""
    params = [p.copy() for p in params]
    m = [np.zeros_like(p) for p in params]
    u = [np.zeros_like(p) for p in params]
    for t, grads in enumerate(gradients, start=1):
        for i, g in enumerate(grads):
            m[i] = beta_1 * m[i] + (1 - beta_1) * g
            u[i] = np.maximum(beta_2 * u[i], np.abs(g))
            params[i] = params[i] - lr / (1 - beta_1 ** t) * m[i] / (u[i] + epsilon)
    return params


@pytest.mark.parametrize("opt, by_hand", [
    (SGD(lr=0.05, momentum=0.9, nesterov=True, decay=0.01),
     lambda p, g: nesterov_with_decay_by_hand(p, g, 0.05, 0.9, 0.01)),
    (Adamax(), lambda p, g: adamax_by_hand(p, g, 0.002, 0.9, 0.999, 1e-7)),
    (Adamax(lr=0.01, epsilon=0.1, decay=0.0), lambda p, g: adamax_by_hand(p, g, 0.01, 0.9, 0.999, 0.1)),
], ids=["sgd-nesterov-decay", "adamax-default-epsilon", "adamax-large-epsilon"])
def test_settings_without_a_torch_equivalent_follow_the_equations(opt, by_hand):
    params, gradients = start_params(), fixed_gradients()
    expected = by_hand(params, gradients)
    got = [p.copy() for p in params]
    for grads in gradients:
        opt.apply_gradients(got, grads)
    for i, (a, b, p0) in enumerate(zip(got, expected, params)):
        error = relative_error(a - p0, b - p0)
        assert error <= TOLERANCE, f"{opt!r}, parameter {i}: relative error {error:.3g}"
    with pytest.raises(NotImplementedError):
        torch_twin(opt, [torch.zeros(1)])


def test_keras_and_torch_sgd_differ_once_a_decaying_rate_meets_momentum():
    """The conventions note, measured: the naive torch setup (only the lr decays) drifts away."""
    params, gradients = start_params(), fixed_gradients(steps=50)
    ours = our_displacements(SGD(lr=0.05, momentum=0.9, decay=0.1), params, gradients)[-1]
    tensors = [torch.tensor(p) for p in params]
    naive = torch.optim.SGD(tensors, lr=0.05, momentum=0.9)
    for t, grads in enumerate(gradients, start=1):
        for tensor, g in zip(tensors, grads):
            tensor.grad = torch.tensor(g)
        naive.param_groups[0]["lr"] = 0.05 / (1 + 0.1 * (t - 1))
        naive.step()
    error = relative_error(ours[0], tensors[0].detach().numpy() - params[0])
    assert error > 1e-3, f"expected a visible difference, got relative error {error:.3g}"


# -- closed loop: a small network trained by both -----------------------------------------------
CLOSED_LOOP = {
    "sgd": lambda: SGD(lr=0.1),
    "sgd-momentum-decay": lambda: SGD(lr=0.1, momentum=0.9, decay=0.01),
    "sgd-nesterov": lambda: SGD(lr=0.1, momentum=0.9, nesterov=True),
    "rmsprop": lambda: RMSprop(lr=0.01),
    "adagrad": lambda: Adagrad(lr=0.1),
    "adadelta": lambda: Adadelta(),
    "adam": lambda: Adam(lr=0.01),
    "adam-amsgrad-decay": lambda: Adam(lr=0.01, decay=0.01, amsgrad=True),
    "adamax": lambda: Adamax(lr=0.02, epsilon=0.0),
    "nadam": lambda: Nadam(lr=0.01),
}


def batches(steps=60, batch=16, seed=3):
    """A seeded sequence of mini-batches: x (16, 8), one-hot y (16, 3)."""
    rng = np.random.default_rng(seed)
    teacher = rng.standard_normal((8, 3))
    out = []
    for _ in range(steps):
        x = rng.standard_normal((batch, 8))
        labels = np.argmax(x @ teacher + 0.5 * rng.standard_normal((batch, 3)), axis=1)
        out.append((x, np.eye(3)[labels]))
    return out


@pytest.mark.parametrize("config", CLOSED_LOOP)
def test_60_steps_training_an_8_16_3_network_match_torch(config):
    model = Sequential([Dense(16, activation="tanh", input_shape=(8,), dtype=np.float64, seed=0),
                        Dense(3, activation="softmax", dtype=np.float64, seed=1)])
    model.compile(loss="categorical_crossentropy", optimizer=CLOSED_LOOP[config]())
    start = model.get_weights()
    kernel_1, bias_1, kernel_2, bias_2 = start

    torch_net = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3))
    with torch.no_grad():  # Keras kernels are (inputs, units); torch weights are (units, inputs)
        torch_net[0].weight.copy_(torch.tensor(kernel_1.T))
        torch_net[0].bias.copy_(torch.tensor(bias_1))
        torch_net[2].weight.copy_(torch.tensor(kernel_2.T))
        torch_net[2].bias.copy_(torch.tensor(bias_2))
    twin, before_step = torch_twin(CLOSED_LOOP[config](), list(torch_net.parameters()))

    for t, (x, y) in enumerate(batches(), start=1):
        loss = model.train_on_batch(x, y)
        twin.zero_grad()
        torch_loss = torch.nn.functional.cross_entropy(torch_net(torch.tensor(x)),
                                                       torch.tensor(y.argmax(axis=1)))
        torch_loss.backward()
        before_step(t)
        twin.step()
        assert loss == pytest.approx(torch_loss.item(), rel=1e-9), (
            f"step {t}: loss {loss} vs torch {torch_loss.item()}")

    theirs = [torch_net[0].weight.detach().numpy().T, torch_net[0].bias.detach().numpy(),
              torch_net[2].weight.detach().numpy().T, torch_net[2].bias.detach().numpy()]
    for i, (ours, other, w0) in enumerate(zip(model.get_weights(), theirs, start)):
        error = relative_error(ours - w0, other - w0)
        assert error <= TOLERANCE, (f"{CLOSED_LOOP[config]()!r}: weight {i} after 60 steps, relative "
                                    f"error of its change {error:.3g} > {TOLERANCE}")
