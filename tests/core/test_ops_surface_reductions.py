"""Reductions, scans and order statistics against PyTorch: values, indices, dtypes, shapes,
gradients (float64 numerical checks), NaN handling and errors."""

import ember
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_compare import assert_close, compare, compare_raises, gradcheck, gradgradcheck

NAN = float("nan")

def _q(m, x, values):
    """Quantile levels as a tensor of ``x``'s dtype on ``x``'s device."""
    return m.tensor(values, dtype=x.dtype, device=x.device)


REDUCE = {
    "norm": lambda m, x: x.norm(),
    "norm_fro_dims": lambda m, x: m.norm(x, "fro", dim=(0, 2)),
    "norm_nuc": lambda m, x: m.norm(x[0], "nuc"),
    "norm_nuc_dims": lambda m, x: x.norm("nuc", dim=(1, 2), keepdim=True),
    "norm_inf": lambda m, x: x.norm(float("inf"), dim=1),
    "norm_ninf": lambda m, x: m.norm(x, float("-inf")),
    "norm_0": lambda m, x: x.norm(0, dim=-1),
    "norm_1": lambda m, x: m.norm(x, 1, dim=(1,), keepdim=True),
    "norm_3": lambda m, x: x.norm(3, 2),
    "norm_half": lambda m, x: m.norm(x, 0.5),
    "norm_dtype": lambda m, x: m.norm(x, 2, dim=0, dtype=m.float64),
    "nansum": lambda m, x: m.nansum(x, 1),
    "nanmean": lambda m, x: m.nanmean(x),
    "nanmean_dim": lambda m, x: x.nanmean((0, 2), keepdim=True),
    "cumprod": lambda m, x: x.cumprod(1),
    "cumprod_dtype": lambda m, x: m.cumprod(x, -1, dtype=m.float64),
    "cumsum": lambda m, x: m.cumsum(x, 0),
    "cummax": lambda m, x: tuple(x.cummax(1)),
    "cummin": lambda m, x: tuple(m.cummin(x, -1)),
    "logcumsumexp": lambda m, x: x.logcumsumexp(2),
    "median": lambda m, x: x.median(),
    "median_dim": lambda m, x: tuple(m.median(x, 1)),
    "median_keep": lambda m, x: tuple(x.median(-1, keepdim=True)),
    "nanmedian": lambda m, x: m.nanmedian(x),
    "nanmedian_dim": lambda m, x: tuple(x.nanmedian(0)),
    "quantile": lambda m, x: m.quantile(x, 0.3),
    "quantile_dim": lambda m, x: x.quantile(_q(m, x, [0.1, 0.5, 0.9]), dim=1),
    "quantile_keep": lambda m, x: m.quantile(x, _q(m, x, [0.25, 0.75]), dim=-1, keepdim=True),
    "quantile_all_keep": lambda m, x: m.quantile(x, 0.6, keepdim=True),
    "nanquantile": lambda m, x: m.nanquantile(x, 0.4, dim=2),
    "sort_stable": lambda m, x: tuple(m.sort(x, stable=True, dim=1)),
    "sort_desc": lambda m, x: tuple(x.sort(dim=0, descending=True)),
    "argsort": lambda m, x: m.argsort(x, -1, descending=True),
    "msort": lambda m, x: m.msort(x),
    "msort_method": lambda m, x: x.msort(),
    "topk": lambda m, x: tuple(x.topk(2, dim=1)),
    "topk_smallest": lambda m, x: tuple(m.topk(x, 3, largest=False)),
    "kthvalue": lambda m, x: tuple(x.kthvalue(2, 1)),
    "kthvalue_keep": lambda m, x: tuple(m.kthvalue(x, 1, 0, keepdim=True)),
    "std_mean": lambda m, x: m.std_mean(x, 1),
    "var_mean": lambda m, x: m.var_mean(x, (0, 2), correction=0),
    "aminmax": lambda m, x: tuple(m.aminmax(x)),
    "aminmax_dim": lambda m, x: tuple(x.aminmax(dim=1, keepdim=True)),
    "diff": lambda m, x: x.diff(),
    "diff_n2": lambda m, x: m.diff(x, n=2, dim=1),
    "diff_pre_app": lambda m, x: m.diff(x, dim=0, prepend=x[:1] * 2, append=x[-1:]),
    "trace": lambda m, x: x[0].trace(),
    "cross": lambda m, x: m.cross(x[:, :3], x[:, 1:], dim=1),
    "cov": lambda m, x: m.cov(x[0]),
    "cov_correction": lambda m, x: x[1].cov(correction=0),
    "corrcoef": lambda m, x: m.corrcoef(x[0]),
    "trapezoid": lambda m, x: m.trapezoid(x),
    "trapezoid_dx": lambda m, x: m.trapezoid(x, dx=0.5, dim=1),
    "trapz": lambda m, x: m.trapz(x, dim=0),
    "cumulative_trapezoid": lambda m, x: m.cumulative_trapezoid(x, dim=1),
    "renorm": lambda m, x: x.renorm(2, 0, 1.5),
    "renorm_p1": lambda m, x: m.renorm(x, 1, 2, 2.0),
    "logsumexp": lambda m, x: m.logsumexp(x, (0, 1)),
    "all_any": lambda m, x: (x.all(), (x > 0).any(1), m.all(x > -1, dim=(0, 2))),
    "count_nonzero": lambda m, x: (m.count_nonzero(x > 0), (x > 0).count_nonzero((0, 1))),
}

