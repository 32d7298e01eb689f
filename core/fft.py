"""``ember.fft``: discrete Fourier transforms, as ``torch.fft``.

Three ops do the work, each over any set of dims in one call of the array module's FFT
(numpy's pocketfft on the CPU, cuFFT through CuPy on the GPU):

- ``FftC2C``: complex to complex, forward or inverse;
- ``FftR2C``: real to one-sided complex (``rfftn``: the last dim keeps ``n // 2 + 1``);
- ``FftC2R``: one-sided complex to real (``irfftn``).

The ``n``/``s`` arguments trim or zero-pad the input before the transform (differentiably),
and ``norm`` is ``"backward"`` (default: no scaling forward, ``1/n`` inverse), ``"ortho"``
(``1/sqrt(n)`` both ways) or ``"forward"`` (``1/n`` forward). Gradients follow PyTorch's
complex convention: the adjoint of a transform is the opposite-direction transform with the
dual normalisation, so every backward is again an FFT op and gradients of any order work.
"""

from __future__ import annotations

import numpy as np

from . import _dtype
from ._tensor import Tensor, _wrap_dim
from .ops.op import Op, xp_of
from .ops.spectral import complex_dtype_of, real, to_complex

__all__ = ["fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2",
           "irfft2", "rfftn", "irfftn", "hfft", "ihfft", "hfft2", "ihfft2", "hfftn", "ihfftn",
           "fftfreq", "rfftfreq", "fftshift", "ifftshift"]

_DUAL = {"backward": "forward", "forward": "backward", "ortho": "ortho"}
_REAL_OF = {np.dtype(np.complex64): np.dtype(np.float32),
            np.dtype(np.complex128): np.dtype(np.float64)}


# -- the ops ----------------------------------------------------------------------------------
class FftC2C(Op):
    """Complex-to-complex DFT over ``dims`` (``fwd``: forward, else inverse)."""

    _name = "fft_c2c"

    def forward(self, x):
        xp = xp_of(x)
        f = xp.fft.fftn if self.fwd else xp.fft.ifftn
        return f(x, axes=self.dims, norm=self.norm).astype(x.dtype, copy=False)

    def backward(self, g):
        return FftC2C.apply(g, dims=self.dims, fwd=not self.fwd, norm=_DUAL[self.norm])


class FftR2C(Op):
    """Real-to-complex DFT over ``dims``; the last of ``dims`` keeps ``n // 2 + 1`` bins."""

    _name = "fft_r2c"

    def forward(self, x):
        xp = xp_of(x)
        self.n = x.shape[self.dims[-1]]
        out = xp.fft.rfftn(x, axes=self.dims, norm=self.norm)
        return out.astype(complex_dtype_of(x.dtype), copy=False)

    def backward(self, g):
        # one-sided r2c = (real as complex) -> c2c -> drop half; so the adjoint zero-fills
        # the dropped half, runs the inverse c2c and keeps the real part
        last = self.dims[-1]
        g = _pad_to(g, last, self.n)
        return real(FftC2C.apply(g, dims=self.dims, fwd=False, norm=_DUAL[self.norm]))


class FftC2R(Op):
    """One-sided complex-to-real inverse DFT over ``dims``; the last dim's output has ``n``
    points (the input holds ``n // 2 + 1``)."""

    _name = "fft_c2r"

    def forward(self, x):
        xp = xp_of(x)
        s = [x.shape[d] for d in self.dims[:-1]] + [self.n]
        out = xp.fft.irfftn(x, s=s, axes=self.dims, norm=self.norm)
        return out.astype(_REAL_OF[x.dtype], copy=False)

    def backward(self, g):
        # c2r = Hermitian completion -> inverse c2c -> real part; the adjoint is an r2c,
        # with the bins whose mirror image lies outside the one-sided range counted twice
        gi = FftR2C.apply(g, dims=self.dims, norm=_DUAL[self.norm])
        last = self.dims[-1]
        m = gi.shape[last]
        double = self.n - m
        if double > 0:
            w = np.ones(m)
            w[1:1 + double] = 2.0
            shape = [1] * gi.ndim
            shape[last] = m
            wt = Tensor._make(xp_of(gi._data).asarray(w.reshape(shape),
                                                      dtype=_REAL_OF[gi._data.dtype]))
            gi = gi * wt
        return gi


