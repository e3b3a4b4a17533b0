"""Every course optimizer, with its options, follows torch.optim (through TorchOptimizer).

The comparison runs on a fixed, pre-generated sequence of gradients (no feedback through a loss,
so rounding cannot snowball), hundreds of steps long, with gradients from 1e-8 to 10 so that
epsilon matters as much as the learning rate. The weights are compared every ten steps.
"""
import numpy as np
import pytest
import torch

from course import optimizers
from course.torch import TorchOptimizer

STEPS = 200
CHECK_EVERY = 10

CONFIGS = {
    "SGD": lambda: optimizers.SGD(lr=0.1),
    "SGD momentum": lambda: optimizers.SGD(lr=0.1, momentum=0.9),
    "SGD nesterov": lambda: optimizers.SGD(lr=0.1, momentum=0.9, nesterov=True),
    "SGD decay": lambda: optimizers.SGD(lr=0.1, decay=0.05),
    "SGD momentum decay": lambda: optimizers.SGD(lr=0.1, momentum=0.9, decay=0.01),
    "SGD nesterov decay": lambda: optimizers.SGD(lr=0.1, momentum=0.5, decay=0.02, nesterov=True),
    "RMSprop": lambda: optimizers.RMSprop(),
    "RMSprop rho decay": lambda: optimizers.RMSprop(lr=0.01, rho=0.5, epsilon=1e-4, decay=0.01),
    "Adagrad": lambda: optimizers.Adagrad(),
    "Adagrad decay": lambda: optimizers.Adagrad(lr=0.1, epsilon=1e-4, decay=0.01),
    "Adadelta": lambda: optimizers.Adadelta(),
    "Adadelta decay": lambda: optimizers.Adadelta(lr=0.5, rho=0.8, epsilon=1e-5, decay=0.01),
    "Adam": lambda: optimizers.Adam(),
    "Adam amsgrad": lambda: optimizers.Adam(amsgrad=True),
    "Adam decay": lambda: optimizers.Adam(lr=0.01, beta_1=0.5, beta_2=0.9, epsilon=1e-4, decay=0.01),
    "Adamax": lambda: optimizers.Adamax(),
    "Adamax decay": lambda: optimizers.Adamax(lr=0.01, beta_2=0.9, epsilon=1e-4, decay=0.01),
    "Adamax beta_2 0": lambda: optimizers.Adamax(beta_2=0.0, epsilon=1e-3),
    "Nadam": lambda: optimizers.Nadam(),
    "Nadam schedule": lambda: optimizers.Nadam(lr=0.01, beta_2=0.9, epsilon=1e-4, schedule_decay=0.04),
}


def gradient_sequence(dtype, steps=STEPS, seed=0):
    """Weights and gradients for a kernel (4, 3) and a bias (3,).

    The kernel's gradients change scale from step to step (1e-3 to 10); the bias's stay near
    epsilon (1e-8 to 1e-6), where epsilon's place in each formula decides the step.
    """
    rng = np.random.default_rng(seed)
    weights = [rng.normal(size=(4, 3)).astype(dtype), rng.normal(size=(3,)).astype(dtype)]
    grads = [[(rng.normal(size=(4, 3)) * 10 ** rng.uniform(-3, 1)).astype(dtype),
              (rng.normal(size=(3,)) * 10 ** rng.uniform(-8, -6)).astype(dtype)]
             for _ in range(steps)]
    return weights, grads


def parameters(weights, device, transposed=(False, False)):
    """Torch copies of the weights (never sharing memory with them, even on the CPU)."""
    return [torch.nn.Parameter(torch.tensor(w.T if t else w, device=device))
            for w, t in zip(weights, transposed)]


def torch_step(opt, params, grads, transposed=(False, False)):
    for p, g, t in zip(params, grads, transposed):
        p.grad = torch.from_numpy(np.ascontiguousarray(g.T if t else g)).to(p.device)
    opt.step()


