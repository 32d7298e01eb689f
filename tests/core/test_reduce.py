"""Reductions and scans against PyTorch: values, indices, dtypes, gradients, errors."""

import ember
import numpy as np
import pytest
from torch_compare import compare, compare_raises, gradcheck, gradgradcheck, to_numpy

REDUCE = {
    "sum": lambda m, x: x.sum(),
    "sum_dim": lambda m, x: x.sum(1),
    "sum_neg_dim_keep": lambda m, x: x.sum(-1, keepdim=True),
    "sum_dims": lambda m, x: x.sum((0, 2)),
    "sum_dtype": lambda m, x: x.sum(dtype=m.float64),
    "mean": lambda m, x: x.mean(),
    "mean_dim": lambda m, x: x.mean(0),
    "mean_dims_keep": lambda m, x: x.mean((1, 2), keepdim=True),
    "prod": lambda m, x: x.prod(),
    "prod_dim": lambda m, x: x.prod(1),
    "amax": lambda m, x: x.amax(),
    "amax_dims": lambda m, x: x.amax((0, 1)),
    "amin_keep": lambda m, x: x.amin(-1, keepdim=True),
    "max_all": lambda m, x: x.max(),
    "min_all": lambda m, x: x.min(),
    "max_dim": lambda m, x: tuple(x.max(1)),
    "min_dim_keep": lambda m, x: tuple(x.min(0, keepdim=True)),
    "argmax": lambda m, x: x.argmax(),
    "argmax_dim": lambda m, x: x.argmax(1),
    "argmin_keep": lambda m, x: x.argmin(2, keepdim=True),
    "var": lambda m, x: x.var(),
    "var_dim": lambda m, x: x.var(1),
    "var_unbiased_false": lambda m, x: x.var(1, unbiased=False),
    "var_correction": lambda m, x: x.var((0, 2), correction=0, keepdim=True),
    "std": lambda m, x: x.std(),
    "std_dim": lambda m, x: x.std(-1, keepdim=True),
    "logsumexp": lambda m, x: x.logsumexp(1),
    "logsumexp_dims": lambda m, x: m.logsumexp(x, (0, 2), keepdim=True),
    "softmax": lambda m, x: x.softmax(1),
    "softmax_last": lambda m, x: m.softmax(x, dim=-1),
    "log_softmax": lambda m, x: x.log_softmax(0),
    "cumsum": lambda m, x: x.cumsum(1),
    "cumsum_neg": lambda m, x: m.cumsum(x, -1),
    "norm": lambda m, x: x.norm(),
    "norm_dim": lambda m, x: x.norm(dim=1),
    "nansum": lambda m, x: m.nansum(x),
    "var_mean": lambda m, x: m.var_mean(x, 1),
    "std_mean": lambda m, x: m.std_mean(x, dim=(0, 1)),
}


@pytest.mark.parametrize("name", sorted(REDUCE))
def test_reduction(name, device):
    """Each reduction matches torch in value, dtype, shape and gradient."""
    compare([(2, 3, 4)], REDUCE[name], device=device)


@pytest.mark.parametrize("name", ["sum_dim", "mean_dim", "max_dim", "var_dim", "softmax",
                                  "log_softmax", "cumsum", "logsumexp", "prod_dim"])
def test_reduction_noncontiguous(name, device):
    """Reductions over transposed inputs."""
    compare([(3, 4, 2)], REDUCE[name], device=device, noncontig=True)


@pytest.mark.parametrize("name", ["sum", "sum_dim", "prod", "prod_dim", "max_all", "max_dim",
                                  "argmax", "cumsum", "amax"])
def test_reduction_int(name, device):
    """Integer reductions: sum/prod/cumsum promote to int64, max keeps the dtype."""
    compare([(2, 3, 4)], REDUCE[name], dtype="int32", low=-3, high=4, device=device)


@pytest.mark.parametrize("name", ["sum", "sum_dim", "max_all", "amax", "max_dim"])
def test_reduction_bool(name, device):
    """Reductions of bool tensors (sum counts to int64)."""
    compare([(2, 3, 4)], REDUCE[name], dtype="bool", device=device)


def test_argmax_bool_raises(device):
    """argmax of a bool tensor raises, as in torch."""
    compare_raises([(3,)], lambda m, x: x.argmax(), dtype="bool", device=device)


@pytest.mark.parametrize("name", ["sum", "mean", "var", "std", "logsumexp", "softmax",
                                  "log_softmax", "prod", "norm", "amax", "cumsum"])
