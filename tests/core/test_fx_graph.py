"""ember.fx Graph and Node: building, editing, printing and checking graphs, as torch.fx."""

import copy
import operator

import ember
import numpy as np
import pytest
import torch
import torch.fx
from ember.fx.immutable_collections import immutable_dict, immutable_list


def _build(m):
    g = m.fx.Graph()
    x = g.placeholder("x")
    y = g.placeholder("input")
    r = g.call_function(m.relu, (x,))
    a = g.call_function(operator.add, (r, y))
    s = g.call_method("sum", (a,), {"dim": 0})
    g.output((s, [r]))
    return g


def test_built_graph_prints_and_generates_code_like_torch():
    eg, tg = _build(ember), _build(torch)
    assert str(eg) == str(tg).replace("torch.relu", "ember.relu")
    ecode = eg.python_code("self").src.strip()
    tcode = tg.python_code("self").src.strip().replace("torch.relu", "ember.relu")
    assert ecode == tcode
    assert [n.name for n in eg.nodes] == [n.name for n in tg.nodes]
    assert [n.name for n in eg.nodes][1] == "input_1"


def test_node_users_inputs_and_replace_all_uses_with():
    g = _build(ember)
    x, inp, relu, add, s, out = g.nodes
    assert relu.all_input_nodes == [x]
    assert list(relu.users) == [add, out]
    assert add.args == (relu, inp)
    with g.inserting_after(relu):
        neg = g.call_function(operator.neg, (relu,))
    changed = relu.replace_all_uses_with(neg, delete_user_cb=lambda u: u is not neg)
    assert set(changed) == {add, out}
    assert add.args[0] is neg and list(relu.users) == [neg]
    assert out.args[0][1] == [neg]
    g.lint()


def test_replace_input_with_update_arg_and_kwargs_setters():
    g = _build(ember)
    x, inp, relu, add, s, out = g.nodes
    add.replace_input_with(inp, x)
    assert add.args == (relu, x) and add in x.users and add not in inp.users
    add.update_arg(1, 3.0)
    assert add.args == (relu, 3.0) and add not in x.users
    s.update_kwarg("dim", 1)
    assert s.kwargs == {"dim": 1}
    s.kwargs = {"dim": add}
    assert s in add.users


def test_args_are_immutable_containers():
    g = _build(ember)
    out = list(g.nodes)[-1]
    assert isinstance(out.args[0][1], immutable_list)
    with pytest.raises(NotImplementedError):
        out.args[0][1].append(1)
    d = immutable_dict({"a": 1})
    with pytest.raises(NotImplementedError):
        d["b"] = 2
    assert hash(immutable_list([1, 2])) == hash(immutable_list([1, 2]))


def test_inserting_before_and_after_follow_torch_order():
    results = {}
    for m in (torch, ember):
        g = m.fx.Graph()
        a = g.placeholder("a")
        g.output(a)
        with g.inserting_after(a):
            b = g.call_function(m.relu, (a,))
            g.call_function(m.neg, (b,))
        with g.inserting_before(None):
            g.placeholder("z")
        results[m] = [n.name for n in g.nodes]
    assert results[ember] == results[torch] == ["z", "a", "neg", "relu", "output"]


def test_lint_reports_use_before_definition_with_torch_text():
    g = ember.fx.Graph()
    a = g.placeholder("a")
    g.output(a)
    with g.inserting_after(a):
        b = g.call_function(ember.relu, (a,))
        g.call_function(ember.neg, (b,))
    with pytest.raises(RuntimeError, match="Argument 'relu' of Node 'neg' was used before it "
                                           "has been defined"):
        g.lint()


def test_prepend_append_move_nodes():
    g = ember.fx.Graph()
    a = g.placeholder("a")
    b = g.call_function(ember.relu, (a,))
    c = g.call_function(ember.neg, (a,))
    g.output((b, c))
    b.prepend(c)
    assert [n.name for n in g.nodes] == ["a", "neg", "relu", "output"]
    c.append(b)  # b right after c: unchanged
    a.append(c)
    assert [n.name for n in g.nodes] == ["a", "neg", "relu", "output"]
    assert c.next is b and b.prev is c
    g.lint()


