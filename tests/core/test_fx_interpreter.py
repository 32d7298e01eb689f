"""ember.fx GraphModule editing, Interpreter, Transformer, ShapeProp, replace_pattern and
Tracer customisation."""

import copy
import operator
import pickle

import ember
import ember.nn as nn
import ember.nn.functional as F
import numpy as np
import pytest
import torch
import torch.fx
from ember.fx.passes.shape_prop import ShapeProp, TensorMetadata


def _np(t):
    return t.detach().numpy()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        x = F.relu(self.bn(self.conv(x)))
        x = F.adaptive_avg_pool2d(x, 1)
        return self.fc(ember.flatten(x, 1)), x.shape[1]


def _traced():
    ember.manual_seed(0)
    model = Net().eval()
    return model, ember.fx.symbolic_trace(model)


def test_interpreter_runs_graph_like_the_module():
    model, gm = _traced()
    x = ember.randn(2, 3, 5, 5)
    out, c = ember.fx.Interpreter(gm).run(x)
    ref, rc = model(x)
    np.testing.assert_allclose(_np(out), _np(ref), rtol=1e-6, atol=1e-6)
    assert c == rc == 4


def test_interpreter_methods_can_be_overridden():
    _, gm = _traced()
    seen = []

    class Swap(ember.fx.Interpreter):
        def call_function(self, target, args, kwargs):
            seen.append(target)
            if target is F.relu:
                return ember.neg(*args)
            return super().call_function(target, args, kwargs)

        def call_module(self, target, args, kwargs):
            seen.append(target)
            return super().call_module(target, args, kwargs)

    x = ember.randn(1, 3, 4, 4)
    out, _ = Swap(gm).run(x)
    assert F.relu in seen and "conv" in seen and "fc" in seen
    h = -gm.bn(gm.conv(x))
    expect = gm.fc(ember.flatten(F.adaptive_avg_pool2d(h, 1), 1))
    np.testing.assert_allclose(_np(out), _np(expect), rtol=1e-6, atol=1e-6)


def test_interpreter_error_notes_the_node():
    g = ember.fx.Graph()
    x = g.placeholder("x")
    g.output(g.call_method("view", (x, 7)))
    gm = ember.fx.GraphModule(nn.Module(), g)
    with pytest.raises(Exception) as info:
        ember.fx.Interpreter(gm).run(ember.ones(4))
    assert any("While executing %view" in n for n in getattr(info.value, "__notes__", []))


def test_transformer_rewrites_calls():
    _, gm = _traced()

    class ReluToSigmoid(ember.fx.Transformer):
        def call_function(self, target, args, kwargs):
            if target is F.relu:
                return ember.sigmoid(*args)  # an ember function called on a Proxy
            return super().call_function(target, args, kwargs)

    new = ReluToSigmoid(gm).transform()
    targets = [n.target for n in new.graph.nodes if n.op == "call_function"]
    assert ember.sigmoid in targets and F.relu not in targets
    x = ember.randn(2, 3, 4, 4)
    h = ember.sigmoid(gm.bn(gm.conv(x)))
    expect = gm.fc(ember.flatten(F.adaptive_avg_pool2d(h, 1), 1))
    np.testing.assert_allclose(_np(new(x)[0]), _np(expect), rtol=1e-6, atol=1e-6)
    assert [n.name for n in new.graph.nodes][0] == "x"


def test_shape_prop_records_tensor_meta():
    _, gm = _traced()
    ShapeProp(gm).propagate(ember.randn(2, 3, 5, 5))
    meta = {n.name: n.meta.get("tensor_meta") for n in gm.graph.nodes}
    assert isinstance(meta["conv"], TensorMetadata)
    assert tuple(meta["conv"].shape) == (2, 4, 5, 5)
    assert meta["conv"].dtype is ember.float32
    assert tuple(meta["flatten"].shape) == (2, 4)
    assert meta["getitem"] is None  # an int, not a tensor
    assert tuple(meta["output"][0].shape) == (2, 2)


