"""The Tensor data model against PyTorch: construction, memory sharing, conversion,
metadata, copies and fills, casts, Python protocols and repr."""

import copy
import pickle

import ember
import numpy as np
import pytest
import torch
from torch_compare import assert_close, compare, compare_raises


@pytest.mark.parametrize("data", [
    [1, 2, 3], [1.0, 2.5], [True, False], [[1, 2], [3, 4]], 3, 2.5, True, [1, 2.5],
    [[True, 1]], [], [[]], [1.0, 2], (4, 5), [np.float64(1.5)], 1 + 2j,
])
def test_tensor_infers_dtype(data, device):
    """ember.tensor infers torch's dtype and shape from Python data."""
    assert_close(ember.tensor(data, device=device), torch.tensor(data))


@pytest.mark.parametrize("dt", ["float64", "float32", "int32", "int64", "uint8", "bool",
                                "float16", "int16", "int8"])
def test_tensor_from_numpy_array_keeps_dtype(dt, device):
    """ember.tensor of a numpy array keeps its dtype (and copies)."""
    a = np.arange(6).reshape(2, 3).astype(dt)
    e = ember.tensor(a, device=device)
    assert_close(e, torch.tensor(a))
    a[0, 0] = 1
    assert e[0, 0].item() == 0 or dt == "bool"


def test_tensor_with_dtype_and_requires_grad(device):
    """tensor(dtype=, requires_grad=) set both."""
    e = ember.tensor([1, 2], dtype=ember.float64, device=device, requires_grad=True)
    assert e.dtype is ember.float64 and e.requires_grad and e.is_leaf


def test_tensor_of_tensors_list(device):
    """tensor([t1, t2]) of 0-dim tensors."""
    e = ember.tensor([ember.tensor(1.5), ember.tensor(2.0)], device=device)
    assert_close(e, torch.tensor([torch.tensor(1.5), torch.tensor(2.0)]))


def test_tensor_ragged_raises(device):
    """A ragged nested list raises ValueError."""
    compare_raises([], lambda m: m.tensor([[1, 2], [3]]), device=device)


def test_from_numpy_shares_memory():
    """from_numpy shares memory both ways and keeps the dtype."""
    a = np.zeros(3, dtype=np.float64)
    t = ember.from_numpy(a)
    a[0] = 1.0
    t[1] = 2.0
    assert t.tolist() == [1.0, 2.0, 0.0] and a[1] == 2.0 and t.dtype is ember.float64


def test_from_numpy_noncontiguous_and_bad_dtype():
    """from_numpy keeps strides of a transposed array; unsupported dtypes raise TypeError."""
    a = np.arange(6.0).reshape(2, 3).T
    t = ember.from_numpy(a)
    assert t.shape == (3, 2) and t.tolist() == a.tolist()
    with pytest.raises(TypeError):
        ember.from_numpy(np.array(["a"]))
    with pytest.raises(TypeError):
        ember.from_numpy([1, 2])


def test_as_tensor_shares_memory():
    """as_tensor shares memory with a numpy array of the same dtype, copies otherwise."""
    a = np.zeros(3, dtype=np.float32)
    t = ember.as_tensor(a)
    a[0] = 1.0
    assert t[0].item() == 1.0
    t2 = ember.as_tensor(a, dtype=ember.float64)
    a[1] = 1.0
    assert t2[1].item() == 0.0
    x = ember.ones(2)
    assert ember.as_tensor(x) is x


def test_numpy_shares_memory():
    """Tensor.numpy() shares memory with the tensor."""
    t = ember.zeros(3)
    a = t.numpy()
    a[0] = 5.0
    assert t[0].item() == 5.0


def test_numpy_force_and_errors(device):
    """numpy(force=True) works on tensors requiring grad."""
    t = ember.ones(2, requires_grad=True)
    assert t.numpy(force=True).tolist() == [1.0, 1.0]


def test_item_and_tolist(device):
    """item() and tolist() give Python numbers of the right type."""
    compare([], lambda m, x: (x.item(), x.long().item(), (x > 0).item()),
            vals=[np.array(1.5)], device=device, grad=False)
    e = ember.tensor([[1.5, 2.0]], device=device)
    assert e.tolist() == [[1.5, 2.0]] and isinstance(e.tolist()[0][0], float)
    assert ember.tensor([1], device=device).tolist() == [1]
    assert isinstance(ember.tensor(3, device=device).item(), int)


