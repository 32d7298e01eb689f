"""AlexNet, as ``torchvision.models.alexnet``: the single-tower variant of "One weird trick
for parallelizing convolutional neural networks" (https://arxiv.org/abs/1404.5997), with
torchvision's module layout, ``state_dict`` keys and pretrained weights."""

from __future__ import annotations

from typing import Any

import ember
from ember import Tensor, nn

from ._api import WeightsEnum
from ._weights_common import _make_builder, _w

__all__ = ["AlexNet", "AlexNet_Weights", "alexnet"]


def _relu() -> nn.ReLU:
    return nn.ReLU(inplace=True)


class AlexNet(nn.Module):
    """Five convolutions (the 11x11 stride-4 stem, then 5x5 and three 3x3), three max pools,
    a 6x6 adaptive average pool and a three-layer classifier with dropout."""

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2), _relu(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2), _relu(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1), _relu(),
            nn.Conv2d(384, 256, kernel_size=3, padding=1), _relu(),
            nn.Conv2d(256, 256, kernel_size=3, padding=1), _relu(),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout), nn.Linear(256 * 6 * 6, 4096), _relu(),
            nn.Dropout(p=dropout), nn.Linear(4096, 4096), _relu(),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(ember.flatten(x, 1))


def partial__relu() -> nn.ReLU:
    return nn.ReLU(inplace=True)


_DOC0 = (
    '\n'
    '                These weights reproduce closely the results of the paper using a simplified training recipe.\n'  # noqa: E501
    '            '
)
_RECIPE0 = 'https://github.com/pytorch/vision/tree/main/references/classification#alexnet-and-vgg'


class AlexNet_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('alexnet-owt-7be5be79.pth', crop=224, resize=256, min_size=(63, 63),
        num_params=61100840, recipe=_RECIPE0,
        metrics={'ImageNet-1K': {'acc@1': 56.522, 'acc@5': 79.066}}, ops=0.714, file_size=233.087,
        docs=_DOC0)
    DEFAULT = IMAGENET1K_V1


def _build(weights: WeightsEnum | None, kwargs: dict[str, Any]) -> AlexNet:
    return AlexNet(**kwargs)


alexnet = _make_builder(
    __name__, "alexnet", AlexNet_Weights, _build,
    "AlexNet model architecture from `One weird trick for parallelizing convolutional neural "
    "networks <https://arxiv.org/abs/1404.5997>`__.", "ember.vision.models.alexnet.AlexNet")
