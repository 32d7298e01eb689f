"""ember.fft and the spectral helpers (stft, istft, view_as_real/complex, polar, angle)
against torch: values, dtypes, shapes, complex gradients (PyTorch's conjugate-Wirtinger
convention), errors, and float64 numerical gradient checks."""

import warnings

import ember
import ember.fft  # noqa: F401  (the lazily imported submodule)
import numpy as np
import pytest
import torch
from ember.autograd.gradcheck import gradcheck, gradgradcheck
from ember.ops import spectral
from torch_compare import assert_close, compare, compare_raises, to_numpy


def _vr(m, x):
    """Complex tensors as (real, imag) pairs, so compare() weighs both parts."""
    if not x.is_complex():
        return x
    if m is torch:
        return torch.view_as_real(x.resolve_conj())
    return spectral.view_as_real(x)


def _real_out(fn):
    """Wraps ``fn(m, *inputs)`` so that its complex outputs come back as real pairs; inputs
    are scaled by 1.0 so that torch's leaf gradients carry no lazy conjugate bit."""
    def f(m, *a):
        out = fn(m, *[x * 1.0 for x in a])
        if isinstance(out, tuple):
            return tuple(_vr(m, o) for o in out)
        return _vr(m, out)
    return f


# name: (input shape, input kind, fn(m, x, norm)); kinds: r real, c complex
FFT_CASES = {
    "fft": ((3, 8), "c", lambda m, x, nm: m.fft.fft(x, norm=nm)),
    "fft_real_input": ((3, 8), "r", lambda m, x, nm: m.fft.fft(x, n=10, norm=nm)),
    "fft_trim": ((3, 8), "c", lambda m, x, nm: m.fft.fft(x, n=5, dim=0, norm=nm)),
    "ifft": ((3, 8), "c", lambda m, x, nm: m.fft.ifft(x, n=6, norm=nm)),
    "rfft": ((3, 8), "r", lambda m, x, nm: m.fft.rfft(x, norm=nm)),
    "rfft_odd": ((3, 8), "r", lambda m, x, nm: m.fft.rfft(x, n=7, dim=-1, norm=nm)),
    "irfft": ((3, 5), "c", lambda m, x, nm: m.fft.irfft(x, norm=nm)),
    "irfft_odd": ((3, 5), "c", lambda m, x, nm: m.fft.irfft(x, n=9, norm=nm)),
    "irfft_pad": ((3, 5), "c", lambda m, x, nm: m.fft.irfft(x, n=14, dim=1, norm=nm)),
    "fft2": ((2, 4, 6), "c", lambda m, x, nm: m.fft.fft2(x, norm=nm)),
    "ifft2_s": ((2, 4, 6), "c", lambda m, x, nm: m.fft.ifft2(x, s=(3, 8), norm=nm)),
    "fftn": ((2, 4, 6), "c", lambda m, x, nm: m.fft.fftn(x, norm=nm)),
    "ifftn_dim": ((2, 4, 6), "c", lambda m, x, nm: m.fft.ifftn(x, dim=(0, 2), norm=nm)),
    "rfft2": ((2, 4, 6), "r", lambda m, x, nm: m.fft.rfft2(x, norm=nm)),
    "rfftn_s": ((2, 4, 6), "r", lambda m, x, nm: m.fft.rfftn(x, s=(5, 7), norm=nm)),
    "irfft2": ((2, 4, 6), "c", lambda m, x, nm: m.fft.irfft2(x, norm=nm)),
    "irfftn_s": ((2, 4, 6), "c", lambda m, x, nm: m.fft.irfftn(x, s=(4, 6), norm=nm)),
    "irfftn_all": ((2, 4, 6), "c", lambda m, x, nm: m.fft.irfftn(x, norm=nm)),
    "hfft": ((3, 5), "c", lambda m, x, nm: m.fft.hfft(x, norm=nm)),
    "hfft_n": ((3, 5), "c", lambda m, x, nm: m.fft.hfft(x, n=7, norm=nm)),
    "ihfft": ((3, 8), "r", lambda m, x, nm: m.fft.ihfft(x, norm=nm)),
    "hfft2": ((2, 4, 6), "c", lambda m, x, nm: m.fft.hfft2(x, norm=nm)),
    "ihfftn": ((2, 4, 6), "r", lambda m, x, nm: m.fft.ihfftn(x, norm=nm)),
    "fftshift": ((3, 5), "r", lambda m, x, nm: m.fft.fftshift(x)),
    "ifftshift_dim": ((3, 5), "c", lambda m, x, nm: m.fft.ifftshift(x, dim=1)),
}


