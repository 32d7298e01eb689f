"""What pytorch/vision's references (classification, detection) and the torchvision
tutorials need from ember.vision, checked against torchvision's documented behaviour and
values recorded from torchvision 0.29 (the goldens inline below)."""

import json

import ember
import numpy as np
import pytest
from ember.vision import models, transforms
from ember.vision.datasets import CocoDetection
from ember.vision.models import detection
from ember.vision.models.detection._utils import BoxCoder, Matcher
from ember.vision.models.detection.anchor_utils import AnchorGenerator
from ember.vision.models.detection.image_list import ImageList
from ember.vision.models.detection.transform import GeneralizedRCNNTransform
from PIL import Image

# ---------------------------------------------------------------- AugMix (--auto-augment augmix)


def test_augmix_pil_and_uint8_tensor():
    ember.manual_seed(0)
    img = Image.fromarray((np.random.default_rng(0).random((32, 40, 3)) * 255).astype("uint8"))
    out = transforms.AugMix()(img)
    assert isinstance(out, Image.Image) and out.size == (40, 32) and out.mode == "RGB"
    t = ember.randint(0, 256, (2, 3, 32, 40), dtype=ember.uint8)
    o = transforms.AugMix(severity=10, chain_depth=3)(t)
    assert o.shape == t.shape and o.dtype == ember.uint8


def test_augmix_seeded_and_repr():
    t = ember.randint(0, 256, (3, 24, 24), dtype=ember.uint8)
    ember.manual_seed(3)
    a = transforms.AugMix(all_ops=False)(t)
    ember.manual_seed(3)
    b = transforms.AugMix(all_ops=False)(t)
    assert ember.equal(a, b)
    assert repr(transforms.AugMix()) == (
        "AugMix(severity=3, mixture_width=3, chain_depth=-1, alpha=1.0, all_ops=True, "
        "interpolation=InterpolationMode.BILINEAR, fill=None)")


def test_augmix_severity_range():
    with pytest.raises(ValueError, match="severity must be between"):
        transforms.AugMix(severity=11)
    with pytest.raises(ValueError, match="severity must be between"):
        transforms.AugMix(severity=0)


# ---------------------------------------------------------------- Faster R-CNN


def test_fasterrcnn_state_dict_layout():
    m = detection.fasterrcnn_resnet50_fpn(weights=None, weights_backbone=None, num_classes=5)
    sd = m.state_dict()
    # torchvision 0.29: 348 entries, 41,367,656 parameters for 5 classes
    assert len(sd) == 348
    assert sum(p.numel() for p in m.parameters()) == 41367656
    shapes = {
        "backbone.body.conv1.weight": (64, 3, 7, 7),
        "backbone.fpn.inner_blocks.0.0.weight": (256, 256, 1, 1),
        "backbone.fpn.layer_blocks.3.0.bias": (256,),
        "rpn.head.conv.0.0.weight": (256, 256, 3, 3),
        "rpn.head.cls_logits.weight": (3, 256, 1, 1),
        "rpn.head.bbox_pred.weight": (12, 256, 1, 1),
        "roi_heads.box_head.fc6.weight": (1024, 12544),
        "roi_heads.box_head.fc7.weight": (1024, 1024),
        "roi_heads.box_predictor.cls_score.weight": (5, 1024),
        "roi_heads.box_predictor.bbox_pred.weight": (20, 1024),
    }
    for k, s in shapes.items():
        assert tuple(sd[k].shape) == s, k
    assert repr(m.transform) == (
        "GeneralizedRCNNTransform(\n"
        "    Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])\n"
        "    Resize(min_size=(800,), max_size=1333, mode='bilinear')\n)")


def test_fasterrcnn_registry_and_weights_meta():
    assert "fasterrcnn_resnet50_fpn" in models.list_models(module=detection)
    w = detection.FasterRCNN_ResNet50_FPN_Weights.DEFAULT
    assert w is detection.FasterRCNN_ResNet50_FPN_Weights.COCO_V1
    cats = w.meta["categories"]
    assert len(cats) == 91 and cats[0] == "__background__" and cats[1] == "person"
    assert cats[12] == "N/A" and cats[-1] == "toothbrush"
    m = models.get_model("fasterrcnn_resnet50_fpn", weights=None, weights_backbone=None,
                         num_classes=3, trainable_backbone_layers=None)
    assert isinstance(m, detection.FasterRCNN)
    assert not isinstance(m, detection.MaskRCNN)
    with pytest.raises(ValueError, match="out_channels"):
        detection.MaskRCNN(None)


