"""The elementwise math surface against PyTorch: unary and binary float ops, integer bitwise
ops and shifts, predicates, ``out=``, in-place forms and ``ember.special``."""

import ember
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_compare import assert_close, compare, compare_raises, gradcheck, gradgradcheck

# name -> fn(m, x) on x uniform in [-2, 2]; domains are mapped inside the lambda
UNARY = {
    "exp2": lambda m, x: m.exp2(x),
    "expm1": lambda m, x: x.expm1(),
    "log2": lambda m, x: (x.abs() + 0.1).log2(),
    "log10": lambda m, x: m.log10(x.abs() + 0.1),
    "log1p": lambda m, x: (x.abs() - 0.5).log1p(),
    "sin": lambda m, x: x.sin(),
    "cos": lambda m, x: m.cos(x),
    "tan": lambda m, x: (x * 0.5).tan(),
    "asin": lambda m, x: (x * 0.45).asin(),
    "acos": lambda m, x: m.acos(x * 0.45),
    "atan": lambda m, x: x.atan(),
    "arcsin": lambda m, x: m.arcsin(x * 0.45),
    "sinh": lambda m, x: x.sinh(),
    "cosh": lambda m, x: x.cosh(),
    "tanh": lambda m, x: x.tanh(),
    "asinh": lambda m, x: x.asinh(),
    "acosh": lambda m, x: m.acosh(x.abs() + 1.1),
    "atanh": lambda m, x: (x * 0.45).atanh(),
    "arcsinh": lambda m, x: m.arcsinh(x),
    "arccosh": lambda m, x: (x.abs() + 1.1).arccosh(),
    "arctanh": lambda m, x: m.arctanh(x * 0.45),
    "erf": lambda m, x: x.erf(),
    "erfc": lambda m, x: m.erfc(x),
    "erfinv": lambda m, x: (x * 0.45).erfinv(),
    "floor": lambda m, x: x.floor(),
    "ceil": lambda m, x: m.ceil(x),
    "round": lambda m, x: (x * 3).round(),
    "round_decimals": lambda m, x: m.round(x * 3, decimals=2),
    "trunc": lambda m, x: x.trunc(),
    "fix": lambda m, x: m.fix(x),
    "frac": lambda m, x: (x * 3).frac(),
    "reciprocal": lambda m, x: (x.abs() + 0.5).reciprocal(),
    "square": lambda m, x: x.square(),
    "lgamma": lambda m, x: (x * 2).lgamma(),
    "digamma": lambda m, x: (x.abs() + 0.3).digamma(),
    "polygamma1": lambda m, x: m.polygamma(1, x.abs() + 0.3),
    "polygamma2": lambda m, x: (x.abs() + 0.3).polygamma(2),
    "mvlgamma": lambda m, x: m.mvlgamma(x.abs() + 1.2, 3),
    "sinc": lambda m, x: m.sinc(x),
    "logit": lambda m, x: (x * 0.2 + 0.5).logit(),
    "logit_eps": lambda m, x: m.logit(x * 0.3 + 0.5, eps=0.2),
    "deg2rad": lambda m, x: m.deg2rad(x * 90),
    "rad2deg": lambda m, x: x.rad2deg(),
    "sigmoid": lambda m, x: x.sigmoid(),
    "i0": lambda m, x: m.i0(x),
    "sign": lambda m, x: x.sign(),
    "sqrt": lambda m, x: (x.abs() + 0.1).sqrt(),
    "rsqrt": lambda m, x: (x.abs() + 0.1).rsqrt(),
    "nan_to_num": lambda m, x: m.nan_to_num((x - 0.5).log(), nan=7.0, neginf=-3.0),
    "clip": lambda m, x: m.clip(x, -0.5, 0.7),
    "clamp_min": lambda m, x: x.clamp(min=0.1),
}

SMOOTH = ["exp2", "expm1", "log2", "log1p", "asinh", "acosh", "atanh", "erfinv", "lgamma",
          "digamma", "polygamma1", "mvlgamma", "sinc", "logit", "logit_eps", "deg2rad", "i0",
          "tan", "acos"]


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary(name, device):
    """Values, dtype, shape and gradient match torch."""
    compare([(3, 4)], UNARY[name], device=device)