SMOOTH = ["norm_fro_dims", "norm_nuc", "norm_3", "nanmean_dim", "cumprod", "logcumsumexp",
          "median_dim", "quantile_dim", "quantile_keep", "nanquantile", "kthvalue",
          "std_mean", "diff_pre_app", "cov", "corrcoef", "cumulative_trapezoid", "renorm",
          "cross", "trace", "norm_inf", "topk"]


@pytest.mark.parametrize("name", sorted(REDUCE))
def test_reduction(name, device):
    """Values, indices, dtype, shape and gradient match torch."""
    compare([(3, 4, 5)], REDUCE[name], device=device)


@pytest.mark.parametrize("name", ["cumprod", "cummax", "logcumsumexp", "median_dim",
                                  "quantile_dim", "kthvalue", "diff_n2", "norm_3", "cov",
                                  "aminmax_dim", "nanmedian_dim", "sort_stable"])
def test_reduction_noncontiguous(name, device):
    compare([(3, 4, 5)], REDUCE[name], device=device, noncontig=True)


@pytest.mark.parametrize("name", SMOOTH)
def test_reduction_gradcheck(name, device):
    """float64 analytical gradients against finite differences."""
    x = ember.tensor(np.random.default_rng(1).uniform(-1, 1, (2, 4, 3)), dtype=ember.float64,
                     device=device, requires_grad=True)
    gradcheck(lambda t: _first(REDUCE[name](ember, t)), [x])


def _first(r):
    return r[0] if isinstance(r, tuple) else r


@pytest.mark.parametrize("name", ["cumprod", "logcumsumexp", "norm_3", "renorm", "cov"])
def test_reduction_gradgradcheck(name, device):
    x = ember.tensor(np.random.default_rng(2).uniform(0.2, 1, (2, 4, 3)), dtype=ember.float64,
                     device=device, requires_grad=True)
    gradgradcheck(lambda t: _first(REDUCE[name](ember, t)), [x])


def test_cumprod_with_zeros(device):
    """cumprod's gradient is exact with zeros (one, several, at the ends)."""
    vals = [np.array([[2.0, 0.0, 3.0, 0.5], [0.0, 1.5, 2.0, 0.0], [1.5, 2.0, -1.0, 0.0],
                      [0.0, 0.0, 2.0, 3.0]])]
    compare([], lambda m, x: x.cumprod(1), vals=vals, dtype="float64", device=device)
    compare([], lambda m, x: x.cumprod(0), vals=vals, dtype="float64", device=device)
    x = ember.tensor(vals[0], dtype=ember.float64, device=device, requires_grad=True)
    gradcheck(lambda t: t.cumprod(1), [x])
    gradgradcheck(lambda t: t.cumprod(1), [x])


