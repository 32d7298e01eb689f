"""ember.vision.transforms.v2 behaviour: which inputs of a nested sample are transformed
(torchvision's pure-tensor rule), one set of random parameters per call for every input,
reproducibility under ``ember.manual_seed``, the distributions of the random parameters,
MixUp/CutMix, box sanitizing, containers, type conversions, kernel registration and
torchvision's error messages."""

import collections

import ember
import numpy as np
import pytest
from ember.vision import tv_tensors as tvt
from ember.vision.transforms import v2
from ember.vision.transforms.v2 import functional as F

PIL = pytest.importorskip("PIL.Image")


def _ramp(c=1, h=2, w=3, dtype=ember.float32):
    return ember.arange(c * h * w).reshape(c, h, w).to(dtype)


def _flipped(x) -> bool:
    """Whether a ramp image came out of a horizontal flip."""
    return isinstance(x, ember.Tensor) and float(x.flatten()[0]) == x.shape[-1] - 1


def _sample(h=24, w=32):
    img = tvt.Image(ember.randint(0, 256, (3, h, w), dtype=ember.uint8))
    boxes = tvt.BoundingBoxes([[2.0, 3.0, 20.0, 18.0], [5.0, 5.0, 9.0, 9.0]],
                              format="XYXY", canvas_size=(h, w))
    mask = tvt.Mask(ember.zeros(h, w, dtype=ember.uint8))
    return img, {"boxes": boxes, "labels": ember.tensor([1, 2]), "masks": mask}


# -- which inputs are transformed ---------------------------------------------------------


def test_first_pure_tensor_is_the_image_when_no_image_is_present():
    t = v2.RandomHorizontalFlip(p=1.0)
    a, b = _ramp(), _ramp()
    assert [_flipped(x) for x in t(a, b)] == [True, False]
    img = tvt.Image(_ramp())
    assert [_flipped(x) for x in t(img, _ramp())] == [True, False]
    assert [_flipped(x) for x in t(_ramp(), img)] == [False, True]
    video = tvt.Video(_ramp().reshape(1, 1, 2, 3))
    assert [_flipped(x) for x in t(video, _ramp())] == [True, False]
    pil = PIL.fromarray(np.zeros((2, 3, 3), np.uint8))
    out = t(_ramp(), pil)
    assert not _flipped(out[0]) and isinstance(out[1], PIL.Image)
    # masks and boxes do not count as images
    assert [_flipped(x) for x in t(tvt.Mask(_ramp()), _ramp())] == [True, True]
    boxes = tvt.BoundingBoxes([[0, 0, 1, 1]], format="XYXY", canvas_size=(2, 3))
    out = t(boxes, _ramp())
    assert out[0].tolist() == [[2, 0, 3, 1]] and _flipped(out[1])
    assert _flipped(t(_ramp()))


def test_nested_samples_keep_their_structure_and_pass_other_leaves():
    t = v2.RandomHorizontalFlip(p=1.0)
    out = t({"y": _ramp(), "x": _ramp(), "n": 3, "s": "hi", "none": None})
    assert list(out) == ["y", "x", "n", "s", "none"]
    assert _flipped(out["y"]) and not _flipped(out["x"])  # dict order decides
    assert (out["n"], out["s"], out["none"]) == (3, "hi", None)
    point = collections.namedtuple("Point", ["img", "label"])
    out = t([point(_ramp(), 7), (_ramp(),), collections.OrderedDict(z=_ramp())])
    assert isinstance(out, list) and isinstance(out[0], point) and out[0].label == 7
    assert _flipped(out[0].img) and not _flipped(out[1][0])
    assert isinstance(out[2], collections.OrderedDict)
    assert t(3) == 3 and t("x") == "x" and t(None) is None


def test_one_set_of_parameters_for_every_input_of_a_sample():
    ember.manual_seed(0)
    h, w = 24, 32
    mask = ember.zeros(h, w, dtype=ember.uint8)
    mask[5:15, 8:20] = 1
    img = tvt.Image(mask[None].expand(3, h, w).clone() * 200)
    boxes = tvt.BoundingBoxes([[8.0, 5.0, 20.0, 15.0]], format="XYXY", canvas_size=(h, w))
    pipeline = v2.Compose([v2.RandomHorizontalFlip(), v2.RandomResizedCrop(
        (20, 20), scale=(0.6, 1.0), interpolation=v2.InterpolationMode.NEAREST),
        v2.RandomRotation(90), v2.RandomZoomOut(side_range=(1, 2))])
    for _ in range(10):
        out_img, out_mask, out_boxes = pipeline(img, tvt.Mask(mask), boxes)
        assert out_img.shape[-2:] == out_mask.shape[-2:]
        assert tuple(out_boxes.canvas_size) == tuple(out_mask.shape[-2:])
        on = out_mask.numpy() > 0
        np.testing.assert_array_equal(out_img.numpy()[0] > 0, on)
        if on.any():  # the box encloses the mask region (up to a pixel of rounding)
            ys, xs = np.nonzero(on)
            x1, y1, x2, y2 = out_boxes.numpy()[0]
            assert x1 - 1.5 <= xs.min() and xs.max() + 1 <= x2 + 1.5
            assert y1 - 1.5 <= ys.min() and ys.max() + 1 <= y2 + 1.5


