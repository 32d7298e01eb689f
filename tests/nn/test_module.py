"""``nn.Module`` bookkeeping against PyTorch's behaviour: registration through
``__setattr__``, dotted names, state_dict round trips and errors, buffers, modes, hooks,
conversion, copying and pickling."""

import copy
import pickle
from collections import OrderedDict

import ember
import ember.nn as nn
import numpy as np
import pytest
import torch
from nn_compare import assert_close, em, load_from_torch, randn, tnp


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 5)
        self.block = nn.Sequential(nn.Linear(5, 5), nn.ReLU(), nn.BatchNorm1d(5))
        self.scale = nn.Parameter(ember.ones(1))
        self.register_buffer("steps", ember.zeros(1))
        self.register_buffer("cache", ember.zeros(2), persistent=False)

    def forward(self, x):
        return self.block(self.fc1(x)) * self.scale


class TNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(4, 5)
        self.block = torch.nn.Sequential(torch.nn.Linear(5, 5), torch.nn.ReLU(),
                                         torch.nn.BatchNorm1d(5))
        self.scale = torch.nn.Parameter(torch.ones(1))
        self.register_buffer("steps", torch.zeros(1))
        self.register_buffer("cache", torch.zeros(2), persistent=False)

    def forward(self, x):
        return self.block(self.fc1(x)) * self.scale


def test_setattr_registers_parameters_buffers_and_modules():
    m = Net()
    assert set(m._parameters) == {"scale"}
    assert set(m._buffers) == {"steps", "cache"}
    assert set(m._modules) == {"fc1", "block"}
    assert isinstance(m.scale, nn.Parameter) and m.scale.requires_grad


