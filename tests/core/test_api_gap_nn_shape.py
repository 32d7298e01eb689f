"""The torch.* spellings of nn.functional ops, the *_scatter / *_copy view variants, the
in-place view methods (squeeze_, t_, resize_, ...) and the smaller Tensor methods (new,
fill_diagonal_, index_reduce, nonzero_static, ...) against PyTorch."""

import ember
import numpy as np
import pytest
import torch
from torch_compare import assert_close, compare, compare_raises, gradcheck, gradgradcheck

pytestmark = pytest.mark.filterwarnings("ignore:index_reduce:UserWarning")


def _r(reduction):
    """The reduction argument, or none (torch's default: unreduced)."""
    return () if reduction is None else (reduction,)


def _long(m, vals):
    return m.tensor(vals, dtype=m.int64)


# -- 1. torch.* spellings of nn.functional ops ---------------------------------------------
NN = {
    "conv1d": ([(2, 3, 7), (4, 3, 3), (4,)], lambda m, x, w, b: m.conv1d(x, w, b, 2, 1)),
    "conv2d": ([(1, 2, 5, 5), (3, 2, 3, 3)], lambda m, x, w: m.conv2d(x, w, None, 1, "same")),
    "conv3d": ([(1, 2, 4, 4, 4), (2, 2, 2, 2, 2)], lambda m, x, w: m.conv3d(x, w)),
    "conv_transpose1d": ([(1, 2, 5), (2, 3, 3)],
                         lambda m, x, w: m.conv_transpose1d(x, w, None, 2, 1, 1)),
    "conv_transpose2d": ([(1, 2, 4, 4), (2, 3, 3, 3), (3,)],
                         lambda m, x, w, b: m.conv_transpose2d(x, w, b, 2)),
    "conv_transpose3d": ([(1, 2, 3, 3, 3), (2, 1, 2, 2, 2)],
                         lambda m, x, w: m.conv_transpose3d(x, w)),
    "convolution": ([(1, 2, 5, 5), (3, 2, 2, 2), (3,)],
                    lambda m, x, w, b: m.convolution(x, w, b, [2], [1], [1], False, [0], 1)),
    "convolution_t": ([(1, 2, 5, 5), (2, 3, 2, 2)],
                      lambda m, x, w: m.convolution(x, w, None, [2], [1], [1], True, [1], 1)),
    "convolution_1d": ([(2, 4, 6), (2, 2, 3)],
                       lambda m, x, w: m.convolution(x, w, None, [1], [0], [2], False, [0], 2)),
    "dropout_eval": ([(3, 4)], lambda m, x: m.dropout(x, 0.5, False)),
    "alpha_dropout_eval": ([(3, 4)], lambda m, x: m.alpha_dropout(x, 0.3, False)),
    "feature_dropout_eval": ([(3, 4, 2)], lambda m, x: m.feature_dropout(x, 0.5, False)),
    "feature_alpha_dropout_p0": ([(3, 4, 2)],
                                 lambda m, x: m.feature_alpha_dropout(x, 0.0, True)),
    "embedding": ([(6, 3)], lambda m, w: m.embedding(w, _long(m, [[0, 5], [2, 2]]))),
    "embedding_pad": ([(6, 3)], lambda m, w: m.embedding(w, _long(m, [0, 1, 3, 3]), 3)),
    "embedding_neg_pad": ([(6, 3)], lambda m, w: m.embedding(w, _long(m, [0, 5]), -1)),
    "embedding_bag_sum": ([(6, 3)], lambda m, w: m.embedding_bag(
        w, _long(m, [1, 2, 4, 5, 3]), _long(m, [0, 2, 2]))[0]),
    "embedding_bag_mean": ([(6, 3)], lambda m, w: m.embedding_bag(
        w, _long(m, [1, 2, 4, 5, 3]), _long(m, [0, 2, 2]), False, 1)),
    "embedding_bag_max": ([(6, 3)], lambda m, w: m.embedding_bag(
        w, _long(m, [1, 2, 4, 5, 3]), _long(m, [0, 3]), False, 2)),
    "embedding_bag_pad": ([(6, 3)], lambda m, w: m.embedding_bag(
        w, _long(m, [1, 2, 4, 5, 3]), _long(m, [0, 3]), False, 1, False, None, False, 4)),
    "embedding_bag_psw": ([(6, 3), (5,)], lambda m, w, p: m.embedding_bag(
        w, _long(m, [1, 2, 4, 5, 3]), _long(m, [0, 3]), False, 0, False, p)[0]),
    "layer_norm": ([(2, 3, 4), (4,), (4,)], lambda m, x, w, b: m.layer_norm(x, [4], w, b)),
    "layer_norm_pos": ([(2, 3, 4)], lambda m, x: m.layer_norm(x, (3, 4), None, None, 1e-3,
                                                              False)),
    "group_norm": ([(2, 4, 3), (4,), (4,)], lambda m, x, w, b: m.group_norm(x, 2, w, b)),
    "instance_norm": ([(2, 3, 5), (3,), (3,)], lambda m, x, w, b: m.instance_norm(
        x, w, b, None, None, True, 0.1, 1e-5, False)),
    "batch_norm_train": ([(4, 3, 2), (3,), (3,)], lambda m, x, w, b: m.batch_norm(
        x, w, b, None, None, True, 0.1, 1e-5, False)),
    "rms_norm": ([(2, 5), (5,)], lambda m, x, w: m.rms_norm(x, [5], w)),
    "rms_norm_eps": ([(2, 5)], lambda m, x: m.rms_norm(x, (5,), None, 1e-2)),
    "bilinear": ([(3, 2), (3, 4), (5, 2, 4), (5,)], lambda m, a, b, w, c: m.bilinear(a, b, w, c)),
    "max_pool1d": ([(2, 3, 8)], lambda m, x: m.max_pool1d(x, 2)),
    "max_pool1d_args": ([(2, 3, 8)], lambda m, x: m.max_pool1d(x, 3, 2, 1, 1, True)),
    "max_pool2d": ([(1, 2, 6, 6)], lambda m, x: m.max_pool2d(x, [2, 3], [], 1)),
    "max_pool3d": ([(1, 1, 4, 4, 4)], lambda m, x: m.max_pool3d(x, 2)),
    "max_pool1d_with_indices": ([(2, 3, 8)], lambda m, x: m.max_pool1d_with_indices(x, 2)),
    "avg_pool1d": ([(2, 3, 7)], lambda m, x: m.avg_pool1d(x, 3, 2, 1, True, False)),
    "adaptive_avg_pool1d": ([(2, 3, 7)], lambda m, x: m.adaptive_avg_pool1d(x, 3)),
    "adaptive_max_pool1d": ([(2, 3, 7)], lambda m, x: m.adaptive_max_pool1d(x, [3])),
    "pixel_shuffle": ([(1, 8, 2, 3)], lambda m, x: m.pixel_shuffle(x, 2)),
    "pixel_unshuffle": ([(1, 2, 4, 6)], lambda m, x: m.pixel_unshuffle(x, 2)),
    "channel_shuffle": ([(2, 6, 3)], lambda m, x: m.channel_shuffle(x, 3)),
    "cosine_similarity": ([(3, 4), (3, 4)], lambda m, a, b: m.cosine_similarity(a, b)),
    "cosine_similarity_dim": ([(3, 4), (1, 4)],
                              lambda m, a, b: m.cosine_similarity(a, b, -1, 1e-6)),
    "pairwise_distance": ([(3, 4), (3, 4)],
                          lambda m, a, b: m.pairwise_distance(a, b, 1.5, 1e-6, True)),
    "pdist": ([(4, 3)], lambda m, x: m.pdist(x)),
    "pdist_p1": ([(4, 3)], lambda m, x: m.pdist(x, 1.0)),
    "celu": ([(3, 4)], lambda m, x: m.celu(x, 0.5)),
    "selu": ([(3, 4)], lambda m, x: m.selu(x)),
    "rrelu_eval": ([(3, 4)], lambda m, x: m.rrelu(x, 0.1, 0.3)),
    "threshold": ([(3, 4)], lambda m, x: m.threshold(x, 0.1, -2.0)),
    "prelu": ([(2, 3, 4), (3,)], lambda m, x, w: m.prelu(x, w)),
    "prelu_method": ([(2, 3, 4), (1,)], lambda m, x, w: x.prelu(w)),
    "constant_pad_nd": ([(2, 3)], lambda m, x: m.constant_pad_nd(x, [1, 2, 0, 1], 0.5)),
    "constant_pad_nd_crop": ([(2, 4)], lambda m, x: m.constant_pad_nd(x, [-1, 2])),
    "grid_sampler": ([(1, 2, 4, 5), (1, 3, 3, 2)],
                     lambda m, x, g: m.grid_sampler(x, g * 0.6, 0, 0, False)),
    "grid_sampler_bicubic_border": ([(1, 2, 4, 5), (1, 3, 3, 2)],
                                    lambda m, x, g: m.grid_sampler(x, g * 0.6, 2, 1, True)),
    "grid_sampler_nearest_reflect": ([(1, 2, 4, 5), (1, 3, 3, 2)], lambda m, x, g: m.grid_sampler(
        x, g.detach() * 0.6, 1, 2, False)),
    "bce_with_logits_weights": ([(3, 4), (3, 4), (4,), (4,)],
                                lambda m, a, t, w, p: m.binary_cross_entropy_with_logits(
                                    a, (t.detach() > 0).to(a.dtype), w.detach().abs(),
                                    p.detach().abs())),
    "affine_grid_generator": ([(2, 2, 3)],
                              lambda m, t: m.affine_grid_generator(t, [2, 1, 3, 4], False)),
}

