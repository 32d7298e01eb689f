"""The autocast state of the current thread and the casts that autocast-aware ops apply.

Ops in PyTorch's autocast lists call ``lower``/``fp32`` on their tensor arguments, guarded by
the cheap ``state.on`` test; outside an autocast region nothing else runs. The lists follow
PyTorch's (aten/src/ATen/autocast_mode.cpp) for the ops ember has; they differ by device
type, as PyTorch's do: on CPU softmax and layer_norm keep the lower precision, on CUDA they
run in float32.
"""

from __future__ import annotations

import functools
import threading
import weakref

from . import _dtype

__all__ = ["state", "lower", "fp32", "lower_op", "fp32_op", "autocast_excluded", "clear_cache"]

# ops that run in the autocast dtype (bfloat16/float16)
LOWER = {
    "cpu": frozenset({"conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                      "conv_transpose3d", "bmm", "mm", "baddbmm", "addmm", "addbmm", "linear",
                      "matmul", "prelu", "scaled_dot_product_attention", "einsum",
                      "tensordot", "inner", "linalg_vecdot"}),
    "cuda": frozenset({"conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                       "conv_transpose3d", "bmm", "mm", "mv", "baddbmm", "addmm", "addbmm",
                       "addmv", "addr", "linear", "matmul", "prelu",
                       "scaled_dot_product_attention", "einsum", "tensordot", "inner",
                       "linalg_vecdot"}),
}
# ops that run in float32 whatever their inputs
FP32 = {
    "cpu": frozenset({"mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "nll_loss",
                      "cross_entropy", "binary_cross_entropy",
                      "binary_cross_entropy_with_logits", "kl_div", "poisson_nll_loss",
                      "margin_ranking_loss", "hinge_embedding_loss", "cosine_embedding_loss",
                      "soft_margin_loss", "triplet_margin_loss", "multi_margin_loss",
                      "multilabel_margin_loss", "ctc_loss", "cdist", "prod"}),
    "cuda": frozenset({"mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "nll_loss",
                       "cross_entropy", "binary_cross_entropy_with_logits", "kl_div",
                       "poisson_nll_loss", "margin_ranking_loss", "hinge_embedding_loss",
                       "cosine_embedding_loss", "soft_margin_loss", "triplet_margin_loss",
                       "multi_margin_loss", "multilabel_margin_loss", "multilabel_soft_margin_loss",
                       "softmax", "log_softmax", "softmin", "layer_norm", "group_norm",
                       "normalize", "cosine_similarity", "softplus", "cdist", "pdist"}),
}


class _State(threading.local):
    """Per-thread autocast settings (PyTorch keeps them thread-local too)."""

    def __init__(self):
        self.on = False  # any device type enabled: the hot-path test
        self.enabled = {"cpu": False, "cuda": False}
        self.dtype = {"cpu": _dtype.bfloat16, "cuda": _dtype.float16}
        self.cache_enabled = True
        self.nesting = 0
        self.cache: dict = {}

    def refresh(self):
        self.on = self.enabled["cpu"] or self.enabled["cuda"]


state = _State()


def _device_type(tensors) -> str | None:
    for t in tensors:
        if t is not None and hasattr(t, "_data"):
            return t.device.type
    return None


def _cached_lower(t, target):
    """``t.to(target)``, reusing the cast of a leaf weight within the autocast region."""
    if not (state.cache_enabled and t.requires_grad and t.is_leaf and t._base is None):
        return t.to(target)
    hit = state.cache.get(id(t))
    if hit is not None and hit[0]() is t:
        return hit[1]
    low = t.to(target)
    state.cache[id(t)] = (weakref.ref(t), low)
    return low


def lower(op: str, *args):
    """``args`` with the floating tensors (not float64) of an enabled device type cast to the
    autocast dtype when ``op`` is on that device type's lower-precision list."""
    dev = _device_type(args) if state.on else None
    if dev is None or not state.enabled.get(dev) or op not in LOWER[dev]:
        return args
    target = state.dtype[dev]
    return tuple(_cached_lower(a, target) if _eligible(a, dev) and a.dtype != target else a
                 for a in args)


def fp32(op: str, *args):
    """``args`` with half-precision floating tensors of an enabled device type widened to
    float32 when ``op`` is on that device type's float32 list."""
    dev = _device_type(args) if state.on else None
    if dev is None or not state.enabled.get(dev) or op not in FP32[dev]:
        return args
    return tuple(a.to(_dtype.float32) if _eligible(a, dev) and a.dtype != _dtype.float32
                 else a for a in args)


def _eligible(a, dev: str) -> bool:
    return (hasattr(a, "_data") and a.is_floating_point() and a.dtype != _dtype.float64
            and a.device.type == dev)


def clear_cache() -> None:
    """Drops the cached weight casts (done when the outermost autocast region exits)."""
    state.cache.clear()


def _run_excluded(fn, args, kwargs):
    """``fn(*args, **kwargs)`` with autocast off: as PyTorch's autocast wrappers exclude the
    autocast dispatch key, the ops an autocast op calls inside are not cast again (so an op
    that widens its half inputs, such as ``scaled_dot_product_attention``, is not re-entered
    with them lowered)."""
    state.on = False
    try:
        return fn(*args, **kwargs)
    finally:
        state.refresh()


def autocast_excluded(fn):
    """Decorates a composite functional op on neither list (PyTorch runs it in its inputs'
    dtype): inside an autocast region its body runs with autocast excluded, so the products
    it is built from are not lowered (``F.interpolate`` of float32 input stays float32)."""

    @functools.wraps(fn)
    def run(*args, **kwargs):
        if state.on:
            return _run_excluded(fn, args, kwargs)
        return fn(*args, **kwargs)

    return run


def fp32_op(name: str):
    """Decorates a functional op on the float32 lists: inside an autocast region its
    half-precision tensor arguments are widened to float32 first, and the op's body runs
    with autocast excluded."""

    def decorate(fn):
        @functools.wraps(fn)
        def run(*args, **kwargs):
            if state.on:
                args = fp32(name, *args)
                if kwargs:
                    kwargs = dict(zip(kwargs, fp32(name, *kwargs.values())))
                return _run_excluded(fn, args, kwargs)
            return fn(*args, **kwargs)

        return run

    return decorate


def lower_op(name: str):
    """Decorates a functional op on the lower-precision lists: inside an autocast region its
    floating tensor arguments are cast to the autocast dtype first, and the op's body runs
    with autocast excluded."""

    def decorate(fn):
        @functools.wraps(fn)
        def run(*args, **kwargs):
            if state.on:
                args = lower(name, *args)
                if kwargs:
                    kwargs = dict(zip(kwargs, lower(name, *kwargs.values())))
                return _run_excluded(fn, args, kwargs)
            return fn(*args, **kwargs)

        return run

    return decorate
