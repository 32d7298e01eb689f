"""``DataParallel``: single-process data parallelism, as ``torch.nn.DataParallel``.

On one device (or on a machine without a GPU, where PyTorch gives it no device ids) the
wrapper runs the module as it is; its ``state_dict`` keys carry PyTorch's ``module.``
prefix, so checkpoints of wrapped models load both ways. Splitting a batch over several
GPUs (scatter, replicate, gather) is not implemented: it raises rather than silently running
on one device.
"""

from __future__ import annotations

from ... import _device, cuda
from ..modules.module import Module


def _device_index(d) -> int:
    if isinstance(d, int):
        return d
    return _device.device(d).index or 0


class DataParallel(Module):
    """Wraps ``module`` to run data-parallel over ``device_ids`` (as torch.nn.DataParallel).

    Args:
        module: the module to run.
        device_ids: CUDA devices to use (default: all visible; none without CUDA).
        output_device: the device of the output (default ``device_ids[0]``).
        dim: the batch dimension that a multi-GPU run would split.
    """

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0):
        super().__init__()
        self.module = module
        self.dim = dim
        if not cuda.is_available():
            self.device_ids = []
            self.output_device = None
            return
        if device_ids is None:
            device_ids = list(range(cuda.device_count()))
        self.device_ids = [_device_index(d) for d in device_ids]
        if output_device is None:
            output_device = self.device_ids[0]
        self.output_device = _device_index(output_device)
        if len(self.device_ids) > 1:
            raise NotImplementedError(
                f"DataParallel over several GPUs {self.device_ids} is not implemented in ember; "
                f"pass one device id (device_ids=[{self.device_ids[0]}])")

    def forward(self, *inputs, **kwargs):
        if not self.device_ids:
            return self.module(*inputs, **kwargs)
        target = _device.device("cuda", self.device_ids[0])
        for t in self.module.parameters():
            if t.device != target:
                raise RuntimeError(
                    f"DataParallel: module must have its parameters and buffers on device "
                    f"{target} (device_ids[0]) but found one of them on device: {t.device}")
        inputs = tuple(_to(x, target) for x in inputs)
        kwargs = {k: _to(v, target) for k, v in kwargs.items()}
        return self.module(*inputs, **kwargs)


def _to(value, target):
    """Moves the tensors found in (nested) tuples, lists and dicts to ``target``."""
    from ..._tensor import Tensor

    if isinstance(value, Tensor):
        return value.to(target)
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*(_to(v, target) for v in value))
    if isinstance(value, (list, tuple)):
        return type(value)(_to(v, target) for v in value)
    if isinstance(value, dict):
        return {k: _to(v, target) for k, v in value.items()}
    return value


def data_parallel(module, inputs, device_ids=None, output_device=None, dim=0,
                  module_kwargs=None):
    """Runs ``module(*inputs)`` data-parallel over ``device_ids`` (functional DataParallel)."""
    if not isinstance(inputs, tuple):
        inputs = (inputs,) if inputs is not None else ()
    wrapper = DataParallel(module, device_ids=device_ids, output_device=output_device, dim=dim)
    return wrapper(*inputs, **(module_kwargs or {}))
