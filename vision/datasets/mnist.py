"""MNIST and its relatives (Fashion-MNIST, Kuzushiji-MNIST, EMNIST, QMNIST), as
``torchvision.datasets.mnist``: the idx ("SN3 Pascal Vincent") files under
``root/<ClassName>/raw``, downloaded from the official mirrors and md5-checked."""

from __future__ import annotations

import os
import shutil
import string
from collections.abc import Callable
from typing import Any

import ember
import numpy as np
from ember.datasets import DownloadableDataset, check_integrity, extract_archive
from ember.datasets.utils import download_and_extract_archive

from .._pil import pil_image
from .vision import verify_str_arg

__all__ = ["MNIST", "FashionMNIST", "KMNIST", "EMNIST", "QMNIST",
           "read_sn3_pascalvincent_tensor", "read_image_file", "read_label_file"]

_SN3_TYPES = {8: np.uint8, 9: np.int8, 11: np.dtype(">i2"), 12: np.dtype(">i4"),
              13: np.dtype(">f4"), 14: np.dtype(">f8")}


def read_sn3_pascalvincent_tensor(path: str, strict: bool = True) -> ember.Tensor:
    """Read a SN3 file in "Pascal Vincent" (idx) format: a big-endian magic number whose
    low byte is the number of dims and whose next byte is the element type, the sizes, then
    the data."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 4:
        raise RuntimeError(f"{path}: not an idx file (too short)")
    magic = int.from_bytes(data[0:4], "big")
    nd = magic % 256
    ty = magic // 256
    if not (1 <= nd <= 3) or ty not in _SN3_TYPES:
        raise RuntimeError(f"{path}: not an idx file (magic number {magic:#x})")
    sizes = [int.from_bytes(data[4 * (i + 1):4 * (i + 2)], "big") for i in range(nd)]
    dtype = np.dtype(_SN3_TYPES[ty])
    parsed = np.frombuffer(data, dtype=dtype, offset=4 * (nd + 1))
    n = int(np.prod(sizes))
    if strict and parsed.size != n:
        raise RuntimeError(f"{path}: expected {n} values for shape {sizes}, found "
                           f"{parsed.size}")
    arr = parsed[:n].astype(dtype.newbyteorder("="))
    return ember.from_numpy(arr.reshape(sizes))


def read_label_file(path: str) -> ember.Tensor:
    x = read_sn3_pascalvincent_tensor(path, strict=False)
    if x.dtype != ember.uint8:
        raise TypeError(f"x should be of dtype uint8 instead of {x.dtype}")
    if x.ndim != 1:
        raise ValueError(f"x should have 1 dimension instead of {x.ndim}")
    return x.long()


def read_image_file(path: str) -> ember.Tensor:
    x = read_sn3_pascalvincent_tensor(path, strict=False)
    if x.dtype != ember.uint8:
        raise TypeError(f"x should be of dtype uint8 instead of {x.dtype}")
    if x.ndim != 3:
        raise ValueError(f"x should have 3 dimension instead of {x.ndim}")
    return x


class MNIST(DownloadableDataset):
    """`MNIST <http://yann.lecun.com/exdb/mnist/>`_ Dataset.

    Args:
        root (str or ``pathlib.Path``): Root directory of dataset where
            ``MNIST/raw/train-images-idx3-ubyte`` and ``MNIST/raw/t10k-images-idx3-ubyte``
            exist.
        train (bool, optional): If True, creates dataset from ``train-images-idx3-ubyte``,
            otherwise from ``t10k-images-idx3-ubyte``.
        transform (callable, optional): A function/transform that takes in a PIL image and
            returns a transformed version. E.g, ``transforms.RandomCrop``
        target_transform (callable, optional): A function/transform that takes in the target
            and transforms it.
        download (bool, optional): If True, downloads the dataset from the internet and puts
            it in root directory. If dataset is already downloaded, it is not downloaded
            again.
    """

    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/",
               "http://yann.lecun.com/exdb/mnist/"]
    files = [
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]
    extract_archives = True
    base_folder = os.path.join("MNIST", "raw")
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five",
               "6 - six", "7 - seven", "8 - eight", "9 - nine"]

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.base_folder = os.path.join(cls.__name__, "raw")

    @property
    def resources(self):
        return [([m + f for m in self.mirrors], f, md5) for f, md5 in self.files]

    def __init__(self, root: str | os.PathLike | None = None, train: bool = True,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 download: bool = False) -> None:
        self.train = train
        super().__init__(root, transform=transform, target_transform=target_transform,
                         download=download)
        self.data, self.targets = self._load_data()

    @property
    def _split(self) -> str:
        return "train" if self.train else "t10k"

    @property
    def images_file(self) -> str:
        return os.path.join(self.raw_folder, f"{self._split}-images-idx3-ubyte")

    @property
    def labels_file(self) -> str:
        return os.path.join(self.raw_folder, f"{self._split}-labels-idx1-ubyte")

    def _check_exists(self) -> bool:
        return all(check_integrity(f) for f in (self.images_file, self.labels_file))

    def _missing(self):
        if self._check_exists():
            return []
        return [r for r in self.resources if not os.path.isfile(
            os.path.join(self.raw_folder, os.path.splitext(r[1])[0]))]

    def _load_data(self):
        return read_image_file(self.images_file), read_label_file(self.labels_file)

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {_class: i for i, _class in enumerate(self.classes)}

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        """
        Args:
            index (int): Index

        Returns:
            tuple: (image, target) where target is index of the target class.
        """
        img, target = self.data[index].numpy(), int(self.targets[index])
        # doing this so that it is consistent with all other datasets to return a PIL Image
        img = pil_image().fromarray(img)
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self) -> int:
        return len(self.data)

    def extra_repr(self) -> str:
        split = "Train" if self.train is True else "Test"
        return f"Split: {split}"


class FashionMNIST(MNIST):
    """`Fashion-MNIST <https://github.com/zalandoresearch/fashion-mnist>`_ Dataset (same
    arguments as :class:`MNIST`; files under ``root/FashionMNIST/raw``)."""

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    files = [
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]


class KMNIST(MNIST):
    """`Kuzushiji-MNIST <https://github.com/rois-codh/kmnist>`_ Dataset (same arguments as
    :class:`MNIST`; files under ``root/KMNIST/raw``)."""

    mirrors = ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"]
    files = [
        ("train-images-idx3-ubyte.gz", "bdb82020997e1d708af4cf47b453dcf7"),
        ("train-labels-idx1-ubyte.gz", "e144d726b3acfaa3e44228e80efcd344"),
        ("t10k-images-idx3-ubyte.gz", "5c965bf0a639b31b8f53240b1b52f4d7"),
        ("t10k-labels-idx1-ubyte.gz", "7320c461ea6c1c855c0b718fb2a4b134"),
    ]
    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]


class EMNIST(MNIST):
    """`EMNIST <https://www.westernsydney.edu.au/bens/home/reproducible_research/emnist>`_
    Dataset.

    Args:
        root (str or ``pathlib.Path``): Root directory of dataset where
            ``EMNIST/raw/emnist-<split>-train-images-idx3-ubyte`` (and test) exist.
        split (string): The dataset has 6 different splits: ``byclass``, ``bymerge``,
            ``balanced``, ``letters``, ``digits`` and ``mnist``. This argument specifies
            which one to use.
        train (bool, optional): If True, creates dataset from the training files, otherwise
            from the test files.
        download, transform, target_transform: as in :class:`MNIST`.
    """

    url = "https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip"
    md5 = "58c8d27c78d21e728a6bc7b3cc06412e"
    splits = ("byclass", "bymerge", "balanced", "letters", "digits", "mnist")
    # Merged Classes assumes Same structure for both uppercase and lowercase version
    _merged_classes = {"c", "i", "j", "k", "l", "m", "o", "p", "s", "u", "v", "w", "x", "y",
                       "z"}
    _all_classes = set(string.digits + string.ascii_letters)
    classes_split_dict = {
        "byclass": sorted(_all_classes),
        "bymerge": sorted(_all_classes - _merged_classes),
        "balanced": sorted(_all_classes - _merged_classes),
        "letters": ["N/A"] + list(string.ascii_lowercase),
        "digits": list(string.digits),
        "mnist": list(string.digits),
    }

    def __init__(self, root: str | os.PathLike | None, split: str, **kwargs: Any) -> None:
        self.split = verify_str_arg(split, "split", self.splits)
        super().__init__(root, **kwargs)
        self.classes = self.classes_split_dict[self.split]

    @property
    def resources(self):
        return [(self.url, "gzip.zip", self.md5)]

    @property
    def _file_prefix(self) -> str:
        return f"emnist-{self.split}-{'train' if self.train else 'test'}"

    @property
    def images_file(self) -> str:
        return os.path.join(self.raw_folder, f"{self._file_prefix}-images-idx3-ubyte")

    @property
    def labels_file(self) -> str:
        return os.path.join(self.raw_folder, f"{self._file_prefix}-labels-idx1-ubyte")

    def _missing(self):
        return [] if self._check_exists() else list(self.resources)

    def download(self) -> None:
        """Download the EMNIST data if it doesn't exist already."""
        if self._check_exists():
            return
        os.makedirs(self.raw_folder, exist_ok=True)
        download_and_extract_archive(self.url, download_root=self.raw_folder, md5=self.md5)
        gzip_folder = os.path.join(self.raw_folder, "gzip")
        for gzip_file in os.listdir(gzip_folder):
            if gzip_file.endswith(".gz"):
                extract_archive(os.path.join(gzip_folder, gzip_file), self.raw_folder)
        shutil.rmtree(gzip_folder)


