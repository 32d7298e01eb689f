"""Convolutions and matrix products on oneDNN, the CPU kernel library that PyTorch itself
uses, through ctypes.

On x86-64 Linux ember depends on ``onednn-cpu-gomp`` (oneDNN 3.x built with GNU OpenMP, no
other dependency), whose ``libdnnl.so.3`` lands in ``<prefix>/lib``. When it is found, the
forward and both gradients of float32 1-, 2- and 3-D convolutions on numpy arrays run as
oneDNN primitives: the plain (N, C, *sp) arrays are reordered into the blocked layout the
library picks for the machine (``format_tag_any``), convolved by its JIT kernels and
reordered back, as PyTorch does for NCHW tensors. Measured on the 2-core development machine
(Xeon, AVX-512, 2 threads, ms, against the numpy shift path of ``ops.conv_shift``): a
CIFAR ResNet 32-channel 16x16 layer at batch 128: forward 2.3 against 6.1 (torch 2.4);
16 channels at 32x32: 3.1 against 8.6 (torch 8.4 in isolation); the results equal
PyTorch's bit for bit on the layers measured, being the same kernels.

float32 matrix products (``matmul``, reached through ``ops._parallel.matmul``: linear layers,
``@``, ``bmm``) of at least ``MATMUL_MIN_ROWS`` rows and ``MATMUL_MIN_MACS`` multiply-adds
run as oneDNN matmul primitives on the arrays' own strides (no copies; operands without a
unit stride are refused, as oneDNN has only its reference kernel for them). Below
``MATMUL_MIN_MACS`` OpenBLAS runs on one thread anyway; above it, leaving products to
OpenBLAS's own threads makes them and oneDNN's OpenMP threads spin against each other (the
MLP inference step: 1.3 ms all on oneDNN, 2.5 ms with its last 10-column product left to
OpenBLAS, 1.4 ms all on OpenBLAS).

GELU (both approximations, forward and the gradient without a graph) of float32 arrays of
at least ``ELTWISE_MIN`` values (by form) runs as oneDNN's eltwise primitive: 1024x3072
values 0.72 ms against 12.7 on numpy's passes (torch 1.08), with PyTorch's bits for the erf
form.

Anything the library refuses (a descriptor it cannot build, a dtype other than float32,
CuPy arrays) returns None and the caller keeps its numpy path; so does everything when the
library is missing, when ``EMBER_ONEDNN=0``, and in a forked child (GNU OpenMP cannot start
threads after a fork of a process that used them: DataLoader workers keep numpy).
Primitives are built once per configuration and kept (least recently used dropped past
``CACHE_SIZE``); the blocked intermediate buffers are numpy arrays made per call.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from collections import OrderedDict

import numpy as np

from .._threads import get_num_threads

__all__ = ["available", "set_enabled", "conv_forward", "conv_backward_data",
           "conv_backward_weights", "matmul", "gelu", "gelu_backward", "library_path"]

CACHE_SIZE = 512
# GNU OpenMP's threads spin this many times after a primitive before they sleep. Its
# default, 300,000, keeps them busy long enough to take the cores from ember's elementwise
# threads between convolutions; too few make back-to-back small products wait for threads to
# wake. Measured (2 cores, ms a step, 5-300 steps, one quiet hour): 300,000: resnet18_train
# 614, resnet20_train 396, mlp_train 3.97; 100,000: 552, 367, 3.80; 30,000: 554, 328,
# 3.87-4.04; 10,000: 564, 332, 4.08; 1,000: mlp_train 4.63. Set before the library loads,
# unless the user set GOMP_SPINCOUNT or OMP_WAIT_POLICY.
GOMP_SPINCOUNT = 30_000
_SUCCESS, _F32, _ANY = 0, 3, 1
_FWD_TRAINING, _CONV_DIRECT = 64, 1
_Q_SRC, _Q_DIFF_SRC, _Q_WEIGHTS, _Q_DIFF_WEIGHTS, _Q_DST, _Q_DIFF_DST = 129, 130, 131, 132, \
    133, 134
_SRC, _DST, _WEIGHTS, _BIAS = 1, 17, 33, 41
_DIFF_SRC, _DIFF_DST, _DIFF_WEIGHTS = 129, 145, 161
_PLAIN = {1: 2, 2: 3, 3: 4, 4: 5, 5: 6, 6: 7}  # ndims -> dnnl_a, dnnl_ab, ... (row-major)

_vp = ctypes.c_void_p
_Dims = ctypes.c_int64 * 12


class _Arg(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_int), ("memory", _vp)]


class _Version(ctypes.Structure):
    _fields_ = [("major", ctypes.c_int), ("minor", ctypes.c_int), ("patch", ctypes.c_int),
                ("hash", ctypes.c_char_p), ("cpu_runtime", ctypes.c_uint),
                ("gpu_runtime", ctypes.c_uint)]


_SIGNATURES = {
    "dnnl_version": (ctypes.POINTER(_Version), []),
    "dnnl_engine_create": (ctypes.c_int, [ctypes.POINTER(_vp), ctypes.c_int, ctypes.c_size_t]),
    "dnnl_stream_create": (ctypes.c_int, [ctypes.POINTER(_vp), _vp, ctypes.c_uint]),
    "dnnl_stream_wait": (ctypes.c_int, [_vp]),
    "dnnl_memory_desc_create_with_tag": (ctypes.c_int, [ctypes.POINTER(_vp), ctypes.c_int,
                                                        _Dims, ctypes.c_int, ctypes.c_int]),
    "dnnl_convolution_forward_primitive_desc_create": (
        ctypes.c_int, [ctypes.POINTER(_vp), _vp, ctypes.c_int, ctypes.c_int, _vp, _vp, _vp,
                       _vp, _Dims, _Dims, _Dims, _Dims, _vp]),
    "dnnl_convolution_backward_data_primitive_desc_create": (
        ctypes.c_int, [ctypes.POINTER(_vp), _vp, ctypes.c_int, _vp, _vp, _vp, _Dims, _Dims,
                       _Dims, _Dims, _vp, _vp]),
    "dnnl_convolution_backward_weights_primitive_desc_create": (
        ctypes.c_int, [ctypes.POINTER(_vp), _vp, ctypes.c_int, _vp, _vp, _vp, _vp, _Dims,
                       _Dims, _Dims, _Dims, _vp, _vp]),
    "dnnl_memory_desc_create_with_strides": (ctypes.c_int, [ctypes.POINTER(_vp), ctypes.c_int,
                                                            _Dims, ctypes.c_int, _Dims]),
    "dnnl_matmul_primitive_desc_create": (ctypes.c_int, [ctypes.POINTER(_vp), _vp, _vp, _vp,
                                                         _vp, _vp, _vp]),
    "dnnl_primitive_desc_query": (ctypes.c_int, [_vp, ctypes.c_int, ctypes.c_int, _vp]),
    "dnnl_eltwise_forward_primitive_desc_create": (
        ctypes.c_int, [ctypes.POINTER(_vp), _vp, ctypes.c_int, ctypes.c_int, _vp, _vp,
                       ctypes.c_float, ctypes.c_float, _vp]),
    "dnnl_eltwise_backward_primitive_desc_create": (
        ctypes.c_int, [ctypes.POINTER(_vp), _vp, ctypes.c_int, _vp, _vp, _vp, ctypes.c_float,
                       ctypes.c_float, _vp, _vp]),
    "dnnl_batch_normalization_forward_primitive_desc_create": (
        ctypes.c_int, [ctypes.POINTER(_vp), _vp, ctypes.c_int, _vp, _vp, ctypes.c_float,
                       ctypes.c_uint, _vp]),
    "dnnl_batch_normalization_backward_primitive_desc_create": (
        ctypes.c_int, [ctypes.POINTER(_vp), _vp, ctypes.c_int, _vp, _vp, _vp, ctypes.c_float,
                       ctypes.c_uint, _vp, _vp]),
    "dnnl_primitive_desc_query_md": (_vp, [_vp, ctypes.c_int, ctypes.c_int]),
    "dnnl_memory_desc_equal": (ctypes.c_int, [_vp, _vp]),
    "dnnl_memory_desc_get_size": (ctypes.c_size_t, [_vp]),
    "dnnl_reorder_primitive_desc_create": (ctypes.c_int, [ctypes.POINTER(_vp), _vp, _vp, _vp,
                                                          _vp, _vp]),
    "dnnl_primitive_create": (ctypes.c_int, [ctypes.POINTER(_vp), _vp]),
    "dnnl_primitive_execute": (ctypes.c_int, [_vp, _vp, ctypes.c_int, _vp]),
    "dnnl_memory_create": (ctypes.c_int, [ctypes.POINTER(_vp), _vp, _vp, _vp]),
    "dnnl_memory_set_data_handle": (ctypes.c_int, [_vp, _vp]),
    "dnnl_primitive_desc_destroy": (ctypes.c_int, [_vp]),
    "dnnl_primitive_destroy": (ctypes.c_int, [_vp]),
    "dnnl_memory_destroy": (ctypes.c_int, [_vp]),
    "dnnl_memory_desc_destroy": (ctypes.c_int, [_vp]),
}

_lib = None  # the bound library, once loaded
_engine = _stream = None
_loaded = False
_enabled = os.environ.get("EMBER_ONEDNN", "1") != "0"
_forked = False
_cache: OrderedDict = OrderedDict()
_cache_lock = threading.Lock()


def _candidates() -> list:
    """Where ``libdnnl.so.3`` may be: ``EMBER_ONEDNN_LIBRARY``, then the ``lib`` folders of
    this environment, of the base installation and of the user's site (where pip puts a
    wheel's data files)."""
    env = os.environ.get("EMBER_ONEDNN_LIBRARY")
    if env:
        return [env]
    import site

    roots = [sys.prefix, sys.base_prefix, getattr(site, "USER_BASE", None) or ""]
    return [os.path.join(r, "lib", "libdnnl.so.3") for r in dict.fromkeys(roots) if r]


