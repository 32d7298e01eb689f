"""``ember.compile``: returns the model unchanged.

ember has no graph compiler; ``compile`` exists so that programs calling ``torch.compile``
run as they are (see docs/compatibility.md). The arguments are checked as PyTorch checks
them (an unknown ``mode`` or backend name, ``mode`` together with ``options``), so a
program that PyTorch refuses is refused here too."""

from __future__ import annotations

__all__ = ["compile"]

_MODES = ("default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune")


def compile(model=None, *, fullgraph: bool = False, dynamic=None, backend=None,
            mode=None, options=None, name=None, disable: bool = False,
            recompile_limit=None, isolate_recompiles: bool = False, shapes_spec=None):
    """Returns ``model`` unchanged (usable as a decorator too, with or without arguments).

    ``backend`` may be a registered name (``ember._dynamo.list_backends(None)``) or a
    callable; ember never calls it. Raises as PyTorch does for a ``model`` that is not
    callable, an unknown backend name, an unknown ``mode`` with the inductor backend, and
    ``mode`` given together with ``options``.
    """
    if model is None:
        def decorate(m):
            if m is None:
                raise RuntimeError("Model can't be None")
            return compile(m, fullgraph=fullgraph, dynamic=dynamic, backend=backend,
                           mode=mode, options=options, name=name, disable=disable,
                           recompile_limit=recompile_limit,
                           isolate_recompiles=isolate_recompiles, shapes_spec=shapes_spec)

        return decorate
    if not callable(model):
        raise AssertionError(f"A callable function is expected, but {type(model)} is "
                             "provided.")
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be "
                           "specified at the same time.")
    backend = "inductor" if backend is None else backend
    if isinstance(backend, str):
        from ._dynamo import _check_backend

        _check_backend(backend)
        if backend == "inductor" and mode is not None and mode not in _MODES:
            raise RuntimeError(f"Unrecognized mode={mode}, should be one of: "
                               f"{', '.join(_MODES)}")
    return model