@pytest.mark.parametrize("config", CONFIGS)
def test_every_step_matches_torch_optim(config, device, dtype, assert_close):
    course_opt = CONFIGS[config]()
    weights, grads = gradient_sequence(dtype)
    params = parameters(weights, device)
    torch_opt = TorchOptimizer(course_opt, params)
    for k, g in enumerate(grads, start=1):
        course_opt.apply_gradients(weights, g)
        torch_step(torch_opt, params, g)
        if k % CHECK_EVERY == 0:
            for p, w in zip(params, weights):
                assert_close(p, w, dtype, f"optimizer {config}")
    assert torch_opt.iterations == course_opt.iterations == STEPS


@pytest.mark.parametrize("config", CONFIGS)
def test_torch_continues_from_the_course_state_and_hands_it_back(config, device, dtype, assert_close):
    """80 NumPy steps; then torch (kernel transposed, as in nn.Linear) takes over for 80 more
    while a twin course optimizer goes on in NumPy; the state written back equals the twin's."""
    weights, grads = gradient_sequence(dtype, steps=160, seed=1)
    reference, handed_over = CONFIGS[config](), CONFIGS[config]()
    twin = [w.copy() for w in weights]
    for g in grads[:80]:
        reference.apply_gradients(weights, g)
        handed_over.apply_gradients(twin, g)
    transposed = (True, False)
    params = parameters(twin, device, transposed)
    torch_opt = TorchOptimizer(handed_over, params, transposed=transposed)
    for g in grads[80:]:
        reference.apply_gradients(weights, g)
        torch_step(torch_opt, params, g, transposed)
    assert_close(params[0].T, weights[0], dtype, f"optimizer {config} (continued)")
    assert_close(params[1], weights[1], dtype, f"optimizer {config} (continued)")

    torch_opt.write_course_state(twin)
    assert handed_over.iterations == reference.iterations == 160
    for name in reference.state_names:
        # torch keeps Adamax's u as u + epsilon: in float32 that sum is all it can give back
        shift = reference.epsilon if name == "u" else 0.0
        for mine, theirs in zip(handed_over.state[name], reference.state[name]):
            assert_close(mine + shift, theirs + shift, dtype, f"optimizer {config} state", record=False)
    if config.startswith("Nadam"):
        assert handed_over.m_schedule == pytest.approx(reference.m_schedule, rel=1e-12)


@pytest.mark.parametrize("nesterov", [False, True], ids=["momentum", "nesterov"])
def test_sgd_momentum_follows_a_learning_rate_changed_between_steps(nesterov, device, dtype, assert_close):
    """Keras keeps the rate inside its velocity: a new rate must not rescale the old steps."""
    course_opt = optimizers.SGD(lr=0.1, momentum=0.9, nesterov=nesterov)
    weights, grads = gradient_sequence(dtype, steps=90, seed=2)
    params = parameters(weights, device)
    torch_opt = TorchOptimizer(course_opt, params)
    for k, g in enumerate(grads):
        if k in (30, 60):
            course_opt.lr = course_opt.lr * (0.2 if k == 30 else 3.0)
        course_opt.apply_gradients(weights, g)
        torch_step(torch_opt, params, g)
    for p, w in zip(params, weights):
        assert_close(p, w, dtype, "optimizer SGD with a changed learning rate")


def test_the_books_step_moves_a_weight_by_lr_times_gradient():
    w = torch.nn.Parameter(torch.tensor([1.0], dtype=torch.float64))
    opt = TorchOptimizer(optimizers.SGD(lr=0.01), [w])
    w.grad = torch.tensor([1.5], dtype=torch.float64)
    opt.step()
    assert w.item() == pytest.approx(0.985, abs=1e-15)


def test_each_optimizer_becomes_the_torch_optim_class_of_its_family():
    w = [torch.nn.Parameter(torch.zeros(2))]
    expected = {"SGD": torch.optim.SGD, "RMSprop": torch.optim.RMSprop, "Adagrad": torch.optim.Adagrad,
                "Adadelta": torch.optim.Adadelta, "Adam": torch.optim.Adam, "Adamax": torch.optim.Adamax,
                "Nadam": torch.optim.NAdam}
    for name, cls in expected.items():
        assert type(TorchOptimizer(optimizers.get(name), w).torch_optimizer) is cls


