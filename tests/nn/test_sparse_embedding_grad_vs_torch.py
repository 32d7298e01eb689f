"""``nn.Embedding(sparse=True)`` / ``nn.EmbeddingBag(sparse=True)`` against torch: the
weight's gradient is a sparse COO tensor with torch's entries, it accumulates and mixes with
dense gradients as torch's does, and SparseAdam / SGD / Adagrad follow torch's trajectory."""

import ember
import numpy as np
import pytest
import torch

# torch warns on every sparse_coo_tensor that its invariant checks are off
pytestmark = pytest.mark.filterwarnings("ignore:Sparse invariant checks:UserWarning")

V, D = 7, 3


def _np(t):
    return np.asarray(t.detach().numpy())


def _pair(cls_name="Embedding", seed=0, dtype="float64", **kwargs):
    """The same module in torch and ember, with the same weights."""
    tm = getattr(torch.nn, cls_name)(V, D, dtype=getattr(torch, dtype), **kwargs)
    em = getattr(ember.nn, cls_name)(V, D, dtype=getattr(ember, dtype), **kwargs)
    w = np.random.default_rng(seed).normal(size=(V, D)).astype(dtype)
    if kwargs.get("padding_idx") is not None:
        w[kwargs["padding_idx"]] = 0
    with torch.no_grad():
        tm.weight.copy_(torch.from_numpy(w))
    with ember.no_grad():
        em.weight.copy_(ember.tensor(w))
    return tm, em


def _upstream(shape, seed=1):
    """An output gradient (multiplier) that differs per element, as both libraries' tensors."""
    g = np.random.default_rng(seed).normal(size=shape)
    return torch.tensor(g), ember.tensor(g)


def assert_sparse_equal(e, t, raw: bool = True):
    """ember's sparse ``e`` holds torch's ``t``: raw entries (uncoalesced order) when
    ``raw``, and always the same coalesced indices, values and size."""
    assert e.is_sparse and t.is_sparse
    assert e.layout == ember.sparse_coo
    assert tuple(e.shape) == tuple(t.shape)
    assert e.dtype == getattr(ember, str(t.dtype).split(".")[1])
    if raw:
        assert e._nnz() == t._nnz()
        np.testing.assert_array_equal(_np(e._indices()), _np(t._indices()))
        np.testing.assert_allclose(_np(e._values()), _np(t._values()), rtol=1e-12, atol=1e-12)
    ec, tc = e.coalesce(), t.coalesce()
    np.testing.assert_array_equal(_np(ec.indices()), _np(tc.indices()))
    np.testing.assert_allclose(_np(ec.values()), _np(tc.values()), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_np(e.to_dense()), _np(t.to_dense()), rtol=1e-12, atol=1e-12)


# -- the gradient itself ---------------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [{}, {"padding_idx": 2}, {"padding_idx": -1},
                                    {"max_norm": 1.0}, {"padding_idx": 0, "max_norm": 0.5}])
@pytest.mark.parametrize("dtype", ["int64", "int32"])
def test_embedding_sparse_grad_matches_torch(kwargs, dtype):
    tm, em = _pair(sparse=True, **kwargs)
    x = np.array([[0, 2, 1, 6], [1, 5, 2, 1]], dtype=dtype)
    tg, eg = _upstream((2, 4, D))
    (tm(torch.tensor(x)) * tg).sum().backward()
    (em(ember.tensor(x)) * eg).sum().backward()
    assert_sparse_equal(em.weight.grad, tm.weight.grad)
    assert em.weight.grad.is_coalesced() == tm.weight.grad.is_coalesced()
    assert em.weight.grad._indices().dtype == ember.int64
    np.testing.assert_allclose(_np(em.weight), _np(tm.weight), rtol=1e-12)  # max_norm


def test_functional_embedding_sparse_and_broadcast_upstream():
    w = np.random.default_rng(3).normal(size=(V, D))
    tw = torch.tensor(w, requires_grad=True)
    ew = ember.tensor(w, requires_grad=True)
    x = [[3, 3], [0, 6]]
    torch.nn.functional.embedding(torch.tensor(x), tw, sparse=True).sum().backward()
    ember.nn.functional.embedding(ember.tensor(x), ew, sparse=True).sum().backward()
    assert_sparse_equal(ew.grad, tw.grad)


