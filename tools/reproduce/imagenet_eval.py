"""Evaluate a pretrained ember.vision classifier on ImageNet-1K validation and compare
with the accuracy published in its weights' meta data.

    python tools/reproduce/imagenet_eval.py --root ~/data/imagenet --model resnet50 \\
        --weights IMAGENET1K_V2

``--root`` holds the user's ``ILSVRC2012_devkit_t12.tar.gz`` and
``ILSVRC2012_img_val.tar`` (ember.vision.datasets.ImageNet parses them once); or pass
``--image-folder`` for a ``val/<wnid>/*.JPEG`` tree already laid out. The preprocessing is
the weights' own preset (resize, center crop, normalise), as torchvision's reference
evaluation. Prints acc@1/acc@5 next to the published numbers; ``--limit N`` evaluates the
first N images only (a quick check, not the published metric).
"""

from __future__ import annotations

import argparse
import sys
import time

import ember
from ember.utils.data import DataLoader, Subset
from ember.vision import datasets, models


def build(model_name: str, weights_name: str, weights_file: str | None):
    weights = models.get_model_weights(model_name).verify(weights_name)
    if weights_file is None:
        model = models.get_model(model_name, weights=weights)
    else:
        model = models.get_model(model_name, num_classes=len(weights.meta["categories"]))
        model.load_state_dict(ember.load(weights_file, weights_only=True))
    return model.eval(), weights


def evaluate(model, loader, log_every: int = 50) -> tuple[float, float, int]:
    """(acc@1, acc@5, images) of ``model`` over ``loader``."""
    top1 = top5 = n = 0
    t0 = time.time()
    with ember.no_grad():
        for step, (x, y) in enumerate(loader, 1):
            logits = model(x)
            k = min(5, logits.shape[1])
            pred = logits.topk(k, dim=1).indices  # (B, 5)
            hit = pred == y[:, None]
            top1 += int(hit[:, 0].sum())
            top5 += int(hit.any(dim=1).sum())
            n += y.shape[0]
            if log_every and step % log_every == 0:
                print(f"  {n} images  acc@1 {100 * top1 / n:.2f}  acc@5 {100 * top5 / n:.2f}"
                      f"  ({n / (time.time() - t0):.1f} img/s)", flush=True)
    return 100 * top1 / max(n, 1), 100 * top5 / max(n, 1), n


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--root", help="folder with the ImageNet devkit and val archives")
    src.add_argument("--image-folder", help="an already laid out val/<wnid>/ folder")
    p.add_argument("--model", default="resnet50", choices=models.list_models())
    p.add_argument("--weights", default="DEFAULT")
    p.add_argument("--weights-file", help="a local copy of the weights' .pth file")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--limit", type=int, default=None, help="evaluate the first N images")
    args = p.parse_args(argv)
    model, weights = build(args.model, args.weights, args.weights_file)
    preset = weights.transforms()
    if args.root is not None:
        data = datasets.ImageNet(args.root, split="val", transform=preset)
    else:
        data = datasets.ImageFolder(args.image_folder, transform=preset)
    if args.limit is not None:
        data = Subset(data, list(range(min(args.limit, len(data)))))
    loader = DataLoader(data, batch_size=args.batch_size, num_workers=args.workers)
    acc1, acc5, n = evaluate(model, loader)
    published = weights.meta["_metrics"]["ImageNet-1K"]
    print(f"{args.model} {weights!r} on {n} images: acc@1 {acc1:.3f}  acc@5 {acc5:.3f}")
    print(f"published (50,000 images): acc@1 {published['acc@1']}  acc@5 {published['acc@5']}"
          f"  recipe {weights.meta['recipe']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
