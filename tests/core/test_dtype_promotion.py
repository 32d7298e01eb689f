"""Type promotion against PyTorch: tensor pairs, 0-dim tensors, Python scalars, and the
dtype of op results (never numpy's value-based or float64-happy rules)."""

import itertools

import ember
import numpy as np
import pytest
import torch
from torch_compare import compare, compare_raises

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16",
          "float32", "float64", "complex64", "complex128"]


def _pair(name, device, shape=(2,)):
    e = ember.zeros(shape, dtype=getattr(ember, name), device=device)
    t = torch.zeros(shape, dtype=getattr(torch, name))
    return e, t


@pytest.mark.parametrize("a,b", list(itertools.combinations_with_replacement(DTYPES, 2)))
def test_promote_types_all_pairs(a, b):
    """promote_types agrees with torch for every pair of dtypes."""
    want = torch.promote_types(getattr(torch, a), getattr(torch, b))
    assert ember.promote_types(getattr(ember, a), getattr(ember, b)).name == \
        str(want).split(".")[-1]


def _expected(want) -> str:
    """torch's result dtype name, with ember's documented departure: no complex32 (numpy
    lacks it), so where torch gives complex32 ember gives complex64
    (docs/compatibility.md)."""
    name = str(want).split(".")[-1]
    return "complex64" if name in ("complex32", "chalf") else name


@pytest.mark.parametrize("a,b", list(itertools.product(DTYPES, DTYPES)))
def test_result_type_dim_vs_zero_dim(a, b, device):
    """result_type of a dimensioned tensor and a 0-dim tensor, for every dtype pair."""
    ea, ta = _pair(a, device)
    eb, tb = _pair(b, device, ())
    want = torch.result_type(ta, tb)
    assert ember.result_type(ea, eb).name == _expected(want)


@pytest.mark.parametrize("a", DTYPES)
@pytest.mark.parametrize("scalar", [True, 2, 2.5, 1 + 1j])
def test_result_type_with_python_scalar(a, scalar, device):
    """A Python scalar only changes the result when it brings a higher category."""
    ea, ta = _pair(a, device)
    want = torch.result_type(ta, scalar)
    assert ember.result_type(ea, scalar).name == _expected(want)


@pytest.mark.parametrize("a,b", [("float32", "float64"), ("int32", "float16"),
                                 ("uint8", "int8"), ("bool", "int32"), ("float16", "int64"),
                                 ("int64", "float32"), ("bool", "float16"),
                                 ("uint8", "bool"), ("bfloat16", "float16"),
                                 ("int8", "int16"), ("float32", "complex64"),
                                 ("float64", "complex64")])
@pytest.mark.parametrize("op", ["+", "*", "-", "/", "=="])
def test_binary_op_result_dtype(a, b, op, device):
    """The result dtype of binary operators on mixed-dtype tensors follows torch."""
    f = eval(f"lambda m, x, y: x {op} y")
    if op == "-" and "bool" in (a, b):
        compare_raises([(3,), (3,)], f, dtype=[a, b], device=device)
        return
    compare([(3,), (3,)], f, dtype=[a, b], device=device, grad=False, low=1, high=3,
            rtol=1e-2, atol=1e-2)


@pytest.mark.parametrize("dt", DTYPES[:-2])
@pytest.mark.parametrize("scalar", [2, 2.5, True])
def test_tensor_op_python_scalar_dtype(dt, scalar, device):
    """tensor * scalar and scalar + tensor keep or promote the dtype as torch does."""
    compare([(3,)], lambda m, x: (x * scalar, scalar + x), dtype=dt, device=device,
            grad=False, low=0, high=3, rtol=1e-2, atol=1e-2)


def test_float32_times_python_float_stays_float32(device):
    """float32 * 2.5 stays float32 (a Python float never upcasts)."""
    x = ember.ones(3, device=device)
    assert (x * 2.5).dtype is ember.float32 and (2.5 * x).dtype is ember.float32
    assert (x * np.float64(2.5)).dtype is ember.float32


def test_int_div_int_is_float(device):
    """int / int is the default float dtype."""
    x = ember.tensor([3, 4], device=device)
    assert (x / x).dtype is ember.float32 and (x / 2).dtype is ember.float32


def test_int_tensor_plus_float_scalar_is_default_float(device):
    """int tensor + float scalar gives the default float dtype (float64 when set)."""
    x = ember.tensor([1, 2], device=device)
    assert (x + 1.5).dtype is ember.float32
    ember.set_default_dtype(ember.float64)
    try:
        assert (x + 1.5).dtype is ember.float64
        assert ember.tensor([1.0]).dtype is ember.float64
    finally:
        ember.set_default_dtype(ember.float32)


