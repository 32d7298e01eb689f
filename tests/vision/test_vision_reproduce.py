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