def test_cumprod_ints_and_inplace(device):
    compare([(5,)], lambda m, x: (x.cumprod(0), m.cumprod(x.int(), 0)), dtype="int64",
            low=-3, high=4, device=device)
    compare([(2, 3)], lambda m, x: ((x * 1).cumprod_(1), (x * 1).cumsum_(0)), device=device)


def test_scan_ties_and_nan(device):
    """cummax/cummin take the last index of ties; NaN propagates with its index."""
    vals = [np.array([1.0, 3.0, 3.0, 2.0, NAN, 5.0, NAN, 0.0])]
    compare([], lambda m, x: (tuple(x.cummax(0)), tuple(x.cummin(0))), vals=vals,
            device=device)
    compare([], lambda m, x: (tuple(x.cummax(0)), tuple(m.cummin(x, 0))),
            vals=[np.array([1, 3, 3, 1, 0, 3])], device=device)
    compare([], lambda m, x: tuple(x.cummax(0)), vals=[np.array([True, False, True])],
            device=device)


def test_logcumsumexp_extremes(device):
    """Stable for large and very negative values, and -inf."""
    vals = [np.array([-1000.0, 0.0, 1000.0, -np.inf, 5.0, 1000.0])]
    compare([], lambda m, x: x.logcumsumexp(0), vals=vals, device=device, grad=False)
    compare([], lambda m, x: x.logcumsumexp(0), vals=[np.array([-30.0, 1.0, 40.0, -5.0])],
            dtype="float64", device=device)


def test_median_family_nan_and_ties(device):
    """median propagates NaN (its index too), nanmedian skips it; ties pick torch's index;
    without dim the gradient is shared by equal elements."""
    x = [np.array([[3.0, 1.0, NAN, 2.0, NAN], [1.0, 2.0, 2.0, 3.0, 0.0],
                   [NAN, NAN, NAN, NAN, NAN]])]
    compare([], lambda m, x: (tuple(x.median(1)), tuple(x[:2].nanmedian(1)),
                              x[1].median(), x[0].nanmedian(), x.median(), x.nanmedian()),
            vals=x, device=device)
    compare([], lambda m, x: x.nanmedian(1).values, vals=x, device=device, grad=False)
    # (the index torch reports for an all-NaN slice of nanmedian is whatever its selection
    # algorithm leaves there; ember reports the first)
    assert ember.nanmedian(ember.tensor(x[0]), 1).indices[2].item() == 0
    compare([], lambda m, x: (x.median(), tuple(m.median(x, 0))),
            vals=[np.array([1.0, 2.0, 2.0, 3.0, 2.0])], device=device)


def test_mode(device):
    """The smallest most frequent value, and the index of its last occurrence."""
    vals = [np.array([[2, 1, 2, 1, 3, 3], [1, 1, 1, 2, 2, 2], [5, 4, 3, 2, 1, 0]])]
    compare([], lambda m, x: (tuple(x.mode()), tuple(m.mode(x, 0)),
                              tuple(x.mode(1, keepdim=True))), vals=vals, device=device)
    compare([], lambda m, x: tuple(x.mode(1)),
            vals=[np.array([[1.0, 2.0, 2.0, 0.5], [3.0, 3.0, 1.0, 1.0]])], device=device)


@pytest.mark.parametrize("interp", ["linear", "lower", "higher", "midpoint", "nearest"])
def test_quantile_interpolation(interp, device):
    q = [0.0, 0.1, 0.25, 0.5, 0.7, 1.0]
    compare([(4, 7)], lambda m, x: (m.quantile(x, m.tensor(q), dim=1, interpolation=interp),
                                    m.nanquantile(x, 0.35, interpolation=interp)),
            device=device)
    compare([], lambda m, x: m.quantile(x, m.tensor([0.1, 0.3, 0.5, 0.7, 0.9]),
                                        interpolation=interp),
            vals=[np.arange(6.0)], device=device)


