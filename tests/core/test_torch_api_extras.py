"""Less common ``torch.*`` functions and ``Tensor`` methods, against PyTorch: the functional RNN
cells, ``native_layer_norm``/``native_dropout``, ``hardshrink``, ``binomial``, ``histogramdd``,
``lu``/``frobenius_norm``/``nuclear_norm``, ``adjoint``, the ``sym_*`` helpers, ``cond`` and
``while_loop``, the in-place ``index_put_``/``addmv_`` spellings, and the methods ``apply_``,
``map_``, ``map2_``, ``set_``, ``as_subclass``, ``dim_order`` and friends."""

import warnings

import ember
import numpy as np
import pytest
import torch

RNG = np.random.default_rng(5)


def _both(fn):
    """``fn(fw)`` for ember and torch, as numpy arrays (or lists of them)."""
    out = []
    for fw in (ember, torch):
        r = fn(fw)
        out.append([t.detach().numpy() for t in r] if isinstance(r, (tuple, list))
                   else r.detach().resolve_conj().numpy())
    return out


def _close(a, b, tol=1e-6):
    if isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _close(x, y, tol)
        return
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


@pytest.mark.parametrize("cell, gates", [("lstm_cell", 4), ("gru_cell", 3),
                                         ("rnn_tanh_cell", 1), ("rnn_relu_cell", 1)])
@pytest.mark.parametrize("bias", ["both", "none", "ih_only"])
def test_rnn_cells_match_torch_values_and_grads(cell, gates, bias):
    hidden, inp = 5, 4
    x = RNG.standard_normal((3, inp))
    h = RNG.standard_normal((3, hidden))
    c = RNG.standard_normal(h.shape)
    w_ih = RNG.standard_normal((gates * hidden, inp)) * 0.5
    w_hh = RNG.standard_normal((gates * hidden, hidden)) * 0.5
    b_ih = RNG.standard_normal(gates * hidden) * 0.1
    b_hh = RNG.standard_normal(gates * hidden) * 0.1
    grads = []
    for fw in (ember, torch):
        leaves = [fw.tensor(a, requires_grad=True) for a in (x, h, c, w_ih, w_hh, b_ih, b_hh)]
        tx, th, tc, twi, twh, tbi, tbh = leaves
        biases = {"both": (tbi, tbh), "none": (None, None), "ih_only": (tbi, None)}[bias]
        hx = (th, tc) if cell == "lstm_cell" else th
        out = getattr(fw, cell)(tx, hx, twi, twh, *biases)
        outs = out if isinstance(out, tuple) else (out,)
        sum(((o * o).sum() for o in outs), fw.tensor(0.0, dtype=fw.float64)).backward()
        grads.append([o.detach().numpy() for o in outs] +
                     [t.grad.numpy() for t in leaves if t.grad is not None])
    _close(grads[0], grads[1], 1e-10)


def test_rnn_cells_take_unbatched_input():
    """(ember also takes a 1-D input, as the cell modules do; PyTorch's functions refuse it)"""
    x, h, c = ember.randn(4), ember.randn(5), ember.randn(5)
    w_ih, w_hh = ember.randn(20, 4), ember.randn(20, 5)
    h1, c1 = ember.lstm_cell(x, (h, c), w_ih, w_hh)
    h2, c2 = ember.lstm_cell(x[None], (h[None], c[None]), w_ih, w_hh)
    assert h1.shape == (5,) and np.array_equal(h1.numpy(), h2[0].numpy())
    assert np.array_equal(c1.numpy(), c2[0].numpy())


def test_rnn_cell_shape_errors():
    with pytest.raises(RuntimeError, match="gru_cell"):
        ember.gru_cell(ember.ones(2, 3), ember.ones(2, 4), ember.ones(12, 5), ember.ones(12, 4))
    with pytest.raises(RuntimeError, match="lstm_cell"):
        ember.lstm_cell(ember.ones(2, 3), (ember.ones(2, 4),), ember.ones(16, 3),
                        ember.ones(16, 4))