@pytest.mark.parametrize("name", ["asinh", "acosh", "erfinv", "lgamma", "sinc", "logit_eps",
                                  "frac", "round_decimals", "mvlgamma"])
def test_unary_noncontiguous(name, device):
    """Transposed inputs give the same values and gradients."""
    compare([(3, 4)], UNARY[name], device=device, noncontig=True)


@pytest.mark.parametrize("name", SMOOTH)
def test_unary_gradcheck(name, device):
    """float64 analytical gradients against finite differences."""
    x = ember.tensor(np.random.default_rng(1).uniform(-0.9, 0.9, (5,)), dtype=ember.float64,
                     device=device, requires_grad=True)
    gradcheck(lambda t: UNARY[name](ember, t), [x])


@pytest.mark.parametrize("name", ["asinh", "erfinv", "lgamma", "sinc", "logit", "digamma"])
def test_unary_gradgradcheck(name, device):
    """Second derivatives (the backward is itself differentiable)."""
    x = ember.tensor(np.random.default_rng(2).uniform(-0.9, 0.9, (4,)), dtype=ember.float64,
                     device=device, requires_grad=True)
    gradgradcheck(lambda t: UNARY[name](ember, t), [x])


@pytest.mark.parametrize("name", ["exp2", "expm1", "log2", "sinc", "deg2rad", "i0", "lgamma",
                                  "erfinv", "square", "asinh", "reciprocal"])
def test_unary_on_integers(name, device):
    """Integer inputs promote (or not) as in torch."""
    f = {"erfinv": lambda m, x: (x * 0).erfinv(), "reciprocal":
         lambda m, x: (x.abs() + 1).reciprocal(), "log2": lambda m, x: (x.abs() + 1).log2()}
    compare([(5,)], f.get(name, UNARY[name]), dtype="int64", low=-3, high=4, device=device)


def test_frac_of_integers_raises(device):
    compare_raises([(3,)], lambda m, x: x.frac(), dtype="int64", device=device)


def test_unary_special_values(device):
    """Poles, infinities and NaN as torch gives them."""
    vals = [np.array([0.0, -1.0, -2.5, 1.0, np.inf, -np.inf, np.nan, 0.5])]
    compare([], lambda m, x: (m.lgamma(x), m.sinc(x), m.expm1(x), m.asinh(x),
                              m.erfinv(x * 0), m.deg2rad(x), m.special.entr(x)),
            vals=vals, device=device, grad=False)


@pytest.mark.parametrize("name,fn", [
    ("sinc_", lambda x: x.sinc_()), ("lgamma_", lambda x: x.lgamma_()),
    ("deg2rad_", lambda x: x.deg2rad_()), ("logit_", lambda x: x.mul_(0.2).add_(0.5).logit_()),
    ("erfinv_", lambda x: x.mul_(0.4).erfinv_()), ("square_", lambda x: x.square_()),
    ("fix_", lambda x: x.fix_()), ("hypot_", lambda x: x.hypot_(x * 2)),
    ("copysign_", lambda x: x.copysign_(-1.0)),
    ("xlogy_", lambda x: x.xlogy_(x.detach().abs() + 1)),
    ("float_power_", lambda x: x.double().float_power_(2)),
    ("polygamma_", lambda x: x.abs_().add_(0.5).polygamma_(1)),
])
def test_inplace_forms(name, fn, device):
    """In-place variants write the out-of-place result into the tensor (and keep its
    gradient path through a non-leaf)."""
    compare([(2, 3)], lambda m, x: fn(x * 1), device=device)


def test_inplace_without_derivative(device):
    """torch has no derivative for in-place asinh_/atanh_; the values still match."""
    compare([(2, 3)], lambda m, x: (x.detach().clone().asinh_(),
                                    x.detach().mul(0.4).atanh_(),
                                    x.detach().clone().acosh_()), device=device)


