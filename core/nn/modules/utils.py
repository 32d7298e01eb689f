"""Argument helpers under PyTorch's path ``torch.nn.modules.utils`` (``_pair`` and
friends), which user code and torchvision-style ops import."""

from __future__ import annotations

from ..functional._utils import _ntuple, _pair, _quadruple, _single, _triple

__all__ = ["_single", "_pair", "_triple", "_quadruple", "_ntuple", "_reverse_repeat_tuple",
           "consume_prefix_in_state_dict_if_present"]


def _reverse_repeat_tuple(t, n: int) -> tuple:
    """``t`` reversed with each element repeated ``n`` times: (1, 2) -> (2, 2, 1, 1)."""
    return tuple(x for x in reversed(t) for _ in range(n))


def consume_prefix_in_state_dict_if_present(state_dict, prefix: str) -> None:
    """Strips ``prefix`` from the keys of ``state_dict`` (and of its ``_metadata``) in place,
    e.g. the ``module.`` that a DataParallel/DistributedDataParallel checkpoint carries."""
    for key in [k for k in state_dict if k.startswith(prefix)]:
        state_dict[key[len(prefix):]] = state_dict.pop(key)
    metadata = getattr(state_dict, "_metadata", None)
    if metadata is not None:
        for key in list(metadata):
            if len(key) == 0:
                continue
            if key == prefix.replace(".", "") or key.startswith(prefix):
                metadata[key[len(prefix):]] = metadata.pop(key)
