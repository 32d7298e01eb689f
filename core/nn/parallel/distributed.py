"""``DistributedDataParallel``: data parallelism across processes, as
``torch.nn.parallel.DistributedDataParallel``.

Each process (rank) holds a replica of the module and runs it on its own share of the data.
At construction the parameters and buffers of rank 0 are copied to every rank; during
``backward()`` the gradients are summed across ranks and divided by the world size, so every
rank's optimizer takes the same step. With ``broadcast_buffers`` (default) rank 0's buffers
(BatchNorm statistics) are copied to every rank before each forward.

How gradients are synchronised: the first gradient to reach any parameter during a backward
pass queues a callback for the end of that pass (``autograd.engine.queue_callback``); the
callback packs the gradients into flat buckets of at most ``bucket_cap_mb`` MiB per dtype
and all-reduces them, so all gradients are averaged before ``backward()`` returns. Each
bucket carries one "used" flag per parameter: a parameter that got no gradient on some
ranks contributes zeros there, and one that got no gradient on any rank keeps
``grad = None`` (so ``find_unused_parameters`` needs no graph traversal; it is accepted for
compatibility). Communication does not overlap the backward computation, unlike PyTorch's
bucketed hooks.
"""

from __future__ import annotations

import weakref
from contextlib import contextmanager

import numpy as np

from ..._array_flags import writeable
from ..._tensor import Tensor
from ...autograd.engine import queue_callback
from ...autograd.grad_mode import is_grad_enabled, no_grad
from ..modules.module import Module
from .data_parallel import _to

__all__ = ["DistributedDataParallel"]


def _xp(arr):
    if isinstance(arr, np.ndarray):
        return np
    import cupy

    return cupy


def _groups(tensors, cap_bytes: float | None):
    """``tensors`` split into buckets of one dtype and device, in order, each at most
    ``cap_bytes`` (a tensor larger than the cap gets a bucket of its own)."""
    buckets: list = []
    open_: dict = {}
    for t in tensors:
        key = (t._data.dtype, t.device)
        b = open_.get(key)
        if b is None or (cap_bytes is not None and b[1] + t._data.nbytes > cap_bytes and b[0]):
            b = [[], 0]
            open_[key] = b
            buckets.append(b)
        b[0].append(t)
        b[1] += t._data.nbytes
    return [b[0] for b in buckets]


