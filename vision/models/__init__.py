"""ember.vision.models: model architectures with torchvision's structure, ``state_dict``
keys and pretrained weights (``weights=`` enums), plus the registry helpers."""

from . import feature_extraction
from ._api import (
    Weights,
    WeightsEnum,
    get_model,
    get_model_builder,
    get_model_weights,
    get_weight,
    list_models,
)
from .resnet import *  # noqa: F403
from .resnet import __all__ as _resnet_all

__all__ = ["Weights", "WeightsEnum", "get_model", "get_model_builder", "get_model_weights",
           "get_weight", "list_models", "feature_extraction"] + list(_resnet_all)