def test_types_are_kept_through_transforms():
    img, target = _sample()
    out_img, out_target = v2.Compose([v2.RandomPhotometricDistort(p=1.0), v2.RandomZoomOut(
        p=1.0), v2.RandomIoUCrop(), v2.RandomHorizontalFlip(p=1.0),
        v2.Resize((20, 20)), v2.SanitizeBoundingBoxes(), v2.ToDtype(ember.float32, scale=True)
    ])(img, target)
    assert type(out_img) is tvt.Image and out_img.dtype == ember.float32
    assert type(out_target["boxes"]) is tvt.BoundingBoxes
    assert out_target["boxes"].canvas_size == (20, 20)
    assert type(out_target["masks"]) is tvt.Mask and out_target["masks"].shape == (20, 20)
    assert type(out_target["labels"]) is ember.Tensor
    assert out_target["labels"].shape[0] == out_target["boxes"].shape[0]
    pil = PIL.fromarray(np.zeros((24, 32, 3), np.uint8))
    assert isinstance(v2.RandomResizedCrop(16)(pil), PIL.Image)
    assert v2.RandomResizedCrop(16)(pil).size == (16, 16)


# -- random parameters --------------------------------------------------------------------

RANDOM = [
    lambda: v2.RandomResizedCrop(16), lambda: v2.RandomCrop(16, padding=2),
    lambda: v2.RandomHorizontalFlip(), lambda: v2.RandomRotation(30),
    lambda: v2.RandomAffine(10, (0.1, 0.1), (0.9, 1.1), (-5, 5, -3, 3)),
    lambda: v2.RandomPerspective(), lambda: v2.RandomZoomOut(), lambda: v2.RandomIoUCrop(),
    lambda: v2.ColorJitter(0.4, 0.4, 0.4, 0.1), lambda: v2.RandomPhotometricDistort(),
    lambda: v2.RandomGrayscale(0.5), lambda: v2.GaussianBlur(3), lambda: v2.RandomErasing(),
    lambda: v2.RandomResize(10, 20), lambda: v2.RandomShortestSize([10, 12], 20),
    lambda: v2.ScaleJitter((20, 20)), lambda: v2.ElasticTransform(),
    lambda: v2.RandomChannelPermutation(), lambda: v2.AutoAugment(), lambda: v2.RandAugment(),
    lambda: v2.TrivialAugmentWide(), lambda: v2.AugMix(),
    lambda: v2.RandomChoice([v2.RandomVerticalFlip(1.0), v2.RandomHorizontalFlip(1.0)]),
    lambda: v2.RandomOrder([v2.RandomVerticalFlip(), v2.RandomInvert()]),
    lambda: v2.RandomApply([v2.ColorJitter(0.5)]),
]


@pytest.mark.parametrize("make", RANDOM, ids=lambda f: "")
def test_random_transforms_are_reproduced_by_manual_seed(make):
    t = make()
    auto = isinstance(t, (v2.AutoAugment, v2.RandAugment, v2.TrivialAugmentWide, v2.AugMix))
    results = []
    for _ in range(2):
        ember.manual_seed(123)
        img, target = _sample()
        outs = [t(img) if auto else t(img, target["boxes"]) for _ in range(3)]
        results.append([o.numpy() if isinstance(o, ember.Tensor) else [x.numpy() for x in o]
                        for o in outs])
    for a, b in zip(*results):
        for x, y in zip(a if isinstance(a, list) else [a], b if isinstance(b, list) else [b]):
            np.testing.assert_array_equal(x, y)


def test_random_apply_and_flip_probabilities():
    ember.manual_seed(0)
    t = v2.RandomHorizontalFlip(p=0.3)
    assert abs(np.mean([_flipped(t(_ramp())) for _ in range(1000)]) - 0.3) < 0.05
    t = v2.RandomApply([v2.RandomHorizontalFlip(p=1.0)], p=0.7)
    assert abs(np.mean([_flipped(t(_ramp())) for _ in range(1000)]) - 0.7) < 0.05
    t = v2.RandomChoice([v2.Identity(), v2.RandomHorizontalFlip(p=1.0)], p=[1, 3])
    assert t.p == [0.25, 0.75]
    assert abs(np.mean([_flipped(t(_ramp())) for _ in range(1000)]) - 0.75) < 0.05


