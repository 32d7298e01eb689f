"""Memory formats: ``channels_last`` (NHWC order in memory for an NCHW tensor) and
``channels_last_3d`` (NDHWC), as PyTorch lays them out.

An ember tensor's data is a numpy/CuPy array, which takes any strides, so a channels-last
tensor is simply an (N, C, H, W) view of a contiguous (N, H, W, C) buffer: ``stride()``,
``is_contiguous(memory_format=...)`` and elementwise results (numpy keeps its operands'
layout) then read as in PyTorch. ``to``/``contiguous``/``clone`` convert, ``*_like``
factories and ``clone`` keep the format (``preserve_format``), ``Module.to(memory_format=)``
converts 4-D/5-D parameters, and convolutions, batch norm and max pooling return
channels-last results for channels-last inputs, as PyTorch's CPU kernels do.
"""

from __future__ import annotations

__all__ = ["contiguous_format", "channels_last", "channels_last_3d", "preserve_format",
           "is_contiguous_as", "suggests_channels_last", "suggested", "as_format",
           "keep_format"]

contiguous_format = "torch.contiguous_format"
channels_last = "torch.channels_last"
channels_last_3d = "torch.channels_last_3d"
preserve_format = "torch.preserve_format"

_ORDER = {4: (1, 3, 2, 0), 5: (1, 4, 3, 2, 0)}  # dims from the fastest-moving one
_FORMAT_RANK = {channels_last: 4, channels_last_3d: 5}


def _dense_in_order(arr, order) -> bool:
    """Whether ``arr`` is dense with its dims laid out in ``order`` (fastest first); dims of
    size 1 may have any stride, as in PyTorch."""
    expected = 1
    for d in order:
        size = arr.shape[d]
        if size == 1:
            continue
        if arr.strides[d] != expected * arr.itemsize:
            return False
        expected *= size
    return True


def is_contiguous_as(arr, memory_format) -> bool:
    """``Tensor.is_contiguous(memory_format=...)`` of array ``arr``."""
    if memory_format is None or memory_format == contiguous_format:
        return bool(arr.flags.c_contiguous)
    rank = _FORMAT_RANK.get(memory_format)
    if rank is None:
        raise RuntimeError("is_contiguous: unsupported memory format "
                           f"{memory_format}; supports only ChannelsLast, ChannelsLast3d "
                           "and Contiguous")
    return arr.ndim == rank and _dense_in_order(arr, _ORDER[rank])


def suggests_channels_last(arr) -> bool:
    """Whether ``arr`` is laid out channels-last (2-D or 3-D) and not also contiguous:
    the format PyTorch's ``suggest_memory_format`` gives it."""
    n = getattr(arr, "ndim", 0)
    return n in _ORDER and not arr.flags.c_contiguous and _dense_in_order(arr, _ORDER[n])


def _check_rank(arr, memory_format) -> None:
    rank = _FORMAT_RANK[memory_format]
    if arr.ndim != rank:
        raise RuntimeError(f"required rank {rank} tensor to use "
                           f"{'channels_last' if rank == 4 else 'channels_last_3d'} format")


def as_format(xp, arr, memory_format, copy: bool = False):
    """``arr`` laid out in ``memory_format``: contiguous, channels_last or
    channels_last_3d; the array itself when it already is and ``copy`` is false, else a
    new one with the format's own strides (also for dims of size 1, as PyTorch's).
    Raises for a tensor of the wrong rank."""
    if memory_format is None or memory_format in (contiguous_format, preserve_format):
        return arr.copy() if copy else xp.ascontiguousarray(arr)
    if memory_format not in _FORMAT_RANK:
        raise RuntimeError(f"unsupported memory format {memory_format}")
    _check_rank(arr, memory_format)
    if not copy and is_contiguous_as(arr, memory_format):
        return arr
    last = (0,) + tuple(range(2, arr.ndim)) + (1,)  # (N, *spatial, C)
    back = (0, arr.ndim - 1) + tuple(range(1, arr.ndim - 1))
    out = xp.empty(tuple(arr.shape[d] for d in last), dtype=arr.dtype)
    out[...] = arr.transpose(last)
    return out.transpose(back)


def suggested(arr):
    """PyTorch's ``suggest_memory_format``: channels_last(_3d) or contiguous_format."""
    if suggests_channels_last(arr):
        return channels_last if arr.ndim == 4 else channels_last_3d
    return contiguous_format


def keep_format(xp, out, *inputs):
    """``out`` in channels-last layout when any of ``inputs`` suggests it (the output
    format of PyTorch's CPU convolution, batch norm and pooling), else ``out`` itself."""
    if getattr(out, "ndim", 0) in _ORDER and not suggests_channels_last(out) and \
            any(suggests_channels_last(a) for a in inputs if a is not None):
        return as_format(xp, out, channels_last if out.ndim == 4 else channels_last_3d)
    return out
