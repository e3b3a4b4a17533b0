"""Optimizers: worked first steps, the contract with the model, validation, properties.

The comparisons with torch.optim are in test_optimizers_torch.py.
"""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from course import optimizers as O
from course.optimizers import SGD, Adadelta, Adagrad, Adam, Adamax, Nadam, RMSprop

ALL_CLASSES = [SGD, RMSprop, Adagrad, Adadelta, Adam, Adamax, Nadam]

# One optimizer per update path, including every option.
CONFIGS = {
    "sgd": lambda: SGD(lr=0.1),
    "sgd-decay": lambda: SGD(lr=0.1, decay=0.05),
    "sgd-momentum": lambda: SGD(lr=0.05, momentum=0.9),
    "sgd-momentum-decay": lambda: SGD(lr=0.05, momentum=0.9, decay=0.05),
    "sgd-nesterov": lambda: SGD(lr=0.05, momentum=0.9, nesterov=True),
    "sgd-nesterov-decay": lambda: SGD(lr=0.05, momentum=0.9, nesterov=True, decay=0.05),
    "rmsprop": lambda: RMSprop(),
    "rmsprop-decay": lambda: RMSprop(lr=0.01, rho=0.8, epsilon=1e-4, decay=0.05),
    "adagrad": lambda: Adagrad(),
    "adagrad-decay": lambda: Adagrad(lr=0.1, decay=0.05),
    "adadelta": lambda: Adadelta(),
    "adadelta-decay": lambda: Adadelta(lr=0.5, rho=0.9, epsilon=1e-6, decay=0.05),
    "adam": lambda: Adam(),
    "adam-decay": lambda: Adam(lr=0.01, decay=0.05),
    "adam-amsgrad": lambda: Adam(lr=0.01, amsgrad=True),
    "adamax": lambda: Adamax(),
    "adamax-decay": lambda: Adamax(lr=0.01, decay=0.05),
    "nadam": lambda: Nadam(),
    "nadam-schedule": lambda: Nadam(lr=0.01, schedule_decay=0.02),
}

SHAPES = [(4, 3), (3,), (3, 2), (2,)]  # kernel, bias, kernel, bias


def make_params(rng, dtype=np.float64, shapes=SHAPES):
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


def gradient_sequence(rng, steps, dtype=np.float64, shapes=SHAPES):
    """Gradients whose size changes from step to step (10**-1 to 10**1)."""
    return [[(10 ** rng.uniform(-1, 1) * rng.standard_normal(s)).astype(dtype) for s in shapes]
            for _ in range(steps)]


def one_step(opt, param, grad):
    """Apply one gradient to one weight; returns the new weight (a copy)."""
    p = np.array(param, dtype=np.float64)
    opt.apply_gradients([p], [np.array(grad, dtype=np.float64)])
    return p


# -- worked first steps, checkable by hand ------------------------------------------------------
def test_sgd_book_example_gradient_1_5_and_lr_0_01_moves_the_weight_by_0_015():
    w = one_step(SGD(lr=0.01), [0.5], [1.5])
    assert w[0] == pytest.approx(0.485, abs=1e-15), f"w = 0.5 - 0.01 * 1.5 should be 0.485, got {w[0]!r}"


def test_sgd_momentum_second_step_adds_momentum_times_the_first():
    opt, w = SGD(lr=0.01, momentum=0.9), np.array([1.0])
    opt.apply_gradients([w], [np.array([1.5])])   # v = -0.015
    opt.apply_gradients([w], [np.array([1.5])])   # v = 0.9 * -0.015 - 0.015 = -0.0285
    assert opt.velocities[0][0] == pytest.approx(-0.0285, abs=1e-15)
    assert w[0] == pytest.approx(1.0 - 0.015 - 0.0285, abs=1e-15), f"got {w[0]!r}"


def test_sgd_nesterov_first_step_looks_one_velocity_ahead():
    # v = -0.015; p += 0.9 * v - 0.01 * 1.5 = -0.0135 - 0.015 = -0.0285
    w = one_step(SGD(lr=0.01, momentum=0.9, nesterov=True), [1.0], [1.5])
    assert w[0] == pytest.approx(1.0 - 0.0285, abs=1e-15), f"got {w[0]!r}"