def test_item_of_many_elements_raises(device):
    """item() of a tensor with several elements raises."""
    compare_raises([(3,)], lambda m, x: x.item(), device=device)


def test_data_attribute(device):
    """.data is detached, shares memory, and can be assigned."""
    def f(m, x):
        d = x.data
        d.mul_(2)
        x.data = m.ones(3)
        return d.requires_grad, x.detach().clone(), x.requires_grad
    compare([(3,)], f, device=device, grad=True, backward=False)


def test_clone_is_a_copy_in_the_graph(device):
    """clone copies memory and passes gradients through."""
    def f(m, x):
        c = x.clone()
        c2 = c.detach()
        c2.add_(1)
        return c * 2
    compare([(3,)], f, device=device)


def test_copy_(device):
    """copy_ broadcasts and casts; returns self."""
    def f(m, x):
        y = m.zeros(2, 3, dtype=m.float64)
        r = y.copy_(x)
        z = m.zeros(2, 3, dtype=m.int64)
        z.copy_(x * 3)
        return r is y, y, z
    compare([(3,)], f, device=device, grad=False)


def test_copy_shape_mismatch_raises(device):
    """copy_ from a non-broadcastable source raises RuntimeError."""
    compare_raises([(3,)], lambda m, x: m.zeros(2).copy_(x), device=device)


def test_fill_and_zero(device):
    """fill_ and zero_ in place, with a scalar or a 0-dim tensor value."""
    def f(m, x):
        y = x.clone()
        y.fill_(3.5)
        z = x.clone().zero_()
        w = x.long().fill_(2.7)
        v = x.clone().fill_(m.tensor(1.25))
        return y, z, w, v
    compare([(2, 3)], f, device=device, grad=False)


def test_fill_with_tensor_value_gradient(device):
    """fill_ with a 0-dim tensor requiring grad passes the gradient to it."""
    def f(m, x, v):
        y = x * 1
        y.fill_(v.sum())
        return y
    compare([(2, 3), (2,)], f, device=device)


@pytest.mark.parametrize("conv", ["float", "double", "half", "long", "int", "bool", "short",
                                  "byte", "char"])
def test_type_conversion_methods(conv, device):
    """float()/double()/half()/long()/int()/bool()/... convert like torch."""
    compare([(5,)], lambda m, x: getattr(x * 3, conv)(), device=device, grad=conv in (
        "float", "double", "half"), rtol=1e-2 if conv == "half" else None,
        atol=1e-2 if conv == "half" else None)


def test_to_dtype_and_device(device):
    """to(dtype), to(device, dtype), to(other) and the no-op case returning self."""
    x = ember.ones(2, device=device)
    assert x.to(ember.float32) is x and x.to(device) is x
    assert x.to(ember.float64).dtype is ember.float64
    assert x.to(device, ember.int64).dtype is ember.int64
    assert x.to(ember.zeros(1, dtype=ember.float16)).dtype is ember.float16
    assert x.to(dtype=ember.float64, copy=True).dtype is ember.float64
    assert x.to(copy=True) is not x
    assert x.cpu().device.type == "cpu"


def test_to_is_differentiable(device):
    """A dtype cast passes the gradient back, cast to the input's dtype."""
    compare([(3,)], lambda m, x: x.to(m.float64) * 2, device=device)
    compare([(3,)], lambda m, x: x.double().float().half().float(), device=device)


def test_type_method(device):
    """type() names the tensor type; type(dtype or name) casts."""
    compare([(2,)], lambda m, x: (x.type(), x.long().type(), x.type(m.float64),
                                  x.type("torch.IntTensor")),
            grad=False)
    x = ember.zeros(2, device=device)
    prefix = "torch.cuda." if x.is_cuda else "torch."
    assert (x.type(), x.long().type()) == (prefix + "FloatTensor", prefix + "LongTensor")
    assert x.type("torch.IntTensor").device.type == "cpu"  # the CPU type moves it there


