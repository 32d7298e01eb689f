"""Ultralytics YOLO object detectors for ember: YOLOv8 (https://docs.ultralytics.com/models/
yolov8/) and YOLO11 (https://docs.ultralytics.com/models/yolo11/). The ``YOLOv8`` and
``YOLO11`` models, the ``yolov8n``...``yolov8x`` and ``yolo11n``...``yolo11x`` builders,
their COCO weights enums (Ultralytics' released ``.pt`` files, read without torch by
:mod:`.yolo_checkpoint`), and ``from_ultralytics`` for any Ultralytics YOLOv8/YOLO11
detection checkpoint.

Module names and ``state_dict`` keys are Ultralytics' (``model.0.conv.weight``,
``model.22.cv2.0.2.bias``, ``model.22.dfl.conv.weight``...). Outputs are Ultralytics': in
training mode the list of per-level raw maps ``(N, 64 + nc, H/s, W/s)`` for strides
s = 8, 16, 32; in eval mode ``(y, maps)`` with ``y`` the ``(N, 4 + nc, A)`` decoded boxes
(xywh, input pixels) and class probabilities, ready for :func:`non_max_suppression`.
"""

from __future__ import annotations

import math
from typing import Any

import ember
import numpy as np
from ember import Tensor, nn

from .._api import Weights, WeightsEnum, register_model
from .yolo_blocks import C2PSA, SPPF, C2f, C3k2, Concat, Conv, Detect
from .yolo_utils import (
    YOLOPreprocess,
    detections_to_dicts,
    letterbox,
    non_max_suppression,
    scale_boxes,
)

__all__ = ["YOLOv8", "YOLO11", "YOLOv8n_Weights", "YOLOv8s_Weights", "YOLOv8m_Weights",
           "YOLOv8l_Weights", "YOLOv8x_Weights", "YOLO11n_Weights", "YOLO11s_Weights",
           "YOLO11m_Weights", "YOLO11l_Weights", "YOLO11x_Weights", "yolov8n", "yolov8s",
           "yolov8m", "yolov8l", "yolov8x", "yolo11n", "yolo11s", "yolo11m", "yolo11l",
           "yolo11x", "YOLOV8_SCALES", "YOLO11_SCALES", "COCO80_CATEGORIES"]

# (depth multiple, width multiple, max channels) of each size, from Ultralytics' yolov8.yaml
YOLOV8_SCALES = {
    "n": (0.33, 0.25, 1024),
    "s": (0.33, 0.50, 1024),
    "m": (0.67, 0.75, 768),
    "l": (1.00, 1.00, 512),
    "x": (1.00, 1.25, 512),
}

# The YOLOv8 detection graph: (inputs, repeats, block, arguments), channels before scaling.
# inputs: -1 is the previous layer, other numbers index earlier layers.
_YOLOV8_LAYERS = (
    # backbone
    (-1, 1, "Conv", (64, 3, 2)),  # 0: stride 2
    (-1, 1, "Conv", (128, 3, 2)),  # 1: stride 4
    (-1, 3, "C2f", (128, True)),  # 2
    (-1, 1, "Conv", (256, 3, 2)),  # 3: stride 8
    (-1, 6, "C2f", (256, True)),  # 4
    (-1, 1, "Conv", (512, 3, 2)),  # 5: stride 16
    (-1, 6, "C2f", (512, True)),  # 6
    (-1, 1, "Conv", (1024, 3, 2)),  # 7: stride 32
    (-1, 3, "C2f", (1024, True)),  # 8
    (-1, 1, "SPPF", (1024, 5)),  # 9
    # neck: top-down, then bottom-up
    (-1, 1, "Upsample", ()),  # 10
    ((-1, 6), 1, "Concat", ()),  # 11
    (-1, 3, "C2f", (512, False)),  # 12
    (-1, 1, "Upsample", ()),  # 13
    ((-1, 4), 1, "Concat", ()),  # 14
    (-1, 3, "C2f", (256, False)),  # 15: stride 8 output
    (-1, 1, "Conv", (256, 3, 2)),  # 16
    ((-1, 12), 1, "Concat", ()),  # 17
    (-1, 3, "C2f", (512, False)),  # 18: stride 16 output
    (-1, 1, "Conv", (512, 3, 2)),  # 19
    ((-1, 9), 1, "Concat", ()),  # 20
    (-1, 3, "C2f", (1024, False)),  # 21: stride 32 output
    ((15, 18, 21), 1, "Detect", ()),  # 22
)

