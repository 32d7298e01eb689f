"""soundfile, imported lazily with an error that names the install command."""

from __future__ import annotations

__all__ = ["soundfile_module", "soundfile_available"]


def soundfile_module():
    """The ``soundfile`` module, or an ImportError telling how to install it."""
    try:
        import soundfile
    except (ImportError, OSError) as e:  # OSError: the module is there, libsndfile is not
        raise ImportError("ember.audio needs soundfile to load and save audio: "
                          "pip install 'ember[audio]' (or pip install soundfile)") from e
    return soundfile


def soundfile_available() -> bool:
    """True if ``soundfile`` (and its libsndfile) can be imported."""
    try:
        soundfile_module()
    except ImportError:
        return False
    return True
