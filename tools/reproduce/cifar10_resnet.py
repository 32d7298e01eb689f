"""Train a ResNet on CIFAR-10 with ember (ember.vision.datasets.CIFAR10, transforms,
ember.utils.data.DataLoader, SGD with momentum and a cosine schedule) and report test
accuracy.

    python tools/reproduce/cifar10_resnet.py --data ~/data --download --epochs 30
    python tools/reproduce/cifar10_resnet.py --quick

``--quick`` is a smoke run that must finish in about a minute on a laptop CPU: it trains a
narrow ResNet for one epoch on 2,000 training images and evaluates on 500. When the real
CIFAR-10 files are not under ``--data``, it writes a small learnable stand-in in CIFAR's own
pickle format (ten classes told apart by colour and stripe orientation, with noise) into a
temporary folder, so the whole pipeline (parser, transforms, loader, model, optimizer) runs
offline; it exits non-zero unless test accuracy reaches 80%.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import pickle
import sys
import tempfile
import time

import ember
import numpy as np
from ember import nn
from ember.utils.data import DataLoader, Subset
from ember.vision import datasets, transforms
from ember.vision.models.resnet import BasicBlock, ResNet

MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2470, 0.2435, 0.2616)


def cifar_resnet(width: int = 64, blocks=(2, 2, 2, 2), num_classes: int = 10) -> ResNet:
    """ResNet-18 adapted to 32x32 inputs (3x3 stem, no max-pool), optionally narrower."""
    model = ResNet(BasicBlock, list(blocks), num_classes=num_classes)
    model.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
    model.maxpool = nn.Identity()
    if width != 64:  # rebuild the stages with fewer channels
        model.inplanes = width
        model.conv1 = nn.Conv2d(3, width, 3, 1, 1, bias=False)
        model.bn1 = nn.BatchNorm2d(width)
        model.layer1 = model._make_layer(BasicBlock, width, blocks[0])
        model.layer2 = model._make_layer(BasicBlock, width * 2, blocks[1], stride=2)
        model.layer3 = model._make_layer(BasicBlock, width * 4, blocks[2], stride=2)
        model.layer4 = model._make_layer(BasicBlock, width * 8, blocks[3], stride=2)
        model.fc = nn.Linear(width * 8, num_classes)
    return model


def write_standin_cifar(root: str, n_train: int = 2000, n_test: int = 500, seed: int = 0):
    """A learnable CIFAR-10 stand-in in the official pickle format under ``root``; patches
    the expected md5s so :class:`CIFAR10` accepts it."""
    rng = np.random.default_rng(seed)
    palette = rng.integers(40, 216, (10, 3))
    folder = os.path.join(root, datasets.CIFAR10.base_folder)
    os.makedirs(folder, exist_ok=True)

    def make(n):
        labels = rng.integers(0, 10, n)
        yy, xx = np.mgrid[0:32, 0:32]
        stripes = np.where(labels[:, None, None] % 2 == 0, yy, xx) % 8 < 4  # (n, 32, 32)
        img = palette[labels][:, :, None, None] + 30 * stripes[:, None] \
            + rng.normal(0, 25, (n, 3, 32, 32))
        return np.clip(img, 0, 255).astype(np.uint8).reshape(n, 3072), labels.tolist()

    files = {}
    per = n_train // 5
    for i in range(5):
        data, labels = make(per)
        files[f"data_batch_{i + 1}"] = {"data": data, "labels": labels}
    data, labels = make(n_test)
    files["test_batch"] = {"data": data, "labels": labels}
    files["batches.meta"] = {"label_names": ["airplane", "automobile", "bird", "cat", "deer",
                                             "dog", "frog", "horse", "ship", "truck"]}
    md5 = {}
    for name, obj in files.items():
        raw = pickle.dumps(obj)
        with open(os.path.join(folder, name), "wb") as f:
            f.write(raw)
        md5[name] = hashlib.md5(raw).hexdigest()
    datasets.CIFAR10.train_list = [[f"data_batch_{i}", md5[f"data_batch_{i}"]]
                                   for i in range(1, 6)]
    datasets.CIFAR10.test_list = [["test_batch", md5["test_batch"]]]
    datasets.CIFAR10.meta = dict(datasets.CIFAR10.meta, md5=md5["batches.meta"])


def loaders(root: str, download: bool, batch_size: int, quick: bool, workers: int):
    train_tf = transforms.Compose([transforms.RandomCrop(32, padding=4),
                                   transforms.RandomHorizontalFlip(), transforms.ToTensor(),
                                   transforms.Normalize(MEAN, STD)])
    test_tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize(MEAN, STD)])
    if quick:
        train_tf = test_tf  # one epoch on a stand-in: keep the signal simple
    train = datasets.CIFAR10(root, train=True, transform=train_tf, download=download)
    test = datasets.CIFAR10(root, train=False, transform=test_tf, download=download)
    if quick:
        train = Subset(train, list(range(min(2000, len(train)))))
        test = Subset(test, list(range(min(500, len(test)))))
    return (DataLoader(train, batch_size=batch_size, shuffle=True, num_workers=workers),
            DataLoader(test, batch_size=256, num_workers=workers))


def evaluate(model, loader) -> float:
    model.eval()
    correct = total = 0
    with ember.no_grad():
        for x, y in loader:
            correct += int((model(x).argmax(dim=1) == y).sum())
            total += y.shape[0]
    return correct / total


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=None, help="dataset root (default: $EMBER_HOME/datasets)")
    p.add_argument("--download", action="store_true")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--workers", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="one-epoch smoke run (see above)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    ember.manual_seed(args.seed)
    root = args.data
    if root is None:
        from ember.hub import get_datasets_dir

        root = get_datasets_dir()
    tmp = None
    if args.quick:
        args.epochs, args.batch_size, args.lr = 1, 64, 0.05
        have = os.path.isdir(os.path.join(root, datasets.CIFAR10.base_folder))
        if not have and not args.download:
            tmp = tempfile.TemporaryDirectory()
            root = tmp.name
            write_standin_cifar(root)
            print(f"CIFAR-10 not found: using a learnable stand-in written to {root}")
    train_loader, test_loader = loaders(root, args.download, args.batch_size, args.quick,
                                        args.workers)
    model = cifar_resnet(width=16 if args.quick else 64,
                         blocks=(1, 1, 1, 1) if args.quick else (2, 2, 2, 2))
    opt = ember.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=5e-4,
                          nesterov=True)
    steps = args.epochs * len(train_loader)
    sched = ember.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=steps) \
        if args.quick else ember.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(args.epochs):
        model.train()
        t0, seen, running = time.time(), 0, 0.0
        for x, y in train_loader:
            loss = loss_fn(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            running += float(loss) * y.shape[0]
            seen += y.shape[0]
        acc = evaluate(model, test_loader)
        print(f"epoch {epoch + 1}/{args.epochs}  loss {running / seen:.4f}  "
              f"test acc {acc * 100:.2f}%  ({time.time() - t0:.0f}s)")
    if tmp is not None:
        tmp.cleanup()
    if args.quick and acc < 0.8:
        print(f"FAILED: quick run reached {acc * 100:.1f}% test accuracy (< 80%)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
