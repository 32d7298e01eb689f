"""The shift path of the convolutions (``ember.ops.conv_shift``: shifted GEMMs over one
packed buffer of the input's stride phases, no window gather; few channels: one product over
contiguous copies) and its direct BLAS calls (``ember.ops._blas``),
against PyTorch in float64 and float32: outputs, input/weight/bias gradients, second
derivatives and transposed convolutions; the path is checked to be the one taken, and the
gather path (direct BLAS off) gives the same numbers."""

import ember
import ember.nn.functional as F
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from ember.ops import _blas, _onednn
from ember.ops import conv_shift as shift
from nn_compare import assert_close, em, randn, th

_real_measured_faster = shift.measured_faster

if _blas.gemm(np.dtype(np.float64)) is None:  # numpy on MKL/Accelerate: nothing to test
    pytest.skip("numpy's BLAS is not OpenBLAS: the shift path is off", allow_module_level=True)

# (input shape, weight shape, conv kwargs): phase rows at most MAX_WASTE times the output's
CASES = [
    ((3, 8, 10, 12), (12, 8, 3, 3), dict(padding=1)),
    ((2, 9, 9, 12), (16, 9, 3, 3), dict(padding=0)),
    ((2, 12, 11, 20), (8, 12, 3, 5), dict(padding=(1, 2), dilation=(2, 1))),
    ((2, 16, 8, 16), (16, 16, 5, 5), dict(padding=2)),
    ((2, 16, 8, 8), (4, 16, 3, 3), dict(padding=1)),  # 4 output channels: gather for dx
    ((2, 16, 8, 8), (16, 16, 3, 3), dict(padding=3)),  # padding past the kernel
    ((2, 16, 7, 8), (16, 16, 2, 2), dict(padding="same")),  # asymmetric 'same'
    ((1, 8, 6, 40), (10, 8, 3, 3), dict(padding=(1, 0))),
    ((2, 9, 20), (10, 9, 5), dict(padding=2)),  # 1-D
    ((2, 9, 20), (10, 9, 3), dict(padding=0, dilation=2)),
    ((2, 12, 15, 17), (10, 12, 3, 3), dict(stride=2, padding=1)),  # phases
    ((2, 8, 16, 25), (9, 8, 3, 4), dict(stride=(2, 3), padding=(1, 2), dilation=(1, 2))),
    ((2, 9, 31), (8, 9, 5), dict(stride=3, padding=2)),
    ((2, 3, 12, 14), (8, 3, 3, 3), dict(padding=1)),  # few channels: one column matrix
    ((2, 1, 14, 14), (8, 1, 3, 3), {}),
    ((2, 3, 30, 30), (8, 3, 7, 7), dict(stride=2, padding=3)),  # a ResNet stem
]
IDS = [str(i) for i in range(len(CASES))]


def _conv(x_shape):
    return (F.conv1d, TF.conv1d) if len(x_shape) == 3 else (F.conv2d, TF.conv2d)


@pytest.fixture(autouse=True)
def numpy_convolutions(monkeypatch):
    """These are tests of the numpy paths: oneDNN (``ops._onednn``) is off while they run."""
    monkeypatch.setattr(_onednn, "_enabled", False)


@pytest.fixture
def counted(monkeypatch):
    """Counts the shift-path products (``conv_shift.convolve``/``weight_grad`` calls)."""
    calls = {"convolve": 0, "weight_grad": 0}
    for name in calls:
        real = getattr(shift, name)

        def wrapped(*a, _real=real, _name=name, **k):
            calls[_name] += 1
            return _real(*a, **k)

        monkeypatch.setattr(shift, name, wrapped)
    return calls


@pytest.fixture(autouse=True)
def _every_form(monkeypatch):
    """The direct BLAS on, and every (stride, channels) corner on the shift path, also the
    ones the gather path was measured faster for (``test_forms_chosen`` checks the choice)."""
    _blas.set_enabled(True)
    monkeypatch.setattr(shift, "measured_faster", lambda stride, channels: True)
    yield
    _blas.set_enabled(True)


