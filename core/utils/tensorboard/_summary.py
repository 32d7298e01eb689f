"""Builders for the ``Summary`` protocol buffers that SummaryWriter writes.

Every public-ish function here returns the encoded bytes of one ``tensorboard.Summary``
message. Field numbers follow TensorBoard's .proto definitions (summary.proto,
tensor.proto, tensor_shape.proto and the plugins' plugin_data.proto / layout.proto).
"""

from __future__ import annotations

import io
import math
import numbers
import wave

import numpy as np

from . import _wire as w

# tensorboard.DataType values
DT_FLOAT, DT_DOUBLE, DT_STRING = 1, 2, 7


# ----------------------------------------------------------------- input conversion
def to_numpy(value, method: str, arg: str) -> np.ndarray:
    """Turn an ember/torch tensor, numpy array, list or Python number into a numpy array."""
    if hasattr(value, "detach") and hasattr(value, "numpy"):
        value = value.detach()
        if hasattr(value, "cpu"):
            value = value.cpu()
        value = value.numpy()
    try:
        arr = np.asarray(value)
    except Exception as exc:  # pragma: no cover - exotic inputs
        raise TypeError(
            f"SummaryWriter.{method}: cannot convert {arg} of type {type(value).__name__} "
            "to an array"
        ) from exc
    if arr.dtype == object:
        raise TypeError(
            f"SummaryWriter.{method}: {arg} must be a tensor, numpy array or number, "
            f"got {type(value).__name__}"
        )
    if arr.dtype.kind == "V" or arr.dtype.name in ("bfloat16", "float8_e4m3fn", "float8_e5m2"):
        arr = arr.astype(np.float32)
    return arr


def to_float(value, method: str, arg: str) -> float:
    """A single real number from a Python number, 1-element array or tensor."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        raise TypeError(f"SummaryWriter.{method}: {arg} must be a number, got a string {value!r}")
    arr = to_numpy(value, method, arg)
    if arr.size != 1:
        raise ValueError(
            f"SummaryWriter.{method}: {arg} must be a single number, got an array of shape "
            f"{tuple(arr.shape)}"
        )
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"SummaryWriter.{method}: {arg} must be real-valued, got {arr.dtype}")
    return float(arr.reshape(()))


# ----------------------------------------------------------------- message pieces
def _shape(dims) -> bytes:
    return b"".join(w.message(2, w.uint(1, d)) for d in dims)


def tensor_proto(dtype: int, dims, *fields: bytes) -> bytes:
    """A TensorProto: dtype, shape (``dims=None`` leaves the shape out), value fields."""
    shape = b"" if dims is None else w.message(2, _shape(dims))
    return w.uint(1, dtype) + shape + b"".join(fields)


def metadata(plugin_name: str, content: bytes = b"", display_name: str = "") -> bytes:
    """A SummaryMetadata naming the plugin that reads the value."""
    plugin = w.string(1, plugin_name) + w.blob(2, content)
    return w.message(1, plugin) + w.string(2, display_name)


def value(tag: str, *, meta: bytes | None = None, **payload: bytes) -> bytes:
    """A Summary.Value with ``tag``, optional metadata, and one payload field.

    ``payload`` takes one of ``simple_value`` (a float), ``image``, ``histo``, ``audio``,
    ``tensor`` (encoded messages).
    """
    parts = [w.string(1, tag)]
    for key, data in payload.items():
        if key == "simple_value":
            parts.append(w.float32(2, data, keep=True))
        else:
            field = {"image": 4, "histo": 5, "audio": 6, "tensor": 8}[key]
            parts.append(w.message(field, data))
    if meta is not None:
        parts.append(w.message(9, meta))
    return b"".join(parts)


def summary(*values: bytes) -> bytes:
    """A Summary holding the given encoded Summary.Value messages."""
    return b"".join(w.message(1, v) for v in values)


# ----------------------------------------------------------------- scalars
def scalar(tag: str, val: float, new_style: bool = False, double_precision: bool = False):
    """A scalar, either as ``simple_value`` or (new style) as a rank-0 tensor."""
    if not new_style:
        return summary(value(tag, simple_value=val))
    if double_precision:
        t = tensor_proto(DT_DOUBLE, None, w.packed_doubles(6, [val]))
    else:
        t = tensor_proto(DT_FLOAT, None, w.packed_floats(5, [val]))
    return summary(value(tag, tensor=t, meta=metadata("scalars")))


# ----------------------------------------------------------------- histograms
def _tensorflow_edges() -> np.ndarray:
    """TensorFlow's default histogram bucket edges: +-1e-12 growing by 10% to 1e20, and 0."""
    pos = []
    edge = 1e-12
    while edge < 1e20:
        pos.append(edge)
        edge *= 1.1
    pos = np.array(pos)
    return np.concatenate([-pos[::-1], [0.0], pos])