def test_random_resized_crop_and_erasing_parameters_follow_their_ranges():
    ember.manual_seed(0)
    t = v2.RandomResizedCrop(8, scale=(0.2, 0.6), ratio=(0.75, 4 / 3))
    img = tvt.Image(ember.zeros(3, 100, 120))
    areas = []
    for _ in range(300):
        p = t.make_params([img])
        assert 0 <= p["top"] <= 100 - p["height"] and 0 <= p["left"] <= 120 - p["width"]
        assert 0.7 < p["width"] / p["height"] < 1.4
        areas.append(p["height"] * p["width"] / 12000)
    assert 0.18 < min(areas) and max(areas) < 0.62 and abs(np.mean(areas) - 0.4) < 0.03
    e = v2.RandomErasing(p=1.0, scale=(0.1, 0.2), value="random")
    for _ in range(50):
        p = e.make_params([img])
        assert 0.09 < p["h"] * p["w"] / 12000 < 0.21 and p["v"].shape == (3, p["h"], p["w"])
    erased = v2.RandomErasing(p=1.0, value=[1, 2, 3])(ember.zeros(3, 40, 50))
    assert sorted(np.unique(erased.numpy()).tolist()) == [0.0, 1.0, 2.0, 3.0]


def test_color_jitter_and_affine_parameters_follow_their_ranges():
    ember.manual_seed(0)
    cj = v2.ColorJitter(brightness=0.5, contrast=(0.2, 0.4), hue=0.1)
    assert cj.saturation is None and cj.contrast == (0.2, 0.4)
    for _ in range(100):
        p = cj.make_params([])
        assert sorted(p["fn_idx"].tolist()) == [0, 1, 2, 3]
        assert 0.5 <= p["brightness_factor"] <= 1.5 and 0.2 <= p["contrast_factor"] <= 0.4
        assert p["saturation_factor"] is None and -0.1 <= p["hue_factor"] <= 0.1
    ra = v2.RandomAffine(10, translate=(0.1, 0.2), scale=(0.9, 1.1), shear=(-5, 5, -3, 3))
    img = tvt.Image(ember.zeros(1, 40, 50))
    for _ in range(100):
        p = ra.make_params([img])
        assert -10 <= p["angle"] <= 10 and abs(p["translate"][0]) <= 5
        assert abs(p["translate"][1]) <= 8 and 0.9 <= p["scale"] <= 1.1
        assert -5 <= p["shear"][0] <= 5 and -3 <= p["shear"][1] <= 3


def test_random_iou_crop_keeps_a_window_overlapping_the_boxes():
    ember.manual_seed(0)
    img, target = _sample()
    t = v2.RandomIoUCrop()
    crops = 0
    for _ in range(30):
        p = t.make_params([img, target["boxes"]])
        if not p:
            continue
        crops += 1
        assert p["is_within_crop_area"].dtype == ember.bool and p["is_within_crop_area"].any()
        assert 0.5 <= p["width"] / p["height"] <= 2.0
    assert crops > 10
    with pytest.raises(TypeError, match=r"^RandomIoUCrop\(\) requires input sample to contain "
                                        r"tensor or PIL images and bounding boxes\. Sample can "
                                        r"also contain masks\.$"):
        t(img)


# -- MixUp / CutMix -----------------------------------------------------------------------


def test_mixup_blends_consecutive_samples_and_labels():
    ember.manual_seed(0)
    x = ember.rand(4, 3, 8, 8)
    labels = ember.tensor([0, 1, 2, 1])
    out, mixed = v2.MixUp(num_classes=3)(x, labels)
    assert out.shape == x.shape and mixed.shape == (4, 3) and mixed.dtype == ember.float32
    np.testing.assert_allclose(mixed.sum(-1).numpy(), np.ones(4), rtol=1e-6)
    lam = float(mixed[0, 0])  # sample 0 (class 0) mixed with sample 3 (class 1)
    expected = lam * x.numpy() + (1 - lam) * np.roll(x.numpy(), 1, axis=0)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-6)
    out = v2.MixUp(num_classes=3)({"image": tvt.Image(x), "labels": labels})
    assert type(out["image"]) is tvt.Image and out["labels"].shape == (4, 3)


def test_cutmix_pastes_a_box_and_mixes_labels_by_area():
    ember.manual_seed(1)
    x = ember.arange(4).float().reshape(4, 1, 1, 1).expand(4, 3, 16, 20).clone()
    for _ in range(5):
        out, mixed = v2.CutMix(num_classes=4)(x, ember.tensor([0, 1, 2, 3]))
        pasted = (out.numpy()[1, 0] == 0).mean()  # sample 1 got sample 0's pixels
        np.testing.assert_allclose(float(mixed[1, 0]), pasted, rtol=1e-5)
        np.testing.assert_allclose(float(mixed[1, 1]), 1 - pasted, rtol=1e-5)


