"""A compact way to declare the ImageNet classification weights of the model families
(``Weights`` entries holding torchvision's published URL, preprocessing preset and meta
data), plus the load step the builders share."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from ember import nn

from ..transforms._presets import ImageClassification
from ..transforms.functional import InterpolationMode
from ._api import Weights, WeightsEnum, _ovewrite_named_param, handle_legacy_pretrained
from ._api import register_model as _register_model
from ._meta import _IMAGENET_CATEGORIES

__all__ = ["_w", "NAN", "_URL", "_prepare_weights", "_load_weights", "_make_builder"]

_URL = "https://download.pytorch.org/models/"
NAN = float("nan")
_DEFAULT = object()


def _w(file: str, *, crop: int, resize: int, min_size: tuple[int, int], num_params: int,
       recipe: str, metrics: dict, ops: float, file_size: float, docs: str,
       interp: str = "bilinear", mean: tuple[float, ...] | None = None,
       std: tuple[float, ...] | None = None, categories: Any = _DEFAULT,
       url: str | None = None, **extra: Any) -> Weights:
    """One ``Weights`` entry: ``file`` is the name under torchvision's download folder."""
    preset: dict[str, Any] = {"crop_size": crop, "resize_size": resize}
    if interp != "bilinear":
        preset["interpolation"] = InterpolationMode(interp)
    if mean is not None:
        preset["mean"] = mean
    if std is not None:
        preset["std"] = std
    meta = {
        "min_size": min_size,
        "categories": _IMAGENET_CATEGORIES if categories is _DEFAULT else categories,
        "num_params": num_params,
        "recipe": recipe,
        "_metrics": metrics,
        "_ops": ops,
        "_file_size": file_size,
        "_docs": docs,
        **extra,
    }
    return Weights(url=url or _URL + file, transforms=partial(ImageClassification, **preset),
                   meta=meta)


def _prepare_weights(weights: WeightsEnum | None, kwargs: dict[str, Any]) -> None:
    """Pins ``num_classes`` (and nothing else) to what the weights were trained for."""
    if weights is not None and weights.meta.get("categories") is not None:
        _ovewrite_named_param(kwargs, "num_classes", len(weights.meta["categories"]))


def _load_weights(model: nn.Module, weights: WeightsEnum | None, progress: bool) -> None:
    if weights is not None:
        model.load_state_dict(weights.get_state_dict(progress=progress, check_hash=True))


def _make_builder(module: str, name: str, weights_enum: type[WeightsEnum],
                  construct: Callable[[WeightsEnum | None, dict[str, Any]], nn.Module],
                  summary: str, base: str, legacy: str = "IMAGENET1K_V1",
                  load: Callable[[nn.Module, WeightsEnum | None, bool], None] | None = None
                  ) -> Callable:
    """A registered builder ``name(*, weights=None, progress=True, **kwargs)``: checks the
    weights, pins ``num_classes`` to them, calls ``construct(weights, kwargs)`` and loads the
    checkpoint (with ``load(model, weights, progress)`` where given). ``pretrained=`` is
    accepted as torchvision's deprecated alias."""

    def builder(*, weights: weights_enum | None = None, progress: bool = True,
                **kwargs: Any) -> nn.Module:
        weights = weights_enum.verify(weights)
        _prepare_weights(weights, kwargs)
        model = construct(weights, kwargs)
        (load or _load_weights)(model, weights, progress)
        return model

    builder.__name__ = builder.__qualname__ = name
    builder.__module__ = module
    builder.__annotations__["weights"] = weights_enum
    builder.__doc__ = f"""{summary}

    Args:
        weights (:class:`~ember.vision.models.{weights_enum.__name__}`, optional): The
            pretrained weights to use. See :class:`{weights_enum.__name__}` for the possible
            values. By default, no pre-trained weights are used.
        progress (bool, optional): If True, displays a progress bar of the download to
            stderr. Default is True.
        **kwargs: parameters passed to the ``{base}`` base class.
    """
    return _register_model(name)(handle_legacy_pretrained(weights_enum, legacy)(builder))