def test_sgd_decay_divides_the_rate_by_1_plus_decay_times_updates_done():
    opt, w = SGD(lr=0.1, decay=0.5), np.array([0.0])
    moves = []
    for _ in range(3):
        before = w[0]
        opt.apply_gradients([w], [np.array([1.0])])
        moves.append(before - w[0])
    # rates 0.1 / 1, 0.1 / 1.5, 0.1 / 2
    np.testing.assert_allclose(moves, [0.1, 0.1 / 1.5, 0.05], rtol=1e-14, err_msg="moves with decay 0.5")
    assert opt.current_lr == pytest.approx(0.1 / 2.5)


@pytest.mark.parametrize("opt, grad, expected_move, by_hand", [
    # RMSprop: a = 0.1 * 4 = 0.4; step = 0.001 * 2 / (sqrt(0.4) + 1e-7)
    (RMSprop(), 2.0, 0.001 * 2 / (math.sqrt(0.4) + 1e-7), 0.0031623),
    # Adagrad: a = 9; step = 0.01 * 3 / (3 + 1e-7)
    (Adagrad(), 3.0, 0.01 * 3 / (3 + 1e-7), 0.01),
    # Adadelta: a = 0.05; update = 1 * sqrt(0 + 1e-7) / sqrt(0.05 + 1e-7); step = 1.0 * update
    (Adadelta(), 1.0, math.sqrt(1e-7) / math.sqrt(0.05 + 1e-7), 0.0014142),
    # Adam: m = 0.1 g = -2, v = 0.001 g^2 = 0.4, lr_t = 0.001 * sqrt(0.001) / 0.1; a negative
    # gradient moves the weight up by lr
    (Adam(), -20.0, 0.001 * math.sqrt(0.001) / 0.1 * -2.0 / (math.sqrt(0.4) + 1e-7), -0.001),
    # Adamax: m = 0.1 g, u = |g|, lr_t = 0.002 / 0.1
    (Adamax(), 4.0, 0.002 / 0.1 * 0.4 / (4.0 + 1e-7), 0.002),
    # Nadam: see nadam_step's docstring, step = lr * 1.056452 (for |g| >> epsilon)
    (Nadam(), 1.0, None, 0.0021129),
], ids=["rmsprop", "adagrad", "adadelta", "adam", "adamax", "nadam"])
def test_first_step_worked_by_hand(opt, grad, expected_move, by_hand):
    w = one_step(opt, [1.0], [grad])
    move = 1.0 - w[0]
    if expected_move is not None:
        assert move == pytest.approx(expected_move, rel=1e-12), (
            f"{opt!r} first step for gradient {grad}: expected move {expected_move!r}, got {move!r}")
    assert move == pytest.approx(by_hand, rel=1e-4), f"{opt!r}: hand value {by_hand}, got {move!r}"


def test_nadam_first_step_from_its_momentum_schedule():
    mu1, mu2 = 0.9 * (1 - 0.5 * 0.96 ** 0.004), 0.9 * (1 - 0.5 * 0.96 ** 0.008)
    g_hat = 1.0 / (1 - mu1)
    m_hat = 0.1 / (1 - mu1 * mu2)
    v_hat = 0.001 / (1 - 0.999)
    expected = 0.002 * ((1 - mu1) * g_hat + mu2 * m_hat) / (math.sqrt(v_hat) + 1e-7)
    opt = Nadam()
    w = one_step(opt, [1.0], [1.0])
    assert 1.0 - w[0] == pytest.approx(expected, rel=1e-12)
    assert opt.m_schedule == pytest.approx(mu1, rel=1e-15)
    assert O.nadam_momentum(1) == pytest.approx(0.450073, abs=1e-6)