LOSSES = {
    "cosine_embedding_loss": ([(4, 3), (4, 3)], lambda m, a, b, r: m.cosine_embedding_loss(
        a, b, m.tensor([1.0, -1.0, 1.0, -1.0]), 0.1, *_r(r))),
    "margin_ranking_loss": ([(4,), (4,)], lambda m, a, b, r: m.margin_ranking_loss(
        a, b, m.tensor([1.0, -1.0, 1.0, -1.0]), 0.2, *_r(r))),
    "hinge_embedding_loss": ([(4, 2)], lambda m, a, r: m.hinge_embedding_loss(
        a, m.tensor([[1.0, -1.0]] * 4), 0.5, *_r(r))),
    "triplet_margin_loss": ([(4, 3), (4, 3), (4, 3)],
                            lambda m, a, p, n, r: m.triplet_margin_loss(
                                a, p, n, 1.0, 2.0, 1e-6, True, *_r(r))),
    "poisson_nll_loss": ([(4, 3), (4, 3)], lambda m, a, t, r: m.poisson_nll_loss(
        a, t.detach().abs() * 3, True, True, 1e-8, *_r(r))),
    "poisson_nll_loss_rate": ([(4, 3), (4, 3)], lambda m, a, t, r: m.poisson_nll_loss(
        a.abs() + 0.5, t.detach().abs(), False, False, 1e-6, *_r(r))),
    "kl_div": ([(3, 4), (3, 4)], lambda m, a, t, r: m.kl_div(
        a, t.detach().abs() / 4, *_r(r))),
    "kl_div_log_target": ([(3, 4), (3, 4)], lambda m, a, t, r: m.kl_div(
        a, t, *_r(r), log_target=True)),
    "bce_with_logits_r": ([(3, 4), (3, 4)],
                          lambda m, a, t, r: m.binary_cross_entropy_with_logits(
                              a, (t.detach() > 0).to(a.dtype), None, None, *_r(r))),
}