# every norm in double precision; single precision (complex64 results) with the default
_FFT_PARAMS = [(name, norm, "double") for name in sorted(FFT_CASES)
               for norm in ([None] if "shift" in name else [None, "ortho", "forward"])] + \
    [(name, None, "single") for name in sorted(FFT_CASES)]


@pytest.mark.parametrize("name,norm,precision", _FFT_PARAMS)
def test_fft_matches_torch(name, norm, precision, device):
    """Values, output dtype (complex64 from float32...), shape and gradients equal torch's."""
    shape, kind, fn = FFT_CASES[name]
    dt = {("r", "double"): "float64", ("c", "double"): "complex128",
          ("r", "single"): "float32", ("c", "single"): "complex64"}[(kind, precision)]
    tol = 1e-9 if precision == "double" else 1e-4
    compare([shape], _real_out(lambda m, x: fn(m, x, norm)), dtype=dt, device=device,
            rtol=tol, atol=tol)


def test_fft_of_integer_input():
    """Integer inputs are promoted to the default float dtype (complex64 output)."""
    x = np.arange(6)
    e, t = ember.fft.fft(ember.tensor(x)), torch.fft.fft(torch.tensor(x))
    assert_close(e, t)
    assert_close(ember.fft.rfft(ember.tensor(x)), torch.fft.rfft(torch.tensor(x)))


def test_frequencies_and_shifts():
    """fftfreq / rfftfreq (dtype, spacing) and fftshift / ifftshift equal torch's."""
    for n in (1, 6, 7):
        assert_close(ember.fft.fftfreq(n), torch.fft.fftfreq(n))
        assert_close(ember.fft.rfftfreq(n, d=0.5), torch.fft.rfftfreq(n, d=0.5))
        assert_close(ember.fft.fftfreq(n, 2.0, dtype=ember.float64),
                     torch.fft.fftfreq(n, 2.0, dtype=torch.float64))
    f = ember.fft.fftfreq(7)
    assert_close(ember.fft.fftshift(f), torch.fft.fftshift(torch.fft.fftfreq(7)))
    assert_close(ember.fft.ifftshift(ember.fft.fftshift(f)), torch.fft.fftfreq(7))
    x = np.arange(12.0).reshape(3, 4)
    assert_close(ember.fft.fftshift(ember.tensor(x), dim=(0,)),
                 torch.fft.fftshift(torch.tensor(x), dim=(0,)))


def test_irfft_roundtrip_and_parseval():
    """irfft(rfft(x), n) == x; ortho transforms keep the energy."""
    rng = np.random.default_rng(0)
    for n in (8, 9):
        x = ember.tensor(rng.standard_normal((2, n)))
        y = ember.fft.irfft(ember.fft.rfft(x), n=n)
        np.testing.assert_allclose(to_numpy(y), to_numpy(x), atol=1e-12)
    z = ember.tensor(rng.standard_normal((4, 6)) + 1j * rng.standard_normal((4, 6)))
    f = ember.fft.fftn(z, norm="ortho")
    np.testing.assert_allclose((to_numpy(f) * to_numpy(f).conj()).sum().real,
                               (to_numpy(z) * to_numpy(z).conj()).sum().real, rtol=1e-12)


@pytest.mark.parametrize("fn,vals,dtype", [
    (lambda m, x: m.fft.fft(x, norm="xx"), [np.ones(4)], "float32"),
    (lambda m, x: m.fft.fft(x, n=0), [np.ones(4)], "float32"),
    (lambda m, x: m.fft.fft(x, dim=3), [np.ones(4)], "float32"),
    (lambda m, x: m.fft.rfft(x), [np.ones(4) + 1j], "complex64"),
    (lambda m, x: m.fft.ihfft(x), [np.ones(4) + 1j], "complex64"),
    (lambda m, x: m.fft.fftn(x, s=(4, 4)), [np.ones(4)], "float32"),
    (lambda m, x: m.fft.fftn(x, s=(4,), dim=(0, 1)), [np.ones((4, 4))], "float32"),
    (lambda m, x: m.fft.fftn(x, dim=(0, 0)), [np.ones((4, 4))], "float32"),
    (lambda m, x: m.fft.irfft(x, n=0), [np.ones(4) + 1j], "complex64"),
    (lambda m, x: m.fft.fft(x), [np.ones(4)], "float16"),
])
def test_fft_errors_match_torch(fn, vals, dtype):
    """Bad arguments raise torch's exception type (and message)."""
    try:
        fn(torch, torch.tensor(vals[0], dtype=getattr(torch, dtype)))
    except Exception as exc:  # noqa: BLE001
        t_msg = str(exc)
    err = compare_raises(None, fn, vals=vals, dtype=dtype)
    assert str(err) == t_msg


