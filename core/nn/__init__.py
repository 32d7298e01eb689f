"""``ember.nn``: layers, containers, losses, ``Parameter``, ``functional`` and ``init``, as
``torch.nn``."""

from __future__ import annotations

from . import (
    functional,
    init,
    parallel,
    utils,
)
from .modules import *
from .modules import Module
from .modules.module import (
    register_module_buffer_registration_hook,
    register_module_forward_hook,
    register_module_forward_pre_hook,
    register_module_full_backward_hook,
    register_module_full_backward_pre_hook,
    register_module_module_registration_hook,
    register_module_parameter_registration_hook,
)
from .parallel import DataParallel, DistributedDataParallel  # noqa: E402
from .parameter import Buffer, Parameter, UninitializedBuffer, UninitializedParameter