def _pattern(m):
    def pattern(x, y):
        return m.neg(m.add(x, y))

    def replacement(x, y):
        return m.sub(y, x)

    def fn(a, b):
        c = m.neg(m.add(a, b))
        d = m.neg(m.add(c, 1.0))
        return c, d.relu()

    return pattern, replacement, fn


def test_replace_pattern_matches_torch():
    results = {}
    for m in (torch, ember):
        pattern, replacement, fn = _pattern(m)
        gm = m.fx.symbolic_trace(fn)
        matches = m.fx.replace_pattern(gm, pattern, replacement)
        results[m] = (len(matches), [(n.op, n.name) for n in gm.graph.nodes],
                      [str(a) for a in next(iter(gm.graph.nodes)).users])
        a, b = np.float32([1.0, 2.0]), np.float32([3.0, -4.0])
        out = gm(m.tensor(a), m.tensor(b))
        results[m] += ([o.numpy().tolist() for o in out],)
    assert results[ember][0] == results[torch][0] == 2
    assert results[ember][1] == results[torch][1]
    assert results[ember][3] == results[torch][3]


def test_replace_pattern_skips_matches_whose_inner_values_escape():
    def pattern(x):
        return ember.relu(ember.neg(x))

    def replacement(x):
        return ember.sigmoid(x)

    def fn(a):
        n = ember.neg(a)
        return ember.relu(n), n

    gm = ember.fx.symbolic_trace(fn)
    assert ember.fx.replace_pattern(gm, pattern, replacement) == []


def test_edit_graph_then_recompile_changes_forward_and_code():
    _, gm = _traced()
    for node in gm.graph.nodes:
        if node.target is F.relu:
            with gm.graph.inserting_after(node):
                new = gm.graph.call_function(ember.neg, (node,))
            node.replace_all_uses_with(new, delete_user_cb=lambda u, new=new: u is not new)
    gm.recompile()
    assert "neg = ember.neg(relu)" in gm.code
    x = ember.randn(1, 3, 4, 4)
    h = -F.relu(gm.bn(gm.conv(x)))
    expect = gm.fc(ember.flatten(F.adaptive_avg_pool2d(h, 1), 1))
    np.testing.assert_allclose(_np(gm(x)[0]), _np(expect), rtol=1e-6, atol=1e-6)


def test_graph_setter_recompiles_and_instances_do_not_share_forward():
    _, gm = _traced()
    _, other = _traced()
    g = ember.fx.Graph()
    x = g.placeholder("x")
    g.output(g.call_function(operator.mul, (x, 2)))
    gm.graph = g
    assert gm.graph is g and g.owning_module is gm
    assert gm(ember.ones(2)).tolist() == [2.0, 2.0]
    assert len(other(ember.ones(1, 3, 4, 4))) == 2


def test_deepcopy_and_pickle_round_trip():
    model, gm = _traced()
    x = ember.randn(2, 3, 4, 4)
    twin = copy.deepcopy(gm)
    assert twin.code == gm.code and type(twin).__name__ == "Net"
    assert twin.conv.weight is not gm.conv.weight
    np.testing.assert_allclose(_np(twin(x)[0]), _np(gm(x)[0]))
    shallow = copy.copy(gm)
    assert shallow.conv is gm.conv
    np.testing.assert_allclose(_np(shallow(x)[0]), _np(gm(x)[0]))
    back = pickle.loads(pickle.dumps(gm))
    assert [n.name for n in back.graph.nodes] == [n.name for n in gm.graph.nodes]
    np.testing.assert_allclose(_np(back(x)[0]), _np(gm(x)[0]), rtol=1e-6, atol=1e-6)
    assert list(back.state_dict()) == list(gm.state_dict())


def test_print_readable_and_repr():
    _, gm = _traced()
    text = gm.print_readable(print_output=False)
    assert text.startswith("class Net(ember.nn.Module):")
    assert "    def forward(self, x):" in text
    assert repr(gm).startswith("Net(") and "def forward(self, x):" in repr(gm)


