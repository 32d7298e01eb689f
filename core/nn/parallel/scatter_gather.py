"""``scatter``, ``scatter_kwargs`` and ``gather``, as ``torch.nn.parallel.scatter_gather``:
split (nested) inputs into per-device chunks along a dimension, and join per-device outputs
back on one device. Both go through differentiable ops (``chunk``, ``to``, ``cat``), so
gradients flow back as in PyTorch."""

from __future__ import annotations

from ... import _device
from ..._tensor import Tensor

__all__ = ["scatter", "scatter_kwargs", "gather"]


def _gpu(d) -> _device.device:
    if isinstance(d, _device.device):
        return d
    if isinstance(d, str):
        return _device.device(d)
    return _device.device("cuda", int(d))


def _is_namedtuple(obj) -> bool:
    return isinstance(obj, tuple) and hasattr(obj, "_fields")


def scatter(inputs, target_gpus, dim: int = 0):
    """One entry per device of ``target_gpus`` (fewer when a tensor has fewer slices than
    devices): tensors are chunked along ``dim`` and moved to their device; tuples, lists,
    named tuples and dicts are scattered element by element; other objects are repeated."""
    devices = [_gpu(d) for d in target_gpus]

    def split(obj):
        if isinstance(obj, Tensor):
            return [chunk.to(dev) for chunk, dev in zip(obj.chunk(len(devices), dim), devices)]
        if _is_namedtuple(obj):
            return [type(obj)(*parts) for parts in zip(*(split(v) for v in obj))]
        if isinstance(obj, tuple) and obj:
            return list(zip(*(split(v) for v in obj)))
        if isinstance(obj, list) and obj:
            return [list(parts) for parts in zip(*(split(v) for v in obj))]
        if isinstance(obj, dict) and obj:
            keys = list(obj)
            return [type(obj)(zip(keys, parts)) for parts in zip(*(split(obj[k]) for k in keys))]
        return [obj for _ in devices]

    return split(inputs)


def scatter_kwargs(inputs, kwargs, target_gpus, dim: int = 0):
    """``scatter`` of positional ``inputs`` and of ``kwargs``, padded with empty tuples /
    dicts to the same number of devices: ``(tuple of input tuples, tuple of kwargs)``."""
    scattered_inputs = scatter(inputs, target_gpus, dim) if inputs else []
    scattered_kwargs = scatter(kwargs, target_gpus, dim) if kwargs else []
    n = max(len(scattered_inputs), len(scattered_kwargs))
    scattered_inputs = list(scattered_inputs) + [() for _ in range(n - len(scattered_inputs))]
    scattered_kwargs = list(scattered_kwargs) + [{} for _ in range(n - len(scattered_kwargs))]
    return tuple(scattered_inputs), tuple(scattered_kwargs)


def gather(outputs, target_device, dim: int = 0):
    """Joins the per-device ``outputs`` (matching structures) on ``target_device`` (``-1``
    or ``"cpu"`` for the CPU): tensors concatenated along ``dim``, containers element by
    element; ``None`` stays ``None``."""
    if target_device == -1:
        target = _device.device("cpu")
    else:
        target = _gpu(target_device)

    def join(outs):
        first = outs[0]
        if isinstance(first, Tensor):
            from ... import cat

            if first.dim() == 0:  # scalars are stacked into a vector, as PyTorch does
                outs = [o.reshape(1) for o in outs]
            return cat([o.to(target) for o in outs], dim=dim)
        if first is None:
            return None
        if isinstance(first, dict):
            if not all(len(o) == len(first) for o in outs):
                raise ValueError("All dicts must have the same number of keys")
            return type(first)((k, join([o[k] for o in outs])) for k in first)
        if _is_namedtuple(first):
            return type(first)(*map(join, zip(*outs)))
        return type(first)(map(join, zip(*outs)))

    return join(list(outputs))
