"""ember.vision.tv_tensors: construction, metadata, the unwrapping of ordinary ops (and
``set_return_type``), ``wrap``, repr, pickling, and torchvision's error messages."""

import copy
import pickle

import ember
import numpy as np
import pytest
from ember.vision import tv_tensors as tvt


def _boxes(**kw):
    kw.setdefault("format", "XYXY")
    kw.setdefault("canvas_size", (10, 12))
    return tvt.BoundingBoxes([[1, 2, 3, 4]], **kw)


def test_tv_tensors_are_tensor_subclasses_with_metadata():
    b = _boxes(format="xyxy")
    assert isinstance(b, ember.Tensor) and isinstance(b, tvt.TVTensor)
    assert b.format is tvt.BoundingBoxFormat.XYXY and b.canvas_size == (10, 12)
    assert b.clamping_mode == "soft" and b.dtype == ember.int64 and b.shape == (1, 4)
    assert tvt.BoundingBoxes([1, 2, 3, 4], format="CXCYWH", canvas_size=[5, 6]).shape == (1, 4)
    assert tvt.Image(ember.zeros(4, 5)).shape == (1, 4, 5)
    assert tvt.Image(ember.zeros(2, 3, 4, 5)).shape == (2, 3, 4, 5)
    assert tvt.Mask(ember.zeros(5)).shape == (5,)
    assert tvt.KeyPoints([1.0, 2.0], canvas_size=(5, 5)).shape == (1, 2)
    assert tvt.Image(np.zeros((3, 2, 2), np.uint8)).dtype == ember.uint8
    assert tvt.Image([[1, 2]], dtype=ember.float64).dtype == ember.float64
    assert tvt.is_rotated_bounding_format("XYWHR")
    assert not tvt.is_rotated_bounding_format(tvt.BoundingBoxFormat.CXCYWH)


def test_tv_tensors_from_pil_images():
    PIL = pytest.importorskip("PIL.Image")
    rgb = PIL.fromarray(np.arange(18, dtype=np.uint8).reshape(2, 3, 3))
    img = tvt.Image(rgb)
    assert img.shape == (3, 2, 3) and img.dtype == ember.uint8
    np.testing.assert_array_equal(img.numpy(), np.asarray(rgb).transpose(2, 0, 1))
    assert tvt.Mask(PIL.fromarray(np.zeros((2, 3), np.uint8))).shape == (1, 2, 3)


def test_constructor_errors_read_like_torchvision():
    with pytest.raises(KeyError, match="XYZZ"):
        _boxes(format="XYZZ")
    with pytest.raises(TypeError, match="canvas_size"):
        tvt.BoundingBoxes([[1, 2, 3, 4]], format="XYXY")
    with pytest.raises(ValueError, match=r"^Expected a 1D or 2D tensor, got 3D$"):
        tvt.BoundingBoxes([[[1, 2, 3, 4]]], format="XYXY", canvas_size=(1, 1))
    with pytest.raises(ValueError, match=r"^format should be str or BoundingBoxFormat, got "
                                         r"<class 'int'>$"):
        _boxes(format=1)
    with pytest.raises(ValueError, match=r"^clamping_mode must be None, hard or soft, got x\.$"):
        _boxes(clamping_mode="x")
    with pytest.raises(ValueError, match=r"^Tensor must be 2D or higher, got 1D tensor\.$"):
        tvt.Image(ember.zeros(5))
    with pytest.raises(ValueError):
        tvt.Video(ember.zeros(2, 3, 4))
    with pytest.raises(ValueError, match=r"^return_type must be 'TVTensor' or 'Tensor', got "
                                         r"foo$"):
        tvt.set_return_type("foo")


def test_ordinary_ops_unwrap_but_clone_to_detach_keep_the_type():
    b = _boxes()
    for op in (lambda x: x + 1, lambda x: x[0], lambda x: x.float(), lambda x: x.flip(-1),
               lambda x: x.sum(), lambda x: x.cpu(), lambda x: x.contiguous(),
               lambda x: ember.add(x, 1), lambda x: x.clone().add_(1), lambda x: -x,
               lambda x: x == 1):
        assert type(op(b)) is ember.Tensor
    for op in (lambda x: x.clone(), lambda x: x.to(ember.float64), lambda x: x.detach(),
               lambda x: x.requires_grad_(False), copy.deepcopy):
        out = op(b)
        assert type(out) is tvt.BoundingBoxes
        assert out.format is b.format and out.canvas_size == b.canvas_size
    assert [type(r) for r in b] == [ember.Tensor]
    img = tvt.Image(ember.zeros(3, 2, 2))
    assert img.to(ember.float32) is img