def test_forms_chosen(monkeypatch, counted):
    """With the measured choice: stride 1 with many channels and strided with few take the
    shift path; strided with many and stride 1 with few keep the gather path."""
    real = _real_measured_faster
    assert real((1, 1), 8) and real((2, 2), 3) and real((2,), 1)
    assert not real((2, 2), 8) and not real((1, 1), 3) and not real((1, 2), 64)
    monkeypatch.setattr(shift, "measured_faster", real)
    for x_shape, w_shape, kw, taken in [
            ((2, 8, 12, 12), (8, 8, 3, 3), dict(padding=1), True),
            ((2, 3, 30, 30), (8, 3, 7, 7), dict(stride=2, padding=3), True),
            ((2, 8, 12, 12), (8, 8, 3, 3), dict(stride=2, padding=1), False),
            ((2, 3, 12, 12), (8, 3, 3, 3), dict(padding=1), False)]:
        before = counted["convolve"]
        F.conv2d(em(randn(*x_shape)), em(randn(*w_shape)), **kw)
        assert (counted["convolve"] > before) == taken, (x_shape, w_shape, kw)


def _run_ember(fn, x, w, b, g, kw):
    ex, ew, eb = (em(a, requires_grad=True) for a in (x, w, b))
    y = fn(ex, ew, eb, **kw)
    y.backward(em(g))
    return y, ex.grad, ew.grad, eb.grad


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_matches_torch_and_gather_path(case, dtype, counted):
    x_shape, w_shape, kw = case
    efn, tfn = _conv(x_shape)
    x, w = randn(*x_shape, seed=1, dtype=dtype), randn(*w_shape, seed=2, dtype=dtype)
    b = randn(w_shape[0], seed=3, dtype=dtype)
    tx, tw, tb = th(x, True), th(w, True), th(b, True)
    ty = tfn(tx, tw, tb, **kw)
    g = randn(*ty.shape, seed=4, dtype=dtype)
    ty.backward(th(g))
    got = _run_ember(efn, x, w, b, g, kw)
    assert counted["convolve"] >= 1 and counted["weight_grad"] == 1, counted
    tol = dict(rtol=1e-10, atol=1e-10) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-4)
    for e, t, what in zip(got, (ty, tx.grad, tw.grad, tb.grad), ("y", "dx", "dw", "db")):
        assert_close(e, t, msg=what, **tol)
    _blas.set_enabled(False)
    before = dict(counted)
    old = _run_ember(efn, x, w, b, g, kw)
    assert counted == before  # the gather path ran
    for e, o, what in zip(got, old, ("y", "dx", "dw", "db")):
        assert_close(e, o, msg=what, **tol)


@pytest.mark.parametrize("case", [CASES[0], CASES[2], CASES[6], CASES[8]],
                         ids=["pad1", "dilated", "same-even", "1d"])
def test_second_derivatives(case, counted):
    x_shape, w_shape, kw = case
    efn, tfn = _conv(x_shape)
    x, w = randn(*x_shape, seed=5, dtype=np.float64), randn(*w_shape, seed=6, dtype=np.float64)
    outs = []
    for lib, fn, make in ((ember, efn, em), (torch, tfn, th)):
        xx, ww = make(x, requires_grad=True), make(w, requires_grad=True)
        y = fn(xx, ww, **kw)
        gx, gw = lib.autograd.grad((y * y).sum(), (xx, ww), create_graph=True)
        hx, hw = lib.autograd.grad((gx * gx).sum() + (gw ** 3).sum(), (xx, ww))
        outs.append((gx, gw, hx, hw))
    assert counted["convolve"] >= 3
    for e, t, what in zip(outs[0], outs[1], ("gx", "gw", "hx", "hw")):
        assert_close(e, t, rtol=1e-9, atol=1e-9, msg=what)


@pytest.mark.parametrize("kw", [dict(padding=1), dict(padding=0, dilation=2),
                                dict(padding=(2, 1))])
def test_transposed_convolution_stride1(kw, counted):
    x, w = randn(2, 12, 7, 20, seed=7, dtype=np.float64), randn(12, 10, 3, 3, seed=8,
                                                               dtype=np.float64)
    ex, ew = em(x, requires_grad=True), em(w, requires_grad=True)
    tx, tw = th(x, True), th(w, True)
    ey, ty = F.conv_transpose2d(ex, ew, **kw), TF.conv_transpose2d(tx, tw, **kw)
    g = randn(*ty.shape, seed=9, dtype=np.float64)
    ey.backward(em(g))
    ty.backward(th(g))
    assert counted["convolve"] >= 1
    for e, t, what in ((ey, ty, "y"), (ex.grad, tx.grad, "dx"), (ew.grad, tw.grad, "dw")):
        assert_close(e, t, rtol=1e-10, atol=1e-10, msg=what)


