"""ember.vision.transforms classes: the presets against torchvision goldens, composition,
and random transforms through their draws (fixed seeds reproduce them; draw statistics
match the documented distributions)."""

import random

import ember
import numpy as np
import pytest
from ember.vision import transforms as T
from ember.vision.models import ResNet50_Weights
from ember.vision.transforms import functional as F
from vision_helpers import assert_close

PIL = pytest.importorskip("PIL.Image")


@pytest.fixture(scope="module")
def coffee(transforms_golden):
    arr = transforms_golden["photo_coffee"]
    return PIL.fromarray(arr), ember.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))


def test_classification_preset_matches_torchvision(transforms_golden, coffee):
    pil, t = coffee
    preset = ResNet50_Weights.IMAGENET1K_V2.transforms()
    out = preset(pil)
    assert out.shape == (3, 224, 224) and out.dtype == ember.float32
    assert_close(out[:, 100:116, 100:116], transforms_golden["preset_pil"], 1e-5, 1e-5)
    out_t = preset(t)
    # uint8 tensors are resized in float then rounded: one level of rounding is allowed
    assert_close(out_t[:, 100:116, 100:116], transforms_golden["preset_tensor"], 0, 0.02)
    small = T.Compose([T.Resize(40), T.CenterCrop(32)])
    np.testing.assert_array_equal(np.asarray(small(pil)), transforms_golden["compose_pil"])
    d = np.abs(small(t).numpy().astype(int) - transforms_golden["compose_tensor"])
    assert d.max() <= 1 and (d > 0).mean() < 0.01


def test_compose_totensor_normalize_pipeline(coffee):
    pil, _ = coffee
    pipe = T.Compose([T.CenterCrop(32), T.ToTensor(), T.Normalize([0.5] * 3, [0.25] * 3)])
    out = pipe(pil)
    ref = (np.asarray(F.center_crop(pil, 32)).transpose(2, 0, 1) / 255.0 - 0.5) / 0.25
    assert_close(out, ref.astype(np.float32), 1e-5, 1e-5)
    assert "CenterCrop(size=(32, 32))" in repr(pipe)
    assert T.Lambda(lambda x: x + 1)(1) == 2
    assert isinstance(T.ToPILImage()(T.PILToTensor()(pil)), PIL.Image)
    c = T.ConvertImageDtype(ember.float64)(T.PILToTensor()(pil))
    assert c.dtype == ember.float64


def _seeded(fn, seed=0):
    ember.manual_seed(seed)
    random.seed(seed)  # RandomChoice and RandomOrder draw from it, as torchvision's
    return fn()


@pytest.mark.parametrize("make", [
    lambda: T.RandomResizedCrop(24),
    lambda: T.RandomCrop(20, padding=2),
    lambda: T.ColorJitter(0.4, 0.4, 0.4, 0.1),
    lambda: T.RandomRotation(30),
    lambda: T.RandomAffine(15, translate=(0.1, 0.1), scale=(0.8, 1.2), shear=(-5, 5, -5, 5)),
    lambda: T.RandomPerspective(0.5, p=1.0),
    lambda: T.GaussianBlur(5, (0.1, 2.0)),
    lambda: T.AutoAugment(),
    lambda: T.AutoAugment(T.AutoAugmentPolicy.CIFAR10),
    lambda: T.AutoAugment(T.AutoAugmentPolicy.SVHN),
    lambda: T.RandAugment(),
    lambda: T.TrivialAugmentWide(),
    lambda: T.RandomApply([T.ColorJitter(0.5)], p=0.5),
    lambda: T.RandomChoice([T.RandomHorizontalFlip(1.0), T.RandomVerticalFlip(1.0)]),
    lambda: T.RandomOrder([T.RandomHorizontalFlip(), T.RandomGrayscale(0.5)]),
], ids=lambda f: "")
def test_random_transforms_are_reproduced_by_manual_seed(coffee, make):
    pil, t = coffee
    tr = make()
    for img in (t, pil):
        outs = [_seeded(lambda: tr(img), seed) for seed in (0, 0)]  # noqa: B023
        arrs = [np.asarray(o.numpy() if isinstance(o, ember.Tensor) else o) for o in outs]
        np.testing.assert_array_equal(arrs[0], arrs[1])


def test_random_resized_crop_params_follow_scale_and_ratio():
    img = ember.zeros(3, 100, 120)
    ember.manual_seed(0)
    areas, ratios = [], []
    for _ in range(400):
        i, j, h, w = T.RandomResizedCrop.get_params(img, [0.2, 0.6], [0.75, 4 / 3])
        assert 0 <= i <= 100 - h and 0 <= j <= 120 - w
        areas.append(h * w / 12000)
        ratios.append(w / h)
    areas = np.array(areas)
    assert 0.18 < areas.min() and areas.max() < 0.62
    assert abs(areas.mean() - 0.4) < 0.03  # uniform on [0.2, 0.6]
    assert 0.7 < min(ratios) and max(ratios) < 1.4
    out = T.RandomResizedCrop((24, 30))(img)
    assert out.shape == (3, 24, 30)


