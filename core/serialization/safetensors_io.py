"""safetensors files, the interchange format with Hugging Face.

``save_safetensors`` writes through the ``safetensors`` package's numpy API (atomically);
``load_safetensors`` validates the file with the package and decodes every dtype it may
hold, bfloat16 included. The file's ``__metadata__`` (a ``str -> str`` dict) is written
from ``metadata=`` and read back as the ``.metadata`` of the returned dict.
"""

from __future__ import annotations

import json
import os

import numpy as np

from .. import _dtype
from .._tensor import Tensor
from ._atomic import atomic_path

__all__ = ["save_safetensors", "load_safetensors", "safetensors_metadata", "TensorDict",
           "is_safetensors"]

_DTYPES = {
    "F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16",
    "I64": "int64", "I32": "int32", "I16": "int16", "I8": "int8", "U8": "uint8",
    "U16": "uint16", "U32": "uint32", "U64": "uint64", "BOOL": "bool", "C64": "complex64",
    "F8_E4M3": "float8_e4m3fn", "F8_E5M2": "float8_e5m2", "F8_E8M0": "float8_e8m0fnu",
}


class TensorDict(dict):
    """The tensors of a safetensors file by name; ``.metadata`` holds the file's
    ``__metadata__`` (None if it has none)."""

    metadata: dict | None = None


def _import_safetensors():
    try:
        import safetensors
        import safetensors.numpy
    except ImportError as e:  # pragma: no cover - a declared dependency
        raise ImportError("ember's safetensors support needs the 'safetensors' package: "
                          "pip install safetensors") from e
    return safetensors


def save_safetensors(tensors: dict, path, metadata: dict | None = None) -> None:
    """Writes ``{name: Tensor}`` to the safetensors file ``path`` (atomically).

    Args:
        tensors: names (str) to ember Tensors (any device; they are copied to the host).
        path: the file to write.
        metadata: optional ``{str: str}`` stored as the file's ``__metadata__``.
    """
    if not isinstance(tensors, dict):
        raise TypeError(f"save_safetensors: expected a dict of tensors, got "
                        f"{type(tensors).__name__}")
    if metadata is not None and not (isinstance(metadata, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())):
        raise TypeError("save_safetensors: metadata must be a dict of str to str")
    arrays = {}
    for name, t in tensors.items():
        if not isinstance(name, str):
            raise TypeError(f"save_safetensors: tensor names must be str, got {name!r}")
        if not isinstance(t, Tensor):
            raise TypeError(f"save_safetensors: {name!r} is a {type(t).__name__}, not a "
                            "Tensor")
        if t.dtype.name == "complex128":
            raise ValueError(f"save_safetensors: {name!r} is complex128, which the "
                             "safetensors format cannot hold")
        arr = t.__array__()
        arrays[name] = arr if arr.flags.c_contiguous else arr.copy(order="C")
    st = _import_safetensors()
    with atomic_path(path) as tmp:
        st.numpy.save_file(arrays, tmp, metadata=metadata)


def _read_bytes(path) -> bytes:
    if hasattr(path, "read"):
        return path.read()
    with open(path, "rb") as fh:
        return fh.read()


def is_safetensors(head: bytes, total: int) -> bool:
    """Whether a file starting with ``head`` (at least 9 bytes) and ``total`` bytes long
    looks like safetensors: a little-endian u64 header length, then a JSON object."""
    if len(head) < 9 or head[8:9] != b"{":
        return False
    n = int.from_bytes(head[:8], "little")
    return 2 <= n <= total - 8


def _header(data: bytes, name: str) -> dict:
    n = int.from_bytes(data[:8], "little") if len(data) >= 8 else -1
    if n < 2 or 8 + n > len(data):
        raise RuntimeError(f"{name}: not a valid safetensors file (truncated header)")
    try:
        return json.loads(bytes(data[8:8 + n]))
    except ValueError as e:
        raise RuntimeError(f"{name}: not a valid safetensors file (bad header: {e})") from None


def decode_safetensors(data: bytes, name: str, device_for=None) -> TensorDict:
    """Tensors from the bytes of a safetensors file; ``device_for(location)`` -> device."""
    st = _import_safetensors()
    header = _header(data, name)
    try:
        items = st.deserialize(data)
    except Exception as e:  # SafetensorError, ValueError, ...
        raise RuntimeError(f"{name}: not a valid safetensors file ({e})") from None
    out = TensorDict()
    meta = header.get("__metadata__")
    out.metadata = dict(meta) if isinstance(meta, dict) else None
    for key, info in items:
        dname = _DTYPES.get(info["dtype"])
        d = _dtype._BY_NAME.get(dname) if dname else None
        if d is None:
            raise RuntimeError(f"{name}: tensor {key!r} has dtype {info['dtype']}, which "
                               "ember does not support")
        buf = info["data"]
        arr = np.frombuffer(buf, dtype=d.np).reshape(tuple(info["shape"]))
        if not arr.flags.writeable:
            arr = arr.copy()
        t = Tensor._make(arr)
        if device_for is not None:
            dev = device_for("cpu")
            if dev.type != "cpu":
                t = t.to(dev)
        out[key] = t
    return out


def load_safetensors(path, device="cpu") -> TensorDict:
    """Reads the safetensors file ``path`` into ``{name: Tensor}`` on ``device``.

    The result is a dict whose ``.metadata`` attribute holds the file's ``__metadata__``.
    A truncated or corrupted file raises RuntimeError naming it.
    """
    from .. import _device

    name = os.fspath(path) if not hasattr(path, "read") else getattr(path, "name", "<file>")
    dev = _device.device(str(device))
    return decode_safetensors(_read_bytes(path), str(name), lambda loc: dev)


def safetensors_metadata(path) -> dict | None:
    """The ``__metadata__`` of a safetensors file, without reading its tensors."""
    name = str(os.fspath(path))
    with open(path, "rb") as fh:
        head = fh.read(8)
        n = int.from_bytes(head, "little") if len(head) == 8 else -1
        size = os.fstat(fh.fileno()).st_size
        if n < 2 or 8 + n > size:
            raise RuntimeError(f"{name}: not a valid safetensors file (truncated header)")
        meta = _header(head + fh.read(n), name).get("__metadata__")
    return dict(meta) if isinstance(meta, dict) else None