def test_names_and_state_dict_keys_match_torch():
    m, t = Net(), TNet()
    assert [n for n, _ in m.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in m.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert [n for n, _ in m.named_modules()] == [n for n, _ in t.named_modules()]
    assert [n for n, _ in m.named_children()] == [n for n, _ in t.named_children()]
    assert list(m.state_dict()) == list(t.state_dict())


def test_named_members_prefix_recurse_and_duplicates():
    lin = nn.Linear(2, 2)
    m = nn.Sequential(lin, lin)
    assert [n for n, _ in m.named_parameters()] == ["0.weight", "0.bias"]
    assert [n for n, _ in m.named_parameters(remove_duplicate=False)] == \
        ["0.weight", "0.bias", "1.weight", "1.bias"]
    assert [n for n, _ in m.named_parameters(prefix="net")] == ["net.0.weight", "net.0.bias"]
    assert list(m.named_parameters(recurse=False)) == []
    assert [n for n, _ in m.named_modules(remove_duplicate=False)] == ["", "0", "1"]
    assert len(list(m.parameters())) == 2


def test_state_dict_is_detached_and_keep_vars():
    m = nn.Linear(3, 2)
    sd = m.state_dict()
    assert not sd["weight"].requires_grad
    assert sd["weight"].data_ptr() == m.weight.data_ptr()
    assert m.state_dict(keep_vars=True)["weight"] is m.weight
    assert m.state_dict()._metadata[""] == {"version": 1}


def test_load_state_dict_round_trip_from_torch():
    t = TNet()
    m = load_from_torch(Net(), t)
    x = randn(6, 4)
    t.eval()
    m.eval()
    assert_close(m(em(x)), t(torch.tensor(x)))


def test_load_state_dict_reports_missing_and_unexpected():
    m = nn.Linear(3, 2)
    sd = {"weight": ember.zeros(2, 3), "extra": ember.zeros(1)}
    r = m.load_state_dict(sd, strict=False)
    assert r.missing_keys == ["bias"] and r.unexpected_keys == ["extra"]
    assert float(m.weight.abs().sum()) == 0
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "bias"'):
        m.load_state_dict(sd)
    with pytest.raises(RuntimeError, match=r'Unexpected key\(s\) in state_dict: "extra"'):
        m.load_state_dict(sd)
    ok = m.load_state_dict(nn.Linear(3, 2).state_dict())
    assert repr(ok) == "<All keys matched successfully>"


def test_load_state_dict_shape_mismatch_is_a_clear_error():
    m = nn.Linear(3, 2)
    with pytest.raises(RuntimeError, match=r"size mismatch for weight: copying a param with "
                                            r"shape .*\[4, 3\].* the shape in current model "
                                            r"is .*\[2, 3\]"):
        m.load_state_dict({"weight": ember.zeros(4, 3), "bias": ember.zeros(2)})


def test_load_state_dict_assign_keeps_requires_grad():
    m = nn.Linear(3, 2)
    w = ember.ones(2, 3)
    m.load_state_dict({"weight": w, "bias": ember.zeros(2)}, assign=True)
    assert isinstance(m.weight, nn.Parameter) and m.weight.requires_grad
    assert m.weight.data_ptr() == w.data_ptr()


def test_persistent_and_non_persistent_buffers():
    m = Net()
    assert "cache" not in m.state_dict() and "steps" in m.state_dict()
    m.cache = ember.ones(2)  # reassigning keeps it a non-persistent buffer
    assert "cache" in m._buffers and "cache" not in m.state_dict()
    m.extra = nn.Buffer(ember.ones(3), persistent=False)
    assert "extra" in m._buffers and "extra" not in m.state_dict()
    m.extra2 = nn.Buffer(ember.ones(3))
    assert "extra2" in m.state_dict()


def test_assignment_errors_match_torch():
    m = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="cannot assign .* as parameter 'weight'"):
        m.weight = ember.zeros(2, 2)
    with pytest.raises(KeyError):
        m.register_buffer("a.b", ember.zeros(1))
    with pytest.raises(KeyError, match="already exists"):
        m.register_parameter("training", nn.Parameter(ember.zeros(1)))

    class Early(nn.Module):
        def __init__(self):
            self.p = nn.Parameter(ember.zeros(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        m.nothing  # noqa: B018


def test_delattr_and_none_registration():
    m = nn.Linear(2, 2, bias=False)
    assert m.bias is None and "bias" not in m.state_dict()
    del m.weight
    assert "weight" not in m._parameters


def test_train_eval_and_requires_grad():
    m = Net()
    m.eval()
    assert not any(x.training for x in m.modules())
    m.train()
    assert all(x.training for x in m.modules())
    with pytest.raises(ValueError):
        m.train("yes")
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())


def test_zero_grad():
    m = nn.Linear(3, 2)
    m(ember.randn(4, 3)).sum().backward()
    m.zero_grad(set_to_none=False)
    assert float(m.weight.grad.abs().sum()) == 0
    m.zero_grad()
    assert m.weight.grad is None


def test_to_float_double_half_and_type():
    m = Net()
    m.double()
    assert m.fc1.weight.dtype == ember.float64 and m.steps.dtype == ember.float64
    m.to(ember.float32)
    assert m.fc1.weight.dtype == ember.float32
    assert m.block[2].num_batches_tracked.dtype == ember.int64  # integers never cast
    m.half()
    assert m.fc1.weight.dtype == ember.float16
    m.float()
    w = m.fc1.weight
    m.to("cpu")
    assert m.fc1.weight is w  # parameters are converted in place
    m.type(ember.float64)
    assert m.fc1.bias.dtype == ember.float64
    with pytest.raises(TypeError):
        m.to(ember.int64)


def test_apply_and_get_submodule_parameter_buffer():
    m = Net()
    seen = []
    m.apply(lambda mod: seen.append(type(mod).__name__))
    assert seen[-1] == "Net" and seen[0] == "Linear"
    assert m.get_submodule("block.0") is m.block[0]
    assert m.get_parameter("block.0.weight") is m.block[0].weight
    assert m.get_buffer("block.2.running_mean") is m.block[2].running_mean
    with pytest.raises(AttributeError, match="has no attribute `nope`"):
        m.get_submodule("block.nope")
    with pytest.raises(AttributeError, match="is not an nn.Parameter"):
        m.get_parameter("block.2.running_mean")
    m.set_submodule("block.1", nn.Tanh())
    assert isinstance(m.block[1], nn.Tanh)


def test_add_and_register_module():
    m = nn.Module()
    m.add_module("a", nn.ReLU())
    m.register_module("b", nn.Tanh())
    assert list(m._modules) == ["a", "b"]
    with pytest.raises(TypeError):
        m.add_module("c", 3)


def test_forward_pre_and_forward_hooks_with_removable_handles():
    m = nn.Linear(3, 3)
    calls = []
    h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
    h2 = m.register_forward_hook(lambda mod, args, out: calls.append(out.shape) or out + 1)
    x = ember.ones(1, 3)
    y = m(x)
    ref = ember.nn.functional.linear(x * 2, m.weight, m.bias) + 1
    assert_close(y, ref)
    assert calls == [ember.Size([1, 3])]
    h1.remove()
    h2.remove()
    assert_close(m(x), ember.nn.functional.linear(x, m.weight, m.bias))
    h3 = m.register_forward_pre_hook(lambda mod, args, kwargs: ((args[0] * 0,), kwargs),
                                     with_kwargs=True)
    assert_close(m(x), m.bias.unsqueeze(0))
    h3.remove()


def test_full_backward_hook_sees_grads_like_torch():
    x = randn(2, 3)
    got, ref = {}, {}
    m, t = nn.Linear(3, 4), torch.nn.Linear(3, 4)
    load_from_torch(m, t)

    def hook(store):
        def f(mod, gin, gout):
            store["gin"] = [tnp(g) for g in gin]
            store["gout"] = [tnp(g) for g in gout]
            return (gin[0] * 2,)
        return f

    m.register_full_backward_hook(hook(got))
    t.register_full_backward_hook(hook(ref))
    ex, tx = em(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    m(ex).sum().backward()
    t(tx).sum().backward()
    assert_close(got["gin"][0], ref["gin"][0])
    assert_close(got["gout"][0], ref["gout"][0])
    assert_close(ex.grad, tx.grad)  # the hook's replacement gradient arrived
    assert_close(m.weight.grad, t.weight.grad)


def test_full_backward_pre_hook_can_replace_grad_output():
    m = nn.Linear(2, 2)
    m.register_full_backward_pre_hook(lambda mod, gout: (gout[0] * 0,))
    x = ember.randn(3, 2, requires_grad=True)
    m(x).sum().backward()
    assert float(x.grad.abs().sum()) == 0 and float(m.weight.grad.abs().sum()) == 0


def test_state_dict_and_load_hooks():
    m = nn.Linear(2, 2)
    m._register_state_dict_hook(lambda mod, sd, prefix, meta: sd.update(extra=1))
    assert m.state_dict()["extra"] == 1
    seen = []
    m._register_load_state_dict_pre_hook(lambda sd, prefix, *a: seen.append(prefix))
    m.load_state_dict(nn.Linear(2, 2).state_dict())
    assert seen == [""]


def test_repr_matches_torch():
    m, t = Net(), TNet()
    assert "T" + repr(m) == repr(t)
    assert repr(nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False)) == \
        repr(torch.nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False))
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)] + [nn.ReLU()])
    tl = torch.nn.ModuleList([torch.nn.Linear(2, 2) for _ in range(3)] + [torch.nn.ReLU()])
    assert repr(ml) == repr(tl)