class QMNIST(MNIST):
    """`QMNIST <https://github.com/facebookresearch/qmnist>`_ Dataset.

    Args:
        root (str or ``pathlib.Path``): Root directory of dataset whose ``raw`` subdir
            contains binary files of the datasets.
        what (string,optional): Can be 'train', 'test', 'test10k', 'test50k', or 'nist' for
            respectively the mnist compatible training set, the 60k qmnist testing set, the
            10k qmnist examples that match the mnist testing set, the 50k remaining qmnist
            testing examples, or all the nist digits. The default is to select 'train' or
            'test' according to the compatibility argument 'train'.
        compat (bool,optional): A boolean that says whether the target for each example is
            class number (for compatibility with the MNIST dataloader) or a tensor containing
            the full qmnist information. Default=True.
        train (bool,optional,compatibility): When argument 'what' is not specified, this
            boolean decides whether to load the training set or the testing set.
        download, transform, target_transform: as in :class:`MNIST`.
    """

    subsets = {"train": "train", "test": "test", "test10k": "test", "test50k": "test",
               "nist": "nist"}
    _base = "https://raw.githubusercontent.com/facebookresearch/qmnist/master/"
    qmnist_resources: dict[str, list[tuple[str, str]]] = {
        "train": [(_base + "qmnist-train-images-idx3-ubyte.gz",
                   "ed72d4157d28c017586c42bc6afe6370"),
                  (_base + "qmnist-train-labels-idx2-int.gz",
                   "0058f8dd561b90ffdd0f734c6a30e5e4")],
        "test": [(_base + "qmnist-test-images-idx3-ubyte.gz",
                  "1394631089c404de565df7b7aeaf9412"),
                 (_base + "qmnist-test-labels-idx2-int.gz",
                  "5b5b05890a5e13444e108efe57b788aa")],
        "nist": [(_base + "xnist-images-idx3-ubyte.xz", "7f124b3b8ab81486c9d8c2749c17f834"),
                 (_base + "xnist-labels-idx2-int.xz", "5ed0e788978e45d4a8bd4b7caec3d79d")],
    }

    def __init__(self, root: str | os.PathLike | None, what: str | None = None,
                 compat: bool = True, train: bool = True, **kwargs: Any) -> None:
        if what is None:
            what = "train" if train else "test"
        self.what = verify_str_arg(what, "what", tuple(self.subsets.keys()))
        self.compat = compat
        super().__init__(root, train, **kwargs)

    @property
    def resources(self):
        return [(url, os.path.basename(url), md5)
                for url, md5 in self.qmnist_resources[self.subsets[self.what]]]

    @property
    def images_file(self) -> str:
        url = self.resources[0][0]
        return os.path.join(self.raw_folder, os.path.splitext(os.path.basename(url))[0])

    @property
    def labels_file(self) -> str:
        url = self.resources[1][0]
        return os.path.join(self.raw_folder, os.path.splitext(os.path.basename(url))[0])

    def _load_data(self):
        data = read_sn3_pascalvincent_tensor(self.images_file)
        if data.dtype != ember.uint8:
            raise TypeError(f"data should be of dtype uint8 instead of {data.dtype}")
        if data.ndim != 3:
            raise ValueError(f"data should have 3 dimensions instead of {data.ndim}")
        targets = read_sn3_pascalvincent_tensor(self.labels_file).long()
        if targets.ndim != 2:
            raise ValueError(f"targets should have 2 dimensions instead of {targets.ndim}")
        if self.what == "test10k":
            data, targets = data[0:10000].clone(), targets[0:10000].clone()
        elif self.what == "test50k":
            data, targets = data[10000:].clone(), targets[10000:].clone()
        return data, targets

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        img, target = self.data[index], self.targets[index]
        img = pil_image().fromarray(img.numpy())
        if self.transform is not None:
            img = self.transform(img)
        if self.compat:
            target = int(target[0])
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def extra_repr(self) -> str:
        return f"Split: {self.what}"
