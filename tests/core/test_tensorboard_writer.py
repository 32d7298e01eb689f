"""ember.utils.tensorboard.SummaryWriter against torch.utils.tensorboard: both write the
same calls, tensorboard's own readers load both, and the results are compared."""

import glob
import io
import os
import struct

import ember
import numpy as np
import pytest
from ember.utils.tensorboard import SummaryWriter
from ember.utils.tensorboard._record import crc32c, frame_record, masked_crc32c

pytest.importorskip("tensorboard")
torch_tb = pytest.importorskip("torch.utils.tensorboard")
import torch  # noqa: E402
from PIL import Image  # noqa: E402
from tensorboard.backend.event_processing.event_accumulator import (  # noqa: E402
    EventAccumulator,
)
from tensorboard.backend.event_processing.event_file_loader import (  # noqa: E402
    RawEventFileLoader,
)
from tensorboard.compat.proto import event_pb2  # noqa: E402
from tensorboard.plugins.hparams import plugin_data_pb2 as hp_pb2  # noqa: E402

SIZE = {"images": 0, "histograms": 0, "scalars": 0, "tensors": 0, "audio": 0}


def both(tmp_path, fn, **kw):
    """Run ``fn(writer, lib)`` with an ember and a torch writer; return both log dirs."""
    dirs = []
    for name, cls, lib in (
        ("ember", SummaryWriter, ember),
        ("torch", torch_tb.SummaryWriter, torch),
    ):
        d = str(tmp_path / name)
        with cls(d, **kw) as w:
            fn(w, lib)
        dirs.append(d)
    return dirs


def load(d):
    acc = EventAccumulator(d, size_guidance=SIZE)
    acc.Reload()
    return acc


def raw_events(d):
    (path,) = glob.glob(os.path.join(d, "events.out.tfevents.*"))
    return [event_pb2.Event.FromString(r) for r in RawEventFileLoader(path).Load()]


def decode_png(data):
    return np.asarray(Image.open(io.BytesIO(data)))


def test_crc32c_known_values_and_framing(tmp_path):
    assert crc32c(b"123456789") == 0xE3069283  # the standard CRC-32C check value
    assert crc32c(b"") == 0
    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c as tb_mask

    for data in (b"", b"a", os.urandom(1000)):
        assert masked_crc32c(data) == tb_mask(data)
    payload = event_pb2.Event(wall_time=1.5, step=3, file_version="x").SerializeToString()
    rec = frame_record(payload)
    assert struct.unpack("<Q", rec[:8])[0] == len(payload)
    assert struct.unpack("<I", rec[8:12])[0] == tb_mask(rec[:8])
    assert rec[12:-4] == payload and struct.unpack("<I", rec[-4:])[0] == tb_mask(payload)
    path = tmp_path / "events.out.tfevents.1.h"
    path.write_bytes(rec + frame_record(b"second"))
    assert list(RawEventFileLoader(str(path)).Load()) == [payload, b"second"]


def test_event_file_name_first_event_and_logdir(tmp_path, monkeypatch):
    w = SummaryWriter(str(tmp_path / "r"), filename_suffix=".sfx")
    assert w.get_logdir() == str(tmp_path / "r")
    w.close()
    (path,) = glob.glob(str(tmp_path / "r" / "events.out.tfevents.*"))
    name = os.path.basename(path)
    parts = name.split(".")
    assert parts[3].isdigit() and parts[-2].isdigit() and name.endswith(".sfx")
    assert f".{os.getpid()}." in name
    (first,) = raw_events(str(tmp_path / "r"))
    assert first.file_version == "brain.Event:2" and first.wall_time > 0
    monkeypatch.chdir(tmp_path)
    w = SummaryWriter(comment="_abc")
    assert w.get_logdir().startswith("runs" + os.sep) and w.get_logdir().endswith("_abc")
    w.close()


def test_scalars_match_torch(tmp_path):
    def fn(w, lib):
        for i in range(5):
            w.add_scalar("loss", 1.0 / (i + 1), i)
        w.add_scalar("t", lib.tensor(2.5), lib.tensor(7))
        w.add_scalar("np", np.float32(0.25), 1, walltime=123.0)
        w.add_scalar("new", 0.1, 2, new_style=True)
        w.add_scalar("dbl", 0.1, 3, new_style=True, double_precision=True)

    e, t = (load(d) for d in both(tmp_path, fn))
    assert sorted(e.Tags()["scalars"]) == sorted(t.Tags()["scalars"])
    for tag in ("loss", "t", "np"):
        ev, tv = e.Scalars(tag), t.Scalars(tag)
        assert [x.step for x in ev] == [x.step for x in tv]
        assert [x.value for x in ev] == [x.value for x in tv]
        if tag != "np":
            assert all(x.wall_time > 1e9 for x in ev)
    assert e.Scalars("np")[0].wall_time == 123.0
    for tag in ("new", "dbl"):
        ev, tv = e.Tensors(tag)[0], t.Tensors(tag)[0]
        assert ev.step == tv.step and ev.tensor_proto == tv.tensor_proto
    assert e.Tensors("dbl")[0].tensor_proto.double_val == [0.1]