def test_every_course_optimizer_has_one_torch_family_class_and_a_subclass_finds_it():
    from course.torch import optimizers as torch_optimizers

    w = [torch.nn.Parameter(torch.zeros(2))]
    for name, cls in optimizers.OPTIMIZERS.items():
        family = type(TorchOptimizer(cls(), w))
        assert family.course_class is cls and family.__name__ == "Torch" + cls.__name__
        assert family is getattr(torch_optimizers, family.__name__)

    class MyAdam(optimizers.Adam):
        pass

    assert type(TorchOptimizer(MyAdam(), w)).__name__ == "TorchAdam"


def test_settings_a_captured_step_depends_on_are_reported_only_while_they_stay_the_same():
    w = [torch.nn.Parameter(torch.zeros(2))]
    assert TorchOptimizer(optimizers.SGD(lr=0.1, momentum=0.9), w).prepare() == (0.1, 0.9)
    assert TorchOptimizer(optimizers.RMSprop(), w).prepare() == (0.001,)
    assert TorchOptimizer(optimizers.SGD(lr=0.1, decay=0.01), w).prepare() is None   # changes every step
    assert TorchOptimizer(optimizers.Adam(), w).prepare() is None                    # eps changes every step


def test_a_torch_optimizer_is_refused_with_a_hint():
    w = [torch.nn.Parameter(torch.zeros(2))]
    with pytest.raises(TypeError, match="course optimizer"):
        TorchOptimizer(torch.optim.SGD(w, lr=0.1), w)


GRAPH_CONFIGS = {name: CONFIGS[name] for name in CONFIGS
                 if name.startswith("Adam ") or name == "Adam" or name.endswith("decay")}


def graph_or_eager_step(opt, params, grads, graph):
    """One step as fit makes it on a GPU: eager through torch.optim, or the graph's update
    (``graph_step`` reading its numbers from the device), here run without capturing."""
    for p, g in zip(params, grads):
        p.grad = torch.from_numpy(np.ascontiguousarray(g)).to(p.device)
    key = opt.prepare_graph() if graph else None
    if key is None:
        opt.prepare()
        opt.torch_step()
    else:
        opt.graph_step()
    opt.advance()
    return key


@pytest.mark.parametrize("config", GRAPH_CONFIGS)
def test_graph_steps_on_device_scalars_follow_the_course_optimizer(config, device, dtype, assert_close):
    """Adam, and every optimizer with decay, change a torch hyperparameter at every step, so a
    CUDA graph of torch.optim's step cannot be replayed; ``graph_step`` makes the same update
    from numbers on the device. Eager and graph steps alternate in stretches, as when fit
    re-captures."""
    course_opt = CONFIGS[config]()
    weights, grads = gradient_sequence(dtype, steps=150, seed=3)
    params = parameters(weights, device)
    torch_opt = TorchOptimizer(course_opt, params)
    assert torch_opt.use_device_scalars() and torch_opt.device_scalars
    keys = set()
    for k, g in enumerate(grads):
        course_opt.apply_gradients(weights, g)
        keys.add(graph_or_eager_step(torch_opt, params, g, graph=(k % 50) >= 5))
        if k % CHECK_EVERY == 0:
            for p, w in zip(params, weights):
                assert_close(p, w, dtype, f"graph step {config}")
    assert None in keys and len(keys) == 2, "both kinds of step ran, each graph step with one key"
    assert torch_opt.iterations == course_opt.iterations == 150
    if not config.startswith("SGD"):   # torch.optim's step count, as its next eager step reads it
        torch_opt.prepare()
        assert all(float(torch_opt.state[p]["step"]) == 150 for p in params)


def test_adam_and_optimizers_with_decay_use_device_scalars():
    w = torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))
    for optimizer, expected in [(optimizers.Adam(), True), (optimizers.SGD(decay=0.1), True),
                                (optimizers.RMSprop(decay=0.1), True), (optimizers.Adamax(decay=1), True),
                                (optimizers.SGD(), False), (optimizers.RMSprop(), False),
                                (optimizers.Nadam(), False)]:
        opt = TorchOptimizer(optimizer, [w])
        assert opt.use_device_scalars() is expected and opt.device_scalars is expected
