"""``repr(tensor)`` in PyTorch's style: ``tensor([1.5000, 2.0000], requires_grad=True)``."""

from __future__ import annotations

import numpy as np

from . import _dtype

__all__ = ["tensor_repr", "set_printoptions"]

_opts = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None) -> None:
    """Print options for tensors, as ``torch.set_printoptions``."""
    if profile == "default":
        _opts.update(precision=4, threshold=1000, edgeitems=3, linewidth=80)
    elif profile == "short":
        _opts.update(precision=2, threshold=1000, edgeitems=2, linewidth=80)
    elif profile == "full":
        _opts.update(precision=4, threshold=float("inf"), edgeitems=3, linewidth=80)
    for k, v in (("precision", precision), ("threshold", threshold),
                 ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if v is not None:
            _opts[k] = v
    _opts["sci_mode"] = sci_mode


def _float_formatter(arr: np.ndarray):
    p = _opts["precision"]
    finite = np.abs(arr[np.isfinite(arr)].astype(np.float64))
    if finite.size == 0 or np.all(finite == np.round(finite)):
        sci = finite.size and finite.max() > 1e8
        if not sci:
            return lambda v: (f"{v:.0f}." if np.isfinite(v) else str(v).replace("inf", "inf"))
        return lambda v: f"{v:.{p}e}"
    nz = finite[finite != 0]
    sci = _opts["sci_mode"]
    if sci is None:
        sci = nz.size and (nz.max() / nz.min() > 1000.0 or nz.max() > 1e8 or nz.min() < 1e-4)
    if sci:
        return lambda v: f"{v:.{p}e}"
    return lambda v: f"{v:.{p}f}"


def _format_array(arr: np.ndarray, indent: int) -> str:
    kind = arr.dtype.kind
    if kind == "b":
        fmt = lambda v: "True" if v else "False"  # noqa: E731
    elif kind in "iu":
        fmt = str
    elif kind == "c":
        fr = _float_formatter(np.concatenate([arr.real.ravel(), arr.imag.ravel()]))

        def fmt(v):
            im = fr(abs(v.imag))
            return f"{fr(v.real)}{'-' if v.imag < 0 else '+'}{im}j"
    else:
        arr = arr.astype(np.float64) if arr.dtype.kind == "V" or arr.dtype.itemsize < 4 else arr
        fmt = _float_formatter(arr)
    summarize = arr.size > _opts["threshold"]
    strs = [fmt(v) for v in _edge_values(arr, summarize)]
    width = max((len(s) for s in strs), default=0)
    return np.array2string(
        arr, separator=", ", prefix=" " * indent, max_line_width=_opts["linewidth"],
        threshold=0 if summarize else arr.size + 1, edgeitems=_opts["edgeitems"],
        formatter={"all": lambda v: fmt(v).rjust(width)})


def _edge_values(arr: np.ndarray, summarize: bool):
    if not summarize or arr.ndim == 0:
        return arr.ravel()
    e = _opts["edgeitems"]
    sl = tuple(np.r_[0:min(e, n), max(n - e, min(e, n)):n] for n in arr.shape)
    return arr[np.ix_(*sl)].ravel()


def tensor_repr(t) -> str:
    """The PyTorch-style representation of a tensor."""
    arr = t.__array__()
    d = t.dtype
    if d is _dtype.bfloat16:
        arr = arr.astype(np.float32)
    suffix = []
    if t.device.type != "cpu":
        suffix.append(f"device='{t.device}'")
    show_dtype = not (d is _dtype.get_default_dtype() or d is _dtype.int64 or d is _dtype.bool
                      or (d.is_complex and d is _dtype.get_default_dtype().to_complex()))
    if arr.size == 0:
        body = "[]"
        if arr.shape != (0,):
            suffix.insert(0, f"size={tuple(arr.shape)}")
        show_dtype = show_dtype or d is _dtype.int64
    else:
        body = _format_array(arr, len("tensor("))
    if show_dtype:
        suffix.append(f"dtype={d!r}")
    if t.grad_fn is not None:
        suffix.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffix.append("requires_grad=True")
    prefix = "Parameter containing:\ntensor(" if type(t).__name__ == "Parameter" else "tensor("
    return prefix + body + "".join(", " + s for s in suffix) + ")"
