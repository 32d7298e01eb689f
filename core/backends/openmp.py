"""``ember.backends.openmp``: ember splits work over Python threads, not OpenMP."""


def is_available() -> bool:
    """False: ember does not use OpenMP itself."""
    return False
