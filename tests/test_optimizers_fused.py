"""The fused kernels (course/optimizers/fused.py) give the in-place NumPy update's results to
the last bit, for every optimizer and option, in float32 and float64; and the NumPy update runs
whenever a fused kernel cannot (small arrays before their kernel is compiled, non-contiguous
arrays, COURSE_FUSED=0, no numba)."""
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


def test_the_fused_path_is_taken_for_large_contiguous_arrays_only(monkeypatch):
    monkeypatch.setattr(fused, "_compiled", set())             # as in a fresh process
    big = np.zeros((256, 160), np.float32)
    assert fused._flat("adam", big, big.copy(), big.copy()) is not None
    assert fused._flat("adam", np.zeros(100, np.float32), np.zeros(100, np.float32)) is None
    assert fused._flat("adam", np.asfortranarray(big), big.copy()) is None          # layout
    assert fused._flat("adam", big, big.astype(np.float64)) is None                  # dtypes
    assert fused._flat("adam", big.astype(np.float16), big.astype(np.float16)) is None
    read_only = big.copy()
    read_only.flags.writeable = False
    assert fused._flat("adam", read_only, big.copy()) is None
    assert fused._flat("adam", big, read_only) is not None       # the gradient is only read


def test_once_compiled_a_kernel_also_updates_the_small_arrays(monkeypatch):
    monkeypatch.setattr(fused, "_compiled", set())
    small = [np.zeros(10, np.float32) for _ in range(4)]
    assert fused._flat("adam", *small) is None                    # not compiled: NumPy
    big = [np.zeros((256, 160), np.float32) for _ in range(4)]
    O.Adam().apply_gradients([big[0]], [big[1]])                  # compiles Adam for float32
    assert ("adam", "f") in fused._compiled
    assert fused._flat("adam", *small) is not None               # now the kernel, any size
    assert fused._flat("adam", *[a.astype(np.float64) for a in small]) is None   # other dtype
    assert fused._flat("adamax", *small) is None                  # other kernel


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
