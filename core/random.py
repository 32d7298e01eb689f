"""``ember.random``: the default generator's functions and ``fork_rng``, as
``torch.random``."""

from __future__ import annotations

import contextlib

from . import _random
from ._random import (
    Generator,
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)

__all__ = ["Generator", "default_generator", "fork_rng", "get_rng_state", "initial_seed",
           "manual_seed", "seed", "set_rng_state"]


@contextlib.contextmanager
def fork_rng(devices=None, enabled: bool = True, _caller: str = "fork_rng",
             _devices_kw: str = "devices", device_type: str = "cuda"):
    """Runs the block with the random state forked: the CPU generator's state (and that of
    the CUDA devices ember has drawn on) is restored on exit."""
    if not enabled:
        yield
        return
    cpu_state = get_rng_state()
    gpu = {i: g.get_state() for i, g in _random._cuda_generators.items()
           if devices is None or i in {int(getattr(d, "index", d) or 0) for d in devices}}
    try:
        yield
    finally:
        set_rng_state(cpu_state)
        for i, state in gpu.items():
            _random._cuda_generators[i].set_state(state)
