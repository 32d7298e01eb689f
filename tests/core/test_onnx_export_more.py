"""ember.onnx.export of recurrent layers, upsampling, transposed convolutions, scans,
indexed reductions and other less common ops: exported models run in onnxruntime and
match ember's outputs (including other batch sizes and sequence lengths)."""

import io

import ember
import ember.nn as nn
import ember.nn.functional as F
import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _flat(x):
    if isinstance(x, (tuple, list)):
        return [a for v in x for a in _flat(v)]
    return [x]


def _export(model, args, **kw):
    buf = io.BytesIO()
    ember.onnx.export(model, args, buf, **kw)
    data = buf.getvalue()
    proto = onnx.load_from_string(data)
    onnx.checker.check_model(proto)
    return data, proto


def _ops(proto):
    return {n.op_type for n in proto.graph.node}


def _compare(data, model, args, atol=1e-4):
    sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    feeds = {i.name: a.numpy() for i, a in zip(sess.get_inputs(), _flat(args))}
    got = sess.run(None, feeds)
    with ember.no_grad():
        ref = _flat(model(*args))
    assert len(got) == len(ref)
    for g, r in zip(got, ref):
        np.testing.assert_allclose(g, r.numpy(), atol=atol, rtol=1e-4)


def _check(model, args, others=(), **kw):
    """Exports ``model`` on ``args``; compares onnxruntime with ember on ``args`` and on
    each of ``others`` (other shapes, for dynamic axes)."""
    if isinstance(model, nn.Module):
        model.eval()
    data, proto = _export(model, args, **kw)
    for a in (args,) + tuple(others):
        _compare(data, model, a)
    return data, proto


# -- recurrent layers ------------------------------------------------------------------------

_RNNS = [("LSTM", {}), ("GRU", {}), ("RNN", {}), ("RNN", {"nonlinearity": "relu"})]


def _rnn_dyn(cls, batch_first):
    t, b = (1, 0) if batch_first else (0, 1)
    dyn = {"x": {t: "seq", b: "batch"}, "y": {t: "seq", b: "batch"}, "h": {1: "batch"}}
    if cls is nn.LSTM:
        dyn["c"] = {1: "batch"}
    return dyn


@pytest.mark.parametrize("name,kw", _RNNS)
@pytest.mark.parametrize("batch_first", [False, True])
def test_rnn_bidirectional_multilayer_dynamic_batch_and_length(name, kw, batch_first):
    ember.manual_seed(0)
    cls = getattr(nn, name)
    m = cls(4, 5, num_layers=2, batch_first=batch_first, bidirectional=True, **kw)
    outs = ["y", "h", "c"] if cls is nn.LSTM else ["y", "h"]
    x = ember.randn(2, 3, 4)
    x2 = ember.randn(5, 7, 4)
    _, proto = _check(m, (x,), [(x2,)], input_names=["x"], output_names=outs,
                      dynamic_axes=_rnn_dyn(cls, batch_first))
    onnx_op = {"LSTM": "LSTM", "GRU": "GRU", "RNN": "RNN"}[name]
    layers = [n for n in proto.graph.node if n.op_type == onnx_op]
    assert len(layers) == 4  # one node per layer and direction
    assert {a.s for n in layers for a in n.attribute if a.name == "direction"} == \
        {b"forward", b"reverse"}
    if name == "GRU":
        attrs = {a.name: a.i for a in layers[0].attribute}
        assert attrs["linear_before_reset"] == 1
    # the original weights are folded into reordered ones, not kept as dead initializers
    assert not any(i.name.startswith("weight_") for i in proto.graph.initializer)


