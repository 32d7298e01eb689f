"""``parameters_to_vector`` and ``vector_to_parameters``."""

from __future__ import annotations

from ..._tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters) -> Tensor:
    """All ``parameters`` flattened and concatenated into one 1-D tensor."""
    from ...ops.shape import cat

    params = list(parameters)
    device = None
    for p in params:
        if device is not None and p.device != device:
            raise TypeError("Found two parameters on different devices, this is currently not "
                            "supported.")
        device = p.device
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Copies slices of 1-D ``vec`` into ``parameters`` (replacing their data)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    pointer = 0
    for p in parameters:
        n = p.numel()
        p.data = vec[pointer:pointer + n].view_as(p).data
        pointer += n
