"""``ember.utils.checkpoint``: activation checkpointing, as ``torch.utils.checkpoint``.

``checkpoint(fn, *args)`` runs ``fn`` without keeping its intermediate activations and runs
it again during backward to get them back, with the RNG state of the first run restored (so
dropout draws the same mask). Two variants, as in PyTorch:

* ``use_reentrant=True`` (the default when the argument is left out, with PyTorch's
  warning): a custom autograd ``Function`` whose backward recomputes the forward and runs a
  nested backward through it. Only positional arguments; inputs and parameters get their
  gradients, not ``autograd.grad`` (which should use the other variant).
* ``use_reentrant=False``: the forward records the graph as usual, but every tensor an op
  saves for backward is replaced by a placeholder (``saved_tensors_hooks``); the first
  placeholder backward reads triggers one recomputation that supplies them all. Works with
  ``autograd.grad``, keyword arguments and nested checkpoints.
"""

from __future__ import annotations

import contextlib
import warnings

from .._random import _cuda_generators, default_generator
from ..autograd.function import Function
from ..autograd.grad_mode import enable_grad, no_grad
from ..autograd.graph import saved_tensors_hooks

__all__ = ["checkpoint", "checkpoint_sequential", "CheckpointError", "CheckpointFunction",
           "detach_variable", "noop_context_fn"]


class CheckpointError(RuntimeError):
    """The recomputation differs from the original forward (non-reentrant variant)."""


def noop_context_fn():
    """The default ``context_fn``: two null contexts (forward, recomputation)."""
    return contextlib.nullcontext(), contextlib.nullcontext()


def detach_variable(inputs: tuple) -> tuple:
    """Detached copies (sharing memory) of the tensors of ``inputs``, keeping their
    ``requires_grad``; other values pass through."""
    from .._tensor import Tensor

    if not isinstance(inputs, tuple):
        raise RuntimeError("Only tuple of tensors is supported. Got Unsupported input type: "
                           f"{type(inputs).__name__}")
    out = []
    for inp in inputs:
        if not isinstance(inp, Tensor):
            out.append(inp)
            continue
        x = inp.detach()
        x.requires_grad = inp.requires_grad
        out.append(x)
    return tuple(out)


# -- RNG state -----------------------------------------------------------------------------
def _rng_snapshot():
    """The CPU generator's state and those of the CUDA generators made so far."""
    return (default_generator.get_state(),
            {i: (g, g.get_state()) for i, g in _cuda_generators.items()})


@contextlib.contextmanager
def _replay_rng(snapshot):
    """Runs the block with the RNG state of ``snapshot``, restoring the current one after."""
    outer = _rng_snapshot()
    cpu, cuda = snapshot
    default_generator.set_state(cpu)
    for i in list(_cuda_generators):
        if i not in cuda:  # made during the first run: make it afresh in the replay too
            del _cuda_generators[i]
    for i, (g, state) in cuda.items():
        g.set_state(state)
        _cuda_generators[i] = g
    try:
        yield
    finally:
        default_generator.set_state(outer[0])
        _cuda_generators.clear()
        for i, (g, state) in outer[1].items():
            g.set_state(state)
            _cuda_generators[i] = g


# -- reentrant variant ---------------------------------------------------------------------
class CheckpointFunction(Function):
    """The reentrant checkpoint: forward under ``no_grad``, backward recomputes and runs a
    nested backward."""

    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, *args):
        from .._tensor import Tensor

        if not any(isinstance(a, Tensor) and a.requires_grad for a in args):
            warnings.warn("None of the inputs have requires_grad=True. Gradients will be None",
                          stacklevel=2)
        ctx.run_function = run_function
        ctx.preserve_rng_state = preserve_rng_state
        if preserve_rng_state:
            ctx.fwd_rng = _rng_snapshot()
        ctx.inputs = [None if isinstance(a, Tensor) else a for a in args]
        ctx.tensor_indices = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        ctx.save_for_backward(*[a for a in args if isinstance(a, Tensor)])
        with no_grad():
            return run_function(*args)

    @staticmethod
    def backward(ctx, *grads):
        from .._tensor import Tensor
        from ..autograd import backward as _backward

        inputs = list(ctx.inputs)
        for i, t in zip(ctx.tensor_indices, ctx.saved_tensors):
            inputs[i] = t
        rng = _replay_rng(ctx.fwd_rng) if ctx.preserve_rng_state else contextlib.nullcontext()
        with rng:
            detached = detach_variable(tuple(inputs))
            with enable_grad():
                outputs = ctx.run_function(*detached)
        if isinstance(outputs, Tensor):
            outputs = (outputs,)
        outs, gs = [], []
        for o, g in zip(outputs, grads):
            if isinstance(o, Tensor) and o.requires_grad:
                outs.append(o)
                gs.append(g)
        if not outs:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is "
                               "not necessary")
        _backward(outs, gs)
        return (None, None) + tuple(x.grad if isinstance(x, Tensor) else None
                                    for x in detached)