def test_native_layer_norm_and_dropout_match_torch():
    x = RNG.standard_normal((2, 3, 4)).astype(np.float32)
    w, b = RNG.standard_normal(4).astype(np.float32), RNG.standard_normal(4).astype(np.float32)
    _close(*_both(lambda fw: fw.native_layer_norm(fw.tensor(x), [4], fw.tensor(w),
                                                  fw.tensor(b), 1e-5)), 1e-5)
    _close(*_both(lambda fw: fw.native_layer_norm(fw.tensor(x), [3, 4], None, None, 1e-5)),
           1e-5)
    for fw in (ember, torch):
        out, mask = fw.native_dropout(fw.tensor(x), 0.4, True)
        assert mask.dtype == fw.bool and 0 < int(mask.sum()) < mask.numel()
        kept = out.numpy()[mask.numpy()]
        np.testing.assert_allclose(kept, x[mask.numpy()] / 0.6, rtol=1e-6)
        assert (out.numpy()[~mask.numpy()] == 0).all()
        out, mask = fw.native_dropout(fw.tensor(x), 0.4, False)
        assert bool(mask.all()) and np.array_equal(out.numpy(), x)
    with pytest.raises(RuntimeError, match="dropout probability"):
        ember.native_dropout(ember.ones(2), 1.5, True)


def test_hardshrink_and_adjoint_match_torch():
    x = RNG.standard_normal((3, 4)).astype(np.float32)
    _close(*_both(lambda fw: fw.hardshrink(fw.tensor(x), 0.6)))
    z = (RNG.standard_normal((2, 3)) + 1j * RNG.standard_normal((2, 3))).astype(np.complex64)
    _close(*_both(lambda fw: fw.adjoint(fw.tensor(z))))
    _close(*_both(lambda fw: fw.tensor(x).adjoint()))


def test_binomial_draws():
    count = ember.tensor([0.0, 10.0, 50.0, 7.0])
    prob = ember.tensor([0.3, 0.0, 1.0, 0.5])
    ember.manual_seed(3)
    d = ember.binomial(count, prob)
    assert d.dtype == ember.float32 and d.tolist()[:3] == [0.0, 0.0, 50.0]
    assert 0 <= d.tolist()[3] <= 7
    ember.manual_seed(3)
    assert ember.binomial(count, prob).tolist() == d.tolist()  # the generator decides
    many = ember.binomial(ember.full((20000,), 10.0), ember.full((20000,), 0.3))
    assert abs(float(many.mean()) - 3.0) < 0.05
    for fw in (ember, torch):
        with pytest.raises(ValueError, match="floating-point dtypes for count"):
            fw.binomial(fw.tensor([3]), fw.tensor([0.5]))


@pytest.mark.parametrize("kwargs", [
    {"bins": [3, 4]},
    {"bins": 3, "range": [0.0, 1.0, 0.0, 0.5], "density": True},
    {"bins": 5, "weight": True},
    {"bins": "edges"},
])
def test_histogramdd_matches_torch(kwargs):
    x = RNG.random((60, 2)).astype(np.float32)
    w = RNG.random(60).astype(np.float32)

    def run(fw):
        kw = dict(kwargs)
        if kw.get("weight"):
            kw["weight"] = fw.tensor(w)
        if kw["bins"] == "edges":
            kw["bins"] = [fw.tensor([0.0, 0.2, 0.9]), fw.tensor([0.1, 0.5, 0.7, 1.0])]
        hist, edges = fw.histogramdd(fw.tensor(x), **kw)
        return [hist, *edges]

    _close(*_both(run), 1e-5)


def test_histogramdd_errors():
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        ember.histogramdd(ember.ones(4), bins=2)
    with pytest.raises(RuntimeError, match="range should have 4 elements"):
        ember.histogramdd(ember.ones(4, 2), bins=2, range=[0.0, 1.0])