def test_add_scalars_layout(tmp_path):
    def fn(w, lib):
        w.add_scalars("run/loss", {"train": 1.0, "val": 2.0}, 1)
        w.add_scalars("run/loss", {"train": 0.5, "val": 1.5}, 2)

    de, dt = both(tmp_path, fn)
    subs_e = sorted(p for p in os.listdir(de) if not p.startswith("events."))
    assert subs_e == sorted(p for p in os.listdir(dt) if not p.startswith("events."))
    assert {"run_loss_train", "run_loss_val"} <= set(subs_e)
    for sub in ("run_loss_train", "run_loss_val"):
        e, t = load(os.path.join(de, sub)), load(os.path.join(dt, sub))
        assert e.Tags()["scalars"] == t.Tags()["scalars"] == ["run/loss"]
        assert [(s.step, s.value) for s in e.Scalars("run/loss")] == [
            (s.step, s.value) for s in t.Scalars("run/loss")
        ]


@pytest.mark.parametrize(
    "data,bins,max_bins",
    [
        (np.random.RandomState(0).randn(500) * 3, "tensorflow", None),
        (np.arange(10.0), "tensorflow", None),
        (np.array([1.0, 1.0, 1.0]), "tensorflow", None),
        (np.random.RandomState(1).rand(200), 10, None),
        (np.random.RandomState(2).randn(300), "auto", None),
        (np.random.RandomState(3).randn(300), [-1, 0, 0.5, 2], None),
        (np.arange(20.0), 10, 3),
        (np.arange(20.0), 9, 4),
        (np.array([5.0, 5.0]), 3, None),
    ],
)
def test_histograms_match_torch(tmp_path, data, bins, max_bins):
    def fn(w, lib):
        x = lib.tensor(data) if lib is not np else data
        w.add_histogram("h", x, 3, bins=bins, max_bins=max_bins)

    e, t = (load(d) for d in both(tmp_path, fn))
    he, ht = e.Histograms("h")[0], t.Histograms("h")[0]
    assert he.step == ht.step == 3
    a, b = he.histogram_value, ht.histogram_value
    assert (a.min, a.max, a.num) == (b.min, b.max, b.num)
    np.testing.assert_allclose([a.sum, a.sum_squares], [b.sum, b.sum_squares], rtol=1e-12)
    np.testing.assert_array_equal(a.bucket_limit, b.bucket_limit)
    np.testing.assert_array_equal(a.bucket, b.bucket)


def test_histogram_raw_matches_torch(tmp_path):
    def fn(w, lib):
        w.add_histogram_raw("hr", 0, 5, 3, 6, 14, [1, 2, 3], [1, 1, 1], 2)

    e, t = (load(d) for d in both(tmp_path, fn))
    assert e.Histograms("hr") == t.Histograms("hr") or (
        e.Histograms("hr")[0].histogram_value == t.Histograms("hr")[0].histogram_value
    )


IMAGE_CASES = [
    ("chw_float", np.random.RandomState(0).rand(3, 6, 5), "CHW"),
    ("hwc_float32", np.random.RandomState(1).rand(4, 7, 3).astype(np.float32), "HWC"),
    ("hw", np.random.RandomState(2).rand(5, 4), "HW"),
    ("uint8", np.random.RandomState(3).randint(0, 256, (3, 4, 4)).astype(np.uint8), "CHW"),
    ("one_channel", np.random.RandomState(4).rand(1, 3, 3), "CHW"),
    ("rgba", np.random.RandomState(5).rand(4, 3, 3), "CHW"),
    ("out_of_range", np.linspace(-1, 2, 27).reshape(3, 3, 3), "CHW"),
]


