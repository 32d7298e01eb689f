"""``ember.utils.cpp_extension``, as ``torch.utils.cpp_extension`` in a CPU-only build,
declared only: ember is pure Python and has no C++ operator ABI, so a PyTorch C++/CUDA
extension cannot be built against it. ``load``, ``load_inline`` and the setuptools helpers
raise ``RuntimeError`` (code that tries to build an optional kernel and falls back on
failure, as several libraries do, takes its fallback); ``CUDA_HOME`` and ``ROCM_HOME`` are
``None``, as in a CPU-only PyTorch."""

from __future__ import annotations

__all__ = ["load", "load_inline", "CppExtension", "CUDAExtension", "BuildExtension",
           "include_paths", "library_paths", "verify_ninja_availability",
           "is_ninja_available", "CUDA_HOME", "ROCM_HOME", "SYCL_HOME"]

CUDA_HOME = None
ROCM_HOME = None
SYCL_HOME = None


def _unsupported(what: str) -> RuntimeError:
    return RuntimeError(f"ember.utils.cpp_extension.{what}: ember cannot build PyTorch C++/CUDA "
                        "extensions (it is pure Python and has no C++ operator ABI)")


def load(name, sources, *args, **kwargs):
    """Raises ``RuntimeError``: extensions cannot be compiled against ember."""
    raise _unsupported("load")


def load_inline(name, cpp_sources, *args, **kwargs):
    """Raises ``RuntimeError``: extensions cannot be compiled against ember."""
    raise _unsupported("load_inline")


def CppExtension(name, sources, *args, **kwargs):  # noqa: N802 - PyTorch's name
    """Raises ``RuntimeError``: extensions cannot be compiled against ember."""
    raise _unsupported("CppExtension")


def CUDAExtension(name, sources, *args, **kwargs):  # noqa: N802 - PyTorch's name
    """Raises ``RuntimeError``: extensions cannot be compiled against ember."""
    raise _unsupported("CUDAExtension")


class BuildExtension:
    """setuptools' ``build_ext`` for PyTorch extensions: constructing one raises."""

    def __init__(self, *args, **kwargs):
        raise _unsupported("BuildExtension")

    @classmethod
    def with_options(cls, **options):
        raise _unsupported("BuildExtension")


def include_paths(device_type: str = "cpu", *args, **kwargs) -> list:
    """Raises ``RuntimeError``: ember ships no C++ headers."""
    raise _unsupported("include_paths")


def library_paths(device_type: str = "cpu", *args, **kwargs) -> list:
    """Raises ``RuntimeError``: ember ships no C++ libraries."""
    raise _unsupported("library_paths")


def is_ninja_available() -> bool:
    """Whether the ninja build tool is on the PATH."""
    import shutil

    return shutil.which("ninja") is not None


def verify_ninja_availability() -> None:
    """Raises ``RuntimeError`` when ninja is not available."""
    if not is_ninja_available():
        raise RuntimeError("Ninja is required to load C++ extensions")
