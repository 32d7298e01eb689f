"""ember.hub: pretrained weights, downloaded once into a local cache (``torch.hub``'s API).

The cache lives under ``$EMBER_HOME`` (default ``$XDG_CACHE_HOME/ember``, else
``~/.cache/ember``)::

    $EMBER_HOME/hub/checkpoints/   weights from load_state_dict_from_url
    $EMBER_HOME/hub/models/        multi-file model repositories
    $EMBER_HOME/datasets/          data sets

Every download goes through one downloader: streamed, sha256-verified, resumed with HTTP
``Range`` after a broken connection, written to ``<file>.partial`` and renamed only when
complete and verified, guarded by a file lock so concurrent processes do not clash. With
``EMBER_OFFLINE=1`` nothing is downloaded: cached files are used and a missing one raises
:class:`OfflineError` saying where to put it by hand.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any
from urllib.parse import urlparse

from ._download import ChecksumError, DownloadError, OfflineError, is_offline
from ._download import download as _download

__all__ = [
    "ChecksumError",
    "DownloadError",
    "OfflineError",
    "download_url_to_file",
    "get_checkpoints_dir",
    "get_datasets_dir",
    "get_dir",
    "get_ember_home",
    "get_models_dir",
    "is_offline",
    "load_state_dict_from_url",
    "set_dir",
    "load",
    "list",
    "help",
]

# The sha256 prefix in a checkpoint's file name, ``resnet18-f37072fd.pth`` (torch.hub's rule).
HASH_REGEX = re.compile(r"-([a-f0-9]*)\.")

_hub_dir: str | None = None


def get_ember_home() -> str:
    """Root of ember's cache: ``$EMBER_HOME``, else ``$XDG_CACHE_HOME/ember``, else
    ``~/.cache/ember``."""
    default = os.path.join(os.environ.get("XDG_CACHE_HOME", "~/.cache"), "ember")
    return os.path.expanduser(os.environ.get("EMBER_HOME", default))


def get_dir() -> str:
    """Get the ember Hub cache directory used for storing downloaded models & weights.

    If :func:`set_dir` is not called, the default path is ``$EMBER_HOME/hub``.
    """
    if _hub_dir is not None:
        return _hub_dir
    return os.path.join(get_ember_home(), "hub")


def set_dir(d: str | os.PathLike[str]) -> None:
    """Optionally set the ember Hub directory used to save downloaded models & weights.

    Args:
        d (str): path to a local folder to save downloaded models & weights.
    """
    global _hub_dir
    _hub_dir = os.path.expanduser(os.fspath(d))


def get_checkpoints_dir() -> str:
    """Folder of downloaded weights: ``get_dir()/checkpoints``."""
    return os.path.join(get_dir(), "checkpoints")


def get_models_dir() -> str:
    """Folder of multi-file model repositories (configs, tokenizers...): ``get_dir()/models``."""
    return os.path.join(get_dir(), "models")


def get_datasets_dir() -> str:
    """Folder where data sets are kept by default: ``$EMBER_HOME/datasets``."""
    return os.path.join(get_ember_home(), "datasets")


def download_url_to_file(
    url: str,
    dst: str | os.PathLike[str],
    hash_prefix: str | None = None,
    progress: bool = True,
    *,
    sha256: str | None = None,
) -> None:
    """Download object at the given URL to a local path.

    Args:
        url (str): URL of the object to download
        dst (str): Full path where object will be saved, e.g. ``/tmp/temporary_file``
        hash_prefix (str, optional): If not None, the SHA256 downloaded file should start with
            ``hash_prefix``. Default: None
        progress (bool, optional): whether or not to display a progress bar to stderr
            (shown only when stderr is a terminal). Default: True
        sha256 (str, optional): the full SHA256 hex digest the file must have (ember extra).

    The file is streamed to ``dst + '.partial'`` and renamed to ``dst`` once verified, so
    ``dst`` never holds a partial file. A broken connection is resumed with an HTTP Range
    request. A hash mismatch deletes the download and raises :class:`ChecksumError` (a
    ``RuntimeError``); an HTTP error raises :class:`DownloadError`; with ``EMBER_OFFLINE=1``
    this raises :class:`OfflineError`.

    Example:
        >>> ember.hub.download_url_to_file('https://example.com/w.pth', '/tmp/w.pth')
    """
    _download(url, dst, sha256=sha256, hash_prefix=hash_prefix, progress=progress)


def _cached_download(
    url: str,
    model_dir: str | os.PathLike[str] | None = None,
    progress: bool = True,
    check_hash: bool = False,
    file_name: str | None = None,
    sha256: str | None = None,
) -> str:
    """Return the path of ``url``'s file in ``model_dir``, downloading it if not there yet."""
    if model_dir is None:
        model_dir = get_checkpoints_dir()
    model_dir = os.path.expanduser(os.fspath(model_dir))
    filename = file_name if file_name is not None else os.path.basename(urlparse(url).path)
    if not filename:
        raise ValueError(f"cannot tell a file name from the URL {url!r}; pass file_name=")
    cached_file = os.path.join(model_dir, filename)
    hash_prefix = None
    if check_hash:
        match = HASH_REGEX.search(filename)
        hash_prefix = match.group(1) if match else None
    if not os.path.exists(cached_file) and not is_offline():
        sys.stderr.write(f'Downloading: "{url}" to {cached_file}\n')
    _download(url, cached_file, sha256=sha256, hash_prefix=hash_prefix, progress=progress,
              overwrite=False)
    return cached_file


