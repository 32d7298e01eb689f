"""ember.save / ember.load against real torch.save / torch.load: the cases where the two
once differed (float8 dtypes, the weights-only allow-list, numpy objects under
``safe_globals``, old CUDA storage names, TorchScript archives, the meta device, mmap on
in-memory files, unwritable paths, Fortran-ordered arrays, float8 safetensors)."""

from __future__ import annotations

import io
import os
import warnings

import ember
import numpy as np
import pytest
from ember.serialization import UnpicklingError, load_safetensors, safe_globals

torch = pytest.importorskip("torch")

FLOAT8 = ["float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz",
          "float8_e8m0fnu"]


def _bytes_of(t) -> bytes:
    return t.detach().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()


def _torch_bytes(obj, **kw) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf, **kw)
    return buf.getvalue()


def _ember_bytes(obj, **kw) -> bytes:
    buf = io.BytesIO()
    ember.save(obj, buf, **kw)
    return buf.getvalue()


def _float8_values(name: str):
    return (torch.arange(12, dtype=torch.float32) / 4 + 0.25).reshape(3, 4).to(
        getattr(torch, name))


# -- float8 ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", FLOAT8)
def test_float8_checkpoints_both_ways(name):
    x = _float8_values(name)
    got = ember.load(io.BytesIO(_torch_bytes({"x": x, "col": x[:, 1], "d": x.dtype})))
    assert got["x"].dtype is getattr(ember, name) and got["d"] is getattr(ember, name)
    assert np.ascontiguousarray(got["x"]._data).tobytes() == _bytes_of(x)
    assert got["col"].stride() == x[:, 1].stride()
    assert got["col"].storage_offset() == 1

    back = torch.load(io.BytesIO(_ember_bytes({"x": got["x"], "col": got["col"]})))
    assert back["x"].dtype == x.dtype and _bytes_of(back["x"]) == _bytes_of(x)
    assert back["col"].stride() == (4,) and _bytes_of(back["col"]) == _bytes_of(x[:, 1])


@pytest.mark.parametrize("name", ["float8_e4m3fn", "float8_e5m2", "float8_e8m0fnu"])
def test_float8_safetensors_from_torch(tmp_path, name):
    st_torch = pytest.importorskip("safetensors.torch")
    x = _float8_values(name)
    path = tmp_path / "f8.safetensors"
    st_torch.save_file({"x": x}, str(path), metadata={"k": "v"})
    for got in (ember.load(path), load_safetensors(path)):
        assert got["x"].dtype is getattr(ember, name)
        assert np.ascontiguousarray(got["x"]._data).tobytes() == _bytes_of(x)
        assert got.metadata == {"k": "v"}


# -- the weights-only allow-list ----------------------------------------------------------
@pytest.mark.parametrize("obj", [frozenset([1, 2]), slice(1, 5, 2), range(3)],
                         ids=["frozenset", "slice", "range"])
def test_globals_torch_refuses_are_refused(obj):
    data = _torch_bytes({"x": obj})
    with pytest.raises(pickle_error()):
        torch.load(io.BytesIO(data))
    with pytest.raises(UnpicklingError, match=f"builtins.{type(obj).__name__}"):
        ember.load(io.BytesIO(data))
    # allowed explicitly, both load it
    with torch.serialization.safe_globals([type(obj)]):
        assert torch.load(io.BytesIO(data)) == {"x": obj}
    with safe_globals([type(obj)]):
        assert ember.load(io.BytesIO(data)) == {"x": obj}


def pickle_error():
    import pickle

    return pickle.UnpicklingError


def test_frozenset_opcode_of_protocol_4_is_refused():
    data = _ember_bytes({"x": frozenset([1])}, pickle_protocol=4)
    with pytest.raises(UnpicklingError, match="frozenset"):
        ember.load(io.BytesIO(data))
    with safe_globals([frozenset]):
        assert ember.load(io.BytesIO(data)) == {"x": frozenset([1])}


def test_refusal_names_add_safe_globals():
    data = _torch_bytes({"x": np.arange(3)})
    with pytest.raises(pickle_error(), match="add_safe_globals"):
        torch.load(io.BytesIO(data))
    with pytest.raises(UnpicklingError, match=r"add_safe_globals\(\[numpy\.") as info:
        ember.load(io.BytesIO(data))
    assert "Weights only load failed" in str(info.value)