def test_set_return_type_keeps_tv_tensors_through_ops():
    b = _boxes()
    with tvt.set_return_type("TVTensor"):
        out = b + 1
        assert type(out) is tvt.BoundingBoxes and out.format is tvt.BoundingBoxFormat.XYXY
        assert out.tolist() == [[2, 3, 4, 5]]
        assert type(b.sum()) is tvt.BoundingBoxes
        assert type(tvt.Image(ember.zeros(1, 2, 2)) * 2) is tvt.Image
    assert type(b + 1) is ember.Tensor
    tvt.set_return_type("tvtensor")  # also a global switch, case-insensitive
    try:
        assert type(b * 2) is tvt.BoundingBoxes
    finally:
        tvt.set_return_type("Tensor")
    assert type(b * 2) is ember.Tensor


def test_wrap_takes_type_and_metadata_from_like():
    b = _boxes(clamping_mode=None)
    out = tvt.wrap(ember.zeros(2, 4), like=b)
    assert type(out) is tvt.BoundingBoxes and out.canvas_size == (10, 12)
    assert out.clamping_mode is None
    out = tvt.wrap(ember.zeros(2, 4), like=b, format="CXCYWH", canvas_size=(3, 4))
    assert out.format is tvt.BoundingBoxFormat.CXCYWH and out.canvas_size == (3, 4)
    data = ember.ones(1, 2, 2)
    img = tvt.wrap(data, like=tvt.Image(ember.zeros(1, 2, 2)))
    assert type(img) is tvt.Image
    img.mul_(3)
    assert data.sum().item() == 12  # no copy


def test_repr_matches_torchvision():
    assert repr(_boxes()) == ("BoundingBoxes([[1, 2, 3, 4]], format=BoundingBoxFormat.XYXY, "
                              "canvas_size=(10, 12), clamping_mode=soft)")
    assert repr(tvt.Mask(ember.zeros(2, 2))) == "Mask([[0., 0.],\n      [0., 0.]])"
    assert repr(tvt.Image(ember.zeros(2, 2))) == "Image([[[0., 0.],\n        [0., 0.]]], )"
    assert repr(tvt.KeyPoints([[1, 2], [3, 4]], canvas_size=(5, 5))) == (
        "KeyPoints([[1, 2],\n           [3, 4]], canvas_size=(5, 5))")


def test_pickle_and_deepcopy_keep_type_and_metadata():
    b = _boxes(format="CXCYWH", clamping_mode="hard")
    for out in (pickle.loads(pickle.dumps(b)), copy.deepcopy(b)):
        assert type(out) is tvt.BoundingBoxes
        assert out.format is tvt.BoundingBoxFormat.CXCYWH and out.clamping_mode == "hard"
        assert out.tolist() == b.tolist()
    k = pickle.loads(pickle.dumps(tvt.KeyPoints([[1.0, 2.0]], canvas_size=(3, 4))))
    assert type(k) is tvt.KeyPoints and k.canvas_size == (3, 4)


def test_autograd_flows_through_tv_tensors():
    x = ember.ones(2, 3, requires_grad=True)
    img = tvt.Image(x * 2)
    assert img.requires_grad
    (img * img).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full((2, 3), 8.0))
    assert not tvt.Image(x, requires_grad=False).requires_grad


def test_rotated_boxes_convert_between_rotated_formats_only():
    from ember.vision.transforms.v2 import functional as F

    b = tvt.BoundingBoxes([[10.0, 10, 4, 2, 30]], format="XYWHR", canvas_size=(30, 30))
    corners = F.convert_bounding_box_format(b, new_format="XYXYXYXY")
    np.testing.assert_allclose(corners.numpy(), [[10, 10, 13.464102, 8, 14.464102, 9.732051,
                                                  11, 11.732051]], rtol=1e-6)
    back = F.convert_bounding_box_format(corners, new_format="XYWHR")
    np.testing.assert_allclose(back.numpy(), b.numpy(), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match=r"^Cannot convert between rotated and unrotated "
                                         r"bounding boxes\.$"):
        F.convert_bounding_box_format(b, new_format="XYXY")
    with pytest.raises(ValueError, match=r"^Rotated bounding boxes should be floating point "
                                         r"tensors, got ember\.int64\.$"):
        tvt.BoundingBoxes([[10, 10, 4, 2, 30]], format="XYWHR", canvas_size=(30, 30))
    with pytest.raises(NotImplementedError, match="rotated"):  # not in ember yet
        F.horizontal_flip(b)
