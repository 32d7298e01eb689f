"""The CPU random stream of PyTorch: a 32-bit Mersenne Twister and PyTorch's transforms.

``ember.manual_seed(s); ember.rand(...)`` gives the numbers ``torch.manual_seed(s);
torch.rand(...)`` gives: the engine is MT19937 initialised from the seed's low 32 bits
(numpy's ``MT19937`` with its legacy seeding is the same engine), and the draws are
transformed as PyTorch's CPU kernels transform them:

- uniform: a float32 (and float16, bfloat16) value from the low 24 bits of one 32-bit draw,
  a float64 from the low 53 bits of a 64-bit draw (two 32-bit draws, the first the high
  half), scaled to [from, to) in double precision and rounded to the dtype;
- normal, 16 or more values: uniforms for all of them, then Box-Muller on each block of 16
  (values j and j + 8 of a block from one pair; a last partial block redrawn over the final
  16 positions); fewer values: one pair of double uniforms per two values, the second
  value kept for the next draw;
- integers on [low, high): ``draw % (high - low) + low``, a 32-bit draw when the range fits
  in 32 bits, else a 64-bit one;
- permutations: Fisher-Yates with ``draw % (n - i)``.

Equal bit for bit to PyTorch 2.13's for ``rand``/``uniform_``, float64 ``randn``/
``normal_``, ``randint``/``random_`` and ``randperm``, and so for the default
initialisation of ``nn.Linear``, ``nn.Conv*``, ``nn.LSTM``... (``tests/core/
test_torch_stream.py``). PyTorch's float32 Box-Muller runs on vectorised approximations of
log/sin/cos; computed here with numpy's float32 functions, float32 normals agree to a few
units in the last place. Bernoulli draws and dropout masks compare a uniform with the
probability as PyTorch's CPU kernels do (a double uniform for a number, a float one for a
tensor of probabilities; PyTorch on Intel CPUs draws number-probability masks with MKL
instead); ``exponential_`` is ``-log1p(-u) / lambda`` of a double uniform, and
``multinomial`` searches the cumulative weights for double uniforms (with replacement) or
takes the largest ``weight / exponential`` (without), as PyTorch's. Other distributions
(gamma, poisson, ...) draw from the same engine through numpy's algorithms: reproducible,
not PyTorch's numbers.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["TorchStream"]

_U64 = np.uint64


def _digits(dtype: np.dtype) -> int:
    """Bits of a uniform draw: 53 for float64, else 24 (float32, and the half types, whose
    values PyTorch rounds from float32 draws)."""
    return 53 if dtype == np.float64 else 24


class TorchStream:
    """PyTorch's CPU generator: MT19937 draws with PyTorch's transforms, behind the numpy
    ``Generator`` methods ember's code calls (``random``, ``standard_normal``, ``integers``,
    ``uniform``, ``normal``, ``permutation``; anything else is numpy's algorithm on the same
    engine)."""

    def __init__(self, seed: int):
        self.bit_generator = np.random.MT19937(0)
        self.bit_generator._legacy_seeding(int(seed) & 0xFFFF_FFFF)
        self._numpy = np.random.Generator(self.bit_generator)
        self.next_normal = None  # the cached second value of a scalar Box-Muller pair

    # -- state ---------------------------------------------------------------------------
    @property
    def state(self):
        return (self.bit_generator.state, self.next_normal)

    @state.setter
    def state(self, value) -> None:
        self.bit_generator.state, self.next_normal = value

    def __getattr__(self, name):  # other distributions: numpy's, on the same engine
        return getattr(self._numpy, name)

    # -- raw draws -----------------------------------------------------------------------
    def draw32(self, n: int) -> np.ndarray:
        """``n`` 32-bit draws (as uint64)."""
        return self.bit_generator.random_raw(n).astype(_U64, copy=False)

    def draw64(self, n: int) -> np.ndarray:
        """``n`` 64-bit draws, each from two 32-bit ones (the first the high half)."""
        r = self.draw32(2 * n)
        return (r[0::2] << _U64(32)) | r[1::2]

    def _bits(self, n: int, dtype: np.dtype) -> tuple:
        """``n`` draws' low 24 (float64: 53) bits as floats of ``work`` precision, and the
        scale 2^-bits: the uniforms are ``bits * scale`` (exact)."""
        if _digits(dtype) == 53:
            bits = (self.draw64(n) & _U64((1 << 53) - 1)).astype(np.float64)
            return bits, 2.0 ** -53
        raw = self.bit_generator.random_raw(n).astype(np.uint32)
        raw &= np.uint32(0xFFFFFF)
        return raw, 2.0 ** -24

    def _unit(self, n: int, dtype: np.dtype, work=np.float64) -> np.ndarray:
        """``n`` uniforms on [0, 1) of ``dtype``'s resolution, as ``work`` floats (exact:
        24-bit values fit float32, 53-bit ones float64)."""
        bits, scale = self._bits(n, dtype)
        out = bits.astype(work, copy=False)
        out *= work(scale)
        return out

    # -- PyTorch's transforms ------------------------------------------------------------
    def uniform_of(self, shape, low: float, high: float, dtype) -> np.ndarray:
        """``uniform_(low, high)`` of a ``dtype`` tensor of ``shape``: low and high in float32
        (float64 for float64), ``x * (high - low) + low`` in double, rounded to ``dtype``."""
        dtype = np.dtype(dtype)
        n = int(np.prod(shape, dtype=np.int64))
        bounds = np.float64 if dtype == np.float64 else np.float32
        lo, hi = np.asarray([low, high], dtype=bounds).astype(np.float64)
        if lo == 0 and hi == 1 and dtype != np.float64:  # bits * 2^-24: exact in float32
            return self._unit(n, dtype, np.float32).astype(dtype, copy=False).reshape(shape)
        bits, scale = self._bits(n, dtype)
        x = bits.astype(np.float64)
        x *= scale * (hi - lo)  # (bits * scale) * (hi - lo): one rounding either way
        x += lo
        return x.astype(dtype, copy=False).reshape(shape)

    def normal_of(self, shape, mean: float, std: float, dtype,
                  contiguous: bool = True) -> np.ndarray:
        """``normal_(mean, std)`` of a ``dtype`` tensor of ``shape`` (PyTorch draws a
        non-contiguous one value by value, in memory order: give the permuted shape)."""
        dtype = np.dtype(dtype)
        n = int(np.prod(shape, dtype=np.int64))
        if n < 16 or not contiguous:
            out = np.array([self._scalar_normal() * std + mean for _ in range(n)])
            return out.astype(dtype).reshape(shape)
        work = np.float64 if dtype == np.float64 else np.float32
        data = self._unit(n, dtype, work)
        blocks = n // 16
        _box_muller(data[:blocks * 16].reshape(blocks, 16), mean, std, work)
        if n % 16:  # the last 16 positions again, from fresh uniforms
            tail = self._unit(16, dtype, work)
            _box_muller(tail.reshape(1, 16), mean, std, work)
            data[n - 16:] = tail
        return data.astype(dtype).reshape(shape)

    def _scalar_normal(self) -> float:
        """One standard normal value: PyTorch's ``normal_distribution<double>``."""
        if self.next_normal is not None:
            v, self.next_normal = self.next_normal, None
            return v
        u1, u2 = self._unit(2, np.dtype(np.float64))
        r = math.sqrt(-2.0 * math.log1p(-u2))
        theta = 2.0 * math.pi * u1
        self.next_normal = r * math.sin(theta)
        return r * math.cos(theta)

    # -- numpy Generator methods ---------------------------------------------------------
    def random(self, size=None, dtype=np.float64, out=None):
        shape = () if size is None else size
        r = self.uniform_of(shape, 0.0, 1.0, dtype)
        return r if size is not None else r.item()

    def standard_normal(self, size=None, dtype=np.float64, out=None):
        shape = () if size is None else size
        r = self.normal_of(shape, 0.0, 1.0, dtype)
        return r if size is not None else r.item()

    def uniform(self, low=0.0, high=1.0, size=None):
        shape = () if size is None else size
        r = self.uniform_of(shape, low, high, np.float64)
        return r if size is not None else r.item()

    def normal(self, loc=0.0, scale=1.0, size=None):
        shape = () if size is None else size
        r = self.normal_of(shape, loc, scale, np.float64)
        return r if size is not None else r.item()

    def integers(self, low, high=None, size=None, dtype=np.int64, endpoint=False):
        """Integers on [low, high) (``endpoint``: [low, high]): ``draw % range + low``."""
        if high is None:
            low, high = 0, low
        low, high = int(low), int(high) + (1 if endpoint else 0)
        span = high - low
        if span <= 0:
            raise ValueError("integers: low >= high")
        n = 1 if size is None else int(np.prod(size, dtype=np.int64))
        raw = self.draw32(n) if span < 2 ** 32 else self.draw64(n)
        vals = (raw % _U64(span)).astype(object if span > 2 ** 63 else np.int64) + low
        r = np.asarray(vals).astype(dtype)
        return r.reshape(size) if size is not None else r.reshape(()).item()

    def permutation(self, x):
        """A permutation of ``range(x)`` (or of ``x``'s first axis), as ``randperm``."""
        if isinstance(x, (int, np.integer)):
            return self.randperm(int(x))
        x = np.asarray(x)
        return x[self.randperm(x.shape[0])]

    def randperm(self, n: int) -> np.ndarray:
        """PyTorch's CPU ``randperm``: Fisher-Yates, position i swapped with
        ``i + draw % (n - i)``."""
        if n <= 1:
            return np.arange(n, dtype=np.int64)
        raw = self.draw32(n - 1) if n < (2 ** 32 - 1) // 20 else self.draw64(n - 1)
        targets = (raw % np.arange(n, 1, -1, dtype=_U64)).astype(np.int64)
        targets += np.arange(n - 1, dtype=np.int64)
        r = list(range(n))
        for i, j in enumerate(targets.tolist()):  # sequential swaps: each reads the last
            r[i], r[j] = r[j], r[i]
        return np.asarray(r, dtype=np.int64)


def _box_muller(blocks, mean, std, work) -> None:
    """In place: each row of 16 uniforms becomes 16 normals (values j and j + 8 of a row
    from one pair, ``u1 = 1 - row[j]``, ``u2 = row[j + 8]``)."""
    one, two_pi = work(1), work(2.0 * math.pi)
    radius = np.subtract(one, blocks[:, :8])  # (rows, 8), contiguous from here on
    np.log(radius, out=radius)
    radius *= work(-2)
    np.sqrt(radius, out=radius)
    theta = np.multiply(two_pi, blocks[:, 8:])
    for half, fn in ((slice(0, 8), np.cos), (slice(8, 16), np.sin)):
        v = fn(theta)
        v *= radius
        v *= work(std)
        v += work(mean)
        blocks[:, half] = v
