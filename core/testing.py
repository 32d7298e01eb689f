"""``ember.testing``: ``assert_close`` and ``make_tensor``, as ``torch.testing``."""

from __future__ import annotations

import numpy as np

from . import _dtype
from ._tensor import Tensor

__all__ = ["assert_close", "assert_allclose", "make_tensor"]

# PyTorch's default tolerances per dtype: (rtol, atol)
_TOL = {"float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5), "float32": (1.3e-6, 1e-5),
        "float64": (1e-7, 1e-7), "complex64": (1.3e-6, 1e-5), "complex128": (1e-7, 1e-7)}


def _as_array(x):
    if isinstance(x, Tensor):
        return x.detach().__array__(), x.dtype, x.device
    arr = np.asarray(x)
    return arr, None, None


def assert_close(actual, expected, *, rtol=None, atol=None, equal_nan: bool = False,
                 check_device: bool = True, check_dtype: bool = True,
                 check_layout: bool = True, check_stride: bool = False, msg=None) -> None:
    """Raises AssertionError unless ``actual`` and ``expected`` are close:
    ``|actual - expected| <= atol + rtol * |expected|``, with PyTorch's default tolerances
    for the dtype. Sequences and mappings are compared element by element."""
    if isinstance(actual, dict) and isinstance(expected, dict):
        if actual.keys() != expected.keys():
            raise AssertionError(f"keys differ: {sorted(actual)} vs {sorted(expected)}")
        for k in actual:
            assert_close(actual[k], expected[k], rtol=rtol, atol=atol, equal_nan=equal_nan,
                         check_device=check_device, check_dtype=check_dtype, msg=msg)
        return
    if isinstance(actual, (list, tuple)) and isinstance(expected, (list, tuple)):
        if len(actual) != len(expected):
            raise AssertionError(f"lengths differ: {len(actual)} vs {len(expected)}")
        for a, e in zip(actual, expected):
            assert_close(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan,
                         check_device=check_device, check_dtype=check_dtype, msg=msg)
        return
    a, da, deva = _as_array(actual)
    e, de, deve = _as_array(expected)
    if check_device and deva is not None and deve is not None and deva != deve:
        raise AssertionError(f"The values for attribute 'device' do not match: {deva} != "
                             f"{deve}.")
    if check_dtype and da is not None and de is not None and da != de:
        raise AssertionError(f"The values for attribute 'dtype' do not match: {da} != {de}.")
    if a.shape != e.shape:
        raise AssertionError(f"The values for attribute 'shape' do not match: "
                             f"{list(a.shape)} != {list(e.shape)}.")
    if (rtol is None) != (atol is None):
        raise ValueError("Both 'rtol' and 'atol' must be either specified or omitted")
    if rtol is None:
        name = (da or _dtype.from_numpy_dtype(a.dtype)).name
        rtol, atol = _TOL.get(name, (0.0, 0.0))
    a64 = a.astype(np.complex128 if a.dtype.kind == "c" else np.float64)
    e64 = e.astype(np.complex128 if e.dtype.kind == "c" else np.float64)
    close = np.isclose(a64, e64, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if not close.all():
        bad = int((~close).sum())
        diff = np.abs(a64 - e64)
        diff = np.where(np.isnan(diff), np.inf, diff)
        i = np.unravel_index(int(np.argmax(np.where(close, -1, diff))), a.shape) \
            if a.ndim else ()
        text = (f"Tensor-likes are not close!\n\nMismatched elements: {bad} / {a.size} "
                f"({100.0 * bad / max(a.size, 1):.1f}%)\nGreatest absolute difference: "
                f"{float(diff.max())} at index {tuple(int(k) for k in i)} (up to {atol} "
                f"allowed)\nrtol={rtol}, atol={atol}")
        raise AssertionError(msg(text) if callable(msg) else (msg or text))


def make_tensor(*shape, dtype, device="cpu", low=None, high=None, requires_grad=False,
                noncontiguous: bool = False, exclude_zero: bool = False) -> Tensor:
    """A random tensor of ``shape`` with values in [low, high) (defaults as PyTorch:
    [-9, 9) for floats, [-9, 10) for signed ints, [0, 10) for uint8)."""
    from ._creation import tensor

    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    d = _dtype.to_dtype(dtype)
    rng = np.random.default_rng()
    if d is _dtype.bool:
        arr = rng.integers(0, 2, size=shape).astype(bool)
    elif d.is_floating_point or d.is_complex:
        lo = -9.0 if low is None else low
        hi = 9.0 if high is None else high
        arr = rng.uniform(lo, hi, size=shape)
        if d.is_complex:
            arr = arr + 1j * rng.uniform(lo, hi, size=shape)
    else:
        lo = (0 if d is _dtype.uint8 else -9) if low is None else int(low)
        hi = 10 if high is None else int(high)
        arr = rng.integers(lo, hi, size=shape)
    if exclude_zero:
        arr = np.where(arr == 0, 1, arr)
    if noncontiguous and arr.size > 1:
        t = tensor(np.repeat(arr, 2, axis=-1), dtype=d, device=device)[..., ::2]
    else:
        t = tensor(arr, dtype=d, device=device)
    if requires_grad:
        t.requires_grad_(True)
    return t


def assert_allclose(actual, expected, rtol=None, atol=None, equal_nan: bool = True,
                    msg: str = "") -> None:
    """The deprecated ``torch.testing.assert_allclose``: ``assert_close`` without the dtype
    and device checks, NaNs equal by default, non-tensor ``expected`` taken as a tensor of
    ``actual``'s dtype."""
    import warnings

    from ._creation import tensor
    from ._tensor import Tensor

    warnings.warn("`torch.testing.assert_allclose()` is deprecated since 1.12 and will be "
                  "removed in a future release. Please use `torch.testing.assert_close()` "
                  "instead.", FutureWarning, stacklevel=2)
    if not isinstance(actual, Tensor):
        actual = tensor(actual)
    if not isinstance(expected, Tensor):
        expected = tensor(expected, dtype=actual.dtype)
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan,
                 check_device=True, check_dtype=False, check_stride=False, msg=msg or None)
