"""Kernels ember uses where CuPy lacks numpy's behaviour, checked here with numpy as the array
module (they take it as ``xp``) against numpy's own operations, and the flags helper that
stands in for ``flags.writeable`` on CuPy arrays."""

import numpy as np
import pytest
from ember._array_flags import writeable
from ember.ops.index import assign_last_wins, ufunc_at_in_rounds


def _case(seed, order="C"):
    rng = np.random.default_rng(seed)
    out = np.asarray(rng.standard_normal((4, 5)), order=order)
    index = (rng.integers(0, 4, (3, 7)), rng.integers(0, 5, (3, 7)))
    src = rng.standard_normal((3, 7))
    if seed % 3 == 0:
        src[0, 0] = np.nan
    return out, index, src


@pytest.mark.parametrize("ufunc", [np.multiply, np.maximum, np.minimum, np.add])
@pytest.mark.parametrize("order", ["C", "F"])
def test_ufunc_at_in_rounds_equals_ufunc_at(ufunc, order):
    """Repeated targets, NaN and a non-contiguous output: bit-equal to ``ufunc.at``, whose
    updates run in index order (so products round the same)."""
    for seed in range(12):
        out, index, src = _case(seed, order)
        want = out.copy()
        ufunc.at(want, index, src)
        ufunc_at_in_rounds(np, ufunc, out, index, src)
        np.testing.assert_array_equal(out, want)


def test_ufunc_at_in_rounds_broadcasts_src_and_handles_no_updates():
    out = np.ones(4)
    ufunc_at_in_rounds(np, np.multiply, out, (np.array([1, 1, 3]),), np.float64(2.0))
    np.testing.assert_array_equal(out, [1.0, 4.0, 1.0, 2.0])
    ufunc_at_in_rounds(np, np.multiply, out, (np.array([], dtype=np.int64),), np.ones(0))
    np.testing.assert_array_equal(out, [1.0, 4.0, 1.0, 2.0])


def test_assign_last_wins_equals_numpy_assignment():
    """numpy leaves the last of repeated targets; the CUDA path must too."""
    for seed in range(12):
        out, index, src = _case(seed)
        want = out.copy()
        want[index] = src
        assign_last_wins(np, out, index, src)
        np.testing.assert_array_equal(out, want)


class _FlaglessArray:
    """What ``writeable`` sees of a CuPy array: flags without ``writeable``, and strides."""

    class flags:  # noqa: N801 - mirrors the attribute name
        c_contiguous = True

    def __init__(self, shape, strides):
        self.shape, self.strides = shape, strides


def test_writeable_reads_numpy_flags_and_cupy_strides():
    a = np.zeros((2, 3))
    assert writeable(a) and not writeable(np.broadcast_to(a[:1], (4, 3)))
    assert not writeable(np.frombuffer(b"abcd", dtype=np.uint8))
    assert writeable(_FlaglessArray((2, 3), (24, 8)))
    assert not writeable(_FlaglessArray((4, 3), (0, 8)))  # an expanded view
    assert writeable(_FlaglessArray((1, 3), (0, 8)))  # a zero stride over one element
