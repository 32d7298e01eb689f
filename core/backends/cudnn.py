"""``ember.backends.cudnn``: flags PyTorch programs set. ember does not use cuDNN; the flags
are accepted and stored so such programs run unchanged."""

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    """False: ember does not use cuDNN."""
    return False


def version():
    """None: ember does not use cuDNN."""
    return None