# (depth multiple, width multiple, max channels) of each size, from Ultralytics' yolo11.yaml
YOLO11_SCALES = {
    "n": (0.50, 0.25, 1024),
    "s": (0.50, 0.50, 1024),
    "m": (0.50, 1.00, 512),
    "l": (1.00, 1.00, 512),
    "x": (1.00, 1.50, 512),
}

# The YOLO11 detection graph; C3k2 arguments are (channels, c3k, expansion). The m, l and x
# sizes use C3k inner blocks in every C3k2 (``force_c3k``).
_YOLO11_LAYERS = (
    # backbone
    (-1, 1, "Conv", (64, 3, 2)),  # 0: stride 2
    (-1, 1, "Conv", (128, 3, 2)),  # 1: stride 4
    (-1, 2, "C3k2", (256, False, 0.25)),  # 2
    (-1, 1, "Conv", (256, 3, 2)),  # 3: stride 8
    (-1, 2, "C3k2", (512, False, 0.25)),  # 4
    (-1, 1, "Conv", (512, 3, 2)),  # 5: stride 16
    (-1, 2, "C3k2", (512, True)),  # 6
    (-1, 1, "Conv", (1024, 3, 2)),  # 7: stride 32
    (-1, 2, "C3k2", (1024, True)),  # 8
    (-1, 1, "SPPF", (1024, 5)),  # 9
    (-1, 2, "C2PSA", (1024,)),  # 10
    # neck
    (-1, 1, "Upsample", ()),  # 11
    ((-1, 6), 1, "Concat", ()),  # 12
    (-1, 2, "C3k2", (512, False)),  # 13
    (-1, 1, "Upsample", ()),  # 14
    ((-1, 4), 1, "Concat", ()),  # 15
    (-1, 2, "C3k2", (256, False)),  # 16: stride 8 output
    (-1, 1, "Conv", (256, 3, 2)),  # 17
    ((-1, 13), 1, "Concat", ()),  # 18
    (-1, 2, "C3k2", (512, False)),  # 19: stride 16 output
    (-1, 1, "Conv", (512, 3, 2)),  # 20
    ((-1, 10), 1, "Concat", ()),  # 21
    (-1, 2, "C3k2", (1024, True)),  # 22: stride 32 output
    ((16, 19, 22), 1, "Detect", ()),  # 23
)
_STRIDES = (8.0, 16.0, 32.0)

# the 80 COCO classes of Ultralytics' COCO models, in class-index order
COCO80_CATEGORIES = [
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
    "traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat",
    "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack",
    "umbrella", "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball",
    "kite", "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket",
    "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
    "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair",
    "couch", "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse",
    "remote", "keyboard", "cell phone", "microwave", "oven", "toaster", "sink",
    "refrigerator", "book", "clock", "vase", "scissors", "teddy bear", "hair drier",
    "toothbrush",
]


def _scaled_width(channels: int, width: float, max_channels: int) -> int:
    """A layer's width: ``channels`` capped at ``max_channels``, times ``width``, rounded
    up to a multiple of 8."""
    return int(math.ceil(min(channels, max_channels) * width / 8) * 8)


def _scaled_depth(repeats: int, depth: float) -> int:
    return max(round(repeats * depth), 1) if repeats > 1 else repeats


