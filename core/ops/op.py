"""The op mechanism: every differentiable op is one ``Op`` subclass.

An op has a stable ``_name``, explicit attributes (set as keyword arguments of ``apply``),
a ``forward`` on arrays of the inputs' array module (numpy or cupy) and a ``backward`` written
with ember ops on Tensors, so ``create_graph=True`` yields higher-order gradients. The op
instance is itself the graph node (``tensor.grad_fn``).

    class Exp(Op):
        _name = "exp"
        save_output = True

        def forward(self, x):
            return self.xp(x).exp(x)

        def backward(self, g):
            return g * self.saved_output()
"""

from __future__ import annotations

from time import perf_counter_ns as _perf_ns

import numpy as np

from ..autograd import profiler as _profiler
from ..autograd.anomaly_mode import _Anomaly, record_forward_trace
from ..autograd.grad_mode import _State
from ..autograd.graph import Node, _SavedHooks
from . import _opmath

__all__ = ["Op", "apply", "xp_of"]

_ndarray = np.ndarray
_generic = np.generic


def xp_of(arr):
    """The array module of an array: numpy or cupy."""
    if isinstance(arr, _ndarray) or isinstance(arr, _generic):
        return np
    from .._device import cupy_module

    return cupy_module()


class Op(Node):
    """Base class of ember's differentiable ops (see the module docstring)."""

    __slots__ = ()
    save_inputs: tuple = ()  # positions of inputs whose tensors backward needs
    save_output: bool = False  # backward needs the output (read with saved_output())
    differentiable: bool = True  # False: outputs never require grad (argmax, comparisons)
    n_outputs: int = 1
    opmath: bool = False  # True: float16/bfloat16 inputs run in float32 (ops._opmath)

    def forward(self, *arrays):  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def saved(self) -> tuple:
        """The saved input tensors, in ``save_inputs`` order."""
        return self.saved_tensors

    @classmethod
    def apply(cls, *inputs, **attrs):
        if _TRACER is None and not _profiler._ACTIVE:  # (the common case, one call less)
            if cls.opmath:
                for t in inputs:
                    d = t._data.dtype
                    if d.itemsize == 2 and (d.kind == "f" or d.name == "bfloat16"):
                        return apply(cls, inputs, attrs)  # (computed in float32)
            return _apply(cls, inputs, attrs)
        return apply(cls, inputs, attrs)


_TRACER = None  # the active graph tracer (ember.jit's), None when nothing is traced


FLOAT32_64 = (np.dtype(np.float32), np.dtype(np.float64))  # the dtypes graphless paths take


def graphless() -> bool:
    """Whether an op may run on its arrays directly, without its graph node: grad mode off
    (``no_grad``, inference), nothing traced or profiled. Ops called many times on small
    inputs (a decoding step's ~300 per token) take such a path; with grad on, or under
    ``jit.trace`` or the profiler, every op goes through ``Op.apply``."""
    return not _State.enabled and _TRACER is None and not _profiler._ACTIVE


def apply(cls, inputs, attrs):
    """Runs op ``cls`` on Tensors ``inputs`` and records it when a gradient is needed."""
    if cls.opmath:
        for t in inputs:
            d = t._data.dtype
            if d.itemsize == 2 and (d.kind == "f" or d.name == "bfloat16"):
                # float16/bfloat16: computed in float32, rounded once (ops._opmath)
                return _opmath.opmath_apply(apply, cls, inputs, attrs, d)
    if _TRACER is not None:
        return _TRACER.record(cls, inputs, attrs, _untraced_apply)
    if _profiler._ACTIVE:
        return _profiled_apply(cls, inputs, attrs)
    return _apply(cls, inputs, attrs)


def _untraced_apply(cls, inputs, attrs):
    """``apply`` without the tracer hook: the tracer runs each op it records through it."""
    if _profiler._ACTIVE:
        return _profiled_apply(cls, inputs, attrs)
    return _apply(cls, inputs, attrs)


def _profiled_apply(cls, inputs, attrs):
    t0 = _perf_ns()
    try:
        out = _apply(cls, inputs, attrs)
        _profiler.wait_for_device()
        return out
    finally:
        _profiler.record_op(cls._name, t0, _perf_ns(), [list(t.shape) for t in inputs])