def test_tracer_subclass_create_proxy_and_param_shapes_constant():
    class Scale(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(ember.ones(3, 4))

        def forward(self, x):
            return x.reshape(-1, self.w.shape[1]) @ self.w.t()

    class Tagging(ember.fx.Tracer):
        def create_proxy(self, kind, target, args, kwargs, name=None, type_expr=None,
                         proxy_factory_fn=None):
            p = super().create_proxy(kind, target, args, kwargs, name, type_expr,
                                     proxy_factory_fn)
            p.node.meta["tag"] = kind
            return p

    graph = Tagging(param_shapes_constant=True).trace(Scale())
    ops = [(n.op, n.name) for n in graph.nodes]
    assert ("call_function", "getattr_1") not in ops  # the shape was read, not recorded
    reshape = next(n for n in graph.nodes if n.name == "reshape")
    assert reshape.args[1:] == (-1, 4) and reshape.meta["tag"] == "call_method"
    graph2 = ember.fx.Tracer().trace(Scale())
    assert "getattr_1" in [n.name for n in graph2.nodes]


def _fx_count(x):
    return x.shape[0]


def _fx_uses_count(x):
    return x * _fx_count(x)


def test_autowrap_functions_are_recorded_as_wrapped_calls():
    graph = ember.fx.Tracer(autowrap_functions=(_fx_count,)).trace(_fx_uses_count)
    call = next(n for n in graph.nodes if n.op == "call_function" and n.target is _fx_count)
    assert call.meta.get("is_wrapped")
    gm = ember.fx.GraphModule(nn.Module(), graph)
    assert 'wrap("' in gm.code
    np.testing.assert_allclose(_np(gm(ember.ones(3, 2))), np.full((3, 2), 3.0))


def test_tensor_methods_and_ember_functions_on_mixed_arguments():
    class Mixed(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("idx", ember.tensor([1, 0]))

        def forward(self, x):
            y = self.idx.float() * x  # tensor (method result) times proxy
            z = ember.stack([x, y], 0)
            return ember.where(z > 0, z, ember.zeros_like(z))[:, self.idx]

    for m_out in [Mixed()]:
        gm = ember.fx.symbolic_trace(m_out)
        x = ember.tensor([[1.0, -2.0], [3.0, 4.0]])
        np.testing.assert_allclose(_np(gm(x)), _np(m_out(x)))
    assert "_tensor_constant0" in gm.code


def test_proxy_repr_attribute_and_method_calls():
    seen = {}

    def fn(x):
        seen["repr"] = repr(x)
        seen["attr"] = type(x.T).__name__
        return x.T.contiguous()

    gm = ember.fx.symbolic_trace(fn)
    assert seen == {"repr": "Proxy(x)", "attr": "Attribute"}
    assert [n.op for n in gm.graph.nodes] == ["placeholder", "call_function", "call_method",
                                              "output"]
    t = torch.fx.symbolic_trace(fn)
    assert [n.op for n in t.graph.nodes] == [n.op for n in gm.graph.nodes]


def test_add_delete_and_prune_submodules():
    _, gm = _traced()
    assert gm.add_submodule("extra.act", nn.ReLU())
    assert isinstance(gm.extra.act, nn.ReLU)
    for node in gm.graph.nodes:
        if node.op == "call_module" and node.target == "fc":
            with gm.graph.inserting_after(node):
                act = gm.graph.call_module("extra.act", (node,))
            node.replace_all_uses_with(act, delete_user_cb=lambda u, act=act: u is not act)
    gm.recompile()
    x = ember.randn(1, 3, 4, 4)
    assert float(gm(x)[0].min()) >= 0.0
    assert gm.delete_submodule("bn") is True and gm.delete_submodule("nope") is False
    gm.add_submodule("unused", nn.Linear(2, 2))
    gm.add_submodule("bn", nn.BatchNorm2d(4))
    gm.delete_all_unused_submodules()
    assert [n for n, _ in gm.named_children()] == ["conv", "fc", "extra", "bn"]
