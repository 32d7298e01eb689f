"""``functional_call``: running a module with some of its parameters and buffers replaced
by given tensors (the module is restored afterwards), as
``torch.nn.utils.stateless`` / ``torch.func.functional_call``."""

from __future__ import annotations

import contextlib

from ..._tensor import Tensor

__all__ = ["functional_call"]


def _owner(module, name: str):
    prefix, _, attr = name.rpartition(".")
    return (module.get_submodule(prefix) if prefix else module), attr


@contextlib.contextmanager
def _reparametrize_module(module, parameters_and_buffers, *, tie_weights: bool = False,
                          strict: bool = False):
    values = dict(parameters_and_buffers)
    if tie_weights:
        # a tensor shared under several names follows the value given for any of them
        by_id: dict = {}
        for name, t in list(module.named_parameters(remove_duplicate=False)) + \
                list(module.named_buffers(remove_duplicate=False)):
            by_id.setdefault(id(t), []).append(name)
        for names in by_id.values():
            given = [n for n in names if n in values]
            if given:
                if len({id(values[n]) for n in given}) > 1:
                    raise ValueError(f"functional_call got multiple values for keys "
                                     f"{sorted(names)}, which are tied. Consider using "
                                     "tie_weights=False")
                for n in names:
                    values.setdefault(n, values[given[0]])
    if strict:
        expected = {n for n, _ in module.named_parameters(remove_duplicate=False)} | \
            {n for n, _ in module.named_buffers(remove_duplicate=False)}
        missing = sorted(expected - set(values))
        unexpected = sorted(set(values) - expected)
        if missing or unexpected:
            msg = []
            if unexpected:
                msg.append("Unexpected key(s): " + ", ".join(repr(k) for k in unexpected) + ".")
            if missing:
                msg.append("Missing key(s): " + ", ".join(repr(k) for k in missing) + ".")
            raise RuntimeError("Error(s) in reparametrizing for " + module._get_name() +
                               ":\n\t" + "\n\t".join(msg))
    saved = []
    try:
        for name, value in values.items():
            owner, attr = _owner(module, name)
            for store in (owner._parameters, owner._buffers):
                if attr in store:
                    saved.append((name, store, attr, store[attr]))
                    store[attr] = value
                    break
            else:
                # a plain attribute, or a parametrized tensor (whose setter calls
                # right_inverse): assigned with setattr, as PyTorch
                old = getattr(owner, attr, _MISSING)
                if old is not _MISSING and not isinstance(old, Tensor) and old is not None:
                    raise TypeError(f"attribute `{attr}`: {old} is not an instance of "
                                    "torch.Tensor")
                saved.append((name, owner, attr, old))
                setattr(owner, attr, value)
        yield
    finally:
        current = {}
        for name, store, attr, old in reversed(saved):
            if isinstance(store, dict):
                current[name] = store.get(attr, _MISSING)
                store[attr] = old
                continue
            current[name] = getattr(store, attr, _MISSING)
            if old is not _MISSING:
                setattr(store, attr, old)
            elif hasattr(store, attr):
                delattr(store, attr)
        # as PyTorch, the given dict sees what forward assigned (``self.x = self.x + 1``)
        if isinstance(parameters_and_buffers, dict):
            for name in parameters_and_buffers:
                if current.get(name, _MISSING) is not _MISSING:
                    parameters_and_buffers[name] = current[name]


_MISSING = object()


def functional_call(module, parameters_and_buffers, args=None, kwargs=None, *,
                    tie_weights: bool = True, strict: bool = False):
    """Calls ``module(*args, **kwargs)`` with the tensors of ``parameters_and_buffers``
    (a dict keyed by dotted names, or a tuple of such dicts) in place of the module's own;
    gradients flow to the given tensors."""
    if isinstance(parameters_and_buffers, (list, tuple)):
        if not all(isinstance(d, dict) for d in parameters_and_buffers):
            raise ValueError("Expected all elements of parameter_and_buffer_dicts to be "
                             "dictionaries")
        merged: dict = {}
        repeated = []
        for d in parameters_and_buffers:
            for k, v in d.items():
                if k in merged and k not in repeated:
                    repeated.append(k)
                merged[k] = v
        if repeated:
            raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of "
                             "functional call is ambiguous")
        parameters_and_buffers = merged
    elif not isinstance(parameters_and_buffers, dict):
        raise ValueError("Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of "
                         f"dicts, but got {type(parameters_and_buffers)}")
    if kwargs is None:
        kwargs = {}
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    with _reparametrize_module(module, parameters_and_buffers, tie_weights=tie_weights,
                               strict=strict):
        return module(*args, **kwargs)
