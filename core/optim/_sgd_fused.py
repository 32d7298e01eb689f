"""SGD's update for one dense parameter as one pass over cache-sized chunks, split over
ember's intra-op threads: weight decay, momentum and the step in place on the arrays.

Op by op (``grad.add(param, alpha=wd)``, ``buf.mul_(m).add_(grad)``, ``param.add_(buf,
alpha=-lr)``) the update reads and writes the whole parameter, gradient and buffer ~8 times
on one thread: 37 ms a step for ResNet-18's 11.7M parameters on the 2-core machine, against
PyTorch's 12. Here each chunk stays in cache through the same arithmetic, in the same order
and with the same roundings (each product rounded, then added).
"""

from __future__ import annotations

import numpy as np

from .._array_flags import writeable
from .._tensor import Tensor
from ..ops._parallel import CHUNK, run_parts

__all__ = ["usable", "update"]

_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
THREADED_MIN = 1 << 18  # values: a part split off to a thread has at least this many, so
# smaller parameters (the MLP's 784x512) stay on the calling thread: a hand-off costs more
# than it saves right after the backward's products, whose OpenMP threads still spin
# (mlp_train 1.46x torch with every parameter split, 1.38x so)


def usable(param: Tensor, grad, buf) -> bool:
    """Whether ``param``, its gradient and momentum buffer (or None) are C-contiguous numpy
    float32/float64 arrays of one shape and dtype, the parameter's and buffer's writeable."""
    p = param._data
    if type(grad) is not Tensor or type(p) is not np.ndarray or p.dtype not in _DTYPES or \
            not p.flags.c_contiguous or not writeable(p):
        return False
    for t in (grad, buf):
        if t is not None:
            a = t._data
            if type(a) is not np.ndarray or a.dtype != p.dtype or a.shape != p.shape or \
                    not a.flags.c_contiguous:
                return False
    return buf is None or writeable(buf._data)


def update(param: Tensor, grad: Tensor, buf, *, weight_decay: float, momentum: float,
           lr: float, dampening: float):
    """``param -= lr * b`` with ``g = grad + weight_decay * param`` and ``b = g`` (no
    momentum), ``b = g`` (first step: returned as the new buffer) or ``b = momentum * buf +
    (1 - dampening) * g``; returns the momentum buffer (None without momentum)."""
    p, g = param._data.reshape(-1), grad._data.reshape(-1)
    first = momentum != 0 and buf is None
    new = Tensor._make(np.empty_like(param._data)) if first else buf
    b = None if momentum == 0 else new._data.reshape(-1)
    dt = p.dtype.type
    wd, m, lr_, keep = dt(weight_decay), dt(momentum), dt(lr), dt(1 - dampening)

    def part(lo, hi):
        ps, gs = p[lo:hi], g[lo:hi]
        if weight_decay != 0:
            t = ps * wd
            t += gs
        else:
            t = gs  # (not ours: only read)
        if b is not None:
            bs = b[lo:hi]
            if first:
                bs[...] = t
            else:
                bs *= m
                if dampening != 0:
                    t = t * keep
                bs += t
            t = bs * lr_
        elif weight_decay != 0:
            t *= lr_
        else:
            t = gs * lr_
        ps -= t

    run_parts(part, p.size, min_part=THREADED_MIN, chunk=CHUNK // 4)  # (4 arrays in L2)
    param._vc[0] += 1
    if b is not None and not first:
        new._vc[0] += 1
    return new if momentum != 0 else None
