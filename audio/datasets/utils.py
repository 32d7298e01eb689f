"""Helpers shared by the ember.audio data sets: verified download plus safe extraction
(through ``ember.datasets``), and waveform loading with a sample-rate check."""

from __future__ import annotations

import os

import ember
from ember.datasets import download_url, extract_archive

from .._backend import load

__all__ = ["download_and_extract", "load_waveform", "missing"]


def download_and_extract(url: str, archive: str | os.PathLike, checksums: dict[str, str],
                         extract_to: str | os.PathLike | None = None) -> None:
    """Download ``url`` to the file ``archive`` and extract it into ``extract_to`` (default:
    the archive's folder).

    ``checksums`` maps archive file names to their sha256: a known file is verified (a file
    already on disk that fails is downloaded again; a download that fails raises), so a
    mirror serving the same file name is checked too. Extraction refuses members that would
    land outside ``extract_to`` (:class:`ember.datasets.UnsafeArchiveError`).
    """
    folder, filename = os.path.split(os.path.abspath(os.fspath(archive)))
    os.makedirs(folder, exist_ok=True)
    download_url(url, folder, filename, sha256=checksums.get(filename))
    extract_archive(os.path.join(folder, filename),
                    folder if extract_to is None else os.fspath(extract_to))


def load_waveform(root: str | os.PathLike, filename: str, exp_sample_rate: int) -> ember.Tensor:
    """Load ``root/filename`` and check that its sample rate is ``exp_sample_rate``."""
    waveform, sample_rate = load(os.path.join(root, filename))
    if sample_rate != exp_sample_rate:
        raise ValueError(f"sample rate of {filename} should be {exp_sample_rate}, but got "
                         f"{sample_rate}")
    return waveform


def missing(path: str | os.PathLike, what: str) -> RuntimeError:
    """The error raised when a data set's folder is absent and ``download`` is False."""
    return RuntimeError(f"{what} not found at {os.fspath(path)}. Check the ``root`` path or "
                        "set `download=True` to download it.")