@pytest.mark.parametrize("name,kw", _RNNS)
def test_rnn_initial_state_inputs(name, kw):
    ember.manual_seed(1)
    cls = getattr(nn, name)
    m = cls(3, 4, num_layers=2, **kw)
    x = ember.randn(6, 2, 3)
    h = ember.randn(2, 2, 4)
    hx = (h, ember.randn(2, 2, 4)) if cls is nn.LSTM else h
    names = ["x", "h0", "c0"] if cls is nn.LSTM else ["x", "h0"]
    dyn = {n: {1: "batch"} for n in names[1:]}
    dyn["x"] = {0: "seq", 1: "batch"}
    x2 = ember.randn(3, 5, 3)
    h2 = ember.randn(2, 5, 4)
    hx2 = (h2, ember.randn(2, 5, 4)) if cls is nn.LSTM else h2
    _check(m, (x, hx), [(x2, hx2)], input_names=names, dynamic_axes=dyn)


def test_rnn_no_bias_and_unbatched():
    ember.manual_seed(2)
    m = nn.LSTM(3, 4, bias=False)
    _check(m, (ember.randn(5, 2, 3),))
    g = nn.GRU(3, 4)
    _check(g, (ember.randn(5, 3),))  # unbatched (T, I)


def test_rnn_params_as_inputs():
    """export_params=False: the gates are reordered with graph ops."""
    ember.manual_seed(3)
    for m in (nn.LSTM(3, 4), nn.GRU(3, 4)):
        m.eval()
        x = ember.randn(4, 2, 3)
        data, proto = _export(m, (x,), input_names=["x"], export_params=False)
        sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
        params = dict(m.named_parameters())
        feeds = {i.name: (x if i.name == "x" else params[i.name]).detach().numpy()
                 for i in sess.get_inputs()}
        got = sess.run(None, feeds)
        with ember.no_grad():
            ref = _flat(m(x))
        for g_, r in zip(got, ref):
            np.testing.assert_allclose(g_, r.numpy(), atol=1e-4, rtol=1e-4)


def test_lstm_projection_raises():
    m = nn.LSTM(3, 4, proj_size=2)
    with pytest.raises(ember.onnx.OnnxExporterError, match="proj_size"):
        _export(m.eval(), (ember.randn(2, 1, 3),))


class RNNModel(nn.Module):
    """pytorch/examples word_language_model's RNNModel (encoder, RNN, decoder)."""

    def __init__(self, rnn_type, ntoken, ninp, nhid, nlayers, dropout=0.5):
        super().__init__()
        self.ntoken = ntoken
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        if rnn_type in ["LSTM", "GRU"]:
            self.rnn = getattr(nn, rnn_type)(ninp, nhid, nlayers, dropout=dropout)
        else:
            nonlinearity = {"RNN_TANH": "tanh", "RNN_RELU": "relu"}[rnn_type]
            self.rnn = nn.RNN(ninp, nhid, nlayers, nonlinearity=nonlinearity, dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)
        self.rnn_type = rnn_type
        self.nhid = nhid
        self.nlayers = nlayers

    def forward(self, input, hidden):
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        output = self.drop(output)
        decoded = self.decoder(output)
        decoded = decoded.view(-1, self.ntoken)
        return F.log_softmax(decoded, dim=1), hidden

    def init_hidden(self, bsz):
        weight = next(self.parameters())
        if self.rnn_type == "LSTM":
            return (weight.new_zeros(self.nlayers, bsz, self.nhid),
                    weight.new_zeros(self.nlayers, bsz, self.nhid))
        return weight.new_zeros(self.nlayers, bsz, self.nhid)


