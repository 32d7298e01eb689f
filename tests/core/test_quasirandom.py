"""``ember.quasirandom.SobolEngine`` against ``torch.quasirandom.SobolEngine``: unscrambled
points equal PyTorch's exactly (in any dimension, after resets and fast-forwards); scrambled
points are reproducible from the seed or ``manual_seed`` and well spread."""

import warnings

import ember
import numpy as np
import pytest
import torch


@pytest.mark.parametrize("dimension", [1, 7, 1111])
def test_unscrambled_points_are_pytorchs(dimension):
    e, t = ember.quasirandom.SobolEngine(dimension), torch.quasirandom.SobolEngine(dimension)
    for step in (lambda s: s.draw(5), lambda s: s.draw(16, dtype=s_dtype(s)),
                 lambda s: s.fast_forward(7) and s.draw(3), lambda s: s.reset().draw(9)):
        a, b = step(e), step(t)
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        assert e.num_generated == t.num_generated


def s_dtype(engine):
    return ember.float64 if isinstance(engine, ember.quasirandom.SobolEngine) else torch.float64


def test_draw_base2_out_and_repr_match_torch():
    for fw in (ember, torch):
        e = fw.quasirandom.SobolEngine(3)
        assert e.draw_base2(2).shape == (4, 3)
        e.draw(3)
        with pytest.raises(ValueError, match="balance properties of Sobol' points"):
            e.draw_base2(2)
        out = fw.empty(2, 3)
        assert e.draw(2, out=out) is out and e.num_generated == 9
        assert e.draw(0).shape == (0, 3)
        assert repr(e) == "SobolEngine(dimension=3)"
        assert repr(fw.quasirandom.SobolEngine(2, scramble=True, seed=4)) == \
            "SobolEngine(dimension=2, scramble=True, seed=4)"
        with pytest.raises(ValueError, match=r"\[1, 21201\]"):
            fw.quasirandom.SobolEngine(0)


def test_scrambled_points_are_reproducible_and_spread():
    a = ember.quasirandom.SobolEngine(4, scramble=True, seed=3).draw(64)
    b = ember.quasirandom.SobolEngine(4, scramble=True, seed=3).draw(64)
    c = ember.quasirandom.SobolEngine(4, scramble=True, seed=5).draw(64)
    assert np.array_equal(a.numpy(), b.numpy()) and not np.array_equal(a.numpy(), c.numpy())
    ember.manual_seed(2)
    d = ember.quasirandom.SobolEngine(4, scramble=True).draw(8)
    ember.manual_seed(2)
    assert np.array_equal(d.numpy(), ember.quasirandom.SobolEngine(4, scramble=True)
                          .draw(8).numpy())
    x = a.numpy()
    assert x.min() >= 0 and x.max() < 1
    for k in range(4):  # each 1-D projection of 64 points puts one point in each 1/64 bin
        assert sorted(np.floor(x[:, k] * 64).astype(int).tolist()) == list(range(64))


def test_no_warning_for_any_n():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ember.quasirandom.SobolEngine(2).draw(3)
