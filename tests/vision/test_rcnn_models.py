"""Mask R-CNN, Keypoint R-CNN and the v2 R-CNN builders against torchvision 0.29.1: eval
detections (boxes, labels, scores, masks, keypoints) and float64 training losses and
gradients from seeded weights, the mask / keypoint functions of the RoI heads, the
transform's handling of masks and keypoints, state_dict layouts, parameter counts and the
declared weights (golden file made by tools/fixtures/vision_rcnn_golden.py)."""

import functools
import json
import warnings

import ember
import numpy as np
import pytest
from ember.vision import models
from ember.vision.models import detection
from ember.vision.models.detection import roi_heads as R
from ember.vision.models.detection.transform import GeneralizedRCNNTransform
from vision_helpers import assert_close, load_golden, skip_init
from vision_rcnn_golden import (
    CASES,
    ENUMS,
    GRAD_KEYS,
    LAYOUT,
    NUM_KEYPOINTS,
    function_inputs,
    grad_slice,
    inputs,
    make_model,
)
from vision_recipe import seeded_state


@pytest.fixture(scope="module")
def golden():
    return load_golden("rcnn.npz")


@pytest.fixture(scope="module")
def fin():
    return {k: ember.from_numpy(v) for k, v in function_inputs().items()}


@functools.lru_cache(maxsize=2)  # a few hundred MB each: keep only the latest
def _seeded_state(case):
    with skip_init(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = make_model(ember.vision, ember.nn, case)
    shapes = {k: tuple(v.shape) for k, v in m.state_dict().items()}
    return seeded_state(shapes, CASES[case][2])


def _seeded_model(case):
    """The case's model with the recipe's weights (copies: training updates batch-norm
    statistics in place)."""
    with skip_init(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = make_model(ember.vision, ember.nn, case)
    state = _seeded_state(case)
    m.load_state_dict({k: ember.from_numpy(v.copy()) for k, v in state.items()}, assign=True)
    return m


# ------------------------------------------------------------------ RoI-head functions


def test_paste_masks_in_image_matches_torchvision(golden, fin):
    out = R.paste_masks_in_image(fin["paste_masks"], fin["paste_boxes"], (50, 70))
    assert out.dtype == ember.float32
    assert_close(out, golden["paste"], rtol=1e-5, atol=1e-6)
    out2 = R.paste_masks_in_image(fin["paste_masks"][:3], fin["paste_boxes"][:3], (50, 70),
                                  padding=2)
    assert_close(out2, golden["paste_pad2"], rtol=1e-5, atol=1e-6)
    empty = R.paste_masks_in_image(ember.zeros(0, 1, 28, 28), ember.zeros(0, 4), (9, 11))
    assert tuple(empty.shape) == (0, 1, 9, 11)


def test_paste_masks_in_chunks_agree(fin, monkeypatch):
    from ember.vision.models.detection import _roi_mask

    whole = R.paste_masks_in_image(fin["paste_masks"], fin["paste_boxes"], (50, 70))
    monkeypatch.setattr(_roi_mask, "_CHUNK_PIXELS", 1)  # one box per pass
    parts = R.paste_masks_in_image(fin["paste_masks"], fin["paste_boxes"], (50, 70))
    np.testing.assert_array_equal(whole.numpy(), parts.numpy())


def test_paste_mask_in_image_single():
    mask = ember.from_numpy(np.arange(16, dtype=np.float32).reshape(4, 4))
    box = ember.tensor([1, 2, 4, 5])
    one = R.paste_mask_in_image(mask, box, 8, 6).numpy()
    assert one.shape == (8, 6)
    # the box covers x in 1..4 and y in 2..5 (4 x 4 cells): the mask is copied as it is
    np.testing.assert_array_equal(one[2:6, 1:5], mask.numpy())
    assert one.sum() == mask.numpy().sum()


def test_heatmaps_to_keypoints_matches_torchvision(golden, fin):
    kp, sc = R.heatmaps_to_keypoints(fin["hm_maps"], fin["hm_rois"])
    assert kp.dtype == ember.float32 and sc.dtype == ember.float32
    assert_close(kp, golden["hm_keypoints"], rtol=1e-6, atol=1e-4)
    assert_close(sc, golden["hm_scores"], rtol=1e-5, atol=1e-5)
    kp0, sc0 = R.heatmaps_to_keypoints(ember.zeros(0, 3, 8, 8), ember.zeros(0, 4))
    assert tuple(kp0.shape) == (0, 3, 3) and tuple(sc0.shape) == (0, 3)


def test_heatmaps_to_keypoints_chunks_agree(fin, monkeypatch):
    from ember.vision.models.detection import _roi_keypoint

    whole = R.heatmaps_to_keypoints(fin["hm_maps"], fin["hm_rois"])
    monkeypatch.setattr(_roi_keypoint, "_CHUNK_ELEMENTS", 1)  # one box per chunk
    parts = R.heatmaps_to_keypoints(fin["hm_maps"], fin["hm_rois"])
    for a, b in zip(whole, parts):  # padding may change the last bits of the products
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-6)


def test_maskrcnn_loss_and_gradient_match_torchvision(golden, fin):
    logits = fin["ml_logits"].clone().requires_grad_()
    loss = R.maskrcnn_loss(logits, [fin["ml_props0"], fin["ml_props1"]],
                           [fin["ml_masks0"], fin["ml_masks1"]],
                           [fin["ml_labels0"], fin["ml_labels1"]],
                           [fin["ml_idx0"], fin["ml_idx1"]])
    loss.backward()
    assert_close(loss, golden["ml_loss"], rtol=1e-5, atol=1e-6)
    assert_close(logits.grad, golden["ml_grad"], rtol=1e-4, atol=1e-8)
    targets = R.project_masks_on_boxes(fin["ml_masks0"], fin["ml_props0"], fin["ml_idx0"], 14)
    assert_close(targets, golden["ml_targets0"], rtol=1e-5, atol=1e-6)


def test_maskrcnn_loss_without_positives_is_zero():
    logits = ember.randn(0, 3, 8, 8, requires_grad=True)
    loss = R.maskrcnn_loss(logits, [ember.zeros(0, 4)], [ember.zeros(1, 10, 10)],
                           [ember.tensor([1])], [ember.zeros(0, dtype=ember.int64)])
    assert float(loss) == 0.0 and loss.requires_grad


def test_keypointrcnn_loss_and_gradient_match_torchvision(golden, fin):
    logits = fin["kl_logits"].clone().requires_grad_()
    loss = R.keypointrcnn_loss(logits, [fin["ml_props0"], fin["ml_props1"]],
                               [fin["kl_kp0"], fin["kl_kp1"]], [fin["ml_idx0"], fin["ml_idx1"]])
    loss.backward()
    assert_close(loss, golden["kl_loss"], rtol=1e-5, atol=1e-6)
    assert_close(logits.grad, golden["kl_grad"], rtol=1e-4, atol=1e-8)
    heat, valid = R.keypoints_to_heatmap(fin["kl_kp0"][fin["ml_idx0"]], fin["ml_props0"], 8)
    np.testing.assert_array_equal(heat.numpy(), golden["kl_heat0"])
    np.testing.assert_array_equal(valid.numpy(), golden["kl_valid0"])
    assert heat.dtype == ember.int64


def test_keypointrcnn_loss_checks_square_maps_and_empty_targets():
    with pytest.raises(ValueError, match="height and width"):
        R.keypointrcnn_loss(ember.zeros(2, 17, 56, 28), [ember.zeros(2, 4)],
                            [ember.zeros(1, 17, 3)], [ember.zeros(2, dtype=ember.int64)])
    logits = ember.randn(2, 3, 8, 8, requires_grad=True)
    loss = R.keypointrcnn_loss(logits, [ember.tensor([[0.0, 0.0, 4.0, 4.0],
                                                      [1.0, 1.0, 5.0, 5.0]])],
                               [ember.zeros(1, 3, 3)], [ember.zeros(2, dtype=ember.int64)])
    assert float(loss) == 0.0


def test_maskrcnn_inference_picks_the_predicted_class():
    x = ember.randn(3, 4, 5, 5)
    labels = [ember.tensor([2, 0]), ember.tensor([3])]
    probs = R.maskrcnn_inference(x, labels)
    assert [tuple(p.shape) for p in probs] == [(2, 1, 5, 5), (1, 1, 5, 5)]
    np.testing.assert_allclose(probs[1].numpy()[0, 0], x.sigmoid().numpy()[2, 3], rtol=1e-6)


def test_transform_resizes_masks_and_keypoints_like_torchvision(golden, fin):
    tr = GeneralizedRCNNTransform(50, 100, [0.1, 0.2, 0.3], [0.5, 0.6, 0.7])
    tr.train()
    target = {"boxes": ember.tensor([[1.0, 2.0, 20.0, 30.0], [3.0, 4.0, 10.0, 12.0]]),
              "labels": ember.tensor([1, 2]), "masks": fin["tr_masks"],
              "keypoints": fin["tr_keypoints"]}
    batch, out = tr([fin["tr_image"]], [target])
    assert_close(batch.tensors, golden["tr_batch"], rtol=1e-5, atol=1e-5)
    assert out[0]["masks"].dtype == ember.uint8
    np.testing.assert_array_equal(out[0]["masks"].numpy(), golden["tr_out_masks"])
    assert_close(out[0]["keypoints"], golden["tr_out_keypoints"], rtol=1e-6, atol=1e-6)
    assert target["keypoints"] is fin["tr_keypoints"]  # the caller's dict is untouched


def test_transform_postprocess_pastes_masks_and_scales_keypoints():
    tr = GeneralizedRCNNTransform(50, 100, [0.0] * 3, [1.0] * 3).eval()
    res = [{"boxes": ember.tensor([[1.0, 2.0, 20.0, 30.0]]), "masks": ember.rand(1, 1, 28, 28),
            "keypoints": ember.ones(1, 2, 3), "scores": ember.ones(1)}]
    out = tr.postprocess(res, [(50, 60)], [(25, 20)])[0]
    assert tuple(out["masks"].shape) == (1, 1, 25, 20)
    np.testing.assert_allclose(out["keypoints"].numpy()[0],
                               [[1 / 3, 0.5, 1.0], [1 / 3, 0.5, 1.0]], rtol=1e-6)
    np.testing.assert_allclose(out["boxes"].numpy(), [[1 / 3, 1.0, 20 / 3, 15.0]], rtol=1e-6)


# ------------------------------------------------------------------ whole models


@pytest.mark.parametrize("case", sorted(CASES))
def test_eval_detections_match_torchvision(golden, case):
    model = _seeded_model(case).eval()
    images, _ = inputs(CASES[case][2], CASES[case][1]["num_classes"])
    with ember.no_grad():
        out = model([ember.from_numpy(im) for im in images])
    for i, (det, img) in enumerate(zip(out, images)):
        want = {k.split(f"{case}_eval{i}_")[1]: v for k, v in golden.items()
                if k.startswith(f"{case}_eval{i}_")}
        assert sorted(det) == sorted(want)
        assert det["boxes"].shape[0] > 0
        np.testing.assert_array_equal(det["labels"].numpy(), want["labels"])
        assert_close(det["boxes"], want["boxes"], rtol=1e-4, atol=2e-4)
        assert_close(det["scores"], want["scores"], rtol=1e-4, atol=1e-5)
        if "masks" in want:
            assert tuple(det["masks"].shape[-2:]) == img.shape[1:]
            assert_close(det["masks"], want["masks"], rtol=1e-4, atol=1e-4)
        if "keypoints" in want:
            assert tuple(det["keypoints"].shape) == (want["boxes"].shape[0], NUM_KEYPOINTS, 3)
            assert_close(det["keypoints"], want["keypoints"], rtol=1e-5, atol=2e-3)
            assert_close(det["keypoints_scores"], want["keypoints_scores"], rtol=1e-4,
                         atol=1e-4)


# the v2 model's 256-wide batch-norm heads make its float64 step the slow one
TRAIN_CASES = [pytest.param(c, marks=pytest.mark.slow) if c == "mask_v2" else c
               for c, spec in sorted(CASES.items()) if spec[3]]


@pytest.mark.parametrize("case", TRAIN_CASES)
def test_train_losses_and_gradients_match_torchvision_float64(golden, case):
    model = _seeded_model(case).train()
    images, targets = inputs(CASES[case][2], CASES[case][1]["num_classes"])
    # float32 first, the losses only: batch norm on the batch statistics of tiny late-stage
    # maps amplifies float32 rounding (up to ~2e-4 relative here), so the strict check is
    # the float64 one below
    losses = model([ember.from_numpy(im) for im in images],
                   [{k: ember.from_numpy(v) for k, v in t.items()} for t in targets])
    for key, value in losses.items():
        assert value.dtype == ember.float32
        assert_close(value, golden[f"{case}_train32_{key}"], rtol=1e-3, atol=1e-5)
    model.double()
    tt = []
    for t in targets:
        t = {k: ember.from_numpy(v) for k, v in t.items()}
        t["boxes"] = t["boxes"].double()
        tt.append(t)
    losses = model([ember.from_numpy(im.astype(np.float64)) for im in images], tt)
    want = {k.split("_train64_")[1]: v for k, v in golden.items()
            if k.startswith(f"{case}_train64_loss")}
    assert sorted(losses) == sorted(want)
    for key, value in losses.items():
        assert_close(value, want[key], rtol=1e-6, atol=1e-8)
    sum(losses.values()).backward()
    params = dict(model.named_parameters())
    for key in GRAD_KEYS[case]:
        got = grad_slice(params[key].grad.numpy())
        assert_close(got, golden[f"{case}_train64_grad_{key}"], rtol=1e-5, atol=1e-9,
                     scaled=True)


@pytest.mark.parametrize("case", ["mask", "keypoint"])
def test_branches_without_rois(case):
    """No detections: empty masks / keypoints; no positive proposal in training: a zero
    branch loss whose gradients still reach the branch (as torchvision's ``sum() * 0``)."""
    model = _seeded_model(case).eval()
    model.roi_heads.score_thresh = 1.5
    with ember.no_grad():
        out = model([ember.rand(3, 50, 60)])[0]
    assert out["boxes"].shape[0] == 0
    if case == "mask":
        assert tuple(out["masks"].shape) == (0, 1, 50, 60)
    else:
        assert tuple(out["keypoints"].shape) == (0, NUM_KEYPOINTS, 3)
        assert tuple(out["keypoints_scores"].shape) == (0, NUM_KEYPOINTS)
    model.train()
    empty = {"boxes": ember.zeros(0, 4), "labels": ember.zeros(0, dtype=ember.int64),
             "masks": ember.zeros(0, 50, 60, dtype=ember.uint8),
             "keypoints": ember.zeros(0, NUM_KEYPOINTS, 3)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # log(0) of the box encoding, as in torchvision
        losses = model([ember.rand(3, 50, 60)], [empty])
    key = "loss_mask" if case == "mask" else "loss_keypoint"
    assert float(losses[key]) == 0.0
    sum(losses.values()).backward()
    pred = model.roi_heads.mask_predictor if case == "mask" else \
        model.roi_heads.keypoint_predictor
    grads = [p.grad for p in pred.parameters()]
    assert all(g is not None and float(g.abs().sum()) == 0.0 for g in grads)


# ------------------------------------------------------------------ structure and weights


@pytest.mark.parametrize("name", sorted(LAYOUT))
def test_state_dict_layout_matches_torchvision(golden, name):
    builder, kw = name.split("@")[0], LAYOUT[name]
    with skip_init():
        m = getattr(detection, builder)(weights=None, weights_backbone=None, **kw)
    sd = m.state_dict()
    assert "\n".join(sd.keys()) == str(golden[f"layout_{name}_keys"])
    shapes = [list(v.shape) + [0] * (4 - v.dim()) for v in sd.values()]
    np.testing.assert_array_equal(np.array(shapes), golden[f"layout_{name}_shapes"])
    assert sum(p.numel() for p in m.parameters()) == int(golden[f"layout_{name}_params"])
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


def test_num_params_meta_with_frozen_backbone():
    """The pretrained builders use FrozenBatchNorm2d in the ResNet body (buffers, not
    parameters): the published parameter counts."""
    from ember.vision.models.detection.backbone_utils import _resnet_fpn_extractor
    from ember.vision.ops.misc import FrozenBatchNorm2d

    cases = [(detection.MaskRCNN, {"num_classes": 91},
              detection.MaskRCNN_ResNet50_FPN_Weights),
             (detection.KeypointRCNN, {"num_classes": 2, "num_keypoints": 17},
              detection.KeypointRCNN_ResNet50_FPN_Weights)]
    for cls, kw, enum in cases:
        with skip_init():
            body = models.resnet50(weights=None, norm_layer=FrozenBatchNorm2d)
            m = cls(_resnet_fpn_extractor(body, 3), **kw)
        count = sum(p.numel() for p in m.parameters())
        assert all(w.meta["num_params"] == count for w in enum)
    for builder, enum in [("maskrcnn_resnet50_fpn_v2", detection.MaskRCNN_ResNet50_FPN_V2_Weights),
                          ("fasterrcnn_resnet50_fpn_v2",
                           detection.FasterRCNN_ResNet50_FPN_V2_Weights)]:
        with skip_init():
            m = getattr(detection, builder)(weights=None, weights_backbone=None)
        assert sum(p.numel() for p in m.parameters()) == enum.COCO_V1.meta["num_params"]


def test_builders_are_registered():
    names = models.list_models(module=detection)
    for name in ("maskrcnn_resnet50_fpn", "maskrcnn_resnet50_fpn_v2",
                 "keypointrcnn_resnet50_fpn", "fasterrcnn_resnet50_fpn_v2"):
        assert name in names
    assert models.get_model_weights("maskrcnn_resnet50_fpn") is \
        detection.MaskRCNN_ResNet50_FPN_Weights
    assert models.get_model_weights("keypointrcnn_resnet50_fpn") is \
        detection.KeypointRCNN_ResNet50_FPN_Weights
    assert models.get_weight("MaskRCNN_ResNet50_FPN_V2_Weights.COCO_V1") is \
        detection.MaskRCNN_ResNet50_FPN_V2_Weights.COCO_V1


def test_legacy_pretrained_flag_selects_weights(monkeypatch):
    from ember.vision.models._api import WeightsEnum

    chosen = []

    class Picked(Exception):
        pass

    def fake_get_state_dict(self, *a, **k):
        chosen.append(self)
        raise Picked

    monkeypatch.setattr(WeightsEnum, "get_state_dict", fake_get_state_dict)
    kp = detection.KeypointRCNN_ResNet50_FPN_Weights
    for flag, want in [("legacy", kp.COCO_LEGACY), (True, kp.COCO_V1)]:
        with pytest.warns(UserWarning, match="pretrained"), pytest.raises(Picked), \
                skip_init():
            detection.keypointrcnn_resnet50_fpn(pretrained=flag)
        assert chosen[-1] is want
    with pytest.warns(UserWarning), pytest.raises(Picked), skip_init():
        detection.maskrcnn_resnet50_fpn(pretrained=True)
    assert chosen[-1] is detection.MaskRCNN_ResNet50_FPN_Weights.COCO_V1


def test_builder_argument_checks():
    with pytest.raises(ValueError, match="'num_classes' expected value 91 but got 5"):
        detection.maskrcnn_resnet50_fpn_v2(weights="DEFAULT", num_classes=5)
    with pytest.raises(ValueError, match="'num_keypoints' expected value 17 but got 5"):
        detection.keypointrcnn_resnet50_fpn(weights="DEFAULT", num_keypoints=5)
    with skip_init():
        m = detection.keypointrcnn_resnet50_fpn(weights=None, weights_backbone=None,
                                                num_classes=3, num_keypoints=5)
    pred = m.roi_heads.keypoint_predictor
    assert (pred.up_scale, pred.out_channels) == (2, 5)
    assert m.transform.min_size == (640, 672, 704, 736, 768, 800)
    backbone = m.backbone
    with pytest.raises(ValueError, match="num_classes should be None when mask_predictor"):
        detection.MaskRCNN(backbone, num_classes=3, mask_predictor=ember.nn.Identity())
    with pytest.raises(TypeError, match="mask_roi_pool should be of type MultiScaleRoIAlign"):
        detection.MaskRCNN(backbone, num_classes=3, mask_roi_pool=ember.nn.Identity())
    with pytest.raises(ValueError, match="num_keypoints should be None when keypoint_predictor"):
        detection.KeypointRCNN(backbone, num_classes=3, keypoint_predictor=ember.nn.Identity(),
                               num_keypoints=3)
    with pytest.raises(TypeError, match="keypoint_roi_pool should be of type"):
        detection.KeypointRCNN(backbone, num_classes=3, keypoint_roi_pool=ember.nn.Identity())


def test_training_target_checks():
    mask, kp = _seeded_model("mask"), _seeded_model("keypoint")
    base = {"boxes": ember.tensor([[5.0, 6.0, 30.0, 40.0]]), "labels": ember.tensor([1])}
    mask.train()
    with pytest.raises(ValueError, match="should have a masks key"):
        mask([ember.rand(3, 40, 40)], [dict(base)])
    kp.train()
    with pytest.raises(ValueError, match="should have a keypoints key"):
        kp([ember.rand(3, 40, 40)], [dict(base)])
    with pytest.raises(TypeError, match="target keypoints must of float type"):
        kp([ember.rand(3, 40, 40)], [dict(base, keypoints=ember.zeros(1, NUM_KEYPOINTS, 3,
                                                                      dtype=ember.float64))])


def test_mask_head_reads_version1_keys():
    heads = detection.mask_rcnn.MaskRCNNHeads(4, [4, 4], 1)
    sd = heads.state_dict()
    old = {f"mask_fcn{i + 1}.{kind}": sd[f"{i}.0.{kind}"].clone() + 1.0
           for i in range(2) for kind in ("weight", "bias")}
    heads.load_state_dict(old)
    np.testing.assert_array_equal(heads[1][0].bias.detach().numpy(),
                                  old["mask_fcn2.bias"].numpy())