def test_deepcopy_copies_parameters_and_shares_nothing():
    m = Net()
    m2 = copy.deepcopy(m)
    assert m2.fc1.weight is not m.fc1.weight
    assert isinstance(m2.fc1.weight, nn.Parameter) and m2.fc1.weight.requires_grad
    assert_close(m2.fc1.weight, m.fc1.weight)
    m2.fc1.weight.data.fill_(0)
    assert float(m.fc1.weight.abs().sum()) > 0
    lin = nn.Linear(2, 2)
    tied = copy.deepcopy(nn.Sequential(lin, lin))
    assert tied[0].weight is tied[1].weight


def test_pickle_whole_module():
    m = Net()
    m.eval()
    m2 = pickle.loads(pickle.dumps(m))
    x = ember.randn(3, 4)
    assert_close(m2(x), m(x))
    assert isinstance(m2.scale, nn.Parameter) and m2.scale.requires_grad
    assert "cache" in m2._non_persistent_buffers_set


def test_parameter_basics():
    t = ember.randn(3)
    p = nn.Parameter(t)
    assert p.requires_grad and p.data_ptr() == t.data_ptr()
    assert repr(p).startswith("Parameter containing:")
    assert not nn.Parameter(t, requires_grad=False).requires_grad
    assert type(p * 2) is ember.Tensor
    with ember.no_grad():
        assert nn.Parameter(t).requires_grad


def test_lazy_linear_materializes_on_first_call():
    m = nn.LazyLinear(4)
    y = m(ember.randn(2, 7))
    assert y.shape == (2, 4) and m.weight.shape == (4, 7) and type(m) is nn.Linear


def test_incompatible_keys_is_a_namedtuple():
    r = nn.Linear(1, 1).load_state_dict(OrderedDict(weight=ember.zeros(1, 1),
                                                    bias=ember.zeros(1)))
    missing, unexpected = r
    assert missing == [] and unexpected == []


def test_module_on_device(device):
    m = Net().to(device)
    x = ember.randn(4, 4).to(device)
    y = m(x)
    assert y.device.type == ember.device(device).type
    y.sum().backward()
    assert m.fc1.weight.grad.device == y.device
    assert np.isfinite(tnp(m.fc1.weight.grad)).all()
