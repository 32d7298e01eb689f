"""``AnchorGenerator``: the reference boxes an RPN scores at every feature-map cell."""

from __future__ import annotations

import ember
from ember import nn

from . import image_list as _il

__all__ = ["AnchorGenerator"]


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
