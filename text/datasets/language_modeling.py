"""Language-modelling corpora: WikiText-2, WikiText-103 and the Penn Treebank, as torchtext
reads them (one item per line of the split's file, the line's text)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

from ember.datasets import DownloadableDataset

from . import _resources as R

__all__ = ["WikiText2", "WikiText103", "PennTreebank"]

_SPLITS = ("train", "valid", "test")


def _check_split(split: str) -> str:
    if split not in _SPLITS:
        raise ValueError(f"split={split!r}; expected one of {_SPLITS}")
    return split


class _LineCorpus(DownloadableDataset):
    """A text file read as its lines (newline removed; empty lines kept, as torchtext)."""

    def __init__(self, root: str | os.PathLike[str] | None = None, split: str = "train",
                 download: bool = False, transform: Callable | None = None) -> None:
        self.split = _check_split(split)
        super().__init__(root, transform=transform, download=download)
        with open(self.split_file, encoding="utf-8") as f:
            self.lines = [line.rstrip("\n") for line in f]

    @property
    def split_file(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    def _check_exists(self) -> bool:
        return os.path.isfile(self.split_file)

    def __len__(self) -> int:
        return len(self.lines)

    def __getitem__(self, index: int) -> str:
        line = self.lines[index]
        return self.transform(line) if self.transform is not None else line

    def __iter__(self) -> Iterator[str]:
        for i in range(len(self)):
            yield self[i]

    def extra_repr(self) -> str:
        return f"Split: {self.split}"


class WikiText2(_LineCorpus):
    """WikiText-2 (Merity et al., 2016), tokenized version: ``wiki.{split}.tokens`` from
    ``wikitext-2-v1.zip``.

    Args:
        root: folder of the data (default ``$EMBER_HOME/datasets``).
        split: ``"train"``, ``"valid"`` or ``"test"``.
        download: fetch and extract the archive if missing.
        transform: applied to each line.
    """

    base_folder = "WikiText2"
    resources = [R.WIKITEXT2]
    extract_archives = True
    _subdir = "wikitext-2"

    @property
    def split_file(self) -> str:
        return os.path.join(self.raw_folder, self._subdir, f"wiki.{self.split}.tokens")


class WikiText103(WikiText2):
    """WikiText-103, tokenized version (``wikitext-103-v1.zip``); arguments as
    :class:`WikiText2`."""

    base_folder = "WikiText103"
    resources = [R.WIKITEXT103]
    _subdir = "wikitext-103"


class PennTreebank(_LineCorpus):
    """The Penn Treebank language-modelling corpus of Mikolov et al. (``ptb.{split}.txt``);
    arguments as :class:`WikiText2`."""

    base_folder = "PennTreebank"

    @property
    def resources(self):  # only the requested split's file
        return [R.PENN_TREEBANK[self.split]]

    @property
    def split_file(self) -> str:
        return os.path.join(self.raw_folder, f"ptb.{self.split}.txt")
