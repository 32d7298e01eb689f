"""Corner cases of op semantics against PyTorch, found by differential probing: scalar
promotion of pow/clamp, integer division by zero, ``out=`` casting, NaN and signed zeros,
reduction dtypes, unique with NaN, advanced-index layout, gather/scatter checks, integer
scalar conversion (uint8 -1), tensor() inference and printing options."""

import ember
import pytest
import torch
from torch_compare import compare, compare_raises


def same(fn):
    """``fn(m)`` for m in (ember, torch) agrees in values, dtype and shape."""
    return compare([], fn, grad=False)


# -- pow -------------------------------------------------------------------------------------
@pytest.mark.parametrize("expr", [
    lambda m: m.tensor([7, -7, 5]) ** 2.0,       # int ** float scalar: the default float
    lambda m: m.tensor([7, -7, 5]) ** 1.0,
    lambda m: m.tensor([7, -7, 5]).pow(2.0),
    lambda m: m.tensor([True, False]) ** 2,      # bool ** int: int64
    lambda m: m.tensor([1.5, -2.0]) ** 2j,       # float ** complex: complex
    lambda m: m.tensor([1.5, -2.0]) ** (1 + 0j),
    lambda m: m.tensor([7, -7, 5, 1, -1, 0]) ** m.tensor([-1, -2, -3, -1, -3, 1]),
    lambda m: m.tensor([7, -7, 5, 1, -1, 0]) ** m.tensor(-2),
    lambda m: 2 ** m.tensor([7, -7, 5, 1]),
    lambda m: (-1) ** m.tensor([-1, -2, 3]),
    lambda m: m.pow(m.tensor([2, 3], dtype=m.uint8), m.tensor([-1, 2])),
])
def test_pow_promotion_and_negative_int_exponents(expr):
    same(expr)


def test_pow_errors():
    compare_raises([], lambda m: m.tensor([1, 2]) ** -1, match="negative integer powers")
    compare_raises([], lambda m: m.tensor([1, 2]).pow_(2.0), match="can't be cast")


# -- add/sub alpha, bool negation ------------------------------------------------------------
def test_alpha_with_scalar_other():
    same(lambda m: m.add(m.tensor([1, -2, 3], dtype=m.int8), 2, alpha=3))
    same(lambda m: m.add(m.tensor([1.5, -2.5]), 2, alpha=0.5))
    same(lambda m: m.sub(m.tensor([1.5, -2.5]), 2, alpha=0.5))


def test_neg_of_bool_raises_runtime_error():
    compare_raises([], lambda m: -m.tensor([True, False]), match="Negation")


# -- integer division by zero ----------------------------------------------------------------
@pytest.mark.parametrize("expr", [
    lambda m: m.tensor([7, -7]) // 0,
    lambda m: m.tensor([7, -7]) % 0,
    lambda m: m.fmod(m.tensor([7, -7]), 0),
    lambda m: m.remainder(m.tensor([7, -7]), m.tensor([1, 0])),
    lambda m: m.div(m.tensor([7, -7]), 0, rounding_mode="floor"),
    lambda m: m.div(m.tensor([7, -7]), 0, rounding_mode="trunc"),
])
def test_integer_division_by_zero_raises(expr):
    """PyTorch's CPU kernels raise (numpy would give 0); a float division by 0 does not."""
    compare_raises([], expr, match="ZeroDivisionError")


def test_float_division_by_zero_and_signed_zero_remainder():
    same(lambda m: m.floor_divide(m.tensor([1.0, -1.0, 0.0]), 0.0))
    # the zero of a remainder keeps the dividend's sign, as C's fmod
    e, t = same(lambda m: m.remainder(m.tensor([-0.0, -3.0, 3.0, -1.0]), 3.0))
    assert e.signbit().tolist() == t.signbit().tolist()
    e, t = same(lambda m: m.remainder(m.tensor([-3.0, 3.0]), -3.0))
    assert e.signbit().tolist() == t.signbit().tolist()


# -- out= ------------------------------------------------------------------------------------
@pytest.mark.parametrize("expr", [
    lambda m: m.add(m.ones(3), m.ones(3), out=m.empty(3, dtype=m.int64)),
    lambda m: m.add(m.ones(3, dtype=m.complex64), 1, out=m.empty(3)),
    lambda m: m.div(m.tensor([3, 4]), 2, out=m.empty(2, dtype=m.int64)),
    lambda m: m.exp(m.ones(2), out=m.empty(2, dtype=m.bool)),
])
def test_out_refuses_a_category_downcast(expr):
    compare_raises([], expr, match="can't be cast to the desired output type")


def test_out_accepts_an_upcast():
    same(lambda m: m.add(m.tensor([1, 2]), m.tensor([3, 4]), out=m.empty(2)))
    same(lambda m: m.mul(m.ones(2), 3, out=m.empty(2, dtype=m.float64)))