# -- argument handling --------------------------------------------------------------------
def _norm(norm) -> str:
    if norm is None:
        return "backward"
    if norm not in _DUAL:
        raise RuntimeError(f'Invalid normalization mode: "{norm}"')
    return norm


def _pad_to(x: Tensor, d: int, size: int) -> Tensor:
    """``x`` trimmed or zero-padded at the end of dim ``d`` to ``size`` (differentiable)."""
    cur = x.shape[d]
    if size == cur:
        return x
    if size < cur:
        return x.narrow(d, 0, size)
    from .ops.shape import cat

    shape = list(x.shape)
    shape[d] = size - cur
    return cat([x, x.new_zeros(tuple(shape))], dim=d)


def _check_n(n: int) -> None:
    if n < 1:
        raise RuntimeError(f"Invalid number of data points ({n}) specified")


def _dims_and_sizes(x: Tensor, s, dim, default_all: bool = True):
    """Resolves ``s``/``dim`` as torch.fft does: the transformed dims and their sizes
    (``None`` sizes mean the input's own)."""
    nd = x.ndim
    if dim is not None:
        dims = [dim] if isinstance(dim, int) else list(dim)
        dims = [_wrap_dim(d, nd) for d in dims]
        if s is not None and len(s) != len(dims):
            raise RuntimeError("When given, dim and shape arguments must have the same length")
    elif s is not None:
        if len(s) > nd:
            raise RuntimeError(f"Got shape with {len(s)} values but input tensor only has {nd} "
                               "dimensions.")
        dims = list(range(nd - len(s), nd))
    else:
        dims = list(range(nd)) if default_all else []
    if len(set(dims)) != len(dims):
        raise RuntimeError("FFT dims must be unique")
    if s is None:
        sizes = [None] * len(dims)
    else:
        sizes = [None if int(v) == -1 else int(v) for v in s]
        for v in sizes:
            if v is not None:
                _check_n(v)
    return dims, sizes


def _check_dtype(x: Tensor) -> Tensor:
    d = x._data.dtype
    if d.kind in "biu":
        from .ops._prep import to_float

        return to_float(x)
    if d == np.float16 or x.dtype is _dtype.bfloat16:
        raise RuntimeError(f"Unsupported dtype {'Half' if d == np.float16 else 'BFloat16'}")
    return x


def _as_complex(x: Tensor) -> Tensor:
    return to_complex(_check_dtype(x))


def _as_real(x: Tensor, name: str) -> Tensor:
    x = _check_dtype(x)
    if x.is_complex():
        got = "ComplexFloat" if x._data.dtype == np.complex64 else "ComplexDouble"
        raise RuntimeError(f"{name} expects a real input tensor, but got {got}")
    return x


def _c2c(input: Tensor, s, dim, norm, fwd: bool, default_all: bool = True) -> Tensor:
    x = _as_complex(input)
    dims, sizes = _dims_and_sizes(x, s, dim, default_all)
    for d, n in zip(dims, sizes):
        if n is not None:
            x = _pad_to(x, d, n)
    if not dims:
        return x
    return FftC2C.apply(x, dims=tuple(dims), fwd=fwd, norm=_norm(norm))


def _r2c(input: Tensor, s, dim, norm, name: str) -> Tensor:
    x = _as_real(input, name)
    dims, sizes = _dims_and_sizes(x, s, dim)
    for d, n in zip(dims, sizes):
        if n is not None:
            x = _pad_to(x, d, n)
    if not dims:
        raise RuntimeError(f"{name} must transform at least one axis")
    return FftR2C.apply(x, dims=tuple(dims), norm=_norm(norm))