class _YOLODetector(nn.Module):
    """The machinery shared by the YOLO families: builds the layer graph ``_LAYERS`` at a
    given scale, runs it, loads Ultralytics checkpoints and predicts on images."""

    _LAYERS: tuple = ()
    _FAMILY = ""
    _SCALES: dict = {}

    def __init__(self, num_classes: int = 80, depth_multiple: float = 1.0,
                 width_multiple: float = 1.0, max_channels: int = 512, in_channels: int = 3,
                 reg_max: int = 16, force_c3k: bool = False) -> None:
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"{type(self).__name__}: num_classes must be positive, got "
                             f"{num_classes}")
        self.num_classes = num_classes
        self.scale = (depth_multiple, width_multiple, max_channels)
        self._force_c3k = force_c3k
        layers, self._inputs, widths = [], [], [in_channels]
        for source, repeats, kind, args in self._LAYERS:
            sources = (source,) if isinstance(source, int) else source
            c_in = [widths[s] if s == -1 else widths[s + 1] for s in sources]
            layer, c_out = self._make(kind, args, c_in, _scaled_depth(repeats, depth_multiple),
                                      width_multiple, max_channels, reg_max)
            layers.append(layer)
            self._inputs.append(source)
            widths.append(c_out)
        self.model = nn.ModuleList(layers)
        self.stride = _STRIDES
        # the outputs of these layers are read again by a later layer
        self._kept = {s for src in self._inputs if not isinstance(src, int) for s in src}
        self.model[-1].reset_bias()

    def _make(self, kind, args, c_in, n, width, max_channels, reg_max):
        if kind in ("Upsample", "Concat", "Detect"):
            if kind == "Upsample":
                return nn.Upsample(scale_factor=2.0, mode="nearest"), c_in[0]
            if kind == "Concat":
                return Concat(1), sum(c_in)
            head = Detect(self.num_classes, tuple(c_in), _STRIDES, reg_max,
                          legacy=self._FAMILY == "yolov8")
            return head, 0
        c_out = _scaled_width(args[0], width, max_channels)
        if kind == "Conv":
            return Conv(c_in[0], c_out, args[1], args[2]), c_out
        if kind == "C2f":
            return C2f(c_in[0], c_out, n, shortcut=args[1]), c_out
        if kind == "C3k2":
            c3k = args[1] or self._force_c3k
            return C3k2(c_in[0], c_out, n, c3k, *args[2:]), c_out
        if kind == "SPPF":
            return SPPF(c_in[0], c_out, args[1]), c_out
        if kind == "C2PSA":
            return C2PSA(c_in[0], c_out, n), c_out
        raise ValueError(f"unknown YOLO block {kind!r}")

    @property
    def head(self) -> Detect:
        """The ``Detect`` head (the last layer)."""
        return self.model[-1]

    def forward(self, x: Tensor):
        if x.ndim != 4:
            raise ValueError(f"{type(self).__name__}: expected (N, C, H, W) images, got "
                             f"{list(x.shape)}")
        saved: dict[int, Tensor] = {}
        for i, (layer, source) in enumerate(zip(self.model, self._inputs)):
            if isinstance(source, int):
                inp = x if source == -1 else saved[source]
            else:
                inp = [x if s == -1 else saved[s] for s in source]
            x = layer(inp)
            if i in self._kept:
                saved[i] = x
        return x

    @classmethod
    def from_ultralytics(cls, f, map_location="cpu") -> _YOLODetector:
        """A model built and loaded from an Ultralytics checkpoint file (``yolov8n.pt``,
        ``yolo11s.pt``, a trained ``best.pt``...), read without torch and without running
        its pickle (see :func:`~.yolo_checkpoint.load_ultralytics_checkpoint`). The family
        (YOLOv8 or YOLO11), size and number of classes come from the checkpoint's
        configuration; weights are cast to float32; the model is returned in eval mode,
        with the checkpoint's class names in ``names``."""
        from .yolo_checkpoint import load_ultralytics_checkpoint

        ckpt = load_ultralytics_checkpoint(f, map_location)
        family = _family_of(ckpt.yaml)
        if cls is not _YOLODetector and family is not cls:
            raise ValueError(f"the checkpoint holds a {family.__name__} model, not a "
                             f"{cls.__name__}")
        model = family._from_config(ckpt.yaml, ckpt.num_classes)
        model.load_state_dict(_float_state(ckpt.state_dict))
        names = ckpt.names
        model.names = dict(names) if isinstance(names, dict) else dict(enumerate(names or ()))
        return model.eval()

    @classmethod
    def _from_config(cls, cfg: dict, num_classes: int) -> _YOLODetector:
        depth, width, max_ch, size = _scale_of(cfg, cls._FAMILY)
        return cls(num_classes, depth, width, max_ch,
                   in_channels=int(cfg.get("ch", cfg.get("channels", 3))),
                   force_c3k=cls._FAMILY == "yolo11" and size in ("m", "l", "x"))

    def predict(self, images, imgsz: int = 640, conf: float = 0.25, iou: float = 0.7,
                max_det: int = 300, classes=None, agnostic: bool = False,
                auto: bool = True) -> list[dict[str, Tensor]]:
        """Detections on RGB images, as Ultralytics' predictor makes them: each image is
        letterboxed to ``imgsz`` (``auto``: padded only to a multiple of 32), scaled to
        [0, 1] and run in eval mode without gradients; :func:`non_max_suppression` with
        ``conf``/``iou``/``max_det``/``classes``/``agnostic`` follows, and the boxes are
        mapped back to each original image.

        ``images``: one image or a list, each an ``(H, W, 3)`` uint8 array, a ``(3, H, W)``
        uint8 tensor or a PIL image. Returns one dict per image with ``boxes`` (xyxy, in
        original pixels), ``scores`` and ``labels`` (0-based class indices).
        """
        single = not isinstance(images, (list, tuple))
        images = [images] if single else list(images)
        was_training = self.training
        self.eval()
        results = []
        try:
            with ember.no_grad():
                for image in images:
                    if hasattr(image, "convert") and hasattr(image, "size"):
                        image = np.asarray(image.convert("RGB"))
                    padded, info = letterbox(image, imgsz, 32, auto=auto)
                    arr = padded.numpy() if isinstance(padded, Tensor) else \
                        padded.transpose(2, 0, 1)
                    orig = (tuple(image.shape[1:]) if isinstance(image, Tensor)
                            else tuple(np.asarray(image).shape[:2]))
                    p = next(self.parameters())
                    x = ember.from_numpy(np.ascontiguousarray(arr, dtype=np.float32)[None]
                                         / 255.0).to(device=p.device, dtype=p.dtype)
                    y, _ = self(x)
                    det = non_max_suppression(y, conf, iou, classes=classes,
                                              agnostic=agnostic, max_det=max_det)[0]
                    det[:, :4] = scale_boxes(info.shape, det[:, :4], orig, ratio_pad=info)
                    results.append(detections_to_dicts([det])[0])
        finally:
            self.train(was_training)
        return results


