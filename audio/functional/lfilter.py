"""IIR filtering: ``lfilter`` and ``filtfilt``, as in ``torchaudio.functional``.

``lfilter`` runs the difference equation

    a[0] y[n] = sum_k b[k] x[n - k] - sum_{k >= 1} a[k] y[n - k]

in two steps. The feed-forward (FIR) part is one grouped ``conv1d``. The feedback (IIR) part
is a linear recurrence on the state ``s[n] = (y[n], ..., y[n - p + 1])``,
``s[n] = M s[n - 1] + e1 u[n]`` with ``M`` the companion matrix of ``a``, which is computed
by a parallel prefix scan (recursive doubling): after step ``j`` every ``s[n]`` holds the
contributions of the last ``2**j`` inputs, and one step adds ``M**(2**j) s[n - 2**j]``. So
the Python loop runs ``log2(time)`` times, never over samples, and the whole filter is made
of ember ops: differentiable with respect to the waveform and both coefficient tensors, to
any order. The scan runs in float64 whatever the input dtype (powers of the companion matrix
of a resonant filter lose more to float32 rounding than a sample-by-sample loop does), so a
float32 result is at least as accurate as torchaudio's float32 loop.
"""

from __future__ import annotations

import ember
from ember import Tensor

__all__ = ["lfilter", "filtfilt"]


def _fir(waveform: Tensor, b: Tensor) -> Tensor:
    """(B, C, T) filtered by the (C, N) numerator: one grouped causal ``conv1d``."""
    n_order, n_channel = b.shape[1], b.shape[0]
    padded = ember.nn.functional.pad(waveform, (n_order - 1, 0))
    return ember.nn.functional.conv1d(padded, b.flip(1).unsqueeze(1), groups=n_channel)


def _companion(a: Tensor) -> Tensor:
    """The (C, p, p) companion matrices of the normalized (C, p + 1) denominators."""
    n_channel, p = a.shape[0], a.shape[1] - 1
    first = -a[:, 1:].unsqueeze(1)  # (C, 1, p)
    if p == 1:
        return first
    shift = ember.eye(p - 1, p, dtype=a.dtype, device=a.device)  # (p-1, p)
    return ember.cat([first, shift.expand(n_channel, p - 1, p)], dim=1)


def _iir(u: Tensor, a: Tensor) -> Tensor:
    """All-pole recursion ``y[n] = u[n] - sum_{k>=1} a[k] y[n-k]`` of (B, C, T) with the
    normalized (C, p + 1) denominators, by a recursive-doubling scan."""
    p = a.shape[1] - 1
    if p == 0:
        return u
    dtype = u.dtype
    if dtype != ember.float64:
        # the powers M ** (2 ** j) of a resonant filter lose more to rounding than a
        # sample-by-sample loop does, so the scan runs in float64 and rounds once at the end
        return _iir(u.to(ember.float64), a.to(ember.float64)).to(dtype)
    n_time = u.shape[-1]
    power = _companion(a).unsqueeze(0)  # (1, C, p, p): M ** (2 ** j)
    state = ember.nn.functional.pad(u.unsqueeze(-1), (0, p - 1))  # (B, C, T, p)
    step = 1
    while step < n_time:
        shifted = ember.nn.functional.pad(state[:, :, :n_time - step], (0, 0, step, 0))
        state = state + ember.matmul(shifted, power.transpose(-1, -2))  # (B, C, T, p)
        step *= 2
        if step < n_time:
            power = ember.matmul(power, power)
    return state[..., 0]


def lfilter(waveform: Tensor, a_coeffs: Tensor, b_coeffs: Tensor, clamp: bool = True,
            batching: bool = True) -> Tensor:
    """Perform an IIR filter by evaluating the difference equation.

    ``waveform`` is (..., time) in [-1, 1]; ``a_coeffs`` (denominator) and ``b_coeffs``
    (numerator) are (num_order + 1) or (num_filters, num_order + 1), lowest delay first
    (``[a0, a1, ...]``). With 2-D coefficients and ``batching=True``, filter ``i`` applies
    to ``waveform[..., i, :]``; with ``batching=False`` every filter applies to the whole
    waveform, giving (..., num_filters, time). ``clamp`` clips the output to [-1, 1]."""
    if tuple(a_coeffs.shape) != tuple(b_coeffs.shape):
        raise ValueError("Expected coeffs to be the same size."
                         f"Found: a_coeffs size: {a_coeffs.shape}, b_coeffs size: "
                         f"{b_coeffs.shape}")
    if a_coeffs.ndim > 2:
        raise ValueError("Expected coeffs to have greater than 1 dimension. Found: "
                         f"{a_coeffs.ndim}")
    if a_coeffs.ndim > 1:
        if batching:
            if waveform.ndim <= 0:
                raise ValueError("Expected waveform to have a positive number of dimensions."
                                 f"Found: {waveform.ndim}")
            if waveform.shape[-2] != a_coeffs.shape[0]:
                raise ValueError("Expected number of batches in waveform and coeffs to be the "
                                 f"same.Found: coeffs batches: {a_coeffs.shape[0]}, waveform "
                                 f"batches: {waveform.shape[-2]}")
        else:
            waveform = ember.stack([waveform] * a_coeffs.shape[0], -2)
    else:
        a_coeffs = a_coeffs.unsqueeze(0)
        b_coeffs = b_coeffs.unsqueeze(0)
    shape = waveform.shape
    waveform = waveform.reshape(-1, a_coeffs.shape[0], shape[-1])  # (B, C, T)
    a0 = a_coeffs[:, 0:1]
    output = _iir(_fir(waveform, b_coeffs / a0), a_coeffs / a0)
    if clamp:
        output = ember.clamp(output, min=-1.0, max=1.0)
    return output.reshape(tuple(shape[:-1]) + tuple(output.shape[-1:]))


def filtfilt(waveform: Tensor, a_coeffs: Tensor, b_coeffs: Tensor,
             clamp: bool = True) -> Tensor:
    """Apply an IIR filter forward and backward to a waveform (zero phase, squared
    magnitude response). Arguments as in ``lfilter`` with ``batching=True``."""
    forward = lfilter(waveform, a_coeffs, b_coeffs, clamp=False, batching=True)
    return lfilter(forward.flip(-1), a_coeffs, b_coeffs, clamp=clamp, batching=True).flip(-1)