def test_reduction_gradcheck(name, device):
    """float64 numerical first- and second-gradient checks."""
    fn = REDUCE[name if name not in ("logsumexp", "softmax", "log_softmax", "cumsum")
                else name]
    rng = np.random.default_rng(1)
    x = ember.tensor(rng.uniform(0.5, 1.5, size=(2, 3, 2)), dtype=ember.float64,
                     device=device, requires_grad=True)
    gradcheck(lambda t: fn(ember, t), [x])
    if name != "amax":
        gradgradcheck(lambda t: fn(ember, t), [x])


def test_max_ties_gradient(device):
    """max over all elements splits the gradient between ties; max(dim) picks one."""
    vals = [np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])]
    compare([], lambda m, x: (x.max(), x.amax(1), x.min()), vals=vals, device=device)
    compare([], lambda m, x: tuple(x.max(1)), vals=vals, device=device)


def test_max_nan_propagates(device):
    """max/argmax with NaN pick the NaN, as in torch."""
    vals = [np.array([[1.0, np.nan, 3.0], [2.0, 5.0, 0.0]])]
    compare([], lambda m, x: (x.max(), tuple(x.max(1)), x.amax(1)), vals=vals, device=device,
            grad=False)


def test_max_binary_form(device):
    """max(a, b) is the elementwise maximum."""
    compare([(3,), (3,)], lambda m, a, b: m.max(a, b), device=device)


def test_max_on_empty_raises(device):
    """max of an empty tensor raises."""
    compare_raises([(0,)], lambda m, x: x.max(), device=device)


def test_max_dim_on_empty_dim_raises(device):
    """max along an empty dimension raises IndexError."""
    compare_raises([(2, 0)], lambda m, x: x.max(1), device=device)


def test_sum_of_empty_is_zero(device):
    """sum/mean of empty tensors: 0 and NaN."""
    compare([(0, 3)], lambda m, x: (x.sum(), x.sum(0), x.mean()), device=device)


def test_mean_of_int_raises(device):
    """mean of an integer tensor raises."""
    compare_raises([(3,)], lambda m, x: x.mean(), dtype="int64", device=device)


def test_mean_with_dtype(device):
    """mean(dtype=...) of an int tensor."""
    compare([(3,)], lambda m, x: x.mean(dtype=m.float64), dtype="int64", device=device)


def test_dim_out_of_range_raises(device):
    """A reduction dim out of range raises IndexError."""
    compare_raises([(2, 3)], lambda m, x: x.sum(2), device=device)


def test_repeated_dims_raise(device):
    """Repeated dims raise."""
    compare_raises([(2, 3)], lambda m, x: x.sum((1, 1)), device=device)


def test_reduce_0dim(device):
    """Reductions of 0-dim tensors (dim 0 and -1 allowed)."""
    compare([()], lambda m, x: (x.sum(), x.sum(0), x.mean(-1), tuple(x.max(0)),
                                x.argmax(), x.softmax(0), x.logsumexp(0), x.cumsum(0)),
            device=device)


def test_var_single_element(device):
    """var of one element with correction 1 is NaN (as torch), 0 with correction 0."""
    compare([(1,)], lambda m, x: (x.var(), x.var(unbiased=False)), device=device,
            grad=False)


def test_prod_with_zeros_gradient(device):
    """prod's gradient with one and with two zeros."""
    compare([], lambda m, x: (x.prod(), x.prod(1)),
            vals=[np.array([[1.0, 0.0, 3.0], [0.0, 2.0, 0.0]])], device=device)


def test_softmax_large_values_stable(device):
    """softmax/log_softmax of large values are finite."""
    compare([], lambda m, x: (x.softmax(-1), x.log_softmax(-1)),
            vals=[np.array([[1000.0, 0.0, -1000.0]])], device=device)


def test_softmax_int_input(device):
    """softmax of an int tensor with dtype=float."""
    compare([(2, 3)], lambda m, x: m.softmax(x, 1, dtype=m.float32), dtype="int64",
            device=device)


def test_softmax_dtype_argument(device):
    """softmax(dtype=float64) upcasts."""
    compare([(2, 3)], lambda m, x: m.log_softmax(x, 1, dtype=m.float64), device=device)


def test_logsumexp_inf(device):
    """logsumexp with -inf entries and all -inf rows."""
    compare([], lambda m, x: x.logsumexp(1),
            vals=[np.array([[-np.inf, 0.0], [-np.inf, -np.inf]])], device=device, grad=False)


