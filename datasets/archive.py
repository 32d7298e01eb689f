"""Safe archive extraction: zip, tar (plain, gz, bz2, xz) and single compressed files.

Extraction is a security boundary. Every member of an archive is checked before anything is
written, and the whole archive is refused (:class:`UnsafeArchiveError`, naming the member)
if one member would land outside the target folder: an absolute name, a ``..`` component, a
symbolic or hard link whose target leaves the folder (links inside the archive are followed
when checking, so a chain of links cannot escape either), a path through a symlink already on
disk that leads out, or a device file or FIFO.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import re
import tarfile
import zipfile
from collections.abc import Callable, Sequence

__all__ = ["UnsafeArchiveError", "extract_archive"]

_ARCHIVE_TYPES = (".tar", ".zip")
_COMPRESSIONS: dict[str, Callable] = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
_ALIASES = {
    ".tgz": (".tar", ".gz"),
    ".tbz": (".tar", ".bz2"),
    ".tbz2": (".tar", ".bz2"),
    ".txz": (".tar", ".xz"),
}
_MAX_LINK_HOPS = 40
_DRIVE = re.compile(r"^[A-Za-z]:")


class UnsafeArchiveError(RuntimeError):
    """An archive member would be written outside the target folder, or is a special file."""


def _detect_file_type(path: str) -> tuple[str, str | None, str | None]:
    """Return (suffix, archive type, compression) of ``path`` from its name."""
    suffixes = [s.lower() for s in os.path.basename(path).split(".")[1:]]
    suffixes = ["." + s for s in suffixes]
    if not suffixes:
        raise RuntimeError(f"File '{path}' has no suffixes that could be used to detect the "
                           "archive type and compression.")
    last = suffixes[-1]
    if last in _ALIASES:
        return (last, *_ALIASES[last])
    if last in _ARCHIVE_TYPES:
        return last, last, None
    if last in _COMPRESSIONS:
        if len(suffixes) > 1 and suffixes[-2] == ".tar":
            return ".tar" + last, ".tar", last
        return last, None, last
    known = sorted([*_ALIASES, *_ARCHIVE_TYPES, *_COMPRESSIONS])
    raise RuntimeError(f"Unknown compression or archive type: '{last}' of '{path}'. "
                       f"Known suffixes are: {', '.join(known)}.")


def extract_archive(
    from_path: str | os.PathLike[str],
    to_path: str | os.PathLike[str] | None = None,
    remove_finished: bool = False,
) -> str:
    """Extract an archive.

    The archive type and a possible compression is automatically detected from the file name.
    If the file is compressed but not an archive the call is dispatched to decompress it.

    Args:
        from_path (str): Path to the file to be extracted.
        to_path (str): Path to the directory the file will be extracted to. If omitted, the
            directory of the file is used.
        remove_finished (bool): If ``True``, remove the file after the extraction.

    Returns:
        (str): Path to the directory the file was extracted to (for a compressed file that is
        not an archive, the path of the decompressed file).

    Raises:
        UnsafeArchiveError: a member would land outside ``to_path`` or is a device file;
            nothing has been written.
    """
    from_path = os.fspath(from_path)
    to_path = os.path.dirname(from_path) if to_path is None else os.fspath(to_path)
    suffix, archive_type, compression = _detect_file_type(from_path)
    os.makedirs(to_path, exist_ok=True)
    if archive_type is None:
        name = os.path.basename(from_path)[: -len(suffix)]
        result = os.path.join(to_path, name)
        _decompress(from_path, result, _COMPRESSIONS[compression])
    elif archive_type == ".zip":
        result = to_path
        _extract_zip(from_path, to_path)
    else:
        result = to_path
        _extract_tar(from_path, to_path)
    if remove_finished:
        os.remove(from_path)
    return result


# -- checks --------------------------------------------------------------------------------


def _name_parts(name: str, what: str) -> list[str]:
    """Split an archive member name; refuse absolute names and ``..`` components."""
    if name.startswith(("/", "\\")) or _DRIVE.match(name) or os.path.isabs(name):
        raise UnsafeArchiveError(f"refusing to extract {what}: absolute path")
    if ".." in re.split(r"[/\\]", name):
        raise UnsafeArchiveError(f"refusing to extract {what}: '..' in path")
    return [p for p in name.split("/") if p not in ("", ".")]


class _Layout:
    """The target folder as it will look after extraction: disk plus the archive's symlinks."""

    def __init__(self, root: str, symlinks: dict[tuple[str, ...], str]):
        self.root = os.path.realpath(root)
        self.symlinks = symlinks

    def resolve(self, parts: Sequence[str], follow_last: bool) -> tuple[str, ...] | None:
        """Follow the archive's symlinks along ``parts``; None if the path leaves the root."""
        out: list[str] = []
        queue = list(parts)
        hops = 0
        while queue:
            part = queue.pop(0)
            if part in ("", "."):
                continue
            if part == "..":
                if not out:
                    return None
                out.pop()
                continue
            out.append(part)
            target = self.symlinks.get(tuple(out))
            if target is not None and (queue or follow_last):
                hops += 1
                if hops > _MAX_LINK_HOPS or target.startswith("/"):
                    return None
                out.pop()
                queue = target.split("/") + queue
        return tuple(out)

    def check(self, parts: Sequence[str], follow_last: bool, what: str) -> None:
        resolved = self.resolve(parts, follow_last)
        if resolved is not None:
            # Symlinks already on disk inside the target count too.
            real = os.path.realpath(os.path.join(self.root, *resolved))
            if os.path.commonpath([self.root, real]) == self.root:
                return
        raise UnsafeArchiveError(f"refusing to extract {what}: it leads outside {self.root}")


