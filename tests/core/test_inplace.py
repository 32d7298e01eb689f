"""In-place ops against PyTorch: values, version counters, gradients through in-place
updates of non-leaf tensors and of their views, and the errors PyTorch raises."""

import ember
import numpy as np
import pytest
from torch_compare import compare, compare_raises, to_numpy

INPLACE = {
    "add_": lambda y, o: y.add_(o),
    "add_alpha": lambda y, o: y.add_(o, alpha=-2),
    "sub_": lambda y, o: y.sub_(o),
    "mul_": lambda y, o: y.mul_(o),
    "div_": lambda y, o: y.div_(o.abs() + 1),
    "pow_": lambda y, o: y.abs().pow_(2),
    "iadd": lambda y, o: y.__iadd__(o),
    "isub": lambda y, o: y.__isub__(o),
    "imul": lambda y, o: y.__imul__(o),
    "itruediv": lambda y, o: y.__itruediv__(2.0),
    "ipow": lambda y, o: y.__ipow__(2),
    "scalar_add_": lambda y, o: y.add_(1.5),
    "scalar_mul_": lambda y, o: y.mul_(3),
    "neg_": lambda y, o: y.neg_(),
    "exp_": lambda y, o: y.exp_(),
    "sigmoid_": lambda y, o: y.sigmoid_(),
    "tanh_": lambda y, o: y.tanh_(),
    "relu_": lambda y, o: y.relu_(),
    "clamp_": lambda y, o: y.clamp_(-0.5, 0.5),
    "clamp_min_": lambda y, o: y.clamp_min_(0.1),
    "sqrt_": lambda y, o: y.abs().sqrt_(),
    "abs_": lambda y, o: y.abs_(),
    "masked_fill_": lambda y, o: y.masked_fill_(o > 0, 0.5),
    "copy_": lambda y, o: y.copy_(o * 2),
    "copy_broadcast": lambda y, o: y.copy_(o[0]),
    "fill_": lambda y, o: y.fill_(2.0),
    "zero_": lambda y, o: y.zero_(),
    "lerp_": lambda y, o: y.lerp_(o, 0.25),
    "addcmul_": lambda y, o: y.addcmul_(o, o, value=0.5),
    "floor_": lambda y, o: y.floor_(),
    "index_fill_like": lambda y, o: y.__setitem__((slice(None), 1), 0.0),
    "chain": lambda y, o: y.mul_(2).add_(o).sub_(1.0),
}


def _on_copy(fn):
    def f(m, x, o):
        y = x * 1.0  # a non-leaf, so in-place ops are recorded
        r = fn(y, o)
        return y, r
    return f


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_with_graph(name, device):
    """In-place op on a non-leaf: value, returned tensor and gradients to both inputs."""
    compare([(3, 4), (3, 4)], _on_copy(INPLACE[name]), device=device)


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_without_graph(name, device):
    """In-place op with no autograd: same values as torch, result is self."""
    def f(m, x, o):
        y = x.clone()
        r = INPLACE[name](y, o)
        assert r is y or name in ("pow_", "sqrt_", "index_fill_like")
        return y, r
    compare([(3, 4), (3, 4)], f, device=device, grad=False)


def test_inplace_under_no_grad_on_leaf(device):
    """Under no_grad an in-place update of a leaf requiring grad is allowed (optimizer)."""
    def f(m, w, g):
        with m.no_grad():
            w.sub_(0.1 * g)
            w.mul_(0.9)
        return w.detach().clone(), w.requires_grad, w.is_leaf
    compare([(3,), (3,)], f, device=device, grad=False)


def test_inplace_on_leaf_raises(device):
    """In-place op on a leaf that requires grad raises."""
    compare_raises([(3,)], lambda m, x: x.add_(1), device=device, grad=True,
                   match="leaf")
    compare_raises([(3,)], lambda m, x: x.zero_(), device=device, grad=True)


def test_inplace_on_view_of_leaf_raises(device):
    """In-place op on a view of a leaf that requires grad raises."""
    compare_raises([(3, 4)], lambda m, x: x[0].mul_(2), device=device, grad=True)


def test_inplace_column_of_nonleaf(device):
    """x[:, 0] *= 2 on a non-leaf gives torch's gradient."""
    def f(m, x):
        y = x * 1
        y[:, 0] *= 2
        return y
    compare([(3, 4)], f, device=device)


def test_inplace_row_view_mul(device):
    """y = x[0]; y.mul_(2) updates the base's graph."""
    def f(m, x):
        z = x * 2
        y = z[0]
        y.mul_(2)
        return z, y
    compare([(3, 4)], f, device=device)


def test_inplace_view_of_saved_output_raises(device):
    """y = x.exp()[0]; y.mul_(2) then backward raises: exp saved its output."""
    def f(m, x):
        z = x.exp()
        z[0].mul_(2)
        z.sum().backward()
    compare_raises([(3, 4)], f, device=device, grad=True)


