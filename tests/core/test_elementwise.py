"""Elementwise ops against PyTorch: forward, gradients, dtypes, broadcasting, errors."""

import ember
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch_compare import compare, compare_raises, gradcheck, gradgradcheck

BINARY = {
    "add": lambda m, a, b: a + b,
    "sub": lambda m, a, b: a - b,
    "mul": lambda m, a, b: a * b,
    "div": lambda m, a, b: a / b,
    "pow": lambda m, a, b: a.abs() ** b,
    "maximum": lambda m, a, b: m.maximum(a, b),
    "minimum": lambda m, a, b: m.minimum(a, b),
    "add_alpha": lambda m, a, b: m.add(a, b, alpha=2.5),
    "sub_alpha": lambda m, a, b: m.sub(a, b, alpha=0.5),
    "atan2_like_where": lambda m, a, b: m.where(a > b, a, b),
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_same_shape(name, device):
    """Each binary op matches torch on same-shaped inputs, with gradients."""
    compare([(3, 4), (3, 4)], BINARY[name], device=device)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_broadcast(name, device):
    """Each binary op broadcasts like torch and un-broadcasts its gradients."""
    compare([(2, 1, 4), (3, 1)], BINARY[name], device=device)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_noncontiguous(name, device):
    """Transposed (non-contiguous) operands give torch's values and gradients."""
    compare([(3, 4), (3, 4)], BINARY[name], device=device, noncontig=True)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_float64(name, device):
    """float64 inputs stay float64 and match torch tightly."""
    compare([(5,), (5,)], BINARY[name], dtype="float64", device=device)


def test_binary_with_0dim(device):
    """A 0-dim tensor broadcasts against a matrix, and its gradient sums."""
    compare([(), (3, 2)], lambda m, a, b: a * b + a, device=device)


@pytest.mark.parametrize("op", ["+", "-", "*", "/", "**", "//", "%"])
@pytest.mark.parametrize("scalar", [2, 2.5, -1.5])
def test_scalar_operators(op, scalar, device):
    """Operators with a Python scalar on either side, reflected forms included."""
    if op in ("//", "%"):
        f = eval(f"lambda m, x: (x {op} {scalar}, {scalar} {op} (x.abs() + 0.5))")
        compare([(4, 3)], f, device=device, grad=op == "%" and False)
        return
    pos = "x.abs() + 0.5" if op == "**" else "x"
    f = eval(f"lambda m, x: (x {op} {scalar}, {scalar} {op} ({pos}))")
    compare([(4, 3)], f, device=device)


@pytest.mark.parametrize("op", ["+", "-", "*", "//", "%"])
def test_int_tensor_ops(op, device):
    """Integer arithmetic stays int64 (and matches torch's floor semantics)."""
    f = eval(f"lambda m, a, b: a {op} b")
    compare([(6,), (6,)], f, dtype="int64", low=1, high=7, device=device)


def test_int_negative_floordiv_and_mod(device):
    """// and % of negative ints round toward -inf, as Python and torch do."""
    compare([], lambda m, a, b: (a // b, a % b, m.fmod(a, b)),
            vals=[np.array([-7, 7, -7, 7]), np.array([2, -2, -2, 2])], device=device)


@pytest.mark.parametrize("fn", [lambda m, x: x.long() * 2, lambda m, x: x.long().abs(),
                                lambda m, x: x.to(m.int8).sum(), lambda m, x: x.long() / 2,
                                lambda m, x: (x > 0).float().long(),
                                lambda m, x: x.long().square(), lambda m, x: x.argmax()])
def test_integer_results_do_not_require_grad(fn, device):
    """Casting a float tensor requiring grad to int gives results without grad (as torch)."""
    compare([(4,)], fn, device=device)


def test_floor_divide_float_backward_raises(device):
    """floor_divide of floats requires grad but has no derivative (as torch)."""
    compare([(3,)], lambda m, x: x // 0.7, device=device, backward=False)
    compare_raises([(3,)], lambda m, x: (x // 0.7).sum().backward(), device=device,
                   grad=True)


def test_int_true_divide_gives_float(device):
    """int / int is the default float dtype."""
    compare([(5,), (5,)], lambda m, a, b: a / b, dtype="int64", low=1, high=9,
            device=device)


def test_div_rounding_modes(device):
    """div(rounding_mode='trunc'|'floor') on floats and ints."""
    compare([], lambda m, a, b: (m.div(a, b, rounding_mode="trunc"),
                                 m.div(a, b, rounding_mode="floor")),
            vals=[np.array([-7, 7, -7, 7, 5]), np.array([2, -2, -2, 2, 5])], device=device)
    compare([(6,), (6,)], lambda m, a, b: (m.div(a, b, rounding_mode="trunc"),
                                           m.div(a, b, rounding_mode="floor")),
            device=device, grad=False)


def test_bool_sub_raises(device):
    """Subtracting bool tensors raises, as in torch."""
    compare_raises([(3,), (3,)], lambda m, a, b: a - b, dtype="bool", device=device)


@pytest.mark.parametrize("shapes", [[(3,), (4,)], [(2, 3), (3, 2)]])
def test_broadcast_mismatch_raises(shapes, device):
    """Incompatible shapes raise RuntimeError naming both sizes."""
    e = compare_raises(shapes, lambda m, a, b: a + b, device=device)
    assert str(shapes[0][-1]) in str(e) and str(shapes[1][-1]) in str(e)


UNARY = {
    "neg": (lambda m, x: -x, {}),
    "exp": (lambda m, x: x.exp(), {}),
    "log": (lambda m, x: x.log(), {"positive": True}),
    "sqrt": (lambda m, x: x.sqrt(), {"positive": True}),
    "rsqrt": (lambda m, x: x.rsqrt(), {"positive": True}),
    "abs": (lambda m, x: x.abs(), {}),
    "sign": (lambda m, x: x.sign(), {}),
    "sigmoid": (lambda m, x: x.sigmoid(), {}),
    "tanh": (lambda m, x: x.tanh(), {}),
    "erf": (lambda m, x: x.erf(), {}),
    "erfc": (lambda m, x: m.erfc(x), {}),
    "relu": (lambda m, x: x.relu(), {}),
    "sin": (lambda m, x: x.sin(), {}),
    "cos": (lambda m, x: x.cos(), {}),
    "tan": (lambda m, x: x.tan(), {"low": -1.0, "high": 1.0}),
    "asin": (lambda m, x: x.asin(), {"low": -0.9, "high": 0.9}),
    "acos": (lambda m, x: x.acos(), {"low": -0.9, "high": 0.9}),
    "atan": (lambda m, x: x.atan(), {}),
    "sinh": (lambda m, x: x.sinh(), {}),
    "cosh": (lambda m, x: x.cosh(), {}),
    "reciprocal": (lambda m, x: x.reciprocal(), {"positive": True}),
    "square": (lambda m, x: x.square(), {}),
    "log1p": (lambda m, x: x.log1p(), {"positive": True}),
    "expm1": (lambda m, x: x.expm1(), {}),
    "log2": (lambda m, x: x.log2(), {"positive": True}),
    "log10": (lambda m, x: x.log10(), {"positive": True}),
    "exp2": (lambda m, x: m.exp2(x), {}),
    "floor": (lambda m, x: x.floor(), {}),
    "ceil": (lambda m, x: x.ceil(), {}),
    "round": (lambda m, x: x.round(), {}),
    "round_decimals": (lambda m, x: m.round(x, decimals=2), {}),
    "trunc": (lambda m, x: x.trunc(), {}),
    "frac": (lambda m, x: x.frac(), {}),
    "clamp": (lambda m, x: x.clamp(-0.5, 0.7), {}),
    "clamp_min": (lambda m, x: x.clamp(min=0.1), {}),
    "clamp_max": (lambda m, x: x.clamp(max=0.1), {}),
    "pow_scalar": (lambda m, x: x ** 3, {}),
    "pow_half": (lambda m, x: x ** 0.5, {"positive": True}),
    "pow_neg": (lambda m, x: x ** -1.5, {"positive": True}),
    "rpow": (lambda m, x: 2 ** x, {}),
    "sigmoid_big": (lambda m, x: (x * 100).sigmoid(), {}),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary(name, device):
    """Each unary op matches torch in value and gradient."""
    fn, kw = UNARY[name]
    compare([(3, 5)], fn, device=device, **kw)


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "sigmoid", "tanh", "erf", "abs",
                                  "sin", "reciprocal", "pow_scalar"])
def test_unary_float64_gradcheck(name, device):
    """float64 numerical gradient and second-gradient checks of unary ops."""
    fn, kw = UNARY[name]
    rng = np.random.default_rng(0)
    a = rng.uniform(0.2, 1.5, size=(4,)) if kw.get("positive") else \
        rng.uniform(-1.5, 1.5, size=(4,))
    x = ember.tensor(a, dtype=ember.float64, device=device, requires_grad=True)
    gradcheck(lambda t: fn(ember, t), [x])
    if name != "abs":
        gradgradcheck(lambda t: fn(ember, t), [x])


@pytest.mark.parametrize("name", ["exp", "sqrt", "sigmoid", "tanh", "sin", "log", "abs",
                                  "floor", "relu", "erf"])
def test_unary_int_input_promotes(name, device):
    """Unary float ops on an int tensor return torch's dtype (float32 or int64)."""
    fn, _ = UNARY[name]
    compare([(5,)], fn, dtype="int64", low=1, high=9, device=device)


def test_unary_noncontiguous(device):
    """Unary ops on transposed inputs keep torch's values and gradients."""
    compare([(3, 4)], lambda m, x: x.exp() * x.tanh() + x.abs().sqrt(), device=device,
            noncontig=True)


def test_float16_ops(device):
    """float16 arithmetic stays float16."""
    compare([(4,), (4,)], lambda m, a, b: (a * b + a.exp()) / 2, dtype="float16",
            device=device, grad=False)


def test_sqrt_of_negative_is_nan(device):
    """sqrt/log of out-of-domain values give NaN as in torch (no exception)."""
    compare([], lambda m, x: (x.sqrt(), x.log()), vals=[np.array([-1.0, 0.0, 4.0])],
            device=device, grad=False)


def test_pow_zero_base_gradient(device):
    """x ** 2 and x ** 0 at x = 0 have torch's gradients (no NaN)."""
    compare([], lambda m, x: (x ** 2, x ** 0, x ** 1.5), vals=[np.array([0.0, 1.0, 2.0])],
            device=device)


def test_pow_tensor_tensor_gradients(device):
    """a ** b for tensors: gradients for both base and exponent."""
    compare([(3,), (3,)], lambda m, a, b: a ** b, device=device, positive=True)


def test_pow_int_tensor_scalar(device):
    """int tensor ** int stays int64; ** float gives float."""
    compare([(4,)], lambda m, x: (x ** 2, x ** 0.5, x ** 3), dtype="int64", low=0, high=5,
            device=device)


def test_pow_int_negative_exponent_raises(device):
    """Integers to negative integer powers raise."""
    compare_raises([(3,)], lambda m, x: x ** -2, dtype="int64", device=device)


def test_clamp_tensor_bounds(device):
    """clamp with tensor bounds, with gradients to input and bounds."""
    compare([(3, 4), (4,), (4,)], lambda m, x, lo, hi: x.clamp(lo, lo + hi.abs()),
            device=device)


def test_clamp_int_with_float_bound(device):
    """clamp of an int tensor with a float bound promotes as torch."""
    compare([(5,)], lambda m, x: x.clamp(min=1.5), dtype="int64", low=0, high=4,
            device=device)


def test_clamp_requires_a_bound(device):
    """clamp() with neither bound raises."""
    compare_raises([(3,)], lambda m, x: m.clamp(x), device=device)


def test_maximum_ties_split_gradient(device):
    """maximum/minimum on equal elements split the gradient as torch does."""
    compare([], lambda m, a, b: (m.maximum(a, b), m.minimum(a, b)),
            vals=[np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 4.0])], device=device)


def test_maximum_nan_propagates(device):
    """maximum propagates NaN."""
    compare([], lambda m, a, b: m.maximum(a, b), vals=[np.array([np.nan, 1.0]),
                                                        np.array([0.0, np.nan])],
            device=device, grad=False)


def test_where_broadcast_and_grads(device):
    """where broadcasts condition and both branches; gradients go to the chosen branch."""
    compare([(3, 1), (1, 4)], lambda m, a, b: m.where(a > 0, a, b), device=device)


def test_where_scalar_branches(device):
    """where with Python scalars keeps the tensor's dtype."""
    compare([(3, 4)], lambda m, x: (m.where(x > 0, x, 0.0), m.where(x > 0, 1.0, x)),
            device=device)


def test_where_int_and_float(device):
    """where promotes int and float branches."""
    compare([(4,), (4,)], lambda m, a, b: m.where(a > 0, a.long(), b), device=device)


def test_where_noncontig(device):
    """where on transposed inputs."""
    compare([(3, 4), (3, 4)], lambda m, a, b: m.where(a > b, a * 2, b), device=device,
            noncontig=True)


def test_where_condition_must_be_bool(device):
    """A float condition raises."""
    compare_raises([(3,), (3,)], lambda m, a, b: m.where(a, a, b), device=device)


def test_lerp_addcmul_addcdiv(device):
    """lerp, addcmul and addcdiv match torch."""
    compare([(3,), (3,), (3,)], lambda m, a, b, c: (m.lerp(a, b, 0.3),
                                                    m.addcmul(a, b, c, value=0.5),
                                                    m.addcdiv(a, b, c.abs() + 1, value=2)),
            device=device)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lerp_evaluates_like_torch_with_infinities(dtype, device):
    """PyTorch's lerp works from ``end`` when ``|weight| >= 0.5``
    (``end - (end - start) * (1 - weight)``): weight 1 gives ``end`` exactly and an infinite
    start or end gives an infinity, not NaN (diffusers' KDPM2 scheduler lerps log-sigmas,
    one of them -inf)."""
    inf = float("inf")
    vals = [[-inf, 1.0, 2.0, -inf, 3.0, 1.0, 5.0, inf, 1e30, 0.1],
            [1.0, -inf, 3.0, -inf, inf, 2.0, -inf, 1.0, -1e30, 0.7],
            [0.0, 0.3, 0.5, 0.5, 0.5, 0.7, 1.0, 0.5, 0.75, 1.0]]
    compare([(10,)] * 3, lambda m, s, e, w: (m.lerp(s, e, w), m.lerp(s, e, 0.5),
                                             m.lerp(s, e, 1.0), m.lerp(s, e, 0.25),
                                             s.clone().lerp_(e, 0.75)),
            vals=vals, dtype=dtype, grad=False, device=device)


def test_lerp_broadcast_gradients(device):
    """Tensor weights broadcast against start and end; gradients reach all three (both
    branches of the formula)."""
    compare([(2, 1, 4), (3, 1), (4,)], lambda m, s, e, w: m.lerp(s, e, w.abs() * 0.6),
            dtype="float64", device=device)
    s, e, w = (ember.tensor(v, dtype=ember.float64, device=device, requires_grad=True)
               for v in ([0.5, -1.0, 2.0], [1.5, 0.25, -3.0], [0.2, 0.5, 0.9]))
    gradcheck(lambda s, e, w: ember.lerp(s, e, w), [s, e, w])


def test_reflected_scalar_with_int_tensor(device):
    """2.5 - int tensor and 2.5 / int tensor promote to float32."""
    compare([(4,)], lambda m, x: (2.5 - x, 2.5 / x, 3 - x, 3 * x), dtype="int64", low=1,
            high=5, device=device)


def test_remainder_gradient(device):
    """remainder and fmod of floats, with gradients."""
    compare([(5,), (5,)], lambda m, a, b: (m.remainder(a, b.abs() + 0.5),
                                           m.fmod(a, b.abs() + 0.5)), device=device)


def test_numpy_scalar_operand(device):
    """A numpy float32 scalar operand behaves as a Python number."""
    compare([(3,)], lambda m, x: x * np.float64(2.5) + np.float32(1), device=device)


def test_bitwise_and_logical(device):
    """&, |, ^, ~ on bool and int tensors; logical_* ops."""
    compare([(6,), (6,)], lambda m, a, b: (a & b, a | b, a ^ b, ~a, m.logical_and(a, b),
                                           m.logical_xor(a, b), m.logical_not(a)),
            dtype="bool", device=device)
    compare([(6,), (6,)], lambda m, a, b: (a & b, a | b, a ^ b, ~a), dtype="int64",
            low=0, high=8, device=device)


def test_bitwise_on_float_raises(device):
    """Bitwise ops on floats raise."""
    compare_raises([(3,), (3,)], lambda m, a, b: a & b, device=device)


@pytest.mark.parametrize("op", ["==", "!=", "<", "<=", ">", ">="])
def test_comparisons(op, device):
    """Comparisons return bool, with tensors, broadcast tensors and scalars."""
    f = eval(f"lambda m, a, b: (a {op} b, a {op} 0.5, 0.5 {op} a)")
    compare([(3, 4), (4,)], f, device=device)


def test_comparison_mixed_dtypes(device):
    """int tensor compared with a float tensor and float scalar."""
    compare([(5,), (5,)], lambda m, a, b: (a.long() < b, a.long() == 1.0, a.long() > 0),
            device=device)


def test_isnan_isinf_isfinite(device):
    """isnan/isinf/isfinite on special values."""
    compare([], lambda m, x: (x.isnan(), x.isinf(), x.isfinite(), m.isclose(x, x)),
            vals=[np.array([np.nan, np.inf, -np.inf, 1.0])], device=device, grad=False)


def test_mixed_device_raises(device):
    """Ops on tensors of different devices raise, naming both devices."""
    if device == "cpu":
        pytest.skip("needs a second device")
    a = ember.ones(3, device=device)
    b = ember.ones(3)
    with pytest.raises(RuntimeError, match="cpu"):
        a + b


def test_out_argument(device):
    """out= writes into the given tensor."""
    a = ember.ones(3, device=device)
    out = ember.empty(3, device=device)
    r = ember.add(a, a, out=out)
    assert r is out and out.tolist() == [2.0, 2.0, 2.0]


def test_double_backward_through_mul_and_tanh(device):
    """Second-order gradient of a small expression matches torch."""
    import torch

    x_np = np.array([0.3, -0.7, 1.2])
    tx = torch.tensor(x_np, requires_grad=True)
    ex = ember.tensor(x_np, device=device, requires_grad=True)
    res = []
    for m, x in ((torch, tx), (ember, ex)):
        y = (x * x.tanh() * x.sigmoid()).sum()
        (g,) = m.autograd.grad(y, x, create_graph=True)
        (gg,) = m.autograd.grad(g.sum(), x)
        res.append((g.detach().cpu().numpy(), gg.detach().cpu().numpy()))
    np.testing.assert_allclose(res[1][0], res[0][0], rtol=1e-10)
    np.testing.assert_allclose(res[1][1], res[0][1], rtol=1e-10)


shape_st = st.lists(st.integers(1, 3), min_size=0, max_size=3)


@st.composite
def broadcastable_pair(draw):
    """Two shapes that broadcast against each other."""
    out = draw(shape_st)
    a, b = [], []
    for s in out:
        a.append(draw(st.sampled_from([s, 1])))
        b.append(draw(st.sampled_from([s, 1])))
    a = a[draw(st.integers(0, len(a))):]
    b = b[draw(st.integers(0, len(b))):]
    return tuple(a), tuple(b)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shapes=broadcastable_pair(), name=st.sampled_from(sorted(BINARY)))
def test_hypothesis_broadcasting(shapes, name, device):
    """Random broadcastable shapes for every binary op: values and gradients match."""
    compare(list(shapes), BINARY[name], device=device)


def test_float_alpha_with_int_tensors_raises(device):
    """add/sub with a float alpha on integer tensors raise; an int alpha is fine."""
    compare_raises([(3,)], lambda m, x: m.add(x.long(), x.long(), alpha=1.5), device=device)
    compare_raises([(3,)], lambda m, x: m.sub(x.long(), 2, alpha=0.5), device=device)
    compare([(3,)], lambda m, x: m.add(x.long(), x.long(), alpha=2), device=device, low=-5,
            high=5)


@pytest.mark.parametrize("fn", [lambda m, x: x + "a", lambda m, x: x + None,
                                lambda m, x: x < "a"])
def test_bad_operand_types_raise(fn, device):
    """Operators with non-numeric operands raise TypeError."""
    compare_raises([(3,)], fn, device=device)


def test_eq_with_other_types_is_false(device):
    """== with a string is False and != True, as in torch."""
    compare([(3,)], lambda m, x: (x == "a", x != "a"), device=device)