@pytest.mark.parametrize("name", sorted(NN))
def test_nn_alias(name, device):
    """Each torch.* spelling matches torch in value, dtype, shape and gradients."""
    shapes, fn = NN[name]
    compare(shapes, fn, device=device, atol=1e-5)


@pytest.mark.parametrize("name,reduction", [
    (n, r) for n in sorted(LOSSES) for r in (None, 0, 1, 2)
    if r is not None or not n.startswith("poisson")])  # poisson_nll_loss has no defaults
def test_loss_alias(name, reduction, device):
    """The losses take ``reduction`` as ATen's int (0 none, 1 mean, 2 sum); by default
    (None here) they are unreduced, as torch's bindings behave."""
    shapes, fn = LOSSES[name]
    compare(shapes, lambda m, *a: fn(m, *a, reduction), device=device)


def test_ctc_loss_alias(device):
    """``torch.ctc_loss`` with tensors or lists as lengths and an int reduction."""
    def fn(m, x, r):
        lp = x.log_softmax(2)
        tgt = m.tensor([[1, 2, 2], [1, 3, 0]], dtype=m.int64)
        lengths = ([6, 5], [3, 2]) if r != 1 else (m.tensor([6, 5]), m.tensor([3, 2]))
        return m.ctc_loss(lp, tgt, *lengths, 0, *_r(r))

    for r in (None, 0, 1, 2):
        compare([(6, 2, 4)], lambda m, x, r=r: fn(m, x, r), device=device)


def test_running_stats_aliases(device):
    """torch.batch_norm/instance_norm take weight and bias before the running statistics
    and update those in place."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 3, 5)).astype(np.float32)
    out = {}
    for m in (ember, torch):
        rm, rv = m.zeros(3), m.ones(3)
        w, b = m.full((3,), 2.0), m.full((3,), 0.5)
        y1 = m.batch_norm(m.tensor(x), w, b, rm, rv, True, 0.3, 1e-5, False)
        y2 = m.batch_norm(m.tensor(x), w, b, rm, rv, False, 0.3, 1e-5, False)
        irm, irv = m.zeros(3), m.ones(3)
        y3 = m.instance_norm(m.tensor(x), None, None, irm, irv, True, 0.2, 1e-5, False)
        out[m] = (y1, y2, rm, rv, y3, irm, irv)
    for e, t in zip(out[ember], out[torch]):
        assert_close(e, t, atol=1e-5)


def test_dropout_aliases_train(device):
    """Training-mode dropout: zeros and scaled survivors; feature dropout drops whole
    (N, C) slices; the in-place forms return their input."""
    ember.manual_seed(0)
    x = ember.ones(200, 50)
    y = ember.dropout(x, 0.4, True)
    vals = np.unique(y.numpy())
    assert len(vals) == 2 and vals[0] == 0 and np.isclose(vals[1], 1 / 0.6)
    assert 0.3 < float((y == 0).float().mean()) < 0.5
    f = ember.feature_dropout(ember.ones(20, 30, 4), 0.5, True).numpy()
    assert (f.min(axis=2) == f.max(axis=2)).all()
    z = ember.ones(5, 4)
    assert ember.dropout_(z, 0.5, True) is z
    assert ember.feature_dropout_(z, 0.5, True) is z
    a = ember.ones(100, 10, 3)
    assert ember.feature_alpha_dropout_(a, 0.3, True) is a
    assert ember.alpha_dropout_(a, 0.3, True) is a
    w = ember.alpha_dropout(ember.ones(4), 1.0, True)
    assert not w.numpy().any()
    x = ember.ones(3)
    assert ember.dropout(x, 0.5, False) is x


def test_dropout_alias_errors():
    """Bad probabilities and feature dropout of 1-D input raise as in torch."""
    compare_raises([(4,)], lambda m, x: m.dropout(x, 1.5, True), match="between 0 and 1")
    compare_raises([(4,)], lambda m, x: m.feature_dropout(x, 0.5, True),
                   match="at least 2 dimensions")
    compare_raises([(4,)], lambda m, x: m.feature_alpha_dropout(x, 0.5, True),
                   match="at least 2 dimensions")


def test_inplace_activation_aliases(device):
    """celu_/selu_/rrelu_/threshold_ change their input (a non-leaf) in place and keep
    the gradient."""
    for _name, call in (("celu_", lambda m, y: m.celu_(y, 2.0)),
                       ("selu_", lambda m, y: m.selu_(y)),
                       ("rrelu_", lambda m, y: m.rrelu_(y, 0.2, 0.4)),
                       ("threshold_", lambda m, y: m.threshold_(y, 0.0, 0.5))):
        def fn(m, x, call=call):
            y = x * 1.5
            r = call(m, y)
            assert r is y
            return y
        compare([(3, 4)], fn, device=device)


def test_rrelu_training_generator(device):
    """Training rrelu draws each negative slope from U(lower, upper), reproducibly from a
    generator."""
    x = -ember.ones(1000)
    g = ember.Generator().manual_seed(3)
    a = ember.rrelu(x, 0.1, 0.3, True, g)
    b = ember.rrelu(x, 0.1, 0.3, True, ember.Generator().manual_seed(3))
    assert_close(a, torch.tensor(b.numpy()))
    s = -a.numpy()
    assert 0.1 <= s.min() and s.max() <= 0.3 and s.std() > 0.03
    y = -ember.ones(10)
    assert ember.rrelu_(y, 0.1, 0.3, True) is y and (y.numpy() < 0).all()


def test_nn_alias_errors():
    """Errors keep torch's kinds and wording."""
    compare_raises([(2, 3)], lambda m, x: m.constant_pad_nd(x, [1, 1, 1]),
                   match="Length of pad must be even")
    compare_raises([(2, 3)], lambda m, x: m.constant_pad_nd(x, [1] * 6))
    compare_raises([(3,), (3,)], lambda m, a, b: m.kl_div(a, b, "mean"), match="must be int")
    compare_raises([(2, 3, 4)], lambda m, x: m.layer_norm(x, [3]))
    compare_raises([(2, 5, 4)], lambda m, x: m.group_norm(x, 2))


