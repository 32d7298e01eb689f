"""Math names that filled gaps in the torch API, against PyTorch: comparison aliases,
gcd/lcm/ldexp/frexp/nextafter, igamma/igammac, isin, unravel_index, vander, gradient,
diagflat, dist, the predicates and conjugate-bit API, range, typename, window functions and
the in-place ``torch.op_`` functions."""

import warnings

import ember
import numpy as np
import pytest
import torch
from torch_compare import assert_close, compare, compare_raises, gradcheck, gradgradcheck

INT_PAIRS = [np.array([12, 18, -7, 0, 0, 35, -48]), np.array([8, -12, 3, 0, 5, 14, -18])]


# -- comparison aliases --------------------------------------------------------------------
@pytest.mark.parametrize("name", ["greater", "greater_equal", "less", "less_equal",
                                  "not_equal"])
def test_comparison_aliases(name, device):
    """torch.greater & co. and their Tensor in-place forms match torch."""
    compare([(3, 4), (4,)], lambda m, a, b: getattr(m, name)(a, b.round()), device=device,
            grad=False)
    compare([(3, 4), (4,)], lambda m, a, b: getattr(a.clone(), name + "_")(b), device=device,
            grad=False)
    compare([(5,)], lambda m, a: getattr(m, name)(a, 0.5), device=device, grad=False)


# -- gcd / lcm -----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["gcd", "lcm"])
def test_gcd_lcm(name, device):
    """Values (signs, zeros), integer promotion, Tensor methods and in-place forms."""
    compare([], lambda m, a, b: (getattr(m, name)(a, b), getattr(a, name)(b),
                                 getattr(m, name)(a.int(), b), getattr(m, name)(
                                     a.to(m.int16), b.to(m.int16)),
                                 getattr(m, name)(a.reshape(7, 1), b)),
            vals=INT_PAIRS, device=device)
    compare([], lambda m, a, b: (getattr(a.clone(), name + "_")(b),
                                 getattr(m, name + "_")(a.clone(), b)),
            vals=INT_PAIRS, device=device)


@pytest.mark.parametrize("name", ["gcd", "lcm"])
def test_gcd_lcm_errors(name, device):
    """Floating or bool dtypes and non-tensor operands are rejected, as in torch."""
    compare_raises([(3,), (3,)], lambda m, a, b: getattr(m, name)(a, b), device=device,
                   match=name)
    compare_raises([(3,), (3,)], lambda m, a, b: getattr(m, name)(a, b), dtype="bool",
                   device=device)
    compare_raises([], lambda m, a, b: getattr(m, name)(a, 3), vals=INT_PAIRS, device=device)


def test_gcd_out(device):
    """gcd writes into ``out=``."""
    e, t = ember.zeros(7, dtype=ember.int64, device=device), torch.zeros(7, dtype=torch.int64)
    ea, eb = (ember.tensor(v, device=device) for v in INT_PAIRS)
    ember.gcd(ea, eb, out=e)
    torch.gcd(*(torch.tensor(v) for v in INT_PAIRS), out=t)
    assert_close(e, t)


# -- ldexp ---------------------------------------------------------------------------------
LDEXP_DTYPES = ["int32", "int64", "uint8", "float16", "bfloat16", "float32", "float64"]


@pytest.mark.parametrize("da", LDEXP_DTYPES)
@pytest.mark.parametrize("db", ["int64", "int8", "float16", "float32", "float64"])
def test_ldexp_dtypes(da, db, device):
    """The result dtype is the promoted one, or the default float dtype for two integers."""
    compare([], lambda m, a, b: m.ldexp(a, b),
            vals=[np.array([1, 3, 5, 2]), np.array([2, 0, 3, 1])], dtype=[da, db],
            device=device, grad=False)


def test_ldexp_values_and_grad(device):
    """Float exponents, broadcasting, 0-dim operands, gradients to both operands."""
    compare([(3, 1), (4,)], lambda m, a, b: m.ldexp(a, b), device=device)
    compare([(3,), ()], lambda m, a, b: a.ldexp(b), device=device, dtype="float64")
    compare([(5,)], lambda m, a: m.ldexp(a, m.tensor([1, 2, 3, 0, 10])), device=device)
    compare([(5,)], lambda m, a: (a * 1).ldexp_(m.tensor([1, 2, 3, 0, 10])), device=device)
    compare([(5,)], lambda m, a: m.ldexp(a, m.tensor([1, -2, 3, 0, -10])), device=device,
            grad=False)
    x = ember.tensor([0.3, -1.2, 2.0], dtype=ember.float64, device=device, requires_grad=True)
    y = ember.tensor([1.5, -0.5, 2.0], dtype=ember.float64, device=device, requires_grad=True)
    gradcheck(ember.ldexp, [x, y])
    gradgradcheck(ember.ldexp, [x, y])