# -- the pure functions -------------------------------------------------------------------------
def pure_run(name, opt, params, grad_seq):
    """Run the pure step function by hand, the way the optimizer object should."""
    params = [p.copy() for p in params]
    zeros = [np.zeros_like(p) for p in params]
    s1, s2, s3 = list(zeros), list(zeros), list(zeros)
    m_schedule = 1.0
    for t, grads in enumerate(grad_seq, start=1):
        lr = opt.lr / (1 + opt.decay * (t - 1))
        for i, (p, g) in enumerate(zip(params, grads)):
            if name == "sgd":
                params[i], s1[i] = O.sgd_step(p, g, s1[i], lr, opt.momentum, opt.nesterov)
            elif name == "rmsprop":
                params[i], s1[i] = O.rmsprop_step(p, g, s1[i], lr, opt.rho, opt.epsilon)
            elif name == "adagrad":
                params[i], s1[i] = O.adagrad_step(p, g, s1[i], lr, opt.epsilon)
            elif name == "adadelta":
                params[i], s1[i], s2[i] = O.adadelta_step(p, g, s1[i], s2[i], lr, opt.rho, opt.epsilon)
            elif name == "adam":
                vhat = s3[i] if opt.amsgrad else None
                params[i], s1[i], s2[i], s3[i] = O.adam_step(p, g, s1[i], s2[i], t, lr, opt.beta_1,
                                                             opt.beta_2, opt.epsilon, vhat)
            elif name == "adamax":
                params[i], s1[i], s2[i] = O.adamax_step(p, g, s1[i], s2[i], t, lr, opt.beta_1,
                                                        opt.beta_2, opt.epsilon)
            elif name == "nadam":
                params[i], s1[i], s2[i], new_schedule = O.nadam_step(
                    p, g, s1[i], s2[i], t, m_schedule, lr, opt.beta_1, opt.beta_2, opt.epsilon,
                    opt.schedule_decay)
        if name == "nadam":
            m_schedule = new_schedule
    return params, [s1, s2, s3]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("config", CONFIGS)
def test_optimizer_object_gives_bit_for_bit_the_pure_functions_numbers(config, dtype, rng):
    opt = CONFIGS[config]()
    name = type(opt).__name__.lower()
    params = make_params(rng, dtype)
    seq = gradient_sequence(rng, 40, dtype)
    expected, expected_state = pure_run(name, opt, params, seq)
    for grads in seq:
        opt.apply_gradients(params, grads)
    for i, (got, want) in enumerate(zip(params, expected)):
        assert got.dtype == dtype and want.dtype == dtype, f"dtypes {got.dtype}, {want.dtype}"
        np.testing.assert_array_equal(got, want, err_msg=f"{opt!r}, parameter {i}, {dtype.__name__}")
    for name, want in zip(opt.state_names, expected_state):
        for i, got in enumerate(getattr(opt, name)):
            np.testing.assert_array_equal(got, want[i], err_msg=f"{opt!r}: state {name}[{i}]")


@pytest.mark.parametrize("config", CONFIGS)
def test_update_step_changes_each_weight_and_its_state_in_place(config, rng):
    opt = CONFIGS[config]()
    params = make_params(rng)
    opt.apply_gradients(params, gradient_sequence(rng, 1)[0])
    state_ids = {name: [id(a) for a in getattr(opt, name)] for name in opt.state_names}
    before = [p.copy() for p in params]
    for i, (p, g) in enumerate(zip(params, gradient_sequence(rng, 1)[0])):
        opt.update_step(g, p, opt.current_lr)
        assert not np.array_equal(p, before[i]), f"{opt!r}.update_step did not move weight {i}"
    assert {name: [id(a) for a in getattr(opt, name)] for name in opt.state_names} == state_ids


def test_plain_sgd_keeps_no_state_and_momentum_keeps_one_velocity_per_weight(rng):
    plain, heavy = SGD(lr=0.1), SGD(lr=0.1, momentum=0.9)
    for opt in (plain, heavy):
        opt.apply_gradients(make_params(rng), gradient_sequence(rng, 1)[0])
    assert plain.state_names == () and plain.state == {}
    assert heavy.state_names == ("velocities",) and len(heavy.velocities) == len(SHAPES)