def test_alias_signatures_match_torch():
    """Positional parameter names and defaults of the torch.* forms follow torch's."""
    import inspect

    for name in ("layer_norm", "group_norm", "dropout", "embedding", "batch_norm",
                 "instance_norm", "kl_div", "poisson_nll_loss", "max_pool1d", "rrelu",
                 "constant_pad_nd", "grid_sampler", "convolution", "ctc_loss"):
        params = list(inspect.signature(getattr(ember, name)).parameters)
        schema = getattr(torch.ops.aten, name).overloads()[0]
        want = [a.name for a in getattr(torch.ops.aten, name).__getattr__(schema)._schema
                .arguments]
        want = ["input" if w == "self" else w for w in want]
        assert params[:len(want)] == want, (name, params, want)


# -- 2. scatter family ---------------------------------------------------------------------
SCATTER = {
    "select_scatter": ([(3, 4), (3,)], lambda m, x, s: m.select_scatter(x, s, 1, -1)),
    "select_scatter_method": ([(3, 4), (4,)], lambda m, x, s: x.select_scatter(s, 0, 1)),
    "select_scatter_1d": ([(4,), ()], lambda m, x, s: m.select_scatter(x, s, 0, 2)),
    "slice_scatter": ([(3, 5), (3, 2)], lambda m, x, s: m.slice_scatter(x, s, 1, 1, None, 2)),
    "slice_scatter_neg": ([(5, 2), (2, 2)], lambda m, x, s: m.slice_scatter(x, s, start=-2)),
    "slice_scatter_clamp": ([(3, 4), (3, 4)], lambda m, x, s: x.slice_scatter(s, 1, None, 99)),
    "diagonal_scatter": ([(3, 4), (3,)], lambda m, x, s: m.diagonal_scatter(x, s)),
    "diagonal_scatter_off": ([(2, 3, 4), (2, 3)],
                             lambda m, x, s: m.diagonal_scatter(x, s, -1, 2, 1)),
    # torch 2.13's gradient of as_strided_scatter's input is wrong (it returns the part
    # that src overwrote, not the rest), so only src's is compared here; gradcheck below
    # checks ember's input gradient against finite differences
    "as_strided_scatter": ([(3, 4), (2, 2)], lambda m, x, s: m.as_strided_scatter(
        x.detach(), s, (2, 2), (1, 2), 3)),
    "as_strided_scatter_t": ([(3, 4), (2, 2)], lambda m, x, s: m.as_strided_scatter(
        x.detach().t(), s, (2, 2), (1, 2))),
    "as_strided_scatter_method": ([(6,), (2, 3)], lambda m, x, s: x.detach().as_strided_scatter(
        s, (2, 3), (3, 1))),
}


@pytest.mark.parametrize("name", sorted(SCATTER))
def test_scatter(name, device):
    """Values and gradients of both inputs match torch."""
    shapes, fn = SCATTER[name]
    # for a non-contiguous input, torch reads src's gradient at the wrong storage positions
    compare(shapes, fn, device=device, backward=name != "as_strided_scatter_t")


