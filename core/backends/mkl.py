"""``ember.backends.mkl``: ember's BLAS is numpy's, not MKL."""

VERBOSE_OFF = 0
VERBOSE_ON = 1


def is_available() -> bool:
    """False: ember does not link MKL itself."""
    return False
