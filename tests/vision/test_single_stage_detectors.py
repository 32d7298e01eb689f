"""RetinaNet (v1, v2), FCOS, SSD300-VGG16 and SSDlite320-MobileNetV3 against torchvision
0.29.1: eval detections and training losses (float32, and float64 with gradients) from
seeded weights, the single-stage building blocks (default boxes, matchers, the linear box
coder, the box losses), state_dict layouts, parameter counts and the declared weights
(golden file made by tools/fixtures/vision_single_stage_golden.py)."""

import functools
import json
import warnings

import ember
import numpy as np
import pytest
from ember.vision import models
from ember.vision.models import detection
from ember.vision.models.detection import _utils as U
from ember.vision.models.detection.anchor_utils import DefaultBoxGenerator
from ember.vision.models.detection.image_list import ImageList
from vision_helpers import assert_close, load_golden, skip_init
from vision_recipe import seeded_state
from vision_single_stage_golden import (
    CASES,
    ENUMS,
    GRAD_KEYS,
    LAYOUT,
    function_inputs,
    grad_slice,
    inputs,
    make_model,
)


@pytest.fixture(scope="module")
def golden():
    return load_golden("single_stage.npz")


@pytest.fixture(scope="module")
def fin():
    return {k: ember.from_numpy(v) for k, v in function_inputs().items()}