def test_scatter_strides_and_dtype(device):
    """as_strided_scatter keeps the input's memory order; a src of another dtype is cast."""
    x = ember.zeros(3, 4)
    r = ember.as_strided_scatter(x.t(), ember.ones(2, 2), (2, 2), (1, 2), 3)
    assert r.stride() == torch.zeros(3, 4).t().stride()
    compare([(3, 4), (3,)], lambda m, x, s: m.select_scatter(x, s, 1, 0),
            dtype=["float32", "float64"])
    compare([(3, 4), (3,)], lambda m, x, s: m.select_scatter(x, s, 1, 0),
            dtype=["float32", "int64"])


@pytest.mark.parametrize("name", ["select_scatter", "slice_scatter", "diagonal_scatter",
                                  "as_strided_scatter", "as_strided_scatter_t"])
def test_scatter_gradcheck(name, device):
    """float64 first and second derivatives."""
    shapes, fn = SCATTER[name]
    if name == "as_strided_scatter":
        def fn(m, x, s):
            return m.as_strided_scatter(x, s, (2, 2), (1, 2), 3)
    elif name == "as_strided_scatter_t":
        def fn(m, x, s):
            return m.as_strided_scatter(x.t(), s, (2, 2), (1, 2))
    rng = np.random.default_rng(1)
    ins = [ember.tensor(rng.normal(size=s), dtype=ember.float64, device=device,
                        requires_grad=True) for s in shapes]

    def f(x, s):
        r = fn(ember, x, s)
        return r * r

    gradcheck(f, ins)
    gradgradcheck(f, ins)


def test_scatter_errors():
    """Shape mismatches, bad indices and steps raise as in torch."""
    compare_raises([(3, 4), (4,)], lambda m, x, s: m.select_scatter(x, s, 1, 0),
                   match="expected src to have a size equal to the slice of self")
    compare_raises([(3, 4), (3,)], lambda m, x, s: m.select_scatter(x, s, 1, 5),
                   match="out of range")
    compare_raises([(3, 4), (3, 3)], lambda m, x, s: m.slice_scatter(x, s, 1, 0, 4, 3))
    compare_raises([(3, 4), (3, 2)], lambda m, x, s: m.slice_scatter(x, s, 1, 0, 4, -1),
                   match="slice step must be positive")
    compare_raises([(3, 4), (2,)], lambda m, x, s: m.diagonal_scatter(x, s, 1))
    compare_raises([(3, 4), (2, 3)],
                   lambda m, x, s: m.as_strided_scatter(x, s, (2, 2), (1, 2), 3))
    compare_raises([(3, 4), (3,)], lambda m, x, s: m.diagonal_scatter(x, s, 0, 1, 1))


# -- split variants, ravel, sum_to_size, *_copy ---------------------------------------------
COPY = {
    "split_with_sizes": lambda m, x: m.split_with_sizes(x, [1, 2], 1),
    "split_with_sizes_method": lambda m, x: x.split_with_sizes([3, 1], dim=2),
    "unsafe_split": lambda m, x: m.unsafe_split(x, 2, 2),
    "unsafe_split_method": lambda m, x: x.unsafe_split(1),
    "unsafe_chunk": lambda m, x: m.unsafe_chunk(x, 2, -1),
    "unsafe_split_with_sizes": lambda m, x: x.unsafe_split_with_sizes([2, 1], 1),
    "ravel": lambda m, x: m.ravel(x),
    "ravel_t": lambda m, x: x.transpose(0, 2).ravel(),
    "sum_to_size": lambda m, x: x.sum_to_size(3, 1),
    "sum_to_size_size": lambda m, x: x.sum_to_size(m.Size([1, 1, 4])),
    "sum_to_size_same": lambda m, x: x.sum_to_size((2, 3, 4)),
    "narrow_copy": lambda m, x: m.narrow_copy(x, 1, 1, 2),
    "narrow_copy_method": lambda m, x: x.narrow_copy(-1, 2, 2),
    "view_copy": lambda m, x: m.view_copy(x, (4, -1)),
    "view_copy_t": lambda m, x: m.view_copy(x.transpose(0, 1), [24]),
    "permute_copy": lambda m, x: m.permute_copy(x, (2, 0, 1)),
    "expand_copy": lambda m, x: m.expand_copy(x[:, :1], (2, 3, 4)),
    "transpose_copy": lambda m, x: m.transpose_copy(x, 0, 2),
    "t_copy": lambda m, x: m.t_copy(x[0]),
    "squeeze_copy": lambda m, x: m.squeeze_copy(x[:, :1]),
    "squeeze_copy_dims": lambda m, x: m.squeeze_copy(x[:1, :1], (0, 1)),
    "unsqueeze_copy": lambda m, x: m.unsqueeze_copy(x, -1),
    "select_copy": lambda m, x: m.select_copy(x, 1, -1),
    "slice_copy": lambda m, x: m.slice_copy(x, 2, -3, None, 2),
    "slice_copy_default": lambda m, x: m.slice_copy(x),
    "diagonal_copy": lambda m, x: m.diagonal_copy(x, 1, 1, 2),
    "unbind_copy": lambda m, x: m.unbind_copy(x, 1),
    "split_copy": lambda m, x: m.split_copy(x, 3, 2),
    "split_with_sizes_copy": lambda m, x: m.split_with_sizes_copy(x, [2, 2], -1),
    "unfold_copy": lambda m, x: m.unfold_copy(x, 2, 2, 1),
    "alias_copy": lambda m, x: m.alias_copy(x.transpose(1, 2)),
    "as_strided_copy": lambda m, x: m.as_strided_copy(x, (3, 2), (1, 3), 2),
}


