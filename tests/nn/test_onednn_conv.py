"""Convolutions on oneDNN (``ember.ops._onednn``) against PyTorch in float32: outputs and
input/weight/bias gradients over strides, padding (asymmetric too), dilation, groups,
1-, 2- and 3-D, transposed convolutions, second derivatives; the oneDNN path is checked to
be the one taken, the numpy path gives the same numbers, and what oneDNN does not take
(float64, forked children) falls back to numpy."""

import multiprocessing as mp
import os
import platform
import subprocess
import sys
import threading

import ember
import ember.nn.functional as F
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from ember.ops import _onednn
from nn_compare import assert_close, em, randn, th

ON_X86_LINUX = sys.platform.startswith("linux") and platform.machine() == "x86_64"

# (input shape, weight shape, conv kwargs)
CASES = [
    ((4, 16, 12, 12), (16, 16, 3, 3), dict(padding=1)),
    ((2, 3, 20, 20), (8, 3, 7, 7), dict(stride=2, padding=3)),
    ((2, 12, 11, 20), (8, 12, 3, 5), dict(padding=(1, 2), dilation=(2, 1))),
    ((2, 16, 7, 8), (16, 16, 2, 2), dict(padding="same")),  # asymmetric padding
    ((2, 8, 16, 25), (9, 8, 3, 4), dict(stride=(2, 3), padding=(1, 2), dilation=(1, 2))),
    ((2, 16, 9, 9), (32, 4, 3, 3), dict(padding=1, groups=4)),
    ((2, 16, 10, 10), (16, 1, 3, 3), dict(stride=2, padding=1, groups=16)),  # depthwise
    ((3, 32, 6, 6), (64, 32, 1, 1), dict(stride=2)),  # 1x1, strided
    ((2, 9, 20), (10, 9, 5), dict(padding=2)),  # 1-D
    ((2, 6, 5, 6, 7), (4, 6, 3, 3, 3), dict(padding=1, stride=(1, 2, 1))),  # 3-D
]
IDS = [str(i) for i in range(len(CASES))]
FUNCS = {3: (F.conv1d, TF.conv1d), 4: (F.conv2d, TF.conv2d), 5: (F.conv3d, TF.conv3d)}

pytestmark = pytest.mark.skipif(not _onednn.available(),
                                reason="oneDNN is not installed (only on x86-64 Linux)")


@pytest.fixture
def counted(monkeypatch):
    """Counts the oneDNN executions that returned a result, by kind."""
    calls = {"fwd": 0, "bwd_data": 0, "bwd_weights": 0}
    real = _onednn._Entry.run

    def run(self, arrays, out_shape):
        calls[self.kind] += 1
        return real(self, arrays, out_shape)

    monkeypatch.setattr(_onednn._Entry, "run", run)
    return calls


def _ember_grads(efn, x, w, b, g, kw):
    ex, ew, eb = em(x, requires_grad=True), em(w, requires_grad=True), em(b, requires_grad=True)
    y = efn(ex, ew, eb, **kw)
    y.backward(em(g))
    return y, ex.grad, ew.grad, eb.grad


def test_library_is_found_on_x86_64_linux():
    """ember depends on onednn-cpu-gomp there: the library must load."""
    if not ON_X86_LINUX:
        pytest.skip("onednn-cpu-gomp is a dependency only on x86-64 Linux")
    assert _onednn.available() and _onednn.library_path().endswith("libdnnl.so.3")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_matches_torch_and_numpy_path(case, counted, monkeypatch):
    x_shape, w_shape, kw = case
    efn, tfn = FUNCS[len(x_shape)]
    x, w, b = randn(*x_shape, seed=1), randn(*w_shape, seed=2), randn(w_shape[0], seed=3)
    tx, tw, tb = th(x, True), th(w, True), th(b, True)
    ty = tfn(tx, tw, tb, **kw)
    g = randn(*ty.shape, seed=4)
    ty.backward(th(g))
    got = _ember_grads(efn, x, w, b, g, kw)
    assert counted == {"fwd": 1, "bwd_data": 1, "bwd_weights": 1}
    for e, t, what in zip(got, (ty, tx.grad, tw.grad, tb.grad), ("y", "dx", "dw", "db")):
        assert_close(e, t, rtol=1e-5, atol=1e-5, msg=what)
    monkeypatch.setattr(_onednn, "_enabled", False)
    numpy_path = _ember_grads(efn, x, w, b, g, kw)
    assert counted == {"fwd": 1, "bwd_data": 1, "bwd_weights": 1}  # oneDNN not used
    for e, o, what in zip(got, numpy_path, ("y", "dx", "dw", "db")):
        assert_close(e, o, rtol=1e-4, atol=1e-4, msg=what)


