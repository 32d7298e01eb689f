"""ember.vision.ops box functions, IoU variants, losses and NMS against torchvision
goldens, plus float64 gradchecks of the differentiable ones."""

import ember
import numpy as np
import pytest
from ember.vision import ops
from vision_helpers import assert_close

T = ember.tensor


@pytest.mark.parametrize("name", ["box_iou", "generalized_box_iou", "distance_box_iou",
                                  "complete_box_iou"])
def test_iou_matrices_match_torchvision(ops_golden, name):
    out = getattr(ops, name)(T(ops_golden["b1"]), T(ops_golden["b2"]))
    assert out.dtype == ember.float32
    assert_close(out, ops_golden[name])


def test_box_area_and_convert_match_torchvision(ops_golden):
    b1 = T(ops_golden["b1"])
    assert_close(ops.box_area(b1), ops_golden["box_area"])
    for fmt in ("xywh", "cxcywh"):
        assert_close(ops.box_convert(b1, "xyxy", fmt), ops_golden[f"convert_xyxy_{fmt}"])
    assert_close(ops.box_convert(b1, "xywh", "cxcywh"), ops_golden["convert_xywh_cxcywh"])


@pytest.mark.parametrize("fmt", ["xywh", "cxcywh"])
def test_box_convert_round_trips(fmt):
    b = T(np.random.default_rng(1).uniform(0, 10, (7, 4)).astype(np.float32))
    back = ops.box_convert(ops.box_convert(b, "xyxy", fmt), fmt, "xyxy")
    assert_close(back, b.numpy(), atol=1e-5)


def test_box_convert_rejects_unknown_format():
    with pytest.raises(ValueError, match="Unsupported"):
        ops.box_convert(ember.zeros(2, 4), "xyxy", "yxyx")


def test_box_area_upcasts_int16():
    b = T([[0, 0, 200, 200]], dtype=ember.int16)
    assert ops.box_area(b).dtype == ember.int32
    assert ops.box_area(b).item() == 40000


@pytest.mark.parametrize("name", ["generalized_box_iou_loss", "distance_box_iou_loss",
                                  "complete_box_iou_loss"])
def test_box_losses_and_gradients_match_torchvision(ops_golden, name):
    a = T(ops_golden["b1"][:30], requires_grad=True)
    loss = getattr(ops, name)(a, T(ops_golden["b2"]))
    assert_close(loss, ops_golden[name])
    loss.sum().backward()
    assert_close(a.grad, ops_golden[name + "_grad"])


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_box_loss_reductions(ops_golden, reduction):
    a, b = T(ops_golden["b1"][:30]), T(ops_golden["b2"])
    full = ops.generalized_box_iou_loss(a, b)
    red = ops.generalized_box_iou_loss(a, b, reduction=reduction)
    expected = full.mean() if reduction == "mean" else full.sum()
    assert_close(red, expected.numpy())
    with pytest.raises(ValueError, match="reduction"):
        ops.generalized_box_iou_loss(a, b, reduction="max")


def test_sigmoid_focal_loss_matches_torchvision(ops_golden):
    x = T(ops_golden["focal_logits"], requires_grad=True)
    loss = ops.sigmoid_focal_loss(x, T(ops_golden["focal_targets"]), reduction="mean")
    loss.backward()
    assert_close(loss, ops_golden["focal_mean"])
    assert_close(x.grad, ops_golden["focal_grad"])


def _boxes64(rng, n):
    xy = rng.uniform(0, 10, (n, 2))
    wh = rng.uniform(1, 5, (n, 2))
    return T(np.concatenate([xy, xy + wh], 1), dtype=ember.float64, requires_grad=True)


# complete IoU treats its alpha as a constant (computed under no_grad, as torchvision does),
# so its analytic gradient is not the numerical one: it is checked against torchvision above
@pytest.mark.parametrize("fn", [ops.box_iou, ops.generalized_box_iou, ops.distance_box_iou])
def test_iou_gradcheck_float64(fn):
    rng = np.random.default_rng(3)
    a, b = _boxes64(rng, 4), _boxes64(rng, 3)
    assert ember.autograd.gradcheck(fn, (a, b))