def _numpy_globals():
    core = getattr(np, "_core", None) or np.core
    return [core.multiarray._reconstruct, core.multiarray.scalar, np.ndarray, np.dtype,
            type(np.dtype(np.float64)), type(np.dtype(np.int64))]


def test_numpy_objects_with_safe_globals():
    obj = {"arr": np.arange(6, dtype=np.int64).reshape(2, 3), "scalar": np.float64(2.5),
           "t": torch.ones(2)}
    data = _torch_bytes(obj)
    with torch.serialization.safe_globals(_numpy_globals()):
        want = torch.load(io.BytesIO(data))
    with safe_globals(_numpy_globals()):
        got = ember.load(io.BytesIO(data))
    assert np.array_equal(got["arr"], want["arr"]) and got["arr"].dtype == want["arr"].dtype
    assert got["scalar"] == want["scalar"] and type(got["scalar"]) is np.float64
    assert got["t"].tolist() == [1.0, 1.0]


def test_cuda_storage_names_of_old_checkpoints():
    # torch < 1.6 named the storages of CUDA tensors torch.cuda.FloatStorage
    data = _torch_bytes({"w": torch.arange(4.0)}, _use_new_zipfile_serialization=False)
    assert data.count(b"ctorch\nFloatStorage\n") == 1
    data = data.replace(b"ctorch\nFloatStorage\n", b"ctorch.cuda\nFloatStorage\n")
    data = data.replace(b"X\x03\x00\x00\x00cpu", b"X\x06\x00\x00\x00cuda:0")
    want = torch.load(io.BytesIO(data), map_location="cpu")
    got = ember.load(io.BytesIO(data), map_location="cpu")
    assert got["w"].tolist() == want["w"].tolist() == [0.0, 1.0, 2.0, 3.0]


# -- TorchScript archives -----------------------------------------------------------------
def test_torchscript_archive_is_refused_clearly(tmp_path):
    path = tmp_path / "scripted.pt"
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), str(path))
    with pytest.raises(RuntimeError, match="TorchScript"):
        torch.load(path)
    for weights_only in (True, False):
        with pytest.raises(RuntimeError, match=r"TorchScript archive \(torch\.jit\.save\)"):
            ember.load(path, weights_only=weights_only)


# -- the meta device ----------------------------------------------------------------------
def test_map_location_meta():
    data = _torch_bytes({"w": torch.ones(2, 3), "i": torch.arange(4),
                         "p": torch.nn.Parameter(torch.ones(2))})
    for ml, eml in (("meta", "meta"), ({"cpu": "meta"}, {"cpu": "meta"}),
                    (torch.device("meta"), ember.device("meta"))):
        want = torch.load(io.BytesIO(data), map_location=ml)
        got = ember.load(io.BytesIO(data), map_location=eml)
        for k in want:
            assert got[k].device.type == want[k].device.type == "meta"
            assert tuple(got[k].shape) == tuple(want[k].shape)
            assert got[k].dtype.name == str(want[k].dtype)[6:]
        assert got["p"].requires_grad and type(got["p"]).__name__ == "Parameter"


def test_meta_tensors_both_ways():
    data = _torch_bytes({"m": torch.empty(3, 2, device="meta"),
                         "p": torch.nn.Parameter(torch.empty(4, dtype=torch.float16,
                                                             device="meta"))})
    got = ember.load(io.BytesIO(data))
    assert got["m"].device.type == "meta" and tuple(got["m"].shape) == (3, 2)
    assert got["p"].dtype is ember.float16 and got["p"].requires_grad
    assert type(got["p"]).__name__ == "Parameter"

    back = torch.load(io.BytesIO(_ember_bytes(got)))
    assert back["m"].is_meta and back["m"].shape == (3, 2) and back["m"].stride() == (2, 1)
    assert back["p"].is_meta and isinstance(back["p"], torch.nn.Parameter)
    assert back["p"].dtype == torch.float16 and back["p"].requires_grad


# -- arguments ----------------------------------------------------------------------------
def test_mmap_of_an_in_memory_file_is_a_value_error():
    data = _torch_bytes({"w": torch.ones(2)})
    with pytest.raises(ValueError, match="file path"):
        torch.load(io.BytesIO(data), mmap=True)
    with pytest.raises(ValueError, match="file path"):
        ember.load(io.BytesIO(data), mmap=True)


