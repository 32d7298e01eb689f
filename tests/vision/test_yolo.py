"""ember.vision YOLOv8 and YOLO11: parity with Ultralytics (golden outputs of
tools/fixtures/yolo_golden.py: a YOLOv8 checkpoint it saved in Ultralytics' format, a YOLO11
with weights from the shared seeded recipe), safe checkpoint reading, state_dict layouts of
the released sizes, NMS, letterbox and box scaling, and training."""

import json
import os
import subprocess
import sys
from pathlib import Path

import ember
import numpy as np
import pytest
from ember.serialization import UnpicklingError
from ember.vision.models import detection as D
from ember.vision.models.detection import yolo_checkpoint as yc
from vision_helpers import GOLDEN, assert_close, load_golden, skip_init
from vision_recipe import seeded_state

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools" / "fixtures"))
from yolo_golden import NMS_CASES  # noqa: E402

CKPT = GOLDEN / "yolov8_tiny.pt"
SIZES = "nsmlx"
LETTERBOX_CASES = {  # as in tools/fixtures/yolo_golden.py: new_shape, auto, scaleup, center
    "lb_auto": ((96, 96), True, True, True),
    "lb_square": ((64, 64), False, True, True),
    "lb_down": ((40, 56), False, True, True),
    "lb_noup": ((96, 96), True, False, True),
    "lb_corner": ((64, 64), False, True, False),
}


@pytest.fixture(scope="module")
def golden():
    return load_golden("yolo.npz")


@pytest.fixture(scope="module")
def tiny():
    """The tiny checkpoint's model (eval mode); tests that change it work on a copy."""
    return D.YOLOv8.from_ultralytics(CKPT)


def _fresh():
    return D.YOLOv8.from_ultralytics(CKPT)


# --- reading Ultralytics checkpoints ----------------------------------------------------