def test_inplace_view_then_base_used(device):
    """A view modified in place, then the base used in another op."""
    def f(m, x, w):
        z = x * 1
        z[1:, :2].add_(w[1:, :2] ** 2)
        return (z * z).sum(0)
    compare([(3, 4), (3, 4)], f, device=device)


def test_inplace_on_transposed_view(device):
    """In-place on a transposed view of a non-leaf."""
    def f(m, x, w):
        z = x + 0
        z.t().mul_(w.t())
        return z
    compare([(3, 4), (3, 4)], f, device=device)


def test_inplace_on_view_of_view(device):
    """In-place through two levels of views."""
    def f(m, x):
        z = x * x
        v = z[1:][:, 1:]
        v[0].mul_(3)
        return z
    compare([(3, 4)], f, device=device)


def test_view_sees_base_inplace(device):
    """A view taken before an in-place change of its base sees the new values and grads."""
    def f(m, x):
        z = x * 1
        v = z[0]
        z.mul_(2)
        return v * 3
    compare([(3, 4)], f, device=device)


def test_inplace_relu_after_matmul(device):
    """The common y = relu_(x @ w) pattern."""
    compare([(2, 3), (3, 4)], lambda m, x, w: (x @ w).relu_(), device=device)


def test_inplace_saved_tensor_modified_raises(device):
    """Modifying a tensor saved for backward raises at backward time."""
    def f(m, x):
        y = x * 1
        z = y * y  # saves y
        y.add_(1)
        z.sum().backward()
    compare_raises([(3,)], f, device=device, grad=True)


def test_inplace_saved_output_modified_raises(device):
    """Modifying an op's saved output (exp) in place raises at backward time."""
    def f(m, x):
        y = x.exp()
        y.add_(1)
        y.sum().backward()
    compare_raises([(3,)], f, device=device, grad=True, match="inplace")


def test_inplace_unsaved_tensor_is_fine(device):
    """Modifying a tensor that backward doesn't need is fine (add saves nothing)."""
    def f(m, x):
        y = x * 1
        z = y + 2
        y.mul_(3)
        return z, y
    compare([(3,)], f, device=device)


def test_version_counter(device):
    """_version increases with each in-place op and is shared by views."""
    import torch

    for m in (torch, ember):
        x = m.zeros(3) if m is torch else m.zeros(3, device=device)
        v = x[1:]
        x.add_(1)
        v.mul_(2)
        x[0] = 5
        assert x._version == v._version == 3


def test_data_has_its_own_version_counter(device):
    """In-place writes through ``.data`` are hidden from autograd (``.data`` has a version
    counter of its own, unlike ``detach()``): a tensor a graph saved can be refilled through
    it, as torchdiffeq's Runge-Kutta scratch buffer is, and backward still runs."""
    import torch

    results = []
    for m in (torch, ember):
        w = m.tensor([1.0, 2.0, 3.0], requires_grad=True, device="cpu" if m is torch else device)
        k = (w * 0).detach()
        k.requires_grad_(True)
        y = (k[:2] * k[:2]).sum() + (w * k).sum()
        d = k.data
        d[2] = 7.0
        versions = (k._version, d._version)
        y.backward()
        results.append([versions, to_numpy(w.grad), to_numpy(k.grad)])
        e = k.detach()  # shares the counter: its writes do count
        e[0] = 0.0
        results[-1][0] += (k._version, e._version)
    assert results[1][0] == results[0][0] == (0, 1, 1, 1)
    np.testing.assert_array_equal(results[1][1], results[0][1])
    np.testing.assert_array_equal(results[1][2], results[0][2])


def test_inplace_dtype_cannot_downcast(device):
    """An int tensor can't take a float result in place."""
    compare_raises([(3,)], lambda m, x: x.add_(1.5), dtype="int64", device=device)
    compare_raises([(3,), (3,)], lambda m, x, y: x.mul_(y), dtype=["int64", "float32"],
                   device=device)


def test_inplace_int_ops_keep_dtype(device):
    """In-place ops on int tensors keep the dtype (add_, mul_ by int, floor_divide_)."""
    def f(m, x):
        y = x.clone()
        y.add_(2)
        y.mul_(3)
        y //= 2
        y %= 5
        return y
    compare([(4,)], f, dtype="int64", device=device)


def test_inplace_float_tensor_with_double_other(device):
    """float32.add_(float64 tensor) keeps float32."""
    compare([(3,), (3,)], lambda m, x, y: x.clone().add_(y.double()), device=device,
            grad=False)


def test_inplace_broadcast_shape_mismatch_raises(device):
    """In-place op whose result would have another shape raises."""
    compare_raises([(3,), (2, 3)], lambda m, x, y: x.add_(y), device=device)


def test_inplace_on_expanded_raises(device):
    """Writing in place to an expanded tensor raises (elements share memory)."""
    compare_raises([(1, 3)], lambda m, x: x.expand(2, 3).add_(1), device=device)