def _c2r(input: Tensor, s, dim, norm, name: str) -> Tensor:
    x = _as_complex(input)
    dims, sizes = _dims_and_sizes(x, s, dim)
    if not dims:
        raise RuntimeError(f"{name} must transform at least one axis")
    last = dims[-1]
    n = sizes[-1] if sizes[-1] is not None else 2 * (x.shape[last] - 1)
    _check_n(n)
    for d, sz in zip(dims[:-1], sizes[:-1]):
        if sz is not None:
            x = _pad_to(x, d, sz)
    x = _pad_to(x, last, n // 2 + 1)
    return FftC2R.apply(x, dims=tuple(dims), norm=_norm(norm), n=n)


def _one(n):
    if n is None:
        return None
    _check_n(n)
    return (n,)


# -- public API -----------------------------------------------------------------------------
def fft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *,
        out=None) -> Tensor:
    """One-dimensional discrete Fourier transform of ``input`` along ``dim``."""
    return _c2c(input, _one(n), (dim,), norm, True)


def ifft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *,
         out=None) -> Tensor:
    """One-dimensional inverse discrete Fourier transform along ``dim``."""
    return _c2c(input, _one(n), (dim,), norm, False)


def fft2(input: Tensor, s=None, dim=(-2, -1), norm: str | None = None, *, out=None) -> Tensor:
    """Two-dimensional discrete Fourier transform (over ``dim``, the last two by default)."""
    return _c2c(input, s, dim, norm, True)


def ifft2(input: Tensor, s=None, dim=(-2, -1), norm: str | None = None, *, out=None) -> Tensor:
    """Two-dimensional inverse discrete Fourier transform."""
    return _c2c(input, s, dim, norm, False)


def fftn(input: Tensor, s=None, dim=None, norm: str | None = None, *, out=None) -> Tensor:
    """N-dimensional discrete Fourier transform (all dims, or those of ``s``/``dim``)."""
    return _c2c(input, s, dim, norm, True)


def ifftn(input: Tensor, s=None, dim=None, norm: str | None = None, *, out=None) -> Tensor:
    """N-dimensional inverse discrete Fourier transform."""
    return _c2c(input, s, dim, norm, False)


def rfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *,
         out=None) -> Tensor:
    """The one-sided DFT of a real signal: ``n // 2 + 1`` complex bins along ``dim``."""
    return _r2c(input, _one(n), (dim,), norm, "rfft")


def irfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *,
          out=None) -> Tensor:
    """Inverse of ``rfft``: a real signal of ``n`` points (default ``2 * (m - 1)``)."""
    return _c2r(input, _one(n), (dim,), norm, "irfft")


def rfft2(input: Tensor, s=None, dim=(-2, -1), norm: str | None = None, *, out=None) -> Tensor:
    """Two-dimensional ``rfftn``."""
    return _r2c(input, s, dim, norm, "rfftn")


def irfft2(input: Tensor, s=None, dim=(-2, -1), norm: str | None = None, *,
           out=None) -> Tensor:
    """Two-dimensional ``irfftn``."""
    return _c2r(input, s, dim, norm, "irfftn")


def rfftn(input: Tensor, s=None, dim=None, norm: str | None = None, *, out=None) -> Tensor:
    """N-dimensional DFT of a real signal, one-sided in the last transformed dim."""
    return _r2c(input, s, dim, norm, "rfftn")


def irfftn(input: Tensor, s=None, dim=None, norm: str | None = None, *, out=None) -> Tensor:
    """Inverse of ``rfftn``: a real signal (last dim ``2 * (m - 1)`` points by default)."""
    return _c2r(input, s, dim, norm, "irfftn")


def hfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *,
         out=None) -> Tensor:
    """DFT of a one-sided Hermitian signal: a real spectrum of ``n`` points."""
    return _c2r(_as_complex(input).conj(), _one(n), (dim,), _DUAL[_norm(norm)], "hfft")


def ihfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *,
          out=None) -> Tensor:
    """Inverse of ``hfft``: the one-sided inverse DFT of a real signal."""
    return _r2c(_as_real(input, "ihfft"), _one(n), (dim,), _DUAL[_norm(norm)],
                "ihfft").conj()


