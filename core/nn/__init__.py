"""``ember.nn``: layers, containers, losses, ``Parameter``, ``functional`` and ``init``, as
``torch.nn``."""

from __future__ import annotations

from . import functional, init, utils
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
from .parameter import Buffer, Parameter, UninitializedBuffer, UninitializedParameter
