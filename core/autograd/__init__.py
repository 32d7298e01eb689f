"""``ember.autograd``: ``backward``, ``grad``, grad modes and custom ``Function``s."""

from __future__ import annotations

from . import anomaly_mode, profiler  # noqa: E402,F401
from .anomaly_mode import (  # noqa: E402
    detect_anomaly,
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    set_detect_anomaly,
)
from .engine import run_backward
from .function import Function, FunctionCtx, once_differentiable
from .grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)

# as in PyTorch, the functions gradcheck/gradgradcheck rebind their module's name here
from .gradcheck import GradcheckError, gradcheck, gradgradcheck  # noqa: E402
from .graph import Node
from .variable import Variable  # noqa: E402

__all__ = ["backward", "grad", "Function", "FunctionCtx", "once_differentiable", "no_grad",
           "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled", "Node",
           "functional", "forward_ad", "profiler", "detect_anomaly", "set_detect_anomaly",
           "is_anomaly_enabled", "is_anomaly_check_nan_enabled", "gradcheck", "gradgradcheck",
           "GradcheckError", "Variable", "graph"]


def _as_tuple(x):
    if x is None:
        return None
    if isinstance(x, (list, tuple)):
        return tuple(x)
    return (x,)


def _make_grads(outputs, grad_outputs):
    from .._tensor import Tensor
    from ..ops.op import xp_of

    grads = []
    for i, out in enumerate(outputs):
        g = grad_outputs[i] if grad_outputs is not None else None
        if g is None:
            if out.requires_grad and out.numel() != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if not (out.is_floating_point() or out.is_complex()):
                raise RuntimeError("grad can be implicitly created only for real scalar "
                                   f"outputs but got {out.dtype}")
            d = out._data
            g = Tensor._make(xp_of(d).ones(d.shape, d.dtype))
        else:
            if tuple(g.shape) != tuple(out.shape):
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of "
                                   f"{g.shape} and output[{i}] has a shape of {out.shape}.")
        grads.append(g)
    return grads


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph: bool = False,
             inputs=None) -> None:
    """Computes the sum of gradients of ``tensors`` with respect to graph leaves and
    accumulates it into their ``.grad`` (only into ``inputs``' when given)."""
    tensors = _as_tuple(tensors)
    grad_tensors = _as_tuple(grad_tensors)
    for t in tensors:
        if not t.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have "
                               "a grad_fn")
    grads = _make_grads(tensors, grad_tensors)
    if retain_graph is None:
        retain_graph = create_graph
    inputs = _as_tuple(inputs)
    if inputs is not None and len(inputs) == 0:
        raise RuntimeError("'inputs' argument to backward() cannot be empty.")
    run_backward(tensors, grads, retain_graph, create_graph, inputs=inputs, accumulate=True)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph: bool = False,
         only_inputs: bool = True, allow_unused=None, is_grads_batched: bool = False,
         materialize_grads: bool = False):
    """The gradients of ``outputs`` with respect to ``inputs``, as a tuple (``.grad`` is not
    touched)."""
    outputs = _as_tuple(outputs)
    single_input = not isinstance(inputs, (list, tuple))
    inputs = _as_tuple(inputs)
    grad_outputs = _as_tuple(grad_outputs)
    if is_grads_batched:
        return _grad_batched(outputs, inputs, grad_outputs, retain_graph, create_graph,
                             allow_unused, materialize_grads)
    for t in outputs:
        if not t.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have "
                               "a grad_fn")
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    grads = _make_grads(outputs, grad_outputs)
    if retain_graph is None:
        retain_graph = create_graph
    if allow_unused is None:
        allow_unused = materialize_grads
    res = run_backward(outputs, grads, retain_graph, create_graph, inputs=inputs,
                       accumulate=False, allow_unused=allow_unused)
    if materialize_grads:
        from .._creation import zeros_like

        res = tuple(g if g is not None else zeros_like(i) for g, i in zip(res, inputs))
    del single_input
    return res


def _grad_batched(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused,
                  materialize_grads):
    """``grad(..., is_grads_batched=True)``: one backward per slice of the grad_outputs'
    first dimension, the results stacked along a new first dimension."""
    from .._creation import zeros_like
    from ..ops.shape import stack

    if grad_outputs is None or any(g is None for g in grad_outputs):
        raise RuntimeError("is_grads_batched=True requires a batched grad_output for each "
                           "output")
    n = grad_outputs[0].shape[0]
    if retain_graph is None:
        retain_graph = create_graph
    per_slice = []
    for b in range(n):
        per_slice.append(grad(outputs, inputs, tuple(g[b] for g in grad_outputs),
                              retain_graph=retain_graph or b < n - 1,
                              create_graph=create_graph, allow_unused=allow_unused,
                              materialize_grads=materialize_grads))
    res = []
    for i, inp in enumerate(inputs):
        gs = [r[i] for r in per_slice]
        if all(g is None for g in gs):
            res.append(None)
        else:
            res.append(stack([g if g is not None else zeros_like(inp) for g in gs]))
    return tuple(res)


def __getattr__(name: str):
    # ``functional`` loads on first use, keeping ``import ember`` light
    import importlib

    if name in ("functional", "forward_ad"):
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'ember.autograd' has no attribute '{name}'")