def _check_tar_members(members: list[tarfile.TarInfo], to_path: str) -> list[tarfile.TarInfo]:
    parsed = []
    symlinks: dict[tuple[str, ...], str] = {}
    for m in members:
        what = f"member {m.name!r}"
        if not (m.isreg() or m.isdir() or m.issym() or m.islnk()):
            kind = "device file" if m.ischr() or m.isblk() else "FIFO" if m.isfifo() else "file"
            raise UnsafeArchiveError(f"refusing to extract {what}: special {kind}")
        parts = _name_parts(m.name, what)
        if not parts and not m.isdir():
            raise UnsafeArchiveError(f"refusing to extract {what}: it names the target folder")
        if m.issym():
            if m.linkname.startswith(("/", "\\")) or _DRIVE.match(m.linkname):
                raise UnsafeArchiveError(
                    f"refusing to extract {what}: symlink to absolute path {m.linkname!r}")
            symlinks[tuple(parts)] = m.linkname
        parsed.append((m, parts, what))
    layout = _Layout(to_path, symlinks)
    for m, parts, what in parsed:
        layout.check(parts, follow_last=False, what=what)
        if m.issym():
            target = parts[:-1] + m.linkname.split("/")
            layout.check(target, True, f"{what} (symlink to {m.linkname!r})")
        elif m.islnk():
            link_parts = _name_parts(m.linkname, f"{what} (hard link to {m.linkname!r})")
            layout.check(link_parts, True, f"{what} (hard link to {m.linkname!r})")
    return [m for m, _, _ in parsed]


def _check_zip_members(names: list[str], to_path: str) -> None:
    layout = _Layout(to_path, {})
    for name in names:
        what = f"member {name!r}"
        layout.check(_name_parts(name, what), False, what)


# -- extractors ----------------------------------------------------------------------------


def _extract_tar(from_path: str, to_path: str) -> None:
    with tarfile.open(from_path, "r:*") as tar:
        members = _check_tar_members(tar.getmembers(), to_path)
        if hasattr(tarfile, "data_filter"):  # Python >= 3.10.12 / 3.11.4: a second guard.
            tar.extractall(to_path, members=members, filter="data")
        else:  # pragma: no cover - old interpreters; the checks above are the guard.
            tar.extractall(to_path, members=members)


def _extract_zip(from_path: str, to_path: str) -> None:
    with zipfile.ZipFile(from_path) as archive:
        names = archive.namelist()
        _check_zip_members(names, to_path)
        archive.extractall(to_path, members=names)


def _decompress(from_path: str, to_file: str, opener: Callable) -> None:
    partial = to_file + ".partial"
    try:
        with opener(from_path, "rb") as src, open(partial, "wb") as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
        os.replace(partial, to_file)
    finally:
        if os.path.exists(partial):
            os.remove(partial)