@pytest.mark.parametrize("pad", [None, 4])
def test_all_padding_or_empty_input_gives_empty_grad(pad):
    tm, em = _pair(sparse=True, padding_idx=pad)
    x = [4, 4] if pad is not None else []
    tm(torch.tensor(x, dtype=torch.long)).sum().backward()
    em(ember.tensor(x, dtype=ember.int64)).sum().backward()
    tg, eg = tm.weight.grad, em.weight.grad
    assert eg._nnz() == tg._nnz() == 0
    assert tuple(eg._indices().shape) == tuple(tg._indices().shape) == (1, 0)
    assert tuple(eg._values().shape) == tuple(tg._values().shape) == (0, D)


def test_scale_grad_by_freq_with_sparse_raises_like_torch():
    msg = "embedding_backward: scale_grad_by_freq not supported with sparse gradients"
    for lib in (torch, ember):
        m = lib.nn.Embedding(V, D, sparse=True, scale_grad_by_freq=True)
        with pytest.raises(RuntimeError, match=msg):
            m(lib.tensor([1, 1, 3])).sum().backward()
        b = lib.nn.EmbeddingBag(V, D, sparse=True, scale_grad_by_freq=True, mode="sum")
        with pytest.raises(RuntimeError, match=msg):
            b(lib.tensor([[1, 1]])).sum().backward()


# per_sample_weights ("psw") exists for mode='sum' only
@pytest.mark.parametrize("mode,case", [(m, c) for m in ("sum", "mean")
                                       for c in ("offsets", "last_offset", "2d", "padding")]
                         + [("sum", "psw")])
def test_embedding_bag_sparse_grad_matches_torch(mode, case):
    kw = {"mode": mode, "sparse": True}
    if case == "last_offset":
        kw["include_last_offset"] = True
    if case == "padding":
        kw["padding_idx"] = 2
    tm, em = _pair("EmbeddingBag", **kw)
    if case == "2d":
        args = ([[1, 2, 4], [5, 4, 3]],)
    elif case == "padding":
        args = ([1, 2, 4, 2, 2, 3, 2], [0, 2, 2, 5])
    elif case == "last_offset":
        args = ([1, 2, 4, 5, 4, 3], [0, 2, 2, 6])
    else:
        args = ([1, 2, 4, 5, 4, 3], [0, 2, 2])
    psw = [0.5, 2.0, -1.0, 3.0, 1.5, 0.25]
    t_args = [torch.tensor(a) for a in args]
    e_args = [ember.tensor(a) for a in args]
    t_kw = {"per_sample_weights": torch.tensor(psw, dtype=torch.float64)} if case == "psw" \
        else {}
    e_kw = {"per_sample_weights": ember.tensor(psw, dtype=ember.float64)} if case == "psw" \
        else {}
    tout = tm(*t_args, **t_kw)
    eout = em(*e_args, **e_kw)
    np.testing.assert_allclose(_np(eout), _np(tout), rtol=1e-12)
    tg, eg = _upstream(tuple(tout.shape))
    (tout * tg).sum().backward()
    (eout * eg).sum().backward()
    assert_sparse_equal(em.weight.grad, tm.weight.grad)


def test_embedding_bag_max_with_sparse_raises_like_torch():
    for lib in (torch, ember):
        b = lib.nn.EmbeddingBag(V, D, mode="max", sparse=True)
        with pytest.raises(ValueError, match="max mode does not support sparse weights"):
            b(lib.tensor([[1, 2]]))


# -- accumulation ----------------------------------------------------------------------------
def test_two_backwards_accumulate_sparse_in_place():
    tm, em = _pair(sparse=True, padding_idx=2)
    x = [[0, 2, 1], [1, 5, 2]]
    grads = []
    for lib, m in ((torch, tm), (ember, em)):
        m(lib.tensor(x)).sum().backward()
        first = m.weight.grad
        (m(lib.tensor(x)) * 2).sum().backward()
        m(lib.tensor([3, 4, 1])).sum().backward()
        assert m.weight.grad is first  # accumulated in place, as torch does
        grads.append(m.weight.grad)
    # torch merges or concatenates the entries depending on memory layout: compare coalesced
    assert_sparse_equal(grads[1], grads[0], raw=False)
    assert not grads[1].is_coalesced()