@functools.lru_cache(maxsize=1)
def _built(case):
    """The case's model (weights not drawn) and its seeded state."""
    with skip_init(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = make_model(ember.vision, case)
    state = seeded_state({k: tuple(v.shape) for k, v in m.state_dict().items()}, CASES[case][2])
    return m, state


def _seeded_model(case):
    """The case's model with fresh copies of the recipe's weights."""
    m, state = _built(case)
    m.load_state_dict({k: ember.from_numpy(v.copy()) for k, v in state.items()}, assign=True)
    return m


def _targets(targets, dtype=None):
    out = []
    for t in targets:
        boxes = ember.from_numpy(t["boxes"])
        out.append({"boxes": boxes if dtype is None else boxes.to(dtype),
                    "labels": ember.from_numpy(t["labels"])})
    return out


# ------------------------------------------------------------------ building blocks


def test_ssd_matcher_gives_every_ground_truth_its_best_prediction(golden, fin):
    got = U.SSDMatcher(0.5)(fin["iou"].clone())
    np.testing.assert_array_equal(got.numpy(), golden["ssd_match"])
    assert int(got[7]) == 2  # the shared best prediction goes to the later ground truth


def test_matcher_low_quality_matches(golden, fin):
    got = U.Matcher(0.6, 0.4, allow_low_quality_matches=True)(fin["iou"].clone())
    np.testing.assert_array_equal(got.numpy(), golden["lowq_match"])


def test_box_linear_coder_matches_torchvision(golden, fin):
    for norm, suffix in ((True, ""), (False, "_raw")):
        coder = U.BoxLinearCoder(normalize_by_size=norm)
        assert_close(coder.encode(fin["ref"], fin["gt"]), golden[f"lin_encode{suffix}"],
                     rtol=1e-6, atol=1e-6)
        dec = coder.decode(fin["codes"], fin["ref"])
        assert_close(dec, golden[f"lin_decode{suffix}"], rtol=1e-6, atol=1e-5)
        # decode inverts encode
        assert_close(coder.decode(coder.encode(fin["ref"], fin["gt"]), fin["ref"]),
                     fin["gt"].numpy(), rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("kind", ["l1", "smooth_l1", "giou", "diou", "ciou"])
def test_box_loss_kinds_match_torchvision(golden, fin, kind):
    bc = U.BoxCoder((10.0, 10.0, 5.0, 5.0))
    got = U._box_loss(kind, bc, fin["ref"], fin["gt"], fin["codes"])
    assert_close(got, golden[f"box_loss_{kind}"], rtol=1e-5, atol=1e-6)
    got = U._box_loss(kind, bc, fin["ref"], fin["gt"], fin["codes"], {"beta": 0.3, "eps": 0.5})
    assert_close(got, golden[f"box_loss_{kind}_cnf"], rtol=1e-5, atol=1e-6)
    with pytest.raises(AssertionError, match="Unsupported loss: foo"):
        U._box_loss("foo", bc, fin["ref"], fin["gt"], fin["codes"])


@pytest.mark.parametrize("name,kw", [("plain", {}), ("steps", {"steps": [12, 20]}),
                                     ("noclip", {"scales": [0.5, 0.9, 1.4], "clip": False})])
def test_default_box_generator_matches_torchvision(golden, fin, name, kw):
    gen = DefaultBoxGenerator([[2], [2, 3]], **kw)
    assert repr(gen) == str(golden[f"dbox_{name}_repr"])
    assert gen.num_anchors_per_location() == [4, 6]
    images = ImageList(ember.zeros(2, 3, 60, 70), [(60, 70), (50, 64)])
    out = gen(images, [fin["fmap_a"], fin["fmap_b"]])
    assert len(out) == 2
    assert_close(gen._wh_pairs[0], golden[f"dbox_{name}_wh0"], rtol=1e-6, atol=1e-7)
    assert_close(out[0], golden[f"dbox_{name}"], rtol=1e-5, atol=1e-4)
    np.testing.assert_array_equal(out[1].numpy(), out[0].numpy())


def test_default_box_generator_scales(golden):
    gen = DefaultBoxGenerator([[2, 3]] * 3, min_ratio=0.2, max_ratio=0.95)
    np.testing.assert_allclose(gen.scales, golden["dbox_scales"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(DefaultBoxGenerator([[2]]).scales, golden["dbox_one_scales"])
    with pytest.raises(ValueError, match="same length"):
        DefaultBoxGenerator([[2], [2]], steps=[8])


# ------------------------------------------------------------------ whole models


def _check_detections(out, golden, case):
    for i, det in enumerate(out):
        want = {k.split(f"{case}_eval{i}_")[1]: v for k, v in golden.items()
                if k.startswith(f"{case}_eval{i}_")}
        assert sorted(det) == sorted(want)
        assert det["boxes"].shape[0] > 0
        assert det["labels"].dtype == ember.int64
        assert_close(det["scores"], want["scores"], rtol=1e-4, atol=1e-5)
        labels, boxes = _align_ties(det, want)
        np.testing.assert_array_equal(labels, want["labels"])
        assert_close(boxes, want["boxes"], rtol=1e-4, atol=2e-3)


def _align_ties(det, want, tol=2e-6):
    """The detections reordered among (near-)equal scores so that they line up with the
    reference: saturated ReLU6 activations of seeded weights give exact ties, which NMS may
    order either way."""
    scores, labels, boxes = (det[k].numpy() for k in ("scores", "labels", "boxes"))
    order = np.arange(len(scores))
    used = np.zeros(len(scores), bool)
    for i, (s, lab, box) in enumerate(zip(want["scores"], want["labels"], want["boxes"])):
        cand = np.where(~used & (np.abs(scores - s) <= tol) & (labels == lab))[0]
        if cand.size == 0:
            return labels, boxes
        j = cand[np.argmin(np.abs(boxes[cand] - box).max(axis=1))]
        used[j] = True
        order[i] = j
    return labels[order], boxes[order]


@pytest.mark.parametrize("case", sorted(CASES))
def test_eval_and_float32_losses_match_torchvision(golden, case):
    model = _seeded_model(case).eval()
    images, targets = inputs(CASES[case][2], CASES[case][3])
    with ember.no_grad():
        out = model([ember.from_numpy(im) for im in images])
    _check_detections(out, golden, case)
    model.train()
    losses = model([ember.from_numpy(im) for im in images], _targets(targets))
    want = {k.split("_train32_")[1]: v for k, v in golden.items()
            if k.startswith(f"{case}_train32_")}
    assert sorted(losses) == sorted(want)
    for key, value in losses.items():
        assert value.dtype == ember.float32
        # batch norm on the batch statistics of tiny maps amplifies float32 rounding
        assert_close(value, want[key], rtol=2e-3, atol=1e-5)


TRAIN64 = [c for c, spec in CASES.items() if spec[4]]


@pytest.mark.parametrize("case", TRAIN64)
def test_float64_losses_and_gradients_match_torchvision(golden, case):
    model = _seeded_model(case).double().train()
    images, targets = inputs(CASES[case][2], CASES[case][3])
    losses = model([ember.from_numpy(im.astype(np.float64)) for im in images],
                   _targets(targets, ember.float64))
    for key, value in losses.items():
        assert_close(value, golden[f"{case}_train64_{key}"], rtol=1e-6, atol=1e-8)
    sum(losses.values()).backward()
    params = dict(model.named_parameters())
    for key in GRAD_KEYS[case]:
        assert_close(grad_slice(params[key].grad.numpy()), golden[f"{case}_train64_grad_{key}"],
                     rtol=1e-5, atol=1e-9, scaled=True)


@pytest.mark.parametrize("case", ["retinanet", "fcos", "ssdlite"])
def test_image_without_targets_gives_finite_losses(case):
    model = _seeded_model(case).train()
    images, targets = inputs(CASES[case][2], 2)
    tt = _targets(targets)
    tt[1] = {"boxes": ember.zeros(0, 4), "labels": ember.zeros(0, dtype=ember.int64)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        losses = model([ember.from_numpy(im) for im in images], tt)
    assert all(np.isfinite(float(v)) for v in losses.values())


def test_training_requires_targets_and_valid_boxes():
    model = _seeded_model("retinanet").train()
    with pytest.raises(ValueError, match="targets should not be none"):
        model([ember.rand(3, 40, 40)])
    bad = [{"boxes": ember.tensor([[5.0, 6.0, 5.0, 40.0]]), "labels": ember.tensor([1])}]
    with pytest.raises(ValueError, match="positive height and width"):
        model([ember.rand(3, 40, 40)], bad)


# ------------------------------------------------------------------ structure and weights


@pytest.mark.parametrize("name", LAYOUT)
def test_state_dict_layout_matches_torchvision(golden, name):
    # the SSD builders run their backbone once to read its widths: on undrawn weights
    with skip_init(), warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        m = getattr(detection, name)(weights=None, weights_backbone=None)
    sd = m.state_dict()
    assert "\n".join(sd.keys()) == str(golden[f"layout_{name}_keys"])
    shapes = [list(v.shape) + [0] * (4 - v.dim()) for v in sd.values()]
    np.testing.assert_array_equal(np.array(shapes), golden[f"layout_{name}_shapes"])
    assert sum(p.numel() for p in m.parameters()) == int(golden[f"layout_{name}_params"])
    assert sum(p.numel() for p in m.parameters() if p.requires_grad) == \
        int(golden[f"layout_{name}_trainable"])
    assert repr(m.transform) == str(golden[f"layout_{name}_transform"])


def test_weights_enums_declare_torchvision_files(golden):
    facts = json.loads(str(golden["weights_facts"]))
    assert sorted(facts) == sorted(ENUMS)
    for enum_name, members in facts.items():
        enum = getattr(detection, enum_name)
        assert sorted(enum.__members__) == sorted(members)
        assert enum.DEFAULT is enum["COCO_V1"]
        for member, want in members.items():
            w = enum[member]
            assert w.url == want["url"]
            digest = w.url.rsplit("-", 1)[1].split(".")[0]
            assert len(digest) == 8 and all(c in "0123456789abcdef" for c in digest)
            meta = dict(w.meta)
            meta["min_size"] = list(meta["min_size"])
            assert json.dumps(meta, sort_keys=True) == json.dumps(want["meta"], sort_keys=True)
            assert w.transforms.__name__ == want["transforms"]


def test_num_params_meta_of_pretrained_layouts():
    """With pretrained backbones the ResNet uses FrozenBatchNorm2d (buffers): the
    published parameter counts. (The COCO SSDlite is built without backbone weights, so
    with the MobileNet's reduced tail.)"""
    from ember.vision.models.detection.backbone_utils import _resnet_fpn_extractor
    from ember.vision.ops.feature_pyramid_network import LastLevelP6P7
    from ember.vision.ops.misc import FrozenBatchNorm2d

    for cls, enum in [(detection.RetinaNet, detection.RetinaNet_ResNet50_FPN_Weights),
                      (detection.FCOS, detection.FCOS_ResNet50_FPN_Weights)]:
        with skip_init():
            body = models.resnet50(weights=None, norm_layer=FrozenBatchNorm2d)
            m = cls(_resnet_fpn_extractor(body, 3, returned_layers=[2, 3, 4],
                                          extra_blocks=LastLevelP6P7(256, 256)), 91)
        assert sum(p.numel() for p in m.parameters()) == enum.COCO_V1.meta["num_params"]
    with skip_init():
        m = detection.retinanet_resnet50_fpn_v2(weights=None, weights_backbone=None)
    assert sum(p.numel() for p in m.parameters()) == \
        detection.RetinaNet_ResNet50_FPN_V2_Weights.COCO_V1.meta["num_params"]
    with skip_init(), np.errstate(all="ignore"):
        m = detection.ssdlite320_mobilenet_v3_large(weights=None, weights_backbone=None)
    assert sum(p.numel() for p in m.parameters()) == \
        detection.SSDLite320_MobileNet_V3_Large_Weights.COCO_V1.meta["num_params"]


def test_builders_are_registered():
    names = models.list_models(module=detection)
    for name in LAYOUT:
        assert name in names
    assert models.get_model_weights("retinanet_resnet50_fpn") is \
        detection.RetinaNet_ResNet50_FPN_Weights
    assert models.get_model_weights("ssdlite320_mobilenet_v3_large") is \
        detection.SSDLite320_MobileNet_V3_Large_Weights
    assert models.get_weight("FCOS_ResNet50_FPN_Weights.COCO_V1") is \
        detection.FCOS_ResNet50_FPN_Weights.COCO_V1
    with skip_init():
        m = models.get_model("fcos_resnet50_fpn", weights=None, weights_backbone=None,
                             num_classes=5)
    assert m.head.classification_head.num_classes == 5


def test_builder_argument_checks():
    with pytest.raises(ValueError, match="'num_classes' expected value 91 but got 5"):
        detection.retinanet_resnet50_fpn(weights="DEFAULT", num_classes=5)
    with pytest.raises(ValueError, match="Trainable backbone layers should be in the range"):
        detection.fcos_resnet50_fpn(weights=None, weights_backbone="DEFAULT",
                                    trainable_backbone_layers=7)
    with skip_init():
        m = detection.retinanet_resnet50_fpn_v2(weights=None, weights_backbone=None,
                                                num_classes=4)
    assert m.head.regression_head._loss_type == "giou"
    assert m.head.classification_head.cls_logits.out_channels == 9 * 4
    with pytest.raises(ValueError, match="out_channels"):
        detection.RetinaNet(ember.nn.Identity(), 3)


def test_retinanet_head_reads_version1_keys():
    head = detection.RetinaNetHead(32, 2, 3)
    sd = head.state_dict()
    old = {}
    for key, value in sd.items():
        parts = key.split(".")
        if parts[1] == "conv":  # conv.<i>.0.<kind> was conv.<i>.<kind>
            key = ".".join(parts[:3] + parts[4:])
        old[key] = value.clone() + 1.0
    head.load_state_dict(old)
    np.testing.assert_array_equal(
        head.classification_head.conv[1][0].bias.detach().numpy(),
        old["classification_head.conv.1.bias"].numpy())
