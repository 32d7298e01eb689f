"""ember.datasets.DownloadableDataset: mirrors, checksums, missing files, offline mode."""

import hashlib
import io
import os
import tarfile

import pytest
from ember import hub
from ember.datasets import DownloadableDataset

DATA = bytes(range(256)) * 100
MD5 = hashlib.md5(DATA).hexdigest()
SHA = hashlib.sha256(DATA).hexdigest()


def make_dataset(server, mirrors, checksum=MD5, **attrs):
    """A dataset class whose one resource is ``labels.bin`` served at ``mirrors``."""

    class Bytes(DownloadableDataset):
        base_folder = "bytes"
        resources = [([server.url(m) for m in mirrors], "labels.bin", checksum)]

        def __init__(self, root=None, **kwargs):
            super().__init__(root, **kwargs)
            with open(os.path.join(self.raw_folder, "labels.bin"), "rb") as f:
                self.data = f.read()

        def __getitem__(self, index):
            x, y = self.data[index], index % 2
            if self.transform is not None:
                x = self.transform(x)
            if self.target_transform is not None:
                y = self.target_transform(y)
            return x, y

        def __len__(self):
            return len(self.data)

    for name, value in attrs.items():
        setattr(Bytes, name, value)
    return Bytes


def test_first_mirror_404_second_works(server, tmp_path):
    server.add("/b/labels.bin", DATA)
    cls = make_dataset(server, ["/a/labels.bin", "/b/labels.bin"])
    ds = cls(tmp_path, download=True, transform=lambda x: x + 1)
    assert ds.raw_folder == str(tmp_path / "bytes")
    assert len(ds) == len(DATA) and ds[3] == (4, 1)
    assert [r.path for r in server.requests] == ["/a/labels.bin", "/b/labels.bin"]
    assert ds._check_integrity()
    cls(tmp_path, download=True)  # already there: no request
    assert len(server.requests) == 2


def test_mirror_with_bad_checksum_is_skipped(server, tmp_path):
    server.add("/bad/labels.bin", b"not the data")
    server.add("/good/labels.bin", DATA)
    cls = make_dataset(server, ["/bad/labels.bin", "/good/labels.bin"], checksum=f"sha256:{SHA}")
    assert cls(tmp_path, download=True)[0] == (0, 0)


def test_all_mirrors_fail(server, tmp_path):
    cls = make_dataset(server, ["/a/labels.bin", "/b/labels.bin"])
    with pytest.raises(RuntimeError) as info:
        cls(tmp_path, download=True)
    message = str(info.value)
    assert server.url("/a/labels.bin") in message and server.url("/b/labels.bin") in message
    assert "404" in message and str(tmp_path / "bytes" / "labels.bin") in message


def test_missing_files_error_says_what_to_fetch_and_where(server, tmp_path):
    cls = make_dataset(server, ["/a/labels.bin", "/b/labels.bin"])
    with pytest.raises(RuntimeError) as info:
        cls(tmp_path)
    message = str(info.value)
    assert "download=True" in message
    assert str(tmp_path / "bytes" / "labels.bin") in message
    assert server.url("/a/labels.bin") in message and MD5 in message
    assert server.requests == []


def test_offline_download_lists_missing_files(server, tmp_path, monkeypatch):
    monkeypatch.setenv("EMBER_OFFLINE", "1")
    cls = make_dataset(server, ["/a/labels.bin"])
    with pytest.raises(hub.OfflineError) as info:
        cls(tmp_path, download=True)
    assert "EMBER_OFFLINE" in str(info.value)
    assert str(tmp_path / "bytes" / "labels.bin") in str(info.value)
    assert server.requests == []
    (tmp_path / "bytes").mkdir()
    (tmp_path / "bytes" / "labels.bin").write_bytes(DATA)  # put there by hand
    assert len(cls(tmp_path, download=True)) == len(DATA)


def test_default_root_is_the_datasets_cache(server):
    server.add("/a/labels.bin", DATA)
    ds = make_dataset(server, ["/a/labels.bin"])(download=True)
    assert ds.root == hub.get_datasets_dir()
    assert "Number of datapoints: 25600" in repr(ds) and ds.root in repr(ds)


def test_archives_are_extracted(server, tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("inner/labels.txt")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"abc"))
    server.add("/pack.tgz", buf.getvalue())

    class Packed(DownloadableDataset):
        resources = [(server.url("/pack.tgz"), "pack.tgz", None)]
        extract_archives = True

        def _check_exists(self):
            return os.path.isfile(os.path.join(self.raw_folder, "inner", "labels.txt"))

    Packed(tmp_path, download=True)
    assert (tmp_path / "inner" / "labels.txt").read_bytes() == b"abc"


def test_base_methods_are_abstract(tmp_path):
    ds = DownloadableDataset(tmp_path)  # no resources: nothing missing
    with pytest.raises(NotImplementedError):
        ds[0]
    with pytest.raises(NotImplementedError):
        len(ds)
    assert repr(ds).startswith("Dataset DownloadableDataset")
