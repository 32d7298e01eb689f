"""ember.vision.utils against torchvision goldens: grids, boxes, masks, keypoints."""

import ember
import numpy as np
import pytest
from ember.vision import utils
from vision_helpers import load_golden

PIL = pytest.importorskip("PIL.Image")


@pytest.fixture(scope="module")
def g():
    return load_golden("utils.npz")


@pytest.fixture(scope="module")
def img(transforms_golden):
    return ember.from_numpy(np.ascontiguousarray(
        transforms_golden["photo_chelsea"].transpose(2, 0, 1)))


BOXES = [[2, 3, 30, 20], [10, 15, 55, 45], [40, 1, 58, 12]]


def test_make_grid_matches_torchvision(g):
    batch = ember.from_numpy(g["grid_batch"])
    np.testing.assert_allclose(utils.make_grid(batch).numpy(), g["grid_default"])
    np.testing.assert_allclose(utils.make_grid(batch, nrow=2, padding=1, normalize=True,
                                               pad_value=0.5).numpy(), g["grid_norm"],
                               rtol=1e-6, atol=1e-6)
    out = utils.make_grid(list(batch.unbind(0)), nrow=3, normalize=True, scale_each=True,
                          value_range=(-1.0, 1.0))
    np.testing.assert_allclose(out.numpy(), g["grid_scale_each"], rtol=1e-6, atol=1e-6)
    single = utils.make_grid(batch[:1, :1])
    assert single.shape == (3, 6, 7)


def test_save_image_writes_rounded_grid(tmp_path, g):
    batch = ember.from_numpy(g["grid_batch"])
    path = tmp_path / "grid.png"
    utils.save_image(batch, path, normalize=True)
    grid = utils.make_grid(batch, normalize=True).numpy()
    expected = np.clip(grid * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    np.testing.assert_array_equal(np.asarray(PIL.open(path)), expected)


def test_draw_bounding_boxes_matches_torchvision(g, img):
    boxes = ember.tensor(BOXES, dtype=ember.float32)
    np.testing.assert_array_equal(utils.draw_bounding_boxes(img, boxes, width=2).numpy(),
                                  g["boxes"])
    out = utils.draw_bounding_boxes(img, boxes, colors=["red", "#00FF00", (0, 0, 255)],
                                    fill=True, labels=["a", "bb", "c"])
    np.testing.assert_array_equal(out.numpy(), g["boxes_fill"])
    f = utils.draw_bounding_boxes(img.float() / 255, boxes, colors="white")
    assert f.dtype == ember.float32
    np.testing.assert_allclose(f.numpy(), g["boxes_float"], atol=1e-6)
    with pytest.raises(ValueError, match="xmin"):
        utils.draw_bounding_boxes(img, ember.tensor([[5.0, 5.0, 1.0, 9.0]]))


def test_draw_segmentation_masks_matches_torchvision(g, img):
    masks = ember.from_numpy(g["masks"])
    np.testing.assert_array_equal(utils.draw_segmentation_masks(img, masks, 0.6).numpy(),
                                  g["masks_u8"])
    out = utils.draw_segmentation_masks(img.float() / 255, masks, alpha=0.3, colors="blue")
    np.testing.assert_allclose(out.numpy(), g["masks_float"], atol=1e-6)
    with pytest.raises(ValueError, match="bool"):
        utils.draw_segmentation_masks(img, masks.float())


def test_draw_keypoints_matches_torchvision(g, img):
    kps = ember.tensor([[[5.0, 5.0], [20.0, 30.0], [50.0, 40.0]],
                        [[30.0, 10.0], [40.0, 20.0], [10.0, 45.0]]])
    vis = ember.tensor([[True, True, True], [True, False, True]])
    out = utils.draw_keypoints(img, kps, connectivity=[(0, 1), (1, 2)], colors="red",
                               radius=3, visibility=vis)
    np.testing.assert_array_equal(out.numpy(), g["keypoints"])
