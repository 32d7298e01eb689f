"""``ember.backends.mha``: the switch PyTorch offers for its fused ``MultiheadAttention`` /
``TransformerEncoder`` inference path. ember has no fused kernels; the switch only decides
whether ``TransformerEncoder`` mimics that path's visible effect (outputs at padded
positions set to zero), as PyTorch does."""

_is_fastpath_enabled: bool = True


def get_fastpath_enabled() -> bool:
    """Whether the transformer inference fast path is enabled (the default)."""
    return _is_fastpath_enabled


def set_fastpath_enabled(value: bool) -> None:
    """Enables or disables the transformer inference fast path."""
    global _is_fastpath_enabled
    _is_fastpath_enabled = bool(value)