def test_checkpoint_loads_without_torch_or_ultralytics():
    code = (
        "import sys\n"
        "sys.modules['torch'] = None\n"  # any import of torch now raises
        "sys.modules['ultralytics'] = None\n"
        "from ember.vision.models.detection import YOLOv8\n"
        f"m = YOLOv8.from_ultralytics({str(CKPT)!r})\n"
        "assert m.num_classes == 3 and not m.training\n"
        "print('ok')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_checkpoint_state_dict_has_ultralytics_keys_and_dtypes(golden):
    ckpt = D.load_ultralytics_checkpoint(CKPT)
    assert list(ckpt.state_dict) == str(golden["tiny_keys"]).split("\n")
    assert ckpt.model_class == "ultralytics.nn.tasks.DetectionModel"
    assert ckpt.version == str(golden["ultralytics_version"])
    assert ckpt.num_classes == 3 and ckpt.names == {0: "class0", 1: "class1", 2: "class2"}
    sd = ckpt.state_dict
    assert sd["model.0.conv.weight"].dtype == ember.float16  # saved in half precision
    assert sd["model.0.bn.num_batches_tracked"].dtype == ember.int64
    assert_close(sd["model.22.dfl.conv.weight"].float().view(-1), np.arange(16, dtype="f4"))
    # the raw tree: the checkpoint dict with placeholders for Ultralytics' classes
    assert isinstance(ckpt.raw["model"], yc.PickledObject) and ckpt.raw["optimizer"] is None


def test_from_ultralytics_matches_parameter_count(golden, tiny):
    assert sum(p.numel() for p in tiny.parameters()) == int(golden["tiny_num_params"])
    assert all(p.dtype == ember.float32 for p in tiny.parameters())
    assert tiny.names == {0: "class0", 1: "class1", 2: "class2"}


def test_default_ember_load_refuses_the_checkpoint():
    with pytest.raises(UnpicklingError, match="ultralytics"):
        ember.load(CKPT)


class _RunsCommand:
    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


class _Evals:
    def __reduce__(self):
        return eval, ("1 + 1",)


@pytest.mark.parametrize("payload,name", [(_RunsCommand, r"(os|posix)\.system"), (_Evals, "eval")])
def test_malicious_global_is_refused(tmp_path, payload, name):
    marker = tmp_path / "pwned"
    obj = payload(f"touch {marker}") if payload is _RunsCommand else payload()
    path = tmp_path / "evil.pt"
    ember.save({"model": obj}, path)
    with pytest.raises(UnpicklingError, match=f"refused global .*{name}"):
        D.load_ultralytics_checkpoint(path)
    assert not marker.exists()


CALLS = []


def _side_effect(*args):  # named by the pickle below; must never run
    CALLS.append(args)
    return args


class _CallsSideEffect:
    def __reduce__(self):
        return _side_effect, ("ran",)


class _FakeModule:
    """Pickles like an nn.Module: a __dict__ with _parameters, _buffers, _modules."""

    def __init__(self, params, children=None, extra=None):
        self._parameters = params
        self._buffers = {}
        self._non_persistent_buffers_set = set()
        self._modules = children or {}
        self.extra = extra


def test_unknown_globals_become_inert_placeholders(tmp_path):
    w = ember.arange(6, dtype=ember.float32).view(2, 3)
    tree = _FakeModule({}, {"layer": _FakeModule({"weight": w, "bias": None})},
                       extra=_CallsSideEffect())
    path = tmp_path / "fake.pt"
    ember.save({"model": tree, "ema": None}, path)
    CALLS.clear()
    ckpt = D.load_ultralytics_checkpoint(path)
    assert CALLS == []  # nothing named by the file was called
    extra = ckpt.raw["model"].attributes["extra"]
    assert isinstance(extra, yc.PickledObject)
    assert extra.cls.qualname.endswith("_side_effect") and extra.args == ("ran",)
    assert list(ckpt.state_dict) == ["layer.weight"]
    assert_close(ckpt.state_dict["layer.weight"], w.numpy())


def test_truncated_checkpoint_is_reported(tmp_path):
    path = tmp_path / "cut.pt"
    path.write_bytes(CKPT.read_bytes()[:5000])
    with pytest.raises(RuntimeError, match="cut.pt"):
        D.load_ultralytics_checkpoint(path)


# --- architecture -------------------------------------------------------------------

@pytest.mark.parametrize("name", [f"{family}{size}" for family in ("yolov8", "yolo11")
                                  for size in SIZES])
def test_state_dict_layout_and_params_match_ultralytics(golden, name):
    with skip_init():
        model = getattr(D, name)(num_classes=80)
    sd = model.state_dict()
    assert list(sd) == str(golden[f"{name}_keys"]).split("\n")
    shapes = [tuple(int(d) for d in line.split(",") if d)
              for line in str(golden[f"{name}_shapes"]).split("\n")]
    assert [tuple(v.shape) for v in sd.values()] == shapes
    assert sum(p.numel() for p in model.parameters()) == int(golden[f"{name}_num_params"])
    enum = ember.vision.models.get_model_weights(name)
    assert enum.COCO_V1.meta["num_params"] == int(golden[f"{name}_num_params"])
    assert enum.COCO_V1.url.endswith(f"/{name}.pt")


def test_eval_outputs_match_ultralytics(golden, tiny):
    with ember.no_grad():
        y, maps = tiny(ember.from_numpy(golden["x"]))
    assert y.shape == (2, 7, 126) and y.dtype == ember.float32
    assert_close(y, golden["eval_y"], rtol=1e-5, atol=1e-4)
    for i, m in enumerate(maps):
        assert_close(m, golden[f"eval_map{i}"], rtol=1e-5, atol=1e-5)


def test_train_outputs_and_running_stats_match_ultralytics(golden):
    model = _fresh().train()
    maps = model(ember.from_numpy(golden["x"]))
    assert isinstance(maps, list) and len(maps) == 3
    for i, m in enumerate(maps):
        assert_close(m, golden[f"train_map{i}"], rtol=1e-4, atol=1e-4)
    assert_close(model.model[0].bn.running_mean, golden["train_bn0_running_mean"])
    assert_close(model.model[0].bn.running_var, golden["train_bn0_running_var"])


def _tiny11(golden):
    model = D.YOLO11(3, 0.5, 0.125, 1024)
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()
              if not k.endswith("dfl.conv.weight")}  # the DFL bins stay 0..15
    state = seeded_state(shapes, 8 + 11)  # as tools/fixtures/yolo_golden.py
    model.load_state_dict({k: ember.from_numpy(v) for k, v in state.items()}, strict=False)
    assert list(model.state_dict()) == str(golden["tiny11_keys"]).split("\n")
    return model


