"""``ember.hub.load`` / ``list`` / ``help``: models from a repository's ``hubconf.py``, as
``torch.hub``.

A GitHub repository (``owner/name[:ref]``) is downloaded once as a zip archive through the
project's downloader, extracted safely (no absolute paths, no ``..``, no links) into the hub
folder, and its ``hubconf.py`` imported; ``source="local"`` imports a folder's ``hubconf.py``
directly. Running a repository's code is what this is for, so, as in PyTorch, repositories
outside the trusted list are only run with ``trust_repo`` set (``None`` warns, as PyTorch's
current default does).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
import warnings
import zipfile

__all__ = ["load", "list", "help"]

GITHUB_ZIP = "https://github.com/{owner}/{name}/zipball/{ref}"
_TRUSTED_OWNERS = ("facebookresearch", "facebookincubator", "pytorch", "fairinternal")


def _parse(github: str):
    ref = None
    if ":" in github:
        github, ref = github.split(":", 1)
    if github.count("/") != 1:
        raise ValueError(f'Invalid input: repo_or_dir "{github}" must be of the form '
                         f'"repo_owner/repo_name[:ref]"')
    owner, name = github.split("/")
    return owner, name, ref


def _trusted_file() -> str:
    from .hub import get_dir

    return os.path.join(get_dir(), "trusted_list")


def _check_trust(owner: str, name: str, trust_repo, calling_fn: str) -> None:
    path = _trusted_file()
    trusted = set()
    if os.path.exists(path):
        with open(path) as f:
            trusted = {line.strip() for line in f if line.strip()}
    repo = f"{owner}_{name}"
    known = repo in trusted or owner in _TRUSTED_OWNERS
    if trust_repo is None:
        if not known:
            warnings.warn(f"You are about to download and run code from an untrusted "
                          f"repository. In a future release, this won't be allowed. To add "
                          f"the repository to your trusted list, change the command to "
                          f"{calling_fn}(..., trust_repo=False) and a command prompt will "
                          f"appear asking for an explicit confirmation of trust, or "
                          f"{calling_fn}(..., trust_repo=True), which will assume that the "
                          f"prompt is to be answered with 'yes'. You can also use "
                          f"{calling_fn}(..., trust_repo='check') which will only prompt for "
                          f"confirmation if the repo is not already trusted.", stacklevel=4)
        return
    if trust_repo is False or (trust_repo == "check" and not known):
        answer = input(f"The repository {repo} does not belong to the list of trusted "
                       f"repositories and as such cannot be downloaded. Do you trust this "
                       f"repository and wish to add it to the trusted list of repositories "
                       f"(y/N)?")
        if answer.lower() not in ("y", "yes"):
            raise Exception("Untrusted repository.")
    if not known:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "a") as f:
            f.write(repo + "\n")


def _safe_extract_single_folder(archive: str, dest: str) -> None:
    """Extracts the zip's single top folder as ``dest`` (replacing it atomically)."""
    parent = os.path.dirname(dest)
    with tempfile.TemporaryDirectory(dir=parent) as tmp, zipfile.ZipFile(archive) as zf:
        root = os.path.realpath(tmp)
        for info in zf.infolist():
            target = os.path.realpath(os.path.join(tmp, info.filename))
            if os.path.isabs(info.filename) or not (target == root or
                                                    target.startswith(root + os.sep)):
                raise RuntimeError(f"ember.hub: archive member {info.filename!r} would be "
                                   f"written outside its folder")
            if (info.external_attr >> 16) & 0o170000 == 0o120000:
                raise RuntimeError(f"ember.hub: archive member {info.filename!r} is a link")
        zf.extractall(tmp)
        tops = os.listdir(tmp)
        if len(tops) != 1 or not os.path.isdir(os.path.join(tmp, tops[0])):
            raise RuntimeError("ember.hub: the repository archive must hold one top folder")
        if os.path.exists(dest):
            shutil.rmtree(dest)
        os.replace(os.path.join(tmp, tops[0]), dest)


def _repo_dir(github: str, force_reload: bool, trust_repo, calling_fn: str,
              verbose: bool) -> str:
    from ._download import download
    from .hub import get_dir

    owner, name, ref = _parse(github)
    _check_trust(owner, name, trust_repo, calling_fn)
    hub_dir = get_dir()
    os.makedirs(hub_dir, exist_ok=True)
    refs = [ref] if ref else ["main", "master"]
    for i, r in enumerate(refs):
        repo_dir = os.path.join(hub_dir, "_".join([owner, name, r.replace("/", "_")]))
        if os.path.exists(repo_dir) and not force_reload:
            if verbose:
                sys.stderr.write(f"Using cache found in {repo_dir}\n")
            return repo_dir
        archive = repo_dir + ".zip"
        try:
            download(GITHUB_ZIP.format(owner=owner, name=name, ref=r), archive,
                     progress=verbose)
        except Exception:
            if i + 1 < len(refs):
                continue
            raise
        try:
            _safe_extract_single_folder(archive, repo_dir)
        finally:
            os.remove(archive)
        return repo_dir
    raise AssertionError("unreachable")


def _import_hubconf(repo_dir: str):
    path = os.path.join(repo_dir, "hubconf.py")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path} not found: the repository has no hubconf.py")
    spec = importlib.util.spec_from_file_location("hubconf", path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, repo_dir)
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(repo_dir)
    missing = [d for d in getattr(module, "dependencies", [])
               if importlib.util.find_spec(d) is None]
    if missing:
        raise RuntimeError(f"Missing dependencies: {', '.join(missing)}")
    return module


def _entry(module, model: str):
    if not isinstance(model, str):
        raise ValueError("Invalid input: model should be a string of function name")
    fn = getattr(module, model, None)
    if fn is None or not callable(fn):
        raise RuntimeError(f"Cannot find callable {model} in hubconf")
    return fn


def _resolve(repo_or_dir: str, source: str, force_reload, trust_repo, calling_fn, verbose):
    source = source.lower()
    if source not in ("github", "local"):
        raise ValueError(f'Unknown source: "{source}". Allowed values: "github" | "local".')
    if source == "github":
        return _repo_dir(repo_or_dir, force_reload, trust_repo, calling_fn, verbose)
    return repo_or_dir


def list(github: str, force_reload: bool = False, skip_validation: bool = False,  # noqa: A001
         trust_repo=None, verbose: bool = True):
    """The names of the entrypoints ``github``'s hubconf.py offers."""
    module = _import_hubconf(_repo_dir(github, force_reload, trust_repo, "list", verbose))
    return [f for f in dir(module) if callable(getattr(module, f)) and not f.startswith("_")]


def help(github: str, model: str, force_reload: bool = False,  # noqa: A001
         skip_validation: bool = False, trust_repo=None) -> str:
    """The docstring of entrypoint ``model``."""
    module = _import_hubconf(_repo_dir(github, force_reload, trust_repo, "help", True))
    return _entry(module, model).__doc__


def load(repo_or_dir: str, model: str, *args, source: str = "github", trust_repo=None,
         force_reload: bool = False, verbose: bool = True, skip_validation: bool = False,
         **kwargs):
    """Calls entrypoint ``model`` of a repository's hubconf.py with ``args``/``kwargs``."""
    repo_dir = _resolve(repo_or_dir, source, force_reload, trust_repo, "load", verbose)
    module = _import_hubconf(repo_dir)
    sys.path.insert(0, repo_dir)
    try:
        return _entry(module, model)(*args, **kwargs)
    finally:
        sys.path.remove(repo_dir)

