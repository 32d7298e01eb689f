"""Window functions for spectral analysis: ``hann_window``, ``hamming_window``,
``blackman_window``, ``bartlett_window`` and ``kaiser_window``, as in PyTorch.

A periodic window (the default) of length ``N`` is the symmetric window of length ``N + 1``
without its last sample (the one to use with ``stft``). Lengths 0 and 1 give ``[]`` and
``[1.]``. Hann and Hamming windows follow PyTorch's float32 arithmetic (their cosine
correctly rounded); the others are computed in float64 and rounded once to ``dtype`` (the
default float dtype unless given), which must be floating.
"""

from __future__ import annotations

import math

from . import _dtype
from ._tensor import Tensor

__all__ = ["hann_window", "hamming_window", "blackman_window", "bartlett_window",
           "kaiser_window"]


def _positions(name: str, window_length: int, periodic: bool, dtype, device):
    """(n, positions 0..n-1 as float64 on ``device``, target dtype), or a finished tensor
    for lengths 0 and 1."""
    from ._creation import arange, ones, zeros

    d = _dtype.get_default_dtype() if dtype is None else _dtype.to_dtype(dtype)
    if d.is_complex:
        raise NotImplementedError(f"{name}: complex dtypes are not supported, got {d}")
    if not d.is_floating_point:
        raise RuntimeError(f"{name} expects floating point dtypes, got: {d}")
    if isinstance(window_length, bool) or not isinstance(window_length, int):
        raise TypeError(f"{name}(): argument 'window_length' must be int, not "
                        f"{type(window_length).__name__}")
    if window_length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got "
                           f"window_length={window_length}")
    if window_length == 0:
        return zeros(0, dtype=d, device=device)
    if window_length == 1:
        return ones(1, dtype=d, device=device)
    n = window_length + 1 if periodic else window_length
    return n, arange(n, dtype=_dtype.float64, device=device), d


def _cosine_term(k: Tensor, n: int, d, scale: float) -> Tensor:
    """``cos(scale * k)`` as PyTorch gets it: the argument computed in ``d``'s precision
    (float32 for float32 and the half types), the cosine correctly rounded to it. PyTorch's
    vectorized float32 cosine may still differ from this in the last bit."""
    work = _dtype.float64 if d == _dtype.float64 else _dtype.float32
    arg = k.to(work) * scale
    return arg.double().cos().to(work)


def _target(dtype):
    return _dtype.get_default_dtype() if dtype is None else _dtype.to_dtype(dtype)


def _finish(w: Tensor, n: int, periodic: bool, d, requires_grad: bool) -> Tensor:
    if periodic:
        w = w[: n - 1]
    w = w.to(d).contiguous().detach()
    return w.requires_grad_(True) if requires_grad else w


def _window(name: str, window_length, periodic, dtype, device, requires_grad, samples):
    start = _positions(name, window_length, periodic, dtype, device)
    if isinstance(start, Tensor):
        return start.requires_grad_(True) if requires_grad else start
    n, k, d = start
    return _finish(samples(n, k), n, periodic, d, requires_grad)


def hamming_window(window_length: int, periodic: bool = True, alpha: float = 0.54,
                   beta: float = 0.46, *, dtype=None, layout=None, device=None,
                   pin_memory: bool = False, requires_grad: bool = False) -> Tensor:
    """The generalized Hamming window ``alpha - beta * cos(2 pi k / (N - 1))``."""
    return _window("hamming_window", window_length, periodic, dtype, device, requires_grad,
                   lambda n, k: _cosine_term(k, n, _target(dtype), 2 * math.pi / (n - 1))
                   * -beta + alpha)


def hann_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None,
                device=None, pin_memory: bool = False, requires_grad: bool = False) -> Tensor:
    """The Hann window ``0.5 - 0.5 cos(2 pi k / (N - 1))``."""
    return _window("hann_window", window_length, periodic, dtype, device, requires_grad,
                   lambda n, k: _cosine_term(k, n, _target(dtype), 2 * math.pi / (n - 1))
                   * -0.5 + 0.5)


def blackman_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None,
                    device=None, pin_memory: bool = False,
                    requires_grad: bool = False) -> Tensor:
    """The Blackman window ``0.42 - 0.5 cos(2 pi k / (N - 1)) + 0.08 cos(4 pi k / (N - 1))``."""
    def samples(n, k):
        t = k * (math.pi / (n - 1))
        return (t * 4).cos() * 0.08 - (t * 2).cos() * 0.5 + 0.42
    return _window("blackman_window", window_length, periodic, dtype, device, requires_grad,
                   samples)


def bartlett_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None,
                    device=None, pin_memory: bool = False,
                    requires_grad: bool = False) -> Tensor:
    """The triangular Bartlett window ``1 - |2k / (N - 1) - 1|``."""
    return _window("bartlett_window", window_length, periodic, dtype, device, requires_grad,
                   lambda n, k: 1 - (k * (2 / (n - 1)) - 1).abs())


def kaiser_window(window_length: int, periodic: bool = True, beta: float = 12.0, *,
                  dtype=None, layout=None, device=None, pin_memory: bool = False,
                  requires_grad: bool = False) -> Tensor:
    """The Kaiser window ``I0(beta sqrt(1 - ((k - a) / a) ** 2)) / I0(beta)``, with
    ``a = (N - 1) / 2`` and ``I0`` the modified Bessel function of order 0."""
    from .ops.special import i0

    def samples(n, k):
        a = (n - 1) / 2
        r = (1 - ((k - a) / a) ** 2).abs().sqrt()
        return i0(r * float(beta)) / i0(k.new_full((), float(beta)))
    return _window("kaiser_window", window_length, periodic, dtype, device, requires_grad,
                   samples)
