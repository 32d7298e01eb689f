"""Model names on the Hugging Face hub, resolved to pinned revisions and downloaded through
``ember.hub`` into ``$EMBER_HOME/hub/models/<name>/<revision>/``.

A name such as ``"gpt2"`` or ``"bert-base-uncased"`` maps to one commit of the publisher's
repository, so a name always means the same files; ``revision=`` picks another commit (or
``"main"``). The URL of a file is ``{ENDPOINT}/<name>/resolve/<revision>/<file>``;
``EMBER_HF_ENDPOINT`` replaces the endpoint (a mirror, or a local server in tests).
"""

from __future__ import annotations

import os

__all__ = ["PINNED_REVISIONS", "ENDPOINT", "resolve_file", "hub_url", "model_folder",
           "EntryNotFoundError"]

ENDPOINT = "https://huggingface.co"

# Commits of the publishers' repositories (the revision each name resolves to).
PINNED_REVISIONS: dict[str, str] = {
    "gpt2": "607a30d783dfa663caf39e06633721c8d4cfcd7e",
    "openai-community/gpt2": "607a30d783dfa663caf39e06633721c8d4cfcd7e",
    "gpt2-medium": "6dcaa7a952f72f9298047fd5137cd6e4f05f41da",
    "openai-community/gpt2-medium": "6dcaa7a952f72f9298047fd5137cd6e4f05f41da",
    "gpt2-large": "32b71b12589c2f8d625668d2335a01cac3249519",
    "openai-community/gpt2-large": "32b71b12589c2f8d625668d2335a01cac3249519",
    "gpt2-xl": "15ea56dee5df4983c59b2538573817e1667135e2",
    "openai-community/gpt2-xl": "15ea56dee5df4983c59b2538573817e1667135e2",
    "bert-base-uncased": "86b5e0934494bd15c9632b12f734a8a67f723594",
    "google-bert/bert-base-uncased": "86b5e0934494bd15c9632b12f734a8a67f723594",
    "bert-base-cased": "cd5ef92a9fb2f889e972770a36d4ed042daf221e",
    "google-bert/bert-base-cased": "cd5ef92a9fb2f889e972770a36d4ed042daf221e",
    "bert-large-uncased": "6da4b6a26a1877e173fca3225479512db81a5e5b",
    "google-bert/bert-large-uncased": "6da4b6a26a1877e173fca3225479512db81a5e5b",
    "sentence-transformers/all-MiniLM-L6-v2": "c9745ed1d9f207416be6d2e6f8de32d1f16199bf",
}


class EntryNotFoundError(FileNotFoundError):
    """The repository has no such file (the server answered 404)."""


def _endpoint() -> str:
    return os.environ.get("EMBER_HF_ENDPOINT", ENDPOINT).rstrip("/")


def _revision(name: str, revision: str | None) -> str:
    if revision is not None:
        return revision
    return PINNED_REVISIONS.get(name, "main")


def hub_url(name: str, filename: str, revision: str | None = None) -> str:
    """The download URL of ``filename`` in model repository ``name``."""
    return f"{_endpoint()}/{name}/resolve/{_revision(name, revision)}/{filename}"


def model_folder(name: str, revision: str | None = None) -> str:
    """Where the files of ``name`` at ``revision`` are cached."""
    from ember.hub import get_models_dir

    safe = name.replace("/", "--")
    return os.path.join(get_models_dir(), safe, _revision(name, revision))


def resolve_file(name_or_path: str, filename: str, *, revision: str | None = None,
                 required: bool = True) -> str | None:
    """The local path of ``filename`` for a folder or a hub model name.

    A folder is looked in; a name is downloaded once into :func:`model_folder`. A missing
    file raises :class:`EntryNotFoundError` (``FileNotFoundError``), or returns ``None``
    when ``required=False``.
    """
    path = os.fspath(name_or_path)
    if os.path.isdir(path):
        file = os.path.join(path, filename)
        if os.path.isfile(file):
            return file
        if required:
            raise EntryNotFoundError(f"{path} has no file {filename}")
        return None
    if path.startswith((".", "/", "~")) or path.count("/") > 1:
        raise FileNotFoundError(f"{path} is neither a folder nor a model name on the hub")
    folder = model_folder(path, revision)
    local = os.path.join(folder, filename)
    if os.path.isfile(local):
        return local
    missing = local + ".missing"  # remembers a 404 so optional files are not asked again
    if os.path.exists(missing):
        if required:
            raise EntryNotFoundError(f"{path} has no file {filename}")
        return None
    from ember.hub import DownloadError, download_url_to_file

    os.makedirs(folder, exist_ok=True)
    url = hub_url(path, filename, revision)
    try:
        download_url_to_file(url, local, progress=True)
    except DownloadError as e:
        if getattr(e, "status", None) != 404:
            raise
        open(missing, "w").close()
        if required:
            raise EntryNotFoundError(f"{path} has no file {filename} ({url})") from e
        return None
    return local
