"""``ember.backends.mps``: Apple's Metal backend is not supported by ember."""


def is_available() -> bool:
    """False: ember has no MPS backend."""
    return False


def is_built() -> bool:
    """False: ember has no MPS backend."""
    return False
