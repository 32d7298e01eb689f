"""Anomaly detection for the autograd engine: ``detect_anomaly`` and ``set_detect_anomaly``,
as in ``torch.autograd``.

While enabled:

- each op node records the stack trace of the forward call that created it
  (``record_forward_trace``, called by the op mechanism when ``_Anomaly.enabled``);
- after each node's backward, ``check_backward_output`` raises
  ``RuntimeError("Function 'MulBackward0' returned nan values in its 0th output.")`` when a
  gradient it produced holds a nan (with ``check_nan``);
- when a backward fails, ``warn_forward_trace`` shows where the failing node was created.

The engine and the op mechanism call these hooks; this module holds only the state and the
checks, so that the hot path costs one attribute read while anomaly mode is off.
"""

from __future__ import annotations

import functools
import traceback
import warnings

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
           "is_anomaly_check_nan_enabled", "check_backward_output", "record_forward_trace",
           "warn_forward_trace"]


class _Anomaly:
    """Process-wide anomaly-mode state (class attributes: read on every op when wired)."""

    enabled = False
    check_nan = True


def is_anomaly_enabled() -> bool:
    """True while anomaly detection is on."""
    return _Anomaly.enabled


def is_anomaly_check_nan_enabled() -> bool:
    """True while anomaly detection also checks backward outputs for nan."""
    return _Anomaly.check_nan


class detect_anomaly:
    """Context manager (and decorator) that enables anomaly detection for the autograd
    engine: backward errors show the forward call that created the failing node, and any
    backward output holding nan raises (``check_nan=True``). Slows things down: for
    debugging only."""

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan
        self._saved: list = []
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime "
                      "and should only be enabled for debugging.", stacklevel=2)

    def __enter__(self) -> None:
        self._saved.append((_Anomaly.enabled, _Anomaly.check_nan))
        _Anomaly.enabled = True
        _Anomaly.check_nan = self.check_nan

    def __exit__(self, *args) -> None:
        _Anomaly.enabled, _Anomaly.check_nan = self._saved.pop()

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self:
                return func(*args, **kwargs)
        return wrapper


class set_detect_anomaly:
    """Sets anomaly detection on or off (immediately); as a context manager, restores the
    previous setting on exit."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self.prev = _Anomaly.enabled
        self.prev_check_nan = _Anomaly.check_nan
        _Anomaly.enabled = bool(mode)
        _Anomaly.check_nan = bool(check_nan)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *args) -> None:
        _Anomaly.enabled = self.prev
        _Anomaly.check_nan = self.prev_check_nan


def record_forward_trace(node) -> None:
    """Stores the current stack (the forward call creating ``node``) on the node; call it
    from the op mechanism while ``_Anomaly.enabled``."""
    if _Anomaly.enabled:
        node._anomaly_trace = "".join(traceback.format_stack()[:-1])


def warn_forward_trace(node) -> None:
    """Warns with the forward trace recorded for ``node`` (call it when ``node``'s backward
    failed, before re-raising), as PyTorch's anomaly mode does."""
    trace = getattr(node, "_anomaly_trace", None)
    if trace is None:
        warnings.warn(f"Error detected in {node.name()}. No forward pass information available. "
                      "Enable detect anomaly during forward pass for more information.",
                      stacklevel=2)
        return
    warnings.warn(f"Error detected in {node.name()}. Traceback of forward call that caused the "
                  f"error:\n{trace}", stacklevel=2)


def check_backward_output(node, grads) -> None:
    """Raises ``RuntimeError`` if a gradient returned by ``node``'s backward holds nan (only
    while anomaly detection with ``check_nan`` is on)."""
    if not (_Anomaly.enabled and _Anomaly.check_nan):
        return
    if not isinstance(grads, (tuple, list)):
        grads = (grads,)
    for i, g in enumerate(grads):
        if g is None:
            continue
        data = g._values()._data if getattr(g, "is_sparse", False) else g._data
        if data.dtype.kind not in "fc":
            continue
        from ..ops.op import xp_of

        if bool(xp_of(data).isnan(data).any()):
            warn_forward_trace(node)
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th "
                               "output.")