class YOLOv8(_YOLODetector):
    """The Ultralytics YOLOv8 detector: a CSP backbone of ``C2f`` stages with ``SPPF``, a
    PAN neck, and the anchor-free decoupled ``Detect`` head at strides 8, 16 and 32.

    Args:
        num_classes: number of classes (80 for COCO; no background class).
        depth_multiple: scales the number of bottlenecks in each ``C2f`` (rounded, >= 1).
        width_multiple: scales the widths (after capping at ``max_channels``), rounded up
            to a multiple of 8.
        max_channels: cap on the widths before scaling.
        in_channels: channels of the input images.
        reg_max: number of distance bins per box side (DFL).
        force_c3k: unused by YOLOv8 (see :class:`YOLO11`).

    The sizes of the builders: ``n`` (0.33, 0.25, 1024), ``s`` (0.33, 0.50, 1024),
    ``m`` (0.67, 0.75, 768), ``l`` (1.0, 1.0, 512), ``x`` (1.0, 1.25, 512).

    Inputs are float ``(N, C, H, W)`` images in [0, 1] (RGB), ``H`` and ``W`` multiples of
    32 (see :func:`letterbox`). Outputs: in training mode the list of per-level raw maps
    ``(N, 4 * reg_max + num_classes, H / s, W / s)``; in eval mode ``(y, maps)``, ``y`` of
    shape ``(N, 4 + num_classes, A)`` (``A`` the anchor points of all levels) with boxes as
    centre x, centre y, width, height in input pixels followed by class probabilities. Use
    :meth:`predict` for images to detections.
    """

    _LAYERS = _YOLOV8_LAYERS
    _FAMILY = "yolov8"
    _SCALES = YOLOV8_SCALES


class YOLO11(_YOLODetector):
    """The Ultralytics YOLO11 detector: ``C3k2`` CSP stages, ``SPPF`` followed by a
    ``C2PSA`` attention stage, a PAN neck, and the ``Detect`` head with light (depth-wise)
    class branches, at strides 8, 16 and 32.

    Arguments, inputs and outputs as :class:`YOLOv8`; ``force_c3k`` makes every ``C3k2``
    use ``C3k`` inner blocks (Ultralytics does so for the m, l and x sizes). The sizes of the
    builders: ``n`` (0.5, 0.25, 1024), ``s`` (0.5, 0.5, 1024), ``m`` (0.5, 1.0, 512),
    ``l`` (1.0, 1.0, 512), ``x`` (1.0, 1.5, 512).
    """

    _LAYERS = _YOLO11_LAYERS
    _FAMILY = "yolo11"
    _SCALES = YOLO11_SCALES


