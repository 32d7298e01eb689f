"""Complex helpers and short-time Fourier transforms: ``view_as_real``, ``view_as_complex``,
``complex``, ``polar``, ``angle``, ``real``, ``imag``, ``stft``, ``istft``.

Complex autograd follows PyTorch's convention: the gradient of a real loss ``L`` with
respect to a complex tensor ``z = x + iy`` is ``dL/dx + i dL/dy`` (the conjugate Wirtinger
derivative times two). So a real-to-complex op returns the real part of its incoming
gradient, and ``complex(re, im)`` hands ``(g.real, g.imag)`` back to its two inputs.

``stft`` cuts the (padded) signal into frames with one strided view (``Frames``) and runs one
batched ``rfft``/``fft`` over them; ``istft`` runs one batched inverse transform and adds the
frames back with ``OverlapAdd``, whose loop runs over the ``ceil(n_fft / hop)`` frame phases,
never over frames. ``Frames`` and ``OverlapAdd`` are each other's adjoint, so both
transforms have gradients of every order.
"""

from __future__ import annotations

import builtins
import math
import warnings

import numpy as np

from .._tensor import Tensor
from .op import Op, xp_of

__all__ = ["view_as_real", "view_as_complex", "complex", "polar", "angle", "real", "imag",
           "stft", "istft"]

_COMPLEX_OF = {np.dtype(np.float32): np.dtype(np.complex64),
               np.dtype(np.float64): np.dtype(np.complex128),
               np.dtype(np.float16): np.dtype(np.complex64)}
_REAL_OF = {np.dtype(np.complex64): np.dtype(np.float32),
            np.dtype(np.complex128): np.dtype(np.float64)}


def _pt(d) -> str:
    d = np.dtype(d)
    return {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
            "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
            "complex64": "ComplexFloat", "complex128": "ComplexDouble"}.get(d.name, d.name)


def complex_dtype_of(d) -> np.dtype:
    """The complex numpy dtype matching the precision of real dtype ``d``."""
    d = np.dtype(d)
    if d.kind == "c":
        return d
    return _COMPLEX_OF.get(d, np.dtype(np.complex128))


# -- elementary complex ops ---------------------------------------------------------------
class Real(Op):
    """The real part of a complex tensor (a copy); the gradient is ``g + 0i``."""

    _name = "real"

    def forward(self, x):
        return x.real.copy()

    def backward(self, g):
        return to_complex(g)


class Imag(Op):
    """The imaginary part of a complex tensor (a copy); the gradient is ``0 + g i``."""

    _name = "imag"

    def forward(self, x):
        return x.imag.copy()

    def backward(self, g):
        return Complex.apply(g.new_zeros(g.shape), g)


class ToComplex(Op):
    """A real tensor as complex (zero imaginary part); the gradient is ``g.real``."""

    _name = "to_complex"

    def forward(self, x):
        return x.astype(complex_dtype_of(x.dtype))

    def backward(self, g):
        return Real.apply(g) if g.is_complex() else g


class Complex(Op):
    """``re + i im`` from two real tensors of one dtype (same shape after broadcasting)."""

    _name = "complex"

    def forward(self, re, im):
        xp = xp_of(re)
        self.shapes = (re.shape, im.shape)
        out = xp.empty(np.broadcast_shapes(re.shape, im.shape), complex_dtype_of(re.dtype))
        out.real = re
        out.imag = im
        return out

    def backward(self, g):
        from ._prep import unbroadcast

        sr, si = self.shapes
        gr = unbroadcast(Real.apply(g), sr) if self.next_functions[0][0] is not None else None
        gi = unbroadcast(Imag.apply(g), si) if self.next_functions[1][0] is not None else None
        return gr, gi


def to_complex(x: Tensor) -> Tensor:
    """``x`` as a complex tensor (``x`` itself when already complex); differentiable."""
    if x._data.dtype.kind == "c":
        return x
    if x._data.dtype.kind not in "f":
        from ._prep import to_float

        x = to_float(x)
    return ToComplex.apply(x)


