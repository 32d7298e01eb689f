"""ember.vision.models.segmentation (FCN, DeepLabV3, Lite R-ASPP) against torchvision
0.29.1: eval and train-mode outputs from seeded weights, a float64 train step's gradients,
state_dict layouts, parameter counts, the declared weights and the SemanticSegmentation
preset (golden file made by tools/fixtures/vision_segmentation_golden.py), plus the
builders' argument rules."""

import json
import warnings
from collections import OrderedDict

import ember
import numpy as np
import pytest
from ember.vision import models
from ember.vision.models import segmentation as seg
from ember.vision.transforms._presets import SemanticSegmentation
from vision_helpers import assert_close, load_golden, skip_init
from vision_segmentation_golden import (
    BUILDERS,
    EVAL,
    LAYOUT,
    PRESET,
    TRAIN32,
    TRAIN64,
    head_weights,
    preset_input,
    seeded_model_state,
    summary,
)


@pytest.fixture(scope="module")
def golden():
    return load_golden("segmentation.npz")


def _seeded(builder, kwargs, seed):
    with skip_init():
        m = getattr(seg, builder)(weights=None, weights_backbone=None, **kwargs)
    sd = m.state_dict()
    for k, v in seeded_model_state(sd, seed).items():
        sd[k] = ember.from_numpy(v)
    m.load_state_dict(sd, assign=True)
    return m


def _no_dropout(m):
    for mod in m.modules():
        if isinstance(mod, ember.nn.Dropout):
            mod.p = 0.0


def _check_outputs(out, golden, prefix, kwargs, rtol, atol):
    """``out`` is an OrderedDict "out" (+ "aux") whose summaries match the golden ones."""
    assert isinstance(out, OrderedDict)
    assert list(out) == (["out", "aux"] if kwargs.get("aux_loss") else ["out"])
    for key, val in out.items():
        got = summary(val.detach().numpy())
        for part, arr in got.items():
            assert_close(arr, golden[f"{prefix}_{key}_{part}"], rtol, atol, scaled=True)


@pytest.mark.parametrize("case", list(EVAL))
def test_eval_outputs_match_torchvision(golden, case):
    builder, kwargs, shape, seed = EVAL[case]
    m = _seeded(builder, kwargs, seed).eval()
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    with ember.no_grad():
        out = m(ember.from_numpy(x))
    for val in out.values():
        assert val.dtype == ember.float32
        assert tuple(val.shape) == (shape[0], kwargs.get("num_classes", 21)) + shape[2:]
    _check_outputs(out, golden, f"eval_{case}", kwargs, 1e-4, 1e-5)


@pytest.mark.parametrize("case", list(TRAIN32))
def test_train_mode_outputs_match_torchvision(golden, case):
    builder, kwargs, shape, seed = TRAIN32[case]
    m = _seeded(builder, kwargs, seed).train()
    _no_dropout(m)
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    out = m(ember.from_numpy(x))
    # batch statistics over few values (ASPP's pooled branch normalises 2 numbers per
    # channel) amplify float32 rounding: torch's own float32 and float64 runs of the
    # DeepLabV3 case differ by 3e-4; the float64 test below is the tight check
    _check_outputs(out, golden, f"train32_{case}", kwargs, 1e-3, 1e-3)


@pytest.mark.parametrize("case", list(TRAIN64))
def test_train_step_gradients_match_torchvision_float64(golden, case):
    builder, kwargs, shape, seed = TRAIN64[case]
    m = _seeded(builder, kwargs, seed).double().train()
    _no_dropout(m)
    xt = ember.from_numpy(np.random.default_rng(seed).standard_normal(shape))
    xt.requires_grad_()
    out = m(xt)
    _check_outputs(out, golden, f"train64_{case}", kwargs, 1e-7, 1e-9)
    ws = head_weights({k: v.detach().numpy() for k, v in out.items()}, seed)
    loss = sum((v * ember.from_numpy(ws[k])).sum() for k, v in out.items())
    loss.backward()
    key = f"train64_{case}"
    assert_close(xt.grad[:, :, :8, :8], golden[key + "_input_grad"], 1e-6, 1e-9, scaled=True)
    grads = [p.grad.detach().numpy().reshape(-1) for p in m.parameters()]
    assert_close(np.concatenate([g[:16] for g in grads]), golden[key + "_param_grad_head"],
                 1e-6, 1e-9, scaled=True)
    assert_close(np.array([np.linalg.norm(g) for g in grads]), golden[key + "_param_grad_norm"],
                 1e-6, 1e-9)