BINARY = {
    "atan2": lambda m, a, b: m.atan2(a, b),
    "arctan2": lambda m, a, b: a.arctan2(b),
    "hypot": lambda m, a, b: m.hypot(a, b),
    "fmax": lambda m, a, b: m.fmax(a, b),
    "fmin": lambda m, a, b: a.fmin(b),
    "lerp_scalar": lambda m, a, b: m.lerp(a, b, 0.3),
    "lerp_tensor": lambda m, a, b: a.lerp(b, (a * b).sigmoid()),
    "addcmul": lambda m, a, b: m.addcmul(a, a, b, value=0.5),
    "addcdiv": lambda m, a, b: a.addcdiv(a, b.abs() + 0.5, value=-2),
    "remainder": lambda m, a, b: m.remainder(a, b.abs() + 0.5),
    "fmod": lambda m, a, b: a.fmod(b.abs() + 0.5),
    "true_divide": lambda m, a, b: m.true_divide(a, b.abs() + 0.5),
    "xlogy": lambda m, a, b: m.xlogy(a, b.abs() + 0.1),
    "xlog1py": lambda m, a, b: m.special.xlog1py(a, b.abs()),
    "copysign": lambda m, a, b: m.copysign(a, b),
    "logaddexp": lambda m, a, b: m.logaddexp(a * 10, b),
    "logaddexp2": lambda m, a, b: a.logaddexp2(b * 10),
    "float_power": lambda m, a, b: m.float_power(a.abs() + 0.1, b),
    "clamp_tensor": lambda m, a, b: m.clamp(a, min=b, max=b + 1),
    "maximum": lambda m, a, b: m.maximum(a, b),
    "pow": lambda m, a, b: (a.abs() + 0.1).pow(b),
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary(name, device):
    """Same-shape operands: values and both gradients."""
    compare([(3, 4), (3, 4)], BINARY[name], device=device)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_broadcast(name, device):
    """Broadcast operands: the gradients are summed back to each shape."""
    compare([(2, 1, 4), (3, 1)], BINARY[name], device=device)


@pytest.mark.parametrize("name", ["atan2", "hypot", "fmax", "xlogy", "copysign",
                                  "logaddexp", "lerp_tensor", "float_power"])
def test_binary_noncontiguous(name, device):
    """Transposed operands."""
    compare([(3, 4), (3, 4)], BINARY[name], device=device, noncontig=True)


@pytest.mark.parametrize("name", ["atan2", "hypot", "xlogy", "xlog1py", "logaddexp",
                                  "logaddexp2", "lerp_tensor", "addcdiv", "copysign",
                                  "float_power"])
def test_binary_gradcheck(name, device):
    """float64 numerical gradients of both operands."""
    rng = np.random.default_rng(3)
    a, b = (ember.tensor(rng.uniform(-1, 1, (3,)), dtype=ember.float64, device=device,
                         requires_grad=True) for _ in range(2))
    gradcheck(lambda x, y: BINARY[name](ember, x, y), [a, b])


@pytest.mark.parametrize("name", ["hypot", "logaddexp", "xlogy", "atan2"])
def test_binary_gradgradcheck(name, device):
    rng = np.random.default_rng(4)
    a, b = (ember.tensor(rng.uniform(0.2, 1, (3,)), dtype=ember.float64, device=device,
                         requires_grad=True) for _ in range(2))
    gradgradcheck(lambda x, y: BINARY[name](ember, x, y), [a, b])


def test_binary_scalars_and_dtypes(device):
    """Python scalars don't upcast float32; ints promote to the default float."""
    compare([(4,)], lambda m, x: (m.hypot(x, m.tensor(2.0)), m.xlogy(2, x.abs() + 1),
                                  m.xlogy(x, 3.0), m.copysign(x, -1), m.fmax(x, m.tensor(0.5)),
                                  m.logaddexp(x, m.tensor(1.0)), m.float_power(x, 2),
                                  m.float_power(2, x), m.atan2(x, m.tensor(1.0))),
            device=device)
    compare([(4,), (4,)], lambda m, a, b: (m.copysign(a, b), m.atan2(a, b), m.fmax(a, b),
                                           m.fmin(a, b.double()), m.float_power(a, b)),
            dtype="int64", low=-3, high=4, device=device)


def test_fmin_fmax_nan(device):
    """fmin/fmax ignore NaN; maximum/minimum propagate it; gradients go to the number."""
    vals = [np.array([1.0, np.nan, np.nan, 2.0]), np.array([np.nan, 3.0, np.nan, 2.0])]
    compare([], lambda m, a, b: (m.fmax(a, b), m.fmin(a, b), m.maximum(a, b)), vals=vals,
            device=device)


def test_xlogy_zero_and_nan(device):
    """xlogy(0, y) is 0 (even for y = 0) unless y is NaN; the x-gradient at 0 is 0."""
    vals = [np.array([0.0, 0.0, 1.0, 2.0, 0.0]), np.array([0.0, 2.0, 3.0, np.nan, np.nan])]
    compare([], lambda m, a, b: (m.xlogy(a, b), m.special.xlog1py(a, b)), vals=vals,
            device=device, grad=False)
    compare([], lambda m, a, b: (m.xlogy(a, b), m.special.xlog1py(a, b)),
            vals=[np.array([0.0, 1.5, 0.0, 0.0]), np.array([2.0, 3.0, -1.0, 0.5])],
            device=device)


def test_heaviside(device):
    """heaviside picks ``values`` at 0; it records a node whose backward raises."""
    compare([], lambda m, a, b: m.heaviside(a, b),
            vals=[np.array([-1.0, 0.0, 2.0, 0.0]), np.array([0.5, 0.25, 7.0, 3.0])],
            device=device, backward=False)
    compare([], lambda m, a, b: a.heaviside(b), vals=[np.array([-1, 0, 2]), np.array([5])],
            device=device)
    compare_raises([(3,)], lambda m, x: m.heaviside(x, m.tensor([0.5])).sum().backward(),
                   grad=True, device=device)
    compare_raises([(3,)], lambda m, x: m.heaviside(x, m.tensor([1])), device=device)


def test_float_power_dtypes(device):
    """float_power computes in double (complex128 with a complex operand)."""
    compare([(3,)], lambda m, x: (m.float_power(x, 2), x.float_power(x.abs()),
                                  m.float_power(x.int(), 2)), device=device)


@pytest.mark.parametrize("name", ["logaddexp", "logaddexp2"])
def test_logaddexp_int_raises(name, device):
    compare_raises([(3,), (3,)], lambda m, a, b: getattr(m, name)(a, b), dtype="int64",
                   device=device)


# -- integers: bitwise ops and shifts ----------------------------------------------------
INT_OPS = {
    "and": lambda m, a, b: a & b,
    "or": lambda m, a, b: a | b,
    "xor": lambda m, a, b: m.bitwise_xor(a, b),
    "not": lambda m, a, b: ~a,
    "lshift": lambda m, a, b: a << b,
    "rshift": lambda m, a, b: a >> b,
    "lshift_fn": lambda m, a, b: m.bitwise_left_shift(a, b),
    "rshift_fn": lambda m, a, b: a.bitwise_right_shift(b),
    "lshift_scalar": lambda m, a, b: (a << 3, 2 << b, a >> 1, 1024 >> b),
}


@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "int8", "uint8"])
@pytest.mark.parametrize("name", sorted(INT_OPS))
def test_int_bitwise(name, dtype, device):
    """Bitwise ops and shifts on every integer dtype (wrapping as torch does)."""
    compare([(6,), (6,)], INT_OPS[name], dtype=[dtype, dtype], low=0, high=7, device=device)


