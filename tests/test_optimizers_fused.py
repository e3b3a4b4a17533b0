"""The fused kernels (course/optimizers/fused.py) give the in-place NumPy update's results to
the last bit, for every optimizer and option, in float32 and float64; and the NumPy update runs
whenever a fused kernel cannot (a small model before its kernel is compiled, non-contiguous
weights, COURSE_FUSED=0, no numba)."""
import subprocess
import sys

import numpy as np
import pytest

from course import optimizers as O
from course.optimizers import fused

pytest.importorskip("numba")

CONFIGS = {
    "sgd": lambda: O.SGD(lr=0.1),
    "sgd decay": lambda: O.SGD(lr=0.1, decay=0.01),
    "sgd momentum": lambda: O.SGD(lr=0.05, momentum=0.9),
    "sgd nesterov": lambda: O.SGD(lr=0.05, momentum=0.9, nesterov=True, decay=0.001),
    "rmsprop": lambda: O.RMSprop(),
    "adagrad": lambda: O.Adagrad(decay=0.01),
    "adadelta": lambda: O.Adadelta(),
    "adam": lambda: O.Adam(decay=0.01),
    "adam amsgrad": lambda: O.Adam(amsgrad=True),
    "adamax": lambda: O.Adamax(),
    "nadam": lambda: O.Nadam(),
}
SHAPES = [(256, 160), (160,), (160, 10)]      # the first one is large enough to be fused


def trajectory(make, dtype, steps=12, fused_on=True, monkeypatch=None, special=False):
    rng = np.random.default_rng(0)
    params = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = [[(rng.standard_normal(s) * 10.0 ** rng.integers(-6, 2)).astype(dtype) for s in SHAPES]
             for _ in range(steps)]
    if special:                                # zeros, a huge value, an inf and a nan
        grads[3][0][0, :5] = 0.0
        grads[4][0][1, 0] = np.finfo(dtype).max / 8
        grads[5][0][2, 0] = np.inf
        grads[6][0][3, 0] = np.nan
    optimizer = make()
    if not fused_on:
        monkeypatch.setattr(fused, "_kernels", False)
    with np.errstate(all="ignore"):
        for step in grads:
            optimizer.apply_gradients(params, step)
    if not fused_on:
        monkeypatch.undo()
    return params, optimizer.state


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", CONFIGS)
def test_fused_update_equals_the_numpy_update_bit_for_bit(name, dtype, monkeypatch):
    assert fused.available()
    make = CONFIGS[name]
    for special in (False, True):
        fused_params, fused_state = trajectory(make, dtype, special=special)
        numpy_params, numpy_state = trajectory(make, dtype, fused_on=False, monkeypatch=monkeypatch,
                                               special=special)
        for a, b in zip(fused_params, numpy_params):
            np.testing.assert_array_equal(a, b, strict=True)
            if not special:
                assert a.tobytes() == b.tobytes()
        for key in numpy_state:
            for a, b in zip(fused_state[key], numpy_state[key]):
                np.testing.assert_array_equal(a, b, strict=True)


def fused_step(optimizer, params, grads):
    """Offer one step to the fused path, as apply_gradients does; True if it took it."""
    params, grads = optimizer._check(params, grads)
    if not optimizer.built:
        optimizer.build(params)
    return fused.update(optimizer, params, grads, optimizer.current_lr, optimizer.iterations + 1)


def test_the_fused_path_is_taken_for_contiguous_float_arrays_only():
    big = np.zeros((256, 160), np.float32)
    assert fused_step(O.Adam(), [big.copy()], [big.copy()])
    assert not fused_step(O.Adam(), [np.asfortranarray(big)], [big.copy()])          # layout
    assert not fused_step(O.Adam(), [big.astype(np.float16)], [big.astype(np.float16)])
    assert not fused_step(O.Adam(), [big.copy(), np.zeros(10)], [big.copy(), np.zeros(10)])
    read_only = big.copy()
    read_only.flags.writeable = False
    assert not fused_step(O.Adam(), [read_only], [big.copy()])
    assert fused_step(O.Adam(), [big.copy()], [read_only])             # the gradient is only read


def test_once_compiled_a_kernel_also_updates_small_models(monkeypatch):
    monkeypatch.setattr(fused, "_compiled", set())             # as in a fresh process
    small = [np.zeros(10, np.float32), np.zeros((3, 4), np.float32)]
    assert not fused_step(O.Adam(), small, small)               # not compiled: NumPy
    big = np.zeros((256, 160), np.float32)
    O.Adam().apply_gradients([big], [big])                      # compiles Adam for float32
    assert ("adam", "f") in fused._compiled
    assert fused_step(O.Adam(), small, small)                    # now the kernel, any size
    assert not fused_step(O.Adam(), [a.astype(np.float64) for a in small], small)  # other dtype
    assert not fused_step(O.Adamax(), small, small)              # other kernel