def test_ldexp_negative_int_exponent_grad(device):
    """The gradient is ``2 ** other`` also for negative integer exponents (torch 2.13 gives
    0 there, an integer-power bug; ember departs from it)."""
    x = ember.ones(3, device=device, requires_grad=True)
    ember.ldexp(x, ember.tensor([-1, -2, 3], device=device)).sum().backward()
    assert x.grad.tolist() == [0.5, 0.25, 8.0]


def test_ldexp_errors(device):
    """A Python number exponent and an in-place integer result raise, as in torch."""
    compare_raises([(3,)], lambda m, a: m.ldexp(a, 2), device=device)
    compare_raises([], lambda m, a, b: a.ldexp_(b), vals=INT_PAIRS, device=device)
    compare_raises([], lambda m, a, b: m.ldexp_(a, b), vals=INT_PAIRS, device=device)


# -- frexp ---------------------------------------------------------------------------------
FREXP_VALS = np.array([8.0, 0.0, -3.5, 1e-3, np.inf, -np.inf, np.nan, 1e-40, 0.75, -1.0])


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
def test_frexp_values(dtype, device):
    """Mantissa in the input dtype, int32 exponents, 0/inf/NaN with exponent 0."""
    vals = FREXP_VALS if dtype in ("float32", "float64") else FREXP_VALS[:-3]
    e, t = compare([], lambda m, x: tuple(m.frexp(x)), vals=[vals], dtype=[dtype],
                   device=device, grad=False)
    assert e[1].dtype is ember.int32


def test_frexp_return_type_method_and_grad(device):
    """A ``return_types.frexp`` named tuple; only the mantissa is differentiable."""
    x = ember.tensor([8.0, 3.0], device=device)
    r = x.frexp()
    assert isinstance(r, ember.return_types.frexp)
    assert r.mantissa is r[0] and r.exponent is r[1]
    assert type(r).__name__ == "frexp" and r._fields == ("mantissa", "exponent")
    compare([(3, 4)], lambda m, x: m.frexp(x * 7).mantissa, device=device)
    compare([(3, 4)], lambda m, x: m.frexp(x).exponent, device=device)
    x = ember.tensor([0.3, -1.2, 5.0], dtype=ember.float64, device=device, requires_grad=True)
    gradcheck(lambda t: ember.frexp(t).mantissa, [x])


def test_frexp_errors_and_out(device):
    """Integer input raises; ``out=`` takes a (mantissa, exponent) pair."""
    compare_raises([(3,)], lambda m, x: m.frexp(x), dtype="int64", device=device,
                   match="floating-point")
    em, ee = ember.empty(3, device=device), ember.empty(3, dtype=ember.int32, device=device)
    r = ember.frexp(ember.tensor([8.0, 0.5, 3.0], device=device), out=(em, ee))
    assert r.mantissa is em and r.exponent is ee
    assert ee.tolist() == [4, 0, 2] and em.tolist() == [0.5, 0.5, 0.75]


