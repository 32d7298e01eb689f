"""ember.datasets.utils: download_url, check_integrity, download_and_extract_archive."""

import hashlib
import io
import os
import tarfile

import pytest
from ember import hub
from ember.datasets import (
    calculate_md5,
    calculate_sha256,
    check_integrity,
    download_and_extract_archive,
    download_url,
)

DATA = os.urandom(200_000)
MD5 = hashlib.md5(DATA).hexdigest()
SHA = hashlib.sha256(DATA).hexdigest()


def test_checksum_helpers(tmp_path):
    f = tmp_path / "f.bin"
    f.write_bytes(DATA)
    assert calculate_md5(f) == MD5 and calculate_sha256(f, chunk_size=1000) == SHA
    assert check_integrity(f) and check_integrity(f, MD5) and check_integrity(f, sha256=SHA)
    assert check_integrity(f, MD5.upper(), SHA)
    assert not check_integrity(f, "0" * 32) and not check_integrity(f, MD5, "0" * 64)
    assert not check_integrity(tmp_path / "missing.bin")


def test_download_url_with_md5_then_reuses_verified_file(server, tmp_path):
    url = server.add("/d/train.bin", DATA) + "?download=1"
    download_url(url, tmp_path / "root", md5=MD5)
    assert (tmp_path / "root" / "train.bin").read_bytes() == DATA
    download_url(url, tmp_path / "root", md5=MD5, sha256=SHA)  # verified: no request
    assert len(server.hits("/d/train.bin")) == 1


def test_download_url_replaces_corrupt_file(server, tmp_path):
    url = server.add("/train.bin", DATA)
    (tmp_path / "train.bin").write_bytes(b"corrupt")
    download_url(url, tmp_path, sha256=SHA)
    assert (tmp_path / "train.bin").read_bytes() == DATA


def test_download_url_md5_mismatch(server, tmp_path):
    url = server.add("/train.bin", DATA)
    with pytest.raises(RuntimeError) as info:
        download_url(url, tmp_path, filename="renamed.bin", md5="0" * 32)
    assert "0" * 32 in str(info.value) and MD5 in str(info.value)
    assert [n for n in os.listdir(tmp_path) if not n.endswith(".lock")] == []


def test_download_url_resumes_after_cut(server, tmp_path):
    url = server.add("/train.bin", DATA, cut="once")
    download_url(url, tmp_path, md5=MD5)
    assert [r.range for r in server.hits("/train.bin")] == [None, f"bytes={len(DATA) // 2}-"]
    assert (tmp_path / "train.bin").read_bytes() == DATA


def test_max_redirect_hops(server, tmp_path):
    server.add("/file.bin", DATA)
    for i in range(4):  # /r0 -> /r1 -> /r2 -> /r3 -> /file.bin
        server.add(f"/r{i}", redirect=f"/r{i + 1}" if i < 3 else "/file.bin")
    download_url(server.url("/r1"), tmp_path, filename="ok.bin", max_redirect_hops=3)
    assert (tmp_path / "ok.bin").read_bytes() == DATA
    with pytest.raises(hub.DownloadError, match="Too many redirects"):
        download_url(server.url("/r0"), tmp_path, filename="far.bin", max_redirect_hops=3)
    assert not (tmp_path / "far.bin").exists()


def test_download_url_offline(server, tmp_path, monkeypatch):
    url = server.add("/train.bin", DATA)
    download_url(url, tmp_path, md5=MD5)
    monkeypatch.setenv("EMBER_OFFLINE", "1")
    download_url(url, tmp_path, md5=MD5)  # present and verified: fine offline
    with pytest.raises(hub.OfflineError, match=str(tmp_path / "test.bin")):
        download_url(server.add("/test.bin", DATA), tmp_path)
    assert len(server.requests) == 1


def test_download_and_extract_archive(server, tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("data/values.bin")
        info.size = len(DATA)
        tar.addfile(info, io.BytesIO(DATA))
    archive = buf.getvalue()
    url = server.add("/pack.tar.gz", archive)
    download_and_extract_archive(url, tmp_path / "dl", tmp_path / "ex",
                                 md5=hashlib.md5(archive).hexdigest(), remove_finished=True)
    assert (tmp_path / "ex" / "data" / "values.bin").read_bytes() == DATA
    assert not (tmp_path / "dl" / "pack.tar.gz").exists()
