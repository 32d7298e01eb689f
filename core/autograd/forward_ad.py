"""``ember.autograd.forward_ad``: dual tensors, as ``torch.autograd.forward_ad``.

Departure: ember has no forward-mode kernels. ``make_dual`` returns a tensor that requires
grad (a fresh leaf, or a view when the primal already requires grad) and records its tangent
for the current dual level; ordinary ops then record the usual reverse graph. ``unpack_dual``
computes the tangent of a tensor lazily from that graph with the double-vjp trick (the vjp
with a dummy cotangent ``u`` is linear in ``u``; differentiating it in ``u`` along the
tangents gives the jvp). The values are PyTorch's, for every op that has a twice
differentiable backward. Differences one can see: dual tensors and their results have
``requires_grad=True``; tangents do not flow under ``no_grad``; the ``primal`` that
``unpack_dual`` returns is detached from autograd; only one level exists (as in PyTorch).
"""

from __future__ import annotations

from collections import namedtuple

from .. import _tensor as _T
from .grad_mode import enable_grad, is_grad_enabled

__all__ = ["UnpackedDualTensor", "enter_dual_level", "exit_dual_level", "make_dual",
           "unpack_dual", "dual_level"]

_STATE = {"level": None, "duals": []}  # duals: (dual tensor, tangent) pairs of the level


class UnpackedDualTensor(namedtuple("UnpackedDualTensor", ["primal", "tangent"])):
    """What :func:`unpack_dual` returns: ``primal`` and ``tangent`` (None without one)."""


def enter_dual_level() -> int:
    """Enters a new forward-AD level and returns its index (only one may be active)."""
    if _STATE["level"] is not None:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _STATE["level"] = 0
    _STATE["duals"] = []
    return 0


def exit_dual_level(*, level=None) -> None:
    """Leaves the forward-AD level: the tangents of its dual tensors are forgotten."""
    if level is None:
        level = _STATE["level"]
    if level is None or level != _STATE["level"]:
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that "
                           "was created. This is not supported.")
    _STATE["level"] = None
    _STATE["duals"] = []


def _check_level(level, api: str) -> None:
    if _STATE["level"] is None:
        raise RuntimeError(f"Trying to {api} for forward AD but no level exists, make sure to "
                           "enter_dual_level() first.")
    if level is not None and level != _STATE["level"]:
        raise RuntimeError(f"Invalid level {level}: the current forward AD level is "
                           f"{_STATE['level']}")


def make_dual(tensor, tangent, *, level=None):
    """A dual tensor: the values of ``tensor`` carrying ``tangent`` as forward gradient at
    the current dual level (enter one with :class:`dual_level`)."""
    _check_level(level, "create a dual Tensor")
    if not isinstance(tensor, _T.Tensor) or not isinstance(tangent, _T.Tensor):
        raise TypeError("make_dual: expected Tensors for both the primal and the tangent")
    for what, t in (("primal", tensor), ("tangent", tangent)):
        if not (t.is_floating_point() or t.is_complex()):
            raise ValueError(f"Expected {what} to be floating point or complex, but got: "
                             f"{t.dtype}")
    if tuple(tensor.shape) != tuple(tangent.shape):
        raise RuntimeError(f"Trying to set a forward gradient that has a different size than "
                           f"that of the original Tensor, this is not supported. Tensor is of "
                           f"size {list(tensor.shape)} while the given forward gradient is of "
                           f"size {list(tangent.shape)}.")
    if tensor.device != tangent.device:
        raise RuntimeError(f"Trying to set a forward gradient on a Tensor on {tensor.device} "
                           f"with a tangent on {tangent.device}: they must be on the same "
                           "device.")
    with enable_grad():
        dual = tensor.view_as(tensor) if tensor.requires_grad else \
            tensor.detach().requires_grad_()
    _STATE["duals"].append((dual, tangent))
    return dual


def _tangent_of(tensor):
    from .._creation import zeros_like
    from . import grad as _grad

    duals = _STATE["duals"]
    for d, t in duals:
        if d is tensor:
            return t
    if not duals or not isinstance(tensor, _T.Tensor) or not tensor.requires_grad:
        return None
    if not (tensor.is_floating_point() or tensor.is_complex()):
        return None
    prims = [d for d, _ in duals]
    with enable_grad():
        u = zeros_like(tensor).requires_grad_()
        gs = _grad([tensor], prims, [u], retain_graph=True, create_graph=True,
                   allow_unused=True)
        if all(g is None for g in gs):
            return None
        pairs = [(g, t) for g, (_, t) in zip(gs, duals) if g is not None and g.requires_grad]
        if not pairs:
            return zeros_like(tensor)
        create = is_grad_enabled() and any(t.requires_grad for _, t in pairs)
        (jv,) = _grad([g for g, _ in pairs], [u], [t for _, t in pairs], retain_graph=True,
                      create_graph=create, allow_unused=True)
    return zeros_like(tensor) if jv is None else jv


def unpack_dual(tensor, *, level=None):
    """``UnpackedDualTensor(primal, tangent)`` of ``tensor`` at the current dual level;
    ``tangent`` is None for a tensor that carries none (or outside a dual level)."""
    if _STATE["level"] is None or not isinstance(tensor, _T.Tensor):
        return UnpackedDualTensor(tensor, None)
    _check_level(level, "unpack a dual Tensor")
    tangent = _tangent_of(tensor)
    if tangent is None:
        return UnpackedDualTensor(tensor, None)
    return UnpackedDualTensor(tensor.detach(), tangent)


class dual_level:
    """Context manager for a forward-AD level: dual tensors made inside it carry tangents,
    which are dropped on exit::

        with dual_level():
            x = make_dual(x0, t)
            jvp = unpack_dual(f(x)).tangent
    """

    def __enter__(self):
        return enter_dual_level()

    def __exit__(self, exc_type, exc_value, traceback):
        exit_dual_level()
        return False