def library_path() -> str | None:
    """The oneDNN library ember uses, or None when none is loaded."""
    return _lib._name if _load() else None


def _load() -> bool:
    global _lib, _engine, _stream, _loaded
    if _loaded:
        return _lib is not None
    _loaded = True
    if not sys.platform.startswith("linux"):
        return False
    if "GOMP_SPINCOUNT" not in os.environ and "OMP_WAIT_POLICY" not in os.environ:
        os.environ["GOMP_SPINCOUNT"] = str(GOMP_SPINCOUNT)  # read when libgomp loads
    for path in _candidates():
        if not os.path.exists(path):
            continue
        try:
            lib = ctypes.CDLL(path)
            for name, (res, args) in _SIGNATURES.items():
                fn = getattr(lib, name)
                fn.restype, fn.argtypes = res, args
            if lib.dnnl_version().contents.major != 3:
                continue
            engine, stream = _vp(), _vp()
            if lib.dnnl_engine_create(ctypes.byref(engine), 1, 0) != _SUCCESS or \
                    lib.dnnl_stream_create(ctypes.byref(stream), engine, 1) != _SUCCESS:
                continue
        except (OSError, AttributeError):
            continue
        _lib, _engine, _stream = lib, engine, stream
        _match_threads()
        return True
    return False


