"""Result fingerprints and the checks that stop a fast wrong answer from passing.

A fingerprint is a small JSON-able dict with any of these keys:
``output`` (summary of an output array), ``losses`` (the first training losses) and ``tokens``
(generated token ids). ``compare`` checks two frameworks' fingerprints against each other;
``check_losses`` checks one training run on its own.
"""

import math

import numpy as np

HEAD = 8
OUTPUT_RTOL = 2e-3  # relative to the output's mean |value|
FIRST_LOSS_RTOL = 1e-3  # loss before any update: same weights, same batch
SECOND_LOSS_RTOL = 1e-2  # loss after one update also checks the gradients
MIN_SAME_TOKENS = 8  # greedy decoding may flip on a near-tie late in the sequence


def summarize(array):
    """Shape, first values, mean, mean |x| and standard deviation of ``array``."""
    a = np.asarray(array, dtype=np.float64)
    flat = a.reshape(-1)
    return {
        "shape": list(a.shape),
        "head": [float(v) for v in flat[:HEAD]],
        "mean": float(flat.mean()) if flat.size else 0.0,
        "absmean": float(np.abs(flat).mean()) if flat.size else 0.0,
        "std": float(flat.std()) if flat.size else 0.0,
        "finite": bool(np.isfinite(flat).all()),
    }


def _compare_outputs(ref, other):
    if ref["shape"] != other["shape"]:
        return f"output shape {other['shape']} != {ref['shape']}"
    if not other["finite"]:
        return "output is not finite"
    scale = max(ref["absmean"], 1e-12)
    pairs = list(zip(ref["head"], other["head"])) + [(ref["mean"], other["mean"])]
    worst = max(abs(a - b) for a, b in pairs) / scale
    for key in ("absmean", "std"):
        worst = max(worst, abs(ref[key] - other[key]) / max(abs(ref[key]), 1e-12))
    if not worst <= OUTPUT_RTOL:
        return f"output differs by {worst:.2e} (relative; limit {OUTPUT_RTOL:.0e})"
    return None


def _compare_losses(ref, other):
    for i, (a, b, rtol) in enumerate(zip(ref, other, (FIRST_LOSS_RTOL, SECOND_LOSS_RTOL))):
        if not abs(a - b) <= rtol * max(abs(a), 1e-12):
            return f"loss {i} is {b:.6g}, reference {a:.6g} (rtol {rtol:.0e})"
    return None


def _compare_tokens(ref, other):
    same = 0
    for a, b in zip(ref, other):
        if a != b:
            break
        same += 1
    if same < min(MIN_SAME_TOKENS, len(ref)) or len(ref) != len(other):
        return f"generated tokens diverge at position {same}"
    return None


def compare(ref, other):
    """``None`` when fingerprint ``other`` agrees with reference ``ref``, else a reason."""
    checks = (("output", _compare_outputs), ("losses", _compare_losses),
              ("tokens", _compare_tokens))
    for key, check in checks:
        if key in ref:
            if key not in other:
                return f"no {key} in fingerprint"
            reason = check(ref[key], other[key])
            if reason:
                return reason
    return None


def check_losses(losses):
    """``None`` when training losses are all finite and the last is below the first."""
    if not losses:
        return "no losses recorded"
    if not all(math.isfinite(x) for x in losses):
        return f"loss is not finite: {losses}"
    if len(losses) < 2 or not losses[-1] < losses[0]:
        return f"loss did not fall ({losses[0]:.4g} -> {losses[-1]:.4g})"
    return None
