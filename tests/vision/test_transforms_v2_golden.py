"""ember.vision.transforms.v2 against torchvision 0.29.1 (golden file made by
tools/fixtures/vision_transforms_v2_golden.py): every functional case (images, masks, boxes,
key points, videos, PIL images), every transform applied with the parameters torchvision
drew, and a preset pipeline. Outputs must have torchvision's type, dtype, shape, box
metadata and values."""

import json

import ember
import numpy as np
import pytest
from ember.vision import tv_tensors as tvt
from ember.vision.transforms import v2
from ember.vision.transforms.v2 import functional as F
from vision_helpers import load_golden

PIL = pytest.importorskip("PIL.Image")

H, W = 24, 32
INPUTS = {
    "img_u8": ("Image", "img_u8"), "img_f32": ("Image", "img_f32"),
    "pure_u8": ("Tensor", "img_u8"), "pure_f32": ("Tensor", "img_f32"),
    "pil": ("PIL", "img_u8"), "gray": ("Image", "gray_u8"), "video": ("Video", "video"),
    "mask": ("Mask", "mask"), "masks": ("Mask", "masks"),
    "xyxy": ("BoundingBoxes", ("boxes", "XYXY")), "xywh": ("BoundingBoxes", ("xywh", "XYWH")),
    "cxcywh": ("BoundingBoxes", ("cxcywh", "CXCYWH")),
    "xyxy_int": ("BoundingBoxes", ("boxes_int", "XYXY")),
    "cxcywh_int": ("BoundingBoxes", ("boxes_int", "CXCYWH")),
    "xyxy_noclamp": ("BoundingBoxes", ("boxes", "XYXY", None)), "kp": ("KeyPoints", "kp"),
    "xywhr": ("BoundingBoxes", ("rot_boxes", "XYWHR")),
    "cxcywhr": ("BoundingBoxes", ("cxcywhr", "CXCYWHR")),
    "xyxyxyxy": ("BoundingBoxes", ("xyxyxyxy", "XYXYXYXY")),
}

@pytest.fixture(scope="module")
def golden():
    g = load_golden("transforms_v2.npz")
    g["cases"] = json.loads(str(g["cases"]))
    return g


def _wrap(g, name):
    kind, extra = INPUTS[name]
    if kind == "PIL":
        return PIL.fromarray(np.ascontiguousarray(g["in_" + extra].transpose(1, 2, 0)))
    if kind == "BoundingBoxes":
        mode = extra[2] if len(extra) > 2 else "soft"
        return tvt.BoundingBoxes(ember.from_numpy(g["in_" + extra[0]].copy()), format=extra[1],
                                 canvas_size=(H, W), clamping_mode=mode)
    if kind == "KeyPoints":
        return tvt.KeyPoints(ember.from_numpy(g["in_" + extra].copy()), canvas_size=(H, W))
    t = ember.from_numpy(g["in_" + extra].copy())
    return t if kind == "Tensor" else getattr(tvt, kind)(t)


def _kwargs(g, kwargs):
    out = {}
    for k, v in kwargs.items():
        if isinstance(v, dict) and set(v) == {"array"}:
            v = ember.from_numpy(g["in_" + v["array"]].copy())
        if k == "dtype":
            v = getattr(ember, v)
        out[k] = v
    return out


def _ctor(value):
    if isinstance(value, str) and value in ("float32", "float64", "uint8", "int64", "int16"):
        return getattr(ember, value)
    if isinstance(value, list):
        return [_ctor(v) for v in value]
    if isinstance(value, dict):
        return {(getattr(tvt, k) if k in ("Image", "Mask", "Video", "BoundingBoxes") else k):
                _ctor(v) for k, v in value.items()}
    return value


def _params(params):
    out = {}
    for k, v in params.items():
        if isinstance(v, dict) and "tensor" in v:
            v = ember.tensor(v["tensor"], dtype=getattr(ember, v["dtype"]))
        elif isinstance(v, dict) and "tuple" in v:
            v = tuple(v["tuple"])
        out[k] = v
    return out