# -- nextafter -----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
def test_nextafter_values(dtype, device):
    """Bit-exact next values, towards both directions, from and to zero, NaN, equal."""
    a = np.array([1.0, 1.0, 0.0, 0.0, -2.0, 3.0, np.nan, 1.0, np.inf, -1.0])
    b = np.array([2.0, 0.0, 1.0, -1.0, -3.0, 3.0, 1.0, np.nan, 0.0, 0.0])
    e, t = compare([], lambda m, x, y: m.nextafter(x, y), vals=[a, b], dtype=[dtype, dtype],
                   device=device, grad=False)
    np.testing.assert_array_equal(np.asarray(e.cpu().double()), t.double().numpy())


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_nextafter_bit_stepping(dtype):
    """The bit-stepping kernel (used for bfloat16 and on CUDA) is bit-exact with numpy's
    nextafter, NaN, infinities, signed zeros and subnormals included."""
    from ember.ops.number import _nextafter_bits

    a = np.array([1.0, 1.0, 0.0, 0.0, -2.0, 3.0, np.nan, 1.0, np.inf, -1.0, -0.0, -np.inf,
                  5e-324, 1e300], dtype=dtype)
    b = np.array([2.0, 0.0, 1.0, -1.0, -3.0, 3.0, 1.0, np.nan, 0.0, 0.0, 1.0, 0.0, 0.0,
                  np.inf], dtype=dtype)
    with np.errstate(invalid="ignore"):
        r = _nextafter_bits(np, a, b)
    u = f"u{a.itemsize}"
    np.testing.assert_array_equal(r.view(u), np.nextafter(a, b).view(u))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_nextafter_bit_stepping_all_pairs(dtype):
    """Every pair of zeros, subnormals, normals, extremes, infinities and NaN: the integer-only
    kernel agrees with numpy's nextafter bit for bit."""
    from ember.ops.number import _nextafter_bits

    v = np.array([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 1e-45, -1e-45, 1e-40, 3e38,
                  -3e38, 1.17549435e-38, 2.0], dtype=dtype)
    a, b = np.meshgrid(v, v)
    with np.errstate(invalid="ignore"):
        r, t = _nextafter_bits(np, a, b), np.nextafter(a, b)
    u = f"u{a.itemsize}"
    nan = np.isnan(t)
    np.testing.assert_array_equal(r.view(u)[~nan], t.view(u)[~nan])
    assert np.isnan(r[nan]).all()


def test_widen_exactly_keeps_float32_subnormals():
    """frexp's CUDA path reads float32 through its bits: subnormals keep their value."""
    from ember.ops.number import widen_exactly

    v = np.array([0.0, -0.0, 1e-45, -1e-45, 1e-40, -3e-39, 1.17549435e-38, 1.5, -np.inf,
                  np.nan], dtype=np.float32)
    np.testing.assert_array_equal(widen_exactly(np, v), v.astype(np.float64))
    assert np.signbit(widen_exactly(np, v))[1]


def test_nextafter_promotion_grad_and_inplace(device):
    """Promotion, broadcasting; torch's gradient (``g`` to input where input != other);
    the in-place form."""
    compare([(3, 1), (4,)], lambda m, a, b: m.nextafter(a, b), device=device)
    compare([], lambda m, a, b: m.nextafter(a, b),
            vals=[np.array([1.0, 2.0, 3.0, -1.0]), np.array([1.5, 2.0, 1.0, -1.0])],
            device=device)
    compare([(4,), (4,)], lambda m, a, b: m.nextafter(a, b), dtype=["float32", "float64"],
            device=device)
    compare([(4,), (4,)], lambda m, a, b: (a * 1).nextafter_(b), device=device)
    compare_raises([], lambda m, a, b: m.nextafter(a, b), vals=INT_PAIRS, device=device,
                   match="nextafter")


# -- igamma / igammac ----------------------------------------------------------------------
@pytest.mark.parametrize("name", ["igamma", "igammac"])
def test_igamma(name, device):
    """Values, the gradient w.r.t. ``other``, the Tensor and in-place forms; no gradient
    w.r.t. ``input`` (torch has none either)."""
    a = ember.tensor([0.5, 1.0, 2.5, 4.0], dtype=ember.float64, device=device)
    compare([(4,), (4,)], lambda m, x, y: (getattr(m, name)(x, y), getattr(x, name)(y)),
            positive=True, device=device, grad=False)
    compare([(4,), (3, 4)], lambda m, x, y: getattr(m, name)(x.detach(), y), positive=True,
            device=device, dtype="float64")
    compare([(4,), (4,)], lambda m, x, y: getattr(x.clone(), name + "_")(y), positive=True,
            device=device, grad=False)
    x = ember.tensor([0.3, 1.2, 2.0, 5.0], dtype=ember.float64, device=device,
                     requires_grad=True)
    gradcheck(lambda t: getattr(ember, name)(a, t), [x])
    compare_raises([(4,), (4,)], lambda m, x, y: getattr(m, name)(x, y).sum().backward(),
                   grad=True, device=device)


# -- positive, isin, unravel_index ---------------------------------------------------------
def test_positive(device):
    """positive returns its input (also as a method); bool tensors raise."""
    x = ember.randn(3, device=device)
    assert ember.positive(x) is x and x.positive() is x
    compare_raises([(3,)], lambda m, x: m.positive(x), dtype="bool", device=device)
    compare_raises([(3,)], lambda m, x: x.positive(), dtype="bool", device=device)