def test_flip_and_grayscale_probabilities():
    img = ember.arange(2 * 3 * 4, dtype=ember.float32).reshape(1, 2, 3, 4).expand(3, 2, 3,
                                                                                 4)
    ember.manual_seed(0)
    flips = sum(not np.array_equal(T.RandomHorizontalFlip(0.3)(img).numpy(), img.numpy())
                for _ in range(1000))
    assert abs(flips / 1000 - 0.3) < 0.05
    ember.manual_seed(1)
    grays = sum(int(np.ptp(T.RandomGrayscale(0.2)(ember.rand(3, 2, 2)).numpy(), axis=0).max()
                    == 0) for _ in range(1000))
    assert abs(grays / 1000 - 0.2) < 0.05


def test_color_jitter_draws_within_ranges():
    cj = T.ColorJitter(brightness=0.5, contrast=(0.2, 0.4), saturation=0, hue=0.1)
    assert cj.saturation is None and cj.contrast == (0.2, 0.4)
    ember.manual_seed(0)
    bs, hs = [], []
    for _ in range(300):
        order, b, c, s, h = T.ColorJitter.get_params(cj.brightness, cj.contrast, None, cj.hue)
        assert sorted(order.tolist()) == [0, 1, 2, 3]
        assert 0.2 <= c <= 0.4 and s is None
        bs.append(b)
        hs.append(h)
    assert 0.5 <= min(bs) and max(bs) <= 1.5 and abs(np.mean(bs) - 1.0) < 0.05
    assert -0.1 <= min(hs) and max(hs) <= 0.1
    with pytest.raises(ValueError):
        T.ColorJitter(hue=0.7)


def test_random_erasing_statistics_and_values():
    img = ember.ones(3, 40, 50)
    ember.manual_seed(0)
    fracs = []
    for _ in range(200):
        out = T.RandomErasing(p=1.0, scale=(0.1, 0.2), value=0)(img)
        fracs.append(1 - float(out.mean()))
    fracs = np.array(fracs)
    assert 0.09 < fracs.min() and fracs.max() < 0.21
    r = T.RandomErasing(p=1.0, value="random")(img)
    assert float((r != 1).float().mean()) > 0.01
    assert T.RandomErasing(p=0.0)(img) is img
    with pytest.raises(ValueError, match="random"):
        T.RandomErasing(value="noise")


def test_random_affine_and_rotation_params():
    ember.manual_seed(0)
    for _ in range(50):
        angle, (tx, ty), scale, shear = T.RandomAffine.get_params(
            [-10, 10], [0.1, 0.2], [0.9, 1.1], [-5, 5, -3, 3], [50, 40])
        assert -10 <= angle <= 10 and abs(tx) <= 5 and abs(ty) <= 8
        assert 0.9 <= scale <= 1.1 and -5 <= shear[0] <= 5 and -3 <= shear[1] <= 3
        assert -20 <= T.RandomRotation.get_params([-20, 20]) <= 20
    start, end = T.RandomPerspective.get_params(40, 30, 0.5)
    assert start == [[0, 0], [39, 0], [39, 29], [0, 29]]
    assert 0 <= end[0][0] <= 10 and 29 <= end[1][0] <= 39


def test_functional_forms_equal_transforms_with_fixed_params(coffee):
    _, t = coffee
    np.testing.assert_array_equal(T.RandomHorizontalFlip(1.0)(t).numpy(), F.hflip(t).numpy())
    np.testing.assert_array_equal(T.RandomVerticalFlip(1.0)(t).numpy(), F.vflip(t).numpy())
    np.testing.assert_array_equal(T.Grayscale(3)(t).numpy(), F.rgb_to_grayscale(t, 3).numpy())
    np.testing.assert_array_equal(T.Pad(3, padding_mode="reflect")(t).numpy(),
                                  F.pad(t, 3, padding_mode="reflect").numpy())
    np.testing.assert_array_equal(T.GaussianBlur(3, 1.2)(t).numpy(),
                                  F.gaussian_blur(t, [3, 3], [1.2, 1.2]).numpy())
    ember.manual_seed(3)
    i, j, h, w = T.RandomCrop.get_params(t, (20, 30))
    ember.manual_seed(3)
    np.testing.assert_array_equal(T.RandomCrop((20, 30))(t).numpy(),
                                  F.crop(t, i, j, h, w).numpy())
    five = T.FiveCrop(10)(t)
    ten = T.TenCrop(10)(t)
    assert len(five) == 5 and len(ten) == 10
    np.testing.assert_array_equal(ten[0].numpy(), five[0].numpy())
    for tr in (T.RandomInvert(1.0), T.RandomPosterize(2, 1.0), T.RandomSolarize(100, 1.0),
               T.RandomAdjustSharpness(2.0, 1.0), T.RandomAutocontrast(1.0),
               T.RandomEqualize(1.0)):
        assert tr(t).shape == t.shape


def test_autoaugment_ops_run_on_all_policies_and_batches(coffee):
    _, t = coffee
    batch = ember.stack([t, t])
    ember.manual_seed(0)
    for _ in range(10):
        for aug in (T.AutoAugment(T.AutoAugmentPolicy.IMAGENET), T.RandAugment(num_ops=3),
                    T.TrivialAugmentWide(fill=[10, 20, 30])):
            out = aug(batch)
            assert out.shape == batch.shape and out.dtype == ember.uint8


def test_resize_transform_repr_and_validation():
    r = T.Resize(32, antialias=True)
    assert "Resize(size=32, interpolation=bilinear" in repr(r)
    with pytest.raises(TypeError):
        T.Resize(2.5)
    with pytest.raises(ValueError):
        T.GaussianBlur(4)
