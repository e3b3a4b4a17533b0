"""The PyTorch parity suite: every NumPy kernel against its torch equivalent, on every device.

Tests that take the ``device`` fixture run on 'cpu' and, marked ``gpu``, on 'cuda' (skipped
where there is no CUDA GPU). ``pytest tests/torch -m gpu`` runs the cuda half only. At the end
of the run a table prints the largest relative error found per kernel, device and dtype.

This folder has no __init__.py on purpose: as a package it would be imported under the name
``torch`` and hide PyTorch.
"""
import platform

import numpy as np
import pytest

torch = pytest.importorskip("torch")

CUDA = torch.cuda.is_available()
NO_CUDA_REASON = (f"no CUDA GPU here (torch {torch.__version__}, "
                  f"CUDA {torch.version.cuda or 'none: CPU-only build'})")

#: Largest relative error allowed, by dtype.
TOLERANCE = {np.dtype(np.float64): 1e-10, np.dtype(np.float32): 1e-5}

# (kernel, device, dtype) -> largest relative error seen
_RESULTS: dict[tuple[str, str, str], float] = {}


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=[
    pytest.mark.gpu, pytest.mark.skipif(not CUDA, reason=NO_CUDA_REASON)])])
def device(request):
    """'cpu', and 'cuda' where a GPU is present."""
    return request.param


@pytest.fixture(params=[np.float64, np.float32], ids=["float64", "float32"])
def dtype(request):
    return np.dtype(request.param)


@pytest.fixture(autouse=True, scope="module")
def _one_cpu_thread():
    """Small tensors gain nothing from threads, and on a busy machine they lose a lot."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def relative_error(actual: np.ndarray, expected: np.ndarray) -> float:
    """max |actual - expected| / max |expected| (the largest difference, relative to the scale)."""
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    diff = float(np.max(np.abs(actual - expected))) if expected.size else 0.0
    if diff == 0.0:
        return 0.0
    return diff / max(scale, np.finfo(np.float64).tiny)


def _as_array(value):
    if torch.is_tensor(value):
        return value.detach().cpu().numpy(), str(value.device.type)
    return np.asarray(value), None


@pytest.fixture
def assert_close(request):
    """assert_close(actual, expected, dtype, name): shapes equal, then relative error in tolerance.

    actual: a torch tensor (or array); expected: the NumPy kernel's result. The shapes must be
    identical, (64,) and (1, 64) included; a tensor must have the dtype under test. The error is
    recorded under ``name`` for the summary table (unless record=False).
    """
    def check(actual, expected, dtype, name: str, record: bool = True) -> float:
        dtype = np.dtype(dtype)
        actual_array, actual_device = _as_array(actual)
        expected = np.asarray(expected)
        assert actual_array.shape == expected.shape, (
            f"{name}: shape {actual_array.shape} from torch, {expected.shape} from NumPy")
        if torch.is_tensor(actual) and actual.is_floating_point():
            assert actual_array.dtype == dtype, f"{name}: torch gave {actual_array.dtype}, expected {dtype}"
        error = relative_error(actual_array.astype(np.float64), expected.astype(np.float64))
        device = actual_device
        if device is None:
            device = getattr(getattr(request.node, "callspec", None), "params", {}).get("device", "cpu")
        if record:
            key = (name, device, dtype.name)
            _RESULTS[key] = max(_RESULTS.get(key, 0.0), error)
        assert error <= TOLERANCE[dtype], (
            f"{name} on {device} in {dtype}: relative error {error:.3e} > {TOLERANCE[dtype]:g}\n"
            f"torch: {actual_array.ravel()[:6]}\nNumPy: {expected.ravel()[:6]}")
        return error

    return check


def pytest_terminal_summary(terminalreporter):
    tr = terminalreporter
    cuda = torch.cuda.get_device_name(0) if CUDA else NO_CUDA_REASON
    tr.write_sep("=", "PyTorch parity")
    tr.write_line(f"torch {torch.__version__}, CUDA {torch.version.cuda or 'none'}; "
                  f"cpu: {platform.machine()} {platform.processor() or ''}".rstrip())
    tr.write_line(f"cuda: {cuda}")
    if not _RESULTS:
        tr.write_line("no comparison ran: every parity test was skipped or deselected.")
        return
    width = max(len(name) for name, _, _ in _RESULTS)
    tr.write_line(f"{'kernel':<{width}}  device  dtype    largest rel. error  tolerance")
    for (name, device, dtype), error in sorted(_RESULTS.items()):
        tr.write_line(f"{name:<{width}}  {device:<6}  {dtype:<7}  {error:18.2e}  "
                      f"{TOLERANCE[np.dtype(dtype)]:g}")