_GRADCHECK_FFT = {
    "fft": (lambda x: ember.fft.fft(x, n=5), "c"),
    "ifft_ortho": (lambda x: ember.fft.ifft(x, norm="ortho"), "c"),
    "fft_real": (lambda x: ember.fft.fft(x), "r"),
    "rfft": (lambda x: ember.fft.rfft(x, n=5), "r"),
    "irfft": (lambda x: ember.fft.irfft(x, n=6), "c"),
    "irfft_odd_forward": (lambda x: ember.fft.irfft(x, n=5, norm="forward"), "c"),
    "rfftn": (lambda x: ember.fft.rfftn(x), "r"),
    "irfftn": (lambda x: ember.fft.irfftn(x, s=(2, 4)), "c"),
    "hfft": (lambda x: ember.fft.hfft(x), "c"),
    "ihfft": (lambda x: ember.fft.ihfft(x), "r"),
}


@pytest.mark.parametrize("name", sorted(_GRADCHECK_FFT))
def test_fft_gradcheck(name):
    """First and second derivatives against finite differences (float64/complex128)."""
    fn, kind = _GRADCHECK_FFT[name]
    rng = np.random.default_rng(1)
    a = rng.standard_normal((2, 4))
    if kind == "c":
        a = a + 1j * rng.standard_normal((2, 4))
    x = ember.tensor(a, requires_grad=True)
    assert gradcheck(fn, (x,), atol=1e-7, rtol=1e-5)
    if name in ("rfft", "irfft", "fft"):
        assert gradgradcheck(fn, (x,), atol=1e-6, rtol=1e-4)


# -- complex helpers --------------------------------------------------------------------------
class _Ns:
    def __getattr__(self, name):
        if name in spectral.__all__:
            return getattr(spectral, name)
        return getattr(ember, name)


def _m(fn):
    ns = _Ns()
    return lambda m, *a: fn(ns if m is ember else m, *a)


HELPER_CASES = {
    "view_as_real": ([(3, 4)], "complex128", lambda m, z: m.view_as_real(z * 1.0)),
    "view_as_complex": ([(3, 2)], "float64", lambda m, x: m.view_as_real(
        m.view_as_complex(x) * (1 + 2j))),
    "complex": ([(3,), (3,)], "float64", lambda m, a, b: m.view_as_real(m.complex(a, b) ** 2)),
    "polar": ([(4,), (4,)], "float64", lambda m, a, b: m.view_as_real(m.polar(a, b))),
    "angle_complex": ([(4,)], "complex128", lambda m, z: m.angle(z * 1.0)),
    "angle_real": ([(5,)], "float64", lambda m, x: m.angle(x)),
    "real_imag": ([(4,)], "complex128", lambda m, z: (m.real(z * z), m.imag(z * z))),
    "abs_of_complex": ([(4,)], "complex128", lambda m, z: m.real(z * 1.0).abs() + z.abs()),
}


@pytest.mark.parametrize("name", sorted(HELPER_CASES))
def test_complex_helpers_match_torch(name, device):
    """view_as_real/complex, complex, polar, angle, real, imag: values and gradients."""
    shapes, dtype, fn = HELPER_CASES[name]
    compare(shapes, _m(fn), dtype=dtype, device=device, rtol=1e-9, atol=1e-10)


def test_angle_dtypes_and_special_values():
    """angle of int input is float32; of negatives pi, of zero 0, of nan nan."""
    assert_close(spectral.angle(ember.tensor([-1, 0, 2])), torch.angle(torch.tensor([-1, 0, 2])))
    v = [-1.0, 0.0, 2.0, float("nan")]
    assert_close(spectral.angle(ember.tensor(v)), torch.angle(torch.tensor(v)))


