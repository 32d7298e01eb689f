"""ember.save / ember.load: PyTorch checkpoints both ways, the weights-only allow-list,
corrupted files, atomic writes and safetensors."""

from __future__ import annotations

import collections
import io
import os
import pickle
import subprocess
import sys
import zipfile

import ember
import numpy as np
import pytest
from ember.serialization import (
    UnpicklingError,
    load_safetensors,
    safetensors_metadata,
    save_safetensors,
)

torch = pytest.importorskip("torch")

FORMATS = pytest.mark.parametrize("zip_format", [True, False], ids=["zip", "legacy"])


# -- helpers ----------------------------------------------------------------------------
def _bits(arr: np.ndarray) -> np.ndarray:
    arr = np.ascontiguousarray(arr)
    return arr.view(np.uint8).reshape(-1)


def assert_same(e, t) -> None:
    """An ember tensor equals a torch tensor: dtype, shape, strides, offset, bits."""
    assert isinstance(e, ember.Tensor), type(e)
    assert e.dtype.name == str(t.dtype).replace("torch.", "")
    assert tuple(e.shape) == tuple(t.shape)
    assert e.stride() == t.stride()
    assert e.storage_offset() == t.storage_offset()
    assert e.requires_grad == t.requires_grad
    tt = t.detach()
    t_np = tt.view(torch.int16).numpy() if tt.dtype == torch.bfloat16 else tt.numpy()
    assert np.array_equal(_bits(e._data), _bits(t_np))


def assert_tree_same(e, t) -> None:
    if isinstance(t, torch.Tensor):
        assert_same(e, t)
    elif isinstance(t, dict):
        assert type(e) is type(t) and list(e) == list(t)
        for k in t:
            assert_tree_same(e[k], t[k])
    elif isinstance(t, (list, tuple)):
        assert type(e) is type(t) and len(e) == len(t)
        for a, b in zip(e, t):
            assert_tree_same(a, b)
    else:
        assert e == t and type(e) is type(t)


def shares(a: ember.Tensor, b: ember.Tensor) -> bool:
    return np.shares_memory(a._data, b._data)


def torch_objects():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4),
                                torch.nn.Linear(4, 2))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(2):
        opt.zero_grad()
        model(torch.randn(5, 3)).pow(2).sum().backward()
        opt.step()
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    return {
        "f16": torch.randn(3, 5).half(),
        "bf16": torch.randn(4, 3).to(torch.bfloat16),
        "i64": torch.arange(-5, 5),
        "bool": torch.tensor([True, False, True]),
        "c64": torch.randn(2, 3, dtype=torch.complex64),
        "transposed": base.t(),
        "sliced": base[1:3, ::2],
        "base": base,
        "row": base[2],
        "scalar": torch.tensor(3.5, dtype=torch.float64),
        "empty": torch.zeros(0, 4),
        "model": model.state_dict(),
        "optim": opt.state_dict(),
        "param": torch.nn.Parameter(torch.randn(2, 2)),
        "meta": {"epoch": 3, "name": "run", "lr": [0.1, (0.9, 0.999)], "none": None},
    }


# -- PyTorch's checkpoints in ember -----------------------------------------------------
@FORMATS
def test_torch_checkpoints_load_identically(tmp_path, zip_format):
    obj = torch_objects()
    path = tmp_path / "ckpt.pt"
    torch.save(obj, path, _use_new_zipfile_serialization=zip_format)
    got = ember.load(path)
    for key in ("f16", "bf16", "i64", "bool", "c64", "transposed", "sliced", "base", "row",
                "scalar", "empty", "param"):
        assert_same(got[key], obj[key])
    assert_tree_same(got["model"], obj["model"])
    assert isinstance(got["model"], collections.OrderedDict)
    assert_tree_same(got["optim"], obj["optim"])
    assert got["optim"]["state"][0]["step"].item() == 2.0
    assert got["meta"] == obj["meta"]
    # views of one storage still share memory, as in torch
    assert shares(got["base"], got["transposed"]) and shares(got["base"], got["sliced"])
    assert shares(got["base"], got["row"])
    got["base"][2, 0] = -1.0
    assert got["row"][0].item() == -1.0