def test_two_lookups_in_one_backward_sum_sparse():
    tm, em = _pair(sparse=True, padding_idx=0)
    res = []
    for lib, m in ((torch, tm), (ember, em)):
        a, b = m(lib.tensor([[1, 0, 4]])), m(lib.tensor([[4, 4, 6]]))
        ((a * b).sum() + a.sum()).backward()
        res.append(m.weight.grad)
    assert_sparse_equal(res[1], res[0], raw=False)


@pytest.mark.parametrize("order", ["same_backward", "sparse_then_dense", "dense_then_sparse"])
def test_tied_dense_and_sparse_grads_sum_to_dense(order):
    tm, em = _pair(sparse=True)
    res = []
    def sparse_loss(lib, m):
        x = lib.tensor([1, 3, 1])
        return (m(x) * lib.tensor([[1.0], [2.0], [3.0]], dtype=lib.float64)).sum()

    def dense_loss(m):
        return (m.weight ** 2).sum()

    for lib, m in ((torch, tm), (ember, em)):
        if order == "same_backward":
            (sparse_loss(lib, m) + dense_loss(m)).backward()
        elif order == "sparse_then_dense":
            sparse_loss(lib, m).backward()
            dense_loss(m).backward()
        else:
            dense_loss(m).backward()
            first = m.weight.grad
            sparse_loss(lib, m).backward()
            assert m.weight.grad is first  # dense grad updated in place
        g = m.weight.grad
        assert not g.is_sparse and g.layout == lib.strided
        res.append(_np(g))
    np.testing.assert_allclose(res[1], res[0], rtol=1e-12)


def test_autograd_grad_returns_sparse_or_dense_when_tied():
    tm, em = _pair(sparse=True)
    out = []
    for lib, m in ((torch, tm), (ember, em)):
        (g,) = lib.autograd.grad(m(lib.tensor([1, 3, 1])).sum(), m.weight)
        assert m.weight.grad is None
        (gt,) = lib.autograd.grad(m(lib.tensor([1, 3])).sum() + m.weight.sum(), m.weight)
        assert not gt.is_sparse
        out.append((g, _np(gt)))
    assert_sparse_equal(out[1][0], out[0][0])
    np.testing.assert_allclose(out[1][1], out[0][1])


def test_hooks_see_and_replace_the_sparse_grad():
    tm, em = _pair(sparse=True)
    res = []
    for lib, m in ((torch, tm), (ember, em)):
        seen: list = []
        h = m.weight.register_hook(lambda g, seen=seen: seen.append((g.is_sparse, g._nnz())))
        m(lib.tensor([1, 3])).sum().backward()
        h.remove()
        m.weight.grad = None
        m.weight.register_hook(lambda g: g * 2)
        m(lib.tensor([1, 3, 3])).sum().backward()
        res.append((seen, m.weight.grad))
    assert res[1][0] == res[0][0] == [(True, 2)]
    assert_sparse_equal(res[1][1], res[0][1])


@pytest.mark.parametrize("where", ["module", "optimizer"])
def test_zero_grad_on_a_sparse_grad(where):
    tm, em = _pair(sparse=True)
    res = []
    for lib, m in ((torch, tm), (ember, em)):
        owner = m if where == "module" else lib.optim.SGD(m.parameters(), lr=0.1)
        m(lib.tensor([1, 3])).sum().backward()
        g = m.weight.grad
        owner.zero_grad(set_to_none=False)
        assert m.weight.grad is g and g.is_sparse and g._nnz() == 0
        assert tuple(g.shape) == (V, D)
        m(lib.tensor([4, 0])).sum().backward()
        res.append(m.weight.grad)
        owner.zero_grad()
        assert m.weight.grad is None
    assert_sparse_equal(res[1], res[0], raw=False)


