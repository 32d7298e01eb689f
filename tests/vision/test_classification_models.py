"""ember.vision.models classification families beyond ResNet (VGG, AlexNet, SqueezeNet,
MobileNet V2/V3, EfficientNet V1/V2, DenseNet, ShuffleNet V2, MNASNet, RegNet, ConvNeXt,
ViT, GoogLeNet, Inception V3, Swin V1/V2) against torchvision 0.29.1: outputs from seeded
weights, train-mode gradients in float64, state_dict layouts, parameter counts and the
declared weights (golden file made by tools/fixtures/vision_classification_golden.py)."""

import contextlib
import json
import warnings

import ember
import numpy as np
import pytest
from ember.vision import models
from vision_classification_golden import FORWARD, LAYOUT, TRAIN64, seeded_model_state
from vision_helpers import assert_close, load_golden


@pytest.fixture(scope="module")
def golden():
    return load_golden("classification.npz")


@contextlib.contextmanager
def skip_init():
    """Builds modules without drawing their random initial weights (the tests overwrite
    them with seeded ones, or only look at the structure)."""
    from ember.nn import init

    names = ["kaiming_uniform_", "kaiming_normal_", "uniform_", "normal_", "trunc_normal_",
             "xavier_uniform_", "constant_", "zeros_", "ones_"]
    saved = {n: getattr(init, n) for n in names}
    try:
        for n in names:
            setattr(init, n, lambda tensor, *a, **k: tensor)
        yield
    finally:
        for n, f in saved.items():
            setattr(init, n, f)