def test_comparison_inplace(device):
    """eq_/lt_ keep self's dtype."""
    compare([(4,), (4,)], lambda m, x, y: (x.clone().lt_(y), x.clone().eq_(x)),
            device=device, grad=False)


def test_inplace_returns_self_and_grad_fn(device):
    """An in-place op returns self, and self's grad_fn is the new node."""
    x = ember.ones(3, device=device, requires_grad=True)
    y = x * 2
    r = y.mul_(3)
    assert r is y and y.grad_fn.name() == "MulBackward0"
    y.sum().backward()
    np.testing.assert_allclose(np.asarray(x.grad.cpu()), [6.0, 6.0, 6.0])


def test_uniform_normal_inplace_fill(device):
    """uniform_/normal_ fill in place with the right bounds and moments."""
    ember.manual_seed(0)
    x = ember.empty(20000, device=device)
    x.uniform_(-2, 3)
    a = np.asarray(x.cpu())
    assert a.min() >= -2 and a.max() < 3 and abs(a.mean() - 0.5) < 0.05
    x.normal_(1.0, 2.0)
    a = np.asarray(x.cpu())
    assert abs(a.mean() - 1.0) < 0.05 and abs(a.std() - 2.0) < 0.05


def test_setitem_from_own_row(device):
    """y[0] = y[1] * 2 on a non-leaf: the product didn't need y's old value, no error."""
    def f(m, x):
        y = x * 1
        y[0] = y[1] * 2
        return y
    compare([(3, 4)], f, device=device)


def test_setitem_into_zeros_collects_gradients(device):
    """Writing tensors requiring grad into a zeros buffer (by index and by view add_)."""
    def f(m, x, w):
        y = m.zeros(2, 3)
        y[0] = w[0]
        y[1, 1:] = w[1, :2] * 3
        z = m.zeros(2, 3)
        z[:, 0].add_(x[:, 0])
        return y, z
    compare([(2, 3), (2, 3)], f, device=device)


def test_view_of_plain_base_requires_grad_after_copy(device):
    """A view of a buffer that later receives (in place) a value requiring grad requires
    grad too, and its gradient flows."""
    def f(m, x, w):
        z = m.zeros(3)
        v = z[1:]
        z.copy_(w)
        return v * 2
    compare([(3,), (3,)], f, device=device)


def test_view_read_after_base_zeroed(device):
    """A view read after its base was zeroed in place sees the zeros and a zero gradient."""
    def f(m, x):
        z = x * 1
        z2 = z[0]
        z.zero_()
        return z2 + 1
    compare([(2, 3)], f, device=device)


def test_exp_on_slice_in_place(device):
    """exp_ on a slice of a non-leaf (the op saves its output, here the slice)."""
    def f(m, x):
        y = x * 1
        a = y[:, 1:]
        a.exp_()
        return y, a
    compare([(2, 3)], f, device=device)


def test_inplace_on_unbind_output_is_allowed(device):
    """ember allows in-place on an unbind/chunk output (PyTorch raises) and the gradient
    equals PyTorch's for the same update done through indexing (docs/compatibility.md)."""
    import ember as em

    def f(m, x, w):
        y = x * 1
        if m is em:
            a, _ = y.unbind(0)
            a.mul_(2)
            _, b = y.chunk(2, 1)
            b.add_(w[:, 2:])
        else:
            y[0] *= 2
            y[:, 2:] += w[:, 2:]
        return y * w
    compare([(2, 4), (2, 4)], f, device=device)


def test_inplace_self_product_is_allowed(device):
    """y.mul_(y) on a non-leaf gives the gradient of y * y (PyTorch raises at backward)."""
    import ember as em

    def f(m, x):
        y = x * 1
        if m is em:
            y.mul_(y)
            return y
        return y * y
    compare([(3,)], f, device=device)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_add_sub_alpha_fast_path_without_graph(dtype, device):
    """add_/sub_ with alpha outside the graph (the optimizers' update): values as torch's
    for contiguous, transposed, view and self-aliasing operands; the base of a view sees
    the update; the version counter moves."""
    def f(m, x, o):
        x, o = x.to(getattr(m, dtype)), o.to(getattr(m, dtype))
        a = x.clone()
        a.add_(o, alpha=-0.1)
        b = x.clone()
        b.sub_(o, alpha=2.5)
        c = x.clone().t()
        c.add_(o.t(), alpha=0.5)  # non-contiguous operands
        d = x.clone()
        d[1].add_(o[0], alpha=3)  # a row view: the base changes too
        e = x.clone()
        v0 = e._version
        e.add_(e, alpha=2)  # other aliases self
        return a, b, c, d, e, e._version - v0
    compare([(3, 4), (3, 4)], f, device=device, grad=False)


def test_add_alpha_float_on_int_raises(device):
    """A float alpha on integer tensors raises as torch does, fast path or not."""
    compare_raises([(3,)], lambda m, x: x.long().add_(x.long(), alpha=0.5), device=device)