def test_yolo11_outputs_match_ultralytics(golden):
    model = _tiny11(golden).eval()
    x = ember.from_numpy(golden["x"])
    with ember.no_grad():
        y, maps = model(x)
    assert_close(y, golden["tiny11_eval_y"], rtol=1e-5, atol=1e-4)
    for i, m in enumerate(maps):
        assert_close(m, golden[f"tiny11_eval_map{i}"], rtol=1e-5, atol=1e-5)
    maps = model.train()(x)
    for i, m in enumerate(maps):
        assert_close(m, golden[f"tiny11_train_map{i}"], rtol=1e-4, atol=2e-4)
    (sum(m.sum() for m in maps)).backward()
    attn = model.model[10].m[0].attn
    assert attn.qkv.conv.weight.grad is not None and attn.pe.conv.weight.grad is not None


def test_checkpoint_configuration_picks_family_and_size(golden):
    from ember.vision.models.detection.yolo import _family_of, _scale_of

    cfg = json.loads(str(golden["tiny11_cfg"]))
    assert _family_of(cfg) is D.YOLO11
    assert _scale_of(cfg, "yolo11") == (0.5, 0.125, 1024, "t")
    model = D.YOLO11._from_config(cfg, 3)
    assert list(model.state_dict()) == str(golden["tiny11_keys"]).split("\n")
    cfg["head"] = cfg["head"][:-1]
    with pytest.raises(ValueError, match="not a YOLOv8 or YOLO11"):
        _family_of(cfg)
    with pytest.raises(ValueError, match="holds a YOLOv8 model"):
        D.YOLO11.from_ultralytics(CKPT)


def test_training_step_decreases_loss_and_gradients_flow(golden):
    model = _fresh().train()
    x = ember.from_numpy(golden["x"])
    opt = ember.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)

    def objective():  # any differentiable function of the raw maps
        return sum((m ** 2).mean() for m in model(x))

    losses = []
    for step in range(4):
        opt.zero_grad()
        loss = objective()
        loss.backward()
        if step == 0:
            for name, p in model.named_parameters():
                if name.endswith("dfl.conv.weight"):  # frozen, as in Ultralytics
                    assert not p.requires_grad and p.grad is None
                else:
                    assert p.grad is not None and bool(ember.isfinite(p.grad).all()), name
            assert float(model.model[0].conv.weight.grad.abs().sum()) > 0
        opt.step()
        losses.append(float(loss))
    assert losses[-1] < losses[0] * 0.85, losses


# --- post-processing ----------------------------------------------------------------

@pytest.mark.parametrize("case", list(NMS_CASES))
def test_non_max_suppression_matches_ultralytics(golden, case):
    dets = D.non_max_suppression(ember.from_numpy(golden["eval_y"]), **NMS_CASES[case])
    assert [len(d) for d in dets] == list(golden[f"eval_nms_{case}_counts"])
    got = np.concatenate([d.numpy() for d in dets]).reshape(-1, 6)
    assert_close(got, golden[f"eval_nms_{case}"], rtol=0, atol=1e-6)


def test_non_max_suppression_defaults_and_inputs(golden, tiny):
    y = ember.from_numpy(golden["eval_y"])
    with ember.no_grad():
        pair = tiny(ember.from_numpy(golden["x"]))
    dets = D.non_max_suppression(pair)  # the (y, maps) pair is accepted
    assert [len(d) for d in dets] == list(golden["eval_nms_default_counts"])
    assert all(d.shape[1] == 6 for d in D.non_max_suppression(y, conf_thres=0.99))
    assert len(D.non_max_suppression(y, conf_thres=0.0, max_det=3)[0]) == 3
    with pytest.raises(ValueError, match="Confidence"):
        D.non_max_suppression(y, conf_thres=1.5)
    out = D.detections_to_dicts(D.non_max_suppression(y))
    assert set(out[0]) == {"boxes", "scores", "labels"}
    assert out[0]["labels"].dtype == ember.int64 and out[0]["boxes"].shape[1] == 4


@pytest.mark.parametrize("name", list(LETTERBOX_CASES))
def test_letterbox_matches_ultralytics(golden, name):
    shape, auto, scaleup, center = LETTERBOX_CASES[name]
    src, ref = golden[f"{name}_src"], golden[f"{name}_out"]
    out, info = D.letterbox(src, shape, auto=auto, scaleup=scaleup, center=center)
    assert out.shape == ref.shape and out.dtype == np.uint8 and info.shape == ref.shape[:2]
    # bilinear resize: within one grey level of OpenCV's fixed-point INTER_LINEAR
    assert np.abs(out.astype(int) - ref.astype(int)).max() <= 1
    pad = np.ones(ref.shape[:2], bool)
    left, top = info.pad
    h, w = round(src.shape[0] * info.ratio[0]), round(src.shape[1] * info.ratio[1])
    pad[top:top + h, left:left + w] = False
    assert (out[pad] == 114).all() and (ref[pad] == 114).all()
    # tensors in, tensors out
    t_out, _ = D.letterbox(ember.from_numpy(np.ascontiguousarray(src.transpose(2, 0, 1))),
                           shape, auto=auto, scaleup=scaleup, center=center)
    np.testing.assert_array_equal(t_out.numpy().transpose(1, 2, 0), out)