@pytest.mark.parametrize("name", sorted(COPY))
def test_copy_variants(name, device):
    """Values, shapes and gradients match torch."""
    compare([(2, 3, 4)], COPY[name], device=device)


@pytest.mark.parametrize("name", ["view_copy_t", "permute_copy", "expand_copy",
                                  "transpose_copy", "slice_copy", "diagonal_copy",
                                  "unfold_copy", "as_strided_copy", "narrow_copy"])
def test_copies_are_contiguous_and_own_memory(name, device):
    """*_copy results are contiguous and share no memory with their input."""
    x = ember.randn(2, 3, 4, device=device)
    r = COPY[name](ember, x)
    assert r.is_contiguous()
    before = x.clone()
    r.fill_(7.0)
    assert_close(x, torch.tensor(before.cpu().numpy()))


def test_native_channel_shuffle(device):
    """Same values as channel_shuffle (torch has no derivative for it; ember has one)."""
    compare([(2, 6, 3)], lambda m, x: m.native_channel_shuffle(x, 2), grad=False)


def test_copy_variants_misc(device):
    """detach_copy leaves the graph; view_copy(dtype); the complex copies; out=."""
    x = ember.randn(3, 2, requires_grad=True)
    d = ember.detach_copy(x)
    assert not d.requires_grad and d.data_ptr() != x.data_ptr()
    compare([(2, 3)], lambda m, x: m.view_copy(x, m.int32), grad=False)
    compare([(3, 2)], lambda m, x: m.view_as_complex_copy(x), grad=False)
    compare([(4, 5)], lambda m, x: m.narrow_copy(x, 0, -1, 1), grad=False)
    compare([(3, 2)], lambda m, x: m.view_as_real_copy(m.view_as_complex(x)))
    out = ember.empty(0)
    r = ember.transpose_copy(ember.arange(6.0).reshape(2, 3), 0, 1, out=out)
    assert r is out and out.shape == (3, 2)
    outs = [ember.empty(0), ember.empty(0)]
    ember.split_copy(ember.arange(4.0), 2, out=outs)
    assert outs[1].tolist() == [2.0, 3.0]


def test_split_variant_errors():
    """Negative or mismatched sizes and a size not expandable raise as in torch."""
    compare_raises([(3, 4)], lambda m, x: m.split_with_sizes(x, [1, -1, 3]),
                   match="non-negative entries")
    compare_raises([(3, 4)], lambda m, x: m.split_with_sizes(x, [1, 1]),
                   match="split_with_sizes expects split_sizes to sum exactly to 3")
    compare_raises([(2, 3)], lambda m, x: x.sum_to_size(4), match="is not expandable to size")
    compare_raises([(2, 3)], lambda m, x: x.sum_to_size(1, 2, 3))
    compare_raises([(4, 5)], lambda m, x: m.narrow_copy(x, 0, 3, 2), match="exceeds dimension")


def test_ravel_views_when_contiguous(device):
    """ravel of a contiguous tensor shares its memory."""
    x = ember.arange(6.0, device=device).reshape(2, 3)
    r = ember.ravel(x)
    r[0] = 9.0
    assert x[0, 0].item() == 9.0


# -- 3. in-place view methods --------------------------------------------------------------
INPLACE_VIEWS = {
    "squeeze_": lambda y: y.squeeze_(),
    "squeeze_dim": lambda y: y.squeeze_(1),
    "squeeze_dims": lambda y: y.squeeze_((0, 1)),
    "unsqueeze_": lambda y: y.unsqueeze_(-1),
    "t_": lambda y: y.squeeze_().t_(),
    "transpose_": lambda y: y.transpose_(0, 2),
    "swapaxes_": lambda y: y.swapaxes_(2, 0),
    "swapdims_": lambda y: y.swapdims_(1, 2),
    "as_strided_": lambda y: y.as_strided_((2, 2), (1, 2), 1),
}


@pytest.mark.parametrize("name", sorted(INPLACE_VIEWS))
def test_inplace_view_methods(name, device):
    """The tensor object is kept, becomes the view, and gradients flow through it."""
    def fn(m, x):
        y = x * 2
        r = INPLACE_VIEWS[name](y)
        assert r is y
        return y * y

    compare([(1, 1, 4)] if name != "as_strided_" else [(2, 3)], fn, device=device)


