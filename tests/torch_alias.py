"""Runs a Python script with ``torch`` imported as ember (``torchvision`` as ember.vision,
``torchaudio`` as ember.audio), the way a PyTorch program or library (timm, transformers)
would see ember if it were installed as torch:

    python tests/torch_alias.py SCRIPT [ARGS...]

Tests start it in a subprocess, so that their own process keeps the real torch to compare
against.
"""

import importlib
import importlib.abc
import importlib.util
import os
import runpy
import sys

ALIASES = {"torch": "ember", "torchvision": "ember.vision", "torchaudio": "ember.audio"}


class TorchAlias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """A meta-path finder that serves ``torch[.x]`` with the module ``ember[.x]``."""

    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in ALIASES:
            return importlib.util.spec_from_loader(name, self)
        return None

    def create_module(self, spec):
        head, _, rest = spec.name.partition(".")
        return importlib.import_module(ALIASES[head] + ("." + rest if rest else ""))

    def exec_module(self, module):
        pass


def main() -> None:
    sys.meta_path.insert(0, TorchAlias())
    script = sys.argv[1]
    sys.argv = sys.argv[1:]
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