def test_isin(device):
    """Membership with promotion, scalars on either side, invert, NaN, empty operands."""
    compare([], lambda m, a, b: (m.isin(a, b), m.isin(a, b, invert=True), m.isin(a, 2),
                                 m.isin(3, b), m.isin(a.float(), b.double()),
                                 m.isin(a.reshape(2, 2), b.reshape(2, 1)),
                                 m.isin(a, b, assume_unique=True)),
            vals=[np.array([1, 2, 3, 4]), np.array([2, 4])], device=device)
    compare([], lambda m, a, b: (m.isin(a, b), m.isin(a, 1.5), m.isin(a.nan_to_num().long(), 1.5),
                                 m.isin(a[:0], b), m.isin(a, b[:0])),
            vals=[np.array([1.5, np.nan, 2.0]), np.array([np.nan, 2.0])], device=device)
    compare([], lambda m, a, b: m.isin(a.to(m.uint8), b), vals=[np.array([1, 2]),
                                                                 np.array([-255, 2])],
            device=device)
    compare([(3,), (2,)], lambda m, a, b: m.isin(a, b).requires_grad, device=device)


def test_isin_errors(device):
    """bool and complex operands and lists raise."""
    compare_raises([(3,), (2,)], lambda m, a, b: m.isin(a, b), dtype="bool", device=device,
                   match="isin")
    compare_raises([(3,), (2,)], lambda m, a, b: m.isin(a, b), dtype="complex64",
                   device=device, match="isin")
    compare_raises([(3,)], lambda m, a: m.isin(a, [1.0]), device=device)


def test_unravel_index(device):
    """Coordinates of flat indices (any index shape, int32 or int64, out-of-range wraps
    as in torch); a bare int shape."""
    compare([], lambda m, i: (m.unravel_index(i, (2, 3)), m.unravel_index(i, (6,)),
                              m.unravel_index(i.int(), (3, 2)), m.unravel_index(i, 6),
                              m.unravel_index(i[0], (1, 2, 3)),
                              m.unravel_index(i.reshape(2, 2), (2, 3)),
                              m.unravel_index(i, m.Size([2, 1, 3]))),
            vals=[np.array([4, 1, 0, 5])], device=device)
    assert ember.unravel_index(ember.tensor([3]), ()) == ()
    compare([], lambda m, i: m.unravel_index(i, (2, 3)), vals=[np.array([6, -1, -7])],
            device=device)


def test_unravel_index_errors(device):
    """Float indices, negative or non-int shape entries raise."""
    compare_raises([(2,)], lambda m, i: m.unravel_index(i, (2, 3)), device=device,
                   match="integer")
    compare_raises([], lambda m, i: m.unravel_index(i, (2, -3)), vals=[np.array([1])],
                   device=device, match="negative")
    compare_raises([], lambda m, i: m.unravel_index(i, (2, 3.0)), vals=[np.array([1])],
                   device=device)
    compare_raises([], lambda m, i: m.unravel_index(i, (2, 0)), vals=[np.array([1])],
                   device=device)


# -- vander, diagflat ----------------------------------------------------------------------
def test_vander(device):
    """Columns as powers (decreasing or increasing), N, int/bool promotion, gradients."""
    compare([], lambda m, x: (m.vander(x), m.vander(x, N=2), m.vander(x, 4, True),
                              m.vander(x, N=0), m.vander(x, N=1), m.vander(x.to(m.int8)),
                              m.vander(x > 1), m.vander(x[:0])),
            vals=[np.array([1, 2, 3])], device=device)
    compare([(4,)], lambda m, x: (m.vander(x), m.vander(x, 5, increasing=True)),
            device=device, backward=False)  # torch 2.13's vander backward raises
    x = ember.tensor([0.3, -1.2, 2.0], dtype=ember.float64, device=device, requires_grad=True)
    gradcheck(lambda t: ember.vander(t, 4), [x])
    compare_raises([(2, 2)], lambda m, x: m.vander(x), device=device, match="one-dimensional")
    compare_raises([(3,)], lambda m, x: m.vander(x, N=-1), device=device, match="N must")