def test_mixup_cutmix_errors_read_like_torchvision():
    with pytest.raises(ValueError, match=r"^Expected a batched input with 4 dims, but got 3 "
                                         r"dimensions instead\.$"):
        v2.MixUp(num_classes=3)(ember.zeros(3, 4, 4), ember.tensor([0, 1]))
    with pytest.raises(ValueError, match=r"^The batch size of the image or video does not match"
                                         r" the batch size of the labels: 2 != 3\.$"):
        v2.MixUp(num_classes=3)(ember.zeros(2, 3, 4, 4), ember.tensor([0, 1, 1]))
    with pytest.raises(ValueError, match=r"^num_classes must be passed if the labels are "
                                         r"index-based \(1D\)$"):
        v2.MixUp()(ember.zeros(2, 3, 4, 4), ember.tensor([0, 1]))
    with pytest.raises(ValueError, match=r"^CutMix\(\) does not support PIL images, bounding "
                                         r"boxes, keypoints and masks\.$"):
        v2.CutMix(num_classes=3)(ember.zeros(2, 3, 4, 4), tvt.BoundingBoxes(
            [[1, 2, 3, 4]], format="XYXY", canvas_size=(4, 4)), ember.tensor([0, 1]))


# -- sanitizing boxes ---------------------------------------------------------------------


def test_sanitize_bounding_boxes_filters_labels_and_instance_masks():
    b = tvt.BoundingBoxes([[1, 2, 3, 4], [0, 0, 0, 0], [0, 0, 5, 5]], format="XYXY",
                          canvas_size=(10, 12))
    sample = {"boxes": b, "labels": ember.tensor([1, 2, 3]),
              "masks": tvt.Mask(ember.zeros(3, 10, 12)), "sem": tvt.Mask(ember.zeros(10, 12)),
              "other": ember.tensor([4, 5, 6])}
    out = v2.SanitizeBoundingBoxes()(sample)
    assert out["boxes"].tolist() == [[1, 2, 3, 4], [0, 0, 5, 5]]
    assert out["labels"].tolist() == [1, 3] and out["masks"].shape == (2, 10, 12)
    assert out["sem"].shape == (10, 12) and out["other"].tolist() == [4, 5, 6]
    out = v2.SanitizeBoundingBoxes(labels_getter=lambda s: (s[1]["labels"], s[1]["area"]))(
        (ember.zeros(3, 10, 12), {"boxes": b, "labels": ember.tensor([1, 2, 3]),
                                  "area": ember.tensor([1.0, 2.0, 3.0])}))
    assert out[1]["area"].tolist() == [1.0, 3.0]
    kept, valid = F.sanitize_bounding_boxes(
        ember.tensor([[0, 0, 5, 5], [0, 0, 0.5, 5], [-1, 0, 5, 5], [0, 0, 13, 5.0]]),
        format="XYXY", canvas_size=(10, 12), min_size=0.1, min_area=0.2)
    assert valid.tolist() == [True, True, False, False] and kept.shape == (2, 4)


def test_sanitize_errors_read_like_torchvision():
    b = tvt.BoundingBoxes([[1, 2, 3, 4]], format="XYXY", canvas_size=(10, 12))
    with pytest.raises(ValueError, match=r"^When using the default labels_getter, the input "
                                         r"passed to forward must be a dictionary or a "
                                         r"two-tuple"):
        v2.SanitizeBoundingBoxes()(b)
    with pytest.raises(ValueError, match=r"^Could not infer where the labels are in the sample"):
        v2.SanitizeBoundingBoxes()({"boxes": b})
    with pytest.raises(ValueError, match=r"^Number of boxes \(shape=.*\) and must match the "
                                         r"number of labels\.Found labels with shape="):
        v2.SanitizeBoundingBoxes()({"boxes": b, "labels": ember.zeros(2)})
    with pytest.raises(ValueError, match=r"^No bounding boxes were found in the sample$"):
        v2.SanitizeBoundingBoxes(labels_getter=None)(ember.zeros(3, 4, 5))
    with pytest.raises(ValueError, match=r"^labels_getter should either be 'default', a "
                                         r"callable, or None, but got 3\.$"):
        v2.SanitizeBoundingBoxes(labels_getter=3)
    with pytest.raises(ValueError, match=r"^min_size must be >= 1, got 0\.5\.$"):
        v2.SanitizeBoundingBoxes(min_size=0.5)


# -- dtype and type conversions -----------------------------------------------------------


