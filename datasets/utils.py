"""Download and integrity helpers for data sets (``torchvision.datasets.utils``'s API).

Downloads go through ``ember.hub``'s downloader: streamed, checked while streaming, resumed
after a broken connection, renamed into place only when verified, locked against concurrent
processes, and disabled by ``EMBER_OFFLINE=1``.
"""

from __future__ import annotations

import hashlib
import os
from urllib.parse import urlparse

from ember._download import download as _download

from .archive import UnsafeArchiveError, extract_archive

__all__ = [
    "UnsafeArchiveError",
    "calculate_md5",
    "calculate_sha256",
    "check_integrity",
    "check_md5",
    "download_and_extract_archive",
    "download_url",
    "extract_archive",
]

_CHUNK = 1024 * 1024


def _file_digest(fpath: str | os.PathLike[str], algorithm: str, chunk_size: int) -> str:
    h = hashlib.new(algorithm, usedforsecurity=False)
    with open(fpath, "rb") as f:
        while chunk := f.read(chunk_size):
            h.update(chunk)
    return h.hexdigest()


def calculate_md5(fpath: str | os.PathLike[str], chunk_size: int = _CHUNK) -> str:
    """Return the md5 hex digest of the file at ``fpath``."""
    return _file_digest(fpath, "md5", chunk_size)


def calculate_sha256(fpath: str | os.PathLike[str], chunk_size: int = _CHUNK) -> str:
    """Return the sha256 hex digest of the file at ``fpath``."""
    return _file_digest(fpath, "sha256", chunk_size)


def check_md5(fpath: str | os.PathLike[str], md5: str, chunk_size: int = _CHUNK) -> bool:
    """True if the file at ``fpath`` has the md5 digest ``md5``."""
    return calculate_md5(fpath, chunk_size) == md5.lower()


def check_integrity(
    fpath: str | os.PathLike[str], md5: str | None = None, sha256: str | None = None
) -> bool:
    """True if ``fpath`` is a file and matches every checksum given.

    With neither ``md5`` nor ``sha256`` only the file's existence is checked, as in
    torchvision.
    """
    if not os.path.isfile(fpath):
        return False
    if md5 is not None and not check_md5(fpath, md5):
        return False
    return sha256 is None or calculate_sha256(fpath) == sha256.lower()


def download_url(
    url: str,
    root: str | os.PathLike[str],
    filename: str | None = None,
    md5: str | None = None,
    sha256: str | None = None,
    max_redirect_hops: int = 3,
) -> None:
    """Download a file from a url and place it in root.

    Args:
        url (str): URL to download file from
        root (str): Directory to place downloaded file in
        filename (str, optional): Name to save the file under. If None, use the basename of
            the URL
        md5 (str, optional): MD5 checksum of the download. If None, do not check
        sha256 (str, optional): SHA256 checksum of the download. If None, do not check
        max_redirect_hops (int, optional): Maximum number of redirect hops allowed

    A file already in ``root`` that passes the checks is not downloaded again; one that fails
    them is replaced. A checksum mismatch after downloading deletes the download and raises
    ``RuntimeError`` (:class:`ember.hub.ChecksumError`).
    """
    root = os.path.expanduser(os.fspath(root))
    if not filename:
        filename = os.path.basename(urlparse(url).path)
    fpath = os.path.join(root, filename)
    if check_integrity(fpath, md5, sha256):
        return
    downloaded = _download(url, fpath, md5=md5, sha256=sha256,
                           max_redirects=max_redirect_hops, overwrite=os.path.exists(fpath))
    # Not downloaded: another process finished it while this one waited for the lock.
    if not downloaded and not check_integrity(fpath, md5, sha256):
        raise RuntimeError(f"File not found or corrupted: {fpath}")


def download_and_extract_archive(
    url: str,
    download_root: str | os.PathLike[str],
    extract_root: str | os.PathLike[str] | None = None,
    filename: str | None = None,
    md5: str | None = None,
    sha256: str | None = None,
    remove_finished: bool = False,
) -> None:
    """Download an archive with :func:`download_url` and extract it with
    :func:`extract_archive` into ``extract_root`` (default: ``download_root``)."""
    download_root = os.path.expanduser(os.fspath(download_root))
    if extract_root is None:
        extract_root = download_root
    if not filename:
        filename = os.path.basename(urlparse(url).path)
    download_url(url, download_root, filename, md5, sha256)
    archive = os.path.join(download_root, filename)
    extract_archive(archive, extract_root, remove_finished)
