"""``ember.backends``: backend flags accepted for compatibility with PyTorch programs."""

from . import cpu, cuda, cudnn, mha, mkl, mkldnn, mps, openmp

__all__ = ["cpu", "cuda", "cudnn", "mha", "mkl", "mkldnn", "mps", "openmp", "fp32_precision"]

# the generic float32 precision of PyTorch's per-backend TF32 API (stored, no effect)
fp32_precision = "none"
