"""Activation functions of ``ember.nn.functional``."""

from __future__ import annotations

from ..._autocast_state import fp32_op
from ..._tensor import Tensor
from ...ops import activation as A
from ...ops import elementwise as E
from ...ops import reduce as R

__all__ = ["relu", "relu_", "relu6", "elu", "elu_", "selu", "selu_", "celu", "celu_",
           "leaky_relu", "leaky_relu_", "prelu", "rrelu", "rrelu_", "glu", "gelu",
           "logsigmoid", "hardshrink", "tanhshrink", "softsign", "softplus", "softmin",
           "softmax", "log_softmax", "gumbel_softmax", "tanh", "sigmoid", "hardsigmoid",
           "silu", "mish", "hardswish", "threshold", "threshold_", "hardtanh", "hardtanh_",
           "softshrink"]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(0, x)`` elementwise."""
    return input.relu_() if inplace else E.relu(input)


def relu_(input: Tensor) -> Tensor:
    """In-place ``relu``."""
    return input.relu_()


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """``min(max(0, x), 6)``."""
    return A.hardtanh(input, 0.0, 6.0, inplace)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` if x > 0 else ``alpha * (exp(x) - 1)``."""
    return A.elu(input, alpha, inplace)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place ``elu``."""
    return A.elu(input, alpha, True)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """``scale * elu(x, alpha)`` with SELU's fixed constants."""
    return A.elu(input, _SELU_ALPHA, inplace, scale=_SELU_SCALE)


def selu_(input: Tensor) -> Tensor:
    """In-place ``selu``."""
    return selu(input, True)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    return A.elu(input, alpha, inplace, input_scale=1.0 / alpha)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place ``celu``."""
    return celu(input, alpha, True)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``max(0, x) + negative_slope * min(0, x)``."""
    return A.leaky_relu(input, negative_slope, inplace)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """In-place ``leaky_relu``."""
    return A.leaky_relu(input, negative_slope, True)


prelu = A.prelu


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
          training: bool = False, inplace: bool = False) -> Tensor:
    """Randomized leaky ReLU: in training, each negative element gets a slope drawn from
    U(lower, upper); in evaluation the slope is ``(lower + upper) / 2``."""
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    if not training:
        return A.leaky_relu(input, (lower + upper) / 2, inplace)
    from ... import _random

    rng = _random.generator_for(input.device)
    slopes = rng.uniform(lower, upper, size=tuple(input.shape)).astype(input._data.dtype)
    s = Tensor._make(slopes)
    src = A.inplace_source(input, inplace)
    out = E.where(src >= 0, src, src * s)
    return input.copy_(out) if inplace else out


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
           training: bool = False) -> Tensor:
    """In-place ``rrelu``."""
    return rrelu(input, lower, upper, training, True)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """Gated linear unit: ``a * sigmoid(b)`` where ``a, b`` are the halves of ``input``
    along ``dim``."""
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    n = input.shape[dim]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim % input.ndim} "
                           f"is size {n}")
    a, b = input.chunk(2, dim)
    return a * E.sigmoid(b)


gelu = A.gelu
logsigmoid = A.logsigmoid
hardshrink = A.hardshrink
softsign = A.softsign
softplus = A.softplus
softshrink = A.softshrink


def tanhshrink(input: Tensor) -> Tensor:
    """``x - tanh(x)``."""
    return input - E.tanh(input)


def _softmax_dim(name: str, ndim: int) -> int:
    import warnings

    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  "to include dim=X as an argument.",
                      stacklevel=4)  # one frame more: the autocast wrapper
    return 0 if ndim in (0, 1, 3) else 1


@fp32_op("softmin")
def softmin(input: Tensor, dim=None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """``softmax(-x)``."""
    if dim is None:
        dim = _softmax_dim("softmin", input.ndim)
    return R.softmax(-input, dim, dtype=dtype)


@fp32_op("softmax")
def softmax(input: Tensor, dim=None, _stacklevel: int = 3, dtype=None, *, axis=None
            ) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``dim`` (``axis=``: NumPy's spelling)."""
    if axis is not None:
        dim = axis
    if dim is None:
        dim = _softmax_dim("softmax", input.ndim)
    return R.softmax(input, dim, dtype=dtype)


@fp32_op("log_softmax")
def log_softmax(input: Tensor, dim=None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """``log(softmax(x))`` along ``dim``, computed stably."""
    if dim is None:
        dim = _softmax_dim("log_softmax", input.ndim)
    return R.log_softmax(input, dim, dtype=dtype)


def gumbel_softmax(logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1) -> Tensor:
    """Samples from the Gumbel-softmax distribution; ``hard=True`` returns one-hot samples
    with the soft sample's gradient (straight-through)."""
    from ... import _random

    rng = _random.generator_for(logits.device)
    gumbels = -logits.new_tensor(rng.exponential(size=tuple(logits.shape))).log()
    y = R.softmax((logits + gumbels) / tau, dim)
    if not hard:
        return y
    index = y.argmax(dim, keepdim=True)
    y_hard = logits.new_zeros(logits.shape).scatter(dim, index, 1.0)
    return y_hard - y.detach() + y


def tanh(input: Tensor) -> Tensor:
    """Elementwise hyperbolic tangent."""
    return E.tanh(input)


def sigmoid(input: Tensor) -> Tensor:
    """Elementwise logistic sigmoid."""
    return E.sigmoid(input)


hardsigmoid = A.hardsigmoid
silu = A.silu
mish = A.mish
hardswish = A.hardswish


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """``x`` where ``x > threshold``, else ``value``."""
    return A.threshold(input, threshold, value, inplace)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """In-place ``threshold``."""
    return A.threshold(input, threshold, value, True)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """Clamps to ``[min_val, max_val]``."""
    return A.hardtanh(input, min_val, max_val, inplace)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """In-place ``hardtanh``."""
    return A.hardtanh(input, min_val, max_val, True)
