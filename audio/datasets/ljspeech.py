"""LJSPEECH (``torchaudio.datasets.LJSPEECH``): one speaker reading passages,
``root/LJSpeech-1.1/wavs/<id>.wav`` and ``root/LJSpeech-1.1/metadata.csv``
(``id|transcript|normalized transcript``)."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import ember
from ember.utils.data import Dataset

from .._backend import load
from .utils import download_and_extract, missing

__all__ = ["LJSPEECH"]

URL = "https://data.keithito.com/data/speech/LJSpeech-1.1.tar.bz2"
FOLDER_IN_ARCHIVE = "wavs"
_CHECKSUMS = {
    "LJSpeech-1.1.tar.bz2": "be1a30453f28eb8dd26af4101ae40cbf2c50413b1bb21936cbcdc6fae3de8aa5",
}


class LJSPEECH(Dataset):
    """*LJSpeech-1.1* dataset.

    Args:
        root (str or Path): Path to the directory where the dataset is found or downloaded.
        url (str, optional): The URL to download the dataset from.
            (default: ``"https://data.keithito.com/data/speech/LJSpeech-1.1.tar.bz2"``)
        folder_in_archive (str, optional): The folder of the wav files inside the release
            folder. (default: ``"wavs"``)
        download (bool, optional): Whether to download the dataset if it is not found at
            root path. (default: ``False``).

    Items are ``(waveform, sample_rate, transcript, normalized_transcript)``.
    """

    def __init__(self, root: str | Path, url: str = URL,
                 folder_in_archive: str = FOLDER_IN_ARCHIVE, download: bool = False) -> None:
        root = os.fspath(root)
        basename = os.path.basename(url)
        release = basename.split(".tar.bz2")[0]
        self._path = Path(root) / release / folder_in_archive
        self._metadata_path = Path(root) / release / "metadata.csv"
        if download and not self._path.is_dir():
            download_and_extract(url, os.path.join(root, basename), _CHECKSUMS)
        if not self._path.is_dir():
            raise missing(self._path, "Dataset LJSPEECH")
        with open(self._metadata_path, newline="") as f:
            self._flist = list(csv.reader(f, delimiter="|", quoting=csv.QUOTE_NONE))

    def __getitem__(self, n: int) -> tuple[ember.Tensor, int, str, str]:
        """Load the n-th sample: ``(waveform, sample_rate, transcript,
        normalized_transcript)``."""
        fileid, transcript, normalized_transcript = self._flist[n]
        waveform, sample_rate = load(self._path / (fileid + ".wav"))
        return waveform, sample_rate, transcript, normalized_transcript

    def __len__(self) -> int:
        return len(self._flist)
