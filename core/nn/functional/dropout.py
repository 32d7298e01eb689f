"""Dropout functions of ``ember.nn.functional``: dropout, dropout1d/2d/3d (whole
channels), alpha_dropout and feature_alpha_dropout. Masks are drawn from ember's generator
of the input's device."""

from __future__ import annotations

import numpy as np

from ... import _random
from ..._tensor import Tensor

__all__ = ["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
           "feature_alpha_dropout"]

_ALPHA = 1.7580993408473766


def _check_p(p: float) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _keep_mask(input: Tensor, shape, p: float):
    """A float array of the input's dtype: 1 where kept (probability 1 - p), 0 elsewhere;
    as PyTorch's CPU ``bernoulli_(1 - p)``: a double uniform below 1 - p."""
    rng = _random.generator_for(input.device)
    order = _random.memory_order(input._data) if tuple(shape) == tuple(input.shape) else None
    u = _random.in_memory_order(lambda s: rng.random(s, dtype=np.float64), shape, order)
    return (u < 1 - p).astype(input._data.dtype)


def _apply(input: Tensor, noise, b, inplace: bool) -> Tensor:
    out = input * Tensor._make(noise)
    if b is not None:
        out = out + Tensor._make(b)
    if inplace:
        return input.copy_(out)
    return out


def _dropout(input: Tensor, p: float, training: bool, inplace: bool, shape, alpha: bool
             ) -> Tensor:
    _check_p(p)
    if not training or p == 0:
        return input
    if p == 1 and not alpha:
        return input.mul_(0) if inplace else input * 0
    keep = _keep_mask(input, shape, p)
    if alpha:
        if p == 1:
            a = 0.0
        else:
            a = 1.0 / ((_ALPHA * _ALPHA * p + 1) * (1 - p)) ** 0.5
        b = (keep - 1) * (_ALPHA * a) + _ALPHA * a * p
        return _apply(input, keep * a, b.astype(keep.dtype), inplace)
    keep /= keep.dtype.type(1 - p)  # PyTorch's noise.div_(1 - p), in the input's dtype
    return _apply(input, keep, None, inplace)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False
            ) -> Tensor:
    """Zeroes each element with probability ``p`` and scales the rest by ``1 / (1 - p)``
    (in training only)."""
    return _dropout(input, p, training, inplace, tuple(input.shape), False)


def _feature_shape(input: Tensor, nd: int, name: str):
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{name}: Expected {nd + 1}D or {nd + 2}D input, but received a "
                           f"{input.ndim}D input.")
    lead = 1 if input.ndim == nd + 1 else 2
    return tuple(input.shape[:lead]) + (1,) * (input.ndim - lead)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False
              ) -> Tensor:
    """Zeroes whole channels of (N, C, L) input with probability ``p``."""
    return _dropout(input, p, training, inplace, _feature_shape(input, 1, "dropout1d"), False)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False
              ) -> Tensor:
    """Zeroes whole channels of (N, C, H, W) input with probability ``p``."""
    import warnings

    if input.ndim not in (3, 4):
        warnings.warn(f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is "
                      "deprecated and will result in an error in a future release.",
                      stacklevel=2)
    if input.ndim == 3:  # as PyTorch: (N, C, L), channel-wise 1-D dropout
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that "
                      "channel-wise 1D dropout behavior is desired - input is interpreted as "
                      "shape (N, C, L), where C is the channel dim. This behavior will change "
                      "in a future release to interpret the input as one without a batch "
                      "dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise "
                      "dropout behavior, please switch to using dropout1d instead.",
                      stacklevel=2)
    lead = 2
    shape = tuple(input.shape[:lead]) + (1,) * (input.ndim - lead)
    return _dropout(input, p, training, inplace, shape, False)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False
              ) -> Tensor:
    """Zeroes whole channels of (N, C, D, H, W) input with probability ``p``."""
    return _dropout(input, p, training, inplace, _feature_shape(input, 3, "dropout3d"), False)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                  inplace: bool = False) -> Tensor:
    """Dropout that keeps SELU's self-normalizing mean and variance."""
    return _dropout(input, p, training, inplace, tuple(input.shape), True)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                          inplace: bool = False) -> Tensor:
    """Alpha dropout of whole channels."""
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    return _dropout(input, p, training, inplace, shape, True)
