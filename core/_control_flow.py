"""``torch.cond`` and ``torch.while_loop``, PyTorch's structured control-flow operators. Under
``torch.compile``/``export`` they keep both branches (or the loop) in the graph; ember runs
eagerly, so each calls the branch or body that the predicate selects, and autograd records
what actually ran.
"""

from __future__ import annotations

from ._tensor import Tensor

__all__ = ["cond", "while_loop"]


def _truth(pred, op: str) -> bool:
    if isinstance(pred, Tensor):
        if pred.numel() != 1:
            raise RuntimeError(f"Expected pred to be bool or single-element tensor, but got "
                               f"a tensor of shape {list(pred.shape)} ({op}).")
        return bool(pred.item())
    if isinstance(pred, (bool, int, float)):
        return bool(pred)
    raise RuntimeError(f"Expected pred to be bool or single-element tensor, but got "
                       f"{type(pred).__name__} ({op}).")


def cond(pred, true_fn, false_fn, operands=()):
    """``true_fn(*operands)`` if ``pred`` (a bool or one-element tensor) holds, else
    ``false_fn(*operands)``."""
    if not isinstance(operands, (tuple, list)):
        raise RuntimeError(f"Expect operands to be a tuple or list, got "
                           f"{type(operands).__name__} (cond).")
    return (true_fn if _truth(pred, "cond") else false_fn)(*operands)


def while_loop(cond_fn, body_fn, carried_inputs):
    """Repeats ``carried = body_fn(*carried)`` while ``cond_fn(*carried)`` holds; returns the
    final carried values (as ``body_fn`` returns them: a tuple, or a single value that is
    carried as a one-element tuple)."""
    if not isinstance(carried_inputs, (tuple, list)):
        raise RuntimeError(f"carried_inputs must be a tuple or list, got "
                           f"{type(carried_inputs).__name__} (while_loop).")
    carried = tuple(carried_inputs)
    result = carried
    while _truth(cond_fn(*carried), "while_loop"):
        result = body_fn(*carried)
        carried = result if isinstance(result, (tuple, list)) else (result,)
    return result