def test_quantile_nan(device):
    vals = [np.array([[1.0, NAN, 3.0, 2.0], [NAN, NAN, NAN, NAN], [4.0, 1.0, 2.0, 3.0]])]
    compare([], lambda m, x: (m.quantile(x, 0.5, dim=1), m.nanquantile(x, 0.5, dim=1),
                              m.nanquantile(x, m.tensor([0.2, 0.8], dtype=x.dtype), dim=1)),
            vals=vals,
            dtype="float64", device=device)


@pytest.mark.parametrize("fn", [
    lambda m, x: m.quantile(x.long(), 0.5),
    lambda m, x: m.quantile(x, 1.5),
    lambda m, x: m.quantile(x, m.tensor([0.5], dtype=m.float64)),
    lambda m, x: m.quantile(x, 0.5, interpolation="cubic"),
    lambda m, x: m.kthvalue(x, 9, 1),
    lambda m, x: m.median(x[:, :0], 1),
    lambda m, x: m.norm(x.long()),
    lambda m, x: m.histc(x.long()),
    lambda m, x: m.bincount(x.long().abs() - 5),
    lambda m, x: m.bincount(x.long().abs().reshape(-1, 1)),
    lambda m, x: m.diff(x[0, 0, 0]),
    lambda m, x: m.cov(x.reshape(2, 2, -1)),
    lambda m, x: m.cdist(x[0], x[1, :, :2]),
    lambda m, x: m.cdist(x[0, 0], x[1]),
    lambda m, x: m.cdist(x[0], x[1], p=-1),
    lambda m, x: m.renorm(x, 2, 0, -1.0),
    lambda m, x: m.trace(x),
    lambda m, x: m.topk(x, 10),
    lambda m, x: m.searchsorted(x[0], x[0, 0, 0]),
])
def test_errors(fn, device):
    """Bad input raises the same exception type as torch."""
    compare_raises([(2, 3, 4)], fn, device=device)


def test_sort_stability_descending(device):
    """Stable sorts keep the order of ties in both directions; NaN sorts last (first when
    descending)."""
    vals = [np.array([2.0, 1.0, 2.0, NAN, 1.0, 2.0, -np.inf])]
    compare([], lambda m, x: (tuple(x.sort(stable=True)),
                              tuple(m.sort(x, descending=True, stable=True)),
                              x.argsort(stable=True), m.msort(x)), vals=vals, device=device)


def test_topk_unsorted_and_dims(device):
    """topk(sorted=False) returns the same set (torch's order is then unspecified)."""
    x = ember.tensor(np.random.default_rng(0).permutation(20).astype(np.float32))
    v, i = x.topk(5, sorted=False)
    tv, _ = torch.tensor(x.numpy()).topk(5)
    assert sorted(v.tolist()) == sorted(tv.tolist())
    assert (x[i] == v).all()


def test_unique(device):
    """unique with sorted/inverse/counts, over all elements and along a dim."""
    vals = [np.array([[3, 1, 2], [1, 3, 3], [3, 1, 2]])]
    compare([], lambda m, x: (m.unique(x), x.unique(return_inverse=True),
                              m.unique(x, return_counts=True),
                              m.unique(x, return_inverse=True, return_counts=True),
                              x.unique(dim=0, return_inverse=True, return_counts=True),
                              m.unique(x, dim=1, return_counts=True)), vals=vals,
            device=device)
    compare([], lambda m, x: m.unique(x, return_inverse=True),
            vals=[np.array([2.5, -1.0, 2.5, 0.0])], device=device, backward=False)
    e = ember.unique(ember.tensor([3, 1, 2, 1]), sorted=False)
    assert sorted(e.tolist()) == [1, 2, 3]


def test_unique_consecutive(device):
    vals = [np.array([[1, 1, 2], [2, 3, 3]])]
    compare([], lambda m, x: (m.unique_consecutive(x),
                              x.unique_consecutive(return_inverse=True, return_counts=True),
                              m.unique_consecutive(x, dim=1, return_counts=True),
                              m.unique_consecutive(x.t(), dim=0, return_inverse=True)),
            vals=vals, device=device)
    compare([], lambda m, x: m.unique_consecutive(x, return_inverse=True, dim=0),
            vals=[np.array([[1, 1], [1, 1], [2, 3]])], device=device)


