"""``torch.signal.windows``: SciPy-style window functions of length ``M``.

``sym=True`` (the default) gives the symmetric window (for filter design); ``sym=False`` the
periodic one (for spectral analysis): the symmetric window of length ``M + 1`` without its
last sample. Values are computed in float64 on the host and rounded once to ``dtype`` (the
default float dtype unless given; float32 or float64). Lengths 0 and 1 give ``[]`` and
``[1.]``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from .. import _dtype
from .._tensor import Tensor

__all__ = ["bartlett", "blackman", "cosine", "exponential", "gaussian", "general_cosine",
           "general_hamming", "hamming", "hann", "kaiser", "nuttall"]

_NUTTALL = (0.3635819, 0.4891775, 0.1365995, 0.0106411)
_BLACKMAN = (0.42, 0.5, 0.08)


def _check(name: str, M, dtype) -> _dtype.dtype:
    d = _dtype.get_default_dtype() if dtype is None else _dtype.to_dtype(dtype)
    if d not in (_dtype.float32, _dtype.float64):
        raise ValueError(f"{name} expects float32 or float64 dtypes, got: {d}")
    if isinstance(M, bool) or not isinstance(M, int):
        raise TypeError(f"{name}(): argument 'M' must be int, not {type(M).__name__}")
    if M < 0:
        raise ValueError(f"{name} requires non-negative window length, got M={M}")
    return d


def _finish(values: np.ndarray, d, device, requires_grad: bool) -> Tensor:
    from .._creation import tensor

    return tensor(values.astype(d.np), dtype=d, device=device, requires_grad=requires_grad)


def _window(name: str, M: int, sym: bool, dtype, device, requires_grad: bool, fn) -> Tensor:
    """``fn(n, L)`` evaluated on positions ``n = 0..L-1`` of the symmetric window of length
    ``L`` (``M``, or ``M + 1`` for a periodic window, whose last sample is dropped)."""
    d = _check(name, M, dtype)
    if M <= 1:
        return _finish(np.ones(M), d, device, requires_grad)
    length = M if sym else M + 1
    values = fn(np.arange(length, dtype=np.float64), length)[:M]
    return _finish(values, d, device, requires_grad)


def general_cosine(M, *, a: Iterable, sym: bool = True, dtype=None, layout=None, device=None,
                   requires_grad: bool = False) -> Tensor:
    """``sum_k (-1)**k a[k] cos(2 pi k n / (L - 1))``."""
    if not isinstance(a, (list, tuple)):
        raise TypeError("Coefficients must be a list/tuple")
    if not a:
        raise ValueError("Coefficients cannot be empty")
    coeffs = [float(c) for c in a]

    def fn(n, length):
        phase = 2 * math.pi * n / (length - 1)
        return sum((-1) ** k * c * np.cos(k * phase) for k, c in enumerate(coeffs))

    return _window("general_cosine", M, sym, dtype, device, requires_grad, fn)


def general_hamming(M, *, alpha: float = 0.54, sym: bool = True, dtype=None, layout=None,
                    device=None, requires_grad: bool = False) -> Tensor:
    """``alpha - (1 - alpha) cos(2 pi n / (L - 1))``."""
    return general_cosine(M, a=[alpha, 1.0 - alpha], sym=sym, dtype=dtype, device=device,
                          requires_grad=requires_grad)


def hamming(M: int, *, sym: bool = True, dtype=None, layout=None, device=None,
            requires_grad: bool = False) -> Tensor:
    """The Hamming window (``general_hamming`` with alpha 0.54)."""
    return general_hamming(M, alpha=0.54, sym=sym, dtype=dtype, device=device,
                           requires_grad=requires_grad)


def hann(M: int, *, sym: bool = True, dtype=None, layout=None, device=None,
         requires_grad: bool = False) -> Tensor:
    """The Hann window (``general_hamming`` with alpha 0.5)."""
    return general_hamming(M, alpha=0.5, sym=sym, dtype=dtype, device=device,
                           requires_grad=requires_grad)


def blackman(M: int, *, sym: bool = True, dtype=None, layout=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """The Blackman window (``general_cosine`` with a = 0.42, 0.5, 0.08)."""
    return general_cosine(M, a=list(_BLACKMAN), sym=sym, dtype=dtype, device=device,
                          requires_grad=requires_grad)


def nuttall(M: int, *, sym: bool = True, dtype=None, layout=None, device=None,
            requires_grad: bool = False) -> Tensor:
    """The minimum 4-term Blackman-Harris window of Nuttall."""
    return general_cosine(M, a=list(_NUTTALL), sym=sym, dtype=dtype, device=device,
                          requires_grad=requires_grad)


def bartlett(M: int, *, sym: bool = True, dtype=None, layout=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """The triangular window ``1 - |2n / (L - 1) - 1|``."""
    return _window("bartlett", M, sym, dtype, device, requires_grad,
                   lambda n, length: 1.0 - np.abs(2.0 * n / (length - 1) - 1.0))


def cosine(M: int, *, sym: bool = True, dtype=None, layout=None, device=None,
           requires_grad: bool = False) -> Tensor:
    """The cosine (sine) window ``sin(pi (n + 1/2) / L)``."""
    return _window("cosine", M, sym, dtype, device, requires_grad,
                   lambda n, length: np.sin(math.pi * (n + 0.5) / length))


def exponential(M: int, *, center: float | None = None, tau: float = 1.0, sym: bool = True,
                dtype=None, layout=None, device=None, requires_grad: bool = False) -> Tensor:
    """``exp(-|n - center| / tau)``; ``center`` defaults to the window's middle and must be
    None for a symmetric window."""
    if sym and center is not None:
        raise ValueError("Center must be None for symmetric windows")
    if tau <= 0:
        raise ValueError(f"Tau must be positive, got: {tau} instead.")

    def fn(n, length):
        c = (length - 1) / 2 if center is None else center
        return np.exp(-np.abs(n - c) / tau)

    return _window("exponential", M, sym, dtype, device, requires_grad, fn)


def gaussian(M: int, *, std: float = 1.0, sym: bool = True, dtype=None, layout=None,
             device=None, requires_grad: bool = False) -> Tensor:
    """``exp(-((n - (L - 1) / 2) / std)**2 / 2)``."""
    if std <= 0:
        raise ValueError(f"Standard deviation must be positive, got: {std} instead.")
    return _window("gaussian", M, sym, dtype, device, requires_grad,
                   lambda n, length: np.exp(-0.5 * ((n - (length - 1) / 2) / std) ** 2))


def kaiser(M: int, *, beta: float = 12.0, sym: bool = True, dtype=None, layout=None,
           device=None, requires_grad: bool = False) -> Tensor:
    """``I0(beta sqrt(1 - (2n / (L - 1) - 1)**2)) / I0(beta)``."""
    if beta < 0:
        raise ValueError(f"beta must be non-negative, got: {beta} instead.")
    return _window("kaiser", M, sym, dtype, device, requires_grad,
                   lambda n, length: np.i0(beta * np.sqrt(np.clip(
                       1.0 - (2.0 * n / (length - 1) - 1.0) ** 2, 0.0, None))) / np.i0(beta))