def _match_threads() -> None:
    """oneDNN's OpenMP threads follow ``ember.set_num_threads`` when it was called before
    the library loaded (later calls reach it through threadpoolctl)."""
    from .. import _threads

    if _threads._num_threads is None:
        return
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(_threads._num_threads, user_api="openmp")
    except Exception:  # noqa: BLE001 - thread counts are a preference, not a requirement
        pass


def _after_fork_in_child() -> None:
    global _forked
    _forked = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def set_enabled(flag: bool) -> None:
    """Turns the oneDNN path on or off (tests compare it with the numpy path)."""
    global _enabled
    _enabled = bool(flag)


def available() -> bool:
    """Whether convolutions run on oneDNN in this process now."""
    return _enabled and not _forked and _load()


def _check(status: int, what: str) -> None:
    if status != _SUCCESS:
        raise RuntimeError(f"oneDNN {what} failed (status {status})")


def _md(shape, tag: int):
    md = _vp()
    _check(_lib.dnnl_memory_desc_create_with_tag(ctypes.byref(md), len(shape), _Dims(*shape),
                                                 _F32, tag), "memory descriptor")
    return md


def _memory(md):
    mem = _vp()
    _check(_lib.dnnl_memory_create(ctypes.byref(mem), md, _engine, None), "memory")
    return mem