@pytest.mark.parametrize("name", list(LAYOUT))
def test_state_dict_layout_and_param_count_match_torchvision(golden, name):
    builder, kwargs = LAYOUT[name]
    with skip_init():
        m = getattr(seg, builder)(weights_backbone=None, **kwargs)
    sd = m.state_dict()
    assert list(sd) == str(golden[f"layout_{name}_keys"]).split("\n")
    shapes = [tuple(int(d) for d in s if d) for s in golden[f"layout_{name}_shapes"]]
    assert [tuple(d for d in v.shape if d) for v in sd.values()] == shapes
    assert sum(p.numel() for p in m.parameters()) == int(golden[f"layout_{name}_num_params"])


@pytest.mark.parametrize("name", BUILDERS)
def test_weights_enum_declares_torchvision_checkpoints(golden, name):
    facts = json.loads(str(golden["weights_facts"]))[name]
    enum = models.get_model_weights(name)
    assert enum is getattr(seg, facts["enum"])
    assert sorted(enum.__members__) == sorted(facts["members"])
    assert enum.DEFAULT is enum.COCO_WITH_VOC_LABELS_V1
    for member_name, want in facts["members"].items():
        w = enum[member_name]
        assert w.url == want["url"]
        prefix = w.url.rsplit("-", 1)[1].split(".")[0]
        assert len(prefix) >= 8 and all(c in "0123456789abcdef" for c in prefix)
        assert w.meta["categories"] == want["categories"]
        meta = {k: v for k, v in w.meta.items() if k != "categories"}
        meta["min_size"] = list(meta["min_size"])
        assert json.dumps(meta, sort_keys=True) == json.dumps(want["meta"], sort_keys=True)
        t = w.transforms()
        assert [type(t).__name__, t.resize_size, t.mean, t.std, t.interpolation.value,
                t.antialias, repr(t)] == want["transforms"]


@pytest.mark.parametrize("case", list(PRESET))
def test_semantic_segmentation_preset_matches_torchvision(golden, case):
    import PIL.Image

    size, kind, seed = PRESET[case]
    arr = preset_input(kind, seed)
    if kind == "pil":
        img = PIL.Image.fromarray(arr)
    elif kind == "uint8":
        img = ember.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))
    else:
        img = ember.from_numpy(arr)
    out = SemanticSegmentation(resize_size=size)(img)
    assert out.dtype == ember.float32
    want = golden[f"preset_{case}"]
    if kind == "uint8":
        # torch's uint8 antialiased resize rounds in fixed point: a value on a .5 tie may
        # land one level away from ember's (one level = 1 / 255 / std after normalising)
        step = 1 / 255 / 0.224 + 1e-5
        diff = np.abs(out.numpy() - want)
        assert diff.max() <= step and (diff > 1e-5).mean() < 0.01
    else:
        assert_close(out, want, 1e-5, 1e-5)
    assert "resize_size=[520]" in SemanticSegmentation(resize_size=520).describe()


