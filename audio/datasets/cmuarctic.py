"""CMUARCTIC (``torchaudio.datasets.CMUARCTIC``): ARCTIC prompts read by 18 speakers,
``root/ARCTIC/cmu_us_<voice>_arctic/wav/arctic_<id>.wav`` with the prompts in
``etc/txt.done.data`` (lines ``( arctic_a0001 "Author of the danger trail." )``)."""

from __future__ import annotations

import os
from pathlib import Path

import ember
from ember.utils.data import Dataset

from .._backend import load
from .utils import download_and_extract, missing

__all__ = ["CMUARCTIC"]

URL = "aew"
FOLDER_IN_ARCHIVE = "ARCTIC"
BASE_URL = "http://www.festvox.org/cmu_arctic/packed/"
_VOICES = ["aew", "ahw", "aup", "awb", "axb", "bdl", "clb", "eey", "fem", "gka", "jmk", "ksp",
           "ljm", "lnh", "rms", "rxr", "slp", "slt"]
_CHECKSUMS = {f"cmu_us_{voice}_arctic.tar.bz2": sha for voice, sha in zip(_VOICES, [
    "645cb33c0f0b2ce41384fdd8d3db2c3f5fc15c1e688baeb74d2e08cab18ab406",
    "024664adeb892809d646a3efd043625b46b5bfa3e6189b3500b2d0d59dfab06c",
    "2c55bc3050caa996758869126ad10cf42e1441212111db034b3a45189c18b6fc",
    "d74a950c9739a65f7bfc4dfa6187f2730fa03de5b8eb3f2da97a51b74df64d3c",
    "dd65c3d2907d1ee52f86e44f578319159e60f4bf722a9142be01161d84e330ff",
    "26b91aaf48b2799b2956792b4632c2f926cd0542f402b5452d5adecb60942904",
    "3f16dc3f3b97955ea22623efb33b444341013fc660677b2e170efdcc959fa7c6",
    "8a0ee4e5acbd4b2f61a4fb947c1730ab3adcc9dc50b195981d99391d29928e8a",
    "3fcff629412b57233589cdb058f730594a62c4f3a75c20de14afe06621ef45e2",
    "dc82e7967cbd5eddbed33074b0699128dbd4482b41711916d58103707e38c67f",
    "3a37c0e1dfc91e734fdbc88b562d9e2ebca621772402cdc693bbc9b09b211d73",
    "8029cafce8296f9bed3022c44ef1e7953332b6bf6943c14b929f468122532717",
    "b23993765cbf2b9e7bbc3c85b6c56eaf292ac81ee4bb887b638a24d104f921a0",
    "4faf34d71aa7112813252fb20c5433e2fdd9a9de55a00701ffcbf05f24a5991a",
    "c6dc11235629c58441c071a7ba8a2d067903dfefbaabc4056d87da35b72ecda4",
    "1fa4271c393e5998d200e56c102ff46fcfea169aaa2148ad9e9469616fbfdd9b",
    "54345ed55e45c23d419e9a823eef427f1cc93c83a710735ec667d068c916abf1",
    "7c173297916acf3cc7fcab2713be4c60b27312316765a90934651d367226b4ea",
])}


class CMUARCTIC(Dataset):
    """*CMU ARCTIC* dataset.

    Args:
        root (str or Path): Path to the directory where the dataset is found or downloaded.
        url (str, optional): The URL to download the dataset from or the voice to download:
            one of ``"aew"``, ``"ahw"``, ``"aup"``, ``"awb"``, ``"axb"``, ``"bdl"``,
            ``"clb"``, ``"eey"``, ``"fem"``, ``"gka"``, ``"jmk"``, ``"ksp"``, ``"ljm"``,
            ``"lnh"``, ``"rms"``, ``"rxr"``, ``"slp"``, ``"slt"``. (default: ``"aew"``)
        folder_in_archive (str, optional): The top-level directory of the dataset.
            (default: ``"ARCTIC"``)
        download (bool, optional): Whether to download the dataset if it is not found at
            root path. (default: ``False``).

    Items are ``(waveform, sample_rate, transcript, utterance_id)``, e.g. ``(..., 16000,
    "Author of the danger trail, Philip Steels, etc.", "a0001")``.
    """

    _file_text = "txt.done.data"
    _folder_text = "etc"
    _ext_audio = ".wav"
    _folder_audio = "wav"

    def __init__(self, root: str | Path, url: str = URL,
                 folder_in_archive: str = FOLDER_IN_ARCHIVE, download: bool = False) -> None:
        if url in _VOICES:
            url = f"{BASE_URL}cmu_us_{url}_arctic.tar.bz2"
        basename = os.path.basename(url)
        root = os.path.join(os.fspath(root), folder_in_archive)
        self._path = os.path.join(root, basename.split(".")[0])
        if download and not os.path.isdir(self._path):
            download_and_extract(url, os.path.join(root, basename), _CHECKSUMS)
        if not os.path.isdir(self._path):
            raise missing(self._path, "Dataset CMUARCTIC")
        self._text = os.path.join(self._path, self._folder_text, self._file_text)
        with open(self._text) as f:
            self._walker = [line.rstrip("\n") for line in f if line.strip()]

    def __getitem__(self, n: int) -> tuple[ember.Tensor, int, str, str]:
        """Load the n-th sample: ``(waveform, sample_rate, transcript, utterance_id)``."""
        # '( arctic_a0001 "Author of the danger trail, Philip Steels, etc." )'
        utterance_id, transcript = self._walker[n].strip().split(" ", 2)[1:]
        transcript = transcript[1:-3]
        path = os.path.join(self._path, self._folder_audio, utterance_id + self._ext_audio)
        waveform, sample_rate = load(path)
        return waveform, sample_rate, transcript, utterance_id.split("_")[1]

    def __len__(self) -> int:
        return len(self._walker)
