"""ember: PyTorch's API on a Python core over numpy (CPU) and CuPy (GPU).

``import ember as torch`` runs ordinary PyTorch programs: tensors with autograd, ``nn``,
``optim``, ``utils.data``, serialization, and the domain packages ``ember.vision``,
``ember.audio`` and ``ember.text``.
"""

from __future__ import annotations

__version__ = "0.1.0"

from . import (  # noqa: E402
    _dtype,
    _malloc,  # noqa: F401  (tunes glibc's heap for array buffers, see the module)
    _numpy_warnings,  # noqa: F401  (numpy's divide-by-zero/overflow warnings: torch is silent)
    _tensor_methods,  # noqa: E402  (attaches the op methods to Tensor)
    autograd,
    backends,
    cuda,
    return_types,
)
from ._compile import compile  # noqa: E402
from ._creation import (
    arange,
    as_tensor,
    asarray,
    empty,
    empty_like,
    eye,
    full,
    full_like,
    linspace,
    logspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    scalar_tensor,
    tensor,
    zeros,
    zeros_like,
)
from ._device import device, get_default_device, set_default_device
from ._dtype import (
    bfloat16,
    bool,
    can_cast,
    cdouble,
    cfloat,
    chalf,
    complex32,
    complex64,
    complex128,
    double,
    dtype,
    finfo,
    float,
    float8_e4m3fn,
    float8_e4m3fnuz,
    float8_e5m2,
    float8_e5m2fnuz,
    float8_e8m0fnu,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    iinfo,
    int,
    int8,
    int16,
    int32,
    int64,
    long,
    promote_types,
    result_type,
    set_default_dtype,
    short,
    uint8,
    uint16,
    uint32,
    uint64,
)
from ._functions import *  # noqa: E402,F403  (the torch.* op namespace)
from ._random import (
    Generator,
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)
from ._repr import set_printoptions
from ._streams import Event, Stream
from ._tensor import Size, Tensor, from_numpy
from ._threads import (
    get_num_interop_threads,
    get_num_threads,
    set_num_interop_threads,
    set_num_threads,  # noqa: E402
)
from .autograd import (  # noqa: E402
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)

strided = "torch.strided"
sparse_coo = "torch.sparse_coo"  # the layout of ember.sparse.SparseTensor
from ._memory_format import (  # noqa: E402
    channels_last,
    channels_last_3d,
    contiguous_format,
    preserve_format,
)

layout = str
memory_format = str


def is_tensor(obj) -> bool:
    """True if ``obj`` is an ember Tensor."""
    return isinstance(obj, Tensor)


def is_inference(input: Tensor) -> bool:
    """True if ``input`` was created inside ``inference_mode()``."""
    return input.is_inference()


def is_floating_point(input: Tensor) -> bool:
    """True if ``input`` has a floating point dtype."""
    return input.is_floating_point()


def is_complex(input: Tensor) -> bool:
    """True if ``input`` has a complex dtype."""
    return input.is_complex()


def numel(input: Tensor) -> int:
    """The number of elements of ``input``."""
    return input.numel()


def _assert(condition, message):
    """``torch._assert``: ``assert condition, message`` as a function (so that it can be
    symbolically traced)."""
    assert condition, message


def _assert_async(input: Tensor, assert_msg: str | None = None) -> None:
    """``torch._assert_async``: raises RuntimeError (with ``assert_msg`` when given) unless
    the one-element tensor ``input`` is nonzero (checked at once: ember runs eagerly)."""
    if input.numel() != 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    if not input.item():
        raise RuntimeError(assert_msg or "Expected Tensor with single nonzero value, but got "
                           "zero")


def is_nonzero(input: Tensor) -> bool:
    """The truth value of a one-element tensor."""
    return input.is_nonzero()


def __getattr__(name: str):
    # submodules imported on first use keep `import ember` fast
    import importlib

    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _NOT_PROVIDED:
        raise AttributeError(f"module 'ember' has no attribute '{name}': torch.{name} is not "
                             "provided by ember")
    if name == "ScriptModule":  # torch.ScriptModule (jit loads nn: not at import time)
        from .jit import ScriptModule

        return ScriptModule
    if name == "torch":  # torch.torch is torch itself (kornia annotates torch.torch.Tensor)
        import sys

        return sys.modules[__name__]
    if name == "Future":  # torch.Future (torch.futures.Future is one)
        from .futures import Future

        return Future
    if name in ("SymInt", "SymFloat", "SymBool"):  # torch.SymInt is torch.types.SymInt
        from . import types

        return getattr(types, name)
    if name == "GradScaler":  # torch.GradScaler is torch.amp.GradScaler
        from .amp import GradScaler

        return GradScaler
    if name == "vmap":  # torch.vmap is torch.func.vmap
        from .func import vmap

        return vmap
    if not name.startswith("__"):
        from .linalg._torch_api import TORCH_FUNCTIONS  # torch.det, torch.cholesky, ...

        if name in TORCH_FUNCTIONS:
            return TORCH_FUNCTIONS[name]
        if name == "autocast":
            from .amp import autocast

            return autocast
        from .amp.autocast_mode import TORCH_FUNCTIONS as AUTOCAST_FUNCTIONS

        if name in AUTOCAST_FUNCTIONS:  # torch.is_autocast_enabled, ...
            return AUTOCAST_FUNCTIONS[name]
    raise AttributeError(f"module 'ember' has no attribute '{name}'")


# torch submodules ember does not provide (attribute access raises AttributeError, so that
# hasattr() probes answer False)
_NOT_PROVIDED = {"masked", "nested", "quantization", "ao", "package", "monitor", "mps"}

_LAZY_SUBMODULES = {"accelerator", "cpu", "random", "version", "compiler", "nn", "optim",
                    "utils", "hub", "distributions", "linalg", "fft", "special",
                    "amp", "jit", "onnx", "export", "distributed", "multiprocessing",
                    "testing", "sparse", "profiler", "functional", "vision", "audio", "text",
                    "datasets",
                    "serialization", "types", "overrides", "library", "func", "_C",
                    "fx", "_dynamo", "xpu", "_subclasses", "signal", "futures", "quasirandom"}
from ._global_settings import *  # noqa: E402,F403  (matmul precision, determinism, ...)
from ._legacy_types import LEGACY_TYPES as _LEGACY_TYPES  # noqa: E402
from ._legacy_types import set_default_tensor_type  # noqa: E402,F401
from .serialization import load, save  # noqa: E402

globals().update(_LEGACY_TYPES)  # FloatTensor, LongTensor, ... (legacy types)

from math import e, inf, nan, pi  # noqa: E402,F401  (torch.inf, torch.pi, ...)

from ._foreach import _install as _install_foreach  # noqa: E402
from ._tensor_methods import UntypedStorage  # noqa: E402,F401  (torch.UntypedStorage)
from .serialization._file_reader import PyTorchFileReader  # noqa: E402,F401

newaxis = None

_install_foreach(globals())  # torch._foreach_add_, _foreach_norm, ... (multi-tensor ops)
