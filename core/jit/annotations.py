"""``torch.jit.annotations``: the typing names TorchScript-era code imports from here
(``from torch.jit.annotations import List, Tuple, Optional``). In eager mode they are the
``typing`` module's own; ``BroadcastingList1/2/3`` (an int or a list of them, as a
convolution's ``kernel_size``) read as ``List``."""

from typing import Any, Callable, Dict, List, Optional, Tuple, Union  # noqa: UP035

from .._tensor import Tensor

BroadcastingList1 = BroadcastingList2 = BroadcastingList3 = List  # noqa: UP006

__all__ = ["Any", "Callable", "Dict", "List", "Optional", "Tuple", "Union", "Tensor",
           "BroadcastingList1", "BroadcastingList2", "BroadcastingList3"]
