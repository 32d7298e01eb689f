"""Containers against PyTorch: Sequential, ModuleList, ModuleDict, ParameterList,
ParameterDict."""

from collections import OrderedDict

import ember
import ember.nn as nn
import pytest
import torch
from nn_compare import assert_close, check_module, randn


def _names(m):
    return list(m._modules)


def test_sequential_forward_and_keys_match_torch(device):
    e = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 2))
    t = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, 2))
    check_module(e, t, randn(5, 4), device=device)
    od = nn.Sequential(OrderedDict(a=nn.Linear(2, 2), b=nn.ReLU()))
    assert list(od.state_dict()) == ["a.weight", "a.bias"]


def test_sequential_indexing_slicing_and_editing():
    layers = [nn.Linear(2, 2), nn.ReLU(), nn.Tanh(), nn.Sigmoid()]
    s = nn.Sequential(*layers)
    assert s[0] is layers[0] and s[-1] is layers[3]
    sub = s[1:3]
    assert isinstance(sub, nn.Sequential) and list(sub) == layers[1:3]
    assert _names(sub) == ["1", "2"]  # slicing keeps the keys, as PyTorch
    with pytest.raises(IndexError):
        s[4]
    s.append(nn.ReLU())
    assert len(s) == 5
    s.insert(0, nn.Identity())
    assert isinstance(s[0], nn.Identity) and s[1] is layers[0] and _names(s) == \
        [str(i) for i in range(6)]
    del s[0]
    assert s[0] is layers[0] and _names(s) == [str(i) for i in range(5)]
    del s[1:3]
    assert list(s)[1] is layers[3] and _names(s) == ["0", "1", "2"]
    s.extend([nn.ReLU(), nn.ReLU()])
    assert len(s) == 5
    s[0] = nn.Identity()
    assert isinstance(s[0], nn.Identity)
    popped = s.pop(1)
    assert popped is layers[3] and len(s) == 4
    assert len(s + nn.Sequential(nn.ReLU())) == 5
    assert len(nn.Sequential(nn.ReLU()) * 3) == 3


def test_module_list():
    ml = nn.ModuleList([nn.Linear(2, 2), nn.ReLU()])
    ml.append(nn.Tanh())
    ml.extend([nn.Sigmoid()])
    ml.insert(1, nn.Identity())
    assert [type(m).__name__ for m in ml] == ["Linear", "Identity", "ReLU", "Tanh", "Sigmoid"]
    assert isinstance(ml[1:3], nn.ModuleList) and len(ml[1:3]) == 2
    del ml[0]
    assert _names(ml) == ["0", "1", "2", "3"]
    ml += [nn.ReLU()]
    assert len(ml) == 5 and list(ml.state_dict()) == []
    t = torch.nn.ModuleList([torch.nn.Linear(2, 2) for _ in range(2)])
    e = nn.ModuleList([nn.Linear(2, 2) for _ in range(2)])
    assert list(e.state_dict()) == list(t.state_dict())
    with pytest.raises(IndexError):
        ml[10]


def test_module_dict():
    md = nn.ModuleDict({"b": nn.Linear(2, 2), "a": nn.ReLU()})
    assert list(md.keys()) == ["b", "a"]
    md["c"] = nn.Tanh()
    assert "c" in md and len(md) == 3
    assert md.pop("a").__class__ is nn.ReLU
    md.update([("d", nn.Sigmoid())])
    assert list(md) == ["b", "c", "d"]
    assert list(md.state_dict()) == ["b.weight", "b.bias"]
    md.clear()
    assert len(md) == 0


def test_parameter_list_and_dict_register_parameters():
    pl = nn.ParameterList([ember.ones(2), nn.Parameter(ember.zeros(3))])
    pl.append(ember.ones(1))
    assert all(isinstance(p, nn.Parameter) for p in pl)
    assert [n for n, _ in pl.named_parameters()] == ["0", "1", "2"]
    assert len(pl[0:2]) == 2
    tpl = torch.nn.ParameterList([torch.ones(2), torch.zeros(3)])
    assert repr(nn.ParameterList([ember.ones(2), ember.zeros(3)])) == \
        repr(tpl).replace("torch.float32", "ember.float32")
    pd = nn.ParameterDict({"w": ember.ones(2)})
    pd["b"] = ember.zeros(1)
    assert isinstance(pd["w"], nn.Parameter)
    assert [n for n, _ in pd.named_parameters()] == ["w", "b"]
    assert list(pd.keys()) == ["w", "b"] and "b" in pd
    assert pd.pop("b").shape == (1,)
    assert pd.get("zzz") is None
    with pytest.raises(RuntimeError):
        pl(ember.ones(1))


def test_containers_nested_state_dict_and_load(device):
    def build(nnm):
        return nnm.Sequential(nnm.ModuleList([nnm.Linear(3, 3), nnm.Linear(3, 3)]),
                              nnm.ModuleDict({"head": nnm.Linear(3, 1)}))

    e, t = build(nn), build(torch.nn)
    assert list(e.state_dict()) == list(t.state_dict())
    from nn_compare import load_from_torch

    load_from_torch(e, t, device)
    x = randn(2, 3)
    ye = e[1]["head"](e[0][1](e[0][0](ember.from_numpy(x).to(device))))
    yt = t[1]["head"](t[0][1](t[0][0](torch.tensor(x))))
    assert_close(ye, yt)
