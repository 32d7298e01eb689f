"""MS COCO detection and captions, as ``torchvision.datasets.CocoDetection`` and
``CocoCaptions``. The annotation JSON is indexed directly (torchvision goes through
pycocotools; ember needs no extra package): the target of an image is the list of its
annotation dicts, in the file's order. When pycocotools is installed, ``dataset.coco`` is
its ``COCO`` object, as in torchvision, so COCO evaluation code (``loadRes``, ``COCOeval``)
works on it."""

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
    """The indexing part of pycocotools' ``COCO`` (used when pycocotools is absent):
    ``dataset``, ``imgs``, ``anns``, ``cats``, ``imgToAnns``, ``catToImgs``, ``getAnnIds``,
    ``getCatIds``, ``getImgIds``, ``loadAnns``, ``loadCats``, ``loadImgs``, with
    pycocotools' signatures and filtering rules."""

    def __init__(self, annotation_file: str) -> None:
        with open(annotation_file) as f:
            self.dataset = json.load(f)
        if not isinstance(self.dataset, dict):
            raise RuntimeError(f"annotation file format {type(self.dataset)} not supported")
        self.imgs = {img["id"]: img for img in self.dataset.get("images", [])}
        self.anns = {ann["id"]: ann for ann in self.dataset.get("annotations", [])}
        self.cats = {cat["id"]: cat for cat in self.dataset.get("categories", [])}
        self.imgToAnns: dict[int, list[dict]] = defaultdict(list)
        self.catToImgs: dict[int, list[int]] = defaultdict(list)
        for ann in self.dataset.get("annotations", []):
            self.imgToAnns[ann["image_id"]].append(ann)
            if "category_id" in ann:
                self.catToImgs[ann["category_id"]].append(ann["image_id"])

    def getAnnIds(self, imgIds=(), catIds=(), areaRng=(), iscrowd=None) -> list[int]:
        """Ids of the annotations of ``imgIds``, of categories ``catIds``, with area
        strictly inside ``areaRng`` and ``iscrowd`` (None: any); empty filters pass all."""
        imgIds, catIds = _as_list(imgIds), _as_list(catIds)
        if len(imgIds) == 0:
            anns = self.dataset.get("annotations", [])
        else:
            anns = [ann for i in imgIds for ann in self.imgToAnns.get(i, [])]
        if len(catIds) > 0:
            anns = [ann for ann in anns if ann["category_id"] in catIds]
        if len(areaRng) > 0:
            anns = [ann for ann in anns if areaRng[0] < ann["area"] < areaRng[1]]
        if iscrowd is not None:
            return [ann["id"] for ann in anns if ann["iscrowd"] == iscrowd]
        return [ann["id"] for ann in anns]

    def getCatIds(self, catNms=(), supNms=(), catIds=()) -> list[int]:
        catNms, supNms, catIds = _as_list(catNms), _as_list(supNms), _as_list(catIds)
        cats = self.dataset.get("categories", [])
        if len(catNms) > 0:
            cats = [c for c in cats if c["name"] in catNms]
        if len(supNms) > 0:
            cats = [c for c in cats if c["supercategory"] in supNms]
        if len(catIds) > 0:
            cats = [c for c in cats if c["id"] in catIds]
        return [c["id"] for c in cats]

    def getImgIds(self, imgIds=(), catIds=()) -> list[int]:
        imgIds, catIds = _as_list(imgIds), _as_list(catIds)
        ids = set(imgIds) if len(imgIds) > 0 else set(self.imgs)
        for i, cat in enumerate(catIds):
            if i == 0 and len(imgIds) == 0:
                ids = set(self.catToImgs[cat])
            else:
                ids &= set(self.catToImgs[cat])
        return list(ids)

    def loadAnns(self, ids=()) -> list[dict]:
        return [self.anns[i] for i in _as_list(ids)]

    def loadCats(self, ids=()) -> list[dict]:
        return [self.cats[i] for i in _as_list(ids)]

    def loadImgs(self, ids=()) -> list[dict]:
        return [self.imgs[i] for i in _as_list(ids)]


def _as_list(v) -> list:
    return list(v) if isinstance(v, (list, tuple, range)) or hasattr(v, "__array__") else [v]


def _coco_index(annotation_file: str):
    """pycocotools' ``COCO`` when it is installed (as torchvision), else ``_CocoIndex``."""
    try:
        from pycocotools.coco import COCO
    except ImportError:
        return _CocoIndex(annotation_file)
    return COCO(annotation_file)


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
        self.coco = _coco_index(annFile)
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