def test_all_any(device):
    """all/any over all elements and along a dim."""
    compare([(3, 4)], lambda m, x: ((x > 0).all(), (x > 0).any(1), x.all(), x.any(0)),
            device=device, grad=False)


def test_cumsum_int_and_dtype(device):
    """cumsum of ints goes to int64; dtype argument."""
    compare([(5,)], lambda m, x: (x.cumsum(0), x.cumsum(0, dtype=m.float32)), dtype="int32",
            device=device)


def test_max_return_type_fields(device):
    """max(dim) returns a named tuple with .values and .indices."""
    x = ember.tensor([[1.0, 5.0], [7.0, 2.0]], device=device)
    r = x.max(1)
    assert r.values.tolist() == [5.0, 7.0] and r.indices.tolist() == [1, 0]
    v, i = x.min(dim=0)
    assert v.tolist() == [1.0, 2.0] and i.dtype is ember.int64


def test_softmax_double_backward(device):
    """Second derivatives of softmax and log_softmax against finite differences."""
    rng = np.random.default_rng(3)
    x = ember.tensor(rng.normal(size=(2, 3)), dtype=ember.float64, device=device,
                     requires_grad=True)
    gradgradcheck(lambda t: (t.softmax(1) * t).sum(1), [x])
    gradgradcheck(lambda t: t.log_softmax(0)[0], [x])


def test_norm_p_values(device):
    """norm with p = 0, 1, inf, 3."""
    compare([(3, 4)], lambda m, x: (x.norm(p=1), x.norm(p=float("inf")), x.norm(p=3, dim=1),
                                    x.norm(p=0), x.norm(dim=1, keepdim=True)),
            device=device)


def test_reduction_keyword_forms(device):
    """max(dim=, keepdim=), torch.max(x, 1), var(0, True), std(0, False, True), sum([0])."""
    compare([(3, 4)], lambda m, x: (tuple(x.max(dim=1, keepdim=True)), tuple(m.max(x, 1)),
                                    x.var(0, True), x.std(0, False, True), x.sum([0]),
                                    x.mean(dim=(-1, -2)), x.sum(dim=None)),
            device=device)


def test_reductions_over_empty_dims(device):
    """sum/prod over an empty dim; amax over a non-empty dim of an empty tensor."""
    compare([(2, 0)], lambda m, x: (x.sum(1), x.prod(1), x.amax(0), x.softmax(1),
                                    tuple(x.max(0)), x.argmax(0), x.logsumexp(1),
                                    x.logsumexp(0), x.cumsum(1), x.std(0)), device=device)
    compare_raises([(2, 0)], lambda m, x: x.amax(1), device=device)
    compare_raises([(2, 0)], lambda m, x: x.argmax(1), device=device)


@pytest.mark.parametrize("fn", [lambda m, x: x.long().std(), lambda m, x: x.long().var(),
                                lambda m, x: m.softmax(x.long(), 0),
                                lambda m, x: x.long().log_softmax(0), lambda m, x: x.sum("a"),
                                lambda m, x: x.sum((0, "a"))])
def test_reduction_bad_input_raises(fn, device):
    """Integer std/var/softmax and non-integer dims raise what torch raises."""
    compare_raises([(5,)], fn, device=device)


@pytest.mark.parametrize("dtype", ["float32", "complex64", "float16", "bfloat16"])
def test_cpu_scans_accumulate_wide_like_torch(dtype):
    """PyTorch's CPU cumsum/cumprod keep the running value in a wider type (float32 and
    complex64 in double, float16 and bfloat16 in float32) and round only what they store,
    so ember's must equal PyTorch's bit for bit (diffusers' noise schedules are the
    float32 cumprod of 1000 alphas)."""
    import torch

    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 2000))
    if dtype == "complex64":
        x = x + 1j * rng.standard_normal((3, 2000))
    for arr, fn in ((x, "cumsum"), (1 + 0.01 * x, "cumprod")):
        t = torch.from_numpy(arr).to(getattr(torch, dtype))
        e = ember.tensor(to_numpy(t)).to(getattr(ember, dtype))  # the same rounded values
        for dim in (0, 1, -1):
            np.testing.assert_array_equal(to_numpy(getattr(e, fn)(dim)),
                                          to_numpy(getattr(t, fn)(dim)), err_msg=f"{fn} {dim}")