def test_registry_lists_and_builds_the_segmentation_models():
    assert models.list_models(module=seg) == sorted(BUILDERS)
    assert set(BUILDERS) <= set(models.list_models())
    assert not set(BUILDERS) & set(models.list_models(module=models))
    assert models.get_model_weights("deeplabv3_resnet50") is seg.DeepLabV3_ResNet50_Weights
    assert models.get_weight("LRASPP_MobileNet_V3_Large_Weights.DEFAULT") is \
        seg.LRASPP_MobileNet_V3_Large_Weights.COCO_WITH_VOC_LABELS_V1
    m = models.get_model("lraspp_mobilenet_v3_large", weights_backbone=None, num_classes=3)
    assert isinstance(m, seg.LRASPP)
    with ember.no_grad():
        out = m.eval()(ember.zeros(1, 3, 33, 47))
    assert list(out) == ["out"] and out["out"].shape == (1, 3, 33, 47)
    assert seg.fcn.FCNHead is seg.FCNHead and seg.deeplabv3.ASPP is seg.ASPP


@pytest.fixture
def fake_download(monkeypatch):
    """Records every checkpoint request and answers it with an error, so no builder
    downloads anything."""
    asked = []

    def get_state_dict(self, *args, **kwargs):
        asked.append(self)
        raise RuntimeError("no download in tests")

    monkeypatch.setattr(models.WeightsEnum, "get_state_dict", get_state_dict)
    return asked


def test_weights_fix_num_classes_and_aux_loss(fake_download):
    w = seg.FCN_ResNet50_Weights.DEFAULT
    with pytest.raises(ValueError, match="The parameter 'num_classes' expected value 21 but "
                       "got 10 instead."):
        seg.fcn_resnet50(weights=w, num_classes=10)
    with pytest.raises(ValueError, match="The parameter 'aux_loss' expected value True but "
                       "got False instead."):
        seg.deeplabv3_resnet50(weights=seg.DeepLabV3_ResNet50_Weights.DEFAULT, aux_loss=False)
    with pytest.raises(ValueError, match="num_classes"):
        seg.lraspp_mobilenet_v3_large(weights="COCO_WITH_VOC_LABELS_V1", num_classes=2)
    assert fake_download == []
    # full weights: the model (with its aux head) is built, then only they are requested
    with pytest.raises(RuntimeError, match="no download"):
        seg.fcn_resnet50(weights="COCO_WITH_VOC_LABELS_V1", num_classes=21,
                         weights_backbone=models.ResNet50_Weights.IMAGENET1K_V1)
    assert fake_download == [w]


def test_backbone_weights_are_requested_by_default(fake_download):
    with pytest.raises(RuntimeError, match="no download"):
        seg.deeplabv3_mobilenet_v3_large()
    with pytest.raises(RuntimeError, match="no download"):
        seg.fcn_resnet101(weights_backbone="IMAGENET1K_V2")
    assert fake_download == [models.MobileNet_V3_Large_Weights.IMAGENET1K_V1,
                             models.ResNet101_Weights.IMAGENET1K_V2]


def test_wrong_weights_and_aux_loss_are_rejected(fake_download):
    with pytest.raises(TypeError, match="Invalid Weight class"):
        seg.fcn_resnet50(weights=seg.FCN_ResNet101_Weights.DEFAULT)
    with pytest.raises(TypeError, match="Invalid Weight class"):
        seg.deeplabv3_resnet50(weights_backbone=models.ResNet101_Weights.IMAGENET1K_V1)
    with pytest.raises(ValueError, match="is not a member"):
        seg.fcn_resnet50(weights="IMAGENET1K_V1")
    with pytest.raises(NotImplementedError, match="This model does not use auxiliary loss"):
        seg.lraspp_mobilenet_v3_large(weights_backbone=None, aux_loss=True)
    assert isinstance(seg.lraspp_mobilenet_v3_large(weights_backbone=None, aux_loss=False),
                      seg.LRASPP)
    assert fake_download == []