def test_torch_file_object_and_map_location(tmp_path):
    buf = io.BytesIO()
    torch.save({"w": torch.ones(2, 3)}, buf)
    for loc in (None, "cpu", ember.device("cpu"), torch.device("cpu"), {"cpu": "cpu"},
                lambda storage, location: storage, lambda storage, location: None):
        out = ember.load(io.BytesIO(buf.getvalue()), map_location=loc)
        assert out["w"].device == ember.device("cpu") and out["w"].sum().item() == 6.0


@pytest.mark.skipif(ember.cuda.is_available(), reason="checks the CPU-only error")
def test_cuda_location_without_cuda_is_explained():
    buf = io.BytesIO()
    ember.save({"w": ember.ones(2)}, buf)
    with pytest.raises(RuntimeError, match="map_location"):
        ember.load(io.BytesIO(buf.getvalue()), map_location="cuda")


# -- ember's checkpoints in PyTorch -----------------------------------------------------
@FORMATS
def test_ember_checkpoints_load_in_torch(tmp_path, zip_format):
    base = ember.arange(20, dtype=ember.float32).reshape(4, 5)
    state = collections.OrderedDict(
        weight=base, weight_t=base.t(), tail=base[1:, 2:], stepped=base[::2, ::2],
        half=ember.tensor([1.5, -2.0], dtype=ember.float16),
        bf16=ember.tensor([1.0, 0.5, -3.0], dtype=ember.bfloat16),
        long=ember.tensor([1, 2, 3]), flag=ember.tensor([True, False]),
        cplx=ember.tensor([1 + 2j, 3 - 1j], dtype=ember.complex64),
        step=ember.tensor(4.0), expanded=ember.ones(3, 1).expand(3, 4),
    )
    optim = {"state": {0: {"step": ember.tensor(3.0), "exp_avg": ember.zeros(4, 5)}},
             "param_groups": [{"lr": 0.01, "betas": (0.9, 0.999), "params": [0],
                               "foreach": None}]}
    path = tmp_path / "ember.pt"
    ember.save({"model": state, "optim": optim, "dtype": ember.bfloat16,
                "size": ember.Size([2, 3]), "device": ember.device("cpu")}, path,
               _use_new_zipfile_serialization=zip_format)
    got = torch.load(path, weights_only=True)
    for k, v in state.items():
        assert_same(v, got["model"][k])
    assert isinstance(got["model"], collections.OrderedDict)
    ptr = got["model"]["weight"].untyped_storage().data_ptr()
    for k in ("weight_t", "tail", "stepped"):
        assert got["model"][k].untyped_storage().data_ptr() == ptr  # one shared storage
    assert got["model"]["tail"].storage_offset() == 7
    assert got["optim"]["param_groups"] == optim["param_groups"]
    assert got["optim"]["state"][0]["step"].item() == 3.0
    assert got["dtype"] is torch.bfloat16 and got["size"] == torch.Size([2, 3])
    assert got["device"] == torch.device("cpu")


def test_ember_parameters_load_in_torch_as_parameters(tmp_path):
    p = ember.nn.Parameter(ember.ones(2, 3))
    path = tmp_path / "p.pt"
    ember.save({"p": p}, path)
    got = torch.load(path, weights_only=True)
    assert isinstance(got["p"], torch.nn.Parameter) and got["p"].requires_grad
    back = ember.load(path)
    assert isinstance(back["p"], ember.nn.Parameter) and back["p"].requires_grad


@FORMATS
def test_torch_parameter_with_weights_only_false_maps_to_ember(tmp_path, zip_format):
    path = tmp_path / "p.pt"
    torch.save({"p": torch.nn.Parameter(torch.ones(2)), "size": torch.Size([1, 2]),
                "dtype": torch.float16}, path, _use_new_zipfile_serialization=zip_format)
    got = ember.load(path, weights_only=False)
    assert got["p"].requires_grad and got["p"].sum().item() == 2.0
    assert isinstance(got["size"], ember.Size) and got["dtype"] is ember.float16
    Parameter = getattr(ember.nn, "Parameter", None)
    if Parameter is not None:
        assert isinstance(got["p"], Parameter)