# -- non-reentrant variant -----------------------------------------------------------------
class _Frame:
    """One checkpointed call: how to recompute it, and the tensors the recomputation
    saved (filled on first need)."""

    def __init__(self, recompute):
        self.recompute = recompute
        self.metas: list = []  # (shape, dtype, device) of each tensor the forward saved
        self.recomputed = None

    def pack(self, t):
        self.metas.append((tuple(t.shape), t.dtype, t.device))
        return len(self.metas) - 1

    def unpack(self, idx):
        if self.recomputed is None:
            got = []

            def pack_again(t):
                got.append(t)
                return len(got) - 1

            with saved_tensors_hooks(pack_again, lambda i: got[i]):
                self.recompute()
            if len(got) < len(self.metas):
                raise CheckpointError(
                    "torch.utils.checkpoint: A different number of tensors was saved during "
                    f"the original forward and recomputation.\nNumber of tensors saved during "
                    f"forward: {len(self.metas)}\nNumber of tensors saved during "
                    f"recomputation: {len(got)}")
            for i, (meta, t) in enumerate(zip(self.metas, got)):
                now = (tuple(t.shape), t.dtype, t.device)
                if now != meta:
                    raise CheckpointError(
                        "torch.utils.checkpoint: Recomputed values for the following tensors "
                        f"have different metadata than during the forward pass.\ntensor at "
                        f"position {i}:\nsaved metadata: {meta}\nrecomputed metadata: {now}")
            self.recomputed = got
        return self.recomputed[idx]


def _checkpoint_without_reentrant(function, preserve, context_fn, args, kwargs):
    rng = _rng_snapshot() if preserve else None
    fwd_ctx, recompute_ctx = context_fn()

    def recompute():
        replay = _replay_rng(rng) if preserve else contextlib.nullcontext()
        with replay, enable_grad(), recompute_ctx:
            function(*args, **kwargs)

    frame = _Frame(recompute)
    with saved_tensors_hooks(frame.pack, frame.unpack), fwd_ctx:
        return function(*args, **kwargs)


# -- public API ----------------------------------------------------------------------------
def checkpoint(function, *args, use_reentrant=None, context_fn=noop_context_fn,
               determinism_check: str = "default", debug: bool = False,
               early_stop: bool = True, **kwargs):
    """Runs ``function(*args, **kwargs)`` without keeping its activations; backward
    recomputes them (see the module docstring for the two variants). ``preserve_rng_state``
    (default True) replays the RNG so random ops draw the same values.

    ember's non-reentrant variant recomputes the whole function (``early_stop`` is
    accepted and ignored) and checks shapes, dtypes and devices (``determinism_check``)."""
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. "
            "Starting in PyTorch 2.9, calling checkpoint without use_reentrant will raise an "
            "exception. use_reentrant=False is recommended, but if you need to preserve the "
            "current default behavior, you can pass use_reentrant=True. Refer to docs for "
            "more details on the differences between the two variants.", stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    if determinism_check not in ("default", "none"):
        raise ValueError("determinism_check should be one of ['default', 'none'], but got "
                         f"{determinism_check}")
    del debug, early_stop
    if use_reentrant:
        if context_fn is not noop_context_fn:
            raise ValueError("Passing `context_fn` or `debug` is only supported when "
                             "use_reentrant=False.")
        return CheckpointFunction.apply(function, preserve, *args)
    return _checkpoint_without_reentrant(function, preserve, context_fn, args, kwargs)


def checkpoint_sequential(functions, segments: int, input, use_reentrant=None, **kwargs):
    """Splits ``functions`` (an ``nn.Sequential`` or a list of modules/functions) into
    ``segments`` chunks and checkpoints all but the last; returns the output."""
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter should "
            "be passed explicitly. In version 2.9 we will raise an exception if use_reentrant "
            "is not passed. use_reentrant=False is recommended, but if you need to preserve "
            "the current default behavior, you can pass use_reentrant=True. Refer to docs for "
            "more details on the differences between the two variants.", stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))

    def run_function(start, end, functions):
        def forward(input):
            for j in range(start, end + 1):
                input = functions[j](input)
            return input
        return forward

    from ..nn import Sequential

    if isinstance(functions, Sequential):
        functions = list(functions.children())
    segment_size = len(functions) // segments
    end = -1
    for start in range(0, segment_size * (segments - 1), segment_size):
        end = start + segment_size - 1
        input = checkpoint(run_function(start, end, functions), input,
                           use_reentrant=use_reentrant, preserve_rng_state=preserve)
    return run_function(end + 1, len(functions) - 1, functions)(input)
