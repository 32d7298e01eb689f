"""Array properties that numpy keeps in ``flags`` and CuPy does not.

numpy marks broadcast views (``broadcast_to``, ``expand``) and arrays over read-only buffers
as not writeable; CuPy arrays have no such flag and are always writeable, so there a
broadcast view is told by a zero stride over a dimension of more than one element.
"""


def writeable(a) -> bool:
    """Whether writing into array ``a`` (numpy or cupy) changes each element on its own."""
    flags = a.flags
    flag = getattr(flags, "writeable", None)
    if flag is not None:
        return bool(flag)
    return not any(s == 0 and n > 1 for s, n in zip(a.strides, a.shape))