def _primitive(pd):
    prim = _vp()
    _check(_lib.dnnl_primitive_create(ctypes.byref(prim), pd), "primitive")
    return prim


def _aligned(nbytes: int):
    """A 64-byte-aligned uint8 buffer of ``nbytes`` (numpy gives 16)."""
    raw = np.empty(nbytes + 64, np.uint8)
    start = (-raw.ctypes.data) % 64
    return raw[start:start + nbytes]


class _Slot:
    """One argument of a primitive: the user's plain array (``user`` md) and, when the
    primitive wants another layout, the reorder between them and the blocked buffer."""

    def __init__(self, arg: int, user_md, inner_md, into_user: bool, owned: list):
        self.arg = arg
        self.user_mem = _memory(user_md)
        owned.append(("memory", self.user_mem))
        self.reorder = self.inner_mem = None
        self.size = 0
        if not _lib.dnnl_memory_desc_equal(user_md, inner_md):
            src, dst = (inner_md, user_md) if into_user else (user_md, inner_md)
            rpd = _vp()
            _check(_lib.dnnl_reorder_primitive_desc_create(ctypes.byref(rpd), src, _engine,
                                                           dst, _engine, None), "reorder")
            owned.append(("pd", rpd))
            self.reorder = _primitive(rpd)
            owned.append(("primitive", self.reorder))
            self.inner_mem = _memory(inner_md)
            owned.append(("memory", self.inner_mem))
            self.size = _lib.dnnl_memory_desc_get_size(inner_md)


class _Entry:
    """A built primitive with its argument slots; executions hold ``lock`` (the memory
    objects are shared and ctypes releases the GIL)."""

    def __init__(self, kind: str):
        self.kind = kind  # "fwd", "bwd_data" or "bwd_weights"
        self.owned: list = []  # (kind, handle) to destroy with the entry
        self.lock = threading.Lock()
        self.prim = None
        self.inputs: list = []
        self.output = None

    def run(self, arrays, out_shape):
        """Executes with ``arrays`` (one per input slot, C-contiguous float32) and returns
        the output array of ``out_shape``."""
        out = np.empty(out_shape, np.float32)
        with self.lock:
            keep = []  # the blocked buffers, alive until the primitive is done
            args = []
            for slot, a in zip(self.inputs, arrays):
                _check(_lib.dnnl_memory_set_data_handle(slot.user_mem, a.ctypes.data), "set")
                mem = slot.user_mem
                if slot.reorder is not None:
                    buf = _aligned(slot.size)
                    keep.append(buf)
                    _check(_lib.dnnl_memory_set_data_handle(slot.inner_mem, buf.ctypes.data),
                           "set")
                    _execute(slot.reorder, [(_SRC, slot.user_mem), (_DST, slot.inner_mem)])
                    mem = slot.inner_mem
                args.append((slot.arg, mem))
            o = self.output
            _check(_lib.dnnl_memory_set_data_handle(o.user_mem, out.ctypes.data), "set")
            if o.reorder is None:
                args.append((o.arg, o.user_mem))
                _execute(self.prim, args)
            else:
                buf = _aligned(o.size)
                keep.append(buf)
                _check(_lib.dnnl_memory_set_data_handle(o.inner_mem, buf.ctypes.data), "set")
                args.append((o.arg, o.inner_mem))
                _execute(self.prim, args)
                _execute(o.reorder, [(_SRC, o.inner_mem), (_DST, o.user_mem)])
            del keep
        return out

    def __del__(self):
        lib = _lib
        if lib is None:
            return
        destroy = {"memory": lib.dnnl_memory_destroy, "primitive": lib.dnnl_primitive_destroy,
                   "pd": lib.dnnl_primitive_desc_destroy, "md": lib.dnnl_memory_desc_destroy}
        try:
            for kind, handle in reversed(self.owned):
                destroy[kind](handle)
        except Exception:  # noqa: BLE001 - at interpreter exit the library may be gone
            pass