def real(input: Tensor) -> Tensor:
    """The real part of ``input`` (``input`` itself for real tensors); differentiable.

    Unlike PyTorch's, the result is a copy, not a view sharing memory with ``input``."""
    if input._data.dtype.kind != "c":
        return input
    return Real.apply(input)


def imag(input: Tensor) -> Tensor:
    """The imaginary part of a complex ``input``; differentiable.

    Unlike PyTorch's, the result is a copy, not a view sharing memory with ``input``."""
    if input._data.dtype.kind != "c":
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return Imag.apply(input)


class ViewAsReal(Op):
    _name = "view_as_real"

    def forward(self, x):
        xp = xp_of(x)
        return xp.stack([x.real, x.imag], axis=-1)

    def backward(self, g):
        return ViewAsComplex.apply(g)


class ViewAsComplex(Op):
    _name = "view_as_complex"

    def forward(self, x):
        out = x[..., 0].astype(complex_dtype_of(x.dtype))
        out.imag = x[..., 1]
        return out

    def backward(self, g):
        return ViewAsReal.apply(g)


def view_as_real(input: Tensor) -> Tensor:
    """A complex tensor as a real one with a trailing dimension of size 2 (real, imag).

    Unlike PyTorch's, the result is a copy, not a view sharing memory with ``input``."""
    if input._data.dtype.kind != "c":
        raise RuntimeError("view_as_real is only supported for complex tensors")
    return ViewAsReal.apply(input)


def view_as_complex(input: Tensor) -> Tensor:
    """A real tensor whose last dimension has size 2 as a complex tensor.

    Unlike PyTorch's, the result is a copy, not a view sharing memory with ``input``."""
    if input.ndim == 0 or input.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    if input._data.dtype not in (np.float32, np.float64, np.float16):
        raise RuntimeError("view_as_complex is only supported for floating point tensors, "
                           f"but got a tensor of scalar type: {_pt(input._data.dtype)}")
    return ViewAsComplex.apply(input)


def complex(real: Tensor, imag: Tensor, *, out=None) -> Tensor:  # noqa: A001
    """A complex tensor from its real and imaginary parts (both float, same dtype)."""
    _check_float_pair(real, imag, "complex")
    return Complex.apply(real, imag)


def _check_float_pair(a: Tensor, b: Tensor, op: str) -> None:
    da, db = a._data.dtype, b._data.dtype
    if da.kind != "f" or db.kind != "f":
        raise RuntimeError(f"Expected both inputs to be Half, Float or Double tensors but got "
                           f"{_pt(da)} and {_pt(db)}")
    if da != db:
        raise RuntimeError(f"Expected object of scalar type {_pt(da)} but got scalar type "
                           f"{_pt(db)} for second argument")


def sgn(x: Tensor) -> Tensor:
    """``x / |x|`` (0 where x is 0), differentiable for complex ``x`` too."""
    if x._data.dtype.kind != "c":
        return x.sign()
    a = x.abs()
    zero = a == 0
    return (x / a.masked_fill(zero, 1)).masked_fill(zero, 0)


class Polar(Op):
    """``abs * (cos(angle) + i sin(angle))``; PyTorch's gradients: ``Re(conj(g) sgn(out))``
    for abs and ``Re(conj(g) i out)`` for angle."""

    _name = "polar"
    save_output = True

    def forward(self, a, t):
        xp = xp_of(a)
        self.shapes = (a.shape, t.shape)
        out = xp.empty(np.broadcast_shapes(a.shape, t.shape), complex_dtype_of(a.dtype))
        out.real = a * xp.cos(t)
        out.imag = a * xp.sin(t)
        return out

    def backward(self, g):
        from ._prep import unbroadcast

        r = self.saved_output()
        gc = g.conj()
        sa, st = self.shapes
        ga = gt = None
        if self.next_functions[0][0] is not None:
            ga = unbroadcast(Real.apply(gc * sgn(r)), sa)
        if self.next_functions[1][0] is not None:
            gt = unbroadcast(Real.apply(gc * r * 1j), st)
        return ga, gt