TENSORFLOW_BINS = _tensorflow_edges()


def histogram_proto(mn, mx, num, total, sum_sq, limits, counts) -> bytes:
    """An encoded HistogramProto."""
    return b"".join(
        (
            w.double(1, mn),
            w.double(2, mx),
            w.double(3, num),
            w.double(4, total),
            w.double(5, sum_sq),
            w.packed_doubles(6, limits),
            w.packed_doubles(7, counts),
        )
    )


def histogram(tag: str, values: np.ndarray, bins, max_bins=None) -> bytes:
    """Bucket ``values`` (numpy ``bins`` spec or ``'tensorflow'``) into a histogram summary."""
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    if values.size == 0:
        raise ValueError("SummaryWriter.add_histogram: values is empty")
    if not np.all(np.isfinite(values)):
        raise ValueError("SummaryWriter.add_histogram: values contains NaN or infinity")
    if isinstance(bins, str) and bins == "tensorflow":
        bins = TENSORFLOW_BINS
    counts, edges = np.histogram(values, bins=bins)
    n_bins = len(counts)
    if max_bins is not None and n_bins > max_bins:
        group = n_bins // max_bins
        extra = n_bins % group
        if extra:
            counts = np.concatenate([counts, np.zeros(group - extra, counts.dtype)])
        counts = counts.reshape(-1, group).sum(axis=1)
        new_edges = edges[::group]
        if extra:
            new_edges = np.concatenate([new_edges, edges[-1:]])
        edges = new_edges
    # One (empty) bucket whose upper limit is the lowest edge, then a bucket per bin.
    counts = np.concatenate([[0], counts]).astype(np.float64)
    nonzero = np.flatnonzero(counts)
    first = max(int(nonzero[0]) - 1, 0) if nonzero.size else 0
    last = int(nonzero[-1]) + 1 if nonzero.size else len(counts)
    return summary(
        value(
            tag,
            histo=histogram_proto(
                values.min(),
                values.max(),
                values.size,
                values.sum(),
                values.dot(values),
                edges[first:last],
                counts[first:last],
            ),
        )
    )


# ----------------------------------------------------------------- images
def _check_format(method: str, arr: np.ndarray, dataformats: str, allowed: str) -> str:
    fmt = str(dataformats).upper()
    if len(set(fmt)) != len(fmt) or not set(fmt) <= set(allowed) or not {"H", "W"} <= set(fmt):
        raise ValueError(
            f"SummaryWriter.{method}: invalid dataformats {dataformats!r}; use letters from "
            f"{allowed!r} once each, including H and W (e.g. 'CHW', 'HWC', 'HW')"
        )
    if arr.ndim != len(fmt):
        raise ValueError(
            f"SummaryWriter.{method}: image of shape {tuple(arr.shape)} does not match "
            f"dataformats {dataformats!r} (expected {len(fmt)} dimensions)"
        )
    return fmt


def to_nchw(method: str, arr: np.ndarray, dataformats: str) -> np.ndarray:
    """Reorder an image batch given in ``dataformats`` (letters from NCHW) to NCHW."""
    fmt = _check_format(method, arr, dataformats, "NCHW")
    for letter in "NC":
        if letter not in fmt:
            arr = arr[np.newaxis]
            fmt = letter + fmt
    arr = np.transpose(arr, [fmt.index(c) for c in "NCHW"])
    if arr.shape[1] not in (1, 3, 4):
        raise ValueError(
            f"SummaryWriter.{method}: images must have 1, 3 or 4 channels, got "
            f"{arr.shape[1]} (shape {tuple(arr.shape)} with dataformats {dataformats!r})"
        )
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"SummaryWriter.{method}: img_tensor has unsupported dtype {arr.dtype}")
    return arr


def grid(batch: np.ndarray, ncols: int | None = None) -> np.ndarray:
    """Tile an NCHW batch into one CHW image, up to 8 images a row, no padding."""
    n, c, h, wd = batch.shape
    if c == 1:
        batch = np.repeat(batch, 3, axis=1)
        c = 3
    cols = min(n, 8) if ncols is None else ncols
    rows = math.ceil(n / cols)
    out = np.zeros((c, rows * h, cols * wd), dtype=batch.dtype)
    for i in range(n):
        r, k = divmod(i, cols)
        out[:, r * h : (r + 1) * h, k * wd : (k + 1) * wd] = batch[i]
    return out


