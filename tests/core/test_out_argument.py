"""``out=`` on functions computed out of place (creation, ``max``/``min`` with a dim, the
complex constructors, histograms, ``fft.*`` and ``linalg.*``): the result lands in ``out``
(resized when needed, in ``out``'s dtype for factories), the return value is ``out`` (a named
tuple of the outs for tuple results), as PyTorch."""

import warnings

import ember
import numpy as np
import pytest
import torch

A = np.array([[4.0, 1.0], [1.0, 3.0]])


def _outs(fw, make):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (PyTorch warns when it resizes a non-empty out)
        return make(fw)


CASES = {
    "arange": lambda fw: (lambda o: (fw.arange(3, out=o), o))(fw.zeros(3)),
    "arange_resize": lambda fw: (lambda o: (fw.arange(1, 7, 2, out=o), o))(fw.zeros(1)),
    "linspace_int_out": lambda fw: (lambda o: (fw.linspace(0, 1.5, 2, out=o), o))(
        fw.zeros(2, dtype=fw.int64)),
    "full": lambda fw: (lambda o: (fw.full((2, 2), 3.0, out=o), o))(fw.zeros(4)),
    "eye": lambda fw: (lambda o: (fw.eye(2, 3, out=o), o))(fw.zeros(2, 3)),
    "max_dim": lambda fw: (lambda v, i: (*fw.max(fw.tensor(A), 1, out=(v, i)), v, i))(
        fw.zeros(2, dtype=fw.float64), fw.zeros(2, dtype=fw.int64)),
    "min_dim": lambda fw: (lambda v, i: (*fw.min(fw.tensor(A), 0, out=(v, i)), v, i))(
        fw.zeros(2, dtype=fw.float64), fw.zeros(2, dtype=fw.int64)),
    "inv": lambda fw: (lambda o: (fw.linalg.inv(fw.tensor(A), out=o), o))(
        fw.zeros(2, 2, dtype=fw.float64)),
    "solve": lambda fw: (lambda o: (fw.linalg.solve(fw.tensor(A), fw.ones(2, dtype=fw.float64),
                                                    out=o), o))(fw.zeros(2, dtype=fw.float64)),
    "qr": lambda fw: (lambda q, r: (*fw.linalg.qr(fw.tensor(A), out=(q, r)), q, r))(
        fw.zeros(2, 2, dtype=fw.float64), fw.zeros(2, 2, dtype=fw.float64)),
    "vector_norm": lambda fw: (lambda o: (fw.linalg.vector_norm(fw.tensor(A), out=o), o))(
        fw.zeros((), dtype=fw.float64)),
    "fft": lambda fw: (lambda o: (fw.fft.fft(fw.tensor(A[0]), out=o), o))(
        fw.zeros(2, dtype=fw.complex128)),
    "rfftfreq": lambda fw: (lambda o: (fw.fft.rfftfreq(6, out=o), o))(fw.zeros(4)),
    "polar": lambda fw: (lambda o: (fw.polar(fw.ones(2), fw.zeros(2), out=o), o))(
        fw.zeros(2, dtype=fw.complex64)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_out_matches_torch(name):
    got, want = _outs(ember, CASES[name]), _outs(torch, CASES[name])
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert str(g.dtype).split(".")[-1] == str(w.dtype).split(".")[-1]
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-6, atol=1e-12)


def test_out_is_returned_and_refuses_lossy_casts():
    o = ember.zeros(3)
    assert ember.arange(3, out=o) is o
    v, i = ember.zeros(2, dtype=ember.float64), ember.zeros(2, dtype=ember.int64)
    r = ember.max(ember.tensor(A), 1, out=(v, i))
    assert r.values is v and r.indices is i
    with pytest.raises(RuntimeError, match="can't be cast"):
        ember.linalg.inv(ember.tensor(A), out=ember.zeros(2, 2, dtype=ember.int64))
