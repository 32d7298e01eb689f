"""``ember._dynamo._trace_wrapped_higher_order_op``: ``TransformGetItemToIndex``.

In PyTorch this context manager lets ``tensor[scalar_index_tensor]`` run under ``vmap`` by
turning the subscript into an index op. ember's ``vmap`` indexes with tensors directly
(integer-tensor indexing batches like any other op), so the context changes nothing.
"""

from __future__ import annotations

__all__ = ["TransformGetItemToIndex"]


class TransformGetItemToIndex:
    """Context manager accepted for compatibility; inside it indexing works as outside."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> bool:
        return False
