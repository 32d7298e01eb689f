"""Activation checkpointing for ``ember.utils.checkpoint`` (the API of
``torch.utils.checkpoint``).

A checkpointed call trades compute for memory: its intermediate results are not kept for
backward, and the call is simply executed a second time when backward needs them. The
random-number state seen by the first execution is reinstated for the second one, so that
e.g. dropout masks coincide.

Two implementations are offered, chosen by ``use_reentrant``:

* reentrant (``True``; also what an omitted argument means, with a warning): an autograd
  ``Function`` that runs the call with gradients off, and in its backward re-runs it with
  gradients on and back-propagates through the fresh graph. Positional arguments only;
  gradients reach leaf tensors via ``.grad``, so ``autograd.grad`` is not supported.
* non-reentrant (``False``): the call is recorded normally, but saved-tensor hooks swap
  every saved activation for an index; when backward first asks for one, a single re-run
  captures all of them. Supports keyword arguments, ``autograd.grad`` and nesting.
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

_PREFIX = "torch.utils.checkpoint: "


def _is_tensor(obj) -> bool:
    from .._tensor import Tensor

    return isinstance(obj, Tensor)


class CheckpointError(RuntimeError):
    """Raised when the re-run of a non-reentrant checkpoint does not reproduce the tensors
    the first run saved."""


def noop_context_fn():
    """Default ``context_fn``: a pair of do-nothing context managers."""
    nothing = contextlib.nullcontext
    return nothing(), nothing()


def detach_variable(inputs: tuple) -> tuple:
    """Returns ``inputs`` with each tensor replaced by a detached alias that keeps the
    original ``requires_grad`` flag; non-tensors are returned as they are."""
    if not isinstance(inputs, tuple):
        raise RuntimeError("Only tuple of tensors is supported. Got Unsupported input type: "
                           f"{type(inputs).__name__}")

    def alias(value):
        if not _is_tensor(value):
            return value
        twin = value.detach()
        twin.requires_grad = value.requires_grad
        return twin

    return tuple(alias(v) for v in inputs)


# -- random-number state ---------------------------------------------------------------------
def _capture_rng():
    """(CPU generator state, {index: (generator, state)} for existing CUDA generators)."""
    cuda = {idx: (gen, gen.get_state()) for idx, gen in _cuda_generators.items()}
    return default_generator.get_state(), cuda


def _install_rng(snapshot) -> None:
    cpu_state, cuda = snapshot
    default_generator.set_state(cpu_state)
    _cuda_generators.clear()  # generators created since the snapshot get recreated lazily
    for idx, (gen, state) in cuda.items():
        gen.set_state(state)
        _cuda_generators[idx] = gen


@contextlib.contextmanager
def _rng_as_in(snapshot):
    """Temporarily puts the generators back into ``snapshot``'s state."""
    current = _capture_rng()
    _install_rng(snapshot)
    try:
        yield
    finally:
        _install_rng(current)


def _maybe_rng(snapshot):
    return contextlib.nullcontext() if snapshot is None else _rng_as_in(snapshot)


# -- reentrant implementation ----------------------------------------------------------------
class CheckpointFunction(Function):
    """Autograd function behind ``checkpoint(..., use_reentrant=True)``."""

    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, *args):
        if not any(_is_tensor(a) and a.requires_grad for a in args):
            warnings.warn("None of the inputs have requires_grad=True. Gradients will be None",
                          stacklevel=2)
        ctx.fn = run_function
        ctx.rng = _capture_rng() if preserve_rng_state else None
        # tensors go through save_for_backward; everything else is kept by position
        ctx.slots = [("t", None) if _is_tensor(a) else ("v", a) for a in args]
        ctx.save_for_backward(*(a for a in args if _is_tensor(a)))
        with no_grad():
            return run_function(*args)

    @staticmethod
    def backward(ctx, *grads):
        from ..autograd import backward as run_backward

        saved = iter(ctx.saved_tensors)
        args = tuple(next(saved) if kind == "t" else val for kind, val in ctx.slots)
        with _maybe_rng(ctx.rng):
            fresh = detach_variable(args)
            with enable_grad():
                result = ctx.fn(*fresh)
        if _is_tensor(result):
            result = (result,)
        pairs = [(out, g) for out, g in zip(result, grads)
                 if _is_tensor(out) and out.requires_grad]
        if not pairs:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is "
                               "not necessary")
        run_backward([out for out, _ in pairs], [g for _, g in pairs])
        arg_grads = tuple(a.grad if _is_tensor(a) else None for a in fresh)
        return (None, None, *arg_grads)


# -- non-reentrant implementation ------------------------------------------------------------
def _describe(t) -> tuple:
    return tuple(t.shape), t.dtype, t.device