def test_diagflat(device):
    """The flattened input on a diagonal, offsets, 0-dim/empty inputs, gradients."""
    compare([(2, 2)], lambda m, x: (m.diagflat(x), m.diagflat(x, 1), x.diagflat(-2),
                                    m.diagflat(x[0, 0]), m.diagflat(x[:0])), device=device)
    compare([], lambda m, x: m.diagflat(x, offset=-1), vals=[np.array([1, 2, 3])],
            device=device)


# -- gradient ------------------------------------------------------------------------------
GRAD_T = np.array([[1.0, 2.0, 4.0, 8.0, 7.0], [10.0, 20.0, 40.0, 80.0, 3.0],
                   [2.0, -1.0, 0.5, 3.0, 9.0]])


@pytest.mark.parametrize("kw", [{}, {"spacing": 2.0}, {"spacing": 2}, {"spacing": [3.0, 2.0]},
                                {"dim": 1}, {"dim": -2}, {"dim": [1, 0]}, {"dim": (1,)},
                                {"spacing": [2.0], "dim": 1}, {"edge_order": 2},
                                {"spacing": 0.5, "dim": [0, 1], "edge_order": 2}])
def test_gradient_uniform(kw, device):
    """Scalar and per-dimension spacings, dims, both edge orders, gradients."""
    compare([], lambda m, x: m.gradient(x, **kw), vals=[GRAD_T], device=device)
    compare([], lambda m, x: m.gradient(x, **kw), vals=[GRAD_T.astype(np.int64)],
            device=device)


@pytest.mark.parametrize("edge_order", [1, 2])
def test_gradient_coordinates(edge_order, device):
    """Spacing as 1-D coordinate tensors (uneven samples), float and int coordinates."""
    compare([], lambda m, x, c0, c1: m.gradient(x, spacing=(c0, c1), edge_order=edge_order),
            vals=[GRAD_T, np.array([-1.0, 0.5, 2.0]), np.array([0.0, 1.0, 3.0, 3.5, 6.0])],
            device=device)
    compare([], lambda m, x, c: m.gradient(x, spacing=[c], dim=1, edge_order=edge_order),
            vals=[GRAD_T, np.array([0, 2, 3, 7, 8])], device=device)
    x = ember.tensor(GRAD_T[0], dtype=ember.float64, device=device, requires_grad=True)
    c = ember.tensor([0.0, 0.5, 2.0, 2.5, 4.0], dtype=ember.float64, device=device)
    gradcheck(lambda t: ember.gradient(t, spacing=(c,), edge_order=edge_order)[0], [x])


def test_gradient_small_and_complex(device):
    """Size-2 dims with edge_order 1, 0-dim input (no dims), a complex spacing."""
    compare([(2, 2)], lambda m, x: m.gradient(x), device=device)
    assert ember.gradient(ember.tensor(1.0, device=device)) == ()
    compare([(4,)], lambda m, x: m.gradient(x, spacing=1 + 1j), device=device, grad=False)


@pytest.mark.parametrize("kw", [{"edge_order": 3}, {"dim": 0, "edge_order": 3},
                                {"spacing": [1.0, 2.0, 3.0]}, {"spacing": [1.0, 2.0], "dim": 0},
                                {"dim": 2}, {"spacing": [1.0]}])
def test_gradient_errors(kw, device):
    """Bad edge orders, spacing lengths and dims raise, as in torch."""
    compare_raises([(2, 4)], lambda m, x: m.gradient(x, **kw), device=device)


def test_gradient_errors_more(device):
    """uint8 input, too-short dims, 2-D coordinates, mixed spacing, bool input."""
    compare_raises([(2, 4)], lambda m, x: m.gradient(x.to(m.uint8)), device=device,
                   match="uint8")
    compare_raises([(2, 4)], lambda m, x: m.gradient(x, dim=0, edge_order=2), device=device,
                   match="edge_order+1")
    compare_raises([(2, 4), (1, 2)], lambda m, x, c: m.gradient(x, spacing=[c], dim=0),
                   device=device, match="one dimension")
    compare_raises([(2, 4), (2,)], lambda m, x, c: m.gradient(x, spacing=[c, 2.0]),
                   device=device)
    compare_raises([(3,)], lambda m, x: m.gradient(x), dtype="bool", device=device)