def to_uint8(arr: np.ndarray) -> np.ndarray:
    """uint8 images pass as they are; other types are taken as [0, 1] and scaled by 255."""
    if arr.dtype == np.uint8:
        return arr
    scaled = arr.astype(np.float32 if arr.dtype.kind == "f" and arr.itemsize <= 4 else np.float64)
    return np.clip(scaled * 255, 0, 255).astype(np.uint8)


def encode_png(hwc: np.ndarray, method: str) -> bytes:
    """PNG bytes of an HWC uint8 image (1, 3 or 4 channels) through Pillow."""
    try:
        from PIL import Image
    except ImportError as exc:
        raise ImportError(
            f"SummaryWriter.{method} needs Pillow to encode PNG images: pip install pillow"
        ) from exc
    mode = {1: "L", 3: "RGB", 4: "RGBA"}[hwc.shape[2]]
    img = Image.fromarray(np.ascontiguousarray(hwc if mode != "L" else hwc[:, :, 0]), mode)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def image_proto(hwc: np.ndarray, method: str) -> bytes:
    """An encoded Summary.Image for an HWC uint8 array."""
    h, wd, c = hwc.shape
    return w.uint(1, h) + w.uint(2, wd) + w.uint(3, c) + w.blob(4, encode_png(hwc, method))


def image(tag: str, chw: np.ndarray, method: str) -> bytes:
    """An image summary of one CHW image (1-channel images are shown as RGB)."""
    if chw.shape[0] == 1:
        chw = np.repeat(chw, 3, axis=0)
    hwc = np.transpose(to_uint8(chw), (1, 2, 0))
    return summary(value(tag, image=image_proto(hwc, method)))


