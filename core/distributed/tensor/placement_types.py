"""How a DTensor is laid out over one mesh dimension: ``Shard(dim)``, ``Replicate()``,
``Partial(reduce_op)``.

These are plain descriptions, so they construct, compare and print as PyTorch's do; only the
DTensor machinery that would use them is missing from ember.
"""

from __future__ import annotations

__all__ = ["Placement", "Shard", "Replicate", "Partial"]


class Placement:
    """Base of the placement types."""

    def is_shard(self, dim: int | None = None) -> bool:
        """True for a ``Shard`` (of dimension ``dim`` if given)."""
        return isinstance(self, Shard) and (dim is None or self.dim == dim)

    def is_replicate(self) -> bool:
        """True for ``Replicate``."""
        return isinstance(self, Replicate)

    def is_partial(self, reduce_op: str | None = None) -> bool:
        """True for ``Partial`` (with ``reduce_op`` if given)."""
        return isinstance(self, Partial) and (reduce_op is None or self.reduce_op == reduce_op)


class Shard(Placement):
    """Each rank of the mesh dimension holds one slice of tensor dimension ``dim``."""

    def __init__(self, dim: int = 0):
        self.dim = dim

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and other.dim == self.dim

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.dim))

    def __repr__(self) -> str:
        return f"Shard(dim={self.dim})"


class _StridedShard(Shard):
    """A shard whose slices are interleaved ``split_factor`` ways."""

    def __init__(self, dim: int = 0, split_factor: int = 1):
        super().__init__(dim)
        self.split_factor = split_factor

    def __eq__(self, other) -> bool:
        return super().__eq__(other) and other.split_factor == self.split_factor

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.dim, self.split_factor))

    def __repr__(self) -> str:
        return f"_StridedShard(dim={self.dim}, sf={self.split_factor})"


class Replicate(Placement):
    """Every rank of the mesh dimension holds the whole tensor."""

    def __eq__(self, other) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self).__name__)

    def __repr__(self) -> str:
        return "Replicate()"


class Partial(Placement):
    """Each rank holds a partial value; the tensor is their reduction by ``reduce_op``."""

    def __init__(self, reduce_op: str = "sum"):
        self.reduce_op = reduce_op

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and other.reduce_op == self.reduce_op

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.reduce_op))

    def __repr__(self) -> str:
        return f"Partial({self.reduce_op})"