def test_to_dtype_converts_images_or_the_types_of_a_dict():
    img = tvt.Image(ember.full((1, 2, 2), 255, dtype=ember.uint8))
    mask = tvt.Mask(ember.zeros(2, 2, dtype=ember.uint8))
    boxes = tvt.BoundingBoxes([[1, 2, 3, 4]], format="XYXY", canvas_size=(2, 2))
    pure = ember.zeros(2, dtype=ember.uint8)
    out = v2.ToDtype(ember.float32, scale=True)(img, mask, boxes, pure)
    assert [o.dtype for o in out] == [ember.float32, ember.uint8, ember.int64, ember.uint8]
    assert float(out[0].max()) == 1.0
    out = v2.ToDtype({tvt.Image: ember.float32, tvt.Mask: ember.int64, "others": None},
                     scale=True)(img, mask, boxes)
    assert [o.dtype for o in out] == [ember.float32, ember.int64, ember.int64]
    assert [type(o) for o in out] == [tvt.Image, tvt.Mask, tvt.BoundingBoxes]
    with pytest.raises(ValueError, match=r"^No dtype was specified for type <class "
                                         r"'ember\.vision\.tv_tensors\._image\.Mask'>\."):
        v2.ToDtype({tvt.Image: ember.float32})(img, mask)
    with pytest.warns(UserWarning, match="will \\*not\\* be transformed"):
        v2.ToDtype({tvt.Image: ember.float32, ember.Tensor: ember.float64})
    assert F.to_dtype(ember.tensor([0.0, 0.25, 0.999, 1.0]), ember.uint8,
                      scale=True).tolist() == [0, 63, 255, 255]
    assert F.to_dtype(ember.tensor([0, 255], dtype=ember.uint8), ember.int16,
                      scale=True).tolist() == [0, 32640]
    with pytest.raises(TypeError, match=r"^Number of value bits is only defined for integer "
                                        r"dtypes, but got ember\.bool\.$"):
        F.to_dtype(ember.tensor([True]), ember.float32, scale=True)


def test_type_conversion_transforms():
    arr = np.arange(24, dtype=np.uint8).reshape(2, 4, 3)
    pil = PIL.fromarray(arr)
    img = v2.ToImage()(pil)
    assert type(img) is tvt.Image and img.shape == (3, 2, 4)
    np.testing.assert_array_equal(img.numpy(), arr.transpose(2, 0, 1))
    assert v2.ToImage()(arr).shape == (3, 2, 4) and v2.ToImage()(np.zeros((4, 5))).shape == (
        1, 4, 5)
    assert type(v2.PILToTensor()(pil)) is ember.Tensor
    back = v2.ToPILImage()(img)
    assert isinstance(back, PIL.Image) and np.array_equal(np.asarray(back), arr)
    out = v2.ToPureTensor()({"a": img, "b": tvt.Mask(ember.zeros(2, 2)), "c": 1})
    assert type(out["a"]) is ember.Tensor and type(out["b"]) is ember.Tensor and out["c"] == 1
    with pytest.raises(TypeError, match=r"^Input can either be a pure Tensor, a numpy array, or "
                                        r"a PIL image, but got <class 'int'> instead\.$"):
        F.to_image(3)
    assert v2.ToImage()(3) == 3
    with pytest.warns(UserWarning, match="deprecated"):
        t = v2.ToTensor()
    assert t(pil).dtype == ember.float32


# -- containers and Lambda ----------------------------------------------------------------


def test_containers_pass_whole_samples():
    t = v2.Compose([v2.RandomHorizontalFlip(p=1.0), v2.RandomVerticalFlip(p=1.0)])
    a, b = t(_ramp(), 5)
    assert float(a.flatten()[0]) == 5 and b == 5
    assert float(t(_ramp()).flatten()[0]) == 5
    assert isinstance(t.transforms, ember.nn.ModuleList)
    plain = v2.Compose([lambda x: x + 1, lambda x: x * 2])
    assert plain(1) == 4
    assert "RandomHorizontalFlip(p=1.0)" in repr(t)
    ember.manual_seed(0)
    results = {v2.RandomOrder([v2.Lambda(lambda x: x * 10), v2.Lambda(lambda x: x + 1)])(1)
               for _ in range(50)}
    assert results == {11, 20}


def test_lambda_applies_to_the_given_types():
    a = ember.zeros(2, 2)
    out = v2.Lambda(lambda x: ("L", x if not isinstance(x, ember.Tensor) else "t"))(a, a, 3)
    assert out[0] == ("L", "t") and out[1] is a and out[2] == ("L", 3)
    out = v2.Lambda(lambda x: "L", int)(a, 3)
    assert out[0] is a and out[1] == "L"
    assert repr(v2.Lambda(lambda x: x)) == "Lambda(<lambda>, types=['object'])"


