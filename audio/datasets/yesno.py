"""YESNO (``torchaudio.datasets.YESNO``): 60 recordings of eight Hebrew yes/no words."""

from __future__ import annotations

import os
from pathlib import Path

import ember
from ember.utils.data import Dataset

from .._backend import load
from .utils import download_and_extract, missing

__all__ = ["YESNO"]

URL = "http://www.openslr.org/resources/1/waves_yesno.tar.gz"
FOLDER_IN_ARCHIVE = "waves_yesno"
_CHECKSUMS = {
    "waves_yesno.tar.gz": "c3f49e0cca421f96b75b41640749167b52118f232498667ca7a5f9416aef8e73",
}


class YESNO(Dataset):
    """*YesNo* dataset: ``root/waves_yesno/<labels>.wav``, e.g. ``0_1_0_0_1_0_1_1.wav``.

    Args:
        root (str or Path): Path to the directory where the dataset is found or downloaded.
        url (str, optional): The URL to download the dataset from.
            (default: ``"http://www.openslr.org/resources/1/waves_yesno.tar.gz"``)
        folder_in_archive (str, optional): The top-level directory of the dataset.
            (default: ``"waves_yesno"``)
        download (bool, optional): Whether to download the dataset if it is not found at
            root path. (default: ``False``).

    Items are ``(waveform, sample_rate, labels)`` with ``labels`` a list of eight 0/1 ints.
    """

    def __init__(self, root: str | Path, url: str = URL,
                 folder_in_archive: str = FOLDER_IN_ARCHIVE, download: bool = False) -> None:
        root = os.fspath(root)
        self._path = os.path.join(root, folder_in_archive)
        if download and not os.path.isdir(self._path):
            download_and_extract(url, os.path.join(root, os.path.basename(url)), _CHECKSUMS)
        if not os.path.isdir(self._path):
            raise missing(self._path, "Dataset YESNO")
        self._walker = sorted(p.stem for p in Path(self._path).glob("*.wav"))

    def __getitem__(self, n: int) -> tuple[ember.Tensor, int, list[int]]:
        """Load the n-th sample: ``(waveform, sample_rate, labels)``."""
        fileid = self._walker[n]
        waveform, sample_rate = load(os.path.join(self._path, fileid + ".wav"))
        return waveform, sample_rate, [int(c) for c in fileid.split("_")]

    def __len__(self) -> int:
        return len(self._walker)