def hfft2(input: Tensor, s=None, dim=(-2, -1), norm: str | None = None, *, out=None) -> Tensor:
    """Two-dimensional ``hfftn``."""
    return _c2r(_as_complex(input).conj(), s, dim, _DUAL[_norm(norm)], "hfftn")


def ihfft2(input: Tensor, s=None, dim=(-2, -1), norm: str | None = None, *,
           out=None) -> Tensor:
    """Two-dimensional ``ihfftn``."""
    return _r2c(_as_real(input, "ihfftn"), s, dim, _DUAL[_norm(norm)], "ihfftn").conj()


def hfftn(input: Tensor, s=None, dim=None, norm: str | None = None, *, out=None) -> Tensor:
    """N-dimensional DFT of a signal Hermitian in its last dim: a real result."""
    return _c2r(_as_complex(input).conj(), s, dim, _DUAL[_norm(norm)], "hfftn")


def ihfftn(input: Tensor, s=None, dim=None, norm: str | None = None, *, out=None) -> Tensor:
    """Inverse of ``hfftn``: one-sided in the last transformed dim."""
    return _r2c(_as_real(input, "ihfftn"), s, dim, _DUAL[_norm(norm)], "ihfftn").conj()


# -- helpers ------------------------------------------------------------------------------------
def _freq_tensor(values: np.ndarray, dtype, device, requires_grad: bool) -> Tensor:
    from ._creation import tensor

    d = dtype if dtype is not None else _dtype.get_default_dtype()
    return tensor(values, dtype=d, device=device, requires_grad=requires_grad)


def fftfreq(n: int, d: float = 1.0, *, out=None, dtype=None, layout=None, device=None,
            requires_grad: bool = False) -> Tensor:
    """The sample frequencies of an ``n``-point DFT with sample spacing ``d``:
    ``[0, 1, ..., ceil(n/2) - 1, -floor(n/2), ..., -1] / (d * n)``."""
    return _freq_tensor(np.fft.fftfreq(n, d), dtype, device, requires_grad)


def rfftfreq(n: int, d: float = 1.0, *, out=None, dtype=None, layout=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """The sample frequencies of ``rfft``: ``[0, 1, ..., n // 2] / (d * n)``."""
    return _freq_tensor(np.fft.rfftfreq(n, d), dtype, device, requires_grad)


def _roll(x: Tensor, shift: int, d: int) -> Tensor:
    n = x.shape[d]
    k = shift % n if n else 0
    if k == 0:
        return x
    from .ops.shape import cat

    return cat([x.narrow(d, n - k, k), x.narrow(d, 0, n - k)], dim=d)


def _shift(input: Tensor, dim, inverse: bool) -> Tensor:
    if dim is None:
        dims = list(range(input.ndim))
    else:
        dims = [dim] if isinstance(dim, int) else list(dim)
    x = input
    for d in dims:
        d = _wrap_dim(d, input.ndim)
        n = x.shape[d]
        x = _roll(x, -(n // 2) if inverse else n // 2, d)
    if x is input:
        x = input.clone()
    return x


def fftshift(input: Tensor, dim=None) -> Tensor:
    """Moves the zero-frequency bin to the centre of ``dim`` (all dims by default)."""
    return _shift(input, dim, False)


def ifftshift(input: Tensor, dim=None) -> Tensor:
    """The inverse of ``fftshift``."""
    return _shift(input, dim, True)


# -- out=: these compute out of place; the result is written into ``out`` when given ---------
from ._out_arg import wrap_out_functions  # noqa: E402

wrap_out_functions(globals(), [
    'fft', 'ifft', 'fft2', 'ifft2', 'fftn', 'ifftn', 'rfft', 'irfft', 'rfft2', 'irfft2',
    'rfftn', 'irfftn', 'hfft', 'ihfft', 'hfft2', 'ihfft2', 'hfftn', 'ihfftn', 'fftfreq',
    'rfftfreq'])
