"""Smoke tests of tools/reproduce/classify.py and cifar10_resnet.py --quick."""

import sys
from pathlib import Path

import ember
import numpy as np
import pytest
from vision_helpers import skip_init
from vision_recipe import seeded_state

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools" / "reproduce"))


def test_classify_prints_topk_with_local_weights(tmp_path, capsys, transforms_golden):
    import classify
    from ember.vision import models

    with skip_init():
        m = models.resnet18()
    state = seeded_state({k: tuple(v.shape) for k, v in m.state_dict().items()}, 1)
    path = tmp_path / "w.pth"
    ember.save({k: ember.from_numpy(v) for k, v in state.items()}, str(path))
    img = tmp_path / "cat.png"
    from ember.vision.io import write_png

    write_png(ember.from_numpy(np.ascontiguousarray(
        transforms_golden["photo_chelsea"].transpose(2, 0, 1))), img)
    assert classify.main([str(img), "--model", "resnet18", "--weights-file", str(path),
                          "--topk", "3"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3
    probs = [float(line.split("%")[0]) for line in lines]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 100.0 + 1e-6


@pytest.mark.slow
def test_cifar10_resnet_quick_reaches_accuracy(monkeypatch, tmp_path):
    import cifar10_resnet
    from ember.vision import datasets

    for attr in ("train_list", "test_list", "meta"):  # the stand-in patches the checksums
        monkeypatch.setattr(datasets.CIFAR10, attr, getattr(datasets.CIFAR10, attr))
    assert cifar10_resnet.main(["--quick", "--data", str(tmp_path)]) == 0


def test_imagenet_eval_runs_on_an_image_folder(tmp_path, capsys, transforms_golden):
    import imagenet_eval
    from ember.vision import models
    from ember.vision.io import write_png

    with skip_init():
        m = models.resnet18()
    state = seeded_state({k: tuple(v.shape) for k, v in m.state_dict().items()}, 2)
    path = tmp_path / "w.pth"
    ember.save({k: ember.from_numpy(v) for k, v in state.items()}, str(path))
    photo = np.ascontiguousarray(transforms_golden["photo_coffee"].transpose(2, 0, 1))
    for wnid in ("n01440764", "n01443537"):
        (tmp_path / "val" / wnid).mkdir(parents=True)
        write_png(ember.from_numpy(photo), tmp_path / "val" / wnid / "a.png")
    assert imagenet_eval.main(["--image-folder", str(tmp_path / "val"), "--model", "resnet18",
                               "--weights-file", str(path), "--workers", "0"]) == 0
    out = capsys.readouterr().out
    assert "on 2 images: acc@1" in out and "published (50,000 images): acc@1 69.758" in out


@pytest.mark.slow
def test_fashion_mnist_quick_reaches_accuracy(monkeypatch, tmp_path):
    import fashion_mnist
    from ember.vision import datasets

    monkeypatch.setattr(datasets.FashionMNIST, "files", datasets.FashionMNIST.files)
    assert fashion_mnist.main(["--quick", "--data", str(tmp_path)]) == 0


@pytest.mark.parametrize("depth,params", [(20, 269_722), (32, 464_154), (44, 658_586),
                                          (56, 853_018)])
def test_cifar_resnet_is_he_et_al_option_a(depth, params):
    """6n+2 layers, option A shortcuts (no parameters): the parameter counts of the paper's
    networks (0.27M for ResNet-20 ... 0.85M for ResNet-56)."""
    from cifar10_resnet import CifarResNet

    model = CifarResNet(depth)
    assert sum(p.numel() for p in model.parameters()) == params
    convs = [m for m in model.modules() if isinstance(m, ember.nn.Conv2d)]
    assert len(convs) + 1 == depth and all(c.kernel_size == (3, 3) for c in convs)
    assert model(ember.randn(2, 3, 32, 32)).shape == (2, 10)


def test_cifar_resnet_option_a_shortcut_pads_zero_channels():
    from cifar10_resnet import BasicBlock

    block = BasicBlock(16, 32, stride=2)
    x = ember.randn(2, 16, 8, 8)
    s = block.shortcut(x)
    assert s.shape == (2, 32, 4, 4)
    np.testing.assert_array_equal(s[:, 8:24].numpy(), x[:, :, ::2, ::2].numpy())
    assert float(s[:, :8].abs().sum()) == 0 and float(s[:, 24:].abs().sum()) == 0
    with pytest.raises(ValueError, match="6n\\+2"):
        __import__("cifar10_resnet").CifarResNet(21)
