"""ember.jit: trace replays the recorded ops; save/load round trip; script passthrough."""

import io
import warnings

import ember
import ember.nn as nn
import ember.nn.functional as F
import numpy as np
import pytest


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4 * 4 * 4, 5)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn(self.conv(x))), 2)
        return F.log_softmax(self.fc(x.view(x.shape[0], -1)), dim=1)


def _close(a, b):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=1e-6, rtol=1e-6)


def test_trace_module_replays_on_new_inputs():
    ember.manual_seed(0)
    m = Net().eval()
    traced = ember.jit.trace(m, ember.randn(2, 3, 8, 8))
    assert isinstance(traced, ember.jit.ScriptModule)
    assert isinstance(traced, nn.Module)
    x = ember.randn(2, 3, 8, 8)
    _close(traced(x), m(x))
    assert list(traced.state_dict()) == list(m.state_dict())
    text = str(traced.graph)
    assert "convolution" in text and "conv.weight" in text and "log_softmax" in text


def test_trace_shares_parameters_with_the_module():
    m = nn.Linear(3, 2)
    traced = ember.jit.trace(m, ember.randn(4, 3))
    with ember.no_grad():
        m.weight.mul_(2)
    x = ember.randn(4, 3)
    _close(traced(x), m(x))


def test_trace_function_with_inplace_and_tuple_outputs():
    w = ember.randn(4, 4)

    def f(x, y):
        h = x @ w
        h.relu_()
        h += y
        return h, {"s": h.sum(1)}

    traced = ember.jit.trace(f, (ember.randn(2, 4), ember.randn(2, 4)))
    assert isinstance(traced, ember.jit.ScriptFunction)
    x, y = ember.randn(2, 4), ember.randn(2, 4)
    (a, d), (b, e) = traced(x, y), f(x, y)
    _close(a, b)
    _close(d["s"], e["s"])


def test_trace_embedding_reads_new_indices():
    emb = nn.Embedding(10, 3)
    traced = ember.jit.trace(lambda i: emb(i).mean(1), ember.tensor([[1, 2]]))
    ids = ember.tensor([[7, 9]])
    _close(traced(ids), emb(ids).mean(1))


def test_control_flow_is_frozen_and_shapes_checked():
    def f(x):
        return x * 2 if float(x.sum()) > 0 else x * -1

    traced = ember.jit.trace(f, ember.ones(3))
    _close(traced(-ember.ones(3)), -ember.ones(3) * 2)  # the traced branch
    with pytest.raises(RuntimeError, match="traced with shape"):
        traced(ember.ones(4))


def test_is_tracing():
    seen = []

    def f(x):
        seen.append(ember.jit.is_tracing())
        return x + 1

    ember.jit.trace(f, ember.zeros(2), check_trace=False)
    assert seen == [True] and not ember.jit.is_tracing()


def test_save_load_round_trip(tmp_path):
    ember.manual_seed(0)
    m = Net().eval()
    traced = ember.jit.trace(m, ember.randn(2, 3, 8, 8))
    path = tmp_path / "net.pt"
    traced.save(str(path))
    loaded = ember.jit.load(str(path))
    x = ember.randn(2, 3, 8, 8)
    _close(loaded(x), m(x))
    assert set(loaded.state_dict()) == set(m.state_dict())
    for k, v in m.state_dict().items():
        _close(loaded.state_dict()[k], v)
    buf = io.BytesIO()
    ember.jit.save(loaded, buf, _extra_files={"note.txt": "hi"})
    buf.seek(0)
    extra = {"note.txt": ""}
    again = ember.jit.load(buf, _extra_files=extra)
    assert extra["note.txt"] == "hi"
    _close(again(x), m(x))


def test_save_load_function_with_getitem_and_cat():
    def f(x):
        return ember.cat([x[:, 1:3], x[..., None, 0].expand(2, 2)], 1).softmax(-1)

    traced = ember.jit.trace(f, ember.randn(2, 4))
    buf = io.BytesIO()
    ember.jit.save(traced, buf)
    buf.seek(0)
    loaded = ember.jit.load(buf)
    assert isinstance(loaded, ember.jit.ScriptFunction)
    x = ember.randn(2, 4)
    _close(loaded(x), f(x))


def test_load_rejects_foreign_ops(tmp_path):
    import json
    import zipfile

    traced = ember.jit.trace(lambda x: x.exp(), ember.randn(2))
    buf = io.BytesIO()
    ember.jit.save(traced, buf)
    z = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    doc = json.loads(z.read("graph.json"))
    doc["nodes"][0]["module"] = "os"
    doc["nodes"][0]["class"] = "system"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as w:
        w.writestr("graph.json", json.dumps(doc))
        w.writestr("weights.pt", z.read("weights.pt"))
    out.seek(0)
    with pytest.raises(RuntimeError, match="not part of ember"):
        ember.jit.load(out)
    with pytest.raises(RuntimeError, match="not an ember.jit archive"):
        ember.jit.load(io.BytesIO(b"not a zip"))


def test_check_trace_warns_on_frozen_values():
    def f(x):
        return x + float(x.sum())  # a Python number read from the tensor

    # replay on the example reproduces it; a warning only appears when it differs
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ember.jit.trace(f, ember.ones(2))
    with pytest.warns(ember.jit.TracerWarning):
        ember.jit.trace(f, ember.ones(2), check_inputs=[ember.full((2,), 3.0)])


def test_script_and_decorators_pass_through():
    @ember.jit.script
    def helper(x: ember.Tensor) -> ember.Tensor:
        return x * 2

    class M(nn.Module):
        @ember.jit.ignore
        def debug(self):
            return 1

        @ember.jit.unused
        def old(self):
            return 2

        @ember.jit.export
        def extra(self, x):
            return x + 1

        def forward(self, x):
            return helper(x)

    m = M()
    assert ember.jit.script(m) is m
    assert m.debug() == 1 and m.old() == 2
    _close(m(ember.ones(2)), ember.full((2,), 2.0))
    assert not ember.jit.is_scripting()
    assert ember.jit.annotate(list, [1]) == [1]
    fut = ember.jit.fork(helper, ember.ones(1))
    _close(ember.jit.wait(fut), ember.full((1,), 2.0))
    assert ember.jit.Final is not None


def test_fork_propagates_exceptions():
    def boom():
        raise ValueError("x")

    fut = ember.jit.fork(boom)
    with pytest.raises(ValueError):
        fut.wait()


def test_traced_module_can_be_traced_and_exported_again():
    m = nn.Sequential(nn.Linear(3, 3), nn.GELU())
    t1 = ember.jit.trace(m, ember.randn(2, 3))
    t2 = ember.jit.trace(t1, ember.randn(2, 3))
    x = ember.randn(2, 3)
    _close(t2(x), m(x))


def test_executor_switches_are_accepted_as_in_torch():
    import torch

    for lib in (torch, ember):
        with lib.jit.optimized_execution(False):
            pass
        with lib.jit.fuser("fuser1"):
            pass
        prev = lib.jit.set_fusion_strategy([("STATIC", 1)])
        assert prev == [("STATIC", 2), ("DYNAMIC", 10)]
        assert lib.jit.set_fusion_strategy(prev) == [("STATIC", 1)]
