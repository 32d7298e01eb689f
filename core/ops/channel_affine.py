"""``x * scale + shift`` per channel of (N, C, *) input: evaluation-mode batch norm as one op.

As two ops (a multiply, then an add) this reads and writes the whole activation twice. Here
each cache-sized block of (sample, channel) planes (``ops._channel_blocks``: whole samples
where they are small) is scaled and shifted while it is in cache, and the blocks are split
over ember's intra-op threads. The result has the input's
dtype (as PyTorch's batch norm, whose parameters may be of a wider float type).
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ._channel_blocks import ChannelBlocks
from .op import Op, xp_of

__all__ = ["channel_affine"]


class ChannelAffine(Op):
    """``x * scale[c] + shift[c]`` over the channel dim (1) of ``x``."""

    _name = "channel_affine"
    opmath = True
    save_inputs = (0, 1)

    def forward(self, x, scale, shift):
        xp = xp_of(x)
        n, c = x.shape[:2]
        if xp is not np or not x.flags.c_contiguous or x.dtype.kind != "f" or x.size == 0 or \
                scale.dtype != x.dtype or shift.dtype != x.dtype:
            shape = (1, c) + (1,) * (x.ndim - 2)
            y = x * scale.reshape(shape)
            y += shift.reshape(shape).astype(y.dtype, copy=False)
            return y.astype(x.dtype, copy=False)
        planes = x.reshape(n * c, -1)  # (N*C, L)
        out = np.empty(planes.shape, x.dtype)
        blocks = ChannelBlocks(n, c, max(1, planes.shape[1]))
        s, t = blocks.per_channel(scale), blocks.per_channel(shift)

        def part(lo, hi):
            o = blocks.block(out, lo, hi)
            np.multiply(blocks.block(planes, lo, hi), blocks.at(s, lo, hi), out=o)
            o += blocks.at(t, lo, hi)

        blocks.walk(part)
        return out.reshape(x.shape)

    def backward(self, g):
        x, scale = self.saved_tensors
        nf = self.next_functions
        shape = (1, -1) + (1,) * (x.ndim - 2)
        dims = (0,) + tuple(range(2, x.ndim))
        gx = g * scale.reshape(shape) if nf[0][0] is not None else None
        gs = (g * x).sum(dim=dims).to(scale.dtype) if nf[1][0] is not None else None
        gt = g.sum(dim=dims).to(scale.dtype) if nf[2][0] is not None else None
        if gx is not None and gx.dtype != x.dtype:
            gx = gx.to(x.dtype)
        return gx, gs, gt


def channel_affine(input: Tensor, scale: Tensor, shift: Tensor) -> Tensor:
    """``input * scale + shift`` with (C,) ``scale`` and ``shift`` over dim 1 of (N, C, *)
    ``input``; the result has ``input``'s dtype."""
    return ChannelAffine.apply(input, scale, shift)