# -- dist ----------------------------------------------------------------------------------
@pytest.mark.parametrize("p", [2, 1, 0, 3.0, -1, float("inf"), -float("inf")])
def test_dist(p, device):
    """The p-norm of the broadcast difference, with gradients."""
    compare([(3, 4), (4,)], lambda m, a, b: (m.dist(a, b, p), a.dist(b, p=p)), device=device,
            backward=p != 0)  # torch 2.13's backward of dist(p=0) raises


def test_dist_dtypes_and_errors(device):
    """Promotion, a tensor p, a zero distance's zero gradient; ints and bad shapes raise."""
    compare([(3,), (3,)], lambda m, a, b: m.dist(a, b), dtype=["float32", "float64"],
            device=device)
    compare([(3,), (3,)], lambda m, a, b: m.dist(a, b, m.tensor(3.0)), device=device)
    compare([(3,)], lambda m, a: m.dist(a, a.detach()), device=device)
    x = ember.tensor([0.3, -1.2, 2.0], dtype=ember.float64, device=device, requires_grad=True)
    y = ember.tensor([1.3, 0.2, 1.0], dtype=ember.float64, device=device, requires_grad=True)
    gradcheck(lambda a, b: ember.dist(a, b, 3), [x, y])
    compare_raises([(3,), (3,)], lambda m, a, b: m.dist(a, b), dtype="int64", device=device)
    compare_raises([(2, 3), (2,)], lambda m, a, b: m.dist(a, b), device=device)


# -- predicates, conjugate bits, typename --------------------------------------------------
@pytest.mark.parametrize("dtype", ["uint8", "bool", "int8", "int64", "float16", "bfloat16",
                                   "float32", "complex64"])
def test_is_signed(dtype, device):
    """is_signed as a function and a method."""
    compare([(2,)], lambda m, x: (m.is_signed(x), x.is_signed()), dtype=dtype, device=device,
            grad=False)


def test_predicates(device):
    """is_same_size, is_nonzero, is_conj/is_neg and resolve_conj/neg on real tensors."""
    compare([(2, 3), (3,)], lambda m, a, b: (m.is_same_size(a, b), a.is_same_size(a * 2),
                                             m.is_conj(a), a.is_neg(), m.is_neg(a)),
            device=device, grad=False)
    compare([(1, 1)], lambda m, a: (a.is_nonzero(), (a * 0).is_nonzero()), device=device)
    compare_raises([(2,)], lambda m, a: a.is_nonzero(), device=device, match="more than one")
    compare_raises([(0,)], lambda m, a: a.is_nonzero(), device=device, match="no values")
    compare_raises([(2,)], lambda m, a: m.is_same_size(a, [2]), device=device)
    x = ember.randn(3, device=device)
    assert ember.resolve_conj(x) is x and x.resolve_neg() is x and ember.resolve_neg(x) is x


def test_conj_physical(device):
    """The materialized conjugate (complex), the input itself (real); the in-place form;
    gradients. ember has no lazy conjugate bit, so ``is_conj`` stays False."""
    x = ember.randn(3, device=device)
    assert ember.conj_physical(x) is x and x.conj_physical() is x and x.conj_physical_() is x
    compare([(3,)], lambda m, z: (m.conj_physical(z), z.conj_physical(),
                                  m.resolve_conj(z.conj()), (z * 1).conj_physical_()),
            dtype="complex64", device=device, backward=False)
    compare([(3,)], lambda m, z: (m.conj_physical(z * 2) * 3).real, dtype="complex128",
            device=device)
    z = ember.tensor([1 + 2j, -1j], device=device)
    assert z.conj_physical_() is z and z.tolist() == [1 - 2j, 1j]
    assert not ember.is_conj(z.conj())


def test_typename():
    """Tensors give their type() string, other objects their qualified class name."""
    for e, t in [(ember.ones(2), torch.ones(2)),
                 (ember.ones(2, dtype=ember.int64), torch.ones(2, dtype=torch.int64)),
                 (ember.ones(2, dtype=ember.bfloat16), torch.ones(2, dtype=torch.bfloat16))]:
        assert ember.typename(e) == torch.typename(t)
    assert ember.typename(3) == "int" and ember.typename("x") == "str"
    lin = ember.nn.Linear(1, 1)
    assert ember.typename(lin) == ember.typename(ember.nn.Linear) == \
        f"{type(lin).__module__}.Linear"