def _seeded(builder, kwargs, seed):
    with skip_init(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = getattr(models, builder)(**kwargs)
    sd = m.state_dict()
    for k, v in seeded_model_state(sd, seed).items():
        sd[k] = ember.from_numpy(v)
    m.load_state_dict(sd, assign=True)  # no copy of the (large) seeded arrays
    return m


# the largest (over 130M parameters: about 0.5-2.6 GB of float32 arrays)
_SLOW_FORWARD = {"vgg11_bn", "vgg16_bn"}
_SLOW_LAYOUT = {"regnet_y_128gf", "vit_h_14"}


def _params(names, slow):
    return [pytest.param(n, marks=pytest.mark.slow) if n in slow else n for n in names]


@pytest.mark.parametrize("case", _params(FORWARD, _SLOW_FORWARD))
def test_eval_forward_matches_torchvision(golden, case):
    builder, kwargs, shape, seed = FORWARD[case]
    m = _seeded(builder, kwargs, seed).eval()
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    with ember.no_grad():
        out = m(ember.from_numpy(x))
    assert out.dtype == ember.float32
    assert_close(out, golden[f"{case}_eval"], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("case", _params(TRAIN64, {"vit_b_32"}))
def test_train_forward_backward_matches_torchvision_float64(golden, case):
    builder, kwargs, shape, seed = TRAIN64[case]
    m = _seeded(builder, kwargs, seed).double().train()
    xt = ember.from_numpy(np.random.default_rng(seed).standard_normal(shape)).requires_grad_()
    out = m(xt)
    key = f"{case}_train64"
    assert_close(out, golden[key], rtol=1e-4, atol=1e-5)
    w = np.random.default_rng(seed + 1).standard_normal(tuple(out.shape))
    (out * ember.from_numpy(w)).sum().backward()
    assert_close(xt.grad[:, :, :8, :8], golden[key + "_input_grad"], 1e-4, 1e-5, scaled=True)
    params = list(m.parameters())
    for which, p in (("first", params[0]), ("mid", params[len(params) // 2]),
                     ("last", params[-1])):
        assert_close(p.grad.flatten()[:256], golden[f"{key}_{which}_grad"], 1e-4, 1e-5,
                     scaled=True)


@pytest.mark.parametrize("name", _params(LAYOUT, _SLOW_LAYOUT))
def test_state_dict_layout_and_param_count_match_torchvision(golden, name):
    keys = str(golden[f"{name}_keys"]).split("\n")
    shapes = [tuple(int(d) for d in s if d) for s in golden[f"{name}_shapes"]]
    with skip_init(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = getattr(models, name)()
    sd = m.state_dict()
    assert list(sd) == keys
    assert [tuple(d for d in v.shape if d) for v in sd.values()] == shapes
    assert sum(p.numel() for p in m.parameters()) == int(golden[f"{name}_num_params"])


@pytest.mark.parametrize("name", LAYOUT)
def test_weights_enum_declares_torchvision_checkpoints(golden, name):
    facts = json.loads(str(golden["weights_facts"]))[name]
    enum = models.get_model_weights(name)
    assert enum.__name__ == facts["enum"]
    assert sorted(enum.__members__) == sorted(facts["members"])
    for member_name, want in facts["members"].items():
        w = enum[member_name]
        assert w.url == want["url"]
        prefix = w.url.rsplit("-", 1)[1].split(".")[0]
        assert len(prefix) >= 8 and all(c in "0123456789abcdef" for c in prefix)
        meta = {k: v for k, v in w.meta.items() if k != "categories"}
        cats = w.meta["categories"]
        meta["n_categories"] = None if cats is None else len(cats)
        meta["min_size"] = list(meta["min_size"])
        # through JSON: NaN metrics (VGG16's feature-only weights) compare equal as text
        assert json.dumps(meta, sort_keys=True) == json.dumps(want["meta"], sort_keys=True)
        t = w.transforms()
        assert [t.crop_size, t.resize_size, t.mean, t.std, t.interpolation.value] == \
            want["transforms"]


def test_registry_lists_and_builds_the_new_models():
    names = models.list_models()
    assert set(LAYOUT) <= set(names)
    assert models.list_models(module=models.vgg) == sorted(n for n in LAYOUT
                                                            if n.startswith("vgg"))
    assert models.get_model_weights("mobilenet_v3_small") is models.MobileNet_V3_Small_Weights
    assert models.get_weight("ViT_B_16_Weights.IMAGENET1K_SWAG_E2E_V1").meta["min_size"] == \
        (384, 384)
    m = models.get_model("squeezenet1_1", num_classes=10)
    with ember.no_grad():
        assert m.eval()(ember.zeros(1, 3, 32, 32)).shape == (1, 10)


def test_keyword_arguments_follow_torchvision():
    m = models.mobilenet_v3_small(num_classes=7, dropout=0.5,
                                  norm_layer=ember.nn.BatchNorm2d)
    assert m.classifier[-1].out_features == 7 and m.classifier[2].p == 0.5
    m = models.efficientnet_b0(num_classes=3, dropout=0.1, stochastic_depth_prob=0.0)
    assert m.classifier[0].p == 0.1 and m.classifier[1].out_features == 3
    with pytest.raises(ValueError, match="num_classes"):
        models.vgg11(weights=models.VGG11_Weights.DEFAULT, num_classes=10)
    with pytest.raises(TypeError, match="Invalid Weight class"):
        models.alexnet(weights=models.VGG11_Weights.DEFAULT)
    with pytest.warns(UserWarning, match="deprecated"):
        m = models.squeezenet1_0(pretrained=False)
    assert isinstance(m, models.SqueezeNet)


def test_googlenet_returns_aux_outputs_in_training():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = models.googlenet(init_weights=False)
    out = g.train()(ember.randn(2, 3, 64, 64))
    assert isinstance(out, models.GoogLeNetOutputs)
    assert out.logits.shape == out.aux_logits1.shape == out.aux_logits2.shape == (2, 1000)
    with ember.no_grad():
        assert g.eval()(ember.randn(1, 3, 64, 64)).shape == (1, 1000)


@pytest.mark.slow
def test_inception_v3_returns_aux_outputs_in_training():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inc = models.inception_v3(init_weights=False)
    out = inc.train()(ember.randn(2, 3, 299, 299))  # the aux head needs 17x17 maps
    assert isinstance(out, models.InceptionOutputs)
    assert out.logits.shape == out.aux_logits.shape == (2, 1000)
