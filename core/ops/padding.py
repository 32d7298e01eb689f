"""Padding ops: constant padding (negative amounts crop), and reflect / replicate /
circular padding as index maps along each padded dim.

``pads`` hold one (before, after) pair per dim, for the LAST dims of the input (the first
pair belongs to the first padded dim), already converted from ``F.pad``'s reversed order.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from .op import Op, xp_of

__all__ = ["constant_pad", "index_pad"]


class ConstantPad(Op):
    _name = "constant_pad_nd"

    def forward(self, x):
        xp = xp_of(x)
        lead = x.ndim - len(self.pads)
        crop = [slice(None)] * lead
        for n, (lo, hi) in zip(x.shape[lead:], self.pads):
            crop.append(slice(max(-lo, 0), n - max(-hi, 0)))
        xc = x[tuple(crop)]
        shape = xc.shape[:lead] + tuple(n + max(lo, 0) + max(hi, 0) for n, (lo, hi) in
                                        zip(xc.shape[lead:], self.pads))
        if any(n - max(-lo, 0) - max(-hi, 0) < 0 for n, (lo, hi) in
               zip(x.shape[lead:], self.pads)):  # cropping more than there is
            raise RuntimeError(f"The input size {tuple(x.shape[lead:])}, plus negative padding "
                               f"{self.pads} resulted in a negative output size, which is "
                               "invalid. Check dimension of your input.")
        value = self.value
        out = xp.full(shape, value, dtype=x.dtype) if value != 0 else \
            xp.zeros(shape, dtype=x.dtype)
        place = [slice(None)] * lead + [slice(max(lo, 0), max(lo, 0) + n) for n, (lo, _) in
                                        zip(xc.shape[lead:], self.pads)]
        out[tuple(place)] = xc
        return out

    def backward(self, g):
        return ConstantPad.apply(g, pads=tuple((-lo, -hi) for lo, hi in self.pads), value=0)


def constant_pad(input: Tensor, pads, value=0) -> Tensor:
    """Pads (or, with negative amounts, crops) the last ``len(pads)`` dims with ``value``."""
    return ConstantPad.apply(input, pads=tuple(tuple(p) for p in pads), value=value)


def _index_map(n: int, lo: int, hi: int, mode: str):
    p = np.arange(-lo, n + hi)
    if mode == "reflect":
        if n == 1:
            return np.zeros_like(p)
        period = 2 * (n - 1)
        q = np.mod(p, period)
        return np.where(q >= n, period - q, q)
    if mode == "replicate":
        return np.clip(p, 0, n - 1)
    if mode == "circular":
        # as PyTorch: negative amounts crop first, then the cropped part wraps around
        start = max(-lo, 0)
        m = n - start - max(-hi, 0)
        return np.mod(np.arange(-max(lo, 0), m + max(hi, 0)), max(m, 1)) + start
    raise ValueError(f"Unrecognised padding mode {mode}")


def index_pad(input: Tensor, pads, mode: str) -> Tensor:
    """Reflect / replicate / circular padding of the last ``len(pads)`` dims."""
    lead = input.ndim - len(pads)
    out = input
    for i, (lo, hi) in enumerate(pads):
        if lo == 0 and hi == 0:
            continue
        dim = lead + i
        n = input.shape[dim]
        if mode == "reflect" and (lo >= n or hi >= n):
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding "
                               f"input dimension, but got: padding ({lo}, {hi}) at dimension "
                               f"{dim} of input {list(input.shape)}")
        if mode == "circular" and (lo > n or hi > n):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if mode == "circular" and n + lo + hi < 0:
            raise RuntimeError("Negative padding value is resulting in an empty dimension.")
        if mode != "circular" and n + lo + hi < 1:
            raise RuntimeError(f"input (dim {dim}: {n}) is too small. Calculated output size: "
                               f"{n + lo + hi}")
        idx = _index_map(n, lo, hi, mode)
        out = out.index_select(dim, Tensor._make(xp_of(input._data).asarray(idx)))
    return out
