"""Unique Python identifiers for the values of a graph.

Each node's name is the variable that holds its value in the generated ``forward``, so
names must be valid identifiers that shadow none of Python's builtins or keywords, nor the
globals the generated code relies on. A taken name gets the first free numeric suffix of its
base (``add``, ``add_1``, ``add_2``; ``features_0`` then ``features_2`` when ``features_1``
is in use), which gives the same names PyTorch's FX gives the same program.
"""

from __future__ import annotations

import builtins
import keyword
import re

__all__ = ["Namespace", "RESERVED"]

# names the generated code reads as globals, besides Python's own
RESERVED = frozenset(dir(builtins)) | frozenset(keyword.kwlist) | frozenset(
    {"self", "ember", "torch", "inf", "nan", "device", "NoneType"})

_NOT_IDENT = re.compile(r"[^0-9a-zA-Z_]+")
_NUMBERED = re.compile(r"^(.*)_(\d+)$")
_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")


def snake_case(s: str) -> str:
    """``MyModule`` -> ``my_module``."""
    return _CAMEL.sub(r"_\1", s).lower()


def as_identifier(candidate: str) -> str:
    """``candidate`` with non-identifier characters replaced by ``_`` (``layer1.0`` ->
    ``layer1_0``), never starting with a digit."""
    name = _NOT_IDENT.sub("_", candidate)
    if not name:
        name = "_unnamed"
    if name[0].isdigit():
        name = "_" + name
    return name


class Namespace:
    """Hands out unique identifiers and remembers which object each was given to."""

    def __init__(self) -> None:
        self._taken: set[str] = set()
        self._by_object: dict[int, str] = {}
        self._next_suffix: dict[str, int] = {}

    def create_name(self, candidate: str, obj=None) -> str:
        """A fresh identifier derived from ``candidate`` (the same one again for an ``obj``
        that already has a name)."""
        if obj is not None and id(obj) in self._by_object:
            return self._by_object[id(obj)]
        name = as_identifier(candidate)
        if name in self._taken or name in RESERVED:
            m = _NUMBERED.match(name)
            base, n = (m.group(1), int(m.group(2)) + 1) if m else (name, 1)
            n = max(n, self._next_suffix.get(base, 1))
            while f"{base}_{n}" in self._taken or f"{base}_{n}" in RESERVED:
                n += 1
            self._next_suffix[base] = n + 1
            name = f"{base}_{n}"
        self._taken.add(name)
        if obj is not None:
            self._by_object[id(obj)] = name
        return name

    def reserve(self, name: str) -> None:
        """Marks ``name`` as taken (a name chosen elsewhere)."""
        self._taken.add(name)

    def release(self, name: str) -> None:
        """Makes ``name`` available again (its node was erased)."""
        self._taken.discard(name)

    def __contains__(self, name: str) -> bool:
        return name in self._taken