def test_save_into_a_missing_folder(tmp_path):
    target = tmp_path / "missing" / "x.pt"
    with pytest.raises(RuntimeError, match="Parent directory .* does not exist") as t_err:
        torch.save({"a": 1}, target)
    with pytest.raises(RuntimeError, match="Parent directory .* does not exist") as e_err:
        ember.save({"a": 1}, target)
    assert str(e_err.value) == str(t_err.value)
    with pytest.raises(FileNotFoundError):
        torch.save({"a": 1}, target, _use_new_zipfile_serialization=False)
    with pytest.raises(FileNotFoundError, match="x.pt"):
        ember.save({"a": 1}, target, _use_new_zipfile_serialization=False)


def test_save_onto_a_directory_names_it_and_leaves_nothing(tmp_path):
    folder = tmp_path / "dir"
    folder.mkdir()
    with pytest.raises(RuntimeError):
        torch.save({"a": 1}, folder)
    with pytest.raises(IsADirectoryError) as info:
        ember.save({"a": 1}, folder)
    assert info.value.filename == str(folder)  # not the name of a temporary file
    assert os.listdir(tmp_path) == ["dir"] and os.listdir(folder) == []


# -- strides ------------------------------------------------------------------------------
def test_fortran_ordered_arrays_keep_their_strides():
    base = np.asfortranarray(np.arange(24, dtype=np.float32).reshape(4, 6))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = torch.from_numpy(base)
    want = {"w": t, "v": t[1:, 2:4]}
    got = ember.load(io.BytesIO(_torch_bytes(want)))
    e = {"w": ember.from_numpy(base.copy(order="F"))}
    e["v"] = e["w"][1:, 2:4]
    back = torch.load(io.BytesIO(_ember_bytes(e)))
    for k in want:
        for other in (got[k], back[k], e[k]):
            assert other.stride() == want[k].stride()
            assert other.storage_offset() == want[k].storage_offset()
        assert np.array_equal(back[k].numpy(), want[k].numpy())
        assert np.array_equal(got[k].numpy(), want[k].numpy())
    assert back["v"].untyped_storage().data_ptr() == back["w"].untyped_storage().data_ptr()


# -- weights_only=None ----------------------------------------------------------------------
class _RunsCode:
    def __reduce__(self):
        return (os.getcwd, ())


def test_weights_only_none_means_true():
    import pickle

    data = _torch_bytes({"x": _RunsCode(), "t": torch.ones(1)})
    with pytest.raises(pickle.UnpicklingError, match="getcwd"):
        torch.load(io.BytesIO(data), weights_only=None)
    with pytest.raises(UnpicklingError, match="getcwd"):
        ember.load(io.BytesIO(data), weights_only=None)
    # an explicit pickle_module means a full unpickle, and excludes weights_only=True
    assert torch.load(io.BytesIO(data), weights_only=None, pickle_module=pickle)["x"] == \
        os.getcwd()
    assert ember.load(io.BytesIO(data), weights_only=None, pickle_module=pickle)["x"] == \
        os.getcwd()
    for load in (torch.load, ember.load):
        with pytest.raises(RuntimeError, match="explicit pickle_module"):
            load(io.BytesIO(data), weights_only=True, pickle_module=pickle)


# -- environment overrides -------------------------------------------------------------
class _Custom:
    """A class no allow-list holds (pickled by reference to this module)."""

    def __init__(self, v=3):
        self.v = v


@pytest.mark.parametrize("env,explicit,outcome", [
    ({"TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1"}, None, "loads"),
    ({"TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "true"}, True, "refused"),
    ({"TORCH_FORCE_WEIGHTS_ONLY_LOAD": "yes"}, False, "refused"),
    ({"TORCH_FORCE_WEIGHTS_ONLY_LOAD": "1", "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1"}, None,
     "both"),
    ({}, None, "refused"),
])
def test_weights_only_environment_overrides_like_torch(monkeypatch, env, explicit, outcome):
    for k in ("TORCH_FORCE_WEIGHTS_ONLY_LOAD", "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"):
        monkeypatch.delenv(k, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    data = _torch_bytes({"obj": _Custom()})
    kw = {} if explicit is None else {"weights_only": explicit}
    for lib, refusal in ((torch, Exception), (ember, UnpicklingError)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if outcome == "loads":
                assert lib.load(io.BytesIO(data), **kw)["obj"].v == 3
            elif outcome == "both":
                with pytest.raises(RuntimeError, match="Only one of"):
                    lib.load(io.BytesIO(data), **kw)
            else:
                with pytest.raises(refusal):
                    lib.load(io.BytesIO(data), **kw)
