"""ember.hub: cache layout and the streaming downloader, against a local HTTP server."""

import hashlib
import io
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import ember
import ember._download
import pytest
from ember import hub

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests/http_server.py
from http_server import isolate_environment, running_server  # noqa: E402

DATA = os.urandom(300_000)  # several chunks
SHA = hashlib.sha256(DATA).hexdigest()


@pytest.fixture
def server(monkeypatch, tmp_path):
    isolate_environment(monkeypatch, tmp_path)
    with running_server() as srv:
        yield srv


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".partial"))


# -- cache layout --------------------------------------------------------------------------


def test_cache_dirs_follow_ember_home(monkeypatch, tmp_path):
    monkeypatch.setenv("EMBER_HOME", str(tmp_path))
    assert hub.get_ember_home() == str(tmp_path)
    assert hub.get_dir() == str(tmp_path / "hub")
    assert hub.get_checkpoints_dir() == str(tmp_path / "hub" / "checkpoints")
    assert hub.get_models_dir() == str(tmp_path / "hub" / "models")
    assert hub.get_datasets_dir() == str(tmp_path / "datasets")
    monkeypatch.delenv("EMBER_HOME")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert hub.get_ember_home() == os.path.expanduser("~/.cache/ember")


def test_set_dir_moves_hub_not_datasets(monkeypatch, tmp_path):
    monkeypatch.setenv("EMBER_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(hub, "_hub_dir", None)
    hub.set_dir(tmp_path / "elsewhere")
    assert hub.get_dir() == str(tmp_path / "elsewhere")
    assert hub.get_checkpoints_dir() == str(tmp_path / "elsewhere" / "checkpoints")
    assert hub.get_datasets_dir() == str(tmp_path / "home" / "datasets")


# -- downloads -----------------------------------------------------------------------------


def test_good_download(server, tmp_path):
    url = server.add("/w.bin", DATA)
    dst = tmp_path / "out" / "w.bin"
    hub.download_url_to_file(url, dst, hash_prefix=SHA[:8], progress=False, sha256=SHA)
    assert dst.read_bytes() == DATA
    assert _leftovers(dst.parent) == []
    assert [r.range for r in server.hits("/w.bin")] == [None]


@pytest.mark.parametrize("kind", ["sha256", "hash_prefix"])
def test_wrong_checksum_deletes_file_and_names_both_hashes(server, tmp_path, kind):
    url = server.add("/w.bin", DATA)
    dst = tmp_path / "w.bin"
    wrong = "0" * 64 if kind == "sha256" else "deadbeef"
    with pytest.raises(RuntimeError) as info:
        hub.download_url_to_file(url, dst, progress=False, **{kind: wrong})
    assert isinstance(info.value, hub.ChecksumError)
    assert wrong in str(info.value) and SHA in str(info.value)
    assert not dst.exists() and _leftovers(tmp_path) == []


def test_cut_connection_resumes_with_range(server, tmp_path):
    url = server.add("/w.bin", DATA, cut="once")
    dst = tmp_path / "w.bin"
    hub.download_url_to_file(url, dst, progress=False, sha256=SHA)
    ranges = [r.range for r in server.hits("/w.bin")]
    assert ranges == [None, f"bytes={len(DATA) // 2}-"]
    assert hashlib.sha256(dst.read_bytes()).hexdigest() == SHA


def test_server_ignoring_range_restarts(server, tmp_path):
    url = server.add("/w.bin", DATA, cut="once", ignore_range=True)
    dst = tmp_path / "w.bin"
    hub.download_url_to_file(url, dst, progress=False, sha256=SHA)
    ranges = [r.range for r in server.hits("/w.bin")]
    assert ranges == [None, f"bytes={len(DATA) // 2}-"]  # asked to resume, got a 200
    assert dst.read_bytes() == DATA


def test_partial_file_from_earlier_call_is_resumed(server, tmp_path):
    url = server.add("/w.bin", DATA)
    dst = tmp_path / "w.bin"
    (tmp_path / "w.bin.partial").write_bytes(DATA[:1000])
    hub.download_url_to_file(url, dst, progress=False, sha256=SHA)
    assert [r.range for r in server.hits("/w.bin")] == ["bytes=1000-"]
    assert dst.read_bytes() == DATA


def test_partial_longer_than_file_starts_over(server, tmp_path):
    url = server.add("/w.bin", DATA)
    dst = tmp_path / "w.bin"
    (tmp_path / "w.bin.partial").write_bytes(DATA + b"junk")
    hub.download_url_to_file(url, dst, progress=False, sha256=SHA)
    assert [r.range for r in server.hits("/w.bin")] == [f"bytes={len(DATA) + 4}-", None]
    assert dst.read_bytes() == DATA


def test_retries_are_bounded_and_keep_the_partial(server, tmp_path):
    url = server.add("/w.bin", DATA, cut="always", ignore_range=True)
    dst = tmp_path / "w.bin"
    with pytest.raises(hub.DownloadError, match="failed 5 times"):
        hub.download_url_to_file(url, dst, progress=False)
    assert len(server.hits("/w.bin")) == ember._download.MAX_ATTEMPTS == 5
    assert not dst.exists()
    assert (tmp_path / "w.bin.partial").read_bytes() == DATA[: len(DATA) // 2]


def test_transient_server_error_is_retried(server, tmp_path):
    url = server.add("/w.bin", DATA, status=503, status_once=True)
    dst = tmp_path / "w.bin"
    hub.download_url_to_file(url, dst, progress=False, sha256=SHA)
    assert len(server.hits("/w.bin")) == 2 and dst.read_bytes() == DATA


def test_404_names_url_and_status(server, tmp_path):
    url = server.url("/missing.pth")
    with pytest.raises(hub.DownloadError) as info:
        hub.download_url_to_file(url, tmp_path / "m.pth", progress=False)
    assert info.value.status == 404 and info.value.url == url
    assert "404" in str(info.value) and url in str(info.value)
    assert len(server.hits("/missing.pth")) == 1  # a client error is not retried
    assert _leftovers(tmp_path) == [] and not (tmp_path / "m.pth").exists()


def test_progress_bar_only_on_a_terminal(server, tmp_path, monkeypatch, capsys):
    url = server.add("/w.bin", DATA)
    hub.download_url_to_file(url, tmp_path / "a.bin", progress=True)
    assert capsys.readouterr().err == ""  # captured stderr is not a terminal

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    term = Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    hub.download_url_to_file(url, tmp_path / "b.bin", progress=True)
    assert "b.bin" in term.getvalue() and "100%" in term.getvalue()
    hub.download_url_to_file(url, tmp_path / "c.bin", progress=False)
    assert "c.bin" not in term.getvalue()


# -- the cache (load_state_dict_from_url up to the file it loads) ---------------------------


def test_cached_download_checks_hash_in_file_name(server, tmp_path):
    url = server.add(f"/models/net-{SHA[:8]}.pth", DATA)
    path = hub._cached_download(url, progress=False, check_hash=True)
    assert path == os.path.join(hub.get_checkpoints_dir(), f"net-{SHA[:8]}.pth")
    assert Path(path).read_bytes() == DATA
    assert hub._cached_download(url, progress=False, check_hash=True) == path
    assert len(server.hits(f"/models/net-{SHA[:8]}.pth")) == 1  # second call: from cache


def test_cached_download_rejects_wrong_hash_in_file_name(server, tmp_path):
    url = server.add("/net-12345678.pth", DATA)
    with pytest.raises(RuntimeError, match=f'expected "12345678", got "{SHA}"'):
        hub._cached_download(url, progress=False, check_hash=True)
    assert not os.path.exists(os.path.join(hub.get_checkpoints_dir(), "net-12345678.pth"))
    # Without check_hash the name is just a name (torch.hub's behaviour).
    assert Path(hub._cached_download(url, progress=False)).read_bytes() == DATA


def test_cached_download_file_name_and_model_dir(server, tmp_path):
    url = server.add("/a/b/weights.pth", DATA) + "?token=x"
    path = hub._cached_download(url, tmp_path / "mine", False, file_name="renamed.pth",
                                sha256=SHA)
    assert path == str(tmp_path / "mine" / "renamed.pth")
    assert Path(path).read_bytes() == DATA


def test_load_state_dict_from_url_loads_the_cached_file(server, monkeypatch):
    url = server.add(f"/net-{SHA[:8]}.pth", DATA)
    calls = []

    def fake_load(f, map_location=None, weights_only=True):
        calls.append((f, map_location, weights_only))
        return {"ok": True}

    monkeypatch.setattr(ember, "load", fake_load, raising=False)
    out = hub.load_state_dict_from_url(url, map_location="cpu", progress=False, check_hash=True)
    assert out == {"ok": True}
    assert calls == [(os.path.join(hub.get_checkpoints_dir(), f"net-{SHA[:8]}.pth"), "cpu", True)]


def test_offline_uses_cache_and_names_missing_file(server, monkeypatch):
    url = server.add("/w.pth", DATA)
    cached = hub._cached_download(url, progress=False)
    monkeypatch.setenv("EMBER_OFFLINE", "1")
    assert hub._cached_download(url, progress=False) == cached
    other = server.add("/other.pth", DATA)
    with pytest.raises(hub.OfflineError) as info:
        hub._cached_download(other, progress=False)
    message = str(info.value)
    assert "EMBER_OFFLINE" in message and other in message
    assert os.path.join(hub.get_checkpoints_dir(), "other.pth") in message
    assert isinstance(info.value, FileNotFoundError)
    with pytest.raises(hub.OfflineError):
        hub.download_url_to_file(url, cached + ".copy", progress=False)
    assert len(server.requests) == 1  # only the first, online download


_WORKER = textwrap.dedent("""
    import sys
    from ember import hub
    print(hub._cached_download(sys.argv[1], sys.argv[2], progress=False, check_hash=True))
""")


def test_two_processes_download_one_file_once(server, tmp_path):
    name = f"/big-{SHA[:10]}.pth"
    url = server.add(name, DATA, chunk_delay=0.1)  # about 0.5 s to serve
    model_dir = tmp_path / "cache"

    def start():
        return subprocess.Popen([sys.executable, "-c", _WORKER, url, str(model_dir)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    first = start()
    deadline = time.monotonic() + 30
    while not server.hits(name) and time.monotonic() < deadline:  # first one is downloading
        time.sleep(0.01)
    second = start()  # finds the lock taken, waits, then finds the file there
    for p in (first, second):
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
        assert out.strip() == str(model_dir / name[1:])
    assert (model_dir / name[1:]).read_bytes() == DATA
    assert len(server.hits(name)) == 1
    assert _leftovers(model_dir) == []
