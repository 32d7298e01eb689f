"""ember.vision.datasets: torchvision's image data sets on ``ember.datasets`` (verified
downloads, safe extraction), with the official URLs and checksums."""

from .cifar import CIFAR10, CIFAR100
from .coco import CocoCaptions, CocoDetection
from .fakedata import FakeData
from .folder import DatasetFolder, ImageFolder
from .imagenet import ImageNet
from .mnist import EMNIST, KMNIST, MNIST, QMNIST, FashionMNIST
from .stl10 import STL10
from .svhn import SVHN
from .vision import VisionDataset
from .voc import VOCDetection, VOCSegmentation

__all__ = ["CIFAR10", "CIFAR100", "CocoCaptions", "CocoDetection", "DatasetFolder", "EMNIST",
           "FakeData", "FashionMNIST", "ImageFolder", "ImageNet", "KMNIST", "MNIST", "QMNIST",
           "STL10", "SVHN", "VOCDetection", "VOCSegmentation", "VisionDataset"]