def test_legacy_pretrained_flags_warn_and_map_to_weights(fake_download):
    with pytest.warns(UserWarning, match="deprecated"):
        m = seg.deeplabv3_resnet50(pretrained_backbone=False, num_classes=2)
    assert m.aux_classifier is None and m.classifier[-1].out_channels == 2
    with pytest.warns(UserWarning, match="deprecated"), \
            pytest.raises(RuntimeError, match="no download"):
        seg.lraspp_mobilenet_v3_large(pretrained=True)
    assert fake_download == [seg.LRASPP_MobileNet_V3_Large_Weights.COCO_WITH_VOC_LABELS_V1]


def test_heads_follow_torchvision_structure():
    head = seg.DeepLabHead(16, 3, atrous_rates=(2, 5))
    aspp = head[0]
    assert isinstance(aspp, seg.ASPP) and len(aspp.convs) == 4
    assert [type(b).__name__ for b in aspp.convs] == ["Sequential", "ASPPConv", "ASPPConv",
                                                      "ASPPPooling"]
    assert aspp.convs[2][0].dilation == (5, 5) and aspp.convs[2][0].padding == (5, 5)
    assert aspp.project[0].in_channels == 4 * 256 and aspp.project[3].p == 0.5
    x = ember.randn(2, 16, 7, 9)
    with ember.no_grad():
        assert head.eval()(x).shape == (2, 3, 7, 9)
        pooled = aspp.convs[3].eval()(x)
    assert pooled.shape == (2, 256, 7, 9)
    p = pooled.numpy()
    assert np.array_equal(p, np.broadcast_to(p[:, :, :1, :1], p.shape))
    fcn_head = seg.FCNHead(40, 5)
    assert fcn_head[0].out_channels == 10 and fcn_head[3].p == 0.1
    assert fcn_head[4].out_channels == 5
    lr = seg.LRASPP(ember.nn.Identity(), 4, 8, 3, inter_channels=6)
    assert lr.classifier.cbr[0].out_channels == 6


def test_custom_backbone_models_resize_outputs_to_the_input():
    class TwoScales(ember.nn.Module):
        def __init__(self):
            super().__init__()
            self.c1 = ember.nn.Conv2d(3, 8, 3, stride=2, padding=1)
            self.c2 = ember.nn.Conv2d(8, 12, 3, stride=2, padding=1)

        def forward(self, x):
            a = self.c1(x)
            b = self.c2(a)
            return {"out": b, "aux": a, "high": b, "low": a}

    x = ember.randn(2, 3, 21, 30)
    with ember.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("error")
        fcn = seg.FCN(TwoScales(), seg.FCNHead(12, 4), seg.FCNHead(8, 4)).eval()
        out = fcn(x)
        assert list(out) == ["out", "aux"]
        assert out["out"].shape == out["aux"].shape == (2, 4, 21, 30)
        dl = seg.DeepLabV3(TwoScales(), seg.DeepLabHead(12, 2)).eval()
        assert list(dl(x)) == ["out"] and dl(x)["out"].shape == (2, 2, 21, 30)
        lr = seg.LRASPP(TwoScales(), 8, 12, 5, inter_channels=16).eval()
        assert lr(x)["out"].shape == (2, 5, 21, 30)


def test_pretrained_weights_load_into_the_built_model(monkeypatch):
    with skip_init():
        donor = seg.lraspp_mobilenet_v3_large(weights_backbone=None)
    sd = {k: ember.from_numpy(v) for k, v in seeded_model_state(donor.state_dict(), 5).items()}
    asked = []

    def get_state_dict(self, *args, **kwargs):
        asked.append((self, kwargs))
        return sd

    monkeypatch.setattr(models.WeightsEnum, "get_state_dict", get_state_dict)
    m = seg.lraspp_mobilenet_v3_large(weights="DEFAULT", progress=False)
    assert asked == [(seg.LRASPP_MobileNet_V3_Large_Weights.COCO_WITH_VOC_LABELS_V1,
                      {"progress": False, "check_hash": True})]
    got = m.state_dict()
    assert sorted(got) == sorted(sd)
    assert all(np.array_equal(got[k].numpy(), sd[k].numpy()) for k in sd)