def _layer_kinds(cfg: dict) -> list[str]:
    layers = list(cfg.get("backbone") or []) + list(cfg.get("head") or [])
    return [str(layer[2]).split(".")[-1] for layer in layers]


def _family_of(cfg: dict) -> type[_YOLODetector]:
    """The model class whose layer graph the configuration describes."""
    kinds = _layer_kinds(cfg)
    for family in (YOLOv8, YOLO11):
        if kinds == [kind for _, _, kind, _ in family._LAYERS]:
            return family
    raise ValueError(f"not a YOLOv8 or YOLO11 detection model: its layers are {kinds}")


def _scale_of(cfg: dict, family: str) -> tuple[float, float, int, str | None]:
    """(depth, width, max channels, size letter) of an Ultralytics model configuration."""
    scales = cfg.get("scales") or {}
    scale = cfg.get("scale")
    stem = str(cfg.get("yaml_file", "")).rsplit("/", 1)[-1]
    if not scale:
        scale = next((s for s in scales or "nsmlx" if stem.startswith(f"{family}{s}")), None)
    if "depth_multiple" in cfg and "width_multiple" in cfg:
        # per-size configurations (early YOLOv8 releases) write the capped widths into the
        # layer list: the stride-32 Conv (layer 7) holds the cap
        backbone = cfg.get("backbone") or []
        cap = backbone[7][3][0] if len(backbone) > 7 else cfg.get("max_channels", 1024)
        return float(cfg["depth_multiple"]), float(cfg["width_multiple"]), int(cap), scale
    if scale not in scales:
        raise ValueError(f"cannot tell the model size from the checkpoint configuration "
                         f"(scale {scale!r}, scales {sorted(scales)})")
    depth, width, max_ch = scales[scale]
    return float(depth), float(width), int(max_ch), scale


def _float_state(state: dict) -> dict:
    return {k: v.float() if v.is_floating_point() else v for k, v in state.items()}


class _UltralyticsWeightsEnum(WeightsEnum):
    """Weights published as Ultralytics checkpoints: downloaded through ``ember.hub`` and
    read with :func:`~.yolo_checkpoint.load_ultralytics_checkpoint` (never unpickled)."""

    def get_state_dict(self, progress: bool = True, model_dir=None, **kwargs: Any):
        """The checkpoint's ``state_dict`` (float32), Ultralytics' key names."""
        from ember.hub import _cached_download

        from .yolo_checkpoint import load_ultralytics_checkpoint

        path = _cached_download(self.url, model_dir, progress, False,
                                sha256=self.meta.get("sha256"))
        return _float_state(load_ultralytics_checkpoint(path).state_dict)


_ASSETS = "https://github.com/ultralytics/assets/releases/download/v8.3.0/"
_SHA_NOTE = ("Ultralytics publishes no sha256 for its release assets, so the download is "
             "not hash-checked.")


def _coco_weights(name: str, num_params: int, map50_95: float) -> Weights:
    family = "yolov8" if name.startswith("yolov8") else "yolo11"
    return Weights(
        url=f"{_ASSETS}{name}.pt",
        transforms=YOLOPreprocess,
        meta={
            "categories": COCO80_CATEGORIES,
            "num_params": num_params,
            "min_size": (32, 32),
            "recipe": f"https://docs.ultralytics.com/models/{family}/",
            "_metrics": {"COCO-val2017": {"box_map": map50_95}},
            "sha256": None,
            "_sha256_note": _SHA_NOTE,
            "_docs": "Ultralytics' COCO checkpoint (AGPL-3.0), loaded without torch. mAP "
                     "50-95 at 640 pixels as published by Ultralytics (not reproduced by "
                     "ember).",
        },
    )


class YOLOv8n_Weights(_UltralyticsWeightsEnum):  # noqa: N801 - torchvision's naming
    COCO_V1 = _coco_weights("yolov8n", 3157200, 37.3)
    DEFAULT = COCO_V1


class YOLOv8s_Weights(_UltralyticsWeightsEnum):  # noqa: N801
    COCO_V1 = _coco_weights("yolov8s", 11166560, 44.9)
    DEFAULT = COCO_V1


class YOLOv8m_Weights(_UltralyticsWeightsEnum):  # noqa: N801
    COCO_V1 = _coco_weights("yolov8m", 25902640, 50.2)
    DEFAULT = COCO_V1