@pytest.mark.parametrize("rnn_type", ["LSTM", "GRU", "RNN_TANH", "RNN_RELU"])
def test_word_language_model(rnn_type):
    ember.manual_seed(0)
    m = RNNModel(rnn_type, 50, 8, 8, 2).eval()
    ids = ember.randint(0, 50, (7, 3))
    hidden = m.init_hidden(3)
    data, proto = _export(m, (ids, hidden))  # as main.py calls it
    _compare(data, m, (ids, hidden))
    # with random states and dynamic sequence length / batch
    names = ["ids", "h", "c"] if rnn_type == "LSTM" else ["ids", "h"]
    dyn = {"ids": {0: "seq", 1: "batch"}, "h": {1: "batch"}, "output_0": {0: "n"}}
    if rnn_type == "LSTM":
        dyn["c"] = {1: "batch"}
    data, _ = _export(m, (ids, hidden), input_names=names, dynamic_axes=dyn)
    ids2 = ember.randint(0, 50, (4, 5))
    h2 = _flat(m.init_hidden(5))
    h2 = tuple(ember.randn(*t.shape) for t in h2)
    _compare(data, m, (ids2, h2 if rnn_type == "LSTM" else h2[0]))


# -- upsampling and U-Net --------------------------------------------------------------------


@pytest.mark.parametrize("mode,align", [("nearest", None), ("bilinear", True),
                                        ("bilinear", False), ("bicubic", False),
                                        ("nearest-exact", None)])
def test_interpolate_dynamic_batch(mode, align):
    def f(x):
        return F.interpolate(x, scale_factor=2, mode=mode, align_corners=align) + \
            F.interpolate(x, size=(5, 7), mode=mode, align_corners=align).mean()

    x = ember.randn(2, 3, 4, 6)
    _check(f, (x,), [(ember.randn(4, 3, 4, 6),)], input_names=["x"],
           dynamic_axes={"x": [0], "output": [0]})


def test_upsample_modules_and_linear_1d():
    ember.manual_seed(0)
    m = nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True),
                      nn.UpsamplingNearest2d(scale_factor=2), nn.Conv2d(2, 2, 1))
    _check(m, (ember.randn(1, 2, 3, 3),))
    _check(lambda x: F.interpolate(x, scale_factor=3, mode="linear"), (ember.randn(2, 3, 5),))


class TinyUNet(nn.Module):
    def __init__(self, up="convT"):
        super().__init__()

        def block(i, o):
            return nn.Sequential(nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o),
                                 nn.ReLU(inplace=True))

        self.d1, self.d2, self.mid = block(3, 8), block(8, 16), block(16, 16)
        self.pool = nn.MaxPool2d(2)
        if up == "convT":
            self.up2 = nn.ConvTranspose2d(16, 16, 2, stride=2)
            self.up1 = nn.ConvTranspose2d(16, 16, 3, stride=2, padding=1, output_padding=1)
        else:
            self.up2 = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
            self.up1 = nn.Upsample(scale_factor=2, mode="nearest")
        self.u2, self.u1 = block(32, 16), block(24, 8)
        self.head = nn.Conv2d(8, 2, 1)

    def forward(self, x):
        a = self.d1(x)
        b = self.d2(self.pool(a))
        c = self.mid(self.pool(b))
        u = self.u2(ember.cat([self.up2(c), b], 1))
        u = self.u1(ember.cat([self.up1(u), a], 1))
        return self.head(u).sigmoid()


@pytest.mark.parametrize("up", ["convT", "upsample"])
def test_unet_dynamic_batch(up):
    ember.manual_seed(0)
    m = TinyUNet(up).eval()
    for bn in m.modules():
        if isinstance(bn, nn.BatchNorm2d):
            bn.running_mean.copy_(ember.randn(bn.num_features) * 0.1)
            bn.running_var.copy_(ember.rand(bn.num_features) + 0.5)
    _, proto = _check(m, (ember.randn(2, 3, 16, 16),), [(ember.randn(3, 3, 16, 16),)],
                      input_names=["x"], dynamic_axes={"x": [0], "output": [0]})
    if up == "convT":
        assert "ConvTranspose" in _ops(proto)


def test_conv_transpose_groups_dilation_1d():
    ember.manual_seed(0)
    m = nn.ConvTranspose1d(4, 6, 3, stride=2, padding=1, dilation=2, groups=2)
    _check(m, (ember.randn(2, 4, 9),))
    m = nn.ConvTranspose2d(4, 2, 3, stride=2, bias=False)
    _check(m, (ember.randn(1, 4, 5, 5),))