def test_shift_edge_counts(device):
    """Negative and too-large shift counts, negative operands, bools and mixed dtypes."""
    vals = [np.array([-8, 8, -8, 8, 5, -1]), np.array([64, 64, -1, 63, 70, 3])]
    compare([], lambda m, a, b: (a << b, a >> b, a.int() << 3, a.to(m.int8) << 7),
            vals=vals, device=device)
    compare([], lambda m, a: (a << 1, a >> 1), vals=[np.array([True, False])], device=device)
    compare([], lambda m, a, b: (a.int() << b, a << b.int()), vals=vals, device=device)


def test_shift_inplace(device):
    compare([(5,), (5,)], lambda m, a, b: (a.clone().bitwise_left_shift_(b),
                                           a.clone().__ilshift__(1),
                                           a.clone().bitwise_right_shift_(b)),
            dtype="int64", low=0, high=5, device=device)


def test_bitwise_on_float_raises(device):
    compare_raises([(3,)], lambda m, x: x << 1, device=device)
    compare_raises([(3,), (3,)], lambda m, a, b: m.bitwise_and(a, b), device=device)


# -- predicates ------------------------------------------------------------------------------
def test_predicates(device):
    """isnan/isinf/isfinite/isposinf/isneginf/isreal/signbit on special values."""
    vals = [np.array([0.0, -0.0, 1.5, -2.0, np.inf, -np.inf, np.nan])]
    compare([], lambda m, x: (x.isnan(), m.isinf(x), x.isfinite(), m.isposinf(x),
                              x.isneginf(), m.isreal(x), x.signbit(), m.signbit(x)),
            vals=vals, device=device)
    compare([], lambda m, x: (m.isreal(x), x.isreal(), m.isfinite(x), m.isnan(x)),
            vals=[np.array([1 + 1j, 2 + 0j, np.nan + 0j])], dtype="complex64", device=device)
    compare([(4,)], lambda m, x: (m.isnan(x), m.isinf(x), m.isreal(x), m.isfinite(x)),
            dtype="int64", device=device)


