"""``ember.fx.experimental.proxy_tensor``: ember traces with ``ember.fx.symbolic_trace``
only; it has no ``make_fx`` dispatch-mode tracing, so no proxy mode is ever active."""

from __future__ import annotations

__all__ = ["get_proxy_mode"]


def get_proxy_mode() -> None:
    """The active proxy tracing mode: always None in ember (there is none to enter)."""
    return None
