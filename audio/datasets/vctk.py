"""VCTK_092 (``torchaudio.datasets.VCTK_092``): 110 English speakers, release 0.92:
``root/VCTK-Corpus-0.92/txt/<speaker>/<speaker>_<utt>.txt`` and
``root/VCTK-Corpus-0.92/wav48_silence_trimmed/<speaker>/<speaker>_<utt>_<mic>.flac``."""

from __future__ import annotations

import os

import ember
from ember.utils.data import Dataset

from .._backend import load
from .utils import download_and_extract, missing

__all__ = ["VCTK_092"]

URL = "https://datashare.is.ed.ac.uk/bitstream/handle/10283/3443/VCTK-Corpus-0.92.zip"
_CHECKSUMS = {
    "VCTK-Corpus-0.92.zip": "f96258be9fdc2cbff6559541aae7ea4f59df3fcaf5cf963aae5ca647357e359c",
}


class VCTK_092(Dataset):
    """*VCTK 0.92* dataset.

    Args:
        root (str): Root directory where the dataset's top level directory is found.
        mic_id (str, optional): Microphone ID, ``"mic1"`` or ``"mic2"``. (default:
            ``"mic2"``)
        download (bool, optional): Whether to download the dataset if it is not found at
            root path. (default: ``False``).
        url (str, optional): The URL to download the dataset from.
        audio_ext (str, optional): Custom audio extension if dataset is converted to
            non-default audio format. (default: ``".flac"``)

    Items are ``(waveform, sample_rate, transcript, speaker_id, utterance_id)``. As in
    torchaudio, speaker ``p280`` (no ``mic2`` recordings) is skipped for ``mic2``, and
    utterances of ``p362`` whose audio is missing are skipped.
    """

    def __init__(self, root: str, mic_id: str = "mic2", download: bool = False,
                 url: str = URL, audio_ext: str = ".flac") -> None:
        if mic_id not in ("mic1", "mic2"):
            raise RuntimeError(f'`mic_id` has to be either "mic1" or "mic2". Found: {mic_id}')
        root = os.fspath(root)
        self._path = os.path.join(root, "VCTK-Corpus-0.92")
        self._txt_dir = os.path.join(self._path, "txt")
        self._audio_dir = os.path.join(self._path, "wav48_silence_trimmed")
        self._mic_id = mic_id
        self._audio_ext = audio_ext
        if download and not os.path.isdir(self._path):
            download_and_extract(url, os.path.join(root, "VCTK-Corpus-0.92.zip"), _CHECKSUMS,
                                 self._path)
        if not os.path.isdir(self._path):
            raise missing(self._path, "Dataset VCTK_092")
        self._sample_ids = []
        for speaker_id in sorted(os.listdir(self._txt_dir)):
            if speaker_id == "p280" and mic_id == "mic2":
                continue
            utterance_dir = os.path.join(self._txt_dir, speaker_id)
            for name in sorted(f for f in os.listdir(utterance_dir) if f.endswith(".txt")):
                utterance_id = os.path.splitext(name)[0]
                if speaker_id == "p362" and not os.path.isfile(self._audio_path(
                        speaker_id, utterance_id.split("_")[1])):
                    continue
                self._sample_ids.append(utterance_id.split("_"))

    def _audio_path(self, speaker_id: str, utterance_id: str) -> str:
        return os.path.join(self._audio_dir, speaker_id,
                            f"{speaker_id}_{utterance_id}_{self._mic_id}{self._audio_ext}")

    def __getitem__(self, n: int) -> tuple[ember.Tensor, int, str, str, str]:
        """Load the n-th sample: ``(waveform, sample_rate, transcript, speaker_id,
        utterance_id)``; the transcript is the text file's first line, newline kept."""
        speaker_id, utterance_id = self._sample_ids[n]
        with open(os.path.join(self._txt_dir, speaker_id,
                               f"{speaker_id}_{utterance_id}.txt")) as f:
            transcript = f.readlines()[0]
        waveform, sample_rate = load(self._audio_path(speaker_id, utterance_id))
        return waveform, sample_rate, transcript, speaker_id, utterance_id

    def __len__(self) -> int:
        return len(self._sample_ids)