def test_closeness(device):
    """allclose/isclose/equal, with rtol/atol and equal_nan."""
    vals = [np.array([1.0, 2.0, np.nan, 4.0]), np.array([1.0 + 1e-6, 2.1, np.nan, 4.0])]
    compare([], lambda m, a, b: (m.isclose(a, b), m.isclose(a, b, equal_nan=True),
                                 a.isclose(b, rtol=0.1), m.allclose(a, b),
                                 m.allclose(a, b, rtol=0.1, equal_nan=True),
                                 m.equal(a, b), m.equal(a, a.clone()), a.equal(a[:2])),
            vals=vals, device=device)


# -- out= ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["exp2", "hypot", "atan2", "logaddexp", "lgamma", "xlogy",
                                  "copysign", "sinc", "float_power", "fmax", "remainder"])
def test_out_argument(name, device):
    """``out=`` receives the result (resized when needed) and is returned."""
    def f(m, a, b):
        out = m.empty(0, dtype=m.float64 if name == "float_power" else m.float32)
        fn = getattr(m, name)
        r = fn(a, out=out) if name in ("exp2", "lgamma", "sinc") else fn(a, b.abs() + 1,
                                                                         out=out)
        assert r is out
        return out
    compare([(3, 2), (3, 2)], f, device=device, grad=False)


# -- ember.special ---------------------------------------------------------------------------
SPECIAL = {
    "erf": lambda s, x: s.erf(x), "erfc": lambda s, x: s.erfc(x),
    "erfinv": lambda s, x: s.erfinv(x * 0.4), "erfcx": lambda s, x: s.erfcx(x),
    "expit": lambda s, x: s.expit(x), "logit": lambda s, x: s.logit(x * 0.2 + 0.5, eps=1e-3),
    "xlogy": lambda s, x: s.xlogy(x, x.abs() + 0.5),
    "xlog1py": lambda s, x: s.xlog1py(x, x.abs()),
    "gammaln": lambda s, x: s.gammaln(x.abs() + 0.1), "digamma": lambda s, x: s.digamma(
        x.abs() + 0.2), "psi": lambda s, x: s.psi(x.abs() + 0.2),
    "polygamma": lambda s, x: s.polygamma(3, x.abs() + 0.5),
    "multigammaln": lambda s, x: s.multigammaln(x.abs() + 2, 2),
    "i0": lambda s, x: s.i0(x), "i0e": lambda s, x: s.i0e(x), "i1": lambda s, x: s.i1(x),
    "i1e": lambda s, x: s.i1e(x), "ndtr": lambda s, x: s.ndtr(x),
    "ndtri": lambda s, x: s.ndtri(x * 0.2 + 0.5), "log_ndtr": lambda s, x: s.log_ndtr(x * 5),
    "sinc": lambda s, x: s.sinc(x), "entr": lambda s, x: s.entr(x.abs()),
    "logsumexp": lambda s, x: s.logsumexp(x, 1), "softmax": lambda s, x: s.softmax(x, 0),
    "log_softmax": lambda s, x: s.log_softmax(x, dim=1), "round": lambda s, x: s.round(x * 3),
    "exp2": lambda s, x: s.exp2(x), "expm1": lambda s, x: s.expm1(x),
    "log1p": lambda s, x: s.log1p(x.abs()), "bessel_j0": lambda s, x: s.bessel_j0(x * 5),
    "bessel_j1": lambda s, x: s.bessel_j1(x * 5), "zeta": lambda s, x: s.zeta(x.abs() + 1.5,
                                                                               2.0),
    "gammainc": lambda s, x: s.gammainc(x.abs().detach() + 0.5, x.abs() + 0.1),
    "gammaincc": lambda s, x: s.gammaincc(x.abs().detach() + 0.5, x.abs() + 0.1),
}