def test_nadam_computes_its_momentum_schedule_once_per_step_for_all_weights(rng, monkeypatch):
    from course.optimizers import nadam as nadam_module

    calls = []
    original = nadam_module.nadam_momentum
    monkeypatch.setattr(nadam_module, "nadam_momentum", lambda *a: calls.append(a) or original(*a))
    opt = Nadam()
    params = make_params(rng)
    for grads in gradient_sequence(rng, 3):
        opt.apply_gradients(params, grads)
    assert len(calls) == 2 * 3, f"{len(calls)} calls for 3 steps of {len(params)} weights: {calls}"


STEP_CALLS = {
    "sgd": lambda p, g, z: O.sgd_step(p, g, z, 0.1, 0.9, True),
    "rmsprop": lambda p, g, z: O.rmsprop_step(p, g, z),
    "adagrad": lambda p, g, z: O.adagrad_step(p, g, z),
    "adadelta": lambda p, g, z: O.adadelta_step(p, g, z, z),
    "adam": lambda p, g, z: O.adam_step(p, g, z, z, 1, vhat=z),
    "adamax": lambda p, g, z: O.adamax_step(p, g, z, z, 1),
    "nadam": lambda p, g, z: O.nadam_step(p, g, z, z, 1),
}

small_arrays = arrays(np.float64, (3, 2), elements=st.floats(-10, 10))


@pytest.mark.parametrize("name", STEP_CALLS)
@settings(max_examples=25, deadline=None)
@given(param=small_arrays, grad=small_arrays, state=arrays(np.float64, (3, 2), elements=st.floats(0, 5)))
def test_pure_step_functions_never_modify_their_arguments(name, param, grad, state):
    copies = [param.copy(), grad.copy(), state.copy()]
    with np.errstate(all="ignore"):
        STEP_CALLS[name](param, grad, state)
    for before, after, label in zip(copies, [param, grad, state], ["param", "grad", "state"]):
        np.testing.assert_array_equal(after, before, err_msg=f"{name}_step changed its {label}")


@pytest.mark.parametrize("name", STEP_CALLS)
def test_pure_step_functions_keep_float32_as_float32(name):
    p, g, z = np.ones(3, np.float32), np.full(3, 0.5, np.float32), np.zeros(3, np.float32)
    result = STEP_CALLS[name](p, g, z)
    for field, value in result._asdict().items():
        if isinstance(value, np.ndarray):
            assert value.dtype == np.float32, f"{name}_step returned {field} as {value.dtype}"


# -- the contract with the model ------------------------------------------------------------------
@pytest.mark.parametrize("config", CONFIGS)
def test_apply_gradients_updates_params_in_place_and_never_touches_grads(config, rng):
    opt = CONFIGS[config]()
    params = make_params(rng)
    originals = [p.copy() for p in params]
    ids = [id(p) for p in params]
    grads = gradient_sequence(rng, 1)[0]
    grad_copies = [g.copy() for g in grads]
    for g in grads:
        g.setflags(write=False)  # writing to a gradient would raise
    opt.apply_gradients(params, grads)
    assert [id(p) for p in params] == ids
    for i, (p, p0, g, g0) in enumerate(zip(params, originals, grads, grad_copies)):
        np.testing.assert_array_equal(g, g0, err_msg=f"{opt!r} changed gradient {i}")
        assert not np.array_equal(p, p0), f"{opt!r} did not move parameter {i} in place"