class YOLOv8l_Weights(_UltralyticsWeightsEnum):  # noqa: N801
    COCO_V1 = _coco_weights("yolov8l", 43691520, 52.9)
    DEFAULT = COCO_V1


class YOLOv8x_Weights(_UltralyticsWeightsEnum):  # noqa: N801
    COCO_V1 = _coco_weights("yolov8x", 68229648, 53.9)
    DEFAULT = COCO_V1


class YOLO11n_Weights(_UltralyticsWeightsEnum):  # noqa: N801
    COCO_V1 = _coco_weights("yolo11n", 2624080, 39.5)
    DEFAULT = COCO_V1


class YOLO11s_Weights(_UltralyticsWeightsEnum):  # noqa: N801
    COCO_V1 = _coco_weights("yolo11s", 9458752, 47.0)
    DEFAULT = COCO_V1


class YOLO11m_Weights(_UltralyticsWeightsEnum):  # noqa: N801
    COCO_V1 = _coco_weights("yolo11m", 20114688, 51.5)
    DEFAULT = COCO_V1


class YOLO11l_Weights(_UltralyticsWeightsEnum):  # noqa: N801
    COCO_V1 = _coco_weights("yolo11l", 25372160, 53.4)
    DEFAULT = COCO_V1


class YOLO11x_Weights(_UltralyticsWeightsEnum):  # noqa: N801
    COCO_V1 = _coco_weights("yolo11x", 56966176, 54.7)
    DEFAULT = COCO_V1


def _build(family: type[_YOLODetector], size: str, weights_enum, weights, progress: bool,
           num_classes: int | None, kwargs: dict) -> _YOLODetector:
    weights = weights_enum.verify(weights)
    if weights is not None:
        expected = len(weights.meta["categories"])
        if num_classes not in (None, expected):
            raise ValueError(f"The parameter 'num_classes' expected value {expected} but got "
                             f"{num_classes} instead.")
        num_classes = expected
    depth, width, max_ch = family._SCALES[size]
    if family is YOLO11:
        kwargs.setdefault("force_c3k", size in ("m", "l", "x"))
    model = family(80 if num_classes is None else num_classes, depth, width, max_ch,
                   **kwargs)
    if weights is not None:
        model.load_state_dict(weights.get_state_dict(progress=progress))
        model.names = dict(enumerate(weights.meta["categories"]))
    return model


def _builder(family: type[_YOLODetector], size: str, weights_enum):
    def builder(*, weights=None, progress: bool = True, num_classes: int | None = None,
                **kwargs: Any) -> _YOLODetector:
        return _build(family, size, weights_enum, weights, progress, num_classes, kwargs)

    depth, width, max_ch = family._SCALES[size]
    name = f"{family._FAMILY}{size}"
    title = "YOLOv8" if family is YOLOv8 else "YOLO11"
    builder.__name__ = builder.__qualname__ = name
    builder.__module__ = __name__
    builder.__annotations__["weights"] = weights_enum
    builder.__doc__ = f"""{title}{size} (depth {depth}, width {width}, at most {max_ch}
    channels) from Ultralytics (https://docs.ultralytics.com/models/{family._FAMILY}/).

    Args:
        weights (:class:`{weights_enum.__name__}`, optional): pretrained weights (COCO, 80
            classes: Ultralytics' released checkpoint, read without torch). Default: None.
        progress (bool): show a download progress bar. Default: True.
        num_classes (int, optional): number of classes (default 80; fixed by ``weights``).
        **kwargs: passed to :class:`{family.__name__}` (``in_channels``, ``reg_max``).
    """
    builder._weights_enum = weights_enum
    return register_model()(builder)


yolov8n = _builder(YOLOv8, "n", YOLOv8n_Weights)
yolov8s = _builder(YOLOv8, "s", YOLOv8s_Weights)
yolov8m = _builder(YOLOv8, "m", YOLOv8m_Weights)
yolov8l = _builder(YOLOv8, "l", YOLOv8l_Weights)
yolov8x = _builder(YOLOv8, "x", YOLOv8x_Weights)
yolo11n = _builder(YOLO11, "n", YOLO11n_Weights)
yolo11s = _builder(YOLO11, "s", YOLO11s_Weights)
yolo11m = _builder(YOLO11, "m", YOLO11m_Weights)
yolo11l = _builder(YOLO11, "l", YOLO11l_Weights)
yolo11x = _builder(YOLO11, "x", YOLO11x_Weights)
