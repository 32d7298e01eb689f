"""``ember.onnx.export``'s keyword variants against PyTorch: output shapes with
``dynamic_axes`` (symbolic, from shape inference, as PyTorch writes them), and the
``dynamo=True`` form (the default) returning an ``ONNXProgram``, with ``f`` optional and
``dynamic_shapes`` accepted."""

import io
import warnings

import ember
import numpy as np
import pytest
import torch

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _models():
    torch.manual_seed(0)
    t = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Softmax(-1)).eval()
    e = ember.nn.Sequential(ember.nn.Linear(3, 2), ember.nn.Softmax(-1)).eval()
    e.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t.state_dict().items()})
    return t, e


def _dims(vi):
    return [d.dim_param or d.dim_value for d in vi.type.tensor_type.shape.dim]


@pytest.mark.parametrize("axes", [{"x": {0: "b"}}, {"x": [0]},
                                  {"x": {0: "b"}, "y": {0: "bb"}}])
def test_dynamic_axes_output_shapes_match_torch(axes):
    tmodel, emodel = _models()
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    protos = []
    for lib, model in ((torch, tmodel), (ember, emodel)):
        buf = io.BytesIO()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lib.onnx.export(model, (lib.tensor(x),), buf, dynamo=False, input_names=["x"],
                            output_names=["y"], dynamic_axes=axes)
        protos.append(onnx.load_from_string(buf.getvalue()))
    tp, ep = protos
    assert _dims(ep.graph.input[0]) == _dims(tp.graph.input[0])
    # the output's batch axis follows the input's symbolic one (it was the example's 4)
    assert _dims(ep.graph.output[0]) == _dims(tp.graph.output[0])
    sess = ort.InferenceSession(ep.SerializeToString(), providers=["CPUExecutionProvider"])
    x7 = np.random.default_rng(1).standard_normal((7, 3)).astype(np.float32)
    np.testing.assert_allclose(sess.run(None, {"x": x7})[0],
                               tmodel(torch.tensor(x7)).detach().numpy(), rtol=1e-5,
                               atol=1e-6)


def test_dynamo_true_returns_an_onnx_program(tmp_path):
    tmodel, emodel = _models()
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    prog = ember.onnx.export(emodel, (ember.tensor(x),), dynamo=True)  # no f, as in PyTorch
    assert isinstance(prog, ember.onnx.ONNXProgram)
    assert ember.onnx.export(emodel, (ember.tensor(x),), str(tmp_path / "a.onnx"),
                             dynamo=False) is None
    assert isinstance(ember.onnx.export(emodel, (ember.tensor(x),),
                                        str(tmp_path / "b.onnx")), ember.onnx.ONNXProgram)
    with pytest.raises(ValueError):
        ember.onnx.export(emodel, (ember.tensor(x),), dynamo=False)
    path = tmp_path / "m.onnx"
    prog.save(str(path))
    want = tmodel(torch.tensor(x)).detach().numpy()
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(sess.run(None, {sess.get_inputs()[0].name: x})[0], want,
                               rtol=1e-5, atol=1e-6)
    (out,) = prog(ember.tensor(x))
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-5, atol=1e-6)


def test_dynamo_dynamic_shapes_make_axes_dynamic():
    tmodel, emodel = _models()
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    batch = ember.export.Dim("batch")
    for spec in ({"input": {0: batch}}, ({0: batch},), [[batch, None]]):
        prog = ember.onnx.export(emodel, (ember.tensor(x),), dynamo=True,
                                 dynamic_shapes=spec)
        g = prog.model_proto.graph
        assert _dims(g.input[0]) == ["batch", 3]
        assert _dims(g.output[0]) == ["batch", 2]
        x7 = np.random.default_rng(1).standard_normal((7, 3)).astype(np.float32)
        (out,) = prog(ember.tensor(x7))
        np.testing.assert_allclose(out.numpy(), tmodel(torch.tensor(x7)).detach().numpy(),
                                   rtol=1e-5, atol=1e-6)
    with pytest.raises(ember.onnx.OnnxExporterError, match="not among the inputs"):
        ember.onnx.export(emodel, (ember.tensor(x),), dynamo=True,
                          dynamic_shapes={"nope": {0: batch}})
