"""ImageNet 2012 classification from the user's own archives, as
``torchvision.datasets.ImageNet``: the devkit, train and val archives (which cannot be
downloaded automatically) are checked against their md5, parsed once into
``root/train``/``root/val`` class folders and ``root/meta.bin``, then read as an
:class:`ImageFolder`."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import ember
from ember.datasets import check_integrity, extract_archive

from .folder import ImageFolder
from .vision import verify_str_arg

__all__ = ["ImageNet", "parse_devkit_archive", "parse_train_archive", "parse_val_archive",
           "load_meta_file", "ARCHIVE_META", "META_FILE"]

ARCHIVE_META = {
    "train": ("ILSVRC2012_img_train.tar", "1d675b47d978889d74fa0da5fadfb00e"),
    "val": ("ILSVRC2012_img_val.tar", "29b22e2961454d5413ddabcf34fc5622"),
    "devkit": ("ILSVRC2012_devkit_t12.tar.gz", "fa75699e90414af021442c21a62c3abf"),
}

META_FILE = "meta.bin"


class ImageNet(ImageFolder):
    """`ImageNet <http://image-net.org/>`_ 2012 Classification Dataset.

    .. note::
        Before using this class, it is required to download ImageNet 2012 dataset from
        `here <https://image-net.org/challenges/LSVRC/2012/2012-downloads.php>`_ and place
        the files ``ILSVRC2012_devkit_t12.tar.gz`` and ``ILSVRC2012_img_train.tar`` or
        ``ILSVRC2012_img_val.tar`` based on ``split`` in the root directory.

    Args:
        root (str or ``pathlib.Path``): Root directory of the ImageNet Dataset.
        split (string, optional): The dataset split, supports ``train``, or ``val``.
        transform (callable, optional): A function/transform that takes in a PIL image and
            returns a transformed version. E.g, ``transforms.RandomCrop``
        target_transform (callable, optional): A function/transform that takes in the target
            and transforms it.
        loader (callable, optional): A function to load an image given its path.

     Attributes:
        classes (list): List of the class name tuples.
        class_to_idx (dict): Dict with items (class_name, class_index).
        wnids (list): List of the WordNet IDs.
        wnid_to_idx (dict): Dict with items (wordnet_id, class_index).
        imgs (list): List of (image path, class_index) tuples
        targets (list): The class_index value for each image in the dataset
    """

    def __init__(self, root: str | os.PathLike, split: str = "train", **kwargs: Any) -> None:
        root = self.root = os.path.expanduser(os.fspath(root))
        self.split = verify_str_arg(split, "split", ("train", "val"))
        self.parse_archives()
        wnid_to_classes = load_meta_file(self.root)[0]
        super().__init__(self.split_folder, **kwargs)
        self.root = root
        self.wnids = self.classes
        self.wnid_to_idx = self.class_to_idx
        self.classes = [wnid_to_classes[wnid] for wnid in self.wnids]
        self.class_to_idx = {cls: idx for idx, clss in enumerate(self.classes) for cls in clss}

    def parse_archives(self) -> None:
        if not check_integrity(os.path.join(self.root, META_FILE)):
            parse_devkit_archive(self.root)
        if not os.path.isdir(self.split_folder):
            if self.split == "train":
                parse_train_archive(self.root)
            elif self.split == "val":
                parse_val_archive(self.root)

    @property
    def split_folder(self) -> str:
        return os.path.join(self.root, self.split)

    def extra_repr(self) -> str:
        return "Split: {split}".format(**self.__dict__)


def load_meta_file(root: str | os.PathLike, file: str | None = None) -> tuple[dict, list]:
    """``(wnid_to_classes, val_wnids)`` from ``root/meta.bin`` (written by
    :func:`parse_devkit_archive` with ``ember.save``, readable by ``torch.load`` too)."""
    if file is None:
        file = META_FILE
    file = os.path.join(root, file)
    if check_integrity(file):
        return ember.load(file, weights_only=True)
    raise RuntimeError(f"The meta file {file} is not present in the root directory or is "
                       "corrupted. This file is automatically created by the ImageNet dataset.")


def _verify_archive(root: str | os.PathLike, file: str, md5: str) -> None:
    if not check_integrity(os.path.join(root, file), md5):
        raise RuntimeError(f"The archive {file} is not present in the root directory or is "
                           f"corrupted. You need to download it externally and place it in "
                           f"{root}.")


@contextmanager
def _tmp_dir() -> Iterator[str]:
    tmp_dir = tempfile.mkdtemp()
    try:
        yield tmp_dir
    finally:
        shutil.rmtree(tmp_dir)


def parse_devkit_archive(root: str | os.PathLike, file: str | None = None) -> None:
    """Parse the devkit archive of the ImageNet2012 classification dataset and save the meta
    information in a binary file.

    Args:
        root (str or ``pathlib.Path``): Root directory containing the devkit archive
        file (str, optional): Name of devkit archive. Defaults to
            'ILSVRC2012_devkit_t12.tar.gz'
    """
    import scipy.io as sio

    def parse_meta_mat(devkit_root: str):
        metafile = os.path.join(devkit_root, "data", "meta.mat")
        meta = sio.loadmat(metafile, squeeze_me=True)["synsets"]
        nums_children = list(zip(*meta))[4]
        meta = [meta[idx] for idx, num_children in enumerate(nums_children)
                if num_children == 0]
        idcs, wnids, classes = list(zip(*meta))[:3]
        classes = [tuple(clss.split(", ")) for clss in classes]
        idx_to_wnid = {int(idx): str(wnid) for idx, wnid in zip(idcs, wnids)}
        wnid_to_classes = {str(wnid): clss for wnid, clss in zip(wnids, classes)}
        return idx_to_wnid, wnid_to_classes

    def parse_val_groundtruth_txt(devkit_root: str) -> list[int]:
        file = os.path.join(devkit_root, "data", "ILSVRC2012_validation_ground_truth.txt")
        with open(file) as txtfh:
            val_idcs = txtfh.readlines()
        return [int(val_idx) for val_idx in val_idcs]

    name, md5 = ARCHIVE_META["devkit"]
    file = name if file is None else file
    _verify_archive(root, file, md5)
    with _tmp_dir() as tmp_dir:
        extract_archive(os.path.join(root, file), tmp_dir)
        devkit_root = os.path.join(tmp_dir, "ILSVRC2012_devkit_t12")
        idx_to_wnid, wnid_to_classes = parse_meta_mat(devkit_root)
        val_idcs = parse_val_groundtruth_txt(devkit_root)
        val_wnids = [idx_to_wnid[idx] for idx in val_idcs]
        ember.save((wnid_to_classes, val_wnids), os.path.join(root, META_FILE))


def parse_train_archive(root: str | os.PathLike, file: str | None = None,
                        folder: str = "train") -> None:
    """Parse the train images archive of the ImageNet2012 classification dataset (a tar of
    one tar per class) into ``root/<folder>/<wnid>/``."""
    name, md5 = ARCHIVE_META["train"]
    file = name if file is None else file
    _verify_archive(root, file, md5)
    train_root = os.path.join(root, folder)
    extract_archive(os.path.join(root, file), train_root)
    archives = [os.path.join(train_root, archive) for archive in os.listdir(train_root)]
    for archive in archives:
        extract_archive(archive, os.path.splitext(archive)[0], remove_finished=True)


def parse_val_archive(root: str | os.PathLike, file: str | None = None,
                      wnids: list[str] | None = None, folder: str = "val") -> None:
    """Parse the validation images archive of the ImageNet2012 classification dataset into
    ``root/<folder>/<wnid>/`` using the devkit's ground truth."""
    name, md5 = ARCHIVE_META["val"]
    file = name if file is None else file
    if wnids is None:
        wnids = load_meta_file(root)[1]
    _verify_archive(root, file, md5)
    val_root = os.path.join(root, folder)
    extract_archive(os.path.join(root, file), val_root)
    images = sorted(os.path.join(val_root, image) for image in os.listdir(val_root))
    for wnid in set(wnids):
        os.mkdir(os.path.join(val_root, wnid))
    for wnid, img_file in zip(wnids, images):
        shutil.move(img_file, os.path.join(val_root, wnid, os.path.basename(img_file)))
