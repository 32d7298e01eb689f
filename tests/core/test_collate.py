"""default_collate / default_convert against torch.utils.data's on the same samples."""

from __future__ import annotations

import collections

import ember
import numpy as np
import pytest
from ember.utils.data import default_collate, default_convert

torch = pytest.importorskip("torch")
from torch.utils.data import default_collate as torch_collate  # noqa: E402
from torch.utils.data import default_convert as torch_convert  # noqa: E402

Pair = collections.namedtuple("Pair", "image label")


class T:
    """A tensor in a sample template: becomes an ember or a torch tensor."""

    def __init__(self, arr):
        self.arr = np.asarray(arr)


def build(template, lib: str):
    if isinstance(template, T):
        return ember.from_numpy(template.arr.copy()) if lib == "ember" else \
            torch.from_numpy(template.arr.copy())
    if isinstance(template, dict):
        return {k: build(v, lib) for k, v in template.items()}
    if isinstance(template, Pair):
        return Pair(*(build(v, lib) for v in template))
    if isinstance(template, (list, tuple)):
        return type(template)(build(v, lib) for v in template)
    return template


def assert_match(e, t):
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), type(e)
        assert e.dtype.name == str(t.dtype).replace("torch.", ""), (e.dtype, t.dtype)
        assert tuple(e.shape) == tuple(t.shape)
        assert np.array_equal(e.numpy(), t.numpy())
    elif isinstance(t, dict):
        assert type(e) is type(t) and list(e) == list(t)
        for k in t:
            assert_match(e[k], t[k])
    elif isinstance(t, (list, tuple)):
        assert type(e) is type(t) and len(e) == len(t), (type(e), type(t))
        for a, b in zip(e, t):
            assert_match(a, b)
    elif isinstance(t, np.ndarray):
        assert isinstance(e, np.ndarray) and np.array_equal(e, t)
    else:
        assert e == t and type(e) is type(t)


rng = np.random.default_rng(0)
SAMPLES = {
    "tensors": [T(rng.standard_normal((2, 3)).astype(np.float32)) for _ in range(4)],
    "int_tensors": [T(np.arange(3) + i) for i in range(3)],
    "numpy": [rng.standard_normal(3) for _ in range(3)],
    "numpy_f16": [np.ones(2, np.float16) * i for i in range(3)],
    "numpy_scalars": [np.float32(1.5), np.float32(2.5)],
    "numpy_ints": [np.int16(3), np.int16(4)],
    "floats": [0.5, 1.5, 2.5],
    "ints": [1, 2, 3],
    "bools": [True, False],
    "strings": ["a", "bb", "ccc"],
    "bytes": [b"x", b"y"],
    "dicts": [{"x": T(np.ones(2, np.float32) * i), "y": i, "name": f"s{i}"} for i in range(3)],
    "tuples": [(T(np.zeros(2, np.int64)), 1.0), (T(np.ones(2, np.int64)), 2.0)],
    "lists": [[1, 2.0, "a"], [3, 4.0, "b"]],
    "namedtuples": [Pair(T(np.full((2, 2), i, np.float32)), i) for i in range(3)],
    "nested": [{"img": (T(np.ones((1, 2), np.float32)), [1, 2]),
                "meta": {"id": i, "tags": ["p", "q"], "score": np.float64(i)}}
               for i in range(2)],
}


@pytest.mark.parametrize("name", list(SAMPLES))
def test_default_collate_matches_torch(name):
    template = SAMPLES[name]
    assert_match(default_collate(build(template, "ember")),
                 torch_collate(build(template, "torch")))


@pytest.mark.parametrize("data", [
    np.arange(4.0), np.int32(5), {"a": np.ones(2), "b": [np.zeros(1), "s"]},
    (np.ones(1), 2), Pair(np.ones(2), 3), ["x", np.float32(1)], "plain", 3,
])
def test_default_convert_matches_torch(data):
    assert_match(default_convert(data), torch_convert(data))


def test_collate_errors():
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="default_collate: batch must contain"):
        default_collate([object(), object()])
    with pytest.raises(TypeError, match="default_collate: batch must contain"):
        default_collate([np.array(["a"]), np.array(["b"])])


def test_float_and_int_dtypes_are_torchs():
    assert default_collate([1.0, 2.0]).dtype is ember.float64
    assert default_collate([1, 2]).dtype is ember.int64
    assert default_collate([True, False]).dtype is ember.bool
