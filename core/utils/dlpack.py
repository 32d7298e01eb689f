"""``ember.utils.dlpack``: DLPack exchange with numpy, CuPy, PyTorch and others."""

from .._global_settings import from_dlpack

__all__ = ["from_dlpack", "to_dlpack"]


def to_dlpack(tensor):
    """A DLPack capsule sharing ``tensor``'s memory."""
    return tensor.__dlpack__()
