"""ResNets with torchvision's structure and attribute names (so state_dict keys match).

ImageNet ResNet-18/50 follow torchvision (stride on the 3x3 conv of a Bottleneck, "v1.5").
CIFAR ResNet-20 (He et al. 2016, section 4.2) reuses BasicBlock with a 1x1-conv shortcut
(option B). In-place ReLU and additions are written out of place.
"""

import functools

IMAGENET_WIDTHS = (64, 128, 256, 512)
CIFAR_WIDTHS = (16, 32, 64)


@functools.cache
def _classes(fw):
    nn = fw.nn

    def conv3x3(cin, cout, stride=1):
        return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)

    def conv1x1(cin, cout, stride=1):
        return nn.Conv2d(cin, cout, 1, stride=stride, bias=False)

    class BasicBlock(nn.Module):
        expansion = 1

        def __init__(self, inplanes, planes, stride=1, downsample=None):
            super().__init__()
            self.conv1 = conv3x3(inplanes, planes, stride)
            self.bn1 = nn.BatchNorm2d(planes)
            self.relu = nn.ReLU()
            self.conv2 = conv3x3(planes, planes)
            self.bn2 = nn.BatchNorm2d(planes)
            self.downsample = downsample

        def forward(self, x):
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            identity = x if self.downsample is None else self.downsample(x)
            return self.relu(out + identity)

    class Bottleneck(nn.Module):
        expansion = 4

        def __init__(self, inplanes, planes, stride=1, downsample=None):
            super().__init__()
            self.conv1 = conv1x1(inplanes, planes)
            self.bn1 = nn.BatchNorm2d(planes)
            self.conv2 = conv3x3(planes, planes, stride)
            self.bn2 = nn.BatchNorm2d(planes)
            self.conv3 = conv1x1(planes, planes * 4)
            self.bn3 = nn.BatchNorm2d(planes * 4)
            self.relu = nn.ReLU()
            self.downsample = downsample

        def forward(self, x):
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.relu(self.bn2(self.conv2(out)))
            out = self.bn3(self.conv3(out))
            identity = x if self.downsample is None else self.downsample(x)
            return self.relu(out + identity)

    def make_layer(block, inplanes, planes, blocks, stride):
        """One stage; returns it and the channel count it outputs."""
        out = planes * block.expansion
        downsample = None
        if stride != 1 or inplanes != out:
            downsample = nn.Sequential(conv1x1(inplanes, out, stride), nn.BatchNorm2d(out))
        layers = [block(inplanes, planes, stride, downsample)]
        layers += [block(out, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers), out

    class ResNet(nn.Module):
        """ImageNet ResNet: 7x7 stem, max-pool, four stages, average pool, ``fc``."""

        def __init__(self, block, layers, num_classes=1000):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.relu = nn.ReLU()
            self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
            channels = 64
            for i, (width, blocks) in enumerate(zip(IMAGENET_WIDTHS, layers)):
                stage, channels = make_layer(block, channels, width, blocks, 1 if i == 0 else 2)
                setattr(self, f"layer{i + 1}", stage)
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(channels, num_classes)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(fw.flatten(self.avgpool(x), 1))

    class CifarResNet(nn.Module):
        """CIFAR ResNet-(6n+2): 3x3 stem, three stages of n BasicBlocks, ``fc``."""

        def __init__(self, n, num_classes=10):
            super().__init__()
            self.conv1 = conv3x3(3, CIFAR_WIDTHS[0])
            self.bn1 = nn.BatchNorm2d(CIFAR_WIDTHS[0])
            self.relu = nn.ReLU()
            channels = CIFAR_WIDTHS[0]
            for i, width in enumerate(CIFAR_WIDTHS):
                stage, channels = make_layer(BasicBlock, channels, width, n, 1 if i == 0 else 2)
                setattr(self, f"layer{i + 1}", stage)
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(channels, num_classes)

        def forward(self, x):
            x = self.relu(self.bn1(self.conv1(x)))
            x = self.layer3(self.layer2(self.layer1(x)))
            return self.fc(fw.flatten(self.avgpool(x), 1))

    return BasicBlock, Bottleneck, ResNet, CifarResNet


def resnet18(fw):
    """torchvision ResNet-18 (BasicBlock, [2, 2, 2, 2])."""
    basic, _, resnet, _ = _classes(fw)
    return resnet(basic, [2, 2, 2, 2])


def resnet50(fw):
    """torchvision ResNet-50 (Bottleneck, [3, 4, 6, 3])."""
    _, bottleneck, resnet, _ = _classes(fw)
    return resnet(bottleneck, [3, 4, 6, 3])


def resnet20(fw):
    """CIFAR ResNet-20 (three stages of three BasicBlocks)."""
    return _classes(fw)[3](3)


def _stage_macs(bottleneck, inplanes, planes, blocks, stride, size):
    """Conv multiply-accumulates of one stage with ``size`` x ``size`` input; returns more."""
    macs, out = 0, planes * (4 if bottleneck else 1)
    for i in range(blocks):
        s = stride if i == 0 else 1
        o = size // s
        if bottleneck:
            macs += inplanes * planes * size * size + planes * planes * 9 * o * o
            macs += planes * out * o * o
        else:
            macs += (inplanes * planes + planes * planes) * 9 * o * o
        if i == 0 and (s != 1 or inplanes != out):
            macs += inplanes * out * o * o
        inplanes, size = out, o
    return macs, inplanes, size


def resnet_macs(depth, size=224):
    """Multiply-accumulates (convolutions and fc) of one forward pass, per image."""
    if depth == 20:
        macs, channels, size = 3 * 16 * 9 * size * size, 16, size
        for i, width in enumerate(CIFAR_WIDTHS):
            m, channels, size = _stage_macs(False, channels, width, 3, 1 if i == 0 else 2, size)
            macs += m
        return macs + channels * 10
    bottleneck, layers = {18: (False, [2, 2, 2, 2]), 50: (True, [3, 4, 6, 3])}[depth]
    size //= 2
    macs, channels = 3 * 64 * 49 * size * size, 64
    size //= 2
    for i, (width, blocks) in enumerate(zip(IMAGENET_WIDTHS, layers)):
        m, channels, size = _stage_macs(bottleneck, channels, width, blocks, 1 if i == 0 else 2,
                                        size)
        macs += m
    return macs + channels * 1000