def test_double_backward_through_sparse_embedding():
    tm, em = _pair(sparse=True)
    res = []
    for lib, m in ((torch, tm), (ember, em)):
        o = m(lib.tensor([1, 3, 1]))
        (g,) = lib.autograd.grad((o ** 3).sum(), m.weight, create_graph=True)
        assert g.is_sparse and g.requires_grad
        g.to_dense().pow(2).sum().backward()
        res.append((g.detach(), m.weight.grad))
    assert_sparse_equal(res[1][0], res[0][0], raw=False)
    assert_sparse_equal(res[1][1], res[0][1], raw=False)


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_backward_create_graph_accumulates_like_torch():
    tm, em = _pair(sparse=True)
    res = []
    for lib, m in ((torch, tm), (ember, em)):
        (m(lib.tensor([1, 3])) ** 2).sum().backward(create_graph=True)
        (m(lib.tensor([3, 0])) ** 2).sum().backward(create_graph=True)
        g = m.weight.grad
        assert g.is_sparse and g.requires_grad
        sparse_sum = g.detach()
        (m.weight ** 2).sum().backward(create_graph=True)  # a dense term: the sum is dense
        assert not m.weight.grad.is_sparse
        res.append((sparse_sum, _np(m.weight.grad)))
    assert_sparse_equal(res[1][0], res[0][0], raw=False)
    np.testing.assert_allclose(res[1][1], res[0][1], rtol=1e-12)


def test_non_leaf_weight_gets_the_dense_equivalent():
    # departure: torch passes the sparse gradient on through ``w * 2``; ember densifies it
    w = np.random.default_rng(5).normal(size=(V, D))
    tw, ew = torch.tensor(w, requires_grad=True), ember.tensor(w, requires_grad=True)
    torch.nn.functional.embedding(torch.tensor([1, 1, 4]), tw * 2, sparse=True).sum().backward()
    ember.nn.functional.embedding(ember.tensor([1, 1, 4]), ew * 2, sparse=True).sum().backward()
    np.testing.assert_allclose(_np(ew.grad), _np(tw.grad.to_dense()))


# -- clipping and optimizers ---------------------------------------------------------------
def test_clipping_sparse_grads_raises_like_torch():
    tm, em = _pair(sparse=True)
    for lib, m in ((torch, tm), (ember, em)):
        m(lib.tensor([1, 3])).sum().backward()
        with pytest.raises(NotImplementedError, match="linalg_vector_norm.*Sparse"):
            lib.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        with pytest.raises(NotImplementedError, match="clamp_min_.*Sparse"):
            lib.nn.utils.clip_grad_value_(m.parameters(), 1.0)


@pytest.mark.parametrize("name,msg", [
    ("Adam", "Adam does not support sparse gradients, please consider SparseAdam instead"),
    ("AdamW", "Adam does not support sparse gradients, please consider SparseAdam instead"),
    ("RMSprop", "RMSprop does not support sparse gradients"),
    ("Adamax", "Adamax does not support sparse gradients"),
    ("NAdam", "NAdam does not support sparse gradients"),
    ("RAdam", "RAdam does not support sparse gradients"),
    ("Adadelta", "Adadelta does not support sparse gradients"),
    ("ASGD", "ASGD does not support sparse gradients"),
    ("Rprop", "Rprop does not support sparse gradients"),
])
def test_dense_only_optimizers_raise_like_torch(name, msg):
    tm, em = _pair(sparse=True)
    for lib, m in ((torch, tm), (ember, em)):
        m(lib.tensor([1])).sum().backward()
        with pytest.raises(RuntimeError, match=msg):
            getattr(lib.optim, name)(m.parameters()).step()


@pytest.mark.parametrize("name,kwargs,msg", [
    ("SGD", {"lr": 0.1, "weight_decay": 0.1},
     r"add\(sparse, dense\) is not supported. Use add\(dense, sparse\) instead."),
    ("Adagrad", {"weight_decay": 0.1},
     "weight_decay option is not compatible with sparse gradients"),
])
def test_weight_decay_with_sparse_grads_raises_like_torch(name, kwargs, msg):
    tm, em = _pair(sparse=True)
    for lib, m in ((torch, tm), (ember, em)):
        m(lib.tensor([1])).sum().backward()
        with pytest.raises(RuntimeError, match=msg):
            getattr(lib.optim, name)(m.parameters(), **kwargs).step()


BATCHES = [[[1, 2, 2], [0, 6, 1]], [[3, 3, 3], [4, 2, 0]], [[1, 5, 6], [1, 1, 2]],
           [[2, 2, 2], [2, 2, 2]], [[0, 4, 5], [6, 3, 1]], [[5, 5, 1], [0, 0, 2]]]