# -- ember round trips -------------------------------------------------------------------
def test_parameter_with_attributes_from_torch(tmp_path):
    p = torch.nn.Parameter(torch.ones(2))
    p.tag = "frozen"
    path = tmp_path / "p.pt"
    torch.save({"p": p}, path)
    got = ember.load(path)["p"]
    assert got.tag == "frozen" and got.requires_grad


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_plain_containers_at_every_protocol(protocol):
    # frozenset, range and slice are refused, as torch.load(weights_only=True) does
    obj = {"s": {1, 2}, "l": [1, [2, 3]],
           "o": collections.OrderedDict(a=1), "c": collections.Counter("aab"), "t": (1, 2),
           "b": b"xy", "ba": bytearray(b"z"), "x": 1 + 2j}
    buf = io.BytesIO()
    ember.save(obj, buf, pickle_protocol=protocol)
    assert ember.load(io.BytesIO(buf.getvalue())) == obj


def test_round_trip_nested_structures(tmp_path):
    x = ember.randn(3, 4)
    obj = {"a": [x, (x[0], {"deep": [ember.arange(3), "text", 7, 2.5, None, True]})],
           "b": (ember.zeros(2, dtype=ember.int16), b"raw bytes", {1, 2}, 3 + 4j),
           "same": x}
    path = tmp_path / "nested.pt"
    ember.save(obj, path)
    got = ember.load(path)
    assert isinstance(got["a"], list) and isinstance(got["a"][1], tuple)
    assert np.array_equal(got["a"][0].numpy(), x.numpy())
    assert got["a"][0] is got["same"]  # one object saved once stays one object
    assert shares(got["a"][0], got["a"][1][0])
    deep = got["a"][1][1]["deep"]
    assert deep[0].tolist() == [0, 1, 2] and deep[1:] == ["text", 7, 2.5, None, True]
    assert got["b"][0].dtype is ember.int16 and got["b"][1:] == (b"raw bytes", {1, 2}, 3 + 4j)


def test_round_trip_views_keep_strides_and_sharing():
    base = ember.arange(60.0).reshape(3, 4, 5)
    views = {"base": base, "perm": base.permute(2, 0, 1), "step": base[:, ::2, 1::3],
             "exp": ember.arange(4.0).reshape(4, 1).expand(4, 6), "row": base[1]}
    buf = io.BytesIO()
    ember.save(views, buf)
    got = ember.load(io.BytesIO(buf.getvalue()))
    for k, v in views.items():
        assert got[k].stride() == v.stride() and got[k].storage_offset() == v.storage_offset()
        assert np.array_equal(got[k].numpy(), v.numpy())
    assert shares(got["base"], got["perm"]) and shares(got["base"], got["row"])
    assert got["exp"].stride() == (1, 0)


def test_mmap_load_and_file_objects(tmp_path):
    path = tmp_path / "m.pt"
    w = ember.randn(64, 32)
    ember.save({"w": w}, path)
    got = ember.load(path, mmap=True)
    assert np.array_equal(got["w"].numpy(), w.numpy())
    got["w"][0, 0] = 1e6  # copy-on-write: the file is untouched
    assert ember.load(path)["w"][0, 0].item() == w[0, 0].item()
    with open(path, "rb") as fh:
        assert np.array_equal(ember.load(fh)["w"].numpy(), w.numpy())


def test_torch_reads_storages_with_mmap(tmp_path):
    path = tmp_path / "aligned.pt"
    ember.save({"a": ember.randn(5, 7), "b": ember.arange(11)}, path)
    got = torch.load(path, weights_only=True, mmap=True)
    assert got["a"].shape == (5, 7) and got["b"].tolist() == list(range(11))
    with zipfile.ZipFile(path) as zf:  # storages start on 64-byte boundaries
        for info in zf.infolist():
            if "/data/" in info.filename:
                fh = open(path, "rb")
                fh.seek(info.header_offset + 26)
                n, m = np.frombuffer(fh.read(4), np.uint16)
                fh.close()
                assert (info.header_offset + 30 + n + m) % 64 == 0