@pytest.mark.parametrize("config", CONFIGS)
def test_iterations_count_the_calls(config, rng):
    opt = CONFIGS[config]()
    params = make_params(rng)
    assert opt.iterations == 0 and not opt.built
    for k, grads in enumerate(gradient_sequence(rng, 3), start=1):
        opt.apply_gradients(params, grads)
        assert opt.iterations == k


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cls, names", [
    (lambda: SGD(momentum=0.9), ("velocities",)), (RMSprop, ("accumulators",)),
    (Adagrad, ("accumulators",)), (Adadelta, ("accumulators", "delta_accumulators")),
    (Adam, ("m", "v")), (Adamax, ("m", "u")), (Nadam, ("m", "v")),
], ids=["SGD-momentum", "RMSprop", "Adagrad", "Adadelta", "Adam", "Adamax", "Nadam"])
def test_state_is_built_on_the_first_call_with_each_params_shape_and_dtype(cls, names, dtype, rng):
    opt = cls()
    assert opt.state == {} and opt.state_names == names
    params = make_params(rng, dtype)
    opt.apply_gradients(params, gradient_sequence(rng, 1, dtype)[0])
    assert tuple(opt.state) == names
    for name in names:
        state = getattr(opt, name)
        assert [s.shape for s in state] == [p.shape for p in params], f"{opt!r}.{name} shapes"
        assert all(s.dtype == dtype for s in state), f"{opt!r}.{name}: {[s.dtype for s in state]}"
        assert all(p.dtype == dtype for p in params)


def test_adam_with_amsgrad_keeps_vhat_the_running_maximum_of_v(rng):
    opt, params = Adam(amsgrad=True), make_params(rng)
    for grads in gradient_sequence(rng, 5):
        opt.apply_gradients(params, grads)
        for vhat, v in zip(opt.vhat, opt.v):
            assert np.all(vhat >= v)
    assert opt.state_names == ("m", "v", "vhat")


def test_nadam_m_schedule_is_the_product_of_the_momenta(rng):
    opt, params = Nadam(), make_params(rng)
    for grads in gradient_sequence(rng, 4):
        opt.apply_gradients(params, grads)
    expected = math.prod(O.nadam_momentum(t) for t in range(1, 5))
    assert opt.m_schedule == pytest.approx(expected, rel=1e-14)


def test_gradients_of_another_float_dtype_are_converted_to_the_params_dtype():
    w = np.ones(3, np.float32)
    Adam().apply_gradients([w], [np.full(3, 0.5)])
    assert w.dtype == np.float32
    np.testing.assert_allclose(w, 1 - 0.001, rtol=1e-6)