def test_not_taken_where_it_does_not_apply(counted):
    """Grouped, 1x1, 3-D and narrow-output convolutions keep the gather path."""
    for x_shape, w_shape, kw in [((2, 8, 9, 9), (8, 4, 3, 3), dict(groups=2, padding=1)),
                                 ((2, 8, 9, 9), (8, 8, 1, 1), {}),
                                 ((2, 8, 9, 9), (8, 8, 1, 1), dict(stride=2)),
                                 ((2, 8, 7, 7), (8, 8, 3, 3), {}),  # padded rows 7/5 > 1.25
                                 ((2, 8, 5, 5, 5), (8, 8, 3, 3, 3), dict(padding=1))]:
        fn = F.conv3d if len(x_shape) == 5 else F.conv2d
        fn(em(randn(*x_shape)), em(randn(*w_shape)), **kw)
    assert counted == {"convolve": 0, "weight_grad": 0}


def test_noncontiguous_input_and_no_grad(counted):
    x = randn(2, 9, 10, 8, seed=10)
    w = randn(6, 9, 3, 3, seed=11)
    ex = em(x).transpose(2, 3)  # a strided view
    with ember.no_grad():
        y = F.conv2d(ex, em(w), padding=1)
    t = TF.conv2d(th(x).transpose(2, 3), th(w), padding=1)
    assert counted["convolve"] == 1
    assert_close(y, t, rtol=1e-4, atol=1e-4)


def test_gemm_checks_its_operands():
    gemm = _blas.gemm(np.dtype(np.float32))
    a = np.ones((4, 3), np.float32)
    b = np.ones((3, 5), np.float32)
    c = np.zeros((4, 5), np.float32)
    gemm(4, 5, 3, a, 0, 3, b, 0, 5, c, 0, 5)
    np.testing.assert_array_equal(c, np.full((4, 5), 3.0, np.float32))
    gemm(4, 5, 3, a, 0, 3, b, 0, 5, c, 0, 5, beta=1.0)  # accumulates
    np.testing.assert_array_equal(c, np.full((4, 5), 6.0, np.float32))
    with pytest.raises(RuntimeError, match="operand B .* runs outside its buffer"):
        gemm(4, 5, 3, a, 0, 3, b, 1, 5, c, 0, 5)
    with pytest.raises(RuntimeError, match="operand C is float64"):
        gemm(4, 5, 3, a, 0, 3, b, 0, 5, c.astype(np.float64), 0, 5)
    with pytest.raises(RuntimeError, match="C-contiguous"):
        gemm(4, 5, 3, a, 0, 3, b, 0, 5, np.zeros((5, 4), np.float32).T, 0, 5)
    with pytest.raises(RuntimeError, match="read-only"):
        ro = np.zeros((4, 5), np.float32)
        ro.flags.writeable = False
        gemm(4, 5, 3, a, 0, 3, b, 0, 5, ro, 0, 5)


def _random_geometry(rng):
    """A random stride-1 convolution: 1-D or 2-D, kernel 1-5 (not all 1), dilation 1-3,
    padding from 0 to past the dilated kernel, input at least the dilated kernel."""
    nd = int(rng.integers(1, 3))
    k = [int(v) for v in rng.integers(1, 6, nd)]
    if all(v == 1 for v in k):
        k[-1] = 3
    d = [int(v) for v in rng.integers(1, 4, nd)]
    p = [int(rng.integers(0, dv * (kv - 1) + 3)) for kv, dv in zip(k, d)]
    sp = [int(dv * (kv - 1) + 1 + rng.integers(0, 6)) for kv, dv in zip(k, d)]
    n, c, o = int(rng.integers(1, 4)), int(rng.integers(8, 12)), int(rng.integers(8, 11))
    return (n, c, *sp), (o, c, *k), dict(padding=p, dilation=d)


