"""``ember.save`` and ``ember.load``."""

from __future__ import annotations

import contextlib
import functools
import io
import os
import pickle
import warnings

from .. import _device

# The readers and writers are imported on first use, to keep ``import ember`` fast.

__all__ = ["save", "load", "DEFAULT_PROTOCOL"]

DEFAULT_PROTOCOL = 2


def _is_path(f) -> bool:
    return isinstance(f, (str, os.PathLike))


def save(obj, f, pickle_module=None, pickle_protocol: int = DEFAULT_PROTOCOL,
         _use_new_zipfile_serialization: bool = True,
         _disable_byteorder_record: bool = False) -> None:
    """Saves ``obj`` to ``f`` in PyTorch's checkpoint format, as ``torch.save``.

    Any picklable object can be saved; tensors (views included: views of one array share
    one storage), ``nn.Parameter``\\ s, dtypes, devices and ``Size``\\ s are written as
    PyTorch writes its own, so ``torch.load(f, weights_only=True)`` reads a ``state_dict``
    or optimizer state saved here.

    Args:
        obj: the object to save.
        f: a path (written atomically: a temporary file beside it replaces it when
            complete) or a binary file object open for writing.
        pickle_module: only the standard ``pickle`` is supported (None means it).
        pickle_protocol: the pickle protocol (PyTorch uses 2; its weights-only loader may
            reject others).
        _use_new_zipfile_serialization: False writes PyTorch's pre-1.6 stream format
            (which cannot hold uint16/32/64 tensors, as in PyTorch).

    Departures from PyTorch: views of one array with *different* dtypes are written as
    separate storages (PyTorch refuses to save them); CUDA tensors are copied to the host
    one storage per tensor (views of one GPU array are not shared in the file).
    """
    if pickle_module not in (None, pickle):
        raise ValueError("ember.save supports only the standard pickle module")
    from . import _legacy_format, _zip_format
    from ._atomic import atomic_open
    from ._pickler import CheckpointPickler, StorageCollector

    legacy = not _use_new_zipfile_serialization
    collector = StorageCollector(legacy)
    buf = io.BytesIO()
    CheckpointPickler(buf, pickle_protocol, collector, legacy).dump(obj)
    pickled = buf.getvalue()

    def write(fileobj):
        if legacy:
            _legacy_format.write_legacy(fileobj, pickled, collector.refs)
        else:
            _zip_format.write_zip(fileobj, pickled, collector.refs)

    if _is_path(f):
        _check_save_path(f, legacy)
        with atomic_open(f) as fh:
            write(fh)
    elif hasattr(f, "write"):
        write(f)
    else:
        raise TypeError(f"ember.save: f must be a path or a writable binary file object, "
                        f"got {type(f).__name__}")


def _check_save_path(f, legacy: bool) -> None:
    """Raises as ``torch.save`` does for a path that cannot be written, before a temporary
    file is made (whose name would otherwise appear in the error)."""
    import errno

    path = os.fsdecode(f)
    parent = os.path.dirname(path)
    if parent and not os.path.isdir(parent):
        if legacy:
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), path)
        raise RuntimeError(f"Parent directory {parent} does not exist.")
    if os.path.isdir(path):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)


def _restore_device(location: str) -> _device.device:
    loc = str(location)
    if loc == "cpu":
        return _device.CPU
    if loc == "meta":  # shapes and dtypes only, as torch.load(map_location='meta')
        return _device.META
    if loc.startswith("cuda"):
        dev = _device.device(loc)
        if not _device.cuda_available():
            raise RuntimeError(
                "Attempting to deserialize object on a CUDA device but CUDA is not "
                "available to ember (it needs CuPy and a GPU). If you are running on a "
                "CPU-only machine, please use ember.load with map_location='cpu' to map "
                "your storages to the CPU.")
        return dev
    raise RuntimeError(f"don't know how to restore data location {loc!r}; pass "
                       "map_location='cpu' (or 'cuda') to ember.load")


