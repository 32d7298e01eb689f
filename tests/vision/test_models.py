"""ember.vision.models: ResNet-family parity with torchvision (golden outputs from seeded
weights), state_dict layouts, the weights enums and the registry."""

import ember
import numpy as np
import pytest
from ember.vision import models
from vision_helpers import assert_close, skip_init
from vision_recipe import seeded_state

MODELS = {  # as in tools/fixtures/make_vision_golden.py: (input shape, seed)
    "resnet18": ((2, 3, 64, 64), 18),
    "resnet50": ((2, 3, 64, 64), 50),
    "resnext50_32x4d": ((2, 3, 32, 32), 5032),
    "wide_resnet50_2": ((2, 3, 32, 32), 502),
}
ALL = ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d",
       "resnext101_32x8d", "resnext101_64x4d", "wide_resnet50_2", "wide_resnet101_2"]


def _seeded(name):
    shape, seed = MODELS[name]
    with skip_init():
        m = getattr(models, name)()
    state = seeded_state({k: tuple(v.shape) for k, v in m.state_dict().items()}, seed)
    m.load_state_dict({k: ember.from_numpy(v) for k, v in state.items()})
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return m, x, state


@pytest.mark.parametrize("name", list(MODELS))
def test_eval_forward_matches_torchvision(models_golden, name):
    m, x, _ = _seeded(name)
    m.eval()
    with ember.no_grad():
        out = m(ember.from_numpy(x))
    assert out.dtype == ember.float32 and out.shape == (2, 1000)
    assert_close(out, models_golden[f"{name}_eval"], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["resnet18", "resnet50",
                                  pytest.param("resnext50_32x4d", marks=pytest.mark.slow),
                                  pytest.param("wide_resnet50_2", marks=pytest.mark.slow)])
def test_train_forward_backward_matches_torchvision_float64(models_golden, name):
    m, x, _ = _seeded(name)
    m = m.double().train()
    xt = ember.from_numpy(x.astype(np.float64)).requires_grad_()
    out = m(xt)
    key = f"{name}_train64"
    assert_close(out, models_golden[key], rtol=1e-4, atol=1e-5)
    w = np.random.default_rng(MODELS[name][1] + 1).standard_normal(tuple(out.shape))
    (out * ember.from_numpy(w)).sum().backward()
    assert_close(xt.grad[:, :, :12, :12], models_golden[key + "_input_grad"], 1e-4, 1e-5,
                 scaled=True)
    assert_close(m.fc.weight.grad[:8, :64], models_golden[key + "_fc_weight_grad"], 1e-4,
                 1e-5, scaled=True)
    assert_close(m.conv1.weight.grad[:4], models_golden[key + "_conv1_weight_grad"], 1e-4,
                 1e-5, scaled=True)
    assert_close(m.bn1.running_mean, models_golden[key + "_bn1_running_mean"], 1e-4, 1e-6)
    assert_close(m.bn1.running_var, models_golden[key + "_bn1_running_var"], 1e-4, 1e-6)


