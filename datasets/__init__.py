"""ember.datasets: machinery shared by the vision, audio and text data sets.

Verified, resumable downloads into a cache (through ``ember.hub``'s downloader), safe archive
extraction, and :class:`DownloadableDataset`, the base of data sets that fetch their files.
The helpers keep ``torchvision.datasets.utils``'s names and signatures.
"""

from .archive import UnsafeArchiveError, extract_archive
from .dataset import DownloadableDataset, Resource
from .utils import (
    calculate_md5,
    calculate_sha256,
    check_integrity,
    check_md5,
    download_and_extract_archive,
    download_url,
)

__all__ = [
    "DownloadableDataset",
    "Resource",
    "UnsafeArchiveError",
    "calculate_md5",
    "calculate_sha256",
    "check_integrity",
    "check_md5",
    "download_and_extract_archive",
    "download_url",
    "extract_archive",
]