def test_lu_frobenius_and_nuclear_norms_match_torch():
    a = RNG.standard_normal((2, 4, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (torch.lu is deprecated in PyTorch)
        _close(*_both(lambda fw: fw.lu(fw.tensor(a))))
        _close(*_both(lambda fw: fw.lu(fw.tensor(a), get_infos=True)))
        _close(*_both(lambda fw: fw.tensor(a).lu()))
        _close(*_both(lambda fw: fw.lu(fw.zeros(3, 3), get_infos=True)))
    _close(*_both(lambda fw: fw.frobenius_norm(fw.tensor(a), [1, 2], keepdim=True)), 1e-10)
    _close(*_both(lambda fw: fw.frobenius_norm(fw.tensor(a), 1)), 1e-10)
    _close(*_both(lambda fw: fw.nuclear_norm(fw.tensor(a[0]))), 1e-10)
    _close(*_both(lambda fw: fw.nuclear_norm(fw.tensor(a[0]), True)), 1e-10)
    _close(*_both(lambda fw: fw.nuclear_norm(fw.tensor(a), [1, 2])), 1e-10)


def test_sym_helpers_match_torch():
    cases = [("sym_int", (-3.7,)), ("sym_int", (True,)), ("sym_float", (2,)),
             ("sym_max", (2, 3.0)), ("sym_max", (2.0, 3)), ("sym_max", (4, 3)),
             ("sym_min", (2, 3.0)), ("sym_not", (0,)), ("sym_ite", (True, 1, 2)),
             ("sym_ite", (False, 1, 2)), ("sym_sqrt", (2,)), ("sym_sum", ([1, 2, 3],))]
    for name, args in cases:
        e, t = getattr(ember, name)(*args), getattr(torch, name)(*args)
        assert e == t and type(e) is type(t), (name, args, e, t)


def test_cond_and_while_loop_match_torch():
    x = RNG.standard_normal(3).astype(np.float32)
    for pred in (True, False):
        _close(*_both(lambda fw, p=pred: fw.cond(fw.tensor(p), lambda a: a * 2,
                                                 lambda a: a - 1, (fw.tensor(x),))))
    _close(*_both(lambda fw: fw.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, a * 2),
                                           (fw.tensor(0), fw.tensor(x)))))
    _close(*_both(lambda fw: fw.while_loop(lambda a: a.sum() < 10, lambda a: a * 2,
                                           (fw.ones(2),))))
    for fw in (ember, torch):
        with pytest.raises(RuntimeError, match="single-element tensor"):
            fw.cond(fw.tensor([True, False]), lambda: 1, lambda: 2)
    x = ember.tensor(x, requires_grad=True)  # autograd records the branch that ran
    ember.cond(True, lambda a: (a * 3).sum(), lambda a: a.sum(), [x]).backward()
    assert x.grad.tolist() == [3.0, 3.0, 3.0]


def test_inplace_function_spellings_match_torch():
    def put(fw):
        t = fw.zeros(3, 3)
        fw.index_put_(t, (fw.tensor([0, 1]), fw.tensor([1, 2])), fw.tensor(5.0))
        return t

    _close(*_both(put))
    _close(*_both(lambda fw: fw.addmv_(fw.ones(2), fw.ones(2, 3), fw.arange(3.0))))
    z = np.array([1 + 2j, 3 - 1j], np.complex64)
    _close(*_both(lambda fw: fw.conj_physical_(fw.tensor(z))))
    assert ember.is_distributed(ember.ones(2)) is False
    assert ember.GradScaler is ember.amp.GradScaler


def test_apply_map_and_map2_match_torch():
    def run(fw):
        a = fw.ones(2, 3)
        a.map_(fw.tensor([1.0, 2.0, 3.0]), lambda p, q: p * 10 + q)
        b = fw.arange(6, dtype=fw.int64).reshape(2, 3).apply_(lambda v: v * 1.7)
        c = fw.zeros(2, 2)
        if fw is ember or hasattr(c, "map2_"):
            c.map2_(fw.ones(2), fw.full((2, 1), 3.0), lambda p, q, r: p + q * r)
        v = fw.zeros(4)
        v[1:3].apply_(lambda e: 7.0)  # a view writes through to its base
        return [a, b, c, v]

    _close(*_both(run))
    for fw in (ember, torch):
        with pytest.raises(RuntimeError, match="requires grad"):
            fw.ones(2, requires_grad=True).apply_(lambda v: v)
        with pytest.raises(RuntimeError, match="requires grad"):
            fw.ones(2, requires_grad=True).map_(fw.ones(2), lambda p, q: p)
        with pytest.raises(RuntimeError, match="expanded size"):
            fw.ones(2).map_(fw.ones(3), lambda p, q: p)


