"""Quickstart: train a small classifier on generated data with ember and print its accuracy.

Two interleaved spirals (two classes, 2-D points) are generated with a fixed seed; an MLP is
trained with Adam for a few hundred steps; the script prints the training loss and the
accuracy on a held-out set, and saves the weights in PyTorch's checkpoint format.

    python tools/quickstart.py
"""

from __future__ import annotations

import math
import os
import tempfile

import ember as torch
import ember.nn as nn
import ember.nn.functional as F


def spirals(n: int, generator: torch.Generator):
    """``n`` points of two interleaved spirals with a little noise, and their labels."""
    t = torch.rand(n, generator=generator) * 3 * math.pi + 0.5
    label = torch.randint(0, 2, (n,), generator=generator)
    angle = t + label.float() * math.pi
    radius = t / (3 * math.pi)
    x = torch.stack([radius * angle.cos(), radius * angle.sin()], dim=1)
    x = x + 0.02 * torch.randn(n, 2, generator=generator)
    return x, label


def main() -> float:
    """Trains the model and returns the held-out accuracy."""
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    x_train, y_train = spirals(2000, g)
    x_test, y_test = spirals(500, g)

    model = nn.Sequential(
        nn.Linear(2, 64), nn.Tanh(),
        nn.Linear(64, 64), nn.Tanh(),
        nn.Linear(64, 2),
    )
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for step in range(1, 601):
        idx = torch.randint(0, len(x_train), (128,), generator=g)
        loss = F.cross_entropy(model(x_train[idx]), y_train[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0:
            print(f"step {step:4d}  loss {loss.item():.4f}")

    model.eval()
    with torch.no_grad():
        acc = (model(x_test).argmax(dim=1) == y_test).float().mean().item()
    path = os.path.join(tempfile.gettempdir(), "ember_quickstart.pt")
    torch.save(model.state_dict(), path)
    print(f"held-out accuracy: {acc:.1%}  (weights saved to {path})")
    return acc


if __name__ == "__main__":
    main()
