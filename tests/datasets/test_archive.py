"""ember.datasets.extract_archive: every format extracts; hostile archives write nothing."""

import bz2
import gzip
import io
import lzma
import os
import tarfile
import zipfile
from pathlib import Path

import pytest
from ember.datasets import UnsafeArchiveError, extract_archive

FILES = {"top.txt": b"top\n", "sub/inner.bin": os.urandom(5000), "sub/deep/x.txt": b"x"}


def _write_tar(path, mode="w", extra=()):
    with tarfile.open(path, mode) as tar:
        for name, data in FILES.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info, data in extra:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)


def _write_zip(path, names=FILES):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in names.items():
            z.writestr(zipfile.ZipInfo(name), data)


def _assert_tree(folder):
    for name, data in FILES.items():
        assert (folder / name).read_bytes() == data


# -- good archives -------------------------------------------------------------------------


@pytest.mark.parametrize("suffix,mode", [
    (".tar", "w"), (".tar.gz", "w:gz"), (".tgz", "w:gz"), (".tar.bz2", "w:bz2"),
    (".tbz2", "w:bz2"), (".tar.xz", "w:xz"), (".txz", "w:xz"),
])
def test_tar_formats_extract(tmp_path, suffix, mode):
    archive = tmp_path / f"data{suffix}"
    _write_tar(archive, mode)
    out = extract_archive(archive, tmp_path / "out")
    assert out == str(tmp_path / "out")
    _assert_tree(tmp_path / "out")


def test_zip_extracts_next_to_archive_and_removes_it(tmp_path):
    archive = tmp_path / "data.zip"
    _write_zip(archive)
    assert extract_archive(str(archive), remove_finished=True) == str(tmp_path)
    _assert_tree(tmp_path)
    assert not archive.exists()


@pytest.mark.parametrize("suffix,opener", [(".gz", gzip.open), (".bz2", bz2.open),
                                           (".xz", lzma.open)])
def test_single_compressed_file_is_decompressed(tmp_path, suffix, opener):
    data = os.urandom(100_000)
    archive = tmp_path / f"labels.idx1{suffix}"
    with opener(archive, "wb") as f:
        f.write(data)
    out = extract_archive(archive, tmp_path / "raw")
    assert out == str(tmp_path / "raw" / "labels.idx1")
    assert (tmp_path / "raw" / "labels.idx1").read_bytes() == data
    assert sorted(os.listdir(tmp_path / "raw")) == ["labels.idx1"]


def test_links_inside_the_target_are_allowed(tmp_path):
    archive = tmp_path / "links.tar"
    link = tarfile.TarInfo("sub/alias.txt")
    link.type, link.linkname = tarfile.SYMTYPE, "../top.txt"
    hard = tarfile.TarInfo("hard.txt")
    hard.type, hard.linkname = tarfile.LNKTYPE, "top.txt"
    _write_tar(archive, extra=[(link, None), (hard, None)])
    extract_archive(archive, tmp_path / "out")
    assert (tmp_path / "out" / "sub" / "alias.txt").read_bytes() == b"top\n"
    assert (tmp_path / "out" / "hard.txt").read_bytes() == b"top\n"


def test_unknown_suffix(tmp_path):
    (tmp_path / "data.rar").write_bytes(b"")
    with pytest.raises(RuntimeError, match="Unknown compression or archive type"):
        extract_archive(tmp_path / "data.rar")


# -- hostile archives ----------------------------------------------------------------------


def _info(name, type=tarfile.REGTYPE, linkname="", data=b"evil"):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = type, linkname
    info.size = len(data) if type == tarfile.REGTYPE else 0
    return info, (data if type == tarfile.REGTYPE else None)


def _hostile_cases(outside):
    """case -> (members appended after the good ones, the member the error must name)."""
    absolute = str(outside / "abs.txt")
    secret = str(outside / "secret.txt")
    return {
        "dotdot": ([_info("../evil.txt")], "../evil.txt"),
        "dotdot-inner": ([_info("sub/../../evil.txt")], "sub/../../evil.txt"),
        "absolute": ([_info(absolute)], absolute),
        "symlink-out": ([_info("link", tarfile.SYMTYPE, "../outside")], "link"),
        "symlink-absolute": ([_info("link", tarfile.SYMTYPE, str(outside))], "link"),
        # Each link looks harmless on its own (a/.. is '.'), but a is '.', so a/b is '..'.
        "symlink-chain": ([_info("a", tarfile.SYMTYPE, "."),
                           _info("a/b", tarfile.SYMTYPE, "a/.."),
                           _info("a/b/evil.txt")], "a/b"),
        "symlink-loop": ([_info("a", tarfile.SYMTYPE, "b"), _info("b", tarfile.SYMTYPE, "a"),
                          _info("a/evil.txt")], "a"),
        "hardlink-out": ([_info("hard", tarfile.LNKTYPE, "../outside/secret.txt")], "hard"),
        "hardlink-absolute": ([_info("hard", tarfile.LNKTYPE, secret)], "hard"),
        "hardlink-via-symlink": ([_info("l", tarfile.SYMTYPE, "sub/../.."),
                                  _info("hard", tarfile.LNKTYPE, "l/outside/secret.txt")], "l"),
        "char-device": ([_info("null", tarfile.CHRTYPE)], "null"),
        "block-device": ([_info("disk", tarfile.BLKTYPE)], "disk"),
        "fifo": ([_info("pipe", tarfile.FIFOTYPE)], "pipe"),
    }


def _snapshot(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize("case", list(_hostile_cases(Path("/unused"))))
def test_hostile_tar_is_refused_before_writing(tmp_path, case):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    members, bad_name = _hostile_cases(outside)[case]
    archive = tmp_path / "bad.tar"
    _write_tar(archive, extra=members)  # good members first: they must not be written either
    before = _snapshot(tmp_path)
    with pytest.raises(UnsafeArchiveError) as info:
        extract_archive(archive, tmp_path / "target")
    assert f"member {bad_name!r}" in str(info.value)
    after = _snapshot(tmp_path)
    assert [p for p in after if p not in before] == ["target"]  # created, left empty
    assert os.listdir(tmp_path / "target") == []
    assert (outside / "secret.txt").read_text() == "secret"


def test_symlink_already_on_disk_is_not_followed_out(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    target = tmp_path / "target"
    target.mkdir()
    (target / "sub").symlink_to(outside)  # e.g. left behind by an earlier hostile archive
    archive = tmp_path / "bad.zip"
    _write_zip(archive, {"sub/evil.txt": b"evil"})
    with pytest.raises(UnsafeArchiveError, match="sub/evil.txt"):
        extract_archive(archive, target)
    assert os.listdir(outside) == []


@pytest.mark.parametrize("name", ["../evil.txt", "a/../../evil.txt", "/abs/evil.txt",
                                  "..\\evil.txt"])
def test_hostile_zip_is_refused_before_writing(tmp_path, name):
    archive = tmp_path / "bad.zip"
    _write_zip(archive, {**FILES, name: b"evil"})
    assert name in zipfile.ZipFile(archive).namelist()
    before = _snapshot(tmp_path)
    with pytest.raises(UnsafeArchiveError, match="refusing to extract member"):
        extract_archive(archive, tmp_path / "target")
    after = _snapshot(tmp_path)
    assert [p for p in after if p not in before] == ["target"]
    assert os.listdir(tmp_path / "target") == []
    assert not os.path.exists("/abs/evil.txt")
