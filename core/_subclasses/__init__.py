"""``ember._subclasses``: the tensor subclasses of PyTorch's tracing machinery, declared so
that ``isinstance(x, torch._subclasses.FakeTensor)`` checks run (always False: ember has no
fake tensors; it runs real kernels everywhere)."""

from .fake_tensor import FakeTensor, FakeTensorMode

__all__ = ["FakeTensor", "FakeTensorMode"]
