"""ember.vision.models: model architectures with torchvision's structure, ``state_dict``
keys and pretrained weights (``weights=`` enums), plus the registry helpers."""

from . import alexnet as _alexnet_mod
from . import (
    convnext,
    densenet,
    detection,
    efficientnet,
    feature_extraction,
    inception,
    mnasnet,
    mobilenet,
    mobilenetv2,
    mobilenetv3,
    regnet,
    segmentation,
    shufflenetv2,
    squeezenet,
    swin_transformer,
    vgg,
    vision_transformer,
)
from . import googlenet as _googlenet_mod
from ._api import (
    Weights,
    WeightsEnum,
    get_model,
    get_model_builder,
    get_model_weights,
    get_weight,
    list_models,
)
from .alexnet import *  # noqa: F403
from .convnext import *  # noqa: F403
from .densenet import *  # noqa: F403
from .efficientnet import *  # noqa: F403
from .googlenet import *  # noqa: F403
from .inception import *  # noqa: F403
from .mnasnet import *  # noqa: F403
from .mobilenet import *  # noqa: F403
from .regnet import *  # noqa: F403
from .resnet import *  # noqa: F403
from .resnet import __all__ as _resnet_all
from .shufflenetv2 import *  # noqa: F403
from .squeezenet import *  # noqa: F403
from .swin_transformer import *  # noqa: F403
from .vgg import *  # noqa: F403
from .vision_transformer import *  # noqa: F403

__all__ = ["Weights", "WeightsEnum", "get_model", "get_model_builder", "get_model_weights",
           "get_weight", "list_models", "feature_extraction", "detection"] + list(_resnet_all)
__all__ += _alexnet_mod.__all__ + vgg.__all__ + squeezenet.__all__ + mobilenet.__all__
__all__ += efficientnet.__all__ + densenet.__all__ + convnext.__all__
__all__ += vision_transformer.__all__ + shufflenetv2.__all__ + mnasnet.__all__
__all__ += _googlenet_mod.__all__ + inception.__all__
__all__ += regnet.__all__ + swin_transformer.__all__