def _execute(prim, args) -> None:
    arr = (_Arg * len(args))(*[_Arg(a, m) for a, m in args])
    _check(_lib.dnnl_primitive_execute(prim, _stream, len(args), arr), "execution")
    _check(_lib.dnnl_stream_wait(_stream), "stream wait")


def _geometry(stride, pads, dilation):
    """The strides, dilations (oneDNN counts d - 1) and padding pairs as dnnl_dims_t."""
    return (_Dims(*stride), _Dims(*[d - 1 for d in dilation]),
            _Dims(*[lo for lo, _ in pads]), _Dims(*[hi for _, hi in pads]))


def _weights_shape(w_shape, groups: int) -> tuple:
    """The kernel's shape as oneDNN takes it: (G, O/G, C/G, *k) when grouped."""
    if groups == 1:
        return tuple(w_shape)
    return (groups, w_shape[0] // groups) + tuple(w_shape[1:])


def _build(kind: str, x_shape, w_shape, y_shape, bias: bool, stride, pads, dilation,
           groups):
    """The entry of one primitive kind ("fwd", "bwd_data" or "bwd_weights")."""
    entry = _Entry(kind)
    owned = entry.owned
    ws = _weights_shape(w_shape, groups)
    user = {"x": _md(x_shape, _PLAIN[len(x_shape)]), "w": _md(ws, _PLAIN[len(ws)]),
            "y": _md(y_shape, _PLAIN[len(y_shape)])}
    anyd = {"x": _md(x_shape, _ANY), "w": _md(ws, _ANY), "y": _md(y_shape, _ANY)}
    b_md = _md((w_shape[0],), _PLAIN[1]) if bias else None
    owned.extend(("md", m) for m in (*user.values(), *anyd.values()) if m)
    if b_md is not None:
        owned.append(("md", b_md))
    geo = _geometry(stride, pads, dilation)
    fwd = _vp()
    _check(_lib.dnnl_convolution_forward_primitive_desc_create(
        ctypes.byref(fwd), _engine, _FWD_TRAINING, _CONV_DIRECT, anyd["x"], anyd["w"], b_md,
        anyd["y"], *geo, None), "convolution descriptor")
    owned.append(("pd", fwd))
    pd = fwd
    if kind == "bwd_data":
        pd = _vp()
        _check(_lib.dnnl_convolution_backward_data_primitive_desc_create(
            ctypes.byref(pd), _engine, _CONV_DIRECT, anyd["x"], anyd["w"], anyd["y"], *geo,
            fwd, None), "backward-data descriptor")
        owned.append(("pd", pd))
    elif kind == "bwd_weights":
        pd = _vp()
        _check(_lib.dnnl_convolution_backward_weights_primitive_desc_create(
            ctypes.byref(pd), _engine, _CONV_DIRECT, anyd["x"], anyd["w"], None, anyd["y"],
            *geo, fwd, None), "backward-weights descriptor")
        owned.append(("pd", pd))
    entry.prim = _primitive(pd)
    owned.append(("primitive", entry.prim))

    def slot(arg, name, query, into_user=False):
        return _Slot(arg, user[name], _lib.dnnl_primitive_desc_query_md(pd, query, 0),
                     into_user, owned)

    if kind == "fwd":
        entry.inputs = [slot(_SRC, "x", _Q_SRC), slot(_WEIGHTS, "w", _Q_WEIGHTS)]
        if bias:
            entry.inputs.append(_Slot(_BIAS, b_md, b_md, False, owned))
        entry.output = slot(_DST, "y", _Q_DST, into_user=True)
    elif kind == "bwd_data":
        entry.inputs = [slot(_DIFF_DST, "y", _Q_DIFF_DST), slot(_WEIGHTS, "w", _Q_WEIGHTS)]
        entry.output = slot(_DIFF_SRC, "x", _Q_DIFF_SRC, into_user=True)
    else:
        entry.inputs = [slot(_SRC, "x", _Q_SRC), slot(_DIFF_DST, "y", _Q_DIFF_DST)]
        entry.output = slot(_DIFF_WEIGHTS, "w", _Q_DIFF_WEIGHTS, into_user=True)
    return entry


def _cached(key, build):
    """The cached entry of ``key``, made by ``build()`` on first use; None when oneDNN
    refuses the configuration (remembered too). The thread count is part of the key: a
    primitive keeps the OpenMP thread count it was built with (after ``set_num_threads(1)``
    a 2-thread primitive still ran on 2)."""
    key = (key, get_num_threads())
    with _cache_lock:
        entry = _cache.get(key, False)
        if entry is not False:
            _cache.move_to_end(key)
            return entry
    try:
        entry = build()
    except RuntimeError:
        entry = None
    with _cache_lock:
        _cache[key] = entry
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return entry


def _entry(kind, x_shape, w_shape, y_shape, bias, stride, pads, dilation, groups):
    """The cached convolution entry of one kind and configuration, or None."""
    args = (kind, x_shape, w_shape, y_shape, bias, stride, pads, dilation, groups)
    return _cached(args, lambda: _build(*args))


def _usable(*arrays) -> bool:
    return available() and all(type(a) is np.ndarray and a.dtype == np.float32 and a.size
                               for a in arrays) and 3 <= arrays[0].ndim <= 5


def _config(stride, pads, dilation) -> tuple:
    return (tuple(int(s) for s in stride), tuple((int(lo), int(hi)) for lo, hi in pads),
            tuple(int(d) for d in dilation))


def conv_forward(x, w, b, stride, pads, dilation, groups: int):
    """``conv(x, w) + b`` on oneDNN, or None where it does not apply."""
    if not _usable(x, w) or b is not None and (
            type(b) is not np.ndarray or b.dtype != np.float32 or b.shape != w.shape[:1]):
        return None
    stride, pads, dilation = _config(stride, pads, dilation)
    y_sp = tuple((i + lo + hi - d * (k - 1) - 1) // s + 1 for i, k, s, (lo, hi), d in
                 zip(x.shape[2:], w.shape[2:], stride, pads, dilation))
    if any(v <= 0 for v in y_sp):
        return None
    y_shape = (x.shape[0], w.shape[0]) + y_sp
    entry = _entry("fwd", x.shape, w.shape, y_shape, b is not None, stride, pads, dilation,
                   groups)
    if entry is None:
        return None
    arrays = [np.ascontiguousarray(x), np.ascontiguousarray(w)]
    if b is not None:
        arrays.append(np.ascontiguousarray(b))
    return entry.run(arrays, y_shape)


def conv_backward_data(gy, w, x_shape, stride, pads, dilation, groups: int):
    """The input gradient (``x_shape``) of ``conv(x, w)`` from the output gradient ``gy``
    on oneDNN, or None where it does not apply."""
    if not _usable(gy, w):
        return None
    stride, pads, dilation = _config(stride, pads, dilation)
    x_shape = tuple(int(v) for v in x_shape)
    entry = _entry("bwd_data", x_shape, w.shape, gy.shape, False, stride, pads, dilation,
                   groups)
    if entry is None:
        return None
    return entry.run([np.ascontiguousarray(gy), np.ascontiguousarray(w)], x_shape)


def conv_backward_weights(x, gy, w_shape, stride, pads, dilation, groups: int):
    """The kernel gradient (``w_shape``) of ``conv(x, w)`` from the input ``x`` and the
    output gradient ``gy`` on oneDNN, or None where it does not apply."""
    if not _usable(x, gy):
        return None
    stride, pads, dilation = _config(stride, pads, dilation)
    w_shape = tuple(int(v) for v in w_shape)
    entry = _entry("bwd_weights", x.shape, w_shape, gy.shape, False, stride, pads, dilation,
                   groups)
    if entry is None:
        return None
    return entry.run([np.ascontiguousarray(x), np.ascontiguousarray(gy)],
                     w_shape)


# products that stay on numpy (measured, 2 cores, us: 128x512 @ 512x10: 39 on oneDNN, 30
# numpy; a row vector @ 768x2304: 367 against 175; against 128x512 @ 512x512: 271 / 343,
# 1024x768 @ 768x3072: 17,365 / 18,703, attention's 96 x (128x64 @ 64x128): 952 / 2,605)
MATMUL_MIN_MACS = 1 << 18
MATMUL_MIN_ROWS = 2
_Q_IMPL_INFO = 8


def _strided_md(a):
    md = _vp()
    _check(_lib.dnnl_memory_desc_create_with_strides(
        ctypes.byref(md), a.ndim, _Dims(*a.shape), _F32,
        _Dims(*[s // a.itemsize for s in a.strides])), "memory descriptor")
    return md


def _impl(pd) -> str:
    name = ctypes.c_char_p()
    _check(_lib.dnnl_primitive_desc_query(pd, _Q_IMPL_INFO, 0, ctypes.byref(name)), "query")
    return (name.value or b"").decode()


def _build_matmul(a, b, bias: bool):
    """The entry of ``a @ b (+ bias)`` for these shapes and strides; refused (RuntimeError)
    when oneDNN would take its slow reference implementation."""
    entry = _Entry("matmul")
    owned = entry.owned
    out = a.shape[:-1] + b.shape[-1:]
    a_md, b_md, y_md = _strided_md(a), _strided_md(b), _md(out, _PLAIN[len(out)])
    owned.extend([("md", a_md), ("md", b_md), ("md", y_md)])
    bias_md = None
    if bias:
        bias_md = _md((1,) * (len(out) - 1) + out[-1:], _PLAIN[len(out)])
        owned.append(("md", bias_md))
    pd = _vp()
    _check(_lib.dnnl_matmul_primitive_desc_create(ctypes.byref(pd), _engine, a_md, b_md,
                                                  bias_md, y_md, None), "matmul descriptor")
    owned.append(("pd", pd))
    if _impl(pd).startswith("ref"):
        raise RuntimeError("oneDNN matmul: only the reference implementation")
    entry.prim = _primitive(pd)
    owned.append(("primitive", entry.prim))
    entry.inputs = [_Slot(_SRC, a_md, a_md, False, owned),
                    _Slot(_WEIGHTS, b_md, b_md, False, owned)]
    if bias:
        entry.inputs.append(_Slot(_BIAS, bias_md, bias_md, False, owned))
    entry.output = _Slot(_DST, y_md, y_md, True, owned)
    return entry


def matmul(a, b, bias=None):
    """``a @ b (+ bias)`` for float32 numpy arrays of shapes (..., M, K) and (..., K, N) with
    the same batch dims (any strides, e.g. a transposed weight), on oneDNN; None where it
    does not apply (other dtypes, small products, shapes it refuses)."""
    if type(a) is not np.ndarray or type(b) is not np.ndarray or \
            a.dtype != np.float32 or b.dtype != np.float32 or a.ndim < 2 or \
            a.shape[-2] < MATMUL_MIN_ROWS or a.size * b.shape[-1] < MATMUL_MIN_MACS or \
            a.ndim != b.ndim or a.shape[:-2] != b.shape[:-2] or a.shape[-1] != b.shape[-2] \
            or 0 in a.shape or 0 in b.shape or not available() or \
            any(s <= 0 or s % 4 for s in a.strides + b.strides):  # (no broadcast strides)
        return None
    if bias is not None and (type(bias) is not np.ndarray or bias.dtype != np.float32 or
                             bias.shape != b.shape[-1:]):
        return None
    key = ("matmul", a.shape, a.strides, b.shape, b.strides, bias is not None)
    entry = _cached(key, lambda: _build_matmul(a, b, bias is not None))
    if entry is None:
        return None
    arrays = [a, b] if bias is None else [a, b, np.ascontiguousarray(bias)]
    return entry.run(arrays, a.shape[:-1] + b.shape[-1:])


# elements: smaller arrays stay on numpy. Measured (us, numpy / oneDNN, one row): erf GELU
# 256 values 29.5 / 16.2, 3072 37.0 / 17.0; tanh GELU (fewer numpy passes) 3072 11.3 / 22.7,
# 8192 15.9 / 17.7, 16384 25.3 / 19.8
ELTWISE_MIN = {"none": 256, "tanh": 8192}
_GELU_ALG = {"none": 49, "tanh": 43}  # dnnl_eltwise_gelu_erf, dnnl_eltwise_gelu_tanh


def _build_eltwise(alg: int, n: int, backward: bool):
    """The entry of an elementwise primitive over ``n`` contiguous float32 values: forward
    (src -> dst) or backward (src, diff_dst -> diff_src)."""
    entry = _Entry("eltwise_bwd" if backward else "eltwise")
    owned = entry.owned
    md = _md((n,), _PLAIN[1])
    owned.append(("md", md))
    fwd = _vp()
    _check(_lib.dnnl_eltwise_forward_primitive_desc_create(
        ctypes.byref(fwd), _engine, _FWD_TRAINING, alg, md, md, 0.0, 0.0, None), "eltwise")
    owned.append(("pd", fwd))
    pd = fwd
    if backward:
        pd = _vp()
        _check(_lib.dnnl_eltwise_backward_primitive_desc_create(
            ctypes.byref(pd), _engine, alg, md, md, md, 0.0, 0.0, fwd, None),
            "eltwise backward")
        owned.append(("pd", pd))
    entry.prim = _primitive(pd)
    owned.append(("primitive", entry.prim))
    entry.inputs = [_Slot(_SRC, md, md, False, owned)]
    if backward:
        entry.inputs.append(_Slot(_DIFF_DST, md, md, False, owned))
        entry.output = _Slot(_DIFF_SRC, md, md, True, owned)
    else:
        entry.output = _Slot(_DST, md, md, True, owned)
    return entry


def _eltwise(alg: int, arrays, backward: bool, min_size: int):
    x = arrays[0]
    if x.size < min_size or not available() or any(
            type(a) is not np.ndarray or a.dtype != np.float32 or a.shape != x.shape
            for a in arrays):
        return None
    n = x.size
    entry = _cached(("eltwise", alg, n, backward), lambda: _build_eltwise(alg, n, backward))
    if entry is None:
        return None
    flat = [np.ascontiguousarray(a).reshape(n) for a in arrays]
    return entry.run(flat, (n,)).reshape(x.shape)


def gelu(x, approximate: str = "none"):
    """GELU of a float32 numpy array on oneDNN (``approximate``: "none" (erf) or "tanh"), or
    None where it does not apply. oneDNN's values equal PyTorch's on the machines measured
    (its CPU kernel computes ``0.5 x (1 + erf(x / sqrt 2))`` the same way)."""
    return _eltwise(_GELU_ALG[approximate], [x], False, ELTWISE_MIN[approximate])


def gelu_backward(x, g, approximate: str = "none"):
    """The gradient of GELU at ``x`` times ``g`` (float32 numpy arrays) on oneDNN, or None."""
    return _eltwise(_GELU_ALG[approximate], [x, g], True, ELTWISE_MIN[approximate])
