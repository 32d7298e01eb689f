"""``ember.jit.trace``: records a module or function as a replayable graph."""

from __future__ import annotations

import warnings

import numpy as np

from ..nn.modules.module import Module
from ._replay import run_graph
from ._traced import ScriptFunction, ScriptModule
from ._tracer import TracerWarning, flatten, trace_graph

__all__ = ["trace", "trace_module"]


def trace(func, example_inputs=None, optimize=None, check_trace: bool = True,
          check_inputs=None, check_tolerance: float = 1e-5, strict: bool = True,
          _force_outplace: bool = False, _module_class=None, _compilation_unit=None,
          example_kwarg_inputs=None, _store_inputs: bool = True):
    """Runs ``func`` (a module or a function) once on ``example_inputs`` (a tensor or a
    tuple of tensors) and returns a ``ScriptModule`` or ``ScriptFunction`` that replays the
    recorded ops on new inputs.

    As with ``torch.jit.trace``, only tensor ops are recorded: Python control flow, numbers
    read from tensors and tensors made from plain arrays are frozen at the example's values.
    Departure from PyTorch: the replay also keeps the example's shapes (a call with other
    shapes raises; trace again for them). ``check_trace`` replays the graph on the example
    inputs (and ``check_inputs``) and warns when it differs from the eager result.
    """
    if example_kwarg_inputs:
        raise NotImplementedError("ember.jit.trace: example_kwarg_inputs is not supported; "
                                  "pass the inputs positionally")
    if example_inputs is None:
        raise ValueError("ember.jit.trace needs example_inputs")
    args = example_inputs if isinstance(example_inputs, tuple) else (example_inputs,)
    if isinstance(func, ScriptModule | ScriptFunction):
        return func
    graph, out = trace_graph(func, args)
    name = type(func).__name__ if isinstance(func, Module) else getattr(
        func, "__name__", "traced_function")
    traced = ScriptModule(graph, func, name=name) if isinstance(func, Module) else \
        ScriptFunction(graph, name)
    if check_trace:
        _check(traced, func, args, out, check_tolerance)
        for extra in check_inputs or ():
            extra = extra if isinstance(extra, tuple) else (extra,)
            _check(traced, func, extra, func(*extra), check_tolerance)
    return traced


def trace_module(mod, inputs: dict, **kwargs):
    """Traces ``mod.forward`` on ``inputs["forward"]`` (other methods are not supported)."""
    if set(inputs) - {"forward"}:
        raise NotImplementedError("ember.jit.trace_module traces forward only")
    return trace(mod, inputs["forward"], **kwargs)


def _check(traced, func, args, expected, tol: float) -> None:
    from ..autograd.grad_mode import no_grad

    with no_grad():
        got = run_graph(traced._graph, args, traced._constants()
                        if isinstance(traced, ScriptModule) else None)
    a, _ = flatten(got, "outputs")
    b, _ = flatten(expected, "outputs")
    for x, y in zip(a, b):
        xa, ya = np.asarray(x.detach().cpu()._data), np.asarray(y.detach().cpu()._data)
        if xa.shape != ya.shape or not np.allclose(xa, ya, rtol=tol, atol=tol, equal_nan=True):
            warnings.warn("ember.jit.trace: the traced graph's output differs from the "
                          "eager output on the check inputs (control flow or values that "
                          "the trace froze?)", TracerWarning, stacklevel=3)
            return