def test_new_factories(device):
    """new_zeros/new_ones/new_full/new_empty/new_tensor inherit dtype and device."""
    def f(m, x):
        x = x.double()
        return (x.new_zeros(2, 3), x.new_ones((2,)), x.new_full((2,), 7),
                x.new_empty(3).shape, x.new_tensor([1, 2]), x.new_zeros(2, dtype=m.int32),
                x.new_tensor([1.5]).dtype)
    compare([(3,)], f, device=device, grad=False)


def test_size_object(device):
    """Size is a tuple subclass with torch's repr, numel, slicing and concatenation."""
    s = ember.ones(2, 3, 4, device=device).shape
    assert isinstance(s, tuple) and isinstance(s, ember.Size)
    assert repr(s) == repr(torch.Size([2, 3, 4])).replace("torch.", "")
    assert s.numel() == 24 and isinstance(s[1:], ember.Size) and s[1:] == (3, 4)
    assert s == (2, 3, 4) and s + (5,) == (2, 3, 4, 5) and isinstance(s + (5,), ember.Size)
    assert pickle.loads(pickle.dumps(s)) == s


def test_array_protocol(device):
    """np.asarray(tensor) works (copying from CUDA); dtype argument respected."""
    t = ember.tensor([[1.0, 2.0]], device=device)
    a = np.asarray(t)
    assert a.tolist() == [[1.0, 2.0]] and np.asarray(t, dtype=np.float64).dtype == np.float64


def test_len_and_iter(device):
    """len() is the first dim; iteration yields rows; 0-dim raises TypeError."""
    compare([(3, 2)], lambda m, x: (len(x), list(x)), device=device)
    compare_raises([()], lambda m, x: len(x), device=device)
    compare_raises([()], lambda m, x: iter(x), device=device)


def test_bool_and_number_protocols(device):
    """bool(), float(), int() and index() of one-element tensors."""
    compare([], lambda m, x: (bool(x), float(x), int(x), [10, 20, 30][x.long()]),
            vals=[np.array([1.0])], device=device, grad=False)
    compare_raises([(3,)], lambda m, x: bool(x), device=device)


def test_contains(device):
    """`in` checks elements."""
    t = ember.tensor([1, 2, 3], device=device)
    assert 2 in t and 5 not in t


def test_eq_and_hash(device):
    """== is elementwise; tensors are hashable by identity (usable as dict keys)."""
    a = ember.ones(2, device=device)
    assert (a == a).tolist() == [True, True] and {a: 1}[a] == 1


def test_deepcopy_and_pickle(device):
    """deepcopy copies data and requires_grad; pickling round-trips."""
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = copy.deepcopy(x)
    assert y.tolist() == [1.0, 2.0] and y.requires_grad and y is not x
    y.data.add_(1)
    assert x.tolist() == [1.0, 2.0]
    z = pickle.loads(pickle.dumps(x))
    assert z.tolist() == [1.0, 2.0] and z.requires_grad


def test_deepcopy_nonleaf_raises(device):
    """deepcopy of a non-leaf raises."""
    compare_raises([(2,)], lambda m, x: copy.deepcopy(x * 2), device=device, grad=True)


