"""``GradScaler``: dynamic loss scaling for float16 training, as ``torch.amp.GradScaler``.

``scaler.scale(loss).backward()`` multiplies the loss by the scale; ``scaler.step(opt)``
unscales the gradients (unless ``unscale_`` already did), skips the step when any gradient is
inf or NaN, and ``scaler.update()`` backs the scale off after a skipped step and grows it
after ``growth_interval`` clean steps.
"""

from __future__ import annotations

import math
import warnings
from collections import defaultdict
from enum import Enum

from .. import _device, _dtype
from ..ops.op import xp_of

__all__ = ["GradScaler", "OptState"]


class OptState(Enum):
    READY = 0
    UNSCALED = 1
    STEPPED = 2


def _fresh_state():
    return {"stage": OptState.READY, "found_inf": None}


class GradScaler:
    """Scales the loss to keep small float16 gradients representable (torch.amp.GradScaler).

    Args:
        device: the device type of the gradients (``"cuda"`` by default, as PyTorch; a
            ``"cuda"`` scaler without CUDA disables itself with a warning).
        init_scale: the first scale (2**16).
        growth_factor: the scale's factor after ``growth_interval`` steps without inf/NaN.
        backoff_factor: the scale's factor after a step with inf/NaN gradients.
        growth_interval: clean steps between growths (2000).
        enabled: False makes every method a pass-through.
    """

    def __init__(self, device: str = "cuda", init_scale: float = 2.0 ** 16,
                 growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True):
        self._device = str(device)
        if enabled and self._device.startswith("cuda") and not _device.cuda_available():
            warnings.warn("torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  "
                          "Disabling.", stacklevel=2)
            enabled = False
        self._enabled = bool(enabled)
        if self._enabled:
            if growth_factor <= 1.0:
                raise ValueError("The growth factor must be > 1.0.")
            if backoff_factor >= 1.0:
                raise ValueError("The backoff factor must be < 1.0.")
        self._scale = float(init_scale)
        self._init_scale = float(init_scale)
        self._growth_factor = float(growth_factor)
        self._backoff_factor = float(backoff_factor)
        self._growth_interval = int(growth_interval)
        self._growth_tracker = 0
        self._per_optimizer = defaultdict(_fresh_state)

    # scaling ----------------------------------------------------------------------------

    def scale(self, outputs):
        """``outputs`` (a tensor or nested tuples/lists of them) times the current scale."""
        if not self._enabled:
            return outputs
        if hasattr(outputs, "_data"):
            return outputs * self._scale_tensor(outputs)
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(o) for o in outputs)
        if hasattr(outputs, "__iter__"):
            return map(self.scale, outputs)
        raise ValueError("outputs must be a Tensor or an iterable of Tensors")

    def _scale_tensor(self, like):
        from .._creation import full

        return full((), self._scale, dtype=_dtype.float32, device=like.device)

    def unscale_(self, optimizer) -> None:
        """Divides ``optimizer``'s gradients by the scale in place and records whether any
        is inf/NaN (call it before clipping gradients)."""
        if not self._enabled:
            return
        st = self._per_optimizer[id(optimizer)]
        if st["stage"] is OptState.UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since the "
                               "last update().")
        if st["stage"] is OptState.STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        st["found_inf"] = self._unscale_grads(optimizer, 1.0 / self._scale)
        st["stage"] = OptState.UNSCALED

    def _unscale_grads(self, optimizer, inv_scale: float) -> bool:
        found = False
        for group in optimizer.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if g.dtype == _dtype.float16:
                    raise ValueError("Attempting to unscale FP16 gradients.")
                # a sparse COO gradient (Embedding(sparse=True)) scales its values
                data = g._data if hasattr(g, "_data") else g._values_t._data
                data *= data.dtype.type(inv_scale)
                if not found:
                    found = not bool(xp_of(data).isfinite(data).all())
        return found

    # stepping ---------------------------------------------------------------------------

    def step(self, optimizer, *args, **kwargs):
        """``optimizer.step()`` on unscaled gradients, skipped when any is inf/NaN; returns
        what ``step`` returned (None when skipped)."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is "
                               "enabled.")
        st = self._per_optimizer[id(optimizer)]
        if st["stage"] is OptState.STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if st["stage"] is OptState.READY:
            self.unscale_(optimizer)
        result = None
        if not st["found_inf"]:
            result = optimizer.step(*args, **kwargs)
        st["stage"] = OptState.STEPPED
        return result

    def update(self, new_scale=None) -> None:
        """Sets the scale for the next iteration: ``new_scale`` if given, else backed off
        after an inf/NaN step or grown after ``growth_interval`` clean steps."""
        if not self._enabled:
            return
        if new_scale is not None:
            self._scale = float(new_scale.item() if hasattr(new_scale, "item") else new_scale)
        else:
            flags = [s["found_inf"] for s in self._per_optimizer.values()
                     if s["found_inf"] is not None]
            if not flags:
                raise AssertionError("No inf checks were recorded prior to update.")
            if any(flags):
                self._scale *= self._backoff_factor
                self._growth_tracker = 0
            else:
                self._growth_tracker += 1
                if self._growth_tracker == self._growth_interval:
                    grown = _as_float32(self._scale * self._growth_factor)
                    if math.isfinite(grown):
                        self._scale = grown
                    self._growth_tracker = 0
            self._scale = _as_float32(self._scale)
        self._per_optimizer = defaultdict(_fresh_state)

    # accessors --------------------------------------------------------------------------

    def get_scale(self) -> float:
        """The current scale (1.0 when disabled)."""
        return self._scale if self._enabled else 1.0

    def get_growth_factor(self) -> float:
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        self._growth_factor = float(new_factor)

    def get_backoff_factor(self) -> float:
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        self._backoff_factor = float(new_factor)

    def get_growth_interval(self) -> int:
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        self._growth_interval = int(new_interval)

    def is_enabled(self) -> bool:
        """Whether the scaler scales at all."""
        return self._enabled

    def state_dict(self) -> dict:
        """The scale and its schedule (empty when disabled), with PyTorch's keys."""
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval,
                "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restores what ``state_dict`` returned."""
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved "
                               "from a disabled instance of GradScaler.")
        self._scale = float(state_dict["scale"])
        self._init_scale = self._scale
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._growth_tracker = int(state_dict["_growth_tracker"])


def _as_float32(x: float) -> float:
    """``x`` rounded to float32, as PyTorch keeps the scale in a float32 tensor."""
    import numpy as np

    return float(np.float32(x))
