"""LIBRISPEECH (``torchaudio.datasets.LIBRISPEECH``): read English speech,
``root/LibriSpeech/<subset>/<speaker>/<chapter>/<speaker>-<chapter>-<utt>.flac`` with one
``<speaker>-<chapter>.trans.txt`` per chapter."""

from __future__ import annotations

import os
from pathlib import Path

import ember
from ember.utils.data import Dataset

from .utils import download_and_extract, load_waveform, missing

__all__ = ["LIBRISPEECH"]

URL = "train-clean-100"
FOLDER_IN_ARCHIVE = "LibriSpeech"
BASE_URL = "http://www.openslr.org/resources/12/"
SAMPLE_RATE = 16000
_DATA_SUBSETS = ["dev-clean", "dev-other", "test-clean", "test-other", "train-clean-100",
                 "train-clean-360", "train-other-500"]
_CHECKSUMS = {
    "dev-clean.tar.gz": "76f87d090650617fca0cac8f88b9416e0ebf80350acb97b343a85fa903728ab3",
    "dev-other.tar.gz": "12661c48e8c3fe1de2c1caa4c3e135193bfb1811584f11f569dd12645aa84365",
    "test-clean.tar.gz": "39fde525e59672dc6d1551919b1478f724438a95aa55f874b576be21967e6c23",
    "test-other.tar.gz": "d09c181bba5cf717b3dee7d4d592af11a3ee3a09e08ae025c5506f6ebe961c29",
    "train-clean-100.tar.gz":
        "d4ddd1d5a6ab303066f14971d768ee43278a5f2a0aa43dc716b0e64ecbbbf6e2",
    "train-clean-360.tar.gz":
        "146a56496217e96c14334a160df97fffedd6e0a04e66b9c5af0d40be3c792ecf",
    "train-other-500.tar.gz":
        "ddb22f27f96ec163645d53215559df6aa36515f26e01dd70798188350adcb6d2",
}


def _transcript(path: str, fileid: str) -> str:
    with open(path) as f:
        for line in f:
            key, _, text = line.strip().partition(" ")
            if key == fileid:
                return text
    raise FileNotFoundError(f"Translation not found for {fileid} in {path}")


class LIBRISPEECH(Dataset):
    """*LibriSpeech* dataset.

    Args:
        root (str or Path): Path to the directory where the dataset is found or downloaded.
        url (str, optional): The subset to use: ``"dev-clean"``, ``"dev-other"``,
            ``"test-clean"``, ``"test-other"``, ``"train-clean-100"``,
            ``"train-clean-360"`` or ``"train-other-500"``. (default: ``"train-clean-100"``)
        folder_in_archive (str, optional): The top-level directory of the dataset.
            (default: ``"LibriSpeech"``)
        download (bool, optional): Whether to download the dataset if it is not found at
            root path. (default: ``False``).

    Items are ``(waveform, sample_rate, transcript, speaker_id, chapter_id,
    utterance_id)``.
    """

    _ext_txt = ".trans.txt"
    _ext_audio = ".flac"

    def __init__(self, root: str | Path, url: str = URL,
                 folder_in_archive: str = FOLDER_IN_ARCHIVE, download: bool = False) -> None:
        if url not in _DATA_SUBSETS:
            raise ValueError(f"Invalid url '{url}' given; please provide one of "
                             f"{_DATA_SUBSETS}.")
        self._url = url
        root = os.fspath(root)
        self._archive = os.path.join(root, folder_in_archive)
        self._path = os.path.join(self._archive, url)
        if download and not os.path.isdir(self._path):
            filename = url + ".tar.gz"
            download_and_extract(BASE_URL + filename, os.path.join(root, filename),
                                 _CHECKSUMS)
        if not os.path.isdir(self._path):
            raise missing(self._path, "Dataset LIBRISPEECH")
        self._walker = sorted(p.stem for p in Path(self._path).glob("*/*/*" + self._ext_audio))

    def get_metadata(self, n: int) -> tuple[str, int, str, int, int, int]:
        """Metadata of the n-th sample: ``(relative path of the audio, sample_rate,
        transcript, speaker_id, chapter_id, utterance_id)``; the path is relative to
        ``root/folder_in_archive``."""
        fileid = self._walker[n]
        speaker_id, chapter_id, utterance_id = fileid.split("-")
        folder = os.path.join(self._url, speaker_id, chapter_id)
        transcript = _transcript(
            os.path.join(self._archive, folder, f"{speaker_id}-{chapter_id}{self._ext_txt}"),
            fileid)
        return (os.path.join(folder, fileid + self._ext_audio), SAMPLE_RATE, transcript,
                int(speaker_id), int(chapter_id), int(utterance_id))

    def __getitem__(self, n: int) -> tuple[ember.Tensor, int, str, int, int, int]:
        """Load the n-th sample: ``(waveform, sample_rate, transcript, speaker_id,
        chapter_id, utterance_id)``."""
        metadata = self.get_metadata(n)
        return (load_waveform(self._archive, metadata[0], metadata[1]),) + metadata[1:]

    def __len__(self) -> int:
        return len(self._walker)
