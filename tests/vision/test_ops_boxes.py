"""ember.vision.ops box functions, IoU variants, losses and NMS against torchvision
goldens, plus float64 gradchecks of the differentiable ones."""

import ember
import numpy as np
import pytest
from ember.vision import ops
from vision_helpers import assert_close, device_under_test

DEVICE = device_under_test()  # these ops run on EMBER_TEST_DEVICE (CUDA in a GPU run)


def T(data, **kwargs):
    """``ember.tensor`` on the device under test."""
    return ember.tensor(data, device=DEVICE, **kwargs)


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
    assert_close(back, b.cpu().numpy(), atol=1e-5)


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
    assert_close(red, expected.cpu().numpy())
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
    np.testing.assert_array_equal(keep.cpu().numpy(), ops_golden[f"nms_{thr}"])


@pytest.mark.parametrize("thr", [0.3, 0.5, 0.7])
def test_batched_nms_matches_torchvision(ops_golden, thr):
    keep = ops.batched_nms(T(ops_golden["nms_boxes"]), T(ops_golden["nms_scores"]),
                           T(ops_golden["nms_idxs"]), thr)
    np.testing.assert_array_equal(keep.cpu().numpy(), ops_golden[f"batched_nms_{thr}"])


def _small_nms_blocks(monkeypatch):
    """Tiny blocks and tiles, so that small inputs cross many of them."""
    from ember.vision.ops import boxes as boxes_mod

    monkeypatch.setattr(boxes_mod, "_NMS_BLOCK", 7)
    monkeypatch.setattr(boxes_mod, "_NMS_MAX_BLOCK", 23)
    monkeypatch.setattr(boxes_mod, "_NMS_TILE", 50)


def test_nms_blockwise_equals_single_block(monkeypatch, ops_golden):
    _small_nms_blocks(monkeypatch)
    keep = ops.nms(T(ops_golden["nms_boxes"]), T(ops_golden["nms_scores"]), 0.5)
    np.testing.assert_array_equal(keep.cpu().numpy(), ops_golden["nms_0.5"])
    keep = ops.batched_nms(T(ops_golden["nms_boxes"]), T(ops_golden["nms_scores"]),
                           T(ops_golden["nms_idxs"]), 0.5)
    np.testing.assert_array_equal(keep.cpu().numpy(), ops_golden["batched_nms_0.5"])


def _reference_nms(b, s, thr):
    """torchvision's CPU kernel, written plainly: a stable sort by decreasing score, then each
    box not yet suppressed is kept and suppresses the later boxes whose IoU with it (in the
    boxes' dtype, areas without +1) is greater than ``thr`` (compared as a double)."""
    order = np.argsort(-s, kind="stable")
    b = b[order]
    x1, y1, x2, y2 = b.T
    area = (x2 - x1) * (y2 - y1)
    zero = b.dtype.type(0)
    suppressed = np.zeros(len(b), dtype=bool)
    keep = []
    for i in range(len(b)):
        if suppressed[i]:
            continue
        keep.append(i)
        j = slice(i + 1, None)
        w = np.maximum(zero, np.minimum(x2[i], x2[j]) - np.maximum(x1[i], x1[j]))
        h = np.maximum(zero, np.minimum(y2[i], y2[j]) - np.maximum(y1[i], y1[j]))
        inter = w * h
        with np.errstate(divide="ignore", invalid="ignore"):
            ovr = inter / (area[i] + area[j] - inter)
        suppressed[j] |= ovr.astype(np.float64) > thr
    return order[keep].astype(np.int64)


def _reference_batched_nms(b, s, idxs, thr):
    """NMS per category; the kept indices by decreasing score, equal scores by index."""
    keep = np.zeros(len(b), dtype=bool)
    for c in np.unique(idxs):
        (sel,) = np.nonzero(idxs == c)
        keep[sel[_reference_nms(b[sel], s[sel], thr)]] = True
    (kept,) = np.nonzero(keep)
    return kept[np.argsort(-s[kept], kind="stable")]