def test_resnet18_train_forward_float32(models_golden):
    m, x, _ = _seeded("resnet18")
    out = m.train()(ember.from_numpy(x))
    assert_close(out, models_golden["resnet18_train32"], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", ALL)
def test_state_dict_layout_matches_torchvision(models_golden, name):
    keys = str(models_golden[f"{name}_keys"]).split("\n")
    shapes = [tuple(int(d) for d in s if d) for s in models_golden[f"{name}_shapes"]]
    with skip_init():
        sd = getattr(models, name)().state_dict()
    assert list(sd) == keys
    got = [tuple(v.shape) for v in sd.values()]
    assert [tuple(d for d in s if d) for s in got] == shapes


@pytest.mark.parametrize("name", ALL)
def test_weights_enum_declares_torchvision_files(name):
    enum = models.get_model_weights(name)
    for w in enum:
        assert w.url.startswith("https://download.pytorch.org/models/")
        assert w.url.endswith(".pth")
        prefix = w.url.rsplit("-", 1)[1][:-4]
        assert len(prefix) >= 8 and all(c in "0123456789abcdef" for c in prefix)
        assert len(w.meta["categories"]) == 1000
        metrics = w.meta["_metrics"]["ImageNet-1K"]
        assert 60 < metrics["acc@1"] < metrics["acc@5"] < 100
        assert w.meta["recipe"].startswith("https://github.com/pytorch/vision")
        preset = w.transforms()
        assert preset.crop_size == [224]
    assert enum.DEFAULT in list(enum)


def test_weights_metadata_examples():
    w = models.ResNet50_Weights.IMAGENET1K_V1
    assert w.url == "https://download.pytorch.org/models/resnet50-0676ba61.pth"
    v2 = models.ResNet50_Weights.IMAGENET1K_V2
    assert v2.url == "https://download.pytorch.org/models/resnet50-11ad3fa6.pth"
    assert models.ResNet50_Weights.DEFAULT is v2
    assert v2.meta["num_params"] == 25557032
    assert v2.meta["_metrics"]["ImageNet-1K"] == {"acc@1": 80.858, "acc@5": 95.434}
    assert v2.transforms().resize_size == [232]
    assert w.meta["categories"][0] == "tench" and w.meta["categories"][999] == "toilet tissue"
    assert repr(w) == "ResNet50_Weights.IMAGENET1K_V1"


@pytest.mark.parametrize("name", ["resnet18", "resnet50"])
def test_num_params_matches_meta(name):
    with skip_init():
        m = getattr(models, name)()
    n = sum(p.numel() for p in m.parameters())
    assert n == models.get_model_weights(name).DEFAULT.meta["num_params"]


def test_registry_helpers():
    assert models.list_models(module=models.resnet) == sorted(ALL)
    assert models.list_models(include="resnext*") == ["resnext101_32x8d", "resnext101_64x4d",
                                                      "resnext50_32x4d"]
    assert "resnet18" not in models.list_models(exclude="resnet1*")
    assert models.get_model_weights("resnet18") is models.ResNet18_Weights
    assert models.get_model_weights(models.resnet34) is models.ResNet34_Weights
    assert models.get_weight("ResNet50_Weights.IMAGENET1K_V2") is \
        models.ResNet50_Weights.IMAGENET1K_V2
    m = models.get_model("resnet18", num_classes=10)
    assert m.fc.out_features == 10
    with pytest.raises(ValueError, match="Unknown model"):
        models.get_model("resnet19")


def test_weights_verify_accepts_names_and_rejects_other_enums():
    e = models.ResNet18_Weights
    assert e.verify("IMAGENET1K_V1") is e.IMAGENET1K_V1
    assert e.verify("ResNet18_Weights.DEFAULT") is e.IMAGENET1K_V1
    with pytest.raises(TypeError, match="Invalid Weight class"):
        models.resnet18(weights=models.ResNet34_Weights.DEFAULT)
    with pytest.raises(ValueError, match="num_classes"):
        e.verify(None)
        models.resnet18(weights=e.DEFAULT, num_classes=10)


def _fake_checkpoint(tmp_path, name, state):
    """A torch-format checkpoint of ``state`` named like torchvision's files (sha256
    prefix in the name), written by ember.save."""
    import hashlib

    raw = tmp_path / "raw.pth"
    ember.save({k: ember.from_numpy(v) for k, v in state.items()}, str(raw))
    digest = hashlib.sha256(raw.read_bytes()).hexdigest()
    return raw.read_bytes(), f"{name}-{digest[:8]}.pth"


def test_weights_download_through_hub_with_hash_check(server, tmp_path, monkeypatch):
    from ember.vision.models import resnet as resnet_mod

    m, x, state = _seeded("resnet18")
    data, fname = _fake_checkpoint(tmp_path, "resnet18", state)
    url = server.add("/models/" + fname, data)
    w = resnet_mod.Weights(url=url, transforms=models.ResNet18_Weights.DEFAULT.transforms,
                           meta=models.ResNet18_Weights.DEFAULT.meta)
    Fake = resnet_mod.WeightsEnum("ResNet18_Weights", {"IMAGENET1K_V1": w})
    monkeypatch.setattr(resnet_mod.ResNet18_Weights, "verify", classmethod(
        lambda cls, obj: obj))
    model = models.resnet18(weights=Fake.IMAGENET1K_V1, progress=False)
    sd = model.state_dict()
    np.testing.assert_array_equal(sd["fc.weight"].numpy(), state["fc.weight"])
    # a corrupted file under a hashed name is rejected, not loaded
    bad = server.add("/models/resnet18-00000000.pth", data)
    wb = resnet_mod.Weights(url=bad, transforms=w.transforms, meta=w.meta)
    Bad = resnet_mod.WeightsEnum("ResNet18_Weights", {"IMAGENET1K_V1": wb})
    with pytest.raises(RuntimeError):
        models.resnet18(weights=Bad.IMAGENET1K_V1, progress=False)


def test_legacy_pretrained_flag_warns():
    with pytest.warns(UserWarning, match="deprecated"):
        m = models.resnet18(pretrained=False)
    assert isinstance(m, models.ResNet)


def test_zero_init_residual_and_dilation():
    m = models.resnet50(zero_init_residual=True, replace_stride_with_dilation=[False, True,
                                                                              True])
    assert float(m.layer1[0].bn3.weight.abs().sum()) == 0.0
    with ember.no_grad():
        feats = m.layer4(m.layer3(m.layer2(m.layer1(m.maxpool(m.relu(m.bn1(m.conv1(
            ember.zeros(1, 3, 64, 64)))))))))
    assert feats.shape == (1, 2048, 8, 8)


def test_intermediate_layer_getter_and_feature_extractor():
    from ember.vision.models._utils import IntermediateLayerGetter
    from ember.vision.models.feature_extraction import create_feature_extractor

    m, x, _ = _seeded("resnet18")
    m.eval()
    xt = ember.from_numpy(x[:1])
    getter = IntermediateLayerGetter(m, {"layer1": "feat1", "layer3": "feat2"})
    assert "layer4" not in dict(getter.named_children())
    with ember.no_grad():
        out = getter(xt)
        assert list(out) == ["feat1", "feat2"]
        assert out["feat1"].shape == (1, 64, 16, 16) and out["feat2"].shape == (1, 256, 4, 4)
        ext = create_feature_extractor(m, {"layer1": "a", "layer4.1.relu_1": "b", "fc": "c",
                                           "x": "inp"})
        res = ext(xt)
        full = m(xt)
        h = m.layer3(m.layer2(out["feat1"]))
        last = m.layer4(h)
    assert list(res) == ["a", "b", "c", "inp"]
    assert_close(res["a"], out["feat1"].numpy())
    assert_close(res["b"], last.numpy())  # the block's output is its second relu call
    assert_close(res["c"], full.numpy())
    with pytest.raises(ValueError, match="not present"):
        create_feature_extractor(m, ["layer9"])