def test_hardshrink_method(device):
    """Tensor.hardshrink is nn.functional.hardshrink."""
    compare([(3, 4)], lambda m, x: (x.hardshrink(), x.hardshrink(0.8)), device=device)


# -- range ---------------------------------------------------------------------------------
@pytest.mark.parametrize("args,kw", [((0, 4), {}), ((0, 4, 2), {}), ((1, 2, 0.3), {}),
                                     ((0, 4), {"dtype": "int64"}), ((4, 0, -1), {}),
                                     ((0, 1, 0.1), {}), ((0, 0), {}),
                                     ((-1.5, 2), {"dtype": "float64"}),
                                     ((0, 3), {"requires_grad": True})])
def test_range(args, kw, device):
    """Inclusive end, the default float dtype, a deprecation warning."""
    def f(m):
        k = dict(kw)
        if "dtype" in k:
            k["dtype"] = getattr(m, k["dtype"])
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            r = m.range(*args, **k)
        assert any(issubclass(x.category, UserWarning) for x in w)
        return r
    compare([], lambda m: f(m), device=device, grad=False)


def test_range_errors(device):
    """A zero step and a step of the wrong sign raise."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare_raises([], lambda m: m.range(0, 4, 0), device=device, match="nonzero")
        compare_raises([], lambda m: m.range(0, 4, -1), device=device, match="step sign")


# -- window functions ----------------------------------------------------------------------
WINDOWS = ["hann_window", "hamming_window", "blackman_window", "bartlett_window",
           "kaiser_window"]


@pytest.mark.parametrize("name", WINDOWS)
@pytest.mark.parametrize("n", [0, 1, 2, 5, 8])
@pytest.mark.parametrize("periodic", [True, False])
def test_windows(name, n, periodic, device):
    """Each window against torch's, periodic or symmetric, with the 0/1 length cases."""
    compare([], lambda m: (getattr(m, name)(n, periodic),
                           getattr(m, name)(n, periodic=periodic, dtype=m.float64)),
            device=device, grad=False, atol=1e-6)


@pytest.mark.parametrize("name", WINDOWS)
def test_window_kwargs(name, device):
    """The default periodic window, dtype, requires_grad, 16-bit dtypes; errors."""
    compare([], lambda m: (getattr(m, name)(6), getattr(m, name)(6, dtype=m.float16),
                           getattr(m, name)(6, dtype=m.bfloat16),
                           getattr(m, name)(3, requires_grad=True),
                           getattr(m, name)(1, requires_grad=True)),
            device=device, grad=False)
    w = getattr(ember, name)(4, device=device)
    assert w.device.type == ember.device(device).type and w.is_leaf and w.is_contiguous()
    compare_raises([], lambda m: getattr(m, name)(4, dtype=m.int64), device=device,
                   match=[name, "floating point"])
    compare_raises([], lambda m: getattr(m, name)(-1), device=device, match="non-negative")


def test_window_parameters(device):
    """hamming's alpha/beta and kaiser's beta, positionally."""
    compare([], lambda m: (m.hamming_window(7, True, 0.5), m.hamming_window(7, False, 0.5, 0.3),
                           m.kaiser_window(7, True, 5.0), m.kaiser_window(6, False, 0.5)),
            device=device, grad=False)