def _device_chooser(map_location):
    """``fn(storage, location) -> ember device`` for a ``map_location`` argument."""
    from ._storage import LoadedStorage

    if map_location is None:
        return lambda storage, loc: _restore_device(loc)
    if isinstance(map_location, dict):
        return lambda storage, loc: _restore_device(str(map_location.get(loc, loc)))
    if isinstance(map_location, (str, bytes, _device.device)) or not callable(map_location):
        target = map_location.decode() if isinstance(map_location, bytes) else \
            str(map_location)
        return lambda storage, loc: _restore_device(target)

    def choose(storage, loc):
        result = map_location(storage, loc)
        if result is None:
            return _restore_device(loc)
        if isinstance(result, LoadedStorage):
            return _restore_device(str(result.device) if result.device is not None else "cpu")
        return _restore_device(str(result))

    return choose


def _name_of(f) -> str:
    if _is_path(f):
        return os.fsdecode(f)
    return str(getattr(f, "name", f"<{type(f).__name__}>"))


def _corrupt_errors() -> tuple:
    import struct
    import zipfile

    return (pickle.UnpicklingError, EOFError, zipfile.BadZipFile, ValueError, KeyError,
            IndexError, TypeError, AttributeError, struct.error, UnicodeDecodeError,
            OverflowError)


def _forced_weights_only(weights_only: bool, not_set: bool) -> bool:
    """``weights_only`` after PyTorch's environment overrides: TORCH_FORCE_WEIGHTS_ONLY_LOAD
    forces it on; TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD turns it off where the caller left it
    unset."""
    truthy = ("1", "y", "yes", "true")
    force_on = os.getenv("TORCH_FORCE_WEIGHTS_ONLY_LOAD", "0").lower() in truthy
    force_off = os.getenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "0").lower() in truthy
    if force_on and force_off:
        raise RuntimeError("Only one of `TORCH_FORCE_WEIGHTS_ONLY_LOAD` or "
                           "`TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD` should be set, but both were set.")
    if force_on:
        return True
    if force_off and not_set:
        warnings.warn("Environment variable TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD detected, since "
                      "the `weights_only` argument was not explicitly passed to `torch.load`, "
                      "forcing weights_only=False.", UserWarning, stacklevel=3)
        return False
    return weights_only


