"""How a recorded ``ember.nn.functional`` call spells its arguments.

PyTorch's FX records a call of most Python-level ``torch.nn.functional`` functions in one
normalized form, whatever the caller wrote: the first *k* parameters positionally and every
other parameter as a keyword, defaults included (``F.relu(x)`` is recorded as
``relu(x, inplace=False)``, ``F.max_pool2d(x, 2)`` as ``max_pool2d(x, 2, stride=None,
padding=0, ...)``). ``POSITIONAL`` gives *k* for each function, as observed on torch 2.13;
functions not listed (those torch implements natively: ``linear``, ``conv2d``, ``gelu``,
...) are recorded as called. ember's ``nn.functional`` signatures match torch's, so binding
the call to the ember signature reproduces torch's node arguments.
"""

from __future__ import annotations

import inspect

__all__ = ["POSITIONAL", "normalize_call"]

_ONE = ("alpha_dropout", "celu", "dropout", "dropout1d", "dropout2d", "dropout3d", "elu",
        "feature_alpha_dropout", "glu", "hardsigmoid", "hardswish", "hardtanh", "instance_norm",
        "interpolate", "leaky_relu", "log_softmax", "mish", "normalize", "relu", "relu6",
        "selu", "silu", "softmax", "softmin", "softsign", "tanhshrink")
_TWO = ("adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
        "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
        "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
        "adaptive_max_pool3d_with_indices", "binary_cross_entropy",
        "binary_cross_entropy_with_logits", "cross_entropy", "embedding", "group_norm",
        "hinge_embedding_loss", "huber_loss", "kl_div", "l1_loss", "layer_norm",
        "local_response_norm", "max_pool1d", "max_pool2d", "max_pool3d",
        "max_pool1d_with_indices", "max_pool2d_with_indices", "max_pool3d_with_indices",
        "mse_loss", "multi_margin_loss", "multilabel_margin_loss",
        "multilabel_soft_margin_loss", "nll_loss", "pad", "poisson_nll_loss", "rms_norm",
        "smooth_l1_loss", "soft_margin_loss", "unfold")
_THREE = ("batch_norm", "cosine_embedding_loss", "fold", "gaussian_nll_loss", "lp_pool1d",
          "lp_pool2d", "lp_pool3d", "margin_ranking_loss", "max_unpool1d", "max_unpool2d",
          "max_unpool3d", "threshold", "triplet_margin_loss",
          "triplet_margin_with_distance_loss")

POSITIONAL: dict[str, int] = {**dict.fromkeys(_ONE, 1), **dict.fromkeys(_TWO, 2),
                              **dict.fromkeys(_THREE, 3)}

_SIGNATURES: dict[int, inspect.Signature | None] = {}


def _signature(fn, original) -> inspect.Signature | None:
    sig = _SIGNATURES.get(id(fn), False)
    if sig is False:
        try:
            sig = inspect.signature(getattr(fn, "__wrapped__", None) or original)
        except (TypeError, ValueError):
            sig = None
        if sig is not None and any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
                                   for p in sig.parameters.values()):
            sig = None
        _SIGNATURES[id(fn)] = sig
    return sig


def normalize_call(fn, args: tuple, kwargs: dict, original=None) -> tuple[tuple, dict]:
    """``args``/``kwargs`` of a call of ``fn`` in the form torch's FX records (see the module
    docstring); unchanged for other functions or calls that don't bind. ``original`` is a
    function with ``fn``'s original code (``fn``'s own code is swapped during a trace)."""
    from ._targets import public_functions

    entry = public_functions().get(id(fn))
    if entry is None or entry[2] is not fn or entry[0] != "ember.nn.functional":
        return args, kwargs
    k = POSITIONAL.get(entry[1])
    sig = _signature(fn, original or fn) if k is not None else None
    if sig is None:
        return args, kwargs
    try:
        bound = sig.bind(*args, **kwargs)
    except TypeError:
        return args, kwargs
    bound.apply_defaults()
    values = list(bound.arguments.items())
    return tuple(v for _, v in values[:k]), dict(values[k:])
