"""Random number generation: ``ember.Generator``, one default generator per device,
``manual_seed``, ``seed``, ``get_rng_state``/``set_rng_state``.

CPU generators draw PyTorch's CPU stream (``_torch_stream.TorchStream``: MT19937 with
PyTorch's transforms, so ``rand``, ``randn``, ``randint``, ``randperm`` and the default
layer initialisations give PyTorch's numbers for the same seed); CUDA ones are cupy
generators (reproducible, not PyTorch's CUDA streams).
"""

from __future__ import annotations

import pickle
import struct

import numpy as np

from . import _device
from ._torch_stream import TorchStream

__all__ = ["Generator", "manual_seed", "seed", "initial_seed", "get_rng_state",
           "set_rng_state", "default_generator"]

_DEFAULT_SEED = 67280421310721  # PyTorch's default_generator seed


class Generator:
    """A pseudo-random number generator, as ``torch.Generator(device='cpu')``."""

    def __init__(self, device="cpu"):
        self.device = _device.device(device) if not isinstance(device, _device.device) \
            else device
        self._seed = _DEFAULT_SEED
        self._rng = None
        if self.device.type == "cuda":
            _device.cupy_module()  # no CUDA: the clear error now, not at the first draw
        self._reset()

    def _reset(self) -> None:
        if self.device.type == "cpu":
            self._rng = TorchStream(self._seed)
        else:  # made on first draw: seeding alone (as a forked DataLoader worker does) must
            self._rng = None  # not touch CUDA, which a fork of a CUDA process cannot use

    @property
    def rng(self):
        """The underlying numpy (or cupy) generator."""
        if self._rng is None:  # pragma: no cover - cuda
            cp = _device.cupy_module()
            with cp.cuda.Device(self.device.index or 0):
                self._rng = _CudaRng(cp, cp.random.default_rng(self._seed))
        return self._rng

    def manual_seed(self, seed: int) -> Generator:
        """Seeds the generator; returns it."""
        seed = int(seed)
        if seed < 0:
            seed &= 0xFFFF_FFFF_FFFF_FFFF
        self._seed = seed
        self._reset()
        return self

    def seed(self) -> int:
        """Seeds from a non-deterministic source; returns the seed used."""
        s = int(np.random.SeedSequence().entropy) & 0xFFFF_FFFF_FFFF_FFFF
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        """The seed last set."""
        return self._seed

    def get_state(self):
        """The generator state as a uint8 tensor: on the CPU PyTorch's 5056-byte layout
        (so states move between ember and torch, e.g. a Trainer checkpoint's
        ``rng_state``); on CUDA the seed only (cupy's generator state can't be saved), so
        restoring it restarts the stream from that seed (a departure from PyTorch, see
        docs/compatibility.md)."""
        from ._creation import tensor

        if self.device.type == "cpu":
            mt, cached = self._rng.state
            blob = cpu_state_bytes(self._seed, mt["state"]["key"], int(mt["state"]["pos"]),
                                   cached)
        else:  # pragma: no cover - cuda
            blob = pickle.dumps((self._seed, None))
        return tensor(np.frombuffer(blob, dtype=np.uint8).copy())

    def set_state(self, new_state) -> Generator:
        """Restores a state returned by ``get_state`` (on the CPU also one of torch's)."""
        arr = np.asarray(new_state.__array__() if hasattr(new_state, "__array__") else
                         new_state, dtype=np.uint8)
        if self.device.type == "cpu":
            seed_, key, pos, cached = parse_cpu_state(arr.tobytes())
            self._seed = seed_
            self._reset()
            self._rng.state = ({"bit_generator": "MT19937",
                                "state": {"key": key, "pos": pos}}, cached)
            return self
        seed_, _ = _loads_state(arr.tobytes())  # pragma: no cover - cuda
        self._seed = seed_  # pragma: no cover - cuda
        self._reset()  # pragma: no cover - cuda
        return self  # pragma: no cover - cuda

    def clone_state(self):
        return self.get_state()

    def __repr__(self) -> str:
        return f"<ember.Generator object at {hex(id(self))}>"