@pytest.mark.parametrize("fn,vals,dtype", [
    (lambda m, x: m.view_as_real(x), [np.ones(3)], "float32"),
    (lambda m, x: m.view_as_complex(x), [np.ones((3, 3))], "float32"),
    (lambda m, x: m.polar(x, x.double()), [np.ones(3)], "float32"),
    (lambda m, x: m.imag(x), [np.ones(3)], "float32"),
])
def test_complex_helper_errors(fn, vals, dtype):
    """Bad input raises torch's exception type and message."""
    try:
        fn(torch, torch.tensor(vals[0], dtype=getattr(torch, dtype)))
    except Exception as exc:  # noqa: BLE001
        t_msg = str(exc)
    err = compare_raises(None, _m(fn), vals=vals, dtype=dtype)
    assert str(err) == t_msg


# -- stft / istft ------------------------------------------------------------------------------
def _hann(n):
    return 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)  # torch.hann_window (periodic)


STFT_CASES = {
    "default": dict(n_fft=16),
    "hann_hop": dict(n_fft=16, hop_length=5, window=16),
    "short_window": dict(n_fft=16, win_length=10, window=10),
    "no_center": dict(n_fft=16, hop_length=4, center=False, window=16),
    "constant_pad": dict(n_fft=16, pad_mode="constant", window=16),
    "replicate_pad": dict(n_fft=12, hop_length=3, pad_mode="replicate"),
    "circular_pad": dict(n_fft=12, hop_length=3, pad_mode="circular"),
    "normalized": dict(n_fft=16, normalized=True, window=16),
    "two_sided": dict(n_fft=16, onesided=False, window=16),
    "hop_gt_nfft": dict(n_fft=8, hop_length=11, window=8),
}


def _stft_fn(kw, return_complex=True):
    kw = dict(kw)
    w = kw.pop("window", None)

    def f(m, x):
        win = None if w is None else m.tensor(_hann(w), dtype=x.dtype)
        out = m.stft(x, window=win, return_complex=return_complex, **kw)
        return _vr(m, out)
    return f


@pytest.mark.parametrize("shape", [(50,), (2, 50)])
@pytest.mark.parametrize("name", sorted(STFT_CASES))
def test_stft_matches_torch(name, shape, device):
    """stft (1-D and batched input): values, shape, dtype and input gradients."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare([shape], _m(_stft_fn(STFT_CASES[name])), dtype="float64", device=device,
                rtol=1e-9, atol=1e-9)


def test_stft_float32_and_real_output(device):
    """float32 gives complex64; return_complex=False gives the (..., 2) real layout."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare([(40,)], _m(_stft_fn(dict(n_fft=8, window=8))), dtype="float32",
                device=device, rtol=1e-4, atol=1e-5)
        compare([(40,)], _m(_stft_fn(dict(n_fft=8, window=8), return_complex=False)),
                dtype="float32", device=device, rtol=1e-4, atol=1e-5)