def load(f, map_location=None, pickle_module=None, *, weights_only: bool | None = None,
         mmap: bool | None = None, **pickle_load_args):
    """Loads an object saved with ``ember.save`` or ``torch.save``, or a safetensors file.

    The format is detected from the content: PyTorch's zip checkpoint, PyTorch's older
    stream format, or safetensors. torch is never needed.

    Args:
        f: a path or a binary file object.
        map_location: where storages go: None (where they were saved), ``'cpu'``,
            ``'cuda'``, ``'meta'`` (shapes and dtypes only), an ``ember.device``, a dict
            mapping saved locations to new ones, or ``fn(storage, location)`` returning a
            storage (``storage.cuda(i)``...), a location, or None.
        weights_only: True (default) unpickles only tensors, containers, numbers,
            strings and the other allow-listed globals; any other global raises
            ``ember.serialization.UnpicklingError`` naming it, and no code from the file
            runs. False unpickles anything (only for files you trust); PyTorch classes then
            map to their ember counterparts. None (not given) means True, unless
            ``pickle_module`` is given (as in ``torch.load``). As there, the environment
            variable ``TORCH_FORCE_WEIGHTS_ONLY_LOAD=1`` forces True, and
            ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` makes an unset ``weights_only`` False
            (with a warning).
        mmap: map the storages of a zip checkpoint from the file (copy-on-write) instead
            of reading them (``f`` must be a path or a real file; an in-memory file
            raises ValueError, as in PyTorch).
        pickle_load_args: only ``encoding`` (for Python 2 checkpoints; default 'utf-8').

    Departures from PyTorch: pickles of any protocol are read (PyTorch's weights-only
    loader refuses opcodes of protocols other than 2; the allow-list of globals is the
    same); TorchScript archives (``torch.jit.save``) raise RuntimeError whatever
    ``weights_only`` is (PyTorch hands them to ``torch.jit.load``).

    Raises:
        RuntimeError: the file is truncated, corrupted or not a checkpoint (the message
            names the file and the problem); nothing is returned half-loaded.
        UnpicklingError: ``weights_only=True`` met a global that is not allowed.
    """
    if pickle_module not in (None, pickle):
        raise ValueError("ember.load supports only the standard pickle module")
    not_set = weights_only is None
    if not_set:  # torch.load's default: weights only, unless pickle_module
        weights_only = pickle_module is None
    elif weights_only and pickle_module is not None:
        raise RuntimeError("Can not safely load weights when explicit pickle_module is "
                           "specified")
    weights_only = _forced_weights_only(weights_only, not_set)
    from ._pickle_allowlist import SafeUnpickler, TrustedUnpickler, UnpicklingError
    from ._storage import CheckpointError

    if mmap and not _is_path(f) and not _has_fileno(f):
        raise ValueError("f must be a file path in order to use the mmap argument")
    name = _name_of(f)
    unknown = set(pickle_load_args) - {"encoding"}
    if unknown:
        raise TypeError(f"ember.load: unexpected keyword arguments {sorted(unknown)}")
    unpickler = functools.partial(SafeUnpickler if weights_only else TrustedUnpickler,
                                  encoding=pickle_load_args.get("encoding", "utf-8"))
    device_for = _device_chooser(map_location)
    try:
        with _opened(f) as fh:
            return _load_stream(fh, name, unpickler, device_for, mmap)
    except UnpicklingError as e:
        raise UnpicklingError(f"ember.load: {name}: {e}") from None
    except CheckpointError as e:
        raise RuntimeError(f"ember.load: {name}: {e}") from None
    except _corrupt_errors() as e:
        raise RuntimeError(f"ember.load: {name}: the file is corrupted or not a checkpoint "
                           f"({type(e).__name__}: {e})") from e


def _has_fileno(f) -> bool:
    try:
        f.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    return True


@contextlib.contextmanager
def _opened(f):
    if _is_path(f):
        with open(f, "rb") as fh:
            yield fh
    elif hasattr(f, "read"):
        if not (hasattr(f, "seekable") and f.seekable()):
            f = io.BytesIO(f.read())
        yield f
    else:
        raise TypeError(f"ember.load: f must be a path or a readable binary file object, "
                        f"got {type(f).__name__}")


def _load_stream(fh, name, unpickler, device_for, mmap):
    from . import _legacy_format, _zip_format
    from ._storage import CheckpointError
    from .safetensors_io import decode_safetensors, is_safetensors

    start = fh.tell()
    head = fh.read(16)
    fh.seek(0, io.SEEK_END)
    total = fh.tell() - start
    fh.seek(start)
    if not head:
        raise CheckpointError("the file is empty")
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        mapped = fh if mmap and hasattr(fh, "fileno") and start == 0 else None
        if mmap and mapped is None:
            raise CheckpointError("mmap=True needs a path (or a real file) holding a zip "
                                  "checkpoint")
        return _zip_format.read_zip(fh, unpickler, device_for, mmap_file=mapped)
    if mmap:
        raise CheckpointError("mmap=True works only for zip checkpoints (torch.save's "
                              "default format)")
    if head[:1] == b"\x80":
        return _legacy_format.read_legacy(fh, unpickler, device_for)
    if is_safetensors(head, total):
        data = fh.read()
        return decode_safetensors(data, name, lambda loc: device_for(None, loc))
    if len(head) >= 8 and total >= 512:
        fh.seek(start + 257)
        if fh.read(5) == b"ustar":
            raise CheckpointError("this is PyTorch's tar checkpoint format (before 0.4), "
                                  "which ember.load does not read")
    raise CheckpointError("not a checkpoint: neither a PyTorch zip archive, a legacy "
                          "PyTorch pickle stream nor a safetensors file")
