"""SPEECHCOMMANDS (``torchaudio.datasets.SPEECHCOMMANDS``): one-second keyword recordings,
``root/SpeechCommands/speech_commands_v0.02/<label>/<speaker>_nohash_<n>.wav``."""

from __future__ import annotations

import os
from pathlib import Path

import ember
from ember.utils.data import Dataset

from .utils import download_and_extract, load_waveform, missing

__all__ = ["SPEECHCOMMANDS"]

FOLDER_IN_ARCHIVE = "SpeechCommands"
URL = "speech_commands_v0.02"
BASE_URL = "http://download.tensorflow.org/data/"
HASH_DIVIDER = "_nohash_"
EXCEPT_FOLDER = "_background_noise_"
SAMPLE_RATE = 16000
_CHECKSUMS = {
    "speech_commands_v0.01.tar.gz":
        "743935421bb51cccdb6bdd152e04c5c70274e935c82119ad7faeec31780d811d",
    "speech_commands_v0.02.tar.gz":
        "af14739ee7dc311471de98f5f9d2c9191b18aedfe957f4a6ff791c709868ff58",
}


def _load_list(root: str, *filenames: str) -> list[str]:
    out = []
    for filename in filenames:
        with open(os.path.join(root, filename)) as f:
            out += [os.path.normpath(os.path.join(root, line.strip())) for line in f
                    if line.strip()]
    return out


class SPEECHCOMMANDS(Dataset):
    """*Speech Commands* dataset.

    Args:
        root (str or Path): Path to the directory where the dataset is found or downloaded.
        url (str, optional): The URL to download the dataset from, or the type of the
            dataset to download: ``"speech_commands_v0.01"`` or ``"speech_commands_v0.02"``.
            (default: ``"speech_commands_v0.02"``)
        folder_in_archive (str, optional): The top-level directory of the dataset.
            (default: ``"SpeechCommands"``)
        download (bool, optional): Whether to download the dataset if it is not found at
            root path. (default: ``False``).
        subset (str or None, optional): ``None`` (the whole dataset), ``"training"``,
            ``"validation"`` or ``"testing"``. ``"validation"`` and ``"testing"`` are the
            files listed in ``validation_list.txt`` and ``testing_list.txt``; ``"training"``
            is the rest. (default: ``None``)

    Items are ``(waveform, sample_rate, label, speaker_id, utterance_number)``. The
    ``_background_noise_`` folder is never part of the dataset.
    """

    def __init__(self, root: str | Path, url: str = URL,
                 folder_in_archive: str = FOLDER_IN_ARCHIVE, download: bool = False,
                 subset: str | None = None) -> None:
        if subset is not None and subset not in ("training", "validation", "testing"):
            raise ValueError("When `subset` is not None, it must be one of "
                             "['training', 'validation', 'testing'].")
        if url in ("speech_commands_v0.01", "speech_commands_v0.02"):
            url = BASE_URL + url + ".tar.gz"
        root = os.fspath(root)
        self._archive = os.path.join(root, folder_in_archive)
        basename = os.path.basename(url)
        self._path = os.path.join(self._archive, basename.rsplit(".", 2)[0])
        if download and not os.path.isdir(self._path):
            download_and_extract(url, os.path.join(root, basename), _CHECKSUMS, self._path)
        if not os.path.isdir(self._path):
            raise missing(self._path, "Dataset SPEECHCOMMANDS")
        if subset == "validation":
            self._walker = _load_list(self._path, "validation_list.txt")
        elif subset == "testing":
            self._walker = _load_list(self._path, "testing_list.txt")
        else:
            walker = sorted(str(p) for p in Path(self._path).glob("*/*.wav"))
            walker = [w for w in walker if HASH_DIVIDER in w and EXCEPT_FOLDER not in w]
            if subset == "training":
                excludes = set(_load_list(self._path, "validation_list.txt",
                                          "testing_list.txt"))
                walker = [w for w in walker if os.path.normpath(w) not in excludes]
            self._walker = walker

    def get_metadata(self, n: int) -> tuple[str, int, str, str, int]:
        """Metadata of the n-th sample: ``(relative path, sample_rate, label, speaker_id,
        utterance_number)``; the path is relative to ``root/folder_in_archive``."""
        relpath = os.path.relpath(self._walker[n], self._archive)
        reldir, filename = os.path.split(relpath)
        label = os.path.basename(reldir)
        speaker = filename.split(".", 1)[0]
        speaker_id, utterance_number = speaker.split(HASH_DIVIDER)
        return relpath, SAMPLE_RATE, label, speaker_id, int(utterance_number)

    def __getitem__(self, n: int) -> tuple[ember.Tensor, int, str, str, int]:
        """Load the n-th sample: ``(waveform, sample_rate, label, speaker_id,
        utterance_number)``."""
        metadata = self.get_metadata(n)
        return (load_waveform(self._archive, metadata[0], metadata[1]),) + metadata[1:]

    def __len__(self) -> int:
        return len(self._walker)