def test_zero_dim_does_not_upcast_dimensioned(device):
    """A float64 0-dim tensor doesn't upcast a float32 vector; an int vector is promoted
    to float64's category only by dtype class."""
    compare([(3,), ()], lambda m, x, y: x + y, dtype=["float32", "float64"], device=device)
    compare([(3,), ()], lambda m, x, y: x + y, dtype=["int32", "float64"], device=device,
            grad=False)
    compare([(3,), ()], lambda m, x, y: x * y, dtype=["int8", "int64"], device=device,
            grad=False)


def test_zero_dim_pair_promotes(device):
    """Two 0-dim tensors promote normally."""
    compare([(), ()], lambda m, x, y: x + y, dtype=["float32", "float64"], device=device)


def test_uint8_plus_int8(device):
    """uint8 + int8 is int16."""
    compare([(3,), (3,)], lambda m, x, y: x + y, dtype=["uint8", "int8"], device=device)


def test_bool_plus_int_and_bool_plus_bool(device):
    """bool + int gives int64; bool + bool stays bool (logical or)."""
    compare([(3,), (3,)], lambda m, x, y: (x + y.long(), x + y, x * y, x + 1, x + 1.5),
            dtype="bool", device=device)


def test_float16_plus_int64(device):
    """float16 + int64 stays float16."""
    compare([(3,), (3,)], lambda m, x, y: x + y, dtype=["float16", "int64"], device=device,
            grad=False, low=0, high=3)


def test_int_overflowing_scalar(device):
    """uint8 tensor + 300 wraps like torch (scalar cast to the tensor's dtype)."""
    compare([(3,)], lambda m, x: (x + 300, x * 2), dtype="uint8", device=device, low=0,
            high=200)


def test_reduction_dtypes(device):
    """sum of int32/bool gives int64; mean of float16 stays float16."""
    compare([(4,)], lambda m, x: (x.sum(), x.prod(), x.cumsum(0)), dtype="int32",
            device=device)
    compare([(4,)], lambda m, x: x.sum(), dtype="bool", device=device)
    compare([(4,)], lambda m, x: (x.mean(), x.sum()), dtype="float16", device=device,
            grad=False)


def test_unary_float_ops_on_ints(device):
    """exp/sqrt/sigmoid of ints give float32; abs/neg keep int."""
    compare([(4,)], lambda m, x: (x.exp(), x.sqrt(), x.sigmoid(), x.abs(), -x, x.sign()),
            dtype="int64", low=1, high=5, device=device)


def test_where_promotion(device):
    """where(cond, int tensor, float scalar) and where(cond, float16, float32)."""
    compare([(3,), (3,)], lambda m, x, y: (m.where(x > 0, x.long(), 2.5),
                                           m.where(x > 0, x.half(), y)), device=device,
            grad=False)


def test_default_dtype_set_and_errors():
    """set_default_dtype accepts floating types only."""
    compare_raises([], lambda m: m.set_default_dtype(m.int64))
    assert ember.get_default_dtype() is ember.float32


def test_dtype_objects():
    """dtype attributes: is_floating_point, is_complex, is_signed, itemsize, aliases."""
    for name in DTYPES:
        e, t = getattr(ember, name), getattr(torch, name)
        assert e.is_floating_point == t.is_floating_point and e.is_complex == t.is_complex
        assert e.is_signed == t.is_signed and e.itemsize == t.itemsize
    assert ember.float is ember.float32 and ember.long is ember.int64
    assert ember.double is ember.float64 and ember.half is ember.float16
    assert ember.int is ember.int32 and ember.short is ember.int16


def test_finfo_iinfo():
    """finfo and iinfo match torch."""
    for d in ("float16", "float32", "float64", "bfloat16"):
        e, t = ember.finfo(getattr(ember, d)), torch.finfo(getattr(torch, d))
        assert (e.eps, e.max, e.min, e.tiny, e.bits) == (t.eps, t.max, t.min, t.tiny, t.bits)
    for d in ("uint8", "int8", "int32", "int64"):
        e, t = ember.iinfo(getattr(ember, d)), torch.iinfo(getattr(torch, d))
        assert (e.max, e.min, e.bits) == (t.max, t.min, t.bits)


def test_can_cast():
    """can_cast follows torch."""
    for a, b in itertools.product(DTYPES, DTYPES):
        assert ember.can_cast(getattr(ember, a), getattr(ember, b)) == \
            torch.can_cast(getattr(torch, a), getattr(torch, b)), (a, b)