@pytest.mark.parametrize("make", [
    lambda m: m.tensor([1.5, 2.0, -3.25]),
    lambda m: m.tensor([1, 2, 3]),
    lambda m: m.tensor([True, False]),
    lambda m: m.tensor(2.5),
    lambda m: m.tensor(7),
    lambda m: m.tensor([1.0, 2.0], requires_grad=True),
    lambda m: m.tensor([1.0, 2.0], requires_grad=True) * 2,
    lambda m: m.tensor([1.0, 2.0], requires_grad=True).sum(),
    lambda m: m.tensor([1.0, 2.0], dtype=m.float64),
    lambda m: m.tensor([1, 2], dtype=m.int32),
    lambda m: m.tensor([[1.0, 2.0], [3.0, 4.0]]),
    lambda m: m.tensor([1e-5, 1.0]),
    lambda m: m.tensor([1e10, 1.0]),
    lambda m: m.tensor([]),
    lambda m: m.zeros(0, 3),
    lambda m: m.tensor([float("nan"), float("inf"), 1.0]),
    lambda m: m.tensor([1.0, 2.0], dtype=m.float16),
    lambda m: m.arange(2000.0),
    lambda m: m.tensor([100.0, 2.0]),
    lambda m: m.tensor([1 + 2j, -1.5 - 0.5j]),
    lambda m: m.zeros(3, 200),
    lambda m: m.arange(3000).reshape(30, 100),
    lambda m: m.arange(24.0).reshape(2, 3, 4) / 7 - 1,
    lambda m: m.tensor([-1.0, 0.5, 123.25]),
    lambda m: m.tensor([[1, -20], [100, 4]], dtype=m.int8),
    lambda m: m.tensor([1.5, 2.0], dtype=m.bfloat16),
    lambda m: m.zeros(2, 0, dtype=m.int64),
    lambda m: m.tensor([0.0, 0.0]),
    lambda m: m.tensor(float("nan")),
    lambda m: m.tensor([1e-10, 1e10, 0.0]),
])
def test_repr_like_torch(make):
    """repr matches torch's for floats, ints, bools, 0-dim, requires_grad and grad_fn."""
    want = repr(make(torch)).replace("torch.", "ember.")
    assert repr(make(ember)) == want


def test_set_printoptions():
    """set_printoptions(precision=2) changes the repr like torch's; profile resets it."""
    try:
        for m in (torch, ember):
            m.set_printoptions(precision=2)
        assert repr(ember.tensor([1.23456, 2.0])) == repr(torch.tensor([1.23456, 2.0]))
    finally:
        for m in (torch, ember):
            m.set_printoptions(profile="default")


def test_is_contiguous_and_storage(device):
    """is_contiguous, data_ptr sharing of views, element_size and nbytes."""
    compare([(3, 4)], lambda m, x: (x.is_contiguous(), x.t().is_contiguous(),
                                    x.element_size(), x.nbytes, x.storage_offset(),
                                    x[1].storage_offset(), x.t().contiguous().is_contiguous()),
            device=device, grad=False)
    x = ember.zeros(3, 4, device=device)
    assert x[0].data_ptr() == x.data_ptr()


def test_metadata_predicates(device):
    """is_floating_point, is_complex, is_leaf, dim, ndim, ndimension, nelement."""
    compare([(2, 3)], lambda m, x: (x.is_floating_point(), x.long().is_floating_point(),
                                    x.is_complex(), m.is_tensor(x), m.is_floating_point(x),
                                    x.ndim, x.ndimension(), x.nelement(), m.numel(x)),
            device=device, grad=False)


def test_device_attributes(device):
    """device, is_cuda, get_device."""
    x = ember.ones(2, device=device)
    assert str(x.device).startswith(device) and x.is_cuda == (device != "cpu")
    assert x.get_device() == (-1 if device == "cpu" else 0)


def test_T_and_mT_and_H(device):
    """T, mT and H properties."""
    compare([(2, 3)], lambda m, x: (x.T, x.mT, x.H), device=device)


def test_legacy_constructor(device):
    """ember.Tensor(sizes) and ember.Tensor(data) build float tensors."""
    assert_close(ember.Tensor(2, 3), torch.Tensor(2, 3).zero_())
    assert_close(ember.Tensor([1, 2]), torch.Tensor([1, 2]))
    assert ember.Tensor().shape == (0,)


def test_grad_of_leaf_is_none_initially(device):
    """A fresh leaf has .grad None."""
    x = ember.ones(2, device=device, requires_grad=True)
    assert x.grad is None and x.requires_grad


def test_format(device):
    """f-string formatting of 0-dim tensors as numbers."""
    assert f"{ember.tensor(1.23456, device=device):.2f}" == "1.23"


@pytest.mark.parametrize("fn", [lambda m: m.tensor([None]), lambda m: m.tensor("abc"),
                                lambda m: int(m.ones(2)), lambda m: float(m.ones(2)),
                                lambda m: m.ones(2).item(), lambda m: bool(m.ones(0)),
                                lambda m: m.ones(2, dtype=m.long).__index__(),
                                lambda m: m.tensor([1.5]).__index__()])
def test_conversion_errors(fn, device):
    """Bad data and multi-element scalar conversions raise what torch raises."""
    compare_raises([], fn, device=device)