# -- the allow-list ------------------------------------------------------------------------
class Evil:
    """Unpickling this runs a shell command (what a malicious checkpoint would do)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


Point = collections.namedtuple("Point", "x y")


class EvalEvil:
    def __reduce__(self):
        return (eval, ("__import__('os').getpid()",))


class PopenEvil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (subprocess.Popen, (["touch", str(self.marker)],))


def _write_evil(kind: str, obj, path) -> None:
    if kind == "zip":
        torch.save({"state": obj}, path)
    elif kind == "legacy":
        torch.save({"state": obj}, path, _use_new_zipfile_serialization=False)
    else:  # a bare pickle
        path.write_bytes(pickle.dumps(obj, protocol=2))


@pytest.mark.parametrize("kind", ["zip", "legacy", "pickle"])
def test_code_running_pickle_is_refused(tmp_path, kind):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    _write_evil(kind, Evil(marker), path)
    with pytest.raises(UnpicklingError, match=r"posix\.system|os\.system") as info:
        ember.load(path)
    assert isinstance(info.value, pickle.UnpicklingError)
    assert str(path) in str(info.value)
    assert not marker.exists()


@pytest.mark.parametrize("evil,name", [(EvalEvil(), "builtins.eval"),
                                       (PopenEvil("/nonexistent/x"), "subprocess.Popen"),
                                       (Point(1, 2), "test_serialization.Point")])
def test_other_globals_are_refused(tmp_path, evil, name):
    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps(evil, protocol=2))
    with pytest.raises(UnpicklingError, match=name):
        ember.load(path)


@pytest.mark.parametrize("payload", [
    # BUILD on the OrderedDict class itself (would set class attributes)
    b"\x80\x02ccollections\nOrderedDict\nq\x00}q\x01X\x04\x00\x00\x00keysq\x02K\x01sb.",
    b"\x80\x02ccollections\nOrderedDict\n)R)R.",  # calling an instance
    b"\x80\x02ccollections\nOrderedDict\n)RK\x01a.",  # APPEND to a non-list
])
def test_allowed_globals_cannot_be_misused(payload):
    with pytest.raises(UnpicklingError, match="Weights only load failed"):
        ember.load(io.BytesIO(payload))


def test_ember_objects_need_weights_only_false(tmp_path):
    path = tmp_path / "obj.pt"
    ember.save({"point": ember.utils.data.WorkerInfo(id=1)}, path)
    with pytest.raises(UnpicklingError, match="WorkerInfo"):
        ember.load(path)
    assert ember.load(path, weights_only=False)["point"].id == 1


# -- damaged files ------------------------------------------------------------------------
def _checkpoint(tmp_path, kind):
    path = tmp_path / f"good.{kind}"
    tensors = {"w": ember.randn(40, 50), "b": ember.arange(100)}
    if kind == "safetensors":
        save_safetensors(tensors, path)
    else:
        ember.save(tensors, path, _use_new_zipfile_serialization=kind == "zip")
    return path, tensors


@pytest.mark.parametrize("kind", ["zip", "legacy", "safetensors"])
def test_truncated_files_are_refused(tmp_path, kind):
    path, _ = _checkpoint(tmp_path, kind)
    data = path.read_bytes()
    for cut in (len(data) - 1, len(data) // 2, 40, 5):
        bad = tmp_path / f"cut{cut}.bin"
        bad.write_bytes(data[:cut])
        with pytest.raises(RuntimeError) as info:
            ember.load(bad)
        assert str(bad) in str(info.value)
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    with pytest.raises(RuntimeError, match="empty"):
        ember.load(empty)


@pytest.mark.parametrize("kind", ["zip", "legacy", "safetensors"])
def test_corrupted_files_are_refused(tmp_path, kind):
    path, _ = _checkpoint(tmp_path, kind)
    data = bytearray(path.read_bytes())
    if kind == "zip":
        with zipfile.ZipFile(path) as zf:
            info = zf.getinfo("archive/data/0")
        data[info.header_offset + 200] ^= 0xFF  # inside the storage: CRC mismatch
    elif kind == "legacy":
        data[5] ^= 0xFF  # the magic number
    else:
        data[12:20] = b"}}}}}}}}"  # the JSON header
    bad = tmp_path / f"bad.{kind}"
    bad.write_bytes(bytes(data))
    with pytest.raises(RuntimeError) as info:
        ember.load(bad)
    assert str(bad) in str(info.value)
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(os.urandom(1000))
    with pytest.raises(RuntimeError, match="not a checkpoint|corrupted"):
        ember.load(garbage)


def test_storage_record_of_wrong_size_is_refused(tmp_path):
    path = tmp_path / "w.pt"
    ember.save({"w": ember.ones(10)}, path)
    out = tmp_path / "short.pt"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info.filename, data[:-4] if info.filename.endswith("data/0") else data)
    with pytest.raises(RuntimeError, match="bytes"):
        ember.load(out)


# -- atomic writes ------------------------------------------------------------------------
def test_save_is_atomic(tmp_path, monkeypatch):
    from ember.serialization import _zip_format

    path = tmp_path / "model.pt"
    ember.save({"w": ember.ones(3)}, path)
    calls = []
    real = _zip_format.write_storage

    def failing(zf, ref):
        real(zf, ref)
        calls.append(ref.key)
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(_zip_format, "write_storage", failing)
    with pytest.raises(OSError, match="simulated"):
        ember.save({"w": ember.zeros(1000), "v": ember.zeros(5)}, path)
    assert calls  # the failure happened mid-write
    assert os.listdir(tmp_path) == ["model.pt"]  # no temporary file left behind
    assert ember.load(path)["w"].tolist() == [1.0, 1.0, 1.0]


def test_unpicklable_object_leaves_no_file(tmp_path):
    path = tmp_path / "x.pt"
    with pytest.raises((pickle.PicklingError, TypeError, AttributeError)):
        ember.save({"f": lambda: 0}, path)
    assert os.listdir(tmp_path) == []


# -- safetensors ----------------------------------------------------------------------------
def test_safetensors_round_trip_with_metadata(tmp_path):
    tensors = {"w": ember.randn(3, 4), "h": ember.tensor([1.0, 2.0], dtype=ember.float16),
               "bf": ember.tensor([0.5, -1.0], dtype=ember.bfloat16),
               "i": ember.arange(5), "m": ember.tensor([True, False]),
               "t": ember.arange(6.0).reshape(2, 3).t()}
    path = tmp_path / "model.safetensors"
    save_safetensors(tensors, path, metadata={"format": "pt", "epoch": "3"})
    got = load_safetensors(path)
    assert got.metadata == {"format": "pt", "epoch": "3"}
    assert safetensors_metadata(path) == {"format": "pt", "epoch": "3"}
    for k, v in tensors.items():
        assert got[k].dtype is v.dtype and np.array_equal(got[k].numpy(), v.numpy())
    via_load = ember.load(path)
    assert set(via_load) == set(tensors)
    from safetensors.torch import load_file

    theirs = load_file(str(path))
    for k, v in tensors.items():
        assert_same(v.contiguous(), theirs[k])
    with pytest.raises(ValueError, match="complex128"):
        save_safetensors({"c": ember.zeros(2, dtype=ember.complex128)}, path)


def test_reads_safetensors_written_by_torch(tmp_path):
    from safetensors.torch import save_file

    torch.manual_seed(0)
    tensors = {"a": torch.randn(4, 5), "b": torch.randn(3).to(torch.bfloat16),
               "c": torch.arange(7, dtype=torch.int32), "d": torch.randn(2).half()}
    path = tmp_path / "torch.safetensors"
    save_file(tensors, str(path), metadata={"source": "torch"})
    got = load_safetensors(path)
    assert got.metadata == {"source": "torch"}
    for k, v in tensors.items():
        assert_same(got[k], v)


def test_import_does_not_load_safetensors_or_torch():
    code = ("import sys, ember; print(sorted(m for m in ('torch', 'safetensors') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"