# ----------------------------------------------------------------- audio
def audio(tag: str, samples: np.ndarray, sample_rate: float) -> bytes:
    """A Summary.Audio holding 16-bit mono PCM WAV of ``samples`` in [-1, 1]."""
    pcm = (np.clip(samples.astype(np.float64), -1, 1) * 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(int(sample_rate))
        wav.writeframes(pcm.tobytes())
    proto = b"".join(
        (
            w.float32(1, sample_rate),
            w.uint(2, 1),
            w.uint(3, len(pcm)),
            w.blob(4, buf.getvalue()),
            w.string(5, "audio/wav"),
        )
    )
    return summary(value(tag, audio=proto))


# ----------------------------------------------------------------- text
def text(tag: str, text_string: str) -> bytes:
    """A text-plugin summary: a string tensor of shape [1] under ``<tag>/text_summary``."""
    t = tensor_proto(DT_STRING, [1], w.repeated_blobs(8, [text_string.encode("utf-8")]))
    return summary(value(tag + "/text_summary", tensor=t, meta=metadata("text")))


# ----------------------------------------------------------------- pr curves
def pr_curve_raw(tag: str, rows: np.ndarray, num_thresholds: int) -> bytes:
    """A pr_curves summary from its 6 x num_thresholds table (TP, FP, TN, FN, P, R)."""
    rows = np.asarray(rows, dtype=np.float32)
    t = tensor_proto(DT_FLOAT, list(rows.shape), w.packed_floats(5, rows.reshape(-1)))
    content = w.uint(2, num_thresholds)  # PrCurvePluginData.num_thresholds (version 0)
    return summary(value(tag, tensor=t, meta=metadata("pr_curves", content)))


def pr_curve_table(labels, predictions, num_thresholds: int, weights=None) -> np.ndarray:
    """Compute the TP/FP/TN/FN/precision/recall table at ``num_thresholds`` thresholds."""
    labels = np.asarray(labels).reshape(-1)
    predictions = np.asarray(predictions, dtype=np.float64).reshape(-1)
    if labels.shape != predictions.shape:
        raise ValueError(
            "SummaryWriter.add_pr_curve: labels and predictions must have the same number of "
            f"elements, got {labels.size} and {predictions.size}"
        )
    weights = 1.0 if weights is None else np.asarray(weights, np.float64).reshape(-1)
    truth = labels.astype(bool)
    bucket = np.floor(predictions * (num_thresholds - 1)).astype(np.int64)
    bucket = np.clip(bucket, 0, num_thresholds - 1)
    w_all = np.broadcast_to(weights, predictions.shape)
    tp_b = np.bincount(bucket, weights=w_all * truth, minlength=num_thresholds)
    fp_b = np.bincount(bucket, weights=w_all * ~truth, minlength=num_thresholds)
    tp = np.cumsum(tp_b[::-1])[::-1]
    fp = np.cumsum(fp_b[::-1])[::-1]
    tn = fp[0] - fp
    fn = tp[0] - tp
    eps = 1e-7
    precision = tp / np.maximum(eps, tp + fp)
    recall = tp / np.maximum(eps, tp + fn)
    return np.stack([tp, fp, tn, fn, precision, recall])


# ----------------------------------------------------------------- custom scalars
def custom_scalars(layout: dict) -> bytes:
    """The custom_scalars plugin's layout summary.

    ``layout`` is ``{category: {chart_title: [kind, args]}}`` with ``kind`` ``'Multiline'``
    (``args`` a list of tags/regexes) or ``'Margin'`` (``args`` = [value, lower, upper]).
    """
    if not isinstance(layout, dict):
        raise TypeError("SummaryWriter.add_custom_scalars: layout must be a dict")
    cats = []
    for title, charts in layout.items():
        if not isinstance(charts, dict):
            raise TypeError(
                f"SummaryWriter.add_custom_scalars: layout[{title!r}] must be a dict of charts"
            )
        chart_msgs = []
        for chart_title, spec in charts.items():
            if not isinstance(spec, (list, tuple)) or len(spec) != 2:
                raise ValueError(
                    "SummaryWriter.add_custom_scalars: each chart must be [kind, args], got "
                    f"{spec!r} for chart {chart_title!r}"
                )
            kind, args = spec
            if kind == "Multiline":
                content = w.message(2, b"".join(w.string(1, t, keep=True) for t in args))
            elif kind == "Margin":
                if len(args) != 3:
                    raise ValueError(
                        "SummaryWriter.add_custom_scalars: a 'Margin' chart needs "
                        f"[value, lower, upper] tags, got {args!r}"
                    )
                series = w.string(1, args[0]) + w.string(2, args[1]) + w.string(3, args[2])
                content = w.message(3, w.message(1, series))
            else:
                raise ValueError(
                    "SummaryWriter.add_custom_scalars: chart kind must be 'Multiline' or "
                    f"'Margin', got {kind!r}"
                )
            chart_msgs.append(w.message(2, w.string(1, chart_title) + content))
        cats.append(w.message(2, w.string(1, title) + b"".join(chart_msgs)))
    layout_bytes = b"".join(cats)
    t = tensor_proto(DT_STRING, [], w.repeated_blobs(8, [layout_bytes]))
    return summary(value("custom_scalars__config__", tensor=t, meta=metadata("custom_scalars")))


# ----------------------------------------------------------------- hparams
_STRING, _FLOAT64 = 1, 3  # tensorboard.hparams.DataType
_SUCCESS = 1  # tensorboard.hparams.Status.STATUS_SUCCESS


def _struct_value(v) -> bytes:
    """A google.protobuf.Value for a string, or a number (bools are stored as 0/1 numbers,
    as torch does)."""
    if isinstance(v, str):
        return w.string(3, v, keep=True)
    return w.double(2, float(v), keep=True)


def _hparams_value(tag: str, plugin_data: bytes) -> bytes:
    return summary(value(tag, meta=metadata("hparams", plugin_data)))


def hparams(hparam_dict: dict, metric_dict: dict, domain_discrete: dict | None = None):
    """The three hparams plugin summaries: experiment, session start and session end."""
    domain_discrete = domain_discrete or {}
    infos, entries = [], []
    for name, v in hparam_dict.items():
        if v is None:
            raise ValueError(f"SummaryWriter.add_hparams: hparam {name!r} is None")
        if hasattr(v, "detach") or isinstance(v, np.ndarray | np.generic):
            v = to_float(v, "add_hparams", f"hparam_dict[{name!r}]")
        if isinstance(v, str):
            kind, val = _STRING, v
        elif isinstance(v, numbers.Real):
            kind, val = _FLOAT64, float(v)
        else:
            raise ValueError(
                f"SummaryWriter.add_hparams: hparam {name!r} must be an int, float, bool, str "
                f"or a one-element tensor, got {type(v).__name__}"
            )
        info = w.string(1, name) + w.uint(4, kind)
        if name in domain_discrete:
            choices = domain_discrete[name]
            if not isinstance(choices, (list, tuple)):
                raise TypeError(
                    "SummaryWriter.add_hparams: hparam_domain_discrete values must be lists, "
                    f"got {type(choices).__name__} for {name!r}"
                )
            items = b"".join(w.message(1, _struct_value(c)) for c in choices)
            info += w.message(5, items)
        infos.append(w.message(4, info))
        entries.append(w.message(1, w.string(1, name) + w.message(2, _struct_value(val))))
    metric_infos = [w.message(5, w.message(1, w.string(2, tag))) for tag in metric_dict]
    experiment = w.message(2, b"".join(infos + metric_infos))
    start = w.message(3, b"".join(entries))
    end = w.message(4, w.uint(1, _SUCCESS))
    return (
        _hparams_value("_hparams_/experiment", experiment),
        _hparams_value("_hparams_/session_start_info", start),
        _hparams_value("_hparams_/session_end_info", end),
    )