def polar(abs: Tensor, angle: Tensor, *, out=None) -> Tensor:  # noqa: A002
    """``abs * (cos(angle) + i sin(angle))``."""
    _check_float_pair(abs, angle, "polar")
    return Polar.apply(abs, angle)


class Angle(Op):
    """The argument of complex numbers (``atan2(imag, real)``); for real input 0 or pi."""

    _name = "angle"
    save_inputs = (0,)

    def forward(self, x):
        xp = xp_of(x)
        if x.dtype.kind == "c":
            return xp.angle(x)
        r = xp.where(x < 0, x.dtype.type(math.pi), x.dtype.type(0))
        return xp.where(xp.isnan(x), x, r)

    def backward(self, g):
        (x,) = self.saved_tensors
        if not x.is_complex():
            return g * 0
        a2 = x.abs() ** 2
        safe = a2.masked_fill(a2 == 0, 1)
        r = to_complex(g) * x / safe * 1j
        return r.masked_fill(a2 == 0, 0)


def angle(input: Tensor, *, out=None) -> Tensor:
    """The element-wise angle (argument) in radians; real inputs give 0 or pi."""
    if input._data.dtype.kind in "biu":
        from ._prep import to_float

        input = to_float(input)
    return Angle.apply(input)


# -- framing --------------------------------------------------------------------------------
class Frames(Op):
    """(B, L) -> (B, n_frames, n_fft): frame ``f`` is ``x[:, f*hop : f*hop + n_fft]``, one
    strided view (no copy)."""

    _name = "frames"

    def forward(self, x):
        xp = xp_of(x)
        self.length = x.shape[-1]
        b = x.shape[0]
        s0, s1 = x.strides
        return xp.lib.stride_tricks.as_strided(
            x, (b, self.n_frames, self.n_fft), (s0, s1 * self.hop, s1))

    def backward(self, g):
        return OverlapAdd.apply(g, hop=self.hop, length=self.length)


class OverlapAdd(Op):
    """(B, n_frames, n) -> (B, length): frames added back at multiples of ``hop`` (the
    adjoint of ``Frames``); positions past ``length`` are dropped."""

    _name = "overlap_add"

    def forward(self, fr):
        xp = xp_of(fr)
        b, nf, n = fr.shape
        hop = self.hop
        self.n_fft, self.n_frames = n, nf
        phases = -(-n // hop)  # ceil(n / hop)
        if phases * hop != n:  # pad each frame to a whole number of hops
            pad = xp.zeros((b, nf, phases * hop - n), fr.dtype)
            fr = xp.concatenate([fr, pad], axis=-1)
        fr = fr.reshape(b, nf, phases, hop)
        total = (nf + phases - 1) * hop
        out = xp.zeros((b, builtins.max(total, self.length)), fr.dtype)
        for j in range(phases):  # one strided add per frame phase, not per frame
            out[:, j * hop:j * hop + nf * hop] += fr[:, :, j, :].reshape(b, nf * hop)
        return out[:, :self.length]

    def backward(self, g):
        return Frames.apply(g.contiguous(), n_fft=self.n_fft, hop=self.hop,
                            n_frames=self.n_frames)


def _pad_signal(x: Tensor, pad: int, mode: str) -> Tensor:
    """Pads the last dim of ``x`` (B, L) by ``pad`` on both sides, as ``F.pad`` would."""
    from .._creation import tensor as _tensor
    from .index import index_select
    from .shape import cat

    length = x.shape[-1]
    if mode == "constant":
        z = x.new_zeros((x.shape[0], pad))
        return cat([z, x, z], dim=-1)
    if mode == "reflect" and pad >= length:
        raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding "
                           f"input dimension, but got: padding ({pad}, {pad}) at dimension "
                           f"2 of input [1, {x.shape[0]}, {length}]")
    idx = np.arange(-pad, length + pad)
    if mode == "reflect":
        period = 2 * (length - 1)
        idx = np.abs(idx) % period if period else np.zeros_like(idx)
        idx = np.where(idx >= length, period - idx, idx)
    elif mode == "replicate":
        idx = np.clip(idx, 0, length - 1)
    elif mode == "circular":
        if pad > length:
            raise RuntimeError("Padding value causes wrapping around more than once.")
        idx = idx % length
    else:
        raise NotImplementedError(f"stft: pad_mode {mode!r} is not supported; use 'reflect', "
                                  "'constant', 'replicate' or 'circular'")
    return index_select(x, 1, _tensor(idx, device=x.device))