@pytest.mark.parametrize("params, grads, message", [
    ([np.zeros(3)], [np.zeros(3), np.zeros(2)], "1 parameters but 2 gradients"),
    ([np.zeros(3)], [np.zeros(4)], "gradient 0 has shape (4,) but parameter 0 has shape (3,)"),
    ([np.zeros((2, 3))], [np.zeros((3, 2))], "each gradient must have its parameter's shape"),
])
def test_mismatched_params_and_grads_raise_a_clear_value_error(params, grads, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        SGD().apply_gradients(params, grads)


def test_params_must_be_float_arrays_that_can_be_updated_in_place():
    with pytest.raises(TypeError, match="parameter 0 must be a NumPy array"):
        SGD().apply_gradients([[1.0, 2.0]], [np.zeros(2)])
    with pytest.raises(TypeError, match="array of floats, got an array of dtype int64"):
        SGD().apply_gradients([np.zeros(2, np.int64)], [np.zeros(2)])
    with pytest.raises(TypeError, match="lists of arrays"):
        SGD().apply_gradients(np.zeros(2), np.zeros(2))


def test_an_optimizer_built_for_one_model_refuses_another(rng):
    opt = Adam()
    opt.apply_gradients([np.zeros((2, 3)), np.zeros(3)], [np.ones((2, 3)), np.ones(3)])
    with pytest.raises(ValueError, match="built for 2 parameters and now got 1"):
        opt.apply_gradients([np.zeros((2, 3))], [np.ones((2, 3))])
    with pytest.raises(ValueError, match=r"built for parameter 0 of shape \(2, 3\)"):
        opt.apply_gradients([np.zeros((3, 3)), np.zeros(3)], [np.ones((3, 3)), np.ones(3)])


# -- learning rate --------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", ALL_CLASSES)
def test_lr_and_learning_rate_are_one_settable_attribute(cls):
    opt = cls(learning_rate=0.5)
    assert opt.lr == opt.learning_rate == 0.5
    opt.lr = 0.25
    assert opt.learning_rate == 0.25
    opt.learning_rate = 0.125
    assert opt.lr == 0.125 and type(opt.lr) is float
    assert opt.get_config()["lr"] == 0.125


@pytest.mark.parametrize("cls", ALL_CLASSES)
def test_giving_both_lr_and_learning_rate_is_an_error(cls):
    with pytest.raises(TypeError, match="as lr or as learning_rate, not both"):
        cls(lr=0.1, learning_rate=0.2)


@pytest.mark.parametrize("bad, error", [(-0.1, ValueError), (float("nan"), ValueError),
                                        (float("inf"), ValueError), ("0.1", TypeError),
                                        (None, TypeError), (True, TypeError)])
def test_setting_a_bad_lr_is_refused_and_keeps_the_old_value(bad, error):
    opt = SGD(lr=0.1)
    with pytest.raises(error, match="lr must be"):
        opt.lr = bad
    with pytest.raises(error, match="lr must be"):
        opt.learning_rate = bad
    assert opt.lr == 0.1


def test_a_new_lr_is_used_from_the_next_update_on():
    opt, w = SGD(lr=0.1), np.array([0.0])
    opt.apply_gradients([w], [np.array([1.0])])
    opt.lr = 0.01  # what LearningRateScheduler does between epochs
    opt.apply_gradients([w], [np.array([1.0])])
    assert w[0] == pytest.approx(-0.11, abs=1e-15)


@given(lr=st.floats(0, 10), decay=st.floats(0, 10), k=st.integers(0, 1000))
def test_current_lr_is_keras_2_time_decay(lr, decay, k):
    opt = SGD(lr=lr, decay=decay)
    opt.iterations = k
    assert opt.current_lr == pytest.approx(lr / (1 + decay * k), rel=1e-15, abs=0)


def test_nadam_has_no_decay_and_a_constant_rate():
    opt = Nadam(lr=0.01)
    opt.iterations = 100
    assert opt.decay == 0.0 and opt.current_lr == 0.01
    assert "decay" not in opt.get_config()
    with pytest.raises(TypeError):
        Nadam(decay=0.1)


# -- defaults, config, repr -----------------------------------------------------------------------
@pytest.mark.parametrize("cls, defaults", [
    (SGD, dict(lr=0.01, momentum=0.0, decay=0.0, nesterov=False)),
    (RMSprop, dict(lr=0.001, rho=0.9, epsilon=1e-7, decay=0.0)),
    (Adagrad, dict(lr=0.01, epsilon=1e-7, decay=0.0)),
    (Adadelta, dict(lr=1.0, rho=0.95, epsilon=1e-7, decay=0.0)),
    (Adam, dict(lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, decay=0.0, amsgrad=False)),
    (Adamax, dict(lr=0.002, beta_1=0.9, beta_2=0.999, epsilon=1e-7, decay=0.0)),
    (Nadam, dict(lr=0.002, beta_1=0.9, beta_2=0.999, epsilon=1e-7, schedule_decay=0.004)),
])
def test_defaults_are_keras_2s(cls, defaults):
    opt = cls()
    assert opt.get_config() == defaults, f"{cls.__name__}: expected {defaults}, got {opt.get_config()}"
    for name, value in defaults.items():
        assert f"{name}={value!r}" in repr(opt), f"{name} missing from {opt!r}"


@pytest.mark.parametrize("config", CONFIGS)
def test_get_config_rebuilds_an_equal_optimizer(config):
    opt = CONFIGS[config]()
    twin = type(opt).from_config(opt.get_config())
    assert twin.get_config() == opt.get_config() and repr(twin) == repr(opt)
    again = O.get(O.serialize(opt))
    assert type(again) is type(opt) and again.get_config() == opt.get_config() and again is not opt


# -- get -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, cls", [
    ("sgd", SGD), ("SGD", SGD), ("rmsprop", RMSprop), ("RMSprop", RMSprop), ("adagrad", Adagrad),
    ("Adadelta", Adadelta), ("adam", Adam), ("ADAM", Adam), ("adamax", Adamax), ("Nadam", Nadam),
])
def test_get_by_name_makes_a_fresh_optimizer_with_defaults(name, cls):
    first, second = O.get(name), O.get(name)
    assert type(first) is cls and first is not second
    assert first.get_config() == cls().get_config()