def test_histc_histogram_bincount(device):
    vals = [np.array([1.0, 2.0, 1.0, 4.0, 5.0, -1.0, 4.0, 2.5, 3.9999])]
    compare([], lambda m, x: (m.histc(x, bins=4, min=0, max=4), x.histc(5),
                              m.histc(x, 3, min=2, max=2)), vals=vals, device=device,
            grad=False)
    compare([], lambda m, x: (tuple(m.histogram(x, bins=4)),
                              tuple(x.histogram(3, range=(0.0, 3.0))),
                              tuple(m.histogram(x, m.tensor([0.0, 1.0, 3.0, 5.0]),
                                                weight=x.abs(), density=True)),
                              tuple(m.histogram(x, 5, density=True))),
            vals=vals, device=device, grad=False)
    ivals = [np.array([0, 1, 1, 3, 7, 1]), np.array([1.0, 2.0, 3.0, 4.0, 0.5, 1.0])]
    compare([], lambda m, x, w: (m.bincount(x), x.bincount(minlength=10),
                                 m.bincount(x, weights=w), m.bincount(x, w.double()),
                                 m.bincount(x, x), m.bincount(x[:0])),
            vals=ivals, device=device, grad=False)


def test_histc_random_edges(device):
    """Bin assignment at and near the edges matches torch on many random values."""
    compare([(1000,)], lambda m, x: (m.histc(x, 37, -1.5, 1.7), m.histc(x * 3, 11)),
            device=device, grad=False)


def test_count_nonzero_std_var_mean(device):
    compare([(3, 4)], lambda m, x: (m.count_nonzero((x > 0).float(), dim=1),
                                    m.count_nonzero(x.long()), m.std_mean(x),
                                    m.var_mean(x, 0, keepdim=True)), device=device)


def test_cdist(device):
    """cdist for every p, batched and broadcast, with and without the matmul path."""
    for p in (0.0, 1.0, 2.0, 3.0, 0.5, float("inf")):
        compare([(2, 5, 3), (1, 4, 3)], lambda m, a, b, p=p: m.cdist(a, b, p=p), device=device,
                dtype="float64")
    compare([(30, 3), (28, 3)], lambda m, a, b: (m.cdist(a, b), m.cdist(
        a, b, compute_mode="use_mm_for_euclid_dist"), m.cdist(
        a, b, compute_mode="donot_use_mm_for_euclid_dist")), device=device,
        dtype="float64")
    rng = np.random.default_rng(3)
    a = ember.tensor(rng.uniform(-1, 1, (3, 2)), dtype=ember.float64, requires_grad=True)
    b = ember.tensor(rng.uniform(-1, 1, (2, 2)), dtype=ember.float64, requires_grad=True)
    for p in (1.0, 2.0, 3.0, float("inf")):
        gradcheck(lambda x, y, p=p: ember.cdist(x, y, p=p), [a, b])
    gradgradcheck(lambda x, y: ember.cdist(x, y), [a, b])


def test_cdist_zero_distance_gradient(device):
    """Identical points give a zero (not NaN) gradient, as in torch."""
    compare([], lambda m, a, b: m.cdist(a, b, compute_mode="donot_use_mm_for_euclid_dist"),
            vals=[np.array([[1.0, 2.0], [0.0, 0.0]]), np.array([[1.0, 2.0]])],
            device=device)


def test_cov_weights(device):
    rng = np.random.default_rng(1)
    fw = rng.integers(1, 4, 6)
    aw = rng.uniform(0.1, 1, 6)

    def f(m, x):
        return (m.cov(x, fweights=m.tensor(fw)), m.cov(x, aweights=m.tensor(aw, dtype=x.dtype)),
                m.cov(x, correction=2, fweights=m.tensor(fw),
                      aweights=m.tensor(aw, dtype=x.dtype)),
                m.cov(x[0]), m.corrcoef(x[0]), m.cov(x.long()))
    compare([(3, 6)], f, device=device)


def test_norm_zero_gradient(device):
    """The 2-norm's gradient at the origin is zero (not NaN)."""
    compare([], lambda m, x: (x.norm(), x.norm(dim=1)),
            vals=[np.zeros((2, 3))], device=device)


