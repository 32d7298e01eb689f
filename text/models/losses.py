"""The losses of the classification heads, chosen as transformers chooses them."""

from __future__ import annotations

import ember.nn.functional as F
from ember import Tensor

__all__ = ["classification_loss"]


def classification_loss(config, logits: Tensor, labels: Tensor) -> Tensor:
    """Regression (MSE) for one label, cross-entropy for integer labels, binary
    cross-entropy with logits for multi-label float targets (``config.problem_type`` fixes
    the choice; otherwise it is inferred and stored, as transformers does)."""
    n = config.num_labels
    if config.problem_type is None:
        if n == 1:
            config.problem_type = "regression"
        elif labels.dtype.is_floating_point:
            config.problem_type = "multi_label_classification"
        else:
            config.problem_type = "single_label_classification"
    if config.problem_type == "regression":
        if n == 1:
            return F.mse_loss(logits.squeeze(), labels.squeeze().to(logits.dtype))
        return F.mse_loss(logits, labels.to(logits.dtype))
    if config.problem_type == "single_label_classification":
        return F.cross_entropy(logits.reshape(-1, n), labels.reshape(-1))
    return F.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype))