@pytest.mark.parametrize("fn", [ops.generalized_box_iou_loss, ops.distance_box_iou_loss])
def test_box_loss_gradcheck_float64(fn):
    rng = np.random.default_rng(4)
    a, b = _boxes64(rng, 5), _boxes64(rng, 5)
    assert ember.autograd.gradcheck(lambda x, y: fn(x, y), (a, b))


def test_focal_loss_gradcheck_float64():
    rng = np.random.default_rng(5)
    x = T(rng.standard_normal((3, 4)), requires_grad=True)
    t = T((rng.random((3, 4)) > 0.5).astype(np.float64))
    assert ember.autograd.gradcheck(lambda v: ops.sigmoid_focal_loss(v, t), (x,))


def test_clip_and_remove_small_boxes():
    b = T([[-5.0, 2.0, 30.0, 8.0], [1.0, 1.0, 1.5, 9.0], [2.0, -1.0, 6.0, 40.0]])
    clipped = ops.clip_boxes_to_image(b, (20, 25))
    assert_close(clipped, np.array([[0, 2, 25, 8], [1, 1, 1.5, 9], [2, 0, 6, 20]],
                                   dtype=np.float32))
    keep = ops.remove_small_boxes(b, 1.0)
    assert keep.tolist() == [0, 2]
    assert keep.dtype == ember.int64


@pytest.mark.parametrize("thr", [0.3, 0.5, 0.7])
def test_nms_matches_torchvision(ops_golden, thr):
    keep = ops.nms(T(ops_golden["nms_boxes"]), T(ops_golden["nms_scores"]), thr)
    assert keep.dtype == ember.int64
    np.testing.assert_array_equal(keep.numpy(), ops_golden[f"nms_{thr}"])


@pytest.mark.parametrize("thr", [0.3, 0.5, 0.7])
def test_batched_nms_matches_torchvision(ops_golden, thr):
    keep = ops.batched_nms(T(ops_golden["nms_boxes"]), T(ops_golden["nms_scores"]),
                           T(ops_golden["nms_idxs"]), thr)
    np.testing.assert_array_equal(keep.numpy(), ops_golden[f"batched_nms_{thr}"])


def test_nms_blockwise_equals_single_block(monkeypatch, ops_golden):
    from ember.vision.ops import boxes as boxes_mod

    monkeypatch.setattr(boxes_mod, "_NMS_BLOCK", 7)
    keep = ops.nms(T(ops_golden["nms_boxes"]), T(ops_golden["nms_scores"]), 0.5)
    np.testing.assert_array_equal(keep.numpy(), ops_golden["nms_0.5"])
    keep = ops.batched_nms(T(ops_golden["nms_boxes"]), T(ops_golden["nms_scores"]),
                           T(ops_golden["nms_idxs"]), 0.5)
    np.testing.assert_array_equal(keep.numpy(), ops_golden["batched_nms_0.5"])


def test_nms_empty_and_bad_shapes():
    assert ops.nms(ember.zeros(0, 4), ember.zeros(0), 0.5).shape == (0,)
    with pytest.raises(RuntimeError, match="boxes"):
        ops.nms(ember.zeros(3, 5), ember.zeros(3), 0.5)
    with pytest.raises(RuntimeError, match="same number"):
        ops.nms(ember.zeros(3, 4), ember.zeros(2), 0.5)


def test_nms_is_fast_for_thousands_of_boxes():
    import time

    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 1000, (4000, 2))
    b = T(np.concatenate([xy, xy + rng.uniform(5, 50, (4000, 2))], 1).astype(np.float32))
    s = T(rng.random(4000).astype(np.float32))
    t0 = time.perf_counter()
    keep = ops.nms(b, s, 0.5)
    assert time.perf_counter() - t0 < 5.0
    assert 0 < keep.numel() <= 4000


def test_masks_to_boxes():
    m = ember.zeros(2, 6, 8, dtype=ember.uint8)
    m[0, 1:3, 2:5] = 1
    m[1, 4, 7] = 1
    assert ops.masks_to_boxes(m).tolist() == [[2.0, 1.0, 4.0, 2.0], [7.0, 4.0, 7.0, 4.0]]
