"""Classify an image with a pretrained ImageNet classifier from ember.vision.models.

The weights are torchvision's own ``.pth`` files, downloaded once through ``ember.hub``
(sha256 prefix checked) and read by ``ember.load`` without torch; the image goes through
the weights' preset (resize, center crop, normalise) and the script prints the top-k
categories with their probabilities::

    python tools/reproduce/classify.py cat.jpg --model resnet50 --weights IMAGENET1K_V2
    python tools/reproduce/classify.py cat.jpg --weights-file resnet18-f37072fd.pth

Without an image argument it classifies scikit-image's "chelsea" (a cat), if scikit-image
is installed.
"""

from __future__ import annotations

import argparse
import sys

import ember
from ember.vision import models
from ember.vision.io import ImageReadMode, read_image


def load_image(path: str | None) -> ember.Tensor:
    """The image at ``path`` (or scikit-image's chelsea) as a uint8 (3, H, W) tensor."""
    if path is not None:
        return read_image(path, ImageReadMode.RGB)
    try:
        import numpy as np
        import skimage.data
    except ImportError:
        sys.exit("no image given and scikit-image is not installed: pass an image path")
    return ember.from_numpy(np.ascontiguousarray(skimage.data.chelsea().transpose(2, 0, 1)))


def build(model_name: str, weights_name: str, weights_file: str | None, progress: bool):
    """The model in eval mode and its weights entry (for transforms and categories)."""
    enum = models.get_model_weights(model_name)
    weights = enum.verify(weights_name)
    if weights_file is None:
        model = models.get_model(model_name, weights=weights, progress=progress)
    else:
        model = models.get_model(model_name, num_classes=len(weights.meta["categories"]))
        model.load_state_dict(ember.load(weights_file, weights_only=True))
    return model.eval(), weights


def classify(model, weights, image: ember.Tensor, topk: int = 5) -> list[tuple[str, float]]:
    """The ``topk`` (category, probability) pairs for ``image``."""
    batch = weights.transforms()(image).unsqueeze(0)  # (1, 3, 224, 224)
    with ember.no_grad():
        probs = model(batch).softmax(dim=1)[0]
    values, indices = probs.topk(topk)
    cats = weights.meta["categories"]
    return [(cats[int(i)], float(v)) for v, i in zip(values, indices)]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("image", nargs="?", help="image file (default: scikit-image's chelsea)")
    p.add_argument("--model", default="resnet50", choices=models.list_models())
    p.add_argument("--weights", default="DEFAULT", help="weights enum member name")
    p.add_argument("--weights-file", help="a local copy of the weights' .pth file")
    p.add_argument("--topk", type=int, default=5)
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    model, weights = build(args.model, args.weights, args.weights_file, not args.no_progress)
    for cat, prob in classify(model, weights, load_image(args.image), args.topk):
        print(f"{prob * 100:6.2f}%  {cat}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