def _stft_repr(x: Tensor, n_fft, hop, win, window, normalized, onesided, rc, extra="") -> str:
    w = "None" if window is None else f"torch.{_type_name(window)}{{[{window.shape[0]}]}}"
    return (f"stft(torch.{_type_name(x)}[{', '.join(str(s) for s in x.shape)}], "
            f"n_fft={n_fft}, hop_length={hop}, win_length={win}, window={w}, "
            f"normalized={int(normalized)}, onesided={onesided}, return_complex={int(rc)}"
            f"{extra}) : ")


def _type_name(t: Tensor) -> str:
    return {"float32": "FloatTensor", "float64": "DoubleTensor", "complex64":
            "ComplexFloatTensor", "complex128": "ComplexDoubleTensor"}.get(
                t._data.dtype.name, "Tensor")


def _full_window(window, win_length: int, n_fft: int, like: Tensor):
    """The window zero-padded (centred) to ``n_fft``, or None for a rectangular window."""
    if window is None:
        if win_length == n_fft:
            return None
        window = like.new_ones(win_length)
    if win_length < n_fft:
        from .shape import cat

        left = (n_fft - win_length) // 2
        window = cat([window.new_zeros(left), window,
                      window.new_zeros(n_fft - win_length - left)])
    return window


def stft(input: Tensor, n_fft: int, hop_length: int | None = None,
         win_length: int | None = None, window: Tensor | None = None, center: bool = True,
         pad_mode: str = "reflect", normalized: bool = False, onesided: bool | None = None,
         return_complex: bool | None = None, align_to_window: bool | None = None) -> Tensor:
    """Short-time Fourier transform, as ``torch.stft``.

    ``input`` is (L) or (B, L); the result is (B?, n_fft // 2 + 1, n_frames) complex when
    ``onesided`` (the default for real input and window), else (B?, n_fft, n_frames). With
    ``return_complex=False`` a trailing dimension of size 2 holds (real, imag)."""
    from .. import fft as _fft

    if return_complex is None and not input.is_complex() and \
            (window is None or not window.is_complex()):
        raise RuntimeError("stft requires the return_complex parameter be given for real "
                           "inputs, and will further require that return_complex=True in a "
                           "future PyTorch release.")
    if return_complex is None:
        return_complex = True
    if not return_complex:
        warnings.warn("stft with return_complex=False is deprecated. In a future pytorch "
                      "release, stft will return complex tensors for all inputs, and "
                      "return_complex=False will raise an error.", UserWarning, stacklevel=2)
    hop = n_fft // 4 if hop_length is None else hop_length
    win = n_fft if win_length is None else win_length
    ndim = input.ndim
    if ndim not in (1, 2):
        raise RuntimeError(_stft_repr(input, n_fft, hop, win, window, normalized, onesided,
                                      return_complex) + "expected a 1D or 2D tensor")
    x = input.unsqueeze(0) if ndim == 1 else input  # (B, L)
    if input._data.dtype.kind in "biu":
        from ._prep import to_float

        x = to_float(x)
    if center:
        x = _pad_signal(x, n_fft // 2, pad_mode)
    length = x.shape[-1]
    msg = _stft_repr(x.squeeze(0) if ndim == 1 else x, n_fft, hop, win, window, normalized,
                     onesided, return_complex, ", align_to_window=None")
    if n_fft <= 0 or n_fft > length:
        raise RuntimeError(msg + f"expected 0 < n_fft < {length}, but got n_fft={n_fft}")
    if hop <= 0:
        raise RuntimeError(msg + f"expected hop_length > 0, but got hop_length={hop}")
    if win <= 0 or win > n_fft:
        raise RuntimeError(msg + f"expected 0 < win_length <= n_fft, but got win_length={win}")
    if window is not None and (window.ndim != 1 or window.shape[0] != win):
        raise RuntimeError(msg + f"expected a 1D window tensor of size equal to win_length="
                           f"{win}, but got window with size {list(window.shape)}")
    if window is None:
        warnings.warn("A window was not provided. A rectangular window will be applied,which "
                      "is known to cause spectral leakage. Other windows such as "
                      "torch.hann_window or torch.hamming_window are recommended to reduce "
                      "spectral leakage.To suppress this warning and use a rectangular window, "
                      "explicitly set `window=torch.ones(n_fft, device=<device>)`.",
                      UserWarning, stacklevel=2)
    w = _full_window(window, win, n_fft, x)
    n_frames = 1 + (length - n_fft) // hop
    frames = Frames.apply(x.contiguous(), n_fft=n_fft, hop=hop, n_frames=n_frames)
    if w is not None:
        frames = frames * w  # (B, n_frames, n_fft)
    is_complex = frames.is_complex()
    if onesided is None:
        onesided = not is_complex
    norm = "ortho" if normalized else "backward"
    if is_complex:
        if onesided:
            raise RuntimeError("Cannot have onesided output if window or input is complex")
        out = _fft.fft(frames, dim=-1, norm=norm)
    elif onesided:
        out = _fft.rfft(frames, dim=-1, norm=norm)
    else:
        out = _fft.fft(frames, dim=-1, norm=norm)
    out = out.transpose(1, 2)  # (B, freq, n_frames)
    if ndim == 1:
        out = out.squeeze(0)
    return out if return_complex else view_as_real(out)


def istft(input: Tensor, n_fft: int, hop_length: int | None = None,
          win_length: int | None = None, window: Tensor | None = None, center: bool = True,
          normalized: bool = False, onesided: bool | None = None, length: int | None = None,
          return_complex: bool = False) -> Tensor:
    """Inverse short-time Fourier transform, as ``torch.istft``: one batched inverse FFT of
    the (B?, freq, n_frames) complex input, windowed overlap-add, and division by the
    overlap-added squared window."""
    from .. import fft as _fft

    if not input.is_complex():
        raise RuntimeError("istft requires a complex-valued input tensor matching the output "
                           "from stft with return_complex=True.")
    hop = n_fft // 4 if hop_length is None else hop_length
    win = n_fft if win_length is None else win_length
    ndim = input.ndim

    def _msg():
        w = "None" if window is None else \
            f"torch.{_type_name(window)}{{[{window.shape[0]}]}}"
        return (f"istft(CPU{_type_name(input)[:-6]}Type[{', '.join(str(s) for s in input.shape)}"
                f"], n_fft={n_fft}, hop_length={hop}, win_length={win}, window={w}, "
                f"center={int(center)}, normalized={int(normalized)}, onesided={onesided}, "
                f"length={length}, return_complex={int(return_complex)}) ")

    if ndim not in (2, 3):
        raise RuntimeError(_msg() + f": expected a tensor with a 2 or 3 dimensions of complex, "
                           f"but got {ndim}")
    x = input.unsqueeze(0) if ndim == 2 else input  # (B, freq, n_frames)
    fft_size, n_frames = x.shape[1], x.shape[2]
    expected_len = n_fft + hop * (n_frames - 1)
    one = onesided if onesided is not None else fft_size != n_fft
    if one and n_fft // 2 + 1 != fft_size:
        raise RuntimeError(_msg() + ": expected the frequency dimension (3rd to the last) of "
                           "the input tensor to match n_fft / 2 + 1 when onesided=True, but "
                           f"got {fft_size}")
    if not one and n_fft != fft_size:
        raise RuntimeError(_msg() + ": expected the frequency dimension (3rd to the last) of "
                           "the input tensor to match n_fft when onesided=False, but got "
                           f"{fft_size}")
    if not 0 < hop <= win:
        raise RuntimeError(_msg() + ": expected 0 < hop_length <= win_length")
    if not 0 < win <= n_fft:
        raise RuntimeError(_msg() + ": expected 0 < win_length <= n_fft")
    if window is not None and (window.ndim != 1 or window.shape[0] != win):
        raise RuntimeError(_msg() + ": expected a 1D window tensor of size equal to "
                           f"win_length={win}, but got window with size "
                           f"{list(window.shape)}")
    if window is None:
        warnings.warn("A window was not provided. A rectangular window will be applied.Please "
                      "provide the same window used by stft to make the inversion lossless.To "
                      "suppress this warning and use a rectangular window, explicitly set "
                      "`window=torch.ones(n_fft, device=<device>)`.", UserWarning, stacklevel=2)
        wt = Tensor._make(xp_of(x._data).ones(win, _REAL_OF[x._data.dtype]))
    else:
        wt = window
    w = _full_window(wt, win, n_fft, wt)  # (n_fft)
    x = x.transpose(1, 2)  # (B, n_frames, freq)
    norm = "ortho" if normalized else "backward"
    if return_complex:
        if one:
            raise RuntimeError("cannot have onesided output if window or input is complex")
        frames = _fft.ifft(x, dim=-1, norm=norm)
    else:
        if w.is_complex():
            raise RuntimeError("Complex windows are incompatible with return_complex=False")
        if not one:
            x = x.narrow(-1, 0, n_fft // 2 + 1)
        frames = _fft.irfft(x, n=n_fft, dim=-1, norm=norm)
    frames = frames * w  # (B, n_frames, n_fft)
    y = OverlapAdd.apply(frames, hop=hop, length=expected_len)  # (B, expected_len)
    wsq = (w * w.conj() if w.is_complex() else w * w).detach()
    wsq = wsq.reshape(1, 1, n_fft).expand(1, n_frames, n_fft).contiguous()
    env = OverlapAdd.apply(wsq, hop=hop, length=expected_len)  # (1, expected_len)
    start = n_fft // 2 if center else 0
    if length is not None:
        end = start + length
    else:
        end = expected_len - n_fft // 2 if center else expected_len
    stop = builtins.min(end, expected_len)
    y = y.narrow(-1, start, builtins.max(stop - start, 0))
    env = env.narrow(-1, start, builtins.max(stop - start, 0))
    env_abs = xp_of(env._data).abs(env._data)
    if env_abs.size and bool(env_abs.min() < 1e-11):
        raise RuntimeError(_msg() + f"window overlap add min: {float(env_abs.min()):g}")
    y = y / env
    if end > expected_len:
        from .shape import cat

        warnings.warn("The length of signal is shorter than the length parameter. Result is "
                      "being padded with zeros in the tail. Please check your center and "
                      "hop_length settings.", UserWarning, stacklevel=2)
        y = cat([y, y.new_zeros((y.shape[0], end - expected_len))], dim=-1)
    if ndim == 2:
        y = y.squeeze(0)
    return y


# -- out=: these compute out of place; the result is written into ``out`` when given ---------
from .._out_arg import wrap_out_functions  # noqa: E402

wrap_out_functions(globals(), [
    'complex', 'polar', 'angle'])