class _CudaRng:  # pragma: no cover - cuda
    """A cupy ``Generator`` with the numpy ``Generator`` methods ember's code calls.

    cupy's Generator draws ``random``, ``standard_normal`` and ``integers`` only; ``uniform``,
    ``normal``, ``permutation`` and ``choice`` are built from those here, so code written
    against numpy's Generator runs unchanged on CUDA."""

    def __init__(self, cp, gen):
        self._cp = cp
        self._gen = gen

    def __getattr__(self, name):
        return getattr(self._gen, name)

    def random(self, size=None, dtype=np.float64, out=None):
        return self._gen.random(size, dtype=dtype)

    def standard_normal(self, size=None, dtype=np.float64, out=None):
        return self._gen.standard_normal(size, dtype=dtype)

    def integers(self, low, high=None, size=None, dtype=np.int64, endpoint=False):
        return self._gen.integers(low, high, size, dtype=dtype, endpoint=endpoint)

    def uniform(self, low=0.0, high=1.0, size=None):
        return low + (high - low) * self._gen.random(size)

    def normal(self, loc=0.0, scale=1.0, size=None):
        return loc + scale * self._gen.standard_normal(size)

    def permutation(self, x):
        if isinstance(x, (int, np.integer)):
            return self._cp.argsort(self._gen.random(int(x)))
        x = self._cp.asarray(x)
        return x[self._cp.argsort(self._gen.random(x.shape[0]))]

    def choice(self, a, size=None, replace=True, p=None):
        n = a if isinstance(a, (int, np.integer)) else len(a)
        if p is not None and not replace:
            raise NotImplementedError("choice(p=..., replace=False) is not implemented on CUDA")
        if p is not None:
            cdf = self._cp.cumsum(self._cp.asarray(p, dtype=np.float64))
            idx = self._cp.searchsorted(cdf / cdf[-1], self._gen.random(size), side="right")
        elif replace:
            idx = self._gen.integers(0, n, size)
        else:
            k = int(np.prod(size)) if size is not None else 1
            idx = self.permutation(int(n))[:k].reshape(() if size is None else size)
        return idx if isinstance(a, (int, np.integer)) else self._cp.asarray(a)[idx]


# PyTorch's CPUGeneratorImplState: seed (u64), left (i32), seeded (i32), next (u64), the
# 624 Mersenne Twister words (each a u64), three legacy doubles (the second the cached
# normal value), a validity int, then a float normal cache and its flag; 5056 bytes
_CPU_STATE_SIZE = 5056
_MT_WORDS = 624
_HEAD = struct.Struct("<QiiQ")  # at 0
_NORMAL = struct.Struct("<dddi")  # at 24 + 624 * 8


def cpu_state_bytes(seed: int, key, pos: int, cached) -> bytes:
    """A CPU generator state in PyTorch's layout (numpy's MT position ``pos`` is
    PyTorch's ``next``; its ``left`` counts down to the next twist: ``625 - pos``)."""
    buf = bytearray(_CPU_STATE_SIZE)
    nxt = pos
    if pos == _MT_WORDS:  # not drawn from since seeding: PyTorch's next is then 0
        fresh = np.random.MT19937(0)
        fresh._legacy_seeding(int(seed) & 0xFFFF_FFFF)
        if np.array_equal(fresh.state["state"]["key"], key):
            nxt = 0
    _HEAD.pack_into(buf, 0, int(seed) & 0xFFFF_FFFF_FFFF_FFFF, _MT_WORDS + 1 - pos, 1, nxt)
    buf[24:24 + 8 * _MT_WORDS] = np.asarray(key, dtype="<u8").tobytes()
    _NORMAL.pack_into(buf, 24 + 8 * _MT_WORDS, 0.0, 0.0 if cached is None else cached, 0.0,
                      0 if cached is None else 1)
    return bytes(buf)


def parse_cpu_state(blob: bytes):
    """(seed, MT words as uint32, numpy position, cached normal or None) of a PyTorch-layout
    CPU generator state; a clear error for anything else."""
    if len(blob) != _CPU_STATE_SIZE:
        raise RuntimeError(f"Expected either a CPUGeneratorImplStateLegacy of size 5048 or a "
                           f"CPUGeneratorImplState of size {_CPU_STATE_SIZE} but found the "
                           f"input RNG state size to be {len(blob)}")
    seed, left, _seeded, _next = _HEAD.unpack_from(blob, 0)
    key = np.frombuffer(blob, dtype="<u8", count=_MT_WORDS, offset=24)
    if not 1 <= left <= _MT_WORDS or int(key.max()) > 0xFFFF_FFFF:
        raise RuntimeError("set_rng_state: not a valid CPU generator state (Mersenne Twister "
                           f"position {left} or a word past 32 bits)")
    _x, normal_y, _rho, valid = _NORMAL.unpack_from(blob, 24 + 8 * _MT_WORDS)
    return seed, key.astype(np.uint32), _MT_WORDS + 1 - left, normal_y if valid else None