@pytest.mark.parametrize("name", sorted(SPECIAL))
def test_special(name, device):
    """``ember.special.<name>`` against ``torch.special.<name>`` (values and gradients;
    zeta and the incomplete gammas record nodes whose backward raises, as in torch)."""
    backward = name != "zeta"
    compare([(3, 4)], lambda m, x: SPECIAL[name](m.special, x), device=device,
            backward=backward, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["i0e", "i1", "i1e", "ndtr", "ndtri", "log_ndtr", "erfcx",
                                  "entr", "xlog1py", "polygamma"])
def test_special_gradcheck(name, device):
    x = ember.tensor(np.random.default_rng(5).uniform(0.1, 0.9, (4,)), dtype=ember.float64,
                     device=device, requires_grad=True)
    gradcheck(lambda t: SPECIAL[name](ember.special, t), [x])


def test_special_i1_at_zero(device):
    """The i1/i1e gradients at 0 are 1/2."""
    compare([], lambda m, x: (m.special.i1(x), m.special.i1e(x)),
            vals=[np.array([0.0, 1.0])], device=device)


def test_special_errors(device):
    compare_raises([(3,)], lambda m, x: m.polygamma(-1, x), device=device)
    compare_raises([(3,)], lambda m, x: m.mvlgamma(x.abs() + 3, 0), device=device)
    compare_raises([(3,)], lambda m, x: m.special.zeta(x.abs() + 2, x.abs() + 1).sum()
                   .backward(), grad=True, device=device)


def test_special_module_is_lazy_and_complete():
    """Every name of ember.special.__all__ resolves, and torch.special has it too."""
    for n in ember.special.__all__:
        assert callable(getattr(ember.special, n)), n
        assert hasattr(torch.special, n), n


# -- hypothesis: broadcasting of the new binary ops ------------------------------------------
_dims = st.lists(st.integers(1, 3), min_size=0, max_size=3)


@settings(max_examples=20)
@given(_dims, _dims, st.sampled_from(["hypot", "fmax", "logaddexp", "copysign", "xlogy",
                                      "atan2"]))
def test_hypothesis_broadcasting(sa, sb, name):
    """Random shape pairs: ember broadcasts (or refuses) exactly as torch does, and the
    gradients are reduced back to each operand's shape."""
    try:
        torch.broadcast_shapes(tuple(sa), tuple(sb))
    except RuntimeError:
        compare_raises([tuple(sa), tuple(sb)], BINARY[name])
        return
    compare([tuple(sa), tuple(sb)], BINARY[name])


def test_python_float_keeps_float32():
    """A Python float never upcasts a float32 tensor in the new binary ops."""
    x = ember.ones(3)
    for r in (ember.hypot(x, 2.0), ember.logaddexp(x, 2.0), ember.fmax(x, 2.0),
              ember.copysign(x, -2.0), ember.xlogy(x, 2.0)):
        assert r.dtype is ember.float32
    assert_close(ember.hypot(x, 2.0), torch.hypot(torch.ones(3), torch.tensor(2.0)))