# -- MobileNetV2 / EfficientNet-style blocks --------------------------------------------------


class InvertedResidual(nn.Module):
    def __init__(self, inp, oup, stride, expand, act=nn.ReLU6, se=False):
        super().__init__()
        hid = inp * expand
        self.use_res = stride == 1 and inp == oup
        layers = [nn.Conv2d(inp, hid, 1, bias=False), nn.BatchNorm2d(hid), act(inplace=True),
                  nn.Conv2d(hid, hid, 3, stride, 1, groups=hid, bias=False),
                  nn.BatchNorm2d(hid), act(inplace=True)]
        if se:
            layers.append(SqueezeExcite(hid))
        layers += [nn.Conv2d(hid, oup, 1, bias=False), nn.BatchNorm2d(oup)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv(x) if self.use_res else self.conv(x)


class SqueezeExcite(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.fc1 = nn.Conv2d(c, max(1, c // 4), 1)
        self.fc2 = nn.Conv2d(max(1, c // 4), c, 1)

    def forward(self, x):
        s = F.adaptive_avg_pool2d(x, 1)
        return x * F.hardsigmoid(self.fc2(F.silu(self.fc1(s))))


class MobileNetLike(nn.Module):
    def __init__(self, act=nn.ReLU6, se=False, n=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8), act(inplace=True),
            InvertedResidual(8, 8, 1, 1, act, se), InvertedResidual(8, 12, 2, 6, act, se),
            InvertedResidual(12, 12, 1, 6, act, se), InvertedResidual(12, 16, 2, 6, act, se),
            nn.Conv2d(16, 32, 1, bias=False), nn.BatchNorm2d(32), act(inplace=True))
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(32, n))

    def forward(self, x):
        x = F.adaptive_avg_pool2d(self.features(x), (1, 1))
        return self.classifier(ember.flatten(x, 1))


@pytest.mark.parametrize("act,se", [(nn.ReLU6, False), (nn.SiLU, True),
                                    (nn.Hardswish, True)])
def test_mobilenet_efficientnet_like(act, se):
    ember.manual_seed(0)
    m = MobileNetLike(act, se).eval()
    _, proto = _check(m, (ember.randn(2, 3, 32, 32),), [(ember.randn(4, 3, 32, 32),)],
                      input_names=["x"], dynamic_axes={"x": [0], "output": [0]})
    groups = [a.i for n in proto.graph.node if n.op_type == "Conv" for a in n.attribute
              if a.name == "group"]
    assert max(groups) > 1  # depthwise convolutions kept grouped
    if act is nn.ReLU6:
        assert "Clip" in _ops(proto)


def test_vision_resnet_bottleneck_dynamic_batch():
    models = pytest.importorskip("ember.vision.models")
    ember.manual_seed(0)
    m = models.resnet50(num_classes=4).eval()
    _check(m, (ember.randn(1, 3, 32, 32),), [(ember.randn(2, 3, 32, 32),)],
           input_names=["x"], dynamic_axes={"x": [0], "output": [0]})


# -- scans, reductions, indexing, elementwise -------------------------------------------------


def _ops_cases():
    def rnd():
        return ember.randn(2, 3, 4, 5)

    return {
        "cumsum": (lambda x: x.cumsum(-1) + ember.cumsum(x, 1), rnd),
        "cumsum_int": (lambda x: (x > 0).cumsum(2), rnd),
        "max_min_dim": (lambda x: x.max(1)[0] + x.min(dim=2, keepdim=True).values.sum(), rnd),
        "max_indices": (lambda x: x.max(1)[1] + x.argmin(2).sum() + x.argmax(), rnd),
        "amin_amax": (lambda x: x.max() + x.min() + x.amin((1, 2)).sum(), rnd),
        "topk_sort": (lambda x: x.topk(2, 1)[0].sum(1) + x.sort(1, descending=True)[0][:, 0],
                      rnd),
        "gather": (lambda x: x.gather(3, x.abs().argsort(3)), rnd),
        "repeat_tile": (lambda x: x.repeat(1, 2, 1, 1).sum(1) + x[0].repeat(2, 1, 1, 1)[0].sum(0),
                        rnd),
        "roll": (lambda x: x.roll(2, 3) + x.roll((1, -1), (1, 2)) + x.roll(3), rnd),
        "var_std": (lambda x: x.var(1) + x.std((2, 3), keepdim=True).mean(1) + x.var(), rnd),
        "logsumexp": (lambda x: x.logsumexp(1) + x.logsumexp((1, 2), keepdim=True)[:, 0], rnd),
        "norms": (lambda x: F.normalize(x, dim=1) + x.norm(dim=(2, 3), keepdim=True)
                  + x.norm(p=1, dim=1, keepdim=True) + x.norm(p=3, dim=1, keepdim=True)
                  + ember.linalg.vector_norm(x, float("inf"), dim=1, keepdim=True), rnd),
        "all_any": (lambda x: (x > 0).all(1).float() + (x > 0).any(2).float().sum(1, True), rnd),
        "sum_bool": (lambda x: (x > 0).sum(1) + (x > 1).sum(), rnd),
        "baddbmm": (lambda x: ember.baddbmm(x[0, :, :, :4], x[0], x[0].transpose(1, 2)[..., :4],
                                            beta=0.5, alpha=2.0), rnd),
        "activations": (lambda x: F.prelu(x, ember.tensor([0.1, 0.2, 0.3])) + F.logsigmoid(x)
                        + F.selu(x) + F.celu(x, 0.7) + F.hardshrink(x) + F.softshrink(x, 0.3)
                        + F.threshold(x, 0.2, -1.0) + F.softmin(x, 1), rnd),
        "elementwise": (lambda x: x.expm1() + x.abs().log1p() + x.exp2()
                        + x.sigmoid().logit() + (x / 0).nan_to_num(0.0, 1.0, -1.0)
                        + x.clamp(min=ember.zeros(5) - 0.5, max=ember.ones(5)), rnd),
        "remainder": (lambda x: x % 1.5 + (x * 3) // 2 + ember.fmod(x * 3, 2), rnd),
        "int_division": (lambda x: ((x * 10).long() // 3 + (x * 10).long() % 3).float(), rnd),
        "einsum": (lambda x: ember.einsum("bchw,bchw->bc", x, x), rnd),
    }


@pytest.mark.parametrize("case", sorted(_ops_cases()))
def test_ops(case):
    f, make = _ops_cases()[case]
    ember.manual_seed(0)
    x = make()
    _check(f, (x,))


def test_prelu_module_dynamic_batch():
    ember.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(3, 4, 1), nn.PReLU(4), nn.Conv2d(4, 2, 1), nn.PReLU())
    _check(m, (ember.randn(2, 3, 4, 4),), [(ember.randn(5, 3, 4, 4),)], input_names=["x"],
           dynamic_axes={"x": [0], "output": [0]})


def test_still_unmapped_op_names_itself():
    with pytest.raises(ember.onnx.OnnxExporterError, match="linalg_det"):
        _export(lambda x: ember.linalg.det(x), (ember.randn(3, 3),))


@pytest.mark.parametrize("opset", [13, 18, 21])
def test_reductions_and_lstm_other_opsets(opset):
    ember.manual_seed(0)
    cases = _ops_cases()
    for name in ("norms", "logsumexp", "max_min_dim", "all_any", "var_std"):
        f, make = cases[name]
        _check(f, (make(),), opset_version=opset)
    _check(nn.LSTM(3, 4, 2, bidirectional=True), (ember.randn(3, 2, 3),), opset_version=opset)
