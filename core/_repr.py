"""``repr(tensor)`` in PyTorch's style: ``tensor([1.5000, 2.0000], requires_grad=True)``.

The layout follows PyTorch's ``torch/_tensor_str.py`` rule for rule: one formatter per tensor
(integer mode, fixed or scientific notation, chosen from the nonzero finite values of the
printed elements), every element right-aligned to the formatter's width, lines wrapped at
``linewidth``, and large tensors summarised to ``edgeitems`` on each side.
"""

from __future__ import annotations

import math

import numpy as np

from . import _dtype

__all__ = ["tensor_repr", "set_printoptions"]

_DEFAULTS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80,
             "sci_mode": None}
_opts = dict(_DEFAULTS)


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None) -> None:
    """Print options for tensors, as ``torch.set_printoptions``."""
    if profile == "default":
        _opts.update(precision=4, threshold=1000, edgeitems=3, linewidth=80)
    elif profile == "short":
        _opts.update(precision=2, threshold=1000, edgeitems=2, linewidth=80)
    elif profile == "full":
        _opts.update(precision=4, threshold=math.inf, edgeitems=3, linewidth=80)
    for k, v in (("precision", precision), ("threshold", threshold),
                 ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if v is not None:
            _opts[k] = v
    _opts["sci_mode"] = sci_mode


class _Formatter:
    """Chooses one number format for all printed elements (PyTorch's ``_Formatter``)."""

    def __init__(self, arr: np.ndarray):
        self.floating = arr.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        p = _opts["precision"]
        flat = arr.reshape(-1)
        if not self.floating:
            for v in flat.tolist():
                self.max_width = max(self.max_width, len(_plain(v)))
        else:
            vals = flat[np.isfinite(flat) & (flat != 0)].astype(np.float64)
            if vals.size:
                absv = np.abs(vals)
                lo, hi = float(absv.min()), float(absv.max())
                self.int_mode = bool(np.all(vals == np.ceil(vals)))
                # a forced sci_mode also sets the widths (PyTorch's order)
                self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4 \
                    if _opts["sci_mode"] is None else _opts["sci_mode"]
                if self.sci_mode:
                    strs = [f"{v:.{p}e}" for v in vals.tolist()]
                elif self.int_mode:
                    strs = [f"{v:.0f}" + " " for v in vals.tolist()]
                else:
                    strs = [f"{v:.{p}f}" for v in vals.tolist()]
                self.max_width = max(len(s) for s in strs)

    def format(self, value) -> str:
        p = _opts["precision"]
        if self.floating:
            if self.sci_mode:
                ret = f"{value:{self.max_width}.{p}e}"
            elif self.int_mode:
                ret = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    ret += "."
            else:
                ret = f"{value:.{p}f}"
        else:
            ret = _plain(value)
        return (self.max_width - len(ret)) * " " + ret


def _plain(v) -> str:
    return str(v)


def _summarized(arr: np.ndarray) -> np.ndarray:
    """The elements that a summarised print shows (PyTorch's ``get_summarized_data``)."""
    e = _opts["edgeitems"]
    if arr.ndim == 0:
        return arr
    if arr.ndim == 1:
        return np.concatenate([arr[:e], arr[-e:]]) if arr.shape[0] > 2 * e else arr
    if not e:
        return arr.reshape((0,) * arr.ndim)
    rows = list(range(e)) + list(range(len(arr) - e, len(arr))) if arr.shape[0] > 2 * e \
        else range(arr.shape[0])
    return np.stack([_summarized(arr[i]) for i in rows])


def _val_str(v, f1: _Formatter, f2: _Formatter | None) -> str:
    if f2 is None:
        return f1.format(v)
    real = f1.format(v.real)
    imag = (f2.format(v.imag) + "j").lstrip()
    return real + imag if imag[0] in "+-" else real + "+" + imag


def _vector_str(arr, indent: int, summarize: bool, f1, f2) -> str:
    e = _opts["edgeitems"]
    width = f1.max_width + 2
    if f2 is not None:
        width += f2.max_width + 1
    per_line = max(1, int(math.floor((_opts["linewidth"] - indent) / width)))
    vals = arr.tolist()
    if summarize and not e:
        data = ["..."]
    elif summarize and arr.shape[0] > 2 * e:
        data = ([_val_str(v, f1, f2) for v in vals[:e]] + [" ..."] +
                [_val_str(v, f1, f2) for v in vals[-e:]])
    else:
        data = [_val_str(v, f1, f2) for v in vals]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _tensor_str(arr, indent: int, summarize: bool, f1, f2) -> str:
    if arr.ndim == 0:
        return _val_str(arr.item(), f1, f2)
    if arr.ndim == 1:
        return _vector_str(arr, indent, summarize, f1, f2)
    e = _opts["edgeitems"]
    if summarize and arr.shape[0] > 2 * e:
        rows = ([_tensor_str(arr[i], indent + 1, summarize, f1, f2) for i in range(e)] +
                ["..."] +
                [_tensor_str(arr[i], indent + 1, summarize, f1, f2)
                 for i in range(len(arr) - e, len(arr))])
    else:
        rows = [_tensor_str(arr[i], indent + 1, summarize, f1, f2)
                for i in range(arr.shape[0])]
    return "[" + ("," + "\n" * (arr.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def _body(arr: np.ndarray, indent: int) -> str:
    if arr.size == 0:
        return "[]"
    summarize = arr.size > _opts["threshold"]
    if arr.dtype.kind == "f" and arr.dtype.itemsize < 4 or arr.dtype.kind == "V":
        arr = arr.astype(np.float32)
    shown = _summarized(arr) if summarize else arr
    if arr.dtype.kind == "c":
        f1, f2 = _Formatter(shown.real), _Formatter(shown.imag)
    else:
        f1, f2 = _Formatter(shown), None
    return _tensor_str(arr, indent, summarize, f1, f2)


def tensor_repr(t) -> str:
    """The PyTorch-style representation of a tensor (a meta tensor shows its size instead of
    its values: ``tensor(..., device='meta', size=(2, 3))``)."""
    if t.is_meta:
        return _meta_repr(t)
    arr = t.__array__()
    d = t.dtype
    if d is _dtype.bfloat16:
        arr = arr.astype(np.float32)
    prefix = "Parameter containing:\ntensor(" if type(t).__name__ == "Parameter" \
        else "tensor("
    indent = len("tensor(")
    suffix = []
    if t.device.type != "cpu":
        suffix.append(f"device='{t.device}'")
    default = _dtype.get_default_dtype()
    show_dtype = d not in (default, default.to_complex(), _dtype.int64, _dtype.bool)
    if arr.size == 0:
        if arr.ndim != 1:
            suffix.append(f"size={tuple(arr.shape)}")
        show_dtype = d is not default
    if show_dtype:
        suffix.append(f"dtype={d!r}")
    if t.grad_fn is not None:
        suffix.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffix.append("requires_grad=True")
    return _add_suffixes(prefix + _body(arr, indent), suffix, indent)


def _meta_repr(t) -> str:
    prefix = "Parameter containing:\ntensor(" if type(t).__name__ == "Parameter" \
        else "tensor("
    suffix = ["device='meta'", f"size={tuple(t.shape)}"]
    if t.dtype is not _dtype.get_default_dtype():
        suffix.append(f"dtype={t.dtype!r}")
    if t.grad_fn is not None:
        suffix.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffix.append("requires_grad=True")
    return _add_suffixes(prefix + "...", suffix, len("tensor("))


def _add_suffixes(text: str, suffixes, indent: int) -> str:
    """Appends ``, suffix`` items, starting a new indented line for one that would run past
    the line width (PyTorch's rule, counting the last line as PyTorch does)."""
    parts = [text]
    last = len(text) - text.rfind("\n") + 1
    for s in suffixes:
        if last + len(s) + 2 > _opts["linewidth"]:
            parts.append(",\n" + " " * indent + s)
            last = indent + len(s)
        else:
            parts.append(", " + s)
            last += len(s) + 2
    return "".join(parts) + ")"