def _check(g, case, outputs):
    leaves = outputs if isinstance(outputs, (tuple, list)) else [outputs]
    assert len(leaves) == len(case["outputs"]), case["key"]
    for i, (out, meta) in enumerate(zip(leaves, case["outputs"])):
        expected = g[f"out_{case['key']}_{i}"]
        where = f"{case['key']}[{i}]"
        if meta["type"] == "PIL":
            assert isinstance(out, PIL.Image), where
            assert out.mode == meta["mode"], where
            actual = np.asarray(out)
        else:
            assert type(out).__name__ == meta["type"], (where, type(out))
            assert str(out.dtype).replace("ember.", "") == meta["dtype"], (where, out.dtype)
            if "canvas_size" in meta:
                assert list(out.canvas_size) == meta["canvas_size"], where
            if "format" in meta:
                assert out.format.value == meta["format"], where
            actual = out.detach().numpy()
        assert actual.shape == expected.shape, (where, actual.shape, expected.shape)
        _compare(where, case["key"], actual, expected)


def _compare(where, key, actual, expected):
    """Float outputs to float32 precision; integer outputs (uint8 images, masks, integer
    boxes) exactly."""
    if expected.dtype.kind == "f":
        np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=2e-4, err_msg=where)
        return
    diff = np.abs(actual.astype(np.int64) - expected.astype(np.int64))
    assert diff.max(initial=0) == 0, (where, int(diff.max()), int((diff > 0).sum()))


def _cases(kind):
    g = load_golden("transforms_v2.npz")
    return [c for c in json.loads(str(g["cases"])) if c["kind"] == kind]


@pytest.mark.parametrize("case", _cases("functional"), ids=lambda c: c["key"])
def test_functional_matches_torchvision(golden, case):
    inpt = _wrap(golden, case["inputs"][0])
    out = getattr(F, case["fn"])(inpt, **_kwargs(golden, case["kwargs"]))
    _check(golden, case, out)


@pytest.mark.parametrize("case", _cases("transform"), ids=lambda c: c["key"])
def test_transform_with_torchvision_params_matches(golden, case):
    t = getattr(v2, case["cls"])(*_ctor(case["args"]), **_ctor(case["kwargs"]))
    inputs = [_wrap(golden, n) for n in case["inputs"]]
    params = _params(case["params"])
    needs = t._which_inputs(inputs)
    outs = [t.transform(i, params) if n else i for i, n in zip(inputs, needs)]
    _check(golden, case, outs)


@pytest.mark.parametrize("case", _cases("transform"), ids=lambda c: c["key"])
def test_transform_repr_matches_torchvision(golden, case):
    t = getattr(v2, case["cls"])(*_ctor(case["args"]), **_ctor(case["kwargs"]))
    expected = case["repr"].replace("torch.", "ember.")
    assert repr(t) == expected