def test_images_match_torch(tmp_path):
    def fn(w, lib):
        for name, img, fmt in IMAGE_CASES:
            w.add_image(name, lib.from_numpy(img.copy()), 1, dataformats=fmt)
        for n in (1, 3, 9, 17):
            batch = np.random.RandomState(n).rand(n, 3, 4, 5).astype(np.float32)
            w.add_images(f"grid{n}", lib.from_numpy(batch), 2)
        nhwc = np.random.RandomState(7).rand(3, 4, 5, 1)
        w.add_images("nhwc", nhwc, 2, dataformats="NHWC")

    e, t = (load(d) for d in both(tmp_path, fn))
    assert sorted(e.Tags()["images"]) == sorted(t.Tags()["images"])
    for tag in t.Tags()["images"]:
        ie, it = e.Images(tag)[0], t.Images(tag)[0]
        assert (ie.width, ie.height, ie.step) == (it.width, it.height, it.step), tag
        np.testing.assert_array_equal(
            decode_png(ie.encoded_image_string), decode_png(it.encoded_image_string), tag
        )


def test_text_audio_custom_scalars_pr_curve_match_torch(tmp_path):
    rng = np.random.RandomState(0)
    labels = rng.randint(0, 2, 200)
    preds = np.concatenate([rng.rand(190), [0, 1, 0.25, 0.5, 0.75, 0.1, 0.2, 0.3, 0.9, 1]])
    weights = rng.rand(200)

    def fn(w, lib):
        w.add_text("note", "hello *world* ü", 4)
        w.add_audio("snd", lib.tensor(np.sin(np.arange(300) / 5.0) * 1.2), 1, sample_rate=8000)
        w.add_custom_scalars(
            {"cat": {"a": ["Multiline", ["x", "y"]], "m": ["Margin", ["v", "lo", "hi"]]}}
        )
        w.add_pr_curve("pr", labels, preds, 5)
        w.add_pr_curve(
            "prw", lib.tensor(labels), lib.tensor(preds), 6, num_thresholds=11, weights=weights
        )

    e, t = (load(d) for d in both(tmp_path, fn))
    assert sorted(e.Tags()["tensors"]) == sorted(t.Tags()["tensors"])
    for tag in ("note/text_summary", "custom_scalars__config__"):
        assert e.Tensors(tag)[0].tensor_proto == t.Tensors(tag)[0].tensor_proto, tag
        assert e.Tensors(tag)[0].step == t.Tensors(tag)[0].step
    for tag in ("pr", "prw"):
        pe, pt = e.Tensors(tag)[0].tensor_proto, t.Tensors(tag)[0].tensor_proto
        assert pe.tensor_shape == pt.tensor_shape
        np.testing.assert_allclose(pe.float_val, pt.float_val, rtol=1e-5, atol=1e-5)
        assert e.SummaryMetadata(tag).plugin_data == t.SummaryMetadata(tag).plugin_data
    ae, at = e.Audio("snd")[0], t.Audio("snd")[0]
    assert ae.encoded_audio_string == at.encoded_audio_string
    assert (ae.sample_rate, ae.length_frames, ae.content_type) == (
        at.sample_rate,
        at.length_frames,
        at.content_type,
    )


def _hparams_run(d):
    (sub,) = [p for p in os.listdir(d) if os.path.isdir(os.path.join(d, p))]
    return os.path.join(d, sub)


def test_hparams_match_torch(tmp_path):
    def fn(w, lib):
        w.add_hparams(
            {"lr": 0.1, "bs": 32, "opt": "adam", "flag": True, "t": lib.tensor([0.5])},
            {"acc": 0.9, "loss": 0.25},
            hparam_domain_discrete={"opt": ["adam", "sgd"], "bs": [16, 32], "flag": [True, False]},
        )

    de, dt = both(tmp_path, fn)
    re_, rt = _hparams_run(de), _hparams_run(dt)
    e, t = load(re_), load(rt)
    for tag in (
        "_hparams_/experiment",
        "_hparams_/session_start_info",
        "_hparams_/session_end_info",
    ):
        me = hp_pb2.HParamsPluginData.FromString(e.SummaryMetadata(tag).plugin_data.content)
        mt = hp_pb2.HParamsPluginData.FromString(t.SummaryMetadata(tag).plugin_data.content)
        assert me == mt, tag
        assert e.SummaryMetadata(tag).plugin_data.plugin_name == "hparams"
    for tag in ("acc", "loss"):
        assert e.Scalars(tag)[0].value == t.Scalars(tag)[0].value

    with SummaryWriter(str(tmp_path / "named")) as w:
        w.add_hparams({"a": 1}, {"m": 2.0}, run_name="myrun", global_step=5)
    assert load(str(tmp_path / "named" / "myrun")).Scalars("m")[0].step == 5


