"""``AnchorGenerator``: the reference boxes an RPN scores at every feature-map cell; and
``DefaultBoxGenerator``: SSD's default boxes."""

from __future__ import annotations

import math

import ember
from ember import nn

from . import image_list as _il

__all__ = ["AnchorGenerator", "DefaultBoxGenerator"]


class AnchorGenerator(nn.Module):
    """Places anchors on every feature map of a batch.

    ``sizes[i]`` and ``aspect_ratios[i]`` (height / width) describe feature map i; each of
    its cells receives ``len(sizes[i]) * len(aspect_ratios[i])`` anchors. A flat ``sizes``
    means one size per map, a flat ``aspect_ratios`` is shared by all maps.
    """

    def __init__(self, sizes=((128, 256, 512),), aspect_ratios=((0.5, 1.0, 2.0),)) -> None:
        super().__init__()
        nested = isinstance(sizes[0], (list, tuple))
        self.sizes = sizes if nested else tuple((v,) for v in sizes)
        shared = not isinstance(aspect_ratios[0], (list, tuple))
        self.aspect_ratios = (aspect_ratios,) * len(self.sizes) if shared else aspect_ratios
        self.cell_anchors = [self.generate_anchors(s, r)
                             for s, r in zip(self.sizes, self.aspect_ratios)]

    def generate_anchors(self, scales, aspect_ratios, dtype=ember.float32, device=None):
        """Zero-centred anchors (x1, y1, x2, y2), ratio-major, rounded to integers."""
        s = ember.as_tensor(scales, dtype=dtype, device=device)
        r = ember.as_tensor(aspect_ratios, dtype=dtype, device=device)
        sqrt_r = ember.sqrt(r)
        half_w = ((1 / sqrt_r)[:, None] * s[None, :]).view(-1)
        half_h = (sqrt_r[:, None] * s[None, :]).view(-1)
        return (ember.stack([-half_w, -half_h, half_w, half_h], dim=1) / 2).round()

    def set_cell_anchors(self, dtype, device) -> None:
        self.cell_anchors = [c.to(dtype=dtype, device=device) for c in self.cell_anchors]

    def num_anchors_per_location(self):
        return [len(s) * len(r) for s, r in zip(self.sizes, self.aspect_ratios)]

    def grid_anchors(self, grid_sizes, strides):
        """Shifts the cell anchors of every level over its (rows, cols) grid."""
        if not (len(grid_sizes) == len(strides) == len(self.cell_anchors)):
            raise ValueError("Anchors should be Tuple[Tuple[int]] because each feature map "
                             "could potentially have different sizes and aspect ratios. There "
                             "needs to be a match between the number of feature maps passed "
                             "and the number of sizes / aspect ratios specified.")
        out = []
        for (rows, cols), (step_y, step_x), cell in zip(grid_sizes, strides, self.cell_anchors):
            dev = cell.device
            xs = ember.arange(0, cols, dtype=ember.int32, device=dev) * step_x
            ys = ember.arange(0, rows, dtype=ember.int32, device=dev) * step_y
            gy, gx = ember.meshgrid(ys, xs, indexing="ij")
            gx, gy = gx.reshape(-1), gy.reshape(-1)
            offsets = ember.stack((gx, gy, gx, gy), dim=1)
            out.append((offsets[:, None, :] + cell[None, :, :]).reshape(-1, 4))
        return out

    def forward(self, image_list: _il.ImageList, feature_maps):
        grids = [list(f.shape[-2:]) for f in feature_maps]
        img_h, img_w = image_list.tensors.shape[-2:]
        ref = feature_maps[0]

        def _step(v):
            return ember.empty((), dtype=ember.int64, device=ref.device).fill_(v)

        strides = [[_step(img_h // g[0]), _step(img_w // g[1])] for g in grids]
        self.set_cell_anchors(ref.dtype, ref.device)
        per_level = self.grid_anchors(grids, strides)
        return [ember.cat(per_level) for _ in image_list.image_sizes]


class DefaultBoxGenerator(nn.Module):
    """This module generates the default boxes of SSD for a set of feature maps and image
    sizes.

    Map k gets, at every cell centre, a square box of scale ``scales[k]``, a square one of
    scale ``sqrt(scales[k] * scales[k + 1])`` and, for each ratio r of
    ``aspect_ratios[k]``, two boxes of sides ``scales[k] * sqrt(r)`` by
    ``scales[k] / sqrt(r)`` (both orientations). Scales are fractions of the image side;
    without ``scales`` they are spaced linearly from ``min_ratio`` to ``max_ratio`` (plus a
    final 1.0). ``steps[k]``, when given, is the pixel stride that places the centres of
    map k; otherwise the map's own size is used. ``clip`` clamps the relative widths and
    heights to [0, 1]. The output holds, for every image of the batch, the boxes of all
    maps in x1y1x2y2 pixels of the padded batch.
    """

    def __init__(self, aspect_ratios: list[list[int]], min_ratio: float = 0.15,
                 max_ratio: float = 0.9, scales: list[float] | None = None,
                 steps: list[int] | None = None, clip: bool = True) -> None:
        super().__init__()
        n_maps = len(aspect_ratios)
        if steps is not None and len(aspect_ratios) != len(steps):
            raise ValueError("aspect_ratios and steps should have the same length")
        self.aspect_ratios = aspect_ratios
        self.steps = steps
        self.clip = clip
        if scales is None:
            if n_maps > 1:
                span = max_ratio - min_ratio
                scales = [min_ratio + span * k / (n_maps - 1.0) for k in range(n_maps)]
                scales.append(1.0)
            else:
                scales = [min_ratio, max_ratio]
        self.scales = scales
        self._wh_pairs = self._generate_wh_pairs(n_maps)

    def _generate_wh_pairs(self, num_outputs: int, dtype=ember.float32, device=None):
        """Per map: the (w, h) of its default boxes, relative to the image, (A_k, 2)."""
        pairs = []
        for k in range(num_outputs):
            s = self.scales[k]
            s_next = math.sqrt(self.scales[k] * self.scales[k + 1])
            wh = [[s, s], [s_next, s_next]]
            for ratio in self.aspect_ratios[k]:
                root = math.sqrt(ratio)
                wh += [[s * root, s / root], [s / root, s * root]]
            pairs.append(ember.as_tensor(wh, dtype=dtype, device=device))
        return pairs

    def num_anchors_per_location(self) -> list[int]:
        """Default boxes per cell of each map: 2 + 2 per aspect ratio."""
        return [2 + 2 * len(r) for r in self.aspect_ratios]

    def _grid_default_boxes(self, grid_sizes, image_size, dtype=ember.float32):
        """All maps' default boxes as relative (cx, cy, w, h), (sum_k H_k W_k A_k, 4)."""
        out = []
        for k, (rows, cols) in enumerate(grid_sizes):
            if self.steps is not None:
                cells_y = image_size[0] / self.steps[k]
                cells_x = image_size[1] / self.steps[k]
            else:
                cells_y, cells_x = rows, cols
            xs = (ember.arange(0, cols, dtype=dtype) + 0.5) / cells_x
            ys = (ember.arange(0, rows, dtype=dtype) + 0.5) / cells_y
            gy, gx = ember.meshgrid(ys, xs, indexing="ij")
            wh = self._wh_pairs[k].to(dtype)
            if self.clip:
                wh = wh.clamp(min=0, max=1)
            n_box = wh.shape[0]
            centres = ember.stack([gx.reshape(-1), gy.reshape(-1)], dim=1)  # (HW, 2)
            centres = centres[:, None, :].expand(-1, n_box, 2)  # (HW, A, 2)
            sizes = wh[None].expand(rows * cols, n_box, 2)
            out.append(ember.cat([centres, sizes], dim=2).reshape(-1, 4))
        return ember.cat(out, dim=0)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(aspect_ratios={self.aspect_ratios}, "
                f"clip={self.clip}, scales={self.scales}, steps={self.steps})")

    def forward(self, image_list: _il.ImageList, feature_maps):
        grids = [tuple(int(v) for v in f.shape[-2:]) for f in feature_maps]
        height, width = (int(v) for v in image_list.tensors.shape[-2:])
        ref = feature_maps[0]
        rel = self._grid_default_boxes(grids, (height, width), dtype=ref.dtype).to(ref.device)
        scale = ember.tensor([width, height], dtype=rel.dtype, device=rel.device)
        half = 0.5 * rel[:, 2:]
        boxes = ember.cat([(rel[:, :2] - half) * scale, (rel[:, :2] + half) * scale], dim=-1)
        return [boxes for _ in image_list.image_sizes]