def test_container_and_argument_errors_read_like_torchvision():
    cases = [
        (lambda: v2.Compose(v2.Identity()), TypeError,
         "Argument transforms should be a sequence of callables"),
        (lambda: v2.Compose([]), ValueError, "Pass at least one transform"),
        (lambda: v2.RandomApply(v2.Identity()), TypeError,
         "Argument transforms should be a sequence of callables or a `nn.ModuleList`"),
        (lambda: v2.Resize(2.5), ValueError, "size can be an integer, a sequence of one or two "
         "integers, or None, but got 2.5 instead."),
        (lambda: v2.GaussianBlur(4), ValueError,
         "Kernel size value should be an odd and positive number."),
        (lambda: v2.RandomErasing(value="x"), ValueError, "If value is str, it should be "
         "'random'"),
        (lambda: v2.ColorJitter(hue=0.7), ValueError, "hue values should be between (-0.5, 0.5) "
         "and increasing, but got [-0.7, 0.7]."),
        (lambda: v2.Pad(3, padding_mode="foo"), ValueError,
         "Padding mode should be either constant, edge, reflect or symmetric"),
        (lambda: v2.RandomHorizontalFlip(p=2), ValueError,
         "`p` should be a floating point value in the interval [0.0, 1.0]."),
        (lambda: v2.RandomCrop(10)(tvt.Image(ember.zeros(3, 4, 5))), ValueError,
         "Required crop size (10, 10) is larger than input image size (4, 5)."),
        (lambda: v2.RandomCrop(3)(tvt.Image(ember.zeros(3, 4, 5)),
                                  tvt.Image(ember.zeros(3, 6, 5))),
         ValueError, "Found multiple HxW dimensions in the sample: '(4, 5)', '(6, 5)'"),
        (lambda: v2.query_size([3, "x"]), TypeError,
         "No image, video, mask, bounding box of keypoint was found in the sample"),
        (lambda: v2.query_chw([ember.zeros(3, 4, 5), ember.zeros(1, 4, 5)]), ValueError,
         "Found multiple CxHxW dimensions in the sample: '(1, 4, 5)', '(3, 4, 5)'"),
        (lambda: v2.Normalize([0.5], [0.5])(ember.zeros(3, 4, 5, dtype=ember.uint8)), TypeError,
         "Input tensor should be a float tensor. Got ember.uint8."),
        (lambda: v2.AutoAugment()(tvt.Image(ember.zeros(3, 8, 8, dtype=ember.uint8)),
                                  tvt.Mask(ember.zeros(8, 8))), TypeError,
         "Inputs of type Mask are not supported by AutoAugment()"),
        (lambda: v2.AutoAugment()(tvt.Image(ember.zeros(3, 8, 8, dtype=ember.uint8)),
                                  tvt.Image(ember.zeros(3, 8, 8, dtype=ember.uint8))), TypeError,
         "Auto augment transformations are only properly defined for a single image or video, "
         "but found 2."),
    ]
    for make, error, message in cases:
        with pytest.raises(error) as info:
            make()
        assert str(info.value) == message


# -- functionals: dispatch, errors, custom kernels ----------------------------------------


def test_functional_errors_read_like_torchvision():
    with pytest.raises(ValueError, match=r"^For pure tensor inputs, `old_format` has to be "
                                         r"passed\.$"):
        F.convert_bounding_box_format(ember.zeros(1, 4), new_format="XYWH")
    with pytest.raises(ValueError, match=r"^For pure tensor inputs, `format`, `canvas_size` and "
                                         r"`clamping_mode` have to be passed\.$"):
        F.clamp_bounding_boxes(ember.zeros(1, 4), format="XYXY")
    b = tvt.BoundingBoxes([[1, 2, 3, 4]], format="XYXY", canvas_size=(10, 12))
    with pytest.raises(ValueError, match=r"^For bounding box tv_tensor inputs, `format` and "
                                         r"`canvas_size` must not be passed\.$"):
        F.clamp_bounding_boxes(b, format="XYXY")
    with pytest.raises(TypeError, match=r"^Functional F\.horizontal_flip supports inputs of type "
                                        r"dict_keys\(\[<class 'ember\._tensor\.Tensor'>, .*\]\), "
                                        r"but got <class 'int'> instead\.$"):
        F.horizontal_flip(3)
    with pytest.raises(TypeError, match=r"^Functional F\.adjust_brightness supports inputs"):
        F.adjust_brightness(b, 0.5)
    with pytest.raises(ValueError, match=r"^Padding mode 'reflect' is not supported with "
                                         r"bounding boxes$"):
        F.pad(b, [1], padding_mode="reflect")
    with pytest.raises(ValueError, match=r"^max_size must be an integer when size is None, but "
                                         r"got None instead\.$"):
        F.resize(ember.zeros(1, 4, 5), None)
    with pytest.raises(ValueError, match=r"^sigma shouldn't be negative\. Got -1$"):
        F.gaussian_noise(ember.zeros(3, 2, 2), sigma=-1)