def test_resnet_layer_equals_torch_bitwise():
    """The same kernels as PyTorch's: a ResNet layer's output is equal bit for bit."""
    x, w = randn(8, 32, 16, 16, seed=5), randn(32, 32, 3, 3, seed=6) * 0.1
    got = F.conv2d(em(x), em(w), padding=1).numpy()
    ref = TF.conv2d(th(x), th(w), padding=1).numpy()
    assert np.array_equal(got, ref)


@pytest.mark.parametrize("kw", [dict(stride=2, padding=1, output_padding=1),
                                dict(stride=3, padding=2, dilation=2, groups=2),
                                dict(stride=1, padding=0)])
def test_conv_transpose_matches_torch(kw, counted):
    groups = kw.get("groups", 1)  # 8 -> 6 channels
    x, w, b = randn(2, 8, 7, 9, seed=7), randn(8, 6 // groups, 3, 4, seed=8), randn(6, seed=9)
    tx, tw, tb = th(x, True), th(w, True), th(b, True)
    ty = TF.conv_transpose2d(tx, tw, tb, **kw)
    g = randn(*ty.shape, seed=10)
    ty.backward(th(g))
    ex, ew, eb = em(x, requires_grad=True), em(w, requires_grad=True), em(b, requires_grad=True)
    ey = F.conv_transpose2d(ex, ew, eb, **kw)
    ey.backward(em(g))
    assert counted["bwd_data"] == 1  # the transposed convolution's forward
    for e, t, what in zip((ey, ex.grad, ew.grad, eb.grad), (ty, tx.grad, tw.grad, tb.grad),
                          ("y", "dx", "dw", "db")):
        assert_close(e, t, rtol=1e-5, atol=1e-5, msg=what)


def test_second_derivatives_match_torch(counted):
    x, w = randn(2, 8, 9, 9, seed=11), randn(12, 8, 3, 3, seed=12)
    outs = []
    for lib, fn, make in ((ember, F.conv2d, em), (torch, TF.conv2d, th)):
        xx, ww = make(x, requires_grad=True), make(w, requires_grad=True)
        y = fn(xx, ww, stride=2, padding=1)
        gx, gw = lib.autograd.grad((y * y).sum(), (xx, ww), create_graph=True)
        ggx, ggw = lib.autograd.grad((gx * gx).sum() + (gw * gw).sum(), (xx, ww))
        outs.append((gx, gw, ggx, ggw))
    assert counted["fwd"] >= 2 and counted["bwd_weights"] >= 2
    for e, t in zip(*outs):
        assert_close(e, t, rtol=1e-4, atol=1e-4)


def test_channels_last_and_strided_inputs():
    base = randn(2, 12, 10, 16, seed=13)
    w = randn(16, 16, 3, 3, seed=14)
    views = [lambda a: a.permute(0, 3, 1, 2),  # channels-last strides
             lambda a: a.permute(0, 3, 1, 2)[:, :, :, ::2]]  # and a step
    for view in views:
        got = F.conv2d(view(em(base)), em(w), padding=1)
        ref = TF.conv2d(view(th(base)), th(w), padding=1)
        assert_close(got, ref, rtol=1e-5, atol=1e-5)


def test_float64_and_refused_configurations_fall_back(counted):
    x, w = randn(2, 4, 8, 8, seed=15, dtype=np.float64), randn(6, 4, 3, 3, seed=16,
                                                              dtype=np.float64)
    assert _onednn.conv_forward(x, w, None, (1, 1), ((1, 1), (1, 1)), (1, 1), 1) is None
    got = F.conv2d(em(x), em(w), padding=1)
    assert_close(got, TF.conv2d(th(x), th(w), padding=1), rtol=1e-12, atol=1e-12)
    x32 = x.astype(np.float32)
    # a kernel larger than the padded input: no output, no descriptor
    assert _onednn.conv_forward(x32, np.zeros((6, 4, 11, 11), np.float32), None, (1, 1),
                                ((1, 1), (1, 1)), (1, 1), 1) is None
    assert counted == {"fwd": 0, "bwd_data": 0, "bwd_weights": 0}


def test_cache_keeps_at_most_cache_size(monkeypatch):
    monkeypatch.setattr(_onednn, "CACHE_SIZE", 2)
    w = randn(4, 3, 3, 3, seed=17)
    for size in (5, 6, 7, 8):
        x = randn(1, 3, size, size, seed=size)
        assert_close(F.conv2d(em(x), em(w)), TF.conv2d(th(x), th(w)), rtol=1e-5, atol=1e-5)
    assert len(_onednn._cache) <= 2


def test_threads_share_primitives():
    """Two Python threads running the same configuration at once (the primitive's memory
    objects are shared; ctypes releases the GIL) get their own right answers."""
    w = randn(16, 16, 3, 3, seed=18)
    xs = [randn(4, 16, 12, 12, seed=20 + i) for i in range(2)]
    refs = [TF.conv2d(th(x), th(w), padding=1).numpy() for x in xs]
    errors = []

    def work(i):
        for _ in range(20):
            got = F.conv2d(em(xs[i]), em(w), padding=1).numpy()
            if not np.allclose(got, refs[i], rtol=1e-5, atol=1e-5):
                errors.append(i)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def _child_conv(x, w):
    return _onednn.available(), F.conv2d(em(x), em(w), padding=1).numpy()


@pytest.mark.skipif(sys.platform != "linux", reason="fork start method")
def test_forked_child_uses_numpy_path():
    """GNU OpenMP cannot start threads in a child forked after it ran: the child turns
    oneDNN off and convolves with numpy (a DataLoader worker, say)."""
    x, w = randn(2, 8, 10, 10, seed=30), randn(8, 8, 3, 3, seed=31)
    parent = F.conv2d(em(x), em(w), padding=1).numpy()  # OpenMP threads now exist
    with mp.get_context("fork").Pool(1) as pool:
        on, child = pool.apply_async(_child_conv, (x, w)).get(timeout=120)
    assert not on
    assert_close(child, parent, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("env, want", [({}, "30000"), ({"GOMP_SPINCOUNT": "7"}, "7"),
                                       ({"OMP_WAIT_POLICY": "ACTIVE"}, None)])
def test_openmp_spin_is_shortened_unless_the_user_chose(env, want):
    code = ("import os, ember; from ember.ops import _onednn; assert _onednn.available(); "
            "print(os.environ.get('GOMP_SPINCOUNT'))")
    base = {k: v for k, v in os.environ.items() if k not in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")}
    out = subprocess.run([sys.executable, "-c", code], env={**base, **env}, check=True,
                         capture_output=True, text=True).stdout.split()[-1]
    assert out == str(want)


def test_set_num_threads_reaches_onednn():
    """A primitive keeps the OpenMP thread count it was built with, so the cache is keyed by
    it: after ``set_num_threads(1)`` the convolution is built again, for one thread (measured:
    a 32x64x56x56 layer then takes 53 ms at 1.00 CPU per wall second, against 27 ms at 1.96
    on two threads; before the key, 1.69 CPU per wall second after set_num_threads(1))."""
    x, w = randn(4, 8, 20, 20, seed=40), randn(8, 8, 3, 3, seed=41)
    ref = TF.conv2d(th(x), th(w), padding=1)
    old = ember.get_num_threads()
    try:
        for n in (1, 2):
            ember.set_num_threads(n)
            assert_close(F.conv2d(em(x), em(w), padding=1), ref, rtol=1e-5, atol=1e-5)
    finally:
        ember.set_num_threads(old)
    built_for = {threads for (key, threads), entry in _onednn._cache.items()
                 if key[0] == "fwd" and key[1] == x.shape and entry is not None}
    assert built_for >= {1, 2}