def _apply(cls, inputs, attrs):
    node = cls.__new__(cls)
    if attrs:
        node.__dict__.update(attrs)
    try:
        if len(inputs) == 1:
            out = node.forward(inputs[0]._data)
        elif len(inputs) == 2:
            out = node.forward(inputs[0]._data, inputs[1]._data)
        elif len(inputs) == 3:
            out = node.forward(inputs[0]._data, inputs[1]._data, inputs[2]._data)
        else:
            out = node.forward(*[t._data for t in inputs])
    except ValueError as exc:
        raise _forward_error(cls, inputs, exc) from None
    if _META_SEEN and type(out) is _ndarray:
        out = _meta_result(inputs, out)
    record = False
    if _State.enabled and cls.differentiable:
        for t in inputs:
            if t.requires_grad:
                record = True
                break
            if t._base is not None and t._view_ver != t._vc[0]:
                t._refresh_view()  # its base may require grad since an in-place change
                if t.requires_grad:
                    record = True
                    break
    if cls.n_outputs != 1:
        return _wrap_multi(node, out, inputs, record)
    if type(out) is not _ndarray and isinstance(out, _generic):
        out = np.asarray(out)
    if not record or out.dtype.kind not in "fcV":  # integer/bool results never need grad
        return _Tensor._make(out, False, None, 0)
    node.next_functions = tuple([_edge(t) for t in inputs])
    if _Anomaly.enabled:
        record_forward_trace(node)
    si = node.save_inputs
    if si:
        saved = tuple([inputs[i] for i in si])
        node._saved = saved
        node._saved_versions = tuple([t._vc[0] for t in saved])
        if _SavedHooks.stack:
            node._pack_saved()
    result = _Tensor._make(out, True, node, 0)
    if cls.save_output:
        if _SavedHooks.stack:
            node._pack_output(result)
        else:
            node._out_data = out
            node._out_version = (result._vc, result._vc[0])
    return result


def _forward_error(cls, inputs, exc: ValueError) -> Exception:
    """PyTorch's error for operands that don't broadcast (numpy raises ValueError); other
    errors pass through unchanged."""
    if "broadcast" not in str(exc):
        return exc
    shapes = [tuple(t._data.shape) for t in inputs]
    msg = f"{cls._name}: operands could not be broadcast together: shapes " + \
        " and ".join(str(list(s)) for s in shapes)
    if len(shapes) >= 2:
        a, b = shapes[0], shapes[1]
        n = max(len(a), len(b))
        pa, pb = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
        for d in range(n - 1, -1, -1):
            if pa[d] != pb[d] and pa[d] != 1 and pb[d] != 1:
                msg = (f"The size of tensor a ({pa[d]}) must match the size of tensor b "
                       f"({pb[d]}) at non-singleton dimension {d} (in {cls._name}: shapes "
                       f"{list(a)} and {list(b)})")
                break
    return RuntimeError(msg)


def _edge(t):
    if t._base is not None and t._view_ver != t._vc[0]:
        t._refresh_view()  # a view whose base changed in place since its graph was built
    if t.grad_fn is not None:
        return (t.grad_fn, t._out_nr)
    if t.requires_grad:
        return (t._accumulator(), 0)
    return (None, 0)


def _wrap_multi(node, outs, inputs, record):
    outs = tuple(np.asarray(o) if isinstance(o, _generic) else o for o in outs)
    if _META_SEEN:
        outs = tuple(_meta_result(inputs, o) if type(o) is _ndarray else o for o in outs)
    node._n_outputs = len(outs)
    if not record:
        return tuple(_Tensor._make(o, False, None, 0) for o in outs)
    node.next_functions = tuple([_edge(t) for t in inputs])
    if _Anomaly.enabled:
        record_forward_trace(node)
    si = node.save_inputs
    if si:
        saved = tuple([inputs[i] for i in si])
        node._saved = saved
        node._saved_versions = tuple([t._vc[0] for t in saved])
        if _SavedHooks.stack:
            node._pack_saved()
    res = []
    for i, o in enumerate(outs):
        diff = o.dtype.kind in "fcV"
        res.append(_Tensor._make(o, diff, node if diff else None, i))
    node._out_meta = tuple((o.shape, o.dtype) for o in outs)
    return tuple(res)


# True once a meta array has been made (set by ember._meta): from then on an op whose
# forward ran on a meta input's zero-stride stand-in and returned a plain array has its
# result turned into a meta array of the same shape and dtype (ops whose numpy code makes
# new arrays without numpy's dispatch seeing the meta input)
_META_SEEN = False


def _meta_result(inputs, out):
    for t in inputs:
        if type(t._data) is not _ndarray and getattr(t._data, "_ember_meta", False):
            from .._meta import meta_array

            return meta_array(out.shape, out.dtype)
    return out


_Tensor = None  # set by ember._tensor once the class exists


def _bind_tensor(cls) -> None:
    global _Tensor
    _Tensor = cls
