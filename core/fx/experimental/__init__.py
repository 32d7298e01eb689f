"""``ember.fx.experimental``: the parts of ``torch.fx.experimental`` that libraries probe
(``proxy_tensor.get_proxy_mode``)."""

from . import proxy_tensor  # noqa: F401
