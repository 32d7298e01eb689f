"""``ember.distributed._functional_collectives``: out-of-place collectives.

ember's collectives complete before they return, so ``wait_tensor`` is the identity. The
functional collectives themselves (which would return new tensors and take meshes as groups)
are declared only and raise NotImplementedError; use ``ember.distributed.all_reduce`` & co.
"""

from __future__ import annotations

from ._unsupported import unsupported_function

__all__ = ["wait_tensor", "all_reduce", "all_gather_tensor", "reduce_scatter_tensor",
           "all_to_all_single", "all_to_all_single_autograd"]


def wait_tensor(tensor):
    """Waits for the collective producing ``tensor``: ember's are already done, so this
    returns ``tensor``."""
    return tensor


_P = "ember.distributed._functional_collectives."
all_reduce = unsupported_function(_P + "all_reduce", "Out-of-place all_reduce")
all_gather_tensor = unsupported_function(_P + "all_gather_tensor", "Out-of-place all_gather")
reduce_scatter_tensor = unsupported_function(_P + "reduce_scatter_tensor",
                                             "Out-of-place reduce_scatter")
all_to_all_single = unsupported_function(_P + "all_to_all_single", "Out-of-place all_to_all")
all_to_all_single_autograd = unsupported_function(_P + "all_to_all_single_autograd",
                                                  "Differentiable out-of-place all_to_all")