def _train(lib, m, opt_name, kwargs, extra=None):
    opt = getattr(lib.optim, opt_name)(m.parameters(), **kwargs)
    target = lib.tensor(np.random.default_rng(9).normal(size=(2, D)))
    for step, x in enumerate(BATCHES):
        opt.zero_grad()
        out = m(lib.tensor(x))
        out = out if out.ndim == 2 else out.mean(1)
        loss = ((out - target) ** 2).sum()
        loss.backward()
        if step % 2 == 1:  # a second backward before the step: accumulated sparse grads
            (m(lib.tensor(x[::-1])).sum() * 0.5).backward()
        opt.step()
    return m.weight, opt


@pytest.mark.parametrize("module", ["Embedding", "EmbeddingBag"])
@pytest.mark.parametrize("opt_name,kwargs", [
    ("SparseAdam", {"lr": 0.05}),
    ("SparseAdam", {"lr": 0.1, "betas": (0.8, 0.9), "eps": 1e-6, "maximize": True}),
    ("SGD", {"lr": 0.05}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True, "maximize": True}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05, "initial_accumulator_value": 0.1,
                 "eps": 1e-6, "maximize": True}),
])
def test_optimizer_trajectories_match_torch(module, opt_name, kwargs):
    kw = {"sparse": True, "padding_idx": 2}
    if module == "EmbeddingBag":
        kw["mode"] = "mean"
    tm, em = _pair(module, **kw)
    tw, topt = _train(torch, tm, opt_name, kwargs)
    ew, eopt = _train(ember, em, opt_name, kwargs)
    np.testing.assert_allclose(_np(ew), _np(tw), rtol=1e-10, atol=1e-12)
    tstate, estate = topt.state[tw], eopt.state[ew]
    assert set(tstate) == set(estate)
    for k, v in tstate.items():
        ev = estate[k]
        if isinstance(v, torch.Tensor) and v.is_sparse:
            assert_sparse_equal(ev, v, raw=False)
        elif isinstance(v, torch.Tensor):
            np.testing.assert_allclose(_np(ev), _np(v), rtol=1e-10, atol=1e-12)
        else:
            assert ev == v


def test_sparse_adam_with_embedding_float32_smoke():
    # the common pattern from the torch docs, in the default dtype
    torch.manual_seed(0)
    ember.manual_seed(0)
    emb = ember.nn.Embedding(50, 8, sparse=True)
    opt = ember.optim.SparseAdam(emb.parameters(), lr=0.01)
    before = emb.weight.detach().clone()
    x = ember.tensor([[1, 4, 9], [4, 4, 0]])
    emb(x).pow(2).sum().backward()
    opt.step()
    changed = (emb.weight.detach() != before).any(1).numpy()
    assert set(np.nonzero(changed)[0]) == {0, 1, 4, 9}
    assert emb.weight.dtype == ember.float32


# -- mixed precision -------------------------------------------------------------------------
@pytest.mark.parametrize("poison", [False, True])
def test_grad_scaler_unscales_sparse_grads_like_torch(poison):
    """GradScaler('cpu') with SparseAdam: the sparse gradient is unscaled in place, an inf in
    it skips the step and backs the scale off, as torch's scaler does."""
    tm, em = _pair(dtype="float32", sparse=True)
    pairs = ((torch, tm, torch.optim.SparseAdam(tm.parameters()),
              torch.amp.GradScaler("cpu", init_scale=1024.0)),
             (ember, em, ember.optim.SparseAdam(em.parameters()),
              ember.amp.GradScaler("cpu", init_scale=1024.0)))
    idx = [[1, 4, 4], [0, 6, 1]]
    for step in range(3):
        for m, mod, opt, sc in pairs:
            opt.zero_grad()
            out = mod(m.tensor(idx))
            loss = (out * out).sum()
            if poison and step == 1:
                loss = loss * float("inf")
            sc.scale(loss).backward()
            sc.unscale_(opt)
        if not (poison and step == 1):
            assert_sparse_equal(em.weight.grad, tm.weight.grad)
        for _, _, opt, sc in pairs:
            sc.step(opt)
            sc.update()
        np.testing.assert_allclose(_np(em.weight), _np(tm.weight), rtol=1e-5, atol=1e-6)
        assert pairs[1][3].get_scale() == pairs[0][3].get_scale()