def test_stft_complex_input(device):
    """Complex signals give two-sided spectra, as torch."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare([(2, 30)], _m(_stft_fn(dict(n_fft=8, hop_length=3, window=8))),
                dtype="complex128", device=device, rtol=1e-9, atol=1e-9)


ISTFT_CASES = {
    "hann": dict(n_fft=16, hop_length=4, window=16),
    "length": dict(n_fft=16, hop_length=4, window=16, length=45),
    "length_longer": dict(n_fft=16, hop_length=4, window=16, length=60),
    "no_center": dict(n_fft=16, hop_length=4, window=16, center=False),
    "normalized": dict(n_fft=16, hop_length=4, window=16, normalized=True),
    "short_window": dict(n_fft=16, hop_length=3, win_length=12, window=12),
}


@pytest.mark.parametrize("batch", [False, True])
@pytest.mark.parametrize("name", sorted(ISTFT_CASES))
def test_istft_matches_torch(name, batch, device):
    """istft of a spectrogram: values and gradients with respect to the (complex) input."""
    kw = dict(ISTFT_CASES[name])
    w = kw.pop("window")

    def f(m, x):
        win = m.tensor(_hann(w) + 0.1, dtype=x.dtype)  # nonzero ends: center=False works
        spec = m.stft(x, kw["n_fft"], kw["hop_length"], kw.get("win_length"), win,
                      center=kw.get("center", True), normalized=kw.get("normalized", False),
                      return_complex=True)
        return m.istft(spec * 1.0, window=win, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare([(2, 45) if batch else (45,)], _m(f), dtype="float64", device=device,
                rtol=1e-9, atol=1e-9)


def test_istft_inverts_stft():
    """istft(stft(x)) == x with a Hann window (perfect reconstruction)."""
    x = ember.tensor(np.random.default_rng(2).standard_normal((2, 100)))
    w = ember.tensor(_hann(32))
    spec = spectral.stft(x, 32, 8, window=w, return_complex=True)
    y = spectral.istft(spec, 32, 8, window=w, length=100)
    np.testing.assert_allclose(to_numpy(y), to_numpy(x), atol=1e-12)


def test_stft_istft_gradcheck():
    """Numerical gradients (first and second order) of stft and istft."""
    rng = np.random.default_rng(3)
    w = ember.tensor(_hann(8))
    x = ember.tensor(rng.standard_normal(20), requires_grad=True)

    def s(v):
        return spectral.view_as_real(spectral.stft(v, 8, 3, window=w, return_complex=True))
    assert gradcheck(s, (x,), atol=1e-7, rtol=1e-5)
    assert gradgradcheck(s, (x,), atol=1e-6, rtol=1e-4)
    spec = spectral.stft(x.detach(), 8, 2, window=w, return_complex=True)
    z = spec.detach().requires_grad_()
    assert gradcheck(lambda v: spectral.istft(v, 8, 2, window=w), (z,), atol=1e-7, rtol=1e-5)


@pytest.mark.parametrize("fn,shape,dtype", [
    (lambda m, x: m.stft(x, 8), (16,), "float32"),
    (lambda m, x: m.stft(x, 32, return_complex=True), (16,), "float32"),
    (lambda m, x: m.stft(x, 32, center=False, return_complex=True), (16,), "float32"),
    (lambda m, x: m.stft(x, 8, hop_length=0, return_complex=True), (16,), "float32"),
    (lambda m, x: m.stft(x, 8, win_length=9, return_complex=True), (16,), "float32"),
    (lambda m, x: m.stft(x, 8, window=m.ones(3), return_complex=True), (16,), "float32"),
    (lambda m, x: m.stft(x, 8, return_complex=True), (2, 2, 16), "float32"),
    (lambda m, x: m.istft(x, 8), (5, 3), "float32"),
    (lambda m, x: m.istft(x, 8), (4, 3), "complex64"),
    (lambda m, x: m.istft(x, 8, window=m.zeros(8)), (5, 3), "complex64"),
])
def test_stft_errors_match_torch(fn, shape, dtype):
    """Bad arguments raise torch's exception type, with torch's message tail."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fn(torch, torch.ones(shape, dtype=getattr(torch, dtype)))
        except Exception as exc:  # noqa: BLE001
            t_msg = str(exc)
        err = compare_raises([shape], _m(fn), dtype=dtype)
    tail = t_msg.split(") ")[-1] if t_msg.startswith(("stft(", "istft(")) else t_msg
    assert tail.split(":")[0].strip() in str(err)


def test_stft_warns_like_torch():
    """No window, return_complex=False and a too-long istft length warn (UserWarning)."""
    x = ember.ones(16)
    with pytest.warns(UserWarning, match="A window was not provided"):
        spectral.stft(x, 8, return_complex=True)
    with pytest.warns(UserWarning, match="return_complex=False is deprecated"):
        spectral.stft(x, 8, window=ember.ones(8), return_complex=False)
    spec = spectral.stft(x, 8, window=ember.ones(8), return_complex=True)
    with pytest.warns(UserWarning, match="shorter than the length parameter"):
        spectral.istft(spec, 8, window=ember.ones(8), length=40)


def test_istft_complex_output_matches_torch(device):
    """Two-sided spectra of complex signals invert with return_complex=True, as torch."""
    win = _hann(16) + 0.1

    def f(m, x):
        w = m.tensor(win, dtype=m.float64)
        spec = m.stft(x, 16, 4, window=w, return_complex=True)
        return _vr(m, m.istft(spec * 1.0, 16, 4, window=w, return_complex=True))
    compare([(2, 40)], _m(f), dtype="complex128", device=device, rtol=1e-9, atol=1e-9)