@pytest.mark.parametrize("case", _cases("pipeline"), ids=lambda c: c["key"])
def test_preset_pipeline_matches_torchvision(golden, case):
    pipe = v2.Compose([v2.ToImage(), v2.Resize(20), v2.CenterCrop(16),
                       v2.ToDtype(ember.float32, scale=True),
                       v2.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    out = pipe(_wrap(golden, case["inputs"][0]))
    assert type(out) is tvt.Image
    np.testing.assert_allclose(out.numpy(), golden[f"out_{case['key']}_0"], rtol=1e-5,
                               atol=1e-5)


def _stats_cases():
    g = load_golden("transforms_v2.npz")
    return sorted(json.loads(str(g["stats"])).items())


def _endpoints(coefficients, h, w):
    """The corners that a perspective's coefficients (output -> input map) send the input
    corners to: bounded draws, unlike the heavy-tailed coefficients themselves."""
    a, b, c, d, e, f, g, k = coefficients
    inverse = np.linalg.inv(np.array([[a, b, c], [d, e, f], [g, k, 1.0]]))
    corners = np.array([[0, 0, 1], [w - 1, 0, 1], [w - 1, h - 1, 1], [0, h - 1, 1]], float)
    mapped = corners @ inverse.T
    return (mapped[:, :2] / mapped[:, 2:]).flatten().tolist()


def _param_stats(draws):
    """Per parameter: mean and std of its values and the fraction of draws without it
    (the fixture's ``param_stats`` on ember values)."""
    keys = sorted({k for d in draws for k in d})
    out = {}
    for key in keys:
        values, missing = [], 0
        for d in draws:
            v = d.get(key)
            if v is None:
                missing += 1
                continue
            if key == "coefficients":
                v = _endpoints(v, H, W)
            elif isinstance(v, ember.Tensor):
                v = v.float()
                v = [v.abs().mean().item()] if v.numel() > 16 else v.flatten().tolist()
            elif isinstance(v, (list, tuple)):
                v = [float(x) for x in v]
            else:
                v = [float(v)]
            values.append(v)
        arr = np.array(values, dtype=np.float64) if values else np.zeros((0, 1))
        out[key] = {"mean": arr.mean(0) if len(arr) else np.zeros(0),
                    "std": arr.std(0) if len(arr) else np.zeros(0),
                    "missing": missing / len(draws), "n": len(values)}
    return out


@pytest.mark.parametrize("name,spec", _stats_cases(), ids=lambda x: x if isinstance(x, str)
                         else "")
def test_random_parameters_follow_torchvisions_distributions(golden, name, spec):
    """400 draws of ``make_params`` in ember and in torchvision (the fixture's summary):
    same parameters, same fraction of absent ones, means within 4.5 standard errors and
    standard deviations within 20% plus 4 of their standard errors."""
    ember.manual_seed(1234)
    t = getattr(v2, spec["cls"])(*_ctor(spec["args"]), **_ctor(spec["kwargs"]))
    inputs = [_wrap(golden, n) for n in spec["inputs"]]
    draws = 400
    ours = _param_stats([t.make_params(inputs) for _ in range(draws)])
    theirs = spec["stats"]
    assert sorted(ours) == sorted(theirs)
    for key, ref in theirs.items():
        got = ours[key]
        assert abs(got["missing"] - ref["missing"]) <= 0.08, (key, got["missing"], ref)
        mean_t, std_t = np.array(ref["mean"]), np.array(ref["std"])
        assert got["mean"].shape == mean_t.shape, key
        n_t = max(draws * (1 - ref["missing"]), 1)
        se = np.sqrt(std_t ** 2 / n_t + got["std"] ** 2 / max(got["n"], 1))
        assert np.all(np.abs(got["mean"] - mean_t) <= 4.5 * se + 1e-6), (key, got["mean"],
                                                                         mean_t, se)
        std_tol = 0.2 * std_t + 4 * std_t / np.sqrt(2 * n_t) + 1e-6
        assert np.all(np.abs(got["std"] - std_t) <= std_tol), (key, got["std"], std_t)


@pytest.mark.parametrize("case", _cases("aa_op"), ids=lambda c: c["key"])
def test_auto_augment_operations_match_torchvision(golden, case):
    from ember.vision.transforms.v2._auto_augment import apply_op

    inpt = _wrap(golden, case["inputs"][0])
    fill = None if case["fill"] is None else [float(f) for f in case["fill"]]
    out = apply_op(inpt, case["op"], case["magnitude"],
                   v2.InterpolationMode(case["interpolation"]), fill)
    _check(golden, case, out)


@pytest.mark.parametrize("cls,num_bins", [("AutoAugment", 10), ("RandAugment", 31),
                                          ("TrivialAugmentWide", 31), ("AugMix", 11)])
def test_auto_augment_magnitude_tables_match_torchvision(golden, cls, num_bins):
    expected = json.loads(str(golden["aa_spaces"]))[cls]
    table = getattr(v2, cls)()._augmentation_space(num_bins, H, W)
    assert list(table) == list(expected)
    for op, (magnitudes, signed) in table.items():
        ref, ref_signed = expected[op]
        assert signed == ref_signed, op
        values = magnitudes.tolist() if magnitudes.ndim else []
        np.testing.assert_allclose(values, ref, rtol=1e-6, atol=1e-6, err_msg=op)