class DistributedDataParallel(Module):
    """Wraps ``module`` for data-parallel training across the processes of a process group.

    Args:
        module: the module to replicate (the same architecture on every rank).
        device_ids: for a module on one CUDA device, ``[that device]``; inputs are moved
            there. Must be None for CPU modules (as in PyTorch).
        output_device: accepted (outputs stay where the module puts them).
        dim: accepted for compatibility (batch dimension).
        broadcast_buffers: copy rank 0's buffers to all ranks before each forward.
        init_sync: copy rank 0's parameters and buffers to all ranks at construction.
        process_group: the group to average over (default: the world).
        bucket_cap_mb: the size of the gradient buckets (default 25 MiB).
        find_unused_parameters: accepted; parameters without gradients are always handled.
        check_reduction, gradient_as_bucket_view, static_graph and the remaining arguments:
            accepted for compatibility.

    ``.module`` is the wrapped module; ``state_dict()`` keys carry PyTorch's ``module.``
    prefix. ``no_sync()`` skips gradient averaging for backward passes of forwards run
    inside it (gradient accumulation).
    """

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0,
                 broadcast_buffers: bool = True, init_sync: bool = True, process_group=None,
                 bucket_cap_mb: float | None = None, find_unused_parameters: bool = False,
                 check_reduction: bool = False, gradient_as_bucket_view: bool = False,
                 static_graph: bool = False, delay_all_reduce_named_params=None,
                 param_to_hook_all_reduce=None, mixed_precision=None, device_mesh=None,
                 skip_all_reduce_unused_params: bool = False):
        super().__init__()
        from ... import distributed as dist

        params = [p for p in module.parameters() if p.requires_grad]
        if not params:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't "
                               "have any parameter that requires a gradient.")
        devices = {p.device for p in module.parameters()}
        if device_ids is not None and all(d.type == "cpu" for d in devices):
            raise ValueError(
                "DistributedDataParallel device_ids and output_device arguments only work with "
                "single-device/multiple-device GPU modules or CPU modules, but got device_ids "
                f"{device_ids}, output_device {output_device}, and module parameters "
                f"{devices}.")
        self.module = module
        self.process_group = dist.group.WORLD if process_group is None else process_group
        if self.process_group is None:
            dist.get_world_size()  # raises: not initialised
        self.device_ids = list(device_ids) if device_ids is not None else None
        self.output_device = output_device
        self.dim = dim
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        self.bucket_bytes_cap = (25 if bucket_cap_mb is None else bucket_cap_mb) * 1024 * 1024
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self._ddp_params = params
        self._grad_sync_armed = False
        self._sync_pending = False
        self._world_size = dist.get_world_size(self.process_group)
        self._src = dist.get_global_rank(self.process_group, 0)
        self._check_same_model()
        if init_sync:
            self._sync_module_states()
        ref = weakref.ref(self)
        for p in params:
            p.register_hook(_make_hook(ref))

    # -- replicas ----------------------------------------------------------------------
    def _check_same_model(self) -> None:
        from ... import distributed as dist

        if self._world_size == 1:
            return
        mine = [(tuple(p.shape), str(p.dtype)) for p in self._ddp_params]
        everyone = [None] * self._world_size
        dist.all_gather_object(everyone, mine, group=self.process_group)
        for r, theirs in enumerate(everyone):
            if theirs != everyone[0]:
                raise RuntimeError(
                    f"DDP expects same model across all ranks, but rank {r} has "
                    f"{len(theirs)} parameters {theirs} while rank 0 has {len(everyone[0])} "
                    f"{everyone[0]}")

    def _broadcast_coalesced(self, tensors) -> None:
        """Copies rank 0's values of ``tensors`` into this rank's, a bucket at a time."""
        from ... import distributed as dist

        for bucket in _groups(tensors, self.bucket_bytes_cap):
            xp = _xp(bucket[0]._data)
            flat = Tensor._make(xp.concatenate([t._data.reshape(-1) for t in bucket]))
            dist.broadcast(flat, src=self._src, group=self.process_group)
            off = 0
            for t in bucket:
                n = t._data.size
                t._data[...] = flat._data[off:off + n].reshape(t._data.shape)
                off += n

    def _sync_module_states(self) -> None:
        if self._world_size == 1:
            return
        with no_grad():
            self._broadcast_coalesced(list(self.module.parameters()) +
                                      list(self.module.buffers()))

    def _sync_buffers(self) -> None:
        with no_grad():
            self._broadcast_coalesced(list(self.module.buffers()))

    def will_sync_module_buffers(self) -> bool:
        """True if the next forward copies rank 0's buffers to this rank."""
        return (self.require_forward_param_sync and self.broadcast_buffers and
                self._world_size > 1 and any(True for _ in self.module.buffers()))

    # -- forward -----------------------------------------------------------------------
    def forward(self, *inputs, **kwargs):
        """Runs the module (after syncing buffers from rank 0, see ``broadcast_buffers``);
        the backward pass of its output averages the gradients across ranks."""
        if self.will_sync_module_buffers():
            self._sync_buffers()
        if self.device_ids:
            target = next(self.module.parameters()).device
            inputs = tuple(_to(x, target) for x in inputs)
            kwargs = {k: _to(v, target) for k, v in kwargs.items()}
        out = self.module(*inputs, **kwargs)
        sync = is_grad_enabled() and self.require_backward_grad_sync
        self._grad_sync_armed = sync
        self.require_forward_param_sync = sync
        return out

    @contextmanager
    def no_sync(self):
        """Within this context, backward passes (of forwards run inside it) accumulate
        gradients locally without averaging them across ranks."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    def _set_static_graph(self) -> None:
        self.static_graph = True

    def join(self, divide_by_initial_world_size: bool = True, enable: bool = True,
             throw_on_early_termination: bool = False):
        """Uneven inputs across ranks are not supported: a no-op context when ``enable`` is
        false or the world has one rank, else NotImplementedError (give every rank the same
        number of batches, e.g. ``DistributedSampler(drop_last=True)``)."""
        if not enable or self._world_size == 1:
            from contextlib import nullcontext

            return nullcontext()
        raise NotImplementedError("DistributedDataParallel.join() (uneven inputs) is not "
                                  "implemented in ember: give every rank the same number of "
                                  "batches")

    def register_comm_hook(self, state, hook) -> None:
        """Communication hooks are not supported (NotImplementedError)."""
        raise NotImplementedError("DistributedDataParallel.register_comm_hook is not "
                                  "implemented in ember; gradients are averaged by all_reduce")

    # -- backward ----------------------------------------------------------------------
    def _average_gradients(self) -> None:
        """Sums the gradients across ranks and divides by the world size (end of backward)."""
        from ... import distributed as dist

        self._sync_pending = False
        n = self._world_size
        if n == 1:
            return
        params = [p for p in self._ddp_params if p.requires_grad]
        for bucket in _groups(list(reversed(params)), self.bucket_bytes_cap):
            xp = _xp(bucket[0]._data)
            dtype = bucket[0]._data.dtype
            parts = [p.grad._data.reshape(-1) if p.grad is not None
                     else xp.zeros(p._data.size, dtype) for p in bucket]
            parts.append(xp.asarray([p.grad is not None for p in bucket], dtype=dtype))
            flat = Tensor._make(xp.concatenate(parts))
            dist.all_reduce(flat, group=self.process_group)
            total = flat._data
            used = total[-len(bucket):]
            used = used if isinstance(used, np.ndarray) else used.get()
            off = 0
            for i, p in enumerate(bucket):
                k = p._data.size
                seg = total[off:off + k].reshape(p._data.shape)
                off += k
                if p.grad is None:
                    if float(used[i]) != 0:
                        p.grad = Tensor._make(seg / n)
                    continue
                g = p.grad
                if writeable(g._data) and g._data.dtype == seg.dtype:
                    g._data[...] = seg
                    g._data /= n
                    g._bump()
                else:
                    p.grad = Tensor._make(seg / n)


def _make_hook(ref):
    """A gradient hook that queues the averaging once per backward pass."""

    def hook(grad):
        ddp = ref()
        if ddp is not None and ddp._grad_sync_armed and not ddp._sync_pending:
            ddp._sync_pending = True
            queue_callback(ddp._average_gradients)
        return None

    return hook
