"""Shared weights: one framework writes them to an .npz once, every benchmark child loads them.

Values are drawn with numpy from a seed and the parameter's name, so they do not depend on the
framework that built the model: weight matrices and kernels ~ N(0, 1/fan_in), biases small,
norm scales near 1, and BatchNorm running statistics perturbed away from (0, 1) so that eval
mode is a real test.
"""

import zlib

import numpy as np

SEED = 1234


def to_numpy(tensor):
    """A numpy copy of a framework tensor (detached, on the host)."""
    if hasattr(tensor, "detach"):
        tensor = tensor.detach()
    if hasattr(tensor, "cpu"):
        tensor = tensor.cpu()
    if hasattr(tensor, "numpy"):
        return np.array(tensor.numpy())
    return np.array(tensor)


def draw(name, shape, dtype):
    """The value of parameter or buffer ``name`` (deterministic in ``SEED`` and ``name``)."""
    rng = np.random.default_rng([SEED, zlib.crc32(name.encode())])
    if not np.issubdtype(dtype, np.floating):
        return np.zeros(shape, dtype)  # e.g. num_batches_tracked
    leaf = name.rsplit(".", 1)[-1]
    if leaf == "running_var":
        return rng.uniform(0.5, 1.5, shape).astype(dtype)
    if leaf == "running_mean":
        mean, std = 0.0, 0.1
    elif len(shape) >= 2:
        mean, std = 0.0, 1.0 / np.sqrt(np.prod(shape[1:]))
    elif leaf.startswith("weight"):
        mean, std = 1.0, 0.1
    else:
        mean, std = 0.0, 0.02
    value = rng.standard_normal(shape, dtype=np.float32) * np.float32(std) + np.float32(mean)
    return value.astype(dtype)


def write(fw, model, path):
    """Draw weights for every state_dict entry of ``model`` (built by ``fw``) into ``path``."""
    arrays = {}
    for name, tensor in model.state_dict().items():
        ref = to_numpy(tensor)
        arrays[name] = draw(name, ref.shape, ref.dtype)
    np.savez(path, **arrays)
    return len(arrays)


def load(fw, model, path):
    """Load the .npz at ``path`` into ``model`` with ``load_state_dict`` (strict)."""
    with np.load(path) as npz:
        state = {name: fw.from_numpy(npz[name]) for name in npz.files}
    model.load_state_dict(state)