def test_erase_node_requires_no_users_with_torch_text():
    g = _build(ember)
    x, inp, relu, add, s, out = g.nodes
    with pytest.raises(RuntimeError, match="Tried to erase Node relu but it still had 2 users"):
        g.erase_node(relu)
    out.args = (x,)
    g.erase_node(s)
    g.erase_node(add)
    assert relu.users == {} and len(g.nodes) == 4
    g.lint()


def test_eliminate_dead_code_keeps_side_effects_and_inplace_methods():
    g = ember.fx.Graph()
    x = g.placeholder("x")
    g.call_function(ember.relu, (x,))
    g.call_method("add_", (x, 1))
    checked = g.call_function(ember.fx._symbolic_trace._assert, (True, "ok"))
    g.output(x)
    assert g.eliminate_dead_code() is True
    assert [n.op for n in g.nodes] == ["placeholder", "call_method", "call_function", "output"]
    assert checked in list(g.nodes)
    assert g.eliminate_dead_code() is False


def test_has_side_effect_marks_a_function():
    def note(x):
        return None

    ember.fx.has_side_effect(note)
    g = ember.fx.Graph()
    x = g.placeholder("x")
    g.call_function(note, (x,))
    g.output(x)
    g.eliminate_dead_code()
    assert len(g.nodes) == 3


def test_node_copy_graph_copy_and_deepcopy():
    g = _build(ember)
    g2 = ember.fx.Graph()
    val_map = {}
    out = g2.graph_copy(g, val_map)
    g2.output(out)
    assert str(g2) == str(g)
    g3 = copy.deepcopy(g)
    assert str(g3) == str(g)
    assert all(a is not b for a, b in zip(g3.nodes, g.nodes))
    g3.lint()


def test_find_nodes_and_map_arg():
    g = _build(ember)
    assert [n.name for n in g.find_nodes(op="placeholder")] == ["x", "input_1"]
    assert [n.name for n in g.find_nodes(op="call_function", target=operator.add)] == ["add"]
    out = list(g.nodes)[-1]
    mapped = ember.fx.map_arg(out.args[0], lambda n: n.name)
    assert mapped == ("sum_1", ["relu"])


def test_names_stay_unique_and_valid_identifiers():
    g = ember.fx.Graph()
    a = g.placeholder("a")
    names = [g.call_module("layer1.0.conv", (a,)).name, g.call_module("layer1.0.conv", (a,)).name,
             g.call_function(getattr, (a, "shape")).name, g.call_method("__getitem__", (a, 0)).name,
             g.get_attr("0.weight").name, g.call_function(operator.and_, (a, a)).name]
    assert names == ["layer1_0_conv", "layer1_0_conv_1", "getattr_1", "getitem", "_0_weight",
                     "and_"]


def test_graph_module_from_dict_root_runs_edited_graph():
    g = ember.fx.Graph()
    x = g.placeholder("x")
    w = g.get_attr("sub.weight")
    lin = g.call_module("lin", (x,))
    g.output(g.call_function(operator.add, (lin, w)))
    lin_mod = ember.nn.Linear(2, 2)
    weight = ember.ones(2)
    gm = ember.fx.GraphModule({"lin": lin_mod, "sub.weight": weight}, g)
    inp = ember.randn(3, 2)
    np.testing.assert_allclose(gm(inp).detach().numpy(), (lin_mod(inp) + 1).detach().numpy())
    assert sorted(gm.state_dict()) == ["lin.bias", "lin.weight", "sub.weight"]
    with pytest.raises(RuntimeError, match="referenced target sub.weight but that target was "
                                           "not provided"):
        ember.fx.GraphModule({"lin": lin_mod}, g)


def test_print_tabular_lists_every_node(capsys):
    _build(ember).print_tabular()
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["opcode", "name", "target", "args", "kwargs"]
    assert len(out) == 2 + 6
    assert "ember.relu" in out[4]