@pytest.mark.parametrize("name", ["squeeze_", "t_", "unsqueeze_"])
def test_inplace_view_version_and_leaf(name, device):
    """The version counter moves, a leaf requiring grad refuses (unless under no_grad), and
    a view stays a view of its base."""
    call = {"squeeze_": lambda t: t.squeeze_(), "t_": lambda t: t.t_(),
            "unsqueeze_": lambda t: t.unsqueeze_(0)}[name]
    for m in (ember, torch):
        leaf = m.ones(1, 3, requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf Variable"):
            call(leaf)
        with m.no_grad():
            call(leaf)
        y = leaf * 1
        v = y._version
        call(y)
        assert y._version > v
    base = ember.zeros(3, 1)
    view = base[:, :]
    view.t_()
    view.fill_(2.0)
    assert base.sum().item() == 6.0


def test_inplace_view_on_view_gradient(device):
    """squeeze_ on a view of a non-leaf: values written through it later reach the base and
    the gradient flows as in torch."""
    def fn(m, x):
        y = x * 1.0
        v = y[:, :1]
        v.squeeze_(1)
        v.mul_(3.0)
        return y

    compare([(3, 2)], fn, device=device)


def test_saved_tensor_changed_by_inplace_view():
    """A tensor saved for backward then reshaped in place makes backward raise."""
    for m in (ember, torch):
        x = m.ones(1, 3, requires_grad=True)
        y = x * 1
        z = (y * y).sum()
        y.squeeze_()
        with pytest.raises(RuntimeError):
            z.backward()


def test_resize(device):
    """resize_ keeps the storage's leading values (in memory order), grows into new memory,
    and refuses tensors that require grad; resize_as_ copies a template's shape."""
    for m in (ember, torch):
        r = m.arange(6.0)
        r.resize_(2, 2)
        assert r.tolist() == [[0.0, 1.0], [2.0, 3.0]]
        r.resize_(3, 3)
        assert r.shape == (3, 3) and r.flatten()[:6].tolist() == [0.0, 1, 2, 3, 4, 5]
        t = m.arange(6.0).reshape(2, 3).t()
        t.resize_(2, 2)
        assert t.tolist() == [[0.0, 1.0], [2.0, 3.0]]
        v = m.zeros(4)
        m.resize_as_(v, m.zeros(2, 2))
        assert v.shape == (2, 2)
        assert v.resize_as_(m.zeros(1, 4)).shape == (1, 4)
        with pytest.raises(RuntimeError, match="cannot resize variables that require grad"):
            m.ones(2, requires_grad=True).resize_(3)
        with pytest.raises(RuntimeError, match="cannot resize variables that require grad"):
            (m.ones(2, requires_grad=True) * 1).resize_(2)
    x = ember.arange(8.0, device=device)
    y = x[2:6]
    y.resize_(2)
    y.fill_(-1.0)
    assert x.tolist() == [0.0, 1, -1, -1, 4, 5, 6, 7]


def test_as_strided_inplace_function(device):
    """ember.as_strided_ (a function too) gives the view of the tensor's own storage."""
    for m in (ember, torch):
        x = m.arange(6.0)
        r = m.as_strided_(x, (2, 2), (1, 2), 1)
        assert r is x and x.tolist() == [[1.0, 3.0], [2.0, 4.0]]


# -- 4. constructors and smaller methods ---------------------------------------------------
def test_new_legacy_constructor(device):
    """t.new(sizes...), t.new(Size), t.new(data), t.new(other), t.new()."""
    for m in (ember, torch):
        x = m.zeros(2, dtype=m.float64)
        assert x.new(2, 3).shape == (2, 3) and x.new(2, 3).dtype == m.float64
        assert x.new(m.Size([4])).shape == (4,)
        assert x.new([1, 2]).tolist() == [1.0, 2.0] and x.new([1, 2]).dtype == m.float64
        assert x.new((2, 3)).tolist() == [2.0, 3.0]
        assert x.new().shape == (0,)
        o = m.ones(3, dtype=m.float64)
        a = x.new(o)
        assert a.data_ptr() == o.data_ptr()
        with pytest.raises(TypeError):
            x.new(m.ones(2, dtype=m.int64))
        with pytest.raises(TypeError):
            x.new(2.5)
        g = m.ones(2, requires_grad=True)
        assert g.new(g).requires_grad


def test_new_empty_strided_and_empty_permuted(device):
    """Strides follow the request; dtype/device default to the tensor's."""
    for m in (ember, torch):
        x = m.zeros(2, dtype=m.int32)
        r = x.new_empty_strided((2, 3), (1, 2))
        assert r.stride() == (1, 2) and r.dtype == m.int32
        assert x.new_empty_strided((2, 3), (3, 1), dtype=m.float64).dtype == m.float64
        p = m.empty_permuted((2, 3, 4, 5), (0, 2, 3, 1))
        assert p.shape == (2, 3, 4, 5) and p.stride() == (60, 1, 15, 3)
        assert m.empty_permuted((2, 3), (1, 0), dtype=m.int64).dtype == m.int64
        assert m.empty_permuted((2, 3), (0, 1), requires_grad=True).requires_grad
    compare_raises([], lambda m: m.empty_permuted((2, 3), (1, 1)), match="Duplicate dim")
    compare_raises([], lambda m: m.empty_permuted((2, 3), (0,)), match="physical_layout")
    compare_raises([], lambda m: m.empty_permuted((2, 3), (0, 5)))


def test_nonzero_static(device):
    """Truncated or padded with fill_value; torch's error for a bad size."""
    compare([], lambda m: m.nonzero_static(m.tensor([0, 1, 0, 2]), size=4), grad=False)
    compare([], lambda m: m.nonzero_static(m.tensor([[0, 1], [3, 2]]), size=2, fill_value=7),
            grad=False)
    compare([], lambda m: m.tensor([[0.0, 1], [3, 2]]).nonzero_static(size=5), grad=False)
    compare([], lambda m: m.nonzero_static(m.tensor(3), size=2), grad=False)
    compare_raises([], lambda m: m.nonzero_static(m.tensor([1]), size=-1),
                   match="'size' must be an non-negative integer")


def test_fill_diagonal(device):
    """2-D (square, tall with and without wrap, wide), N-D cube; integer truncation;
    gradient through a non-leaf; errors."""
    for shape, wrap in (((3, 3), False), ((7, 3), True), ((7, 3), False), ((3, 7), True),
                        ((3, 3, 3), False)):
        compare([shape], lambda m, x, w=wrap: (x * 1).fill_diagonal_(5.0, wrap=w),
                device=device)
    compare([], lambda m: m.zeros(3, 3, dtype=m.int64).fill_diagonal_(1.7), grad=False)
    compare_raises([(3,)], lambda m, x: x.fill_diagonal_(1), match="dimensions must larger")
    compare_raises([(3, 3, 2)], lambda m, x: x.fill_diagonal_(1),
                   match="all dimensions of input must be of equal length")
    compare_raises([(3, 3)], lambda m, x: x.fill_diagonal_(1), grad=True, match="leaf")


INDEX_REDUCE = {
    "prod": lambda m, x, s: x.index_reduce(0, _long(m, [0, 0, 2]), s, "prod"),
    "mean": lambda m, x, s: x.index_reduce(0, _long(m, [0, 0, 2]), s, "mean"),
    "mean_noself": lambda m, x, s: m.index_reduce(x, 0, _long(m, [2, 0, 2]), s, "mean",
                                                  include_self=False),
    "amax": lambda m, x, s: x.index_reduce(0, _long(m, [1, 0, 1]), s, "amax"),
    "amin_noself": lambda m, x, s: x.index_reduce(0, _long(m, [1, 1, 1]), s, "amin",
                                                  include_self=False),
}


@pytest.mark.parametrize("name", sorted(INDEX_REDUCE))
def test_index_reduce(name, device):
    """Values and the gradients of self and source match torch."""
    compare([(3, 2), (3, 2)], INDEX_REDUCE[name], device=device)


def test_index_reduce_dim_and_inplace(device):
    """Along a later dim, int32 indices, integer mean (floor), and the in-place form."""
    compare([(2, 3, 4), (2, 2, 4)], lambda m, x, s: x.index_reduce(
        1, m.tensor([2, 0], dtype=m.int32), s, "prod"), device=device)
    compare([(3, 2), (4, 2)], lambda m, x, s: x.index_reduce(
        0, _long(m, [0, 0, 1, 1]), s, "mean"), dtype="int64", low=-9, high=9, grad=False)

    def inplace(m, x, s):
        y = x * 1
        r = y.index_reduce_(0, _long(m, [0, 2, 0]), s, "amin")
        assert r is y
        return y

    compare([(3, 2), (3, 2)], inplace, device=device)


def test_index_reduce_gradcheck(device):
    """float64 numerical gradients of prod and mean."""
    rng = np.random.default_rng(2)
    x = ember.tensor(rng.normal(size=(3, 2)), dtype=ember.float64, requires_grad=True)
    s = ember.tensor(rng.normal(size=(4, 2)), dtype=ember.float64, requires_grad=True)
    idx = ember.tensor([0, 2, 0, 0])
    for reduce in ("prod", "mean"):
        gradcheck(lambda a, b, r=reduce: a.index_reduce(0, idx, b, r), [x, s])


def test_index_reduce_errors():
    """torch's checks, kinds and messages."""
    def call(idx, red="amax", src=(3, 2), dim=0, dt=None):
        return lambda m, x: x.index_reduce(
            dim, m.tensor(idx, dtype=dt and getattr(m, dt)),
            m.ones(*src, dtype=x.dtype), red)

    compare_raises([(3, 2)], call([0, 0, 2], "sum"),
                   match="Expected reduce to be one of prod, mean, amax or amin but got sum")
    compare_raises([(3, 2)], call([0, 0, 5]), match="index out of range in self")
    compare_raises([(3, 2)], call([-1, 0, 1]), match="index out of range in self")
    compare_raises([(3, 2)], call([0, 0]), match="Number of indices (2) should be equal")
    compare_raises([(3, 2)], call([0.0, 0, 1]), match="Expected dtype int32/int64 for index")
    compare_raises([(3, 2)], call([[0, 0, 1]]), match="Index is supposed to be a vector")
    compare_raises([(3, 2)], call([0, 1, 1], src=(3, 3), dim=0),
                   match="source tensor shape must match self tensor shape")
    compare_raises([(3, 2)], lambda m, x: x.index_reduce(
        0, m.tensor([0, 1, 1]), m.ones(3, 2, dtype=m.float64), "amax"),
        match="must have the same scalar type")


def test_multinomial_method(device):
    """Tensor.multinomial draws indices with the function's rules."""
    p = ember.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    assert p.multinomial(2, True).tolist() == [[1, 1], [2, 2]]
    g = ember.Generator().manual_seed(0)
    r = ember.tensor([1.0, 2.0, 3.0, 4.0]).multinomial(4, generator=g)
    assert sorted(r.tolist()) == [0, 1, 2, 3] and r.dtype == ember.int64
