"""The one streaming downloader behind ``ember.hub`` and ``ember.datasets``.

A download streams into ``<dst>.partial`` in the destination folder while its sha256 (and md5
if asked) is computed, is checked, and only then is renamed onto ``dst`` with ``os.replace``,
so nothing half-written ever sits under the final name. A file lock (``<dst>.lock``) keeps
two processes from writing the same file. A connection that breaks mid-file is resumed with
an HTTP ``Range`` request from the partial file, a bounded number of times; a server that
ignores ``Range`` (answers 200, not 206) makes the download start over.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import sys
import time
import urllib.error
import urllib.request
from typing import Any

__all__ = ["ChecksumError", "DownloadError", "OfflineError", "download", "is_offline"]

USER_AGENT = "ember"
CHUNK_SIZE = 1 << 16
TIMEOUT_S = 30.0
# How many times one call tries to get the whole file (first try included), and the pause
# before try n+1 (RETRY_WAIT_S * n seconds).
MAX_ATTEMPTS = 5
RETRY_WAIT_S = 1.0

_OFFLINE_VALUES = {"1", "true", "yes", "on"}
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")


class DownloadError(OSError):
    """A download failed: HTTP error status, too many redirects, or the connection kept failing.

    ``url`` is the address asked for, ``status`` the HTTP status (``None`` without one).
    """

    def __init__(self, message: str, url: str | None = None, status: int | None = None):
        super().__init__(message)
        self.url = url
        self.status = status

    def __str__(self) -> str:
        return str(self.args[0])


class OfflineError(DownloadError, FileNotFoundError):
    """A file is needed that is not on disk while ``EMBER_OFFLINE`` forbids downloading."""


class ChecksumError(RuntimeError):
    """A downloaded file does not have the expected hash; it has been deleted."""


class _Interrupted(Exception):
    """A try that may succeed if repeated (connection cut, timeout, 5xx)."""


def is_offline() -> bool:
    """True when the environment variable ``EMBER_OFFLINE`` is set to 1/true/yes/on."""
    return os.environ.get("EMBER_OFFLINE", "").strip().lower() in _OFFLINE_VALUES


def offline_error(url: str, dst: str) -> OfflineError:
    """The error raised when ``dst`` is missing in offline mode; says how to fetch it by hand."""
    state = "must be downloaded again" if os.path.exists(dst) else "is missing"
    return OfflineError(
        f"EMBER_OFFLINE is set and the file {dst} {state}, so it cannot be downloaded. "
        f"Download {url} by hand and save it as {dst}, or unset EMBER_OFFLINE.",
        url=url,
    )


def download(
    url: str,
    dst: str | os.PathLike[str],
    *,
    sha256: str | None = None,
    md5: str | None = None,
    hash_prefix: str | None = None,
    progress: bool = True,
    max_redirects: int = 10,
    overwrite: bool = True,
) -> bool:
    """Download ``url`` to ``dst``, verified and atomically; return True if it was downloaded.

    ``sha256``/``md5`` are full hex digests to match, ``hash_prefix`` a prefix of the sha256
    (torch.hub's convention). With ``overwrite=False`` an existing ``dst`` is kept and False
    returned; that check is repeated once the lock is held, so a process that waited for
    another one downloading the same file finds it done instead of downloading it again.
    """
    dst = os.path.abspath(os.fspath(dst))
    if not overwrite and os.path.exists(dst):
        return False
    if is_offline():
        raise offline_error(url, dst)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    from filelock import FileLock

    with FileLock(dst + ".lock"):
        if not overwrite and os.path.exists(dst):
            return False
        _Transfer(url, dst, sha256, md5, hash_prefix, progress, max_redirects).run()
    return True


class _Transfer:
    """One file's download under the lock: tries, resumes, checks and renames."""

    def __init__(self, url, dst, sha256, md5, hash_prefix, progress, max_redirects):
        self.url = url
        self.dst = dst
        self.part = dst + ".partial"
        self.expected = {"sha256": sha256.lower() if sha256 else None,
                         "md5": md5.lower() if md5 else None}
        self.hash_prefix = hash_prefix.lower() if hash_prefix is not None else None
        self.progress = progress
        self.opener = urllib.request.build_opener(_redirect_handler(max_redirects))
        self.max_redirects = max_redirects
        self.offset = 0
        self.hashers: dict[str, Any] = {}

    def run(self) -> None:
        self._load_partial()
        attempt = 0
        while True:
            attempt += 1
            try:
                self._attempt()
                break
            except _Interrupted as e:
                if attempt >= MAX_ATTEMPTS:
                    raise DownloadError(
                        f"Downloading {self.url} failed {attempt} times; last error: {e}. "
                        f"The {self.offset} bytes received are kept in {self.part}; "
                        "calling again resumes from there.",
                        url=self.url,
                    ) from e
                time.sleep(RETRY_WAIT_S * attempt)
        self._verify()
        os.replace(self.part, self.dst)

    # -- partial file -----------------------------------------------------------------------

    def _new_hashers(self) -> None:
        self.hashers = {"sha256": hashlib.sha256()}
        if self.expected["md5"]:
            self.hashers["md5"] = hashlib.md5(usedforsecurity=False)

    def _load_partial(self) -> None:
        """Hash what an earlier, interrupted call left in the partial file."""
        self._new_hashers()
        self.offset = 0
        if not os.path.exists(self.part):
            return
        with open(self.part, "rb") as f:
            while chunk := f.read(1 << 20):
                self._update(chunk)

    def _restart(self) -> None:
        open(self.part, "wb").close()
        self._new_hashers()
        self.offset = 0

    def _update(self, chunk: bytes) -> None:
        for h in self.hashers.values():
            h.update(chunk)
        self.offset += len(chunk)

    # -- one try ----------------------------------------------------------------------------

    def _open(self):
        headers = {"User-Agent": USER_AGENT}
        if self.offset:
            headers["Range"] = f"bytes={self.offset}-"
        request = urllib.request.Request(self.url, headers=headers)
        try:
            return self.opener.open(request, timeout=TIMEOUT_S)
        except urllib.error.HTTPError as e:
            e.close()
            if e.code == 416 and self.offset:
                # The partial file is not a prefix the server can continue: start over.
                offset = self.offset
                self._restart()
                raise _Interrupted(f"HTTP 416 resuming at byte {offset}") from e
            if e.code >= 500 or e.code in (408, 429):
                raise _Interrupted(f"HTTP Error {e.code}: {e.reason}") from e
            if 300 <= e.code < 400:
                raise DownloadError(
                    f"Too many redirects (more than {self.max_redirects}) downloading "
                    f"{self.url}", url=self.url, status=e.code) from e
            raise DownloadError(
                f"HTTP Error {e.code} ({e.reason}) downloading {self.url}",
                url=self.url, status=e.code) from e
        except urllib.error.URLError as e:
            raise _Interrupted(f"cannot reach {self.url}: {e.reason}") from e
        except (OSError, http.client.HTTPException) as e:
            raise _Interrupted(f"{type(e).__name__}: {e}") from e

    def _attempt(self) -> None:
        response = self._open()
        with response:
            total = self._expected_total(response)
            with open(self.part, "ab") as f, self._bar(total) as bar:
                while True:
                    try:
                        chunk = response.read(CHUNK_SIZE)
                    except (OSError, http.client.HTTPException) as e:
                        raise _Interrupted(f"{type(e).__name__}: {e}") from e
                    if not chunk:
                        break
                    f.write(chunk)
                    self._update(chunk)
                    bar.update(len(chunk))
        if total is not None and self.offset != total:
            raise _Interrupted(f"connection closed after {self.offset} of {total} bytes")

    def _expected_total(self, response) -> int | None:
        """Fit the partial file to the response; return the full file size if known."""
        length = response.headers.get("Content-Length")
        length = int(length) if length and length.isdigit() else None
        if self.offset and response.status == 206:
            match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
            if match and int(match.group(1)) == self.offset:
                if match.group(3) != "*":
                    return int(match.group(3))
                return self.offset + length if length is not None else None
            self._restart()
            raise _Interrupted("server resumed at an unexpected offset; starting over")
        if self.offset:  # 200: the server ignored Range and sends the whole file.
            self._restart()
        return length

    def _bar(self, total: int | None):
        from tqdm import tqdm

        show = self.progress and sys.stderr is not None and sys.stderr.isatty()
        return tqdm(total=total, initial=self.offset, unit="B", unit_scale=True,
                    unit_divisor=1024, desc=os.path.basename(self.dst), disable=not show)

    # -- check ------------------------------------------------------------------------------

    def _verify(self) -> None:
        digests = {name: h.hexdigest() for name, h in self.hashers.items()}
        checks = [(name, want, digests[name], digests[name] == want)
                  for name, want in self.expected.items() if want]
        if self.hash_prefix is not None:
            got, want = digests["sha256"], self.hash_prefix
            checks.append(("sha256 prefix", want, got, got.startswith(want)))
        for name, want, got, ok in checks:
            if not ok:
                os.remove(self.part)
                raise ChecksumError(
                    f"Invalid {name} for {self.url}: expected \"{want}\", got \"{got}\". "
                    "The downloaded file was deleted.")


def _redirect_handler(max_redirects: int) -> urllib.request.HTTPRedirectHandler:
    handler = urllib.request.HTTPRedirectHandler()
    handler.max_redirections = max_redirects
    return handler