def test_scale_boxes_matches_ultralytics(golden):
    for i in range(4):
        h1, w1, h0, w0 = (int(v) for v in golden[f"sb_case{i}_shapes"])
        got = D.scale_boxes((h1, w1), ember.from_numpy(golden["sb_boxes"]), (h0, w0))
        assert_close(got, golden[f"sb_case{i}"], rtol=1e-6, atol=1e-5)


def test_predict_pipeline_matches_ultralytics(golden, tiny):
    with ember.no_grad():
        y, _ = tiny(ember.from_numpy(golden["lb_input"]))
    assert_close(y, golden["lb_y"], rtol=1e-5, atol=1e-4)
    det = D.non_max_suppression(y, 0.25, 0.7)[0]
    assert_close(det, golden["lb_dets"], rtol=1e-5, atol=1e-4)
    boxes = D.scale_boxes(golden["lb_input"].shape[2:], det[:, :4],
                          golden["lb_auto_src"].shape[:2])
    assert_close(boxes, golden["lb_boxes_orig"], rtol=1e-5, atol=1e-4)
    # the convenience: image in, torchvision-style dicts in original pixels out
    res = tiny.predict(golden["lb_auto_src"], imgsz=96)
    assert len(res) == 1 and not tiny.training
    assert res[0]["boxes"].shape == golden["lb_boxes_orig"].shape
    assert_close(res[0]["boxes"], golden["lb_boxes_orig"], rtol=1e-3, atol=0.05)
    np.testing.assert_array_equal(res[0]["labels"].numpy(), golden["lb_dets"][:, 5])


# --- builders and weights -----------------------------------------------------------

def test_builders_registry_and_weights_meta():
    model = D.yolov8n(num_classes=3)
    assert isinstance(model, D.YOLOv8) and model.num_classes == 3
    assert ember.vision.models.get_model_builder("yolov8s") is D.yolov8s
    assert ember.vision.models.get_model_weights("yolov8x") is D.YOLOv8x_Weights
    w = D.YOLOv8n_Weights.DEFAULT
    assert w is D.YOLOv8n_Weights.COCO_V1
    assert w.url == "https://github.com/ultralytics/assets/releases/download/v8.3.0/yolov8n.pt"
    assert len(w.meta["categories"]) == 80 and w.meta["categories"][0] == "person"
    assert w.meta["sha256"] is None and "no sha256" in w.meta["_sha256_note"]
    with pytest.raises(ValueError, match="num_classes"):
        D.yolov8n(weights=w, num_classes=3)
    x = w.transforms()(np.zeros((30, 50, 3), np.uint8))
    assert x.shape == (3, 640, 640) and abs(float(x[0, 0, 0]) - 114 / 255) < 1e-6
    with ember.no_grad():
        y, maps = model.eval()(ember.zeros(1, 3, 64, 64))
    assert y.shape == (1, 7, 84) and [m.shape[1] for m in maps] == [67, 67, 67]
    w11 = D.YOLO11n_Weights.DEFAULT
    assert w11.url == "https://github.com/ultralytics/assets/releases/download/v8.3.0/yolo11n.pt"
    assert isinstance(D.yolo11n(num_classes=5), D.YOLO11)
    with skip_init():
        assert type(D.yolo11m().model[2].m[0]).__name__ == "C3k"  # forced for m, l, x
        assert type(D.yolo11s().model[2].m[0]).__name__ == "Bottleneck"


def test_weights_enum_loads_ultralytics_file(monkeypatch):
    import ember.hub

    monkeypatch.setattr(ember.hub, "_cached_download", lambda *a, **k: str(CKPT))
    sd = D.YOLOv8n_Weights.COCO_V1.get_state_dict(progress=False)
    assert sd["model.0.conv.weight"].dtype == ember.float32
    model = D.YOLOv8(3, 0.33, 0.0625, 1024)
    model.load_state_dict(sd)
