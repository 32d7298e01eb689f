"""SpecAugment masks: ``mask_along_axis`` (one mask shared by the batch) and
``mask_along_axis_iid`` (one mask per example and channel), as in ``torchaudio.functional``.

A mask is the band ``[start, start + width)`` of the frequency or time axis, with
``width ~ U(0, mask_param)`` and ``start ~ U(0, size - width)``. Masks are built by comparing
an ``arange`` with the drawn bounds, so a batch costs one broadcast ``where``.
"""

from __future__ import annotations

import ember
from ember import Tensor

__all__ = ["mask_along_axis", "mask_along_axis_iid"]


def _get_mask_param(mask_param: int, p: float, axis_length: int) -> int:
    if p == 1.0:
        return mask_param
    return min(mask_param, int(axis_length * p))


def _check_axis(dim: int, axis: int, p: float) -> None:
    if axis not in (dim - 2, dim - 1):
        raise ValueError("Only Frequency and Time masking are supported"
                         f" (axis {dim - 2} and axis {dim - 1} supported; {axis} given).")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"The value of p must be between 0.0 and 1.0 ({p} given).")


def mask_along_axis_iid(specgrams: Tensor, mask_param: int, mask_value: float | Tensor,
                        axis: int, p: float = 1.0) -> Tensor:
    """Apply a mask along ``axis``, drawn independently for every example and channel.

    ``specgrams`` is (batch, channel, freq, time) or more generally (..., freq, time) with at
    least three dimensions; ``axis`` is ``dim - 2`` (frequency) or ``dim - 1`` (time).
    ``p`` caps the mask width at ``p * size``. The masked band is filled with
    ``mask_value`` (a float or a scalar Tensor, which then receives gradients)."""
    dim = specgrams.dim()
    if dim < 3:
        raise ValueError(f"Spectrogram must have at least three dimensions ({dim} given).")
    _check_axis(dim, axis, p)
    mask_param = _get_mask_param(mask_param, p, specgrams.shape[axis])
    if mask_param < 1:
        return specgrams
    device, dtype = specgrams.device, specgrams.dtype
    batch_shape = tuple(specgrams.shape[:dim - 2])
    value = ember.rand(batch_shape, device=device, dtype=dtype) * mask_param
    min_value = ember.rand(batch_shape, device=device, dtype=dtype) * \
        (specgrams.shape[axis] - value)
    mask_start = min_value.long()[..., None, None]  # (..., 1, 1)
    mask_end = (min_value.long() + value.long())[..., None, None]
    mask = ember.arange(0, specgrams.shape[axis], device=device, dtype=dtype)
    specgrams = specgrams.transpose(axis, -1)
    band = (mask >= mask_start) & (mask < mask_end)  # (..., 1, size)
    if isinstance(mask_value, Tensor):
        specgrams = ember.where(band, mask_value.to(dtype), specgrams)
    else:
        specgrams = specgrams.masked_fill(band, mask_value)
    return specgrams.transpose(axis, -1)


def mask_along_axis(specgram: Tensor, mask_param: int, mask_value: float, axis: int,
                    p: float = 1.0) -> Tensor:
    """Apply one mask along ``axis``, shared by every example and channel of the batch.

    ``specgram`` is (..., freq, time) with at least two dimensions; ``axis`` is ``dim - 2``
    (frequency) or ``dim - 1`` (time)."""
    dim = specgram.dim()
    if dim < 2:
        raise ValueError("Spectrogram must have at least two dimensions (time and frequency) "
                         f"({dim} given).")
    _check_axis(dim, axis, p)
    mask_param = _get_mask_param(mask_param, p, specgram.shape[axis])
    if mask_param < 1:
        return specgram
    shape = specgram.shape
    specgram = specgram.reshape([-1] + list(shape[-2:]))  # (B, freq, time)
    size = specgram.shape[axis - dim + 3]
    value = float(ember.rand(1).item()) * mask_param
    min_value = float(ember.rand(1).item()) * (size - value)
    mask_start = int(min_value)
    mask_end = int(min_value) + int(value)
    mask = ember.arange(0, size, device=specgram.device, dtype=specgram.dtype)
    band = (mask >= mask_start) & (mask < mask_end)  # (size)
    if axis == dim - 2:
        band = band.unsqueeze(-1)  # (freq, 1)
    if mask_end - mask_start >= mask_param:
        raise ValueError("Number of columns to be masked should be less than mask_param")
    specgram = specgram.masked_fill(band, mask_value)
    return specgram.reshape(tuple(shape[:-2]) + tuple(specgram.shape[-2:]))