# -- sign, clamp, nan_to_num, isclose --------------------------------------------------------
def test_sign_of_bool_nan_and_zero():
    same(lambda m: m.sign(m.tensor([True, False])))
    e, t = same(lambda m: m.sign(m.tensor([-0.0, 0.0, m.nan, -2.0, m.inf])))
    assert not e.isnan().any()


@pytest.mark.parametrize("expr", [
    lambda m: m.clamp(m.tensor([True, False]), min=0),                 # -> int64
    lambda m: m.clamp(m.tensor([1, 2, 250], dtype=m.uint8), max=-1),   # -1 is 255
    lambda m: m.clamp(m.tensor([1, 5, 9]), min=2.5),                   # -> float32
    lambda m: m.clamp(m.tensor([1, 5, 9], dtype=m.int8), min=2, max=6),
])
def test_clamp_scalar_bounds_promote_and_convert(expr):
    same(expr)


def test_clamp_bound_overflow_raises():
    compare_raises([], lambda m: m.clamp(m.tensor([1, 2], dtype=m.uint8), max=300),
                   match="without overflow")


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
def test_nan_to_num_defaults_per_dtype(dtype):
    same(lambda m: m.nan_to_num(m.tensor([m.nan, m.inf, -m.inf, 1.5],
                                         dtype=getattr(m, dtype))))


def test_isclose_checks_dtypes_and_tolerances():
    compare_raises([], lambda m: m.isclose(m.tensor([1, 2]), m.tensor([1.0, 2.0])),
                   match="did not match")
    compare_raises([], lambda m: m.allclose(m.ones(2), m.ones(2, dtype=m.float64)),
                   match="did not match")
    compare_raises([], lambda m: m.isclose(m.ones(2), m.ones(2), rtol=-1),
                   match="rtol must be greater than or equal to zero")
    same(lambda m: m.isclose(m.tensor([m.nan, 1.0]), m.tensor([m.nan, 1.0]), equal_nan=True))


# -- reductions ------------------------------------------------------------------------------
@pytest.mark.parametrize("expr", [
    lambda m: m.tensor([[100, 100], [27, 1]]).sum(0, dtype=m.int8),   # wraps in int8
    lambda m: m.tensor([[3, 1, 2], [2, 2, 0]]).sum(dtype=m.bool),
    lambda m: m.tensor([[3, 1], [0, 2]]).prod(1, dtype=m.bool),
    lambda m: m.tensor([100, 3], dtype=m.int64).prod(dtype=m.int8),
    lambda m: m.tensor([1, 2], dtype=m.int8).sum(dtype=m.int64),
])
def test_sum_prod_dtype_argument_is_the_result_dtype(expr):
    same(expr)


@pytest.mark.parametrize("expr", [
    lambda m: m.tensor([[3, 100, 2], [2, 2, 0]]).cumsum(1, dtype=m.int8),
    lambda m: m.tensor([[3, 100, 2], [2, 2, 0]]).cumprod(1, dtype=m.int8),
    lambda m: m.tensor([[True, False], [True, True]]).cumsum(0, dtype=m.int32),
])
def test_cumulative_dtype_argument_is_the_result_dtype(expr):
    same(expr)


@pytest.mark.parametrize("expr", [
    lambda m: m.tensor(5.0).std(),
    lambda m: m.tensor(5.0).var(correction=0),
    lambda m: m.tensor(5.0, dtype=m.float64).std(0),
    lambda m: m.var_mean(m.tensor(2.5)),
])
def test_std_var_of_a_zero_dim_tensor(expr):
    same(expr)


def test_empty_arg_reductions():
    compare_raises([], lambda m: m.empty(0, 3).argmax(), match="numel() == 0")
    compare_raises([], lambda m: m.empty(0).argmin(), match="numel() == 0")
    same(lambda m: m.aminmax(m.empty(0, 3), dim=1))
    compare_raises([], lambda m: m.aminmax(m.empty(0, 3)))


def test_unique_keeps_each_nan():
    same(lambda m: m.unique(m.tensor([m.nan, 1.0, m.nan, 0.0, 1.0]), return_inverse=True,
                            return_counts=True))
    same(lambda m: m.tensor([[3.0, m.nan], [m.nan, 3.0]]).unique())


# -- indexing --------------------------------------------------------------------------------
@pytest.mark.parametrize("expr", [
    lambda m, x, i: x[:, i, i],
    lambda m, x, i: x[1, :, i],
    lambda m, x, i: x[:, m.tensor([True, False, True])],
    lambda m, x, i: x[:, m.tensor([[0], [2]]), i],
    lambda m, x, i: x[i][:, i],
])
def test_advanced_index_result_is_contiguous(expr):
    """numpy may lay these results out transposed; PyTorch's are contiguous (so ``view``
    works on them)."""
    e = expr(ember, ember.arange(24).reshape(2, 3, 4), ember.tensor([0, 1]))
    t = expr(torch, torch.arange(24).reshape(2, 3, 4), torch.tensor([0, 1]))
    assert e.tolist() == t.tolist()
    assert e.stride() == t.stride() and e.is_contiguous() == t.is_contiguous()
    assert e.view(-1).tolist() == t.view(-1).tolist()