def test_transforms_pass_through_types_without_a_kernel():
    b = tvt.BoundingBoxes([[1, 2, 3, 4]], format="XYXY", canvas_size=(8, 8))
    m = tvt.Mask(ember.zeros(8, 8))
    img = tvt.Image(ember.rand(3, 8, 8))
    out = v2.ColorJitter(0.5, 0.5, 0.5, 0.2)(img, b, m)
    assert out[1] is b and out[2] is m


def test_register_kernel_for_a_custom_tv_tensor():
    class Heatmap(tvt.TVTensor):
        pass

    @F.register_kernel(F.horizontal_flip, Heatmap)
    def _flip_heatmap(inpt):
        return tvt.wrap(inpt.flip(-1), like=inpt)

    h = Heatmap._wrap(ember.arange(6.0).reshape(2, 3))
    out = v2.RandomHorizontalFlip(p=1.0)(tvt.Image(ember.zeros(1, 2, 3)), h)
    assert type(out[1]) is Heatmap and out[1][0].tolist() == [2.0, 1.0, 0.0]
    assert v2.RandomVerticalFlip(p=1.0)(h) is h  # no kernel: passed through
    with pytest.raises(ValueError):
        F.register_kernel(F.horizontal_flip, int)


def test_gaussian_noise_draws_from_embers_generator():
    img = ember.full((1, 2, 2), 0.5)
    ember.manual_seed(0)
    out = F.gaussian_noise(img, sigma=0.1, clip=False)
    ember.manual_seed(0)
    noise = ember.randn(1, 2, 2)
    np.testing.assert_allclose(out.numpy(), 0.5 + 0.1 * noise.numpy(), rtol=1e-6)
    u8 = ember.full((1, 2, 2), 100, dtype=ember.uint8)
    ember.manual_seed(0)
    out = F.gaussian_noise(u8, sigma=0.1)
    expected = np.clip(100 + np.trunc(noise.numpy() * 0.1 * 255), 0, 255)
    np.testing.assert_array_equal(out.numpy(), expected.astype(np.uint8))


def test_videos_are_transformed_frame_by_frame_consistently():
    ember.manual_seed(0)
    frame = ember.randint(0, 256, (3, 12, 16), dtype=ember.uint8)
    video = tvt.Video(ember.stack([frame, frame]))
    out = v2.Compose([v2.RandomResizedCrop(8), v2.RandomHorizontalFlip(),
                      v2.ColorJitter(0.3, 0.3)])(video)
    assert type(out) is tvt.Video and out.shape == (2, 3, 8, 8)
    np.testing.assert_array_equal(out[0].numpy(), out[1].numpy())
    assert v2.UniformTemporalSubsample(1)(video).shape == (1, 3, 12, 16)


def test_importable_as_torchvision_transforms_v2():
    import ember.vision as torchvision

    assert torchvision.transforms.v2.Resize is v2.Resize
    assert torchvision.tv_tensors.Image is tvt.Image
    assert torchvision.transforms.v2.functional.resize is F.resize
    assert set(v2.__all__) >= {"Compose", "ToImage", "ToDtype", "RandomIoUCrop", "MixUp",
                               "CutMix", "SanitizeBoundingBoxes", "ElasticTransform"}


def test_sanitize_keypoints_drops_points_outside_the_canvas():
    k = tvt.KeyPoints([[1.0, 2.0], [40, 3], [3, -1], [11.5, 9.5]], canvas_size=(10, 12))
    kept, valid = F.sanitize_keypoints(k)
    assert valid.tolist() == [True, False, False, True] and type(kept) is tvt.KeyPoints
    groups = tvt.KeyPoints([[[1.0, 2.0], [4, 3]], [[40, 3], [1, 1]]], canvas_size=(10, 12))
    assert F.sanitize_keypoints(groups)[1].tolist() == [True, False]
    out = v2.SanitizeKeyPoints(labels_getter=lambda s: s["labels"])(
        {"kp": k, "labels": ember.arange(4)})
    assert out["labels"].tolist() == [0, 3] and out["kp"].shape == (2, 2)
    assert v2.SanitizeKeyPoints()({"kp": k, "labels": ember.arange(4)})["labels"].shape == (4,)
    clamped = v2.ClampKeyPoints()(tvt.KeyPoints([[-1.0, 20.0]], canvas_size=(8, 8)))
    assert clamped.tolist() == [[0.0, 7.0]]


