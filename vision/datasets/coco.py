"""MS COCO detection and captions, as ``torchvision.datasets.CocoDetection`` and
``CocoCaptions``. The annotation JSON is indexed directly (torchvision goes through
pycocotools; ember needs no extra package): the target of an image is the list of its
annotation dicts, in the file's order."""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from .._pil import pil_image
from .vision import VisionDataset

__all__ = ["CocoDetection", "CocoCaptions"]


class _CocoIndex:
    """The parts of pycocotools' ``COCO`` the data sets use: ``imgs``, ``anns``,
    ``cats``, ``getAnnIds``, ``loadAnns``, ``loadImgs``."""

    def __init__(self, annotation_file: str) -> None:
        with open(annotation_file) as f:
            self.dataset = json.load(f)
        if not isinstance(self.dataset, dict):
            raise RuntimeError(f"annotation file format {type(self.dataset)} not supported")
        self.imgs = {img["id"]: img for img in self.dataset.get("images", [])}
        self.anns = {ann["id"]: ann for ann in self.dataset.get("annotations", [])}
        self.cats = {cat["id"]: cat for cat in self.dataset.get("categories", [])}
        self.imgToAnns: dict[int, list[dict]] = defaultdict(list)
        for ann in self.dataset.get("annotations", []):
            self.imgToAnns[ann["image_id"]].append(ann)

    def getAnnIds(self, imgIds=None) -> list[int]:
        ids = [imgIds] if isinstance(imgIds, int) else (imgIds or list(self.imgs))
        return [ann["id"] for i in ids for ann in self.imgToAnns.get(i, [])]

    def loadAnns(self, ids) -> list[dict]:
        ids = [ids] if isinstance(ids, int) else ids
        return [self.anns[i] for i in ids]

    def loadImgs(self, ids) -> list[dict]:
        ids = [ids] if isinstance(ids, int) else ids
        return [self.imgs[i] for i in ids]


class CocoDetection(VisionDataset):
    """`MS Coco Detection <https://cocodataset.org/#detection-2016>`_ Dataset.

    Args:
        root (str or ``pathlib.Path``): Root directory where images are downloaded to.
        annFile (string): Path to json annotation file.
        transform (callable, optional): A function/transform that takes in a PIL image and
            returns a transformed version. E.g, ``transforms.PILToTensor``
        target_transform (callable, optional): A function/transform that takes in the target
            and transforms it.
        transforms (callable, optional): A function/transform that takes input sample and its
            target as entry and returns a transformed version.
    """

    def __init__(self, root: str | os.PathLike, annFile: str,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 transforms: Callable | None = None) -> None:
        super().__init__(root, transforms, transform, target_transform)
        self.coco = _CocoIndex(annFile)
        self.ids = sorted(self.coco.imgs.keys())

    def _load_image(self, id: int):
        path = self.coco.loadImgs(id)[0]["file_name"]
        return pil_image().open(os.path.join(self.root, path)).convert("RGB")

    def _load_target(self, id: int) -> list[Any]:
        return self.coco.loadAnns(self.coco.getAnnIds(id))

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        if not isinstance(index, int):
            raise ValueError(f"Index must be of type integer, got {type(index)} instead.")
        id = self.ids[index]
        image = self._load_image(id)
        target = self._load_target(id)
        if self.transforms is not None:
            image, target = self.transforms(image, target)
        return image, target

    def __len__(self) -> int:
        return len(self.ids)


class CocoCaptions(CocoDetection):
    """`MS Coco Captions <https://cocodataset.org/#captions-2015>`_ Dataset: the target is
    the list of the image's caption strings."""

    def _load_target(self, id: int) -> list[str]:
        return [ann["caption"] for ann in super()._load_target(id)]
