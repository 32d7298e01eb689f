"""``DownloadableDataset``: the base of data sets whose files can be downloaded.

A subclass lists its files in ``resources`` and implements ``__getitem__``/``__len__``::

    class Digits(DownloadableDataset):
        base_folder = "digits"
        resources = [
            (["https://mirror-a/digits.npz", "https://mirror-b/digits.npz"],  # tried in order
             "digits.npz", "9e107d9d372bb6826bd81d3542a419d6"),                 # md5 or sha256
        ]

        def __init__(self, root=None, train=True, transform=None, target_transform=None,
                     download=False):
            self.train = train  # set what _check_exists needs, then:
            super().__init__(root, transform=transform, target_transform=target_transform,
                             download=download)
            self.data = np.load(os.path.join(self.raw_folder, "digits.npz"))
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from ember._download import ChecksumError, DownloadError, OfflineError, is_offline
from ember.utils.data import Dataset

from .utils import check_integrity, download_url, extract_archive

__all__ = ["DownloadableDataset", "Resource"]

# (url or list of mirror urls, file name, md5 / sha256 hex digest or None)
Resource = tuple[str | Sequence[str], str, str | None]


def _checksums(checksum: str | None) -> dict[str, str]:
    """Tell md5 from sha256 by length; ``"md5:<hex>"``/``"sha256:<hex>"`` are accepted too."""
    if not checksum:
        return {}
    kind, _, digest = checksum.rpartition(":")
    if not kind:
        kind = {32: "md5", 64: "sha256"}.get(len(digest), "")
    if kind not in ("md5", "sha256"):
        raise ValueError(f"checksum {checksum!r} is neither an md5 (32 hex digits) nor a "
                         "sha256 (64 hex digits)")
    return {kind: digest.lower()}


class DownloadableDataset(Dataset):
    """Base class for data sets whose files are fetched from the web (like torchvision's
    ``VisionDataset`` plus the download logic of its ``MNIST``).

    Args:
        root (str or ``pathlib.Path``, optional): Root directory of the dataset. Default:
            ``ember.hub.get_datasets_dir()`` (``$EMBER_HOME/datasets``).
        transform (callable, optional): A function/transform that takes in a sample and
            returns a transformed version.
        target_transform (callable, optional): A function/transform that takes in the target
            and transforms it.
        download (bool, optional): If True, downloads the dataset from the internet and puts
            it in root directory. If dataset is already downloaded, it is not downloaded
            again.

    Class attributes a subclass sets:
        resources: ``(urls, filename, checksum)`` triples. ``urls`` is one URL or a list of
            mirrors tried in order; ``checksum`` an md5 or sha256 hex digest (or None).
        base_folder: sub-folder of ``root`` holding the files (``raw_folder``).
        extract_archives: if True, each downloaded archive is extracted into ``raw_folder``.

    The files missing after the optional download raise ``RuntimeError`` listing each file,
    where it comes from and where to put it by hand.
    """

    resources: ClassVar[Sequence[Resource]] = ()
    base_folder: ClassVar[str] = ""
    extract_archives: ClassVar[bool] = False

    def __init__(
        self,
        root: str | os.PathLike[str] | None = None,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
        download: bool = False,
    ) -> None:
        if root is None:
            from ember.hub import get_datasets_dir

            root = get_datasets_dir()
        self.root = os.path.expanduser(os.fspath(root))
        self.transform = transform
        self.target_transform = target_transform
        if download:
            self.download()
        if not self._check_exists():
            raise RuntimeError(self._missing_message(
                f"Dataset not found in {self.raw_folder}. You can use download=True to "
                "download it."))

    @property
    def raw_folder(self) -> str:
        """Folder the resource files are downloaded to: ``root/base_folder``."""
        return os.path.join(self.root, self.base_folder) if self.base_folder else self.root

    def _missing(self) -> list[Resource]:
        return [r for r in self.resources
                if not os.path.isfile(os.path.join(self.raw_folder, r[1]))]

    def _check_exists(self) -> bool:
        """True if every resource file is present (not hashed; see ``_check_integrity``)."""
        return not self._missing()

    def _check_integrity(self) -> bool:
        """True if every resource file is present and matches its checksum."""
        return all(check_integrity(os.path.join(self.raw_folder, filename), **_checksums(c))
                   for _, filename, c in self.resources)

    def download(self) -> None:
        """Download the missing resource files, trying each one's mirrors in order."""
        if self._check_exists():
            return
        if is_offline() and self._missing():
            raise OfflineError(self._missing_message(
                f"EMBER_OFFLINE is set, so the missing files of {self.raw_folder} cannot be "
                "downloaded."))
        os.makedirs(self.raw_folder, exist_ok=True)
        for urls, filename, checksum in self.resources:
            self._download_resource(urls, filename, checksum)

    def _download_resource(self, urls: str | Sequence[str], filename: str,
                           checksum: str | None) -> None:
        mirrors = [urls] if isinstance(urls, str) else list(urls)
        errors = []
        for url in mirrors:
            try:
                download_url(url, self.raw_folder, filename, **_checksums(checksum))
                break
            except OfflineError:
                raise
            except (DownloadError, ChecksumError) as e:
                errors.append(f"  {url}: {e}")
        else:
            raise RuntimeError(
                f"Error downloading {filename}; every mirror failed:\n" + "\n".join(errors)
                + "\n" + self._missing_message(f"Files are missing in {self.raw_folder}."))
        if self.extract_archives:
            extract_archive(os.path.join(self.raw_folder, filename), self.raw_folder)

    def _missing_message(self, intro: str) -> str:
        lines = [f"{intro} Put these files of {type(self).__name__} there by hand "
                 "(path <- url [or mirror]  (checksum)):"]
        for urls, filename, checksum in self._missing():
            mirrors = [urls] if isinstance(urls, str) else list(urls)
            lines.append(f"  {os.path.join(self.raw_folder, filename)}  <-  "
                         + " or ".join(mirrors) + (f"  ({checksum})" if checksum else ""))
        return "\n".join(lines)

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")

    def extra_repr(self) -> str:
        """Extra lines for ``repr``; subclasses add their own settings (split, ...)."""
        return ""

    def __repr__(self) -> str:
        head = "Dataset " + type(self).__name__
        body = [f"Root location: {self.root}"]
        try:
            body.insert(0, f"Number of datapoints: {len(self)}")
        except NotImplementedError:
            pass
        body += self.extra_repr().splitlines()
        for name, t in (("Transform", self.transform),
                        ("Target transform", self.target_transform)):
            if t is not None:
                body.append(f"{name}: {t!r}")
        return "\n".join([head] + ["    " + line for line in body])
