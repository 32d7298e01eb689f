"""ember.onnx.export: exported models run in onnxruntime and match ember's outputs."""

import io
import os

import ember
import ember.nn as nn
import ember.nn.functional as F
import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _export(model, args, **kw):
    buf = io.BytesIO()
    ember.onnx.export(model, args, buf, **kw)
    data = buf.getvalue()
    proto = onnx.load_from_string(data)
    onnx.checker.check_model(proto)
    return data, proto


def _run(data, feeds):
    sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)


def _ops(proto):
    return {n.op_type for n in proto.graph.node}


def _check(model, x, **kw):
    data, proto = _export(model, (x,), input_names=["x"], output_names=["y"], **kw)
    with ember.no_grad():
        ref = model(x).numpy()
    (got,) = _run(data, {"x": x.numpy()})
    np.testing.assert_allclose(got, ref, atol=1e-4, rtol=1e-4)
    return data, proto


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(16)
        self.avg = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 5)

    def forward(self, x):
        x = self.pool(F.relu(self.bn1(self.conv1(x))))
        x = F.relu(self.bn2(self.conv2(x)), inplace=True)
        return self.fc(ember.flatten(self.avg(x), 1))


def _trained_bn(model):
    """Gives batch norms non-trivial running statistics."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(ember.randn(m.num_features) * 0.1)
            m.running_var.copy_(ember.rand(m.num_features) + 0.5)
    return model


def test_mlp():
    ember.manual_seed(0)
    m = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 16),
                      nn.Tanh(), nn.Linear(16, 3), nn.Sigmoid()).eval()
    _, proto = _check(m, ember.randn(4, 8))
    assert {"Gemm", "Relu", "Tanh", "Sigmoid"} <= _ops(proto)
    assert [o.name for o in proto.graph.output] == ["y"]
    inits = {i.name for i in proto.graph.initializer}
    assert "0.weight" in inits and "5.bias" in inits


def test_export_restores_training_mode():
    m = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    assert m.training
    _export(m, (ember.randn(2, 4),))
    assert m.training and m[1].training


def test_small_cnn_and_dynamic_batch():
    ember.manual_seed(0)
    m = _trained_bn(SmallCNN()).eval()
    data, proto = _check(m, ember.randn(2, 3, 16, 16),
                         dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
    assert {"Conv", "BatchNormalization", "Relu", "MaxPool", "GlobalAveragePool",
            "Gemm"} <= _ops(proto)
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    x5 = ember.randn(5, 3, 16, 16)
    (got,) = _run(data, {"x": x5.numpy()})
    with ember.no_grad():
        np.testing.assert_allclose(got, m(x5).numpy(), atol=1e-4, rtol=1e-4)


def test_resnet18():
    from ember.vision.models import resnet18

    ember.manual_seed(0)
    m = _trained_bn(resnet18(num_classes=10)).eval()
    data, proto = _check(m, ember.randn(2, 3, 32, 32),
                         dynamic_axes={"x": [0], "y": [0]})
    x3 = ember.randn(3, 3, 32, 32)
    (got,) = _run(data, {"x": x3.numpy()})
    with ember.no_grad():
        np.testing.assert_allclose(got, m(x3).numpy(), atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_transformer_encoder_layer(activation):
    ember.manual_seed(0)
    m = nn.TransformerEncoderLayer(16, 2, 32, dropout=0.1, batch_first=True,
                                   activation=activation).eval()
    _, proto = _check(m, ember.randn(2, 5, 16))
    assert {"LayerNormalization", "Softmax", "MatMul"} <= _ops(proto)


def test_embedding_cat_softmax_and_shapes():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(20, 6)
            self.ln = nn.LayerNorm(6)

        def forward(self, ids):
            e = self.ln(self.emb(ids))  # (B, T, 6)
            t = e.transpose(1, 2).permute(0, 2, 1).reshape(e.shape[0], -1)
            c = ember.cat([t, t * 2 - 1], dim=1)
            return F.softmax(c, dim=-1), F.gelu(c[:, 1:5] / 3)

    ember.manual_seed(0)
    m = M().eval()
    ids = ember.tensor([[1, 2, 3], [4, 5, 19]])
    data, proto = _export(m, (ids,), input_names=["ids"], output_names=["p", "g"])
    assert {"Gather", "Concat", "Softmax", "Transpose", "Reshape"} <= _ops(proto)
    ids2 = ember.tensor([[7, 0, 3], [9, 9, 1]])
    got = _run(data, {"ids": ids2.numpy()})
    with ember.no_grad():
        ref = m(ids2)
    for a, b in zip(got, ref):
        np.testing.assert_allclose(a, b.numpy(), atol=1e-5, rtol=1e-5)


def test_function_and_output_that_is_an_input():
    def f(x, y):
        return x, ember.matmul(x, y).sigmoid()

    x, y = ember.randn(3, 4), ember.randn(4, 2)
    data, proto = _export(f, (x, y), input_names=["a", "b"])
    got = _run(data, {"a": x.numpy(), "b": y.numpy()})
    np.testing.assert_allclose(got[0], x.numpy())
    np.testing.assert_allclose(got[1], f(x, y)[1].numpy(), atol=1e-6)
    assert "Identity" in _ops(proto)


def test_opset_18_and_no_constant_folding():
    ember.manual_seed(0)
    m = _trained_bn(SmallCNN()).eval()
    x = ember.randn(1, 3, 8, 8)
    _, proto = _check(m, x, opset_version=18, do_constant_folding=False)
    assert proto.opset_import[0].version == 18


def test_export_params_false_makes_weights_inputs():
    m = nn.Linear(3, 2)
    _, proto = _export(m, (ember.randn(1, 3),), export_params=False)
    names = [i.name for i in proto.graph.input]
    assert "weight" in names and "bias" in names
    assert not proto.graph.initializer


def test_unsupported_op_raises_and_writes_nothing(tmp_path):
    def f(x):
        return ember.linalg.det(x)

    path = tmp_path / "m.onnx"
    with pytest.raises(ember.onnx.OnnxExporterError, match="linalg_det"):
        ember.onnx.export(f, (ember.randn(3, 3),), str(path))
    assert not path.exists()
    assert os.listdir(tmp_path) == []


def test_writes_file_atomically(tmp_path):
    path = tmp_path / "mlp.onnx"
    path.write_bytes(b"old")
    m = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    ember.onnx.export(m, ember.randn(1, 2), str(path))
    onnx.checker.check_model(onnx.load(str(path)))
    assert os.listdir(tmp_path) == ["mlp.onnx"]


def test_is_in_onnx_export():
    seen = []

    def f(x):
        seen.append(ember.onnx.is_in_onnx_export())
        return x + 1

    _export(f, (ember.randn(2),))
    assert seen == [True] and not ember.onnx.is_in_onnx_export()


def test_bad_dynamic_axes_name():
    with pytest.raises(ember.onnx.OnnxExporterError, match="dynamic_axes"):
        _export(nn.Linear(2, 2), (ember.randn(1, 2),), dynamic_axes={"nope": [0]})


def test_mixed_ops_bn1d_pad_pool_stack_dynamic_batch():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.bn = nn.BatchNorm1d(6)
            self.lin = nn.Linear(6, 16)

        def forward(self, x):
            h = F.leaky_relu(self.lin(self.bn(x)), 0.1).clamp(-0.5, 2.0)
            h = F.avg_pool2d(F.pad(h.view(-1, 1, 4, 4), (1, 1, 1, 1)), 2)
            h = F.hardtanh(h.unsqueeze(1).squeeze(1), -0.3, 0.3) + F.silu(h) * h.pow(2)
            return ember.stack([h.mean((2, 3)), h.amax((2, 3))], 1).squeeze(-1).sqrt().exp()

    ember.manual_seed(0)
    m = M().eval()
    data, proto = _check(m, ember.randn(3, 6), dynamic_axes={"x": [0], "y": [0]})
    assert {"Pad", "AveragePool", "Clip", "LeakyRelu", "Concat", "ReduceMax"} <= _ops(proto)
    x5 = ember.randn(5, 6)
    (got,) = _run(data, {"x": x5.numpy()})
    with ember.no_grad():
        np.testing.assert_allclose(got, m(x5).numpy(), atol=1e-5, rtol=1e-5)
