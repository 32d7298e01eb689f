"""Random sampling ops: ``poisson``, ``binomial``, ``bernoulli`` of a probability tensor, and
the in-place fills ``uniform_``, ``normal_``, ``exponential_``, ``geometric_``, ``cauchy_``,
``log_normal_``, ``random_`` and ``bernoulli_``.

Draws come from the tensor's device generator (``ember.manual_seed`` makes them
reproducible). Samples have no gradient with respect to the distribution parameters; as in
PyTorch a sample of a tensor that requires grad requires grad too, with a zero gradient.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _dtype, _random
from .._tensor import Tensor
from .op import Op, xp_of

__all__ = ["poisson", "binomial", "bernoulli", "fill_random"]


class Sampled(Op):
    """A precomputed sample of a distribution parametrised by the input (zero gradient)."""

    _name = "sample"

    def forward(self, x):
        return self.value

    def backward(self, g):
        return g * 0


def _pt_name(d) -> str:
    from .compare import _pt_name as f

    return f(d)


def poisson(input: Tensor, generator=None) -> Tensor:
    """Poisson draws with rates ``input`` (same dtype and shape)."""
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f"\"poisson_cpu\" not implemented for "
                                  f"'{_pt_name(input.dtype)}'")
    x = input._data
    if x.size and float(x.min()) < 0:
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    rng = _random.generator_for(input.device, generator)
    draw = rng.poisson(x.astype(np.float64)).astype(x.dtype)
    return Sampled.apply(input, value=draw)


def binomial(count: Tensor, prob: Tensor, generator=None) -> Tensor:
    """Binomial draws: successes in ``count`` trials of probability ``prob`` (broadcast
    together), in ``count``'s floating dtype."""
    for name, t in (("count", count), ("prob", prob)):
        if t._data.dtype.kind != "f":
            raise ValueError(f"binomial only supports floating-point dtypes for {name}, got: "
                               f"{_pt_name(t.dtype)}")
    n, p = count._data, prob._data
    if (n.size and float(n.min()) < 0) or (p.size and (float(p.min()) < 0 or
                                                       float(p.max()) > 1)):
        raise RuntimeError("binomial: expected count >= 0 and 0 <= prob <= 1")
    rng = _random.generator_for(count.device, generator)
    draw = rng.binomial(n.astype(np.int64), p.astype(np.float64)).astype(n.dtype)
    return Sampled.apply(count, value=xp_of(n).asarray(draw))


def bernoulli(input: Tensor, p=None, *, generator=None) -> Tensor:
    """0/1 draws with probabilities ``input`` (or the scalar ``p``), in ``input``'s dtype."""
    rng = _random.generator_for(input.device, generator)
    if p is None and input._data.dtype.kind not in "fV":
        raise NotImplementedError(f"\"bernoulli_tensor_cpu_self_\" not implemented for "
                                  f"'{_pt_name(input.dtype)}'")
    probs = input._data if p is None else (p._data if isinstance(p, Tensor) else p)
    if p is None and probs.size and (float(probs.min()) < 0 or float(probs.max()) > 1):
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
    # as PyTorch's CPU kernels: a float uniform per element against a tensor of
    # probabilities, a double one against a number
    u = rng.random(tuple(input.shape), dtype=np.float32 if p is None or
                   isinstance(p, Tensor) else np.float64)
    draw = (u < probs).astype(input._data.dtype)
    return Sampled.apply(input, value=draw)


def _mantissa_bound(dt) -> int:
    if dt.kind == "f":
        return 2 ** (np.finfo(dt).nmant + 1)
    if dt == np.bool_:
        return 1
    if dt == _dtype.bfloat16.np if _dtype.bfloat16 is not None else False:  # pragma: no cover
        return 2 ** 8
    return int(np.iinfo(dt).max)


def _check_float(self: Tensor, what: str) -> None:
    if self._data.dtype.kind not in "fV":
        raise RuntimeError(f"{what} is a continuous probability distribution. dtype must be a "
                           f"floating point but you specified {_pt_name(self.dtype)}")


def _fill_dtype(dt):
    """The dtype whose resolution a floating fill draws at (float32 for non-floats)."""
    return dt if dt.kind == "f" or dt.name == "bfloat16" else np.dtype(np.float32)


def fill_random(self: Tensor, kind: str, args: tuple, kwargs: dict, generator=None):
    """The array of random values that the in-place fill ``kind`` writes into ``self``."""
    rng = _random.generator_for(self.device, generator)
    shape = self._data.shape
    dt = self._data.dtype

    def arg(i, name, default):
        return args[i] if len(args) > i else kwargs.get(name, default)

    if kind == "uniform":
        lo, hi = arg(0, "from", 0.0), arg(1, "to", 1.0)
        if lo > hi:
            raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                               f"from={lo} > to={hi}")
        return _random.in_memory_order(
            lambda s: _random.uniform_array(rng, s, lo, hi, _fill_dtype(dt)), shape,
            _random.memory_order(self._data))
    if kind == "normal":
        mean, std = arg(0, "mean", 0.0), arg(1, "std", 1.0)
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
        order = _random.memory_order(self._data)
        return _random.in_memory_order(
            lambda s: _random.normal_array(rng, s, mean, std, _fill_dtype(dt),
                                           self._data.flags.c_contiguous), shape, order)
    if kind == "exponential":
        _check_float(self, "Exponential distribution")
        lambd = arg(0, "lambd", 1.0)
        if lambd <= 0:
            raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
        # as PyTorch's CPU kernel: -log1p(-u) / lambda of a double uniform
        return -xp_of(self._data).log1p(-rng.random(shape, dtype=np.float64)) / lambd
    if kind == "geometric":
        p = arg(0, "p", None)
        if p is None or not 0 < p < 1:
            raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
        return rng.geometric(p, shape)
    if kind == "cauchy":
        _check_float(self, "Cauchy distribution")
        median, sigma = arg(0, "median", 0.0), arg(1, "sigma", 1.0)
        return median + sigma * xp_of(self._data).tan(math.pi * (rng.random(shape) - 0.5))
    if kind == "log_normal":
        if self._data.dtype.kind not in "fV":
            raise NotImplementedError(f"\"log_normal_cpu\" not implemented for "
                                      f"'{_pt_name(self.dtype)}'")
        mean, std = arg(0, "mean", 1.0), arg(1, "std", 2.0)
        if std <= 0:
            raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
        return xp_of(self._data).exp(mean + std * rng.standard_normal(shape))
    if kind == "random":
        a = arg(0, "from", None)
        b = arg(1, "to", None)
        if a is not None and b is None and len(args) == 1 and "to" not in kwargs:
            lo, hi = 0, a  # random_(to)
        elif a is None:
            lo, hi = 0, None
        else:
            lo, hi = a, b
        if hi is not None and lo >= hi:
            raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={lo}"
                               f" >= to={hi}")
        top = _mantissa_bound(dt) if hi is None else int(hi) - 1
        return rng.integers(int(lo), top, size=shape, dtype=np.int64, endpoint=True)
    raise AssertionError(kind)  # pragma: no cover