def test_fasterrcnn_train_and_eval_outputs():
    ember.manual_seed(0)
    m = detection.fasterrcnn_resnet50_fpn(weights=None, weights_backbone=None, num_classes=3,
                                          min_size=64, max_size=96)
    imgs = [ember.rand(3, 50, 60), ember.rand(3, 40, 44)]
    targets = [dict(boxes=ember.tensor([[5.0, 6.0, 30.0, 40.0]]), labels=ember.tensor([1])),
               dict(boxes=ember.tensor([[10.0, 2.0, 20.0, 30.0], [0.0, 0.0, 40.0, 40.0]]),
                    labels=ember.tensor([2, 1]))]
    m.train()
    losses = m(imgs, targets)
    assert sorted(losses) == ["loss_box_reg", "loss_classifier", "loss_objectness",
                              "loss_rpn_box_reg"]
    sum(losses.values()).backward()
    assert m.roi_heads.box_predictor.cls_score.weight.grad is not None
    # the caller's targets are not rescaled in place
    assert targets[0]["boxes"].tolist() == [[5.0, 6.0, 30.0, 40.0]]
    m.eval()
    with ember.no_grad():
        out = m(imgs)
    assert len(out) == 2
    for o, img in zip(out, imgs):
        assert sorted(o) == ["boxes", "labels", "scores"]
        assert o["boxes"].dtype == ember.float32 and o["labels"].dtype == ember.int64
        h, w = img.shape[-2:]
        if o["boxes"].numel():
            assert float(o["boxes"][:, 2].max()) <= w + 1e-3
            assert float(o["boxes"][:, 3].max()) <= h + 1e-3


def test_fasterrcnn_target_checks():
    m = detection.fasterrcnn_resnet50_fpn(weights=None, weights_backbone=None, num_classes=3,
                                          min_size=64, max_size=96)
    m.train()
    with pytest.raises(ValueError, match="targets should be passed"):
        m([ember.rand(3, 40, 40)])
    with pytest.raises(ValueError, match="positive height and width"):
        m([ember.rand(3, 40, 40)], [dict(boxes=ember.tensor([[5.0, 5.0, 5.0, 9.0]]),
                                         labels=ember.tensor([1]))])


def test_anchor_generator_golden():
    ag = AnchorGenerator(((16,), (32,)), ((0.5, 1.0),) * 2)
    il = ImageList(ember.zeros(1, 3, 8, 12), [(8, 12)])
    a = ag(il, [ember.zeros(1, 1, 2, 3), ember.zeros(1, 1, 1, 2)])
    golden = [[-11, -6, 11, 6], [-8, -8, 8, 8], [-7, -6, 15, 6], [-4, -8, 12, 8],
              [-3, -6, 19, 6], [0, -8, 16, 8], [-11, -2, 11, 10], [-8, -4, 8, 12],
              [-7, -2, 15, 10], [-4, -4, 12, 12], [-3, -2, 19, 10], [0, -4, 16, 12],
              [-23, -11, 23, 11], [-16, -16, 16, 16], [-17, -11, 29, 11], [-10, -16, 22, 16]]
    assert len(a) == 1 and a[0].dtype == ember.float32
    np.testing.assert_array_equal(a[0].numpy(), np.array(golden, dtype=np.float32))
    assert ag.num_anchors_per_location() == [2, 2]


def test_box_coder_golden():
    bc = BoxCoder((10.0, 10.0, 5.0, 5.0))
    enc = bc.encode_single(ember.tensor([[0.0, 0.0, 10.0, 20.0], [5.0, 5.0, 9.0, 7.0]]),
                           ember.tensor([[1.0, 2.0, 11.0, 18.0], [4.0, 4.0, 10.0, 10.0]]))
    np.testing.assert_allclose(enc.numpy(), [[-1.0, 0.0, 0.0, 1.1157177686691284],
                                             [0.0, -1.6666666269302368, -2.027325391769409,
                                              -5.493061542510986]], rtol=1e-6, atol=1e-6)
    dec = bc.decode_single(ember.tensor([[1.0, -2.0, 0.5, 10.0]]),
                           ember.tensor([[1.0, 2.0, 11.0, 18.0]]))
    # dh=10/5 is clipped at log(1000/16)
    np.testing.assert_allclose(dec.numpy(), [[1.4741449356079102, -52.31245040893555,
                                              12.52585506439209, 65.9124526977539]], rtol=1e-6)


