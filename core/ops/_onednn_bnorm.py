"""Training-mode batch norm on oneDNN (forward and backward), for float32 CPU arrays in the
plain (N, C, *sp) layout; ``None`` wherever it does not apply, and the caller then takes
the numpy row form (``ops.batch_norm_rows``).

oneDNN's ``ncsp`` kernels take the plain layout as it is (no reorders). Measured per call on
the 2-core Xeon (ms, forward / backward; numpy row form in brackets; PyTorch after):
(8, 64, 56, 56) 1.7 / 1.8 [2.4 / 4.1], PyTorch 1.4 / 2.3; (8, 128, 28, 28) 0.9 / 1.0
[1.5 / 2.2]; (8, 512, 7, 7) 0.21 / 0.23 [0.37 / 0.62]; (8, 64, 112, 112) 6.3 / 7.2
[4.9 / 12.5], PyTorch 7.1 / 5.5. Forwards above ``FORWARD_MAX`` values therefore stay on
numpy; backwards of any size come here. The statistics are the biased variance and the mean,
as PyTorch's; the backward takes them (not the inverse standard deviation) and ``eps``.
"""

from __future__ import annotations

import ctypes

import numpy as np

from . import _onednn as D

__all__ = ["forward", "backward", "FORWARD_MAX"]

FORWARD_MAX = 1 << 22  # values: larger forwards are faster on numpy (see above)
_USE_SCALE, _USE_SHIFT = 0x2, 0x4  # dnnl_use_scale, dnnl_use_shift
_BACKWARD = 128  # dnnl_backward (both diff_src and diff_scale/shift)
_MEAN, _VARIANCE, _SCALE, _SHIFT = 49, 50, 51, 52
_DIFF_SCALE, _DIFF_SHIFT = 255, 256


def _usable(x, *channel) -> bool:
    return type(x) is np.ndarray and x.dtype == np.float32 and 3 <= x.ndim <= 5 and \
        x.size > 0 and all(p is None or (type(p) is np.ndarray and p.dtype == np.float32 and
                                         p.shape == x.shape[1:2]) for p in channel) and \
        D.available()


def _build(shape, eps: float, flags: int, backward: bool):
    """The entry of the forward (x, mean, var[, scale][, shift] -> y) or backward (x, g,
    mean, var[, scale, diff scale][, diff shift] -> diff x) primitive. Statistics and
    parameter gradients are passed as input slots: a slot only binds an array to an
    argument, and oneDNN writes those it produces."""
    entry = D._Entry("batch_norm_bwd" if backward else "batch_norm")
    owned = entry.owned
    md, cmd = D._md(shape, D._PLAIN[len(shape)]), D._md(shape[1:2], D._PLAIN[1])
    owned += [("md", md), ("md", cmd)]
    fwd = D._vp()
    D._check(D._lib.dnnl_batch_normalization_forward_primitive_desc_create(
        ctypes.byref(fwd), D._engine, D._FWD_TRAINING, md, md, eps, flags, None), "batch norm")
    owned.append(("pd", fwd))
    pd = fwd
    if backward:
        pd = D._vp()
        D._check(D._lib.dnnl_batch_normalization_backward_primitive_desc_create(
            ctypes.byref(pd), D._engine, _BACKWARD, md, md, md, eps, flags, fwd, None),
            "batch norm backward")
        owned.append(("pd", pd))
    if D._impl(pd).startswith("ref"):
        raise RuntimeError("oneDNN batch norm: only the reference implementation")
    entry.prim = D._primitive(pd)
    owned.append(("primitive", entry.prim))

    def slot(arg, m):
        return D._Slot(arg, m, m, False, owned)

    if backward:
        args = [(D._SRC, md), (D._DIFF_DST, md), (_MEAN, cmd), (_VARIANCE, cmd)]
        if flags & _USE_SCALE:
            args += [(_SCALE, cmd), (_DIFF_SCALE, cmd)]
        if flags & _USE_SHIFT:
            args.append((_DIFF_SHIFT, cmd))
        entry.output = D._Slot(D._DIFF_SRC, md, md, True, owned)
    else:
        args = [(D._SRC, md), (_MEAN, cmd), (_VARIANCE, cmd)]
        if flags & _USE_SCALE:
            args.append((_SCALE, cmd))
        if flags & _USE_SHIFT:
            args.append((_SHIFT, cmd))
        entry.output = D._Slot(D._DST, md, md, True, owned)
    entry.inputs = [slot(a, m) for a, m in args]
    return entry


def _flags(w, b) -> int:
    return (_USE_SCALE if w is not None else 0) | (_USE_SHIFT if b is not None else 0)


def forward(x, w, b, eps: float):
    """``(y, mean, biased variance)`` of the batch norm of ``x`` (N, C, *sp) with the (C,)
    ``w`` and ``b`` (each may be None), or None where oneDNN does not take it."""
    if x.size > FORWARD_MAX or not _usable(x, w, b):
        return None
    flags = _flags(w, b)
    entry = D._cached(("batch_norm", x.shape, eps, flags),
                      lambda: _build(x.shape, eps, flags, False))
    if entry is None:
        return None
    c = x.shape[1]
    mean, var = np.empty(c, np.float32), np.empty(c, np.float32)
    arrays = [np.ascontiguousarray(x), mean, var]
    arrays += [np.ascontiguousarray(p) for p in (w, b) if p is not None]
    return entry.run(arrays, x.shape), mean, var


def backward(g, x, mean, var, w, has_shift: bool, eps: float):
    """``(grad x, grad w or None, grad b or None)`` of the batch norm of ``x`` with the
    forward's ``mean`` and biased ``var`` (C,), or None where oneDNN does not take it."""
    if not _usable(x, w, mean, var) or type(g) is not np.ndarray or g.dtype != np.float32 \
            or g.shape != x.shape or (has_shift and w is None):
        return None
    flags = _flags(w, True if has_shift else None)
    entry = D._cached(("batch_norm_bwd", x.shape, eps, flags),
                      lambda: _build(x.shape, eps, flags, True))
    if entry is None:
        return None
    c = x.shape[1]
    arrays = [np.ascontiguousarray(x), np.ascontiguousarray(g), np.ascontiguousarray(mean),
              np.ascontiguousarray(var)]
    gw = gb = None
    if w is not None:
        gw = np.empty(c, np.float32)
        arrays += [np.ascontiguousarray(w), gw]
    if has_shift:
        gb = np.empty(c, np.float32)
        arrays.append(gb)
    return entry.run(arrays, x.shape), gw, gb
