"""``ember.version``: version facts programs read from ``torch.version``."""

from __future__ import annotations

from . import __version__

__all__ = ["__version__", "cuda", "hip", "git_version", "debug"]

cuda = None  # ember is not built against a CUDA toolkit (CuPy brings its own)
hip = None
rocm = None
xpu = None
debug = False
git_version = "unknown"
