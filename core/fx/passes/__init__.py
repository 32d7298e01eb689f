"""Graph passes over ``ember.fx`` graphs, as ``torch.fx.passes`` (``shape_prop``)."""

from . import shape_prop  # noqa: F401

__all__ = ["shape_prop"]
