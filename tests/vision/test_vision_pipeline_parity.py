"""Details of ember.vision that a torchvision program observes beyond pixel values: which
random source v1's RandomChoice/RandomOrder draw from (Python's ``random``, so ember's
generator stream, and every transform after them, stays as torchvision's), the layout of
a dataset's repr with transforms, and the order of weight enums (``list(Weights)``)."""

from __future__ import annotations

import random

import ember
import pytest
from ember.vision import datasets, models
from ember.vision import transforms as T


class Tag:
    """A transform that records its name on a list."""

    def __init__(self, name, log):
        self.name, self.log = name, log

    def __call__(self, x):
        self.log.append(self.name)
        return x


def test_random_choice_uses_python_random_not_the_ember_generator():
    log = []
    choice = T.RandomChoice([Tag(i, log) for i in range(5)], p=[1, 2, 3, 4, 5])
    random.seed(7)
    ember.manual_seed(0)
    for _ in range(20):
        choice(0)
    after = ember.rand(1).item()
    random.seed(7)
    want = [random.choices(range(5), weights=[1, 2, 3, 4, 5])[0] for _ in range(20)]
    ember.manual_seed(0)
    assert log == want
    assert after == ember.rand(1).item()  # the ember stream was not advanced


def test_random_choice_without_weights():
    log = []
    choice = T.RandomChoice([Tag(i, log) for i in range(3)])
    random.seed(3)
    for _ in range(10):
        choice(0)
    random.seed(3)
    assert log == [random.choices(range(3))[0] for _ in range(10)]


def test_random_order_uses_python_random_shuffle():
    log = []
    order = T.RandomOrder([Tag(i, log) for i in range(4)])
    random.seed(11)
    ember.manual_seed(0)
    order(0)
    order(0)
    after = ember.rand(1).item()
    random.seed(11)
    want = []
    for _ in range(2):
        idx = list(range(4))
        random.shuffle(idx)
        want += idx
    ember.manual_seed(0)
    assert log == want and after == ember.rand(1).item()


def test_dataset_repr_indents_multiline_transforms():
    ds = datasets.FakeData(size=3, transform=T.Compose([T.ToTensor(), T.Normalize([0.5],
                                                                                  [0.5])]))
    assert repr(ds).splitlines() == [
        "Dataset FakeData",
        "    Number of datapoints: 3",
        "    StandardTransform",
        "Transform: Compose(",
        "               ToTensor()",
        "               Normalize(mean=[0.5], std=[0.5])",
        "           )",
    ]


@pytest.mark.parametrize("enum,first", [(models.ViT_B_16_Weights, "IMAGENET1K_V1"),
                                        (models.ViT_L_16_Weights, "IMAGENET1K_V1"),
                                        (models.VGG16_Weights, "IMAGENET1K_V1")])
def test_weight_enum_members_in_torchvision_order(enum, first):
    names = [w.name for w in enum]
    assert names[0] == first and enum.DEFAULT is enum[first]
    if enum is models.VGG16_Weights:
        assert names == ["IMAGENET1K_V1", "IMAGENET1K_FEATURES"]
    else:
        assert names == ["IMAGENET1K_V1", "IMAGENET1K_SWAG_E2E_V1", "IMAGENET1K_SWAG_LINEAR_V1"]
