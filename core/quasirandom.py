"""``torch.quasirandom``: ``SobolEngine``, low-discrepancy Sobol' sequences.

The points come from SciPy's ``scipy.stats.qmc.Sobol`` generator, which uses the same
direction numbers (Joe and Kuo, up to 21201 dimensions) and 30-bit precision as PyTorch, so an
unscrambled engine draws PyTorch's points exactly (first point 0, Gray-code order). A
scrambled engine applies the same kind of scrambling (linear matrix scramble and digital
shift) with its own random numbers, seeded from ``seed`` (or from ember's default generator
when ``seed`` is None, so ``ember.manual_seed`` makes it reproducible): its points are a
valid scrambled Sobol' sequence, not PyTorch's numbers.
"""

from __future__ import annotations

import warnings

import numpy as np

from ._tensor import Tensor

__all__ = ["SobolEngine"]


class SobolEngine:
    """Draws from a Sobol' sequence in ``[0, 1)^dimension``.

    Args:
        dimension: the dimension of the points, 1 to 21201.
        scramble: whether to scramble the sequence.
        seed: the scrambling seed (None: drawn from ember's default generator).
    """

    MAXBIT = 30
    MAXDIM = 21201

    def __init__(self, dimension: int, scramble: bool = False, seed: int | None = None):
        if dimension > self.MAXDIM or dimension < 1:
            raise ValueError(f"Supported range of dimensionality for SobolEngine is "
                             f"[1, {self.MAXDIM}]")
        self.dimension = int(dimension)
        self.scramble = bool(scramble)
        self.seed = seed
        self._engine = self._new_engine()
        self.num_generated = 0

    def _new_engine(self):
        from scipy.stats import qmc

        rng = None
        if self.scramble:
            seed = self.seed
            if seed is None:
                from . import _random

                seed = int(_random.default_generator.rng.integers(0, 2 ** 63 - 1))
            rng = np.random.default_rng(seed)
        return qmc.Sobol(self.dimension, scramble=self.scramble, bits=self.MAXBIT, seed=rng)

    def draw(self, n: int = 1, out: Tensor | None = None, dtype=None) -> Tensor:
        """The next ``n`` points, an (n, dimension) tensor (``dtype``, the default float dtype
        when None; written into ``out`` when given)."""
        from . import _dtype

        n = int(n)
        with warnings.catch_warnings():  # (SciPy's advice on n; PyTorch draws any n silently)
            warnings.simplefilter("ignore", UserWarning)
            points = self._engine.random(n) if n else np.zeros((0, self.dimension))
        self.num_generated += n
        dt = _dtype.to_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
        result = Tensor._make(points.astype(dt.np))
        if out is not None:
            out.resize_as_(result).copy_(result)
            return out
        return result

    def draw_base2(self, m: int, out: Tensor | None = None, dtype=None) -> Tensor:
        """The next ``2 ** m`` points; refused when the total drawn would not be a power of
        two (the sequence's balance properties need it)."""
        n = 2 ** int(m)
        total = self.num_generated + n
        if total & (total - 1):
            raise ValueError(f"The balance properties of Sobol' points require n to be a power "
                             f"of 2. {self.num_generated} points have been previously "
                             f"generated, then: n={self.num_generated}+2**{m}={total}. If you "
                             f"still want to do this, please use 'SobolEngine.draw()' instead.")
        return self.draw(n, out=out, dtype=dtype)

    def reset(self) -> SobolEngine:
        """Back to the first point (the same scrambling)."""
        self._engine.reset()
        self.num_generated = 0
        return self

    def fast_forward(self, n: int) -> SobolEngine:
        """Skips the next ``n`` points."""
        self._engine.fast_forward(int(n))
        self.num_generated += int(n)
        return self

    def __repr__(self) -> str:
        parts = [f"dimension={self.dimension}"]
        if self.scramble:
            parts.append("scramble=True")
        if self.seed is not None:
            parts.append(f"seed={self.seed}")
        return f"SobolEngine({', '.join(parts)})"
