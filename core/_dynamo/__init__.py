"""``ember._dynamo``: the names of ``torch._dynamo`` that model code touches.

ember has no graph-capturing compiler (``ember.compile`` returns the model as it is), so the
decorators here return their function unchanged, the ``mark_*`` hints are accepted and
ignored, and ``is_compiling()`` is False. ``config`` holds settable flags with no effect.
"""

from __future__ import annotations

from ..compiler import (
    allow_in_graph,
    assume_constant_result,
    disable,
    is_compiling,
    reset,
)
from . import config, exc

__all__ = ["allow_in_graph", "assume_constant_result", "disable", "is_compiling", "reset",
           "list_backends", "mark_dynamic", "maybe_mark_dynamic", "mark_static",
           "mark_static_address", "optimize", "run", "config", "exc", "graph_break",
           "is_dynamo_supported", "register_backend"]

# the backend names PyTorch registers, with their tags (``list_backends`` leaves out the
# debug and experimental ones by default); ember runs the model as it is whichever is named
_BACKENDS = {
    "aot_eager": ("debug",), "aot_eager_decomp_partition": ("debug",),
    "aot_eager_decomp_partition_crossref": ("debug",),
    "aot_eager_decomp_partition_with_mode": ("debug",),
    "aot_eager_default_partitioner": ("debug",), "aot_ts": ("experimental",),
    "cudagraphs": (), "eager": ("debug",), "eager_debug": ("debug",),
    "eager_noexcept": ("debug",), "inductor": (), "invoke_subgraph": ("experimental",),
    "openxla": (), "openxla_eval": ("experimental",), "pre_dispatch_eager": ("debug",),
    "ts": ("experimental",), "tvm": (),
}


def list_backends(exclude_tags=("debug", "experimental")) -> list:
    """The backend names ``compile`` accepts (PyTorch's, plus those registered with
    ``register_backend``), leaving out those tagged with ``exclude_tags``; all run the model
    as it is."""
    skip = set(exclude_tags or ())
    return sorted(n for n, tags in _BACKENDS.items() if not skip.intersection(tags))


def _check_backend(name: str) -> None:
    if name not in _BACKENDS:
        raise exc.InvalidBackend(name=name)


def register_backend(compiler_fn=None, name: str | None = None, tags=()):
    """Registers a backend name so ``compile(backend=name)`` accepts it (usable as a
    decorator); returns ``compiler_fn``. ember never calls it."""
    if compiler_fn is None:
        return lambda fn: register_backend(fn, name=name, tags=tags)
    _BACKENDS[name or compiler_fn.__name__] = tuple(tags)
    return compiler_fn


def mark_dynamic(t, index, *, min=None, max=None, specialize_on=None) -> None:  # noqa: A002
    """Accepted and ignored: ember never specializes on shapes."""


def maybe_mark_dynamic(t, index) -> None:
    """Accepted and ignored."""


def mark_static(t, index=None) -> None:
    """Accepted and ignored."""


def mark_static_address(t, guard: bool = True) -> None:
    """Accepted and ignored: ember records no CUDA graphs, so no address must stay fixed."""


def graph_break() -> None:
    """A no-op: eager code has no graph to break."""


def is_dynamo_supported() -> bool:
    """False: ember has no dynamo."""
    return False


def optimize(backend="inductor", *, nopython: bool = False, dynamic=None, **kwargs):
    """Returns a decorator that returns its function unchanged (nothing is compiled)."""
    return lambda fn: fn


def run(fn=None):
    """Returns ``fn`` unchanged."""
    return (lambda f: f) if fn is None else fn


def _optimized_module_class():
    from ..nn import Module

    class OptimizedModule(Module):
        """``torch._dynamo.OptimizedModule``, what ``torch.compile(module)`` returns in
        PyTorch: here a plain wrapper that calls ``_orig_mod`` (``ember.compile`` itself
        returns the module unchanged, so libraries' ``isinstance`` checks see the module)."""

        def __init__(self, mod, dynamo_ctx=None) -> None:
            super().__init__()
            self._orig_mod = mod

        def forward(self, *args, **kwargs):
            return self._orig_mod(*args, **kwargs)

    return OptimizedModule


OptimizedModule = _optimized_module_class()
__all__.append("OptimizedModule")

from . import eval_frame  # noqa: E402  (torch._dynamo.eval_frame.OptimizedModule)
