"""ember.utils._pytree against torch.utils._pytree (torch 2.13 as the reference)."""

import collections
import dataclasses

import ember.utils._pytree as ep
import pytest

tp = pytest.importorskip("torch.utils._pytree")

Point = collections.namedtuple("Point", "x y")
TREES = [
    1, None, [], (), {}, [1, (2, None), {"b": 3, "a": 4}],
    {"p": Point(1, [2, 3]), "o": collections.OrderedDict(z=1, y=2)},
    collections.defaultdict(int, k=[1, 2]), collections.deque([1, (2, 3)], maxlen=5),
    ([{"a": (1,)}], [[[]]]),
]


@pytest.mark.parametrize("tree", TREES, ids=range(len(TREES)))
def test_flatten_unflatten_and_spec_repr_match_torch(tree):
    leaves, spec = ep.tree_flatten(tree)
    t_leaves, t_spec = tp.tree_flatten(tree)
    assert leaves == t_leaves
    assert repr(spec) == repr(t_spec)
    assert (spec.num_leaves, spec.num_nodes, spec.num_children) == \
        (t_spec.num_leaves, t_spec.num_nodes, t_spec.num_children)
    assert ep.tree_unflatten(leaves, spec) == tree
    assert ep.treespec_pprint(spec) == tp.treespec_pprint(t_spec)


@pytest.mark.parametrize("tree", TREES, ids=range(len(TREES)))
def test_paths_and_keystr_match_torch(tree):
    mine = [(ep.keystr(k), v) for k, v in ep.tree_leaves_with_path(tree)]
    ref = [(tp.keystr(k), v) for k, v in tp.tree_leaves_with_path(tree)]
    assert mine == ref
    for kp, v in ep.tree_leaves_with_path(tree):
        assert ep.key_get(tree, kp) == v


def test_map_variants_match_torch():
    a, b = [1, {"x": 2, "y": 3}], [10, {"y": 30, "x": 20}]
    assert ep.tree_map(lambda u, v: u + v, a, b) == tp.tree_map(lambda u, v: u + v, a, b)
    t = [1, 2.0, (3, "s")]
    assert ep.tree_map_only(int, lambda x: -x, t) == tp.tree_map_only(int, lambda x: -x, t)
    assert ep.tree_all(lambda x: x > 0, [1, 2]) and not ep.tree_any(lambda x: x > 5, [1, 2])
    assert ep.tree_any_only(float, lambda x: x > 1, t) == tp.tree_any_only(
        float, lambda x: x > 1, t)
    assert ep.tree_map_with_path(lambda k, x: ep.keystr(k), [1, {"a": 2}]) == \
        ["[0]", {"a": "[1]['a']"}]
    seen = []
    assert ep.tree_map_(seen.append, (1, [2])) == (1, [2]) and seen == [1, 2]
    spec = ep.tree_structure([0, [0]])
    assert spec.flatten_up_to([[1, 2], [3]]) == [[1, 2], 3]
    assert ep.tree_flatten([1, [2]], is_leaf=lambda x: x == [2])[0] == [1, [2]]


def test_errors_match_torch():
    with pytest.raises(ValueError, match="already registered"):
        ep.register_pytree_node(list, None, None)
    spec = ep.tree_structure([1, 2])
    with pytest.raises(ValueError, match="has length 1"):
        ep.tree_unflatten([1], spec)
    with pytest.raises(ValueError, match="arity mismatch"):
        ep.tree_map(lambda a, b: a, [1, 2], [3])
    with pytest.raises(TypeError):
        ep.tree_unflatten([1], "not a spec")


class Box:
    def __init__(self, a, b, tag):
        self.a, self.b, self.tag = a, b, tag

    def __eq__(self, other):
        return (self.a, self.b, self.tag) == (other.a, other.b, other.tag)


def test_register_pytree_node_and_dataclass():
    ep.register_pytree_node(Box, lambda bx: ([bx.a, bx.b], bx.tag),
                            lambda vals, tag: Box(*vals, tag),
                            flatten_with_keys_fn=lambda bx: (
                                [(ep.GetAttrKey("a"), bx.a), (ep.GetAttrKey("b"), bx.b)],
                                bx.tag))
    try:
        tree = {"box": Box(1, [2, 3], "t")}
        leaves, spec = ep.tree_flatten(tree)
        assert leaves == [1, 2, 3]
        assert ep.tree_unflatten([4, 5, 6], spec) == {"box": Box(4, [5, 6], "t")}
        assert [ep.keystr(k) for k, _ in ep.tree_leaves_with_path(tree)] == \
            ["['box'].a", "['box'].b[0]", "['box'].b[1]"]
    finally:
        ep._deregister_pytree_node(Box)

    @dataclasses.dataclass
    class D:
        a: int
        b: list

    ep.register_dataclass(D)
    try:
        leaves, spec = ep.tree_flatten(D(1, [2]))
        assert leaves == [1, 2] and ep.tree_unflatten([3, 4], spec) == D(3, [4])
    finally:
        ep._deregister_pytree_node(D)


def test_treespec_dumps_round_trip():
    spec = ep.tree_structure([1, {"a": (2, 3)}, collections.OrderedDict(k=4)])
    assert ep.treespec_loads(ep.treespec_dumps(spec)) == spec


def test_transformers_dict_helpers():
    assert ep._dict_flatten({"a": 1, "b": 2}) == tp._dict_flatten({"a": 1, "b": 2})
    mine = ep._dict_flatten_with_keys({"a": 1})
    assert [(str(k), v) for k, v in mine[0]] == [("['a']", 1)] and mine[1] == ["a"]
    assert ep._dict_unflatten([1, 2], ["a", "b"]) == {"a": 1, "b": 2}