# -- in-place torch.* functions ------------------------------------------------------------
INPLACE = {
    "abs_": ((), {}), "acos_": ((), {"low": -0.9, "high": 0.9}),
    "acosh_": ((), {"low": 1.1, "high": 3.0}), "asin_": ((), {"low": -0.9, "high": 0.9}),
    "asinh_": ((), {}), "atan_": ((), {}), "atanh_": ((), {"low": -0.9, "high": 0.9}),
    "arccos_": ((), {"low": -0.9, "high": 0.9}), "arccosh_": ((), {"low": 1.1, "high": 3.0}),
    "arcsin_": ((), {"low": -0.9, "high": 0.9}), "arcsinh_": ((), {}), "arctan_": ((), {}),
    "arctanh_": ((), {"low": -0.9, "high": 0.9}), "ceil_": ((), {}), "floor_": ((), {}),
    "round_": ((), {}), "trunc_": ((), {}), "fix_": ((), {}), "frac_": ((), {}),
    "cos_": ((), {}), "cosh_": ((), {}), "sin_": ((), {}), "sinh_": ((), {}),
    "sinc_": ((), {}), "tan_": ((), {"low": -1.0, "high": 1.0}), "tanh_": ((), {}),
    "exp_": ((), {}), "exp2_": ((), {}), "expm1_": ((), {}), "log_": ((), {"positive": True}),
    "log10_": ((), {"positive": True}), "log1p_": ((), {"positive": True}),
    "log2_": ((), {"positive": True}), "logit_": ((), {"low": 0.1, "high": 0.9}),
    "sqrt_": ((), {"positive": True}), "rsqrt_": ((), {"positive": True}),
    "square_": ((), {}), "reciprocal_": ((), {"positive": True}), "neg_": ((), {}),
    "negative_": ((), {}), "sigmoid_": ((), {}), "relu_": ((), {}), "erf_": ((), {}),
    "erfc_": ((), {}), "i0_": ((), {}), "deg2rad_": ((), {}), "rad2deg_": ((), {}),
    "nan_to_num_": ((), {}), "clamp_": ((-0.5, 0.7), {}), "clamp_min_": ((0.1,), {}),
    "clamp_max_": ((0.1,), {}), "clip_": ((-0.5, 0.7), {}), "xlogy_": ((2.0,), {}),
    "fill_": ((1.5,), {}), "zero_": ((), {}),
}


NO_TORCH_GRAD = {"acosh_", "arccosh_", "asinh_", "arcsinh_", "atanh_", "arctanh_"}


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_functions(name, device):
    """``torch.op_(t)`` is ``t.op_()``: the same values, the tensor itself returned, and
    the gradient through the op."""
    args, kw = INPLACE[name]

    def f(m, x):
        y = x * 1
        r = getattr(m, name)(y, *args)
        assert r is y
        return r
    compare([(3, 4)], f, device=device, backward=name not in NO_TORCH_GRAD, **kw)
    if name in NO_TORCH_GRAD:  # torch 2.13 has no derivative for these in-place forms
        x = ember.tensor([0.2, -0.4, 0.7], dtype=ember.float64, device=device,
                         requires_grad=True)
        x = x + 1.5 if "cosh" in name else x
        (g_in,) = ember.autograd.grad(getattr(ember, name)(x * 1).sum(), x)
        (g_out,) = ember.autograd.grad(getattr(ember, name[:-1])(x).sum(), x)
        assert_close(g_in, torch.tensor(g_out.tolist(), dtype=torch.float64))


def test_inplace_functions_more(device):
    """Keyword arguments, integer ops, detach_, and the out-of-place ``fill``."""
    compare([(5,)], lambda m, x: (m.clamp_(x * 1, min=-0.2, max=0.3),
                                  m.round_(x * 10, decimals=1), m.logit_(x * 1, eps=0.4),
                                  m.nan_to_num_(m.log(x), nan=2.0)), device=device)
    compare([], lambda m, a, b: (m.gcd_(a.clone(), b), m.lcm_(a.clone(), b),
                                 m.abs_(a.clone())), vals=INT_PAIRS, device=device)
    compare([(4,)], lambda m, x: m.ldexp_(x * 1, m.tensor([1, 2, 0, 3])), device=device)
    y = ember.randn(3, requires_grad=True, device=device) * 2
    assert ember.detach_(y) is y and not y.requires_grad and y.grad_fn is None
    compare_raises([(3,)], lambda m, x: m.sqrt_(x), dtype="int64", device=device)
    compare_raises([(3,)], lambda m, x: m.exp_(x), grad=True, device=device)


def test_fill(device):
    """torch.fill: a new filled tensor with the input's dtype; a 0-dim tensor value gets
    the summed gradient."""
    compare([(2, 3)], lambda m, x: (m.fill(x, 3.0), m.fill(x.long(), 2.7)), device=device)
    compare([(2, 3), ()], lambda m, x, v: m.fill(x, v), device=device)
    compare_raises([(2, 3), (2,)], lambda m, x, v: m.fill(x, v), device=device,
                   match="0-dimension")


# -- Tensor in-place aliases ---------------------------------------------------------------
def test_tensor_inplace_aliases(device):
    """absolute_, arccos_, arcsin_, arctan_ and arctan2_ methods."""
    compare([(3, 4), (4,)], lambda m, x, y: ((x * 1).absolute_(), (x * 0.4).arccos_(),
                                             (x * 0.4).arcsin_(), (x * 1).arctan_(),
                                             (x * 1).arctan2_(y)), device=device)