def test_get_returns_an_optimizer_object_as_it_is():
    opt = SGD(lr=0.3, momentum=0.5)
    assert O.get(opt) is opt


def test_get_from_a_dict():
    opt = O.get({"class_name": "SGD", "config": {"lr": 0.1, "momentum": 0.9, "nesterov": True}})
    assert isinstance(opt, SGD) and (opt.lr, opt.momentum, opt.nesterov) == (0.1, 0.9, True)
    assert O.get({"class_name": "adam", "config": {"learning_rate": 0.02}}).lr == 0.02
    assert O.get({"class_name": "Adamax"}).get_config() == Adamax().get_config()


def test_get_an_unknown_name_lists_the_valid_names():
    with pytest.raises(ValueError) as info:
        O.get("adamw")
    message = str(info.value)
    assert "'adamw'" in message
    for name in ["sgd", "rmsprop", "adagrad", "adadelta", "adam", "adamax", "nadam"]:
        assert repr(name) in message, f"{name} missing from: {message}"


@pytest.mark.parametrize("identifier, error, message", [
    (3, TypeError, "expected an Optimizer object"),
    (None, TypeError, "expected an Optimizer object"),
    (SGD, TypeError, r"got the class SGD, not an optimizer object: call it, e.g. SGD\(\)"),
    ({"config": {}}, ValueError, "needs a 'class_name'"),
    ({"class_name": "SGD", "config": {"lr": 0.1, "beta_1": 0.9}}, ValueError, "SGD has no argument 'beta_1'"),
    ({"class_name": "SGD", "config": {}, "extra": 1}, ValueError, "'class_name' and 'config' only"),
    ({"class_name": "sgdx"}, ValueError, "unknown optimizer 'sgdx'"),
])
def test_get_explains_what_it_expected(identifier, error, message):
    with pytest.raises(error, match=message):
        O.get(identifier)


# -- hyperparameter validation --------------------------------------------------------------------
def bad_hyperparameters():
    numeric = {  # argument -> (classes, upper limit)
        "lr": (ALL_CLASSES, None), "decay": ([SGD, RMSprop, Adagrad, Adadelta, Adam, Adamax], None),
        "momentum": ([SGD], None), "epsilon": ([RMSprop, Adagrad, Adadelta, Adam, Adamax, Nadam], None),
        "rho": ([RMSprop, Adadelta], 1.0), "beta_1": ([Adam, Adamax, Nadam], 1.0),
        "beta_2": ([Adam, Adamax, Nadam], 1.0), "schedule_decay": ([Nadam], None),
    }
    cases = []
    for arg, (classes, high) in numeric.items():
        allowed = "[0, 1)" if high else ">= 0"
        values = [(-0.5, ValueError), (float("nan"), ValueError), (float("inf"), ValueError),
                  ("0.1", TypeError), (None, TypeError), (True, TypeError), ([0.1], TypeError)]
        if high:
            values += [(1.0, ValueError), (1.5, ValueError)]
        for cls in classes:
            for value, error in values:
                cases.append(pytest.param(cls, arg, value, error, allowed,
                                          id=f"{cls.__name__}-{arg}={value!r}"))
    for cls, arg in [(SGD, "nesterov"), (Adam, "amsgrad")]:
        for value in [1, 0, "yes", None, 1.0]:
            cases.append(pytest.param(cls, arg, value, TypeError, "True or False",
                                      id=f"{cls.__name__}-{arg}={value!r}"))
    return cases


@pytest.mark.parametrize("cls, arg, value, error, allowed", bad_hyperparameters())
def test_bad_hyperparameters_are_refused_with_name_range_and_value(cls, arg, value, error, allowed):
    with pytest.raises(error) as info:
        cls(**{arg: value})
    message = str(info.value)
    for part in (cls.__name__, arg, allowed, repr(value)):
        assert part in message, f"{cls.__name__}({arg}={value!r}): {part!r} missing from: {message}"