def test_set_shares_memory_as_torch():
    for fw in (ember, torch):
        a, b = fw.zeros(2), fw.arange(5.0)
        assert a.set_(b) is a
        a[0] = 9.0
        assert b.tolist() == [9.0, 1.0, 2.0, 3.0, 4.0] and a.shape == (5,)
        assert a.set_().shape == (0,)
        z = fw.zeros(1)
        z.set_(fw.arange(6.0).untyped_storage(), 1, (2, 2), (2, 1))
        assert z.tolist() == [[1.0, 2.0], [3.0, 4.0]]
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            fw.ones(2, requires_grad=True).set_(fw.zeros(3))


def test_as_subclass_keeps_memory_and_graph():
    for fw in (ember, torch):
        class Marked(fw.Tensor):
            pass

        x = fw.ones(3, requires_grad=True)
        y = x.as_subclass(Marked)
        assert type(y) is Marked and y.requires_grad and not y.is_leaf
        (y * 2).sum().backward()
        assert x.grad.tolist() == [2.0, 2.0, 2.0]
        plain = fw.zeros(2)
        m = plain.as_subclass(Marked)
        m.add_(1.0)
        assert plain.tolist() == [1.0, 1.0] and m.is_leaf and not m.requires_grad


@pytest.mark.parametrize("make", [
    lambda fw: fw.ones(2, 3),
    lambda fw: fw.ones(2, 3).t(),
    lambda fw: fw.ones(1, 3, 1, 2),
    lambda fw: fw.ones(2, 3, 4, 5).to(memory_format=fw.channels_last),
    lambda fw: fw.ones(1, 3, 4, 5).to(memory_format=fw.channels_last),
    lambda fw: fw.ones(3, 1, 2).transpose(0, 2),
    lambda fw: fw.ones(4)[::2],
    lambda fw: fw.ones(2, 1, 3).expand(2, 4, 3),
    lambda fw: fw.ones(2, 3, 4).permute(2, 0, 1),
    lambda fw: fw.ones(()),
])
def test_dim_order_matches_torch(make):
    assert make(ember).dim_order() == make(torch).dim_order()


def test_small_predicates_and_refusals():
    t = ember.ones(2, 3)
    assert t.const_data_ptr() == t.data_ptr()
    assert t.is_distributed() is False and t.sparse_dim() == 0 and t.dense_dim() == 2
    assert t.record_stream(None) is None
    with pytest.raises(RuntimeError, match="complex32"):
        t.chalf()


def test_native_batch_norm_matches_torch():
    x = RNG.standard_normal((4, 3, 5)).astype(np.float32)
    w, b = RNG.standard_normal(3).astype(np.float32), RNG.standard_normal(3).astype(np.float32)

    def run(fw, training):
        rm, rv = fw.zeros(3), fw.ones(3)
        out = fw.native_batch_norm(fw.tensor(x), fw.tensor(w), fw.tensor(b), rm, rv, training,
                                   0.1, 1e-5)
        return [*out, rm, rv]

    _close(*_both(lambda fw: run(fw, True)), 1e-5)
    _close(*_both(lambda fw: run(fw, False)), 1e-5)


def test_deprecated_resize_matches_torch():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _close(*_both(lambda fw: fw.arange(6.0).resize(2, 3)))
        _close(*_both(lambda fw: fw.arange(6.0).resize_as(fw.ones(3, 2))))
        x = ember.ones(2, 3, requires_grad=True)
        (x.resize((3, 2)) * 2).sum().backward()
        assert x.grad.tolist() == [[2.0] * 3] * 2
        for fw in (ember, torch):
            with pytest.raises(RuntimeError, match="can only change the shape"):
                fw.ones(2, 3).resize(4)
    with pytest.warns(UserWarning, match="non-inplace resize is deprecated"):
        ember.ones(2).resize(2)
