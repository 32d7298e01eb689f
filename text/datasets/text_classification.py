"""Text-classification data sets: AG News, IMDB and SST-2, with torchtext's item layout.

* ``AG_NEWS``: ``(label, text)``, label 1-4 (World, Sports, Business, Sci/Tech), text the
  title and description joined by a space.
* ``IMDB``: ``(label, text)``, label 1 = negative, 2 = positive (torchtext's numbering).
* ``SST2``: ``(text, label)`` with label 0/1 for train and dev; ``(text,)`` for test.
"""

from __future__ import annotations

import csv
import glob
import os
from collections.abc import Callable

from ember.datasets import DownloadableDataset

from . import _resources as R

__all__ = ["AG_NEWS", "IMDB", "SST2"]


class _Labelled(DownloadableDataset):
    def __init__(self, root, split, splits, download, transform, target_transform) -> None:
        if split not in splits:
            raise ValueError(f"split={split!r}; expected one of {splits}")
        self.split = split
        super().__init__(root, transform=transform, target_transform=target_transform,
                         download=download)
        self.samples = self._read()

    def _read(self) -> list[tuple]:  # pragma: no cover - overridden
        raise NotImplementedError

    def __len__(self) -> int:
        return len(self.samples)

    def extra_repr(self) -> str:
        return f"Split: {self.split}"


class AG_NEWS(_Labelled):  # noqa: N801 - torchtext's name
    """AG News topic classification (Zhang et al., 2015): 120,000 train and 7,600 test
    news articles in 4 classes. Items are ``(label, text)``."""

    base_folder = "AG_NEWS"

    def __init__(self, root=None, split: str = "train", download: bool = False,
                 transform: Callable | None = None,
                 target_transform: Callable | None = None) -> None:
        super().__init__(root, split, ("train", "test"), download, transform,
                         target_transform)

    @property
    def resources(self):
        return [R.AG_NEWS[self.split]]

    def _read(self):
        path = os.path.join(self.raw_folder, f"{self.split}.csv")
        with open(path, encoding="utf-8", newline="") as f:
            return [(int(row[0]), " ".join(row[1:])) for row in csv.reader(f) if row]

    def __getitem__(self, index: int):
        label, text = self.samples[index]
        if self.transform is not None:
            text = self.transform(text)
        if self.target_transform is not None:
            label = self.target_transform(label)
        return label, text


class IMDB(_Labelled):
    """IMDB movie-review sentiment (Maas et al., 2011): 25,000 train and 25,000 test
    reviews. Items are ``(label, text)``, label 1 = negative, 2 = positive."""

    base_folder = "IMDB"
    resources = [R.IMDB]
    extract_archives = True

    def __init__(self, root=None, split: str = "train", download: bool = False,
                 transform: Callable | None = None,
                 target_transform: Callable | None = None) -> None:
        super().__init__(root, split, ("train", "test"), download, transform,
                         target_transform)

    def _check_exists(self) -> bool:
        return os.path.isdir(os.path.join(self.raw_folder, "aclImdb", self.split))

    def _read(self):
        samples = []
        for label, name in ((1, "neg"), (2, "pos")):
            pattern = os.path.join(self.raw_folder, "aclImdb", self.split, name, "*.txt")
            for path in sorted(glob.glob(pattern)):
                with open(path, encoding="utf-8") as f:
                    samples.append((label, f.read()))
        return samples

    def __getitem__(self, index: int):
        label, text = self.samples[index]
        if self.transform is not None:
            text = self.transform(text)
        if self.target_transform is not None:
            label = self.target_transform(label)
        return label, text


class SST2(_Labelled):
    """The Stanford Sentiment Treebank, binary (GLUE's SST-2): 67,349 train, 872 dev and
    1,821 test sentences. Items are ``(text, label)`` (``(text,)`` for the unlabelled test
    split)."""

    base_folder = "SST2"
    resources = [R.SST2]
    extract_archives = True

    def __init__(self, root=None, split: str = "train", download: bool = False,
                 transform: Callable | None = None,
                 target_transform: Callable | None = None) -> None:
        super().__init__(root, split, ("train", "dev", "test"), download, transform,
                         target_transform)

    def _check_exists(self) -> bool:
        return os.path.isfile(os.path.join(self.raw_folder, "SST-2", f"{self.split}.tsv"))

    def _read(self):
        path = os.path.join(self.raw_folder, "SST-2", f"{self.split}.tsv")
        with open(path, encoding="utf-8") as f:
            rows = [line.rstrip("\n").split("\t") for line in f]
        header, rows = rows[0], [r for r in rows[1:] if r and r != [""]]
        if self.split == "test":
            col = header.index("sentence")
            return [(r[col],) for r in rows]
        return [(r[0], int(r[1])) for r in rows]

    def __getitem__(self, index: int):
        item = self.samples[index]
        text = item[0] if self.transform is None else self.transform(item[0])
        if len(item) == 1:
            return (text,)
        label = item[1] if self.target_transform is None else self.target_transform(item[1])
        return text, label
