"""Helpers of the ember.text tests (a module with a unique name, so that test files can
import it whichever conftest.py pytest loaded last)."""

import os

import ember
import numpy as np

RTOL, ATOL = 1e-4, 1e-5


def package_dir(module: str, *parts: str) -> str | None:
    """A data folder inside an installed package, found without importing the package."""
    import importlib.util

    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = os.path.join(list(spec.submodule_search_locations)[0], *parts)
    return path if os.path.exists(path) else None


def copy_weights(torch_model, ember_model, strict: bool = True):
    """Load the reference model's state_dict into the ember model (through numpy)."""
    state = {k: ember.from_numpy(v.detach().cpu().numpy().copy())
             for k, v in torch_model.state_dict().items()}
    return ember_model.load_state_dict(state, strict=strict)


def to_torch(x):
    import torch

    return None if x is None else torch.from_numpy(np.asarray(x))


def to_ember(x):
    return None if x is None else ember.from_numpy(np.ascontiguousarray(x))


def assert_close(ember_value, torch_value, rtol=RTOL, atol=ATOL, where=None):
    """Compare an ember tensor with a torch tensor (optionally only at mask ``where``)."""
    a = ember_value.detach().numpy()
    b = torch_value.detach().numpy()
    assert a.shape == b.shape, (a.shape, b.shape)
    if where is not None:
        a, b = a[where], b[where]
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def random_batch(seed: int, batch: int, length: int, vocab: int, low: int = 0):
    return np.random.default_rng(seed).integers(low, vocab, (batch, length))


def right_padded_mask(lengths, total):
    mask = np.zeros((len(lengths), total), dtype=np.int64)
    for i, n in enumerate(lengths):
        mask[i, :n] = 1
    return mask


def left_padded_mask(lengths, total):
    return right_padded_mask(lengths, total)[:, ::-1].copy()