def test_matcher_semantics():
    q = ember.tensor([[0.9, 0.5, 0.1, 0.2], [0.1, 0.6, 0.2, 0.25]])
    assert Matcher(0.7, 0.3, True)(q).tolist() == [0, 1, -1, -1]
    assert Matcher(0.7, 0.3, False)(q).tolist() == [0, -2, -1, -1]
    with pytest.raises(ValueError, match="No ground-truth boxes"):
        Matcher(0.7, 0.3)(ember.zeros(0, 3))


def test_rcnn_transform_golden():
    t = GeneralizedRCNNTransform(128, 200, [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]).eval()
    tg = [dict(boxes=ember.tensor([[9.0, 18.0, 45.0, 72.0]]), labels=ember.tensor([1]))] * 2
    il, out = t([ember.rand(3, 90, 120), ember.rand(3, 100, 80)], tg)
    assert tuple(il.tensors.shape) == (2, 3, 160, 192)
    assert il.image_sizes == [(128, 170), (160, 128)]
    np.testing.assert_allclose(out[0]["boxes"].numpy(), [[12.75, 25.6, 63.75, 102.4]], rtol=1e-6)
    np.testing.assert_allclose(out[1]["boxes"].numpy(), [[14.4, 28.8, 72.0, 115.2]], rtol=1e-6)
    with pytest.raises(TypeError, match="floating type"):
        t([ember.zeros(3, 8, 8, dtype=ember.uint8)])


# ---------------------------------------------------------------- COCO (pycocotools' index API)


@pytest.fixture
def coco_root(tmp_path):
    (tmp_path / "img").mkdir()
    images = []
    for i in (1, 2, 3):
        Image.new("RGB", (20, 10)).save(tmp_path / "img" / f"{i}.jpg")
        images.append({"id": i, "file_name": f"{i}.jpg", "height": 10, "width": 20})
    anns = [
        {"id": 10, "image_id": 1, "category_id": 1, "bbox": [0, 0, 5, 5], "area": 25, "iscrowd": 0},
        {"id": 11, "image_id": 1, "category_id": 2, "bbox": [0, 0, 9, 9], "area": 81, "iscrowd": 1},
        {"id": 12, "image_id": 2, "category_id": 2, "bbox": [1, 1, 2, 2], "area": 4, "iscrowd": 0},
    ]
    cats = [{"id": 1, "name": "a", "supercategory": "s"},
            {"id": 2, "name": "b", "supercategory": "t"}]
    ann = tmp_path / "ann.json"
    ann.write_text(json.dumps({"images": images, "annotations": anns, "categories": cats}))
    return tmp_path


def test_coco_index_pycocotools_api(coco_root, monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_pycocotools(name, *a, **k):
        if name.startswith("pycocotools"):
            raise ImportError(name)
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_pycocotools)
    ds = CocoDetection(str(coco_root / "img"), str(coco_root / "ann.json"))
    coco = ds.coco
    # references/detection/coco_utils.py: _coco_remove_images_without_annotations
    assert coco.getAnnIds(imgIds=1, iscrowd=None) == [10, 11]
    assert coco.getAnnIds(imgIds=[1], iscrowd=False) == [10]
    assert coco.getAnnIds() == [10, 11, 12]
    assert coco.getAnnIds(catIds=[2]) == [11, 12]
    assert coco.getAnnIds(areaRng=[5, 100]) == [10, 11]
    assert coco.getAnnIds(imgIds=3) == []
    assert coco.getCatIds(catNms=["b"]) == [2]
    assert coco.getCatIds(supNms=["s"]) == [1]
    assert sorted(coco.getImgIds()) == [1, 2, 3]
    assert sorted(coco.getImgIds(catIds=[2])) == [1, 2]
    assert coco.loadCats(2) == [{"id": 2, "name": "b", "supercategory": "t"}]
    img, target = ds[0]
    assert img.size == (20, 10) and [a["id"] for a in target] == [10, 11]
