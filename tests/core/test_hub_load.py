"""ember.hub.load / list / help: a repository's hubconf.py, from a local folder or from a
GitHub-style zip served by a local HTTP server (no network)."""

import io
import sys
import zipfile
from pathlib import Path

import ember
import ember._hub_repo
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests/http_server.py
from http_server import isolate_environment, running_server  # noqa: E402

HUBCONF = '''
"""A tiny hub repository."""
dependencies = ["numpy"]

import ember
from helper import width


def tiny(n=2, bias=True):
    """A linear layer of the given width."""
    ember.manual_seed(0)
    return ember.nn.Linear(width(n), 1, bias=bias)


def _private():
    return None
'''


def _zip(files: dict, top: str = "owner-repo-abc123") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in files.items():
            zf.writestr(f"{top}/{name}" if top else name, text)
    return buf.getvalue()


FILES = {"hubconf.py": HUBCONF, "helper.py": "def width(n):\n    return n * 2\n"}


@pytest.fixture
def server(monkeypatch, tmp_path):
    isolate_environment(monkeypatch, tmp_path)
    with running_server() as srv:
        monkeypatch.setattr(ember._hub_repo, "GITHUB_ZIP",
                            srv.url("/{owner}/{name}/zipball/{ref}"))
        yield srv


def test_load_from_a_local_folder(tmp_path):
    for name, text in FILES.items():
        (tmp_path / name).write_text(text)
    m = ember.hub.load(str(tmp_path), "tiny", 3, source="local", bias=False)
    assert isinstance(m, ember.nn.Linear) and m.in_features == 6 and m.bias is None
    with pytest.raises(RuntimeError, match="Cannot find callable nope"):
        ember.hub.load(str(tmp_path), "nope", source="local")
    with pytest.raises(ValueError, match="Unknown source"):
        ember.hub.load(str(tmp_path), "tiny", source="gitlab")


def test_load_list_help_from_github_zip(server):
    server.add("/owner/repo/zipball/main", _zip(FILES))
    with pytest.warns(UserWarning, match="untrusted repository"):
        m = ember.hub.load("owner/repo", "tiny", 4)
    assert m.in_features == 8
    # cached now: trust_repo=True records the repo, and no second download happens
    hits = len(server.hits("/owner/repo/zipball/main"))
    # as torch.hub.list: every public callable in hubconf, imported ones included
    assert ember.hub.list("owner/repo", trust_repo=True) == ["tiny", "width"]
    assert "linear layer" in ember.hub.help("owner/repo", "tiny", trust_repo=True)
    assert len(server.hits("/owner/repo/zipball/main")) == hits
    m2 = ember.hub.load("owner/repo", "tiny", force_reload=True, trust_repo=True)
    assert m2.in_features == 4 and len(server.hits("/owner/repo/zipball/main")) == hits + 1


def test_default_ref_falls_back_to_master(server):
    server.add("/owner/old/zipball/master", _zip(FILES, top="owner-old-1"))
    assert ember.hub.load("owner/old", "tiny", trust_repo=True).in_features == 4


def test_archive_escaping_its_folder_is_refused(server):
    server.add("/owner/evil/zipball/main", _zip({"../../escape.py": "x = 1"}, top=""))
    with pytest.raises(RuntimeError, match="outside its folder"):
        ember.hub.load("owner/evil", "tiny", trust_repo=True)
    assert not any(p.name == "escape.py" for p in Path(ember.hub.get_dir()).parent.rglob("*"))


def test_missing_dependency_and_bad_repo_name(server, tmp_path):
    server.add("/owner/deps/zipball/main",
               _zip({"hubconf.py": "dependencies = ['surely_not_installed_pkg']\n"}))
    with pytest.raises(RuntimeError, match="Missing dependencies: surely_not_installed_pkg"):
        ember.hub.load("owner/deps", "x", trust_repo=True)
    with pytest.raises(ValueError, match="repo_owner/repo_name"):
        ember.hub.load("no-slash", "x", trust_repo=True)
