"""Shared memory for CPU tensors: ``Tensor.share_memory_()`` and ``Tensor.is_shared()``.

``share_memory_()`` moves a CPU tensor's values into a shared memory segment (a Linux
``memfd`` where available, else an anonymous shared mapping), so that processes started
afterwards with the ``fork`` method see each other's in-place updates (the Hogwild pattern:
``model.share_memory()`` then ``multiprocessing.Process(target=train, args=(model,))``).

A shared tensor sent to another process by ``multiprocessing`` (a ``spawn`` start method's
arguments, a ``Queue``) travels as the segment's file descriptor, as with PyTorch's
``file_descriptor`` sharing strategy, so the receiver maps the same memory. Plain ``pickle``
(``ember.save``) still copies the values.

Departure from PyTorch: the tensor gets a new array, so views taken *before* the call keep
the old memory (PyTorch moves the whole storage, views included). Parameters and buffers,
the usual targets, are not views.
"""

from __future__ import annotations

import mmap
import os
import weakref

import numpy as np

__all__ = ["share_memory_", "is_shared", "register_reducers"]


class _Segment(mmap.mmap):
    """A shared mapping that remembers the descriptor of its memfd (or -1)."""

    fd = -1


def _new_segment(nbytes: int) -> _Segment:
    size = max(int(nbytes), 1)
    fd = -1
    if hasattr(os, "memfd_create"):
        try:
            fd = os.memfd_create("ember-shm", os.MFD_CLOEXEC)
        except OSError:
            fd = -1
    if fd < 0:
        return _Segment(-1, size)  # MAP_SHARED | MAP_ANONYMOUS: shared with forked children
    os.ftruncate(fd, size)
    seg = _Segment(fd, size)
    seg.fd = fd
    weakref.finalize(seg, os.close, fd)
    return seg


def _segment_of(arr) -> _Segment | None:
    base = arr
    while isinstance(base, np.ndarray):
        base = base.base
    return base if isinstance(base, _Segment) else None


def is_shared(t) -> bool:
    """True if ``t``'s values live in shared memory (always true for CUDA tensors, which
    PyTorch shares through CUDA IPC)."""
    arr = t._data
    if not isinstance(arr, np.ndarray):
        return True
    return _segment_of(arr) is not None


def share_memory_(t):
    """Moves ``t``'s values into shared memory (no-op if already shared or on CUDA); returns
    ``t``."""
    arr = t._data
    if not isinstance(arr, np.ndarray) or _segment_of(arr) is not None:
        return t
    register_reducers()
    seg = _new_segment(arr.nbytes)
    new = np.ndarray(arr.shape, dtype=arr.dtype, buffer=seg)
    new[...] = arr
    t._data = new
    return t


# -- passing shared tensors between processes --------------------------------------------
def _rebuild_shared(cls, dup, nbytes, dtype, shape, strides, offset, requires_grad, state):
    from ._tensor import Tensor

    fd = dup.detach()
    seg = _Segment(fd, max(nbytes, 1))
    seg.fd = fd
    weakref.finalize(seg, os.close, fd)
    arr = np.ndarray(shape, dtype=dtype, buffer=seg, offset=offset, strides=strides)
    from .nn.parameter import Parameter

    if issubclass(cls, Parameter):
        t = cls(Tensor._make(arr), requires_grad)
    else:
        t = cls.__new__(cls)
        Tensor._init(t, arr, requires_grad)
    if state:
        t.__dict__.update(state)
    return t


def _reduce_tensor(t):
    arr = t._data
    seg = _segment_of(arr) if isinstance(arr, np.ndarray) else None
    if seg is None or seg.fd < 0:
        return t.__reduce_ex__(4)  # an ordinary copy
    from multiprocessing import reduction

    start = np.ndarray((0,), np.uint8, buffer=seg).__array_interface__["data"][0]
    offset = arr.__array_interface__["data"][0] - start
    return (_rebuild_shared, (type(t), reduction.DupFd(seg.fd), len(seg), arr.dtype,
                              arr.shape, arr.strides, offset, t.requires_grad,
                              t.__dict__ or None))


_registered = False


def register_reducers() -> None:
    """Teaches ``multiprocessing``'s pickler to send shared tensors as file descriptors."""
    global _registered
    if _registered:
        return
    from multiprocessing.reduction import ForkingPickler

    from ._tensor import Tensor
    from .nn.parameter import Parameter

    ForkingPickler.register(Tensor, _reduce_tensor)
    ForkingPickler.register(Parameter, _reduce_tensor)
    _registered = True