class _SavedStore:
    """Bookkeeping for one non-reentrant checkpoint: records what the first run saved
    (metadata only) and, on the first request from backward, re-runs to obtain it."""

    def __init__(self, rerun) -> None:
        self._rerun = rerun
        self._expected: list = []
        self._values: list | None = None

    def pack(self, t) -> int:
        self._expected.append(_describe(t))
        return len(self._expected) - 1

    def _regenerate(self) -> list:
        captured: list = []

        def keep(t) -> int:
            captured.append(t)
            return len(captured) - 1

        with saved_tensors_hooks(keep, captured.__getitem__):
            self._rerun()
        n_first, n_again = len(self._expected), len(captured)
        if n_again < n_first:
            raise CheckpointError(
                _PREFIX + "A different number of tensors was saved during the original "
                f"forward and recomputation.\nNumber of tensors saved during forward: "
                f"{n_first}\nNumber of tensors saved during recomputation: {n_again}")
        for pos, (before, t) in enumerate(zip(self._expected, captured)):
            after = _describe(t)
            if after != before:
                raise CheckpointError(
                    _PREFIX + "Recomputed values for the following tensors have different "
                    f"metadata than during the forward pass.\ntensor at position {pos}:\n"
                    f"saved metadata: {before}\nrecomputed metadata: {after}")
        return captured

    def unpack(self, pos: int):
        if self._values is None:
            self._values = self._regenerate()
        return self._values[pos]


def _run_non_reentrant(function, preserve: bool, context_fn, args, kwargs):
    snapshot = _capture_rng() if preserve else None
    first_ctx, again_ctx = context_fn()

    def rerun() -> None:
        with _maybe_rng(snapshot), enable_grad(), again_ctx:
            function(*args, **kwargs)

    store = _SavedStore(rerun)
    with saved_tensors_hooks(store.pack, store.unpack), first_ctx:
        return function(*args, **kwargs)


# -- public functions ------------------------------------------------------------------------
def _unexpected_kwargs(kwargs) -> ValueError:
    return ValueError("Unexpected keyword arguments: " + ",".join(kwargs))


def checkpoint(function, *args, use_reentrant=None, context_fn=noop_context_fn,
               determinism_check: str = "default", debug: bool = False,
               early_stop: bool = True, **kwargs):
    """Calls ``function(*args, **kwargs)`` without storing its activations; they are
    recomputed during backward (the two modes are described in the module docstring).
    The keyword ``preserve_rng_state`` (default True) makes the re-run see the same random
    numbers.

    In ember the non-reentrant mode always re-runs the full function (``early_stop`` has
    no effect) and ``determinism_check="default"`` compares shapes, dtypes and devices."""
    if use_reentrant is None:
        warnings.warn(
            _PREFIX + "the use_reentrant parameter should be passed explicitly. "
            "Starting in PyTorch 2.9, calling checkpoint without use_reentrant will raise an "
            "exception. use_reentrant=False is recommended, but if you need to preserve the "
            "current default behavior, you can pass use_reentrant=True. Refer to docs for "
            "more details on the differences between the two variants.", stacklevel=2)
        use_reentrant = True
    keep_rng = kwargs.pop("preserve_rng_state", True)
    if use_reentrant and kwargs:
        raise _unexpected_kwargs(kwargs)
    if determinism_check not in ("default", "none"):
        raise ValueError("determinism_check should be one of ['default', 'none'], but got "
                         f"{determinism_check}")
    if not use_reentrant:
        return _run_non_reentrant(function, keep_rng, context_fn, args, kwargs)
    if context_fn is not noop_context_fn:
        raise ValueError("Passing `context_fn` or `debug` is only supported when "
                         "use_reentrant=False.")
    return CheckpointFunction.apply(function, keep_rng, *args)


def _chain(stages):
    """A callable applying ``stages`` one after another."""
    def run(x):
        for stage in stages:
            x = stage(x)
        return x
    return run


def checkpoint_sequential(functions, segments: int, input, use_reentrant=None, **kwargs):
    """Runs ``functions`` (an ``nn.Sequential`` or a list of callables) on ``input`` in
    ``segments`` consecutive pieces, checkpointing every piece except the final one."""
    if use_reentrant is None:
        warnings.warn(
            _PREFIX[:-2] + ".checkpoint_sequential: the use_reentrant parameter should "
            "be passed explicitly. In version 2.9 we will raise an exception if use_reentrant "
            "is not passed. use_reentrant=False is recommended, but if you need to preserve "
            "the current default behavior, you can pass use_reentrant=True. Refer to docs for "
            "more details on the differences between the two variants.", stacklevel=2)
        use_reentrant = True
    keep_rng = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise _unexpected_kwargs(kwargs)
    from ..nn import Sequential

    stages = list(functions.children()) if isinstance(functions, Sequential) else functions
    size = len(stages) // segments
    cut = size * (segments - 1)  # the stages before ``cut`` are checkpointed
    x = input
    for lo in range(0, cut, size):
        x = checkpoint(_chain(stages[lo:lo + size]), x, use_reentrant=use_reentrant,
                       preserve_rng_state=keep_rng)
    return _chain(stages[cut:])(x)
