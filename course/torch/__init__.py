"""The course in PyTorch: the kernels again, a bridge between the two, and training on a GPU.

    from course.torch import kernels              # every NumPy kernel, built on torch
    from course.torch import to_torch, from_torch # a course model as torch.nn.Sequential and back
    from course.torch import TorchOptimizer       # torch.optim following a course optimizer
    model.fit(x, y, device='cuda')                # training with torch (course.torch.training.fit)

The tests compare each NumPy kernel with its torch equivalent, on the CPU and on a GPU when one
is present (``pytest tests/torch -m gpu``). This package needs PyTorch; the rest of the course
does not.
"""
import torch

if not hasattr(torch, "Tensor"):  # a folder named torch on sys.path, not PyTorch
    raise ImportError(f"course.torch needs PyTorch, but 'import torch' found {torch.__path__!r}. "
                      "Install PyTorch (pip install torch).")

from . import kernels  # noqa: E402
from .bridge import Step, from_torch, to_torch, torch_dtype  # noqa: E402
from .optimizers import TorchOptimizer  # noqa: E402
from .training import CudaGraphWarning, DeviceFallbackWarning, fit, resolve_device  # noqa: E402

__all__ = ["kernels", "to_torch", "from_torch", "Step", "torch_dtype", "TorchOptimizer", "fit",
           "resolve_device", "DeviceFallbackWarning", "CudaGraphWarning"]