@pytest.mark.parametrize("seed", range(6))
def test_random_stride1_geometries_match_torch(seed, counted):
    """Each sample's rows share their zero gaps with the next sample's: random kernels,
    dilations and paddings (also past the kernel) with non-zero data in every position
    check that no product reads across a sample or row boundary (outputs and gradients,
    float64, 8 geometries per seed that take the path)."""
    rng = np.random.default_rng(100 + seed)
    taken = 0
    while taken < 8:
        x_shape, w_shape, kw = _random_geometry(rng)
        nd = len(w_shape) - 2
        if shift.plan_for(x_shape, np.float64, w_shape, (1,) * nd,
                          [(v, v) for v in kw["padding"]], kw["dilation"], 1) is None:
            continue  # padded rows too wide for the shift path (the gather path's tests)
        taken += 1
        efn, tfn = _conv(x_shape)
        x = rng.standard_normal(x_shape) + 3.0  # no zeros that could hide a wrong read
        w, b = rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
        tx, tw, tb = th(x, True), th(w, True), th(b, True)
        ty = tfn(tx, tw, tb, **kw)
        g = rng.standard_normal(tuple(ty.shape)) + 1.0
        ty.backward(th(g))
        got = _run_ember(efn, x, w, b, g, kw)
        for e, t, what in zip(got, (ty, tx.grad, tw.grad, tb.grad), ("y", "dx", "dw", "db")):
            assert_close(e, t, rtol=1e-10, atol=1e-10, msg=f"{what} {x_shape} {w_shape} {kw}")
    assert counted["convolve"] >= 8 and counted["weight_grad"] == 8


def test_threaded_copies_equal_serial_ones(counted, monkeypatch):
    """Packing, unpacking and the weight gradient's shifted copies are split over the
    threads by sample (or output channel) when large: the results equal those of the same
    copies done in one part, bit for bit, and torch's."""
    from ember.ops import _parallel

    split = []

    def threaded(fn, n, unit=1, *a, **k):
        split.append(_parallel.parts_for(n, unit))
        return _parallel.run_parts(fn, n, unit, *a, **k)

    x, w = randn(16, 16, 40, 40, seed=12, dtype=np.float64), randn(16, 16, 3, 3, seed=13,
                                                                    dtype=np.float64)
    g = randn(16, 16, 40, 40, seed=14, dtype=np.float64)
    old = ember.get_num_threads()
    results = []
    try:
        ember.set_num_threads(2)
        for run_parts in (threaded, lambda fn, n, *a, **k: fn(0, n)):
            monkeypatch.setattr(shift, "run_parts", run_parts)
            ex, ew = em(x, requires_grad=True), em(w, requires_grad=True)
            y = F.conv2d(ex, ew, padding=1)
            y.backward(em(g))
            results.append([a.detach().numpy().copy() for a in (y, ex.grad, ew.grad)])
    finally:
        ember.set_num_threads(old)
    assert max(split) > 1 and counted["weight_grad"] == 2
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)
    tx, tw = th(x, True), th(w, True)
    ty = TF.conv2d(tx, tw, padding=1)
    ty.backward(th(g))
    for e, t, what in zip(results[0], (ty, tx.grad, tw.grad), ("y", "dx", "dw")):
        assert_close(e, t, rtol=1e-10, atol=1e-10, msg=what)


@pytest.mark.parametrize("block_bytes", [1, 4 << 20])
@pytest.mark.parametrize("case", [CASES[13], CASES[14], CASES[15]],
                         ids=["few-channels", "one-channel", "stem"])
def test_no_grad_columns_in_blocks(case, block_bytes, monkeypatch):
    """Without a graph, few-channel convolutions make and multiply their columns a block of
    positions at a time (256 positions a block with ``BLOCK_BYTES`` 1): equal to torch."""
    x_shape, w_shape, kw = case
    monkeypatch.setattr(shift, "BLOCK_BYTES", block_bytes)
    calls = []
    real = shift.convolve_in_blocks
    monkeypatch.setattr(shift, "convolve_in_blocks",
                        lambda *a: calls.append(1) or real(*a))
    x, w = randn(*x_shape, seed=1, dtype=np.float64), randn(*w_shape, seed=2, dtype=np.float64)
    b = randn(w_shape[0], seed=3, dtype=np.float64)
    efn, tfn = _conv(x_shape)
    with ember.no_grad():
        y = efn(em(x), em(w), em(b), **kw)
    assert calls == [1]
    assert_close(y, tfn(th(x), th(w), th(b), **kw), rtol=1e-10, atol=1e-10)
    grad_mode = efn(em(x), em(w, requires_grad=True), em(b), **kw)
    assert calls == [1]  # a graph keeps the whole column matrix for the weight gradient
    assert_close(y, grad_mode, rtol=1e-12, atol=1e-12)