def _nms_case(seed, n=None, dtype=np.float32):
    """Random boxes on a coarse grid (many exact duplicates, equal scores on odd seeds,
    zero-area boxes), fractional on every third seed, or sparse boxes in a 1000x1000 image."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400)) if n is None else n
    if seed % 5 == 4:
        xy = rng.uniform(0, 1000, (n, 2))
        b = np.concatenate([xy, xy + rng.uniform(10, 200, (n, 2))], 1)
    else:
        xy = rng.integers(0, 20, (n, 2))
        b = np.concatenate([xy, xy + rng.integers(0, 8, (n, 2))], 1).astype(np.float64)
        if seed % 3 == 0:
            b += rng.random((n, 4)) * [1, 1, 3, 3]
        b[rng.integers(0, n, n // 4)] = b[rng.integers(0, n, n // 4)]  # duplicates
    s = rng.integers(0, 5, n) if seed % 2 else rng.random(n)
    return b.astype(dtype), s.astype(dtype)


_THRESHOLDS = [-0.5, 0.0, 0.25, 0.3, 1 / 3, 0.5, 0.7, 1.0]


@pytest.mark.parametrize("seed", range(10))
def test_nms_matches_reference(seed):
    b, s = _nms_case(seed)
    for thr in _THRESHOLDS:
        keep = ops.nms(T(b), T(s), thr)
        assert keep.dtype == ember.int64
        np.testing.assert_array_equal(keep.cpu().numpy(), _reference_nms(b, s, thr), err_msg=thr)


@pytest.mark.parametrize("seed", range(5))
def test_nms_matches_reference_across_blocks(monkeypatch, seed):
    _small_nms_blocks(monkeypatch)
    b, s = _nms_case(seed)
    for thr in _THRESHOLDS:
        np.testing.assert_array_equal(ops.nms(T(b), T(s), thr).cpu().numpy(),
                                      _reference_nms(b, s, thr), err_msg=thr)


@pytest.mark.parametrize("seed,n", [(0, 3000), (1, 2000), (4, 3000)])
def test_nms_matches_reference_for_thousands_of_boxes(seed, n):
    b, s = _nms_case(seed, n)
    for thr in (0.0, 0.5, 0.7):
        np.testing.assert_array_equal(ops.nms(T(b), T(s), thr).cpu().numpy(),
                                      _reference_nms(b, s, thr), err_msg=thr)


def test_nms_float64_matches_reference():
    b, s = _nms_case(3, dtype=np.float64)
    for thr in (0.3, 1 / 3, 0.5):
        np.testing.assert_array_equal(ops.nms(T(b), T(s), thr).cpu().numpy(),
                                      _reference_nms(b, s, thr))


def test_nms_compares_iou_with_the_threshold_as_a_double():
    # IoU 30 / 100 is float32(0.3) = 0.30000001..., above the double 0.3: suppressed, as in
    # torchvision (rounding the threshold to float32 first would keep both boxes)
    b = T([[0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 3.0]])
    assert ops.nms(b, T([1.0, 0.5]), 0.3).tolist() == [0]
    assert ops.nms(b, T([1.0, 0.5]), 0.30000002).tolist() == [0, 1]


def test_nms_edge_cases():
    same = T([[1.0, 1.0, 5.0, 5.0]] * 4)
    assert ops.nms(same, T([0.5, 0.9, 0.9, 0.1]), 0.99).tolist() == [1]  # ties: lower index
    assert ops.nms(same, T([0.5, 0.9, 0.9, 0.1]), 1.0).tolist() == [1, 2, 0, 3]  # IoU 1 !> 1
    flat = T([[1.0, 1.0, 1.0, 5.0], [1.0, 1.0, 1.0, 5.0]])  # zero area: IoU 0/0, never above
    assert ops.nms(flat, T([0.2, 0.3]), 0.0).tolist() == [1, 0]
    apart = T([[0.0, 0.0, 1.0, 1.0], [1.0, 0.0, 2.0, 1.0]])  # touching: IoU 0, not > 0
    assert ops.nms(apart, T([0.2, 0.3]), 0.0).tolist() == [1, 0]
    assert ops.nms(apart, T([0.2, 0.3]), -0.1).tolist() == [1]
    assert ops.nms(T([[0.0, 0.0, 1.0, 1.0]]), T([0.5]), 0.5).tolist() == [0]


@pytest.mark.parametrize("seed", range(6))
def test_batched_nms_matches_reference(monkeypatch, seed):
    rng = np.random.default_rng(seed)
    # 1,200 boxes: an exact NMS per category; 300: the coordinate trick
    for n in (1200, 300):
        b, s = _nms_case(seed, n)
        idxs = rng.integers(0, (1, 3, 80)[seed % 3], n)
        for thr in (0.0, 0.5, 1.0):
            keep = ops.batched_nms(T(b), T(s), T(idxs), thr).cpu().numpy()
            if n > 1000:
                expected = _reference_batched_nms(b, s, idxs, thr)
            else:  # torchvision's shift of each category, then one NMS
                shifted = b + (idxs.astype(b.dtype) * (b.max() + b.dtype.type(1)))[:, None]
                expected = _reference_nms(shifted, s, thr)
            np.testing.assert_array_equal(keep, expected, err_msg=(n, thr))
    _small_nms_blocks(monkeypatch)
    b, s = _nms_case(seed, 1100)
    idxs = rng.integers(0, 5, 1100)
    np.testing.assert_array_equal(ops.batched_nms(T(b), T(s), T(idxs), 0.5).cpu().numpy(),
                                  _reference_batched_nms(b, s, idxs, 0.5))


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
