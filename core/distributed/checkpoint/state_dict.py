"""``ember.distributed.checkpoint.state_dict``: sharding-aware state-dict helpers (declared
only; with unsharded ember modules use ``module.state_dict()``/``load_state_dict``)."""

from __future__ import annotations

import dataclasses

from .._unsupported import unsupported_function

__all__ = ["StateDictOptions", "get_model_state_dict", "set_model_state_dict",
           "get_optimizer_state_dict", "set_optimizer_state_dict", "get_state_dict",
           "set_state_dict"]


@dataclasses.dataclass
class StateDictOptions:
    """Options of the state-dict helpers (a plain record)."""

    full_state_dict: bool = False
    cpu_offload: bool = False
    ignore_frozen_params: bool = False
    keep_submodule_prefixes: bool = True
    strict: bool = True
    broadcast_from_rank0: bool = False
    flatten_optimizer_state_dict: bool = False
    dsd_fqn_modifiers: str = "_fqn_modifiers"


_P = "ember.distributed.checkpoint.state_dict."
get_model_state_dict = unsupported_function(_P + "get_model_state_dict",
                                            "A model's (gathered) state dict")
set_model_state_dict = unsupported_function(_P + "set_model_state_dict",
                                            "Loads a model's (sharded) state dict")
get_optimizer_state_dict = unsupported_function(_P + "get_optimizer_state_dict",
                                                "An optimizer's (gathered) state dict")
set_optimizer_state_dict = unsupported_function(_P + "set_optimizer_state_dict",
                                                "Loads an optimizer's (sharded) state dict")
get_state_dict = unsupported_function(_P + "get_state_dict", "Model and optimizer state dicts")
set_state_dict = unsupported_function(_P + "set_state_dict",
                                      "Loads model and optimizer state dicts")