def test_trace_ints(device):
    compare([(3, 3)], lambda m, x: m.trace(x), dtype="int64", device=device)


def test_nan_reductions(device):
    vals = [np.array([[1.0, NAN, 3.0], [NAN, NAN, NAN], [4.0, 1.0, 2.0]])]
    compare([], lambda m, x: (m.nansum(x), x.nansum(1), m.nanmean(x, 1), x.nanmean(),
                              m.nanmedian(x, 1).values), vals=vals, device=device)


@settings(max_examples=15)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.integers(0, 2),
       st.sampled_from(["median", "cumprod", "cummax", "logcumsumexp", "kthvalue",
                        "quantile"]))
def test_hypothesis_dims(shape, dim, name):
    """Random shapes and dims: the dim-wise ops agree with torch."""
    dim = dim % len(shape)
    fns = {"median": lambda m, x: tuple(x.median(dim)),
           "cumprod": lambda m, x: x.cumprod(dim),
           "cummax": lambda m, x: tuple(x.cummax(dim)),
           "logcumsumexp": lambda m, x: x.logcumsumexp(dim),
           "kthvalue": lambda m, x: tuple(x.kthvalue(1, dim)),
           "quantile": lambda m, x: m.quantile(x, m.tensor([0.2, 0.9], dtype=x.dtype),
                                               dim=dim)}
    compare([tuple(shape)], fns[name], dtype="float64")


@pytest.mark.parametrize("shape", [(4, 64), (3, 257)])
def test_selection_fast_paths_with_ties(shape, device):
    """Long rows take the partition-based paths of median/kthvalue/quantile/topk. With
    ties torch's choice of index is an implementation detail (it isn't stable), so values
    and gradients are compared, and every index must point at its value; stable sorts match
    exactly."""
    def f(m, x):
        y = (x * 3).round() + x * 0
        return (y.median(1).values, y.kthvalue(7, 1).values, y.median(),
                y.topk(5, 1).values, y.topk(3, 1, largest=False).values,
                m.quantile(y, m.tensor([0.1, 0.5, 0.93], dtype=y.dtype), dim=1),
                m.quantile(x, 0.37, dim=0), m.nanquantile(x, 0.8), x.topk(9, 1),
                y.sort(stable=True, dim=1), y.argsort(dim=1, descending=True, stable=True),
                y.mode(1).values)
    compare([shape], f, device=device)
    x = ember.tensor((np.random.default_rng(0).uniform(-2, 2, shape) * 3).round())
    for r in (x.median(1), x.kthvalue(7, 1), x.topk(5, 1), x.topk(4, 1, largest=False),
              x.mode(1)):
        v, i = r
        i = i if i.ndim == 2 else i.unsqueeze(1)
        assert (x.gather(1, i) == (v if v.ndim == 2 else v.unsqueeze(1))).all()


def test_topk_fast_path_nan(device):
    """NaN counts as the largest value in topk (also when it decides the threshold)."""
    x = np.random.default_rng(4).uniform(-1, 1, (3, 40))
    x[0, [3, 17]] = np.nan
    x[1, [1, 2, 5]] = np.nan
    # (torch orders tied NaNs by no fixed rule: compare the values and the sets of indices)
    compare([], lambda m, t: tuple(r for k, lg in ((3, True), (5, True), (4, False))
                                   for r in (t.topk(k, 1, largest=lg).values,
                                             t.topk(k, 1, largest=lg).indices.sort(1).values)),
            vals=[x], device=device, grad=False)


def test_return_types():
    """Named results as torch.return_types."""
    x = ember.tensor([[1.0, 3.0], [2.0, 0.0]])
    r = x.cummax(1)
    assert r.values.shape == (2, 2) and r.indices.dtype is ember.int64
    assert ember.median(x, 0).indices.tolist() == [0, 1]
    assert ember.aminmax(x).max.item() == 3.0
    assert ember.histogram(x, 2).bin_edges.shape == (3,)
    assert_close(ember.kthvalue(x, 1, 0).values, torch.tensor([1.0, 0.0]))