def test_linear_transformation_matches_torchvision():
    x = ember.arange(12.0).reshape(3, 2, 2)
    m = ember.arange(144.0).reshape(12, 12) / 100
    out = v2.LinearTransformation(m, ember.ones(12))(x)
    np.testing.assert_allclose(out.flatten()[:4].numpy(), [52.8, 53.34, 53.88, 54.42],
                               rtol=1e-5)
    assert v2.LinearTransformation(m, ember.ones(12))(x.expand(2, 3, 2, 2)).shape == (2, 3, 2, 2)
    with pytest.raises(ValueError, match=r"^transformation_matrix should be square\. Got "
                                         r"\(2, 3\) rectangular matrix\.$"):
        v2.LinearTransformation(ember.zeros(2, 3), ember.zeros(2))
    with pytest.raises(ValueError, match=r"^Input tensor and transformation matrix have "
                                         r"incompatible shape\.\[3 x 2 x 2\] != 3$"):
        v2.LinearTransformation(ember.eye(3), ember.zeros(3))(ember.zeros(3, 2, 2))


def test_small_deterministic_transforms():
    b = tvt.BoundingBoxes([[1, 2, 3, 4]], format="XYXY", canvas_size=(8, 8))
    assert v2.SetClampingMode(None)(b).clamping_mode is None
    assert v2.Grayscale(3)(tvt.Image(ember.zeros(1, 2, 2))).shape == (3, 2, 2)
    assert v2.RGB()(tvt.Image(ember.zeros(1, 2, 2))).shape == (3, 2, 2)
    out = v2.ConvertImageDtype(ember.float32)(tvt.Image(ember.full((1, 2, 2), 255,
                                                                   dtype=ember.uint8)))
    assert type(out) is tvt.Image and float(out.max()) == 1.0
    ember.manual_seed(0)
    noisy = v2.GaussianNoise(sigma=0.5)(tvt.Image(ember.full((1, 8, 8), 0.5)))
    assert type(noisy) is tvt.Image and 0 <= float(noisy.min()) and float(noisy.max()) <= 1
    crops = v2.FiveCrop(4)(tvt.Image(ember.arange(64.0).reshape(1, 8, 8)))
    assert len(crops) == 5 and all(type(c) is tvt.Image for c in crops)
    assert crops[3][0, 0, 0].item() == 36.0 and crops[4][0, 0, 0].item() == 18.0
    assert len(v2.TenCrop(4)(ember.zeros(1, 8, 8))) == 10
    with pytest.raises(TypeError, match=r"^BoundingBoxes'es and Mask's are not supported by "
                                        r"FiveCrop\(\)$"):
        v2.FiveCrop(4)(tvt.Image(ember.zeros(3, 8, 8)), b)
    with pytest.raises(ValueError, match=r"^Requested crop size \(10, 10\) is bigger than input "
                                         r"size \(8, 8\)$"):
        v2.FiveCrop(10)(ember.zeros(3, 8, 8))


def test_size_queries():
    assert F.get_size(tvt.BoundingBoxes([[1, 2, 3, 4]], format="XYXY",
                                        canvas_size=(8, 9))) == [8, 9]
    assert F.get_num_frames(tvt.Video(ember.zeros(5, 3, 2, 2))) == 5
    assert F.get_dimensions(ember.zeros(2, 2)) == [1, 2, 2]
    assert F.get_size(tvt.Mask(ember.zeros(4, 6))) == [4, 6]
    assert F.get_num_channels(PIL.fromarray(np.zeros((2, 3, 3), np.uint8))) == 3
    with pytest.warns(UserWarning, match="deprecated"):
        assert F.get_image_size(ember.zeros(3, 4, 5)) == [5, 4]
    with pytest.raises(TypeError, match=r"^Functional F\.get_dimensions supports inputs of type"):
        F.get_dimensions(tvt.Mask(ember.zeros(2, 2)))


def test_custom_transforms_implement_make_params_and_transform():
    class AddRandom(v2.Transform):
        def make_params(self, flat_inputs):
            return {"value": float(ember.randint(1, 10, (1,)).item())}

        def transform(self, inpt, params):
            if isinstance(inpt, tvt.BoundingBoxes):
                return inpt
            return tvt.wrap(inpt + params["value"], like=inpt) \
                if isinstance(inpt, tvt.TVTensor) else inpt + params["value"]

    img = tvt.Image(ember.zeros(1, 2, 2))
    boxes = tvt.BoundingBoxes([[0, 0, 1, 1]], format="XYXY", canvas_size=(2, 2))
    out_img, out_mask, out_boxes, label = AddRandom()(img, tvt.Mask(ember.zeros(2, 2)), boxes, 3)
    assert type(out_img) is tvt.Image and out_boxes is boxes and label == 3
    assert float(out_img.max()) == float(out_mask.max())  # one draw for the whole sample


def test_custom_tv_tensor_subclass_from_data():
    class Heatmap(tvt.TVTensor):
        pass

    h = Heatmap([1.0, 2.0])
    assert type(h) is Heatmap and h.dtype == ember.float32
    assert type(h + 1) is ember.Tensor and type(h.clone()) is Heatmap
