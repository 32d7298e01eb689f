"""He et al. 2016's CIFAR-10 ResNets (section 4.2) trained with ember, reporting test error.

    python tools/reproduce/cifar10_resnet.py --data ~/data --download --depth 20
    python tools/reproduce/cifar10_resnet.py --quick

The recipe of "Deep Residual Learning for Image Recognition": ResNet-{20,32,44,56}
(6n+2 layers: a 3x3 convolution with 16 filters, three stages of n basic blocks with 16,
32 and 64 filters, global average pooling, a 10-way linear layer) with option A shortcuts
(identity; where the shape changes, strided subsampling and zero-padded channels, so no
extra parameters); He initialisation; per-pixel mean subtraction; 4-pixel padding, random
32x32 crops and horizontal flips; SGD with momentum 0.9, weight decay 1e-4, batch 128,
learning rate 0.1 divided by 10 at 32k and 48k iterations, stopping at 64k iterations on
the 50k training images. Published test error: ResNet-20 8.75%, ResNet-32 7.51%,
ResNet-44 7.17%, ResNet-56 6.97%.

``--quick`` is a smoke run: a ResNet-20 for two epochs on 2,000 training images, evaluated
on 500. When the real CIFAR-10 files are not under ``--data``, it writes a small learnable
stand-in in CIFAR's own pickle format (ten classes told apart by colour and stripe
orientation, with noise) into a temporary folder, so the whole pipeline (parser,
transforms, loader, model, optimizer) runs offline; it exits non-zero unless test accuracy
reaches 80%.
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
from ember.nn import functional as F
from ember.utils.data import DataLoader, Subset
from ember.vision import datasets, transforms

PUBLISHED_ERROR = {20: 8.75, 32: 7.51, 44: 7.17, 56: 6.97}  # % on the test set (table 6)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with batch norm; option A shortcut (identity, or strided
    subsampling with zero-padded channels where the shape changes)."""

    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.stride, self.extra = stride, cout - cin

    def shortcut(self, x):
        if self.stride != 1:
            x = x[:, :, ::self.stride, ::self.stride]
        if self.extra:  # (N, cin, H, W) -> (N, cout, H, W), the new channels zero
            half = self.extra // 2
            x = F.pad(x, (0, 0, 0, 0, half, self.extra - half))
        return x

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class CifarResNet(nn.Module):
    """ResNet-(6n+2) for 32x32 images (He et al. 2016, section 4.2)."""

    def __init__(self, depth: int = 20, num_classes: int = 10, width: int = 16) -> None:
        super().__init__()
        if (depth - 2) % 6:
            raise ValueError(f"CifarResNet: depth must be 6n+2 (20, 32, 44, 56, ...), got {depth}")
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(3, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        blocks, cin = [], width
        for stage, cout in enumerate((width, 2 * width, 4 * width)):
            for i in range(n):
                blocks.append(BasicBlock(cin, cout, 2 if stage and i == 0 else 1))
                cin = cout
        self.blocks = nn.Sequential(*blocks)  # (N, 4*width, 8, 8)
        self.fc = nn.Linear(cin, num_classes)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.blocks(x)
        return self.fc(x.mean(dim=(2, 3)))  # global average pooling: (N, C)


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


def pixel_mean(train) -> ember.Tensor:
    """The per-pixel mean (3, 32, 32) of the training images, in [0, 1]."""
    data = train.data.astype(np.float64).mean(axis=0) / 255.0  # (32, 32, 3)
    return ember.from_numpy(np.ascontiguousarray(data.transpose(2, 0, 1), dtype=np.float32))


def loaders(root: str, download: bool, batch_size: int, quick: bool, workers: int):
    train = datasets.CIFAR10(root, train=True, download=download)
    test = datasets.CIFAR10(root, train=False, download=download)
    mean = pixel_mean(train)
    subtract = transforms.Lambda(lambda t: t - mean)
    train.transform = transforms.Compose(
        ([] if quick else [transforms.RandomCrop(32, padding=4),
                           transforms.RandomHorizontalFlip()])
        + [transforms.ToTensor(), subtract])
    test.transform = transforms.Compose([transforms.ToTensor(), subtract])
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
    p.add_argument("--depth", type=int, default=20, help="6n+2: 20, 32, 44, 56, 110")
    p.add_argument("--iterations", type=int, default=64000)
    p.add_argument("--milestones", type=int, nargs="*", default=[32000, 48000],
                   help="iterations at which the learning rate is divided by 10")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--workers", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="two-epoch smoke run (see above)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    ember.manual_seed(args.seed)
    root = args.data
    if root is None:
        from ember.hub import get_datasets_dir

        root = get_datasets_dir()
    tmp = None
    if args.quick:
        args.depth, args.batch_size, args.lr = 20, 32, 0.05
        have = os.path.isdir(os.path.join(root, datasets.CIFAR10.base_folder))
        if not have and not args.download:
            tmp = tempfile.TemporaryDirectory()
            root = tmp.name
            write_standin_cifar(root)
            print(f"CIFAR-10 not found: using a learnable stand-in written to {root}")
    train_loader, test_loader = loaders(root, args.download, args.batch_size, args.quick,
                                        args.workers)
    if args.quick:
        args.iterations, args.milestones = 2 * len(train_loader), []
    model = CifarResNet(args.depth)
    opt = ember.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=1e-4)
    sched = ember.optim.lr_scheduler.MultiStepLR(opt, milestones=args.milestones, gamma=0.1)
    if args.quick:  # 126 steps: warm up and anneal, so batch-norm statistics settle
        sched = ember.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr,
                                                    total_steps=args.iterations)
    loss_fn = nn.CrossEntropyLoss()
    step, epoch, acc, start = 0, 0, 0.0, time.time()
    while step < args.iterations:
        model.train()
        epoch += 1
        t0, seen, running = time.time(), 0, 0.0
        for x, y in train_loader:
            loss = loss_fn(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()  # per iteration, as the milestones are counted
            running += float(loss) * y.shape[0]
            seen += y.shape[0]
            step += 1
            if step == args.iterations:
                break
        acc = evaluate(model, test_loader)
        print(f"epoch {epoch} (iteration {step})  loss {running / seen:.4f}  "
              f"test error {(1 - acc) * 100:.2f}%  ({time.time() - t0:.0f}s)", flush=True)
    published = PUBLISHED_ERROR.get(args.depth)
    print(f"ResNet-{args.depth}: test error {(1 - acc) * 100:.2f}% after {step} iterations "
          f"({time.time() - start:.0f}s)"
          + (f"; He et al. 2016 report {published}%" if published and not args.quick else ""))
    if tmp is not None:
        tmp.cleanup()
    if args.quick and acc < 0.8:
        print(f"FAILED: quick run reached {acc * 100:.1f}% test accuracy (< 80%)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
