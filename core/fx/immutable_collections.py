"""Hashable, read-only list and dict types for the arguments stored on graph nodes, as
``torch.fx.immutable_collections``.

A node's ``args``/``kwargs`` hold lists and dicts built by the tracer; making them immutable
keeps a node's recorded inputs and its ``users`` bookkeeping in step (change them through
``Node.args = ...``, ``Node.update_arg`` or ``Node.replace_input_with`` instead).
"""

from __future__ import annotations

__all__ = ["immutable_list", "immutable_dict"]


def _refuse(self, *args, **kwargs):
    raise NotImplementedError(f"'{type(self).__name__}' object does not support mutation. "
                              "Node arguments are immutable: build a new container and assign "
                              "it to the node instead.")


class immutable_list(list):  # noqa: N801 - torch's spelling
    """A ``list`` that refuses in-place changes and can be hashed."""

    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse
    append = extend = insert = pop = remove = clear = sort = reverse = _refuse

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(self))

    def __reduce__(self):
        return (immutable_list, (tuple(self),))


class immutable_dict(dict):  # noqa: N801 - torch's spelling
    """A ``dict`` that refuses in-place changes and can be hashed."""

    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(self.items()))

    def __reduce__(self):
        return (immutable_dict, (tuple(self.items()),))