@pytest.mark.parametrize("expr", [
    lambda m, f: m.gather(f, 1, m.tensor([[0], [1], [2], [0]])),   # index taller than self
    lambda m, f: m.gather(f, 0, m.tensor([[0, 1, 2, 0, 1]])),      # index wider than self
    lambda m, f: m.gather(f, 1, m.tensor([[-1]])),                 # negative index
    lambda m, f: m.gather(f, 1, m.tensor([[4]])),
    lambda m, f: m.zeros(3, 4).scatter(1, m.tensor([[0, 1]]), m.ones(1, 1)),  # src too small
    lambda m, f: m.zeros(3, 4).scatter(1, m.tensor([[0]] * 4), 1.0),
    lambda m, f: m.zeros(3, 4).scatter(1, m.tensor([[-1]]), 1.0),
    lambda m, f: m.zeros(3, 4).scatter_add(1, m.tensor([[0, 1]]), m.ones(1, 1)),
    lambda m, f: m.zeros(3, 4).scatter_add(1, m.tensor([[-1]]), m.ones(1, 1)),
    lambda m, f: m.zeros(3, 4).scatter_reduce(1, m.tensor([[0, 1]]), m.ones(1, 1), "sum"),
])
def test_gather_scatter_checks(expr):
    compare_raises([(3, 4)], expr)


def test_gather_scatter_valid_shapes_still_work():
    compare([(3, 4)], lambda m, f: m.gather(f, 1, m.tensor([[0, 0, 3, 3, 1], [1, 0, 2, 2, 1]])))
    compare([(3, 4), (2, 5)], lambda m, f, s: f.scatter(1, m.tensor([[0, 1], [3, 2]]), s),
            grad=False)  # (torch's own backward fails for a src larger than the index)
    # take_along_dim with a dim counts negative indices from the end, as PyTorch
    compare([(3, 4)], lambda m, f: m.take_along_dim(f, m.tensor([[-1], [0], [-4]]), 1))


# -- integer scalar conversion ---------------------------------------------------------------
def _setitem(m, value):
    y = m.zeros(3, dtype=m.uint8)
    y[0] = value
    return y


def _fill(m, dtype, value):
    return m.zeros(2, dtype=getattr(m, dtype)).fill_(value)


@pytest.mark.parametrize("expr", [
    lambda m: m.full((2,), -1, dtype=m.uint8),       # wraps to 255
    lambda m: m.full((2,), -255, dtype=m.uint8),
    lambda m: m.full((2,), 2.5, dtype=m.uint8),
    lambda m: _setitem(m, -1),
    lambda m: _fill(m, "uint8", -1),
])
def test_negative_int_into_unsigned_wraps(expr):
    same(expr)


@pytest.mark.parametrize("expr", [
    lambda m: m.full((2,), 300, dtype=m.uint8),
    lambda m: m.full((2,), -300, dtype=m.uint8),
    lambda m: m.full((2,), 128, dtype=m.int8),
    lambda m: m.full((2,), 2 ** 31, dtype=m.int32),
    lambda m: m.full((2,), m.inf, dtype=m.int64),
    lambda m: m.full((2,), -2.5, dtype=m.uint8),
    lambda m: _setitem(m, 300),
    lambda m: _fill(m, "int16", 40000),
])
def test_out_of_range_int_scalar_raises(expr):
    compare_raises([], expr, match="without overflow")


# -- tensor() inference ----------------------------------------------------------------------
@pytest.mark.parametrize("expr", [
    lambda m: m.tensor(range(3)),
    lambda m: m.tensor([m.tensor(1.5), 2]),                       # float32, not float64
    lambda m: m.tensor([m.tensor(1, dtype=m.int32), 2]),          # int64
    lambda m: m.tensor([[m.tensor(1.5, dtype=m.float16)], [2.0]]),
    lambda m: m.tensor([m.tensor(1.1, dtype=m.float64), 2.2]),
    lambda m: m.tensor([m.tensor(1.5, dtype=m.bfloat16), 2]),
    lambda m: m.tensor([m.tensor(True), True]),
])
def test_tensor_infers_dtype_by_promotion(expr):
    same(expr)


# -- printing --------------------------------------------------------------------------------
@pytest.mark.parametrize("opts", [{"sci_mode": False}, {"sci_mode": True},
                                  {"sci_mode": False, "precision": 2}])
@pytest.mark.parametrize("vals", [[1e-8, 2.5], [0.0, float("nan")], [1e9, 2.0],
                                  [1.0, 2.0], [[1e-8, 1.0], [3.0, 4e5]]])
def test_repr_with_forced_sci_mode(opts, vals):
    """A forced sci_mode decides the widths too (no padding for the unused format)."""
    try:
        for m in (ember, torch):
            m.set_printoptions(**opts)
        e, t = repr(ember.tensor(vals)), repr(torch.tensor(vals))
    finally:
        for m in (ember, torch):
            m.set_printoptions(profile="default")
            m.set_printoptions(sci_mode=None)
    assert e.replace("ember", "torch") == t