@pytest.mark.parametrize("cls, arg, value", [
    (SGD, "momentum", 0.0), (SGD, "momentum", 1.5), (SGD, "nesterov", np.bool_(True)),
    (RMSprop, "rho", 0.0), (Adam, "beta_2", 0.0), (Adam, "epsilon", 0), (SGD, "lr", np.float32(0.5)),
    (Adagrad, "decay", 3),
])
def test_edge_values_inside_the_ranges_are_accepted_as_python_floats(cls, arg, value):
    opt = cls(**{arg: value})
    stored = getattr(opt, arg)
    assert stored == value and type(stored) in (float, bool), f"{arg} stored as {type(stored).__name__}"


# -- properties ---------------------------------------------------------------------------------
finite = st.floats(-1e3, 1e3, allow_nan=False)
nonzero = st.floats(1e-6, 1e3) | st.floats(-1e3, -1e-6)


@given(p=arrays(np.float64, 5, elements=finite), g=arrays(np.float64, 5, elements=finite),
       lr=st.floats(0, 1))
def test_sgd_without_momentum_moves_against_the_gradient_by_exactly_lr_times_g(p, g, lr):
    w = p.copy()
    SGD(lr=lr).apply_gradients([w], [g])
    np.testing.assert_array_equal(w, p - lr * g, err_msg=f"p={p}, g={g}, lr={lr}")


@given(g=nonzero, lr=st.floats(1e-6, 1.0), beta_1=st.floats(0, 0.999), beta_2=st.floats(0, 0.9999),
       eps=st.floats(0, 1e-3))
def test_adam_first_step_is_at_most_lr_for_any_gradient(g, lr, beta_1, beta_2, eps):
    move = abs(1.0 - one_step(Adam(lr=lr, beta_1=beta_1, beta_2=beta_2, epsilon=eps), [1.0], [g])[0])
    assert move <= lr * (1 + 1e-9), f"g={g}, lr={lr}, betas=({beta_1}, {beta_2}), eps={eps}: moved {move}"


@given(g=nonzero, lr=st.floats(1e-6, 1.0))
def test_adam_with_epsilon_0_first_step_is_exactly_lr(g, lr):
    move = abs(1.0 - one_step(Adam(lr=lr, epsilon=0.0), [1.0], [g])[0])
    assert move == pytest.approx(lr, rel=1e-9)


@given(g=nonzero, lr=st.floats(1e-6, 1.0))
def test_adagrad_and_adamax_first_steps_are_at_most_lr(g, lr):
    for opt in (Adagrad(lr=lr), Adamax(lr=lr)):
        move = abs(1.0 - one_step(opt, [1.0], [g])[0])
        assert move <= lr * (1 + 1e-9), f"{opt!r}, g={g}: moved {move}"


@given(g=nonzero, rho=st.floats(0, 0.99))
def test_rmsprop_first_step_is_at_most_lr_over_sqrt_of_1_minus_rho(g, rho):
    opt = RMSprop(lr=0.01, rho=rho)
    move = abs(1.0 - one_step(opt, [1.0], [g])[0])
    assert move <= 0.01 / math.sqrt(1 - rho) * (1 + 1e-9), f"rho={rho}, g={g}: moved {move}"


@pytest.mark.parametrize("config", CONFIGS)
@settings(max_examples=20, deadline=None)
@given(g=arrays(np.float64, 4, elements=nonzero))
def test_every_optimizer_first_moves_each_weight_against_its_gradient(config, g):
    w = np.zeros(4)
    CONFIGS[config]().apply_gradients([w], [g])
    np.testing.assert_array_equal(np.sign(w), -np.sign(g), err_msg=f"{config}: g={g}, moved to {w}")


@settings(max_examples=30, deadline=None)
@given(lr=st.floats(0, 5), momentum=st.floats(0, 0.99), nesterov=st.booleans(), decay=st.floats(0, 1))
def test_serialize_then_get_round_trips_any_settings(lr, momentum, nesterov, decay):
    opt = SGD(lr=lr, momentum=momentum, nesterov=nesterov, decay=decay)
    assert O.get(O.serialize(opt)).get_config() == opt.get_config()