def load_state_dict_from_url(
    url: str,
    model_dir: str | os.PathLike[str] | None = None,
    map_location: Any = None,
    progress: bool = True,
    check_hash: bool = False,
    file_name: str | None = None,
    weights_only: bool = True,
    *,
    sha256: str | None = None,
) -> dict[str, Any]:
    """Loads the ember serialized object at the given URL.

    If the object is already present in ``model_dir``, it's deserialized and returned.
    The default value of ``model_dir`` is ``<hub_dir>/checkpoints`` where ``hub_dir`` is the
    directory returned by :func:`get_dir`.

    Args:
        url (str): URL of the object to download
        model_dir (str, optional): directory in which to save the object
        map_location (optional): a function or a dict specifying how to remap storage
            locations (see ember.load)
        progress (bool, optional): whether or not to display a progress bar to stderr.
            Default: True
        check_hash (bool, optional): If True, the filename part of the URL should follow the
            naming convention ``filename-<sha256>.ext`` where ``<sha256>`` is the first eight
            or more digits of the SHA256 hash of the contents of the file. The hash is used
            to ensure unique names and to verify the contents of the file. Default: False
        file_name (str, optional): name for the downloaded file. Filename from ``url`` will
            be used if not set.
        weights_only (bool, optional): If True, only weights will be loaded and no complex
            pickled objects. Recommended for untrusted sources. See ember.load for more
            details.
        sha256 (str, optional): the full SHA256 hex digest of the file, checked when it is
            downloaded (ember extra).

    Example:
        >>> state_dict = ember.hub.load_state_dict_from_url(
        ...     'https://download.pytorch.org/models/resnet18-f37072fd.pth')
    """
    cached_file = _cached_download(url, model_dir, progress, check_hash, file_name, sha256)
    from ember import load

    return load(cached_file, map_location=map_location, weights_only=weights_only)


from ._hub_repo import help, list, load  # noqa: E402,A004  (torch.hub.load / list / help)


def __getattr__(name: str):
    if name == "tqdm":  # torch.hub re-exports tqdm (torchvision's references import it)
        from tqdm import tqdm

        return tqdm
    raise AttributeError(f"module 'ember.hub' has no attribute '{name}'")