def test_the_plan_is_kept_between_steps_and_remade_for_new_arrays():
    rng = np.random.default_rng(3)
    w = rng.standard_normal((256, 160)).astype(np.float32)
    g = rng.standard_normal((256, 160)).astype(np.float32)
    optimizer = O.Adam()
    optimizer.apply_gradients([w], [g])
    plan = optimizer._fused_plan
    assert plan is not None
    optimizer.apply_gradients([w], [g])
    assert optimizer._fused_plan is plan                           # same arrays: same plan
    other = w.copy()
    optimizer.apply_gradients([other], [g])
    assert optimizer._fused_plan is not plan and optimizer._fused_plan.params[0] is other
    optimizer.build([w])                                           # fresh state, fresh plan
    assert optimizer._fused_plan is None


def test_a_replaced_state_array_is_the_one_updated(monkeypatch):
    rng = np.random.default_rng(4)
    w = rng.standard_normal((256, 160)).astype(np.float32)
    grads = [rng.standard_normal((256, 160)).astype(np.float32) for _ in range(3)]

    def run():
        params = [w.copy()]
        optimizer = O.Adam()
        optimizer.apply_gradients(params, [grads[0]])
        optimizer.m[0] = np.full_like(w, 0.5)          # someone sets the state by hand
        optimizer.apply_gradients(params, [grads[1]])
        optimizer.apply_gradients(params, [grads[2]])
        return params[0], optimizer.m[0]

    fused_w, fused_m = run()
    monkeypatch.setattr(fused, "_kernels", False)
    numpy_w, numpy_m = run()
    np.testing.assert_array_equal(fused_w, numpy_w)
    np.testing.assert_array_equal(fused_m, numpy_m)


def test_a_non_contiguous_gradient_gives_the_numpy_result(monkeypatch):
    rng = np.random.default_rng(5)
    w = rng.standard_normal((256, 160)).astype(np.float32)
    g = np.asfortranarray(rng.standard_normal((256, 160)).astype(np.float32))
    a, b = w.copy(), w.copy()
    O.RMSprop().apply_gradients([a], [g])
    monkeypatch.setattr(fused, "_kernels", False)
    O.RMSprop().apply_gradients([b], [g])
    np.testing.assert_array_equal(a, b)


def test_a_subclass_with_its_own_rule_runs_its_rule():
    calls = []

    class Clipped(O.SGD):
        def _apply(self, params, grads, lr, t):
            calls.append(t)
            super()._apply(params, [np.clip(g, -1.0, 1.0) for g in grads], lr, t)

    w = np.zeros((256, 160), np.float32)
    Clipped(lr=0.1).apply_gradients([w], [np.full_like(w, 5.0)])
    assert calls == [1]
    np.testing.assert_allclose(w, -0.1)


def test_a_small_network_never_imports_numba():
    code = ("import sys, numpy as np; from course import Dense, Sequential; "
            "m = Sequential([Dense(8, activation='relu', input_shape=(4,)), Dense(3, activation='softmax')]); "
            "m.compile(loss='categorical_crossentropy', optimizer='adam'); "
            "x = np.random.default_rng(0).standard_normal((64, 4)).astype('float32'); "
            "y = np.eye(3, dtype='float32')[np.arange(64) % 3]; "
            "m.fit(x, y, epochs=2, batch_size=16, verbose=0, seed=0); "
            "sys.exit(1 if 'numba' in sys.modules else 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=str(__import__("pathlib").Path(__file__).parents[1]))
    assert done.returncode == 0, done.stderr[-2000:]


def test_a_fortran_ordered_weight_is_updated_by_numpy_with_the_same_result():
    rng = np.random.default_rng(1)
    w = rng.standard_normal((256, 160)).astype(np.float32)
    g = rng.standard_normal((256, 160)).astype(np.float32)
    a, b = w.copy(), np.asfortranarray(w)
    O.Adam().apply_gradients([a], [g])
    O.Adam().apply_gradients([b], [np.asfortranarray(g)])
    np.testing.assert_array_equal(a, b)


def test_course_fused_0_turns_the_kernels_off():
    code = ("from course.optimizers import fused; import sys; "
            "sys.exit(0 if not fused.available() else 1)")
    done = subprocess.run([sys.executable, "-c", code], env={"COURSE_FUSED": "0",
                          "PATH": "/usr/bin:/bin"}, cwd=str(__import__("pathlib").Path(__file__).parents[1]))
    assert done.returncode == 0


def test_a_kernel_that_cannot_compile_falls_back_to_numpy_with_one_warning(monkeypatch):
    class Broken:
        def __getattr__(self, name):
            def kernel(*args):
                raise RuntimeError("no LLVM target for this machine")
            return kernel

    rng = np.random.default_rng(2)
    w = rng.standard_normal((256, 160)).astype(np.float32)
    g = rng.standard_normal((256, 160)).astype(np.float32)
    expected = w.copy()
    monkeypatch.setattr(fused, "_kernels", False)
    O.Adam().apply_gradients([expected], [g])
    monkeypatch.setattr(fused, "_kernels", Broken())
    with pytest.warns(RuntimeWarning, match="NumPy update is used instead"):
        O.Adam().apply_gradients([w], [g])
    np.testing.assert_array_equal(w, expected)
    assert fused._kernels is False