def test_embedding_files_match_torch(tmp_path):
    mat = np.random.RandomState(0).randn(6, 3).astype(np.float32)
    imgs = np.random.RandomState(1).rand(6, 3, 4, 4).astype(np.float32)

    def fn(w, lib):
        w.add_embedding(lib.from_numpy(mat), metadata=list("abcdef"), global_step=2, tag="emb")
        w.add_embedding(
            np.arange(6.0).reshape(2, 3),
            metadata=[["x", 1], ["y", 2]],
            metadata_header=["name", "id"],
            tag="hdr",
        )
        w.add_embedding(lib.from_numpy(mat), label_img=lib.from_numpy(imgs), global_step=1)
        w.add_embedding(mat[:5], list("vwxyz"), lib.from_numpy(imgs[:5]), 3, "both")

    de, dt = both(tmp_path, fn)
    for rel in (
        "projector_config.pbtxt",
        "00002/emb/tensors.tsv",
        "00002/emb/metadata.tsv",
        "00000/hdr/tensors.tsv",
        "00000/hdr/metadata.tsv",
        "00001/default/tensors.tsv",
    ):
        with open(os.path.join(de, rel)) as a, open(os.path.join(dt, rel)) as b:
            assert a.read() == b.read(), rel
    sprite = "00001/default/sprite.png"
    np.testing.assert_array_equal(
        np.asarray(Image.open(os.path.join(de, sprite))),
        np.asarray(Image.open(os.path.join(dt, sprite))),
    )


def test_purge_step_and_flush(tmp_path):
    d = str(tmp_path / "p")
    w = SummaryWriter(d, purge_step=7, max_queue=1000, flush_secs=1000)
    w.add_scalar("a", 1.0, 8)
    assert len(raw_events(d)) == 1  # still queued in memory
    w.flush()
    evs = raw_events(d)
    assert evs[1].step == 7 and evs[1].file_version == "brain.Event:2"
    assert evs[2].step == 7 and evs[2].session_log.status == event_pb2.SessionLog.START
    assert evs[3].summary.value[0].simple_value == 1.0
    w.close()
    w2 = SummaryWriter(str(tmp_path / "q"), flush_secs=0)
    w2.add_scalar("a", 1.0, 1)
    assert len(raw_events(str(tmp_path / "q"))) == 2  # flush_secs elapsed: written at once
    w2.close()


def test_bad_inputs_raise_clear_errors(tmp_path):
    with SummaryWriter(str(tmp_path)) as w:
        with pytest.raises(ValueError, match=r"add_image: image of shape \(2, 2\).*'CHW'"):
            w.add_image("x", np.zeros((2, 2)))
        with pytest.raises(ValueError, match="add_image.*channels"):
            w.add_image("x", np.zeros((2, 4, 4)))
        with pytest.raises(ValueError, match="add_images.*dataformats"):
            w.add_images("x", np.zeros((2, 3, 4, 4)), dataformats="NCXW")
        with pytest.raises(ValueError, match="add_scalar: scalar_value must be a single number"):
            w.add_scalar("x", np.zeros(3))
        with pytest.raises(TypeError, match="add_scalar: scalar_value"):
            w.add_scalar("x", "1.0")
        with pytest.raises(ValueError, match="add_histogram: values is empty"):
            w.add_histogram("x", np.zeros(0))
        with pytest.raises(ValueError, match="add_histogram_raw.*same length"):
            w.add_histogram_raw("x", 0, 1, 2, 1, 1, [1, 2], [1])
        with pytest.raises(ValueError, match="add_audio: snd_tensor must be one-dimensional"):
            w.add_audio("x", np.zeros((2, 5)))
        with pytest.raises(TypeError, match="add_hparams"):
            w.add_hparams([("a", 1)], {})
        with pytest.raises(ValueError, match="add_hparams: hparam 'a'"):
            w.add_hparams({"a": [1, 2]}, {"m": 1.0})
        with pytest.raises(ValueError, match="add_embedding: metadata has 1 entries"):
            w.add_embedding(np.zeros((2, 3)), metadata=["a"])
        with pytest.raises(ValueError, match="add_custom_scalars.*kind"):
            w.add_custom_scalars({"c": {"t": ["Bogus", ["a"]]}})
        with pytest.raises(NotImplementedError, match="add_graph"):
            w.add_graph(ember.nn.Linear(2, 2), ember.zeros(1, 2))


def test_close_then_reuse_and_context_manager(tmp_path):
    d = str(tmp_path / "c")
    w = SummaryWriter(d)
    w.add_scalar("a", 1.0, 0)
    w.close()
    w.close()  # idempotent
    w.add_scalar("a", 2.0, 1)  # opens a new event file, as torch does
    w.close()
    assert len(glob.glob(os.path.join(d, "events.out.tfevents.*"))) == 2
    assert [s.value for s in load(d).Scalars("a")] == [1.0, 2.0]
