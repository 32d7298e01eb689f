"""``ember._foreach_*`` against ``torch._foreach_*`` (torch 2.13): every name torch has,
each operand form (scalar, scalar list, tensor list, one tensor, keyword names), in-place
forms updating the tensors and returning the list, and torch's errors for mismatched
lists."""

import ember
import numpy as np
import pytest
import torch
from torch_compare import to_numpy

NAMES = sorted(n for n in dir(torch) if n.startswith("_foreach_"))
UNARY = ["abs", "acos", "asin", "atan", "ceil", "cos", "cosh", "erf", "erfc", "exp", "expm1",
         "floor", "frac", "lgamma", "log", "log10", "log1p", "log2", "neg", "reciprocal",
         "round", "rsqrt", "sigmoid", "sign", "sin", "sinh", "sqrt", "tan", "tanh", "trunc"]
BINARY = ["add", "sub", "mul", "div", "maximum", "minimum", "pow", "clamp_min", "clamp_max"]


def tensors(m, seed=0, lo=0.1, hi=0.9):
    r = np.random.default_rng(seed)
    return [m.tensor(lo + (hi - lo) * r.random((2, 3))),
            m.tensor(lo + (hi - lo) * r.random(4))]


def same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_allclose(to_numpy(x), to_numpy(y), rtol=1e-12, atol=1e-14)


def test_every_torch_foreach_name_exists():
    assert [n for n in NAMES if not hasattr(ember, n)] == []


@pytest.mark.parametrize("op", UNARY)
def test_unary(op):
    outs, inplace = [], []
    for m in (torch, ember):
        outs.append(getattr(m, f"_foreach_{op}")(tensors(m)))
        ts = tensors(m)
        ret = getattr(m, f"_foreach_{op}_")(ts)
        assert ret is ts or ret is None
        inplace.append(ts)
    assert isinstance(outs[1], tuple)
    same(outs[1], outs[0])
    same(inplace[1], inplace[0])


def operands(m, form):
    if form == "scalar":
        return (1.5,), {}
    if form == "scalar_list":
        return ([1.5, 0.25],), {}
    if form == "tensor_list":
        return (tensors(m, seed=1),), {}
    if form == "tensor":
        return (m.tensor(2.5, dtype=m.float64),), {}
    return (tensors(m, seed=1),), {"alpha": 0.5}


# alpha is add/sub's; a single tensor operand is add/sub/mul/div's
BINARY_FORMS = [(op, form) for op in BINARY
                for form in ("scalar", "scalar_list", "tensor_list", "tensor",
                             "tensor_list_alpha")
                if (form != "tensor_list_alpha" or op in ("add", "sub")) and
                (form != "tensor" or op in ("add", "sub", "mul", "div"))]


@pytest.mark.parametrize("op,form", BINARY_FORMS)
def test_binary(op, form):
    outs, inplace = [], []
    for m in (torch, ember):
        args, kw = operands(m, form)
        outs.append(getattr(m, f"_foreach_{op}")(tensors(m), *args, **kw))
        ts = tensors(m)
        args, kw = operands(m, form)
        getattr(m, f"_foreach_{op}_")(ts, *args, **kw)
        inplace.append(ts)
    same(outs[1], outs[0])
    same(inplace[1], inplace[0])


@pytest.mark.parametrize("op", ["addcmul", "addcdiv"])
@pytest.mark.parametrize("value", [1, 0.5, [0.5, -2.0]])
def test_addcmul_addcdiv(op, value):
    outs, inplace = [], []
    for m in (torch, ember):
        a, b = tensors(m, 1), tensors(m, 2)
        outs.append(getattr(m, f"_foreach_{op}")(tensors(m), a, b, value))
        ts = tensors(m)
        getattr(m, f"_foreach_{op}_")(ts, a, b, value)
        inplace.append(ts)
    same(outs[1], outs[0])
    same(inplace[1], inplace[0])


@pytest.mark.parametrize("weight", ["scalar", "tensor_list"])
def test_lerp(weight):
    outs, inplace = [], []
    for m in (torch, ember):
        w = 0.3 if weight == "scalar" else tensors(m, 3)
        outs.append(m._foreach_lerp(tensors(m), tensors(m, 1), w))
        ts = tensors(m)
        m._foreach_lerp_(ts, tensors(m, 1), w)
        inplace.append(ts)
    same(outs[1], outs[0])
    same(inplace[1], inplace[0])


@pytest.mark.parametrize("ord", [1, 2, 3, float("inf")])
def test_norm_powsum_max(ord):
    for name in ("_foreach_norm", "_foreach_powsum"):
        if name == "_foreach_powsum" and ord == float("inf"):
            continue
        same(getattr(ember, name)(tensors(ember, lo=-1), ord),
             getattr(torch, name)(tensors(torch, lo=-1), ord))
    same(ember._foreach_max(tensors(ember)), torch._foreach_max(tensors(torch)))


def test_zero_copy_clone_mm_and_scalar_base_pow():
    for m in (torch, ember):
        ts = tensors(m)
        m._foreach_copy_(ts, tensors(m, 5))
        same(ts, tensors(m, 5))
        clones = m._foreach_clone(ts)
        m._foreach_zero_(ts)
        assert all(float(t.abs().sum()) == 0 for t in ts)
        assert float(clones[0].abs().sum()) > 0
    a = [np.arange(6.0).reshape(2, 3)]
    b = [np.arange(12.0).reshape(3, 4)]
    same(ember._foreach_mm([ember.tensor(x) for x in a], [ember.tensor(x) for x in b]),
         torch._foreach_mm([torch.tensor(x) for x in a], [torch.tensor(x) for x in b]))
    same(ember._foreach_pow(2.0, tensors(ember)), torch._foreach_pow(2.0, tensors(torch)))


def test_mismatched_lists_are_refused_like_torch():
    for m in (torch, ember):
        with pytest.raises(RuntimeError, match="same number of elements as scalar list"):
            m._foreach_add(tensors(m), [1.0])
        with pytest.raises(RuntimeError, match="at least one tensor"):
            m._foreach_add([], 1.0)