class _StateUnpickler(pickle.Unpickler):
    """RNG states hold only builtins: refuse anything else."""

    def find_class(self, module, name):
        raise pickle.UnpicklingError(f"rng state: global {module}.{name} is not allowed")


def _loads_state(blob: bytes):
    import io

    return _StateUnpickler(io.BytesIO(blob)).load()


default_generator = Generator("cpu")
_cuda_generators: dict = {}


def memory_order(arr):
    """The axes of a strided array from outermost to innermost in memory (the order in which
    PyTorch's element-by-element random kernels visit it), or None when it is C-ordered."""
    if arr.flags.c_contiguous or arr.ndim < 2:
        return None
    order = sorted(range(arr.ndim), key=lambda d: -abs(arr.strides[d]) if arr.shape[d] > 1
                   else 0)
    return None if order == list(range(arr.ndim)) else order


def in_memory_order(draw, shape, order):
    """``draw(shape')`` for ``shape`` permuted to ``order``, transposed back to ``shape``: the
    values land as a kernel walking memory in ``order`` would write them."""
    if order is None:
        return draw(tuple(shape))
    values = draw(tuple(shape[d] for d in order))
    return values.transpose(np.argsort(order))


def uniform_array(rng, shape, low: float, high: float, dtype):
    """``shape`` values on [low, high) of numpy ``dtype`` as PyTorch's ``uniform_`` draws
    them on the CPU (any ``rng``: cupy's draw their own way)."""
    if isinstance(rng, TorchStream):
        return rng.uniform_of(shape, low, high, dtype)
    draw = np.float64 if np.dtype(dtype) == np.float64 else np.float32
    return (rng.random(shape, dtype=draw) * draw(high - low) + draw(low)).astype(dtype)


def normal_array(rng, shape, mean: float, std: float, dtype, contiguous: bool = True):
    """``shape`` normal values of numpy ``dtype`` as PyTorch's ``normal_`` draws them (into
    a contiguous tensor, or value by value into a strided one)."""
    if isinstance(rng, TorchStream):
        return rng.normal_of(shape, mean, std, dtype, contiguous)
    draw = np.float64 if np.dtype(dtype) == np.float64 else np.float32
    return (rng.standard_normal(shape, dtype=draw) * draw(std) + draw(mean)).astype(dtype)


def generator_for(device, generator=None):
    """The numpy/cupy generator to draw from for ``device``."""
    if generator is not None:
        gen_type = generator.device.type
        if gen_type != device.type and device.type != "meta":
            raise RuntimeError(f"Expected a '{device.type}' device type for generator but "
                               f"found '{gen_type}'")
        return generator.rng
    if device.type == "cpu":
        return default_generator.rng
    g = _cuda_generators.get(device.index)  # pragma: no cover - cuda
    if g is None:  # pragma: no cover - cuda
        g = _cuda_generators[device.index] = Generator(device).manual_seed(
            default_generator.initial_seed())
    return g.rng  # pragma: no cover - cuda


def manual_seed(seed: int) -> Generator:
    """Seeds every device's default generator; returns the CPU one."""
    default_generator.manual_seed(seed)
    for g in _cuda_generators.values():
        g.manual_seed(seed)
    return default_generator


def seed() -> int:
    """Seeds the default generators non-deterministically; returns the seed."""
    s = default_generator.seed()
    for g in _cuda_generators.values():
        g.manual_seed(s)
    return s


def initial_seed() -> int:
    """The initial seed of the default CPU generator."""
    return default_generator.initial_seed()


def get_rng_state():
    """The default CPU generator's state (a uint8 tensor)."""
    return default_generator.get_state()


def set_rng_state(new_state) -> None:
    """Restores the default CPU generator's state."""
    default_generator.set_state(new_state)


def cuda_manual_seed_all(seed_: int) -> None:
    """Seeds the generators of every CUDA device."""
    for g in _cuda_generators.values():
        g.manual_seed(seed_)
    _cuda_seed[0] = seed_


_cuda_seed = [None]
