"""Declared pretrained weights and the model registry, as ``torchvision.models._api``.

A model builder takes ``weights=`` (a member of its ``WeightsEnum``, its name as a string, or
None) and ``progress=``. Each member holds a :class:`Weights`: the publisher's URL (the
sha256 prefix in its file name is checked on download through ``ember.hub``), the
preprocessing transforms, and meta data (categories, num_params, metrics, recipe).
"""

from __future__ import annotations

import functools
import importlib
import inspect
import sys
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar

from ember import nn

__all__ = ["WeightsEnum", "Weights", "get_model", "get_model_builder", "get_model_weights",
           "get_weight", "list_models", "register_model"]


@dataclass
class Weights:
    """This class is used to group important attributes associated with the pre-trained
    weights.

    Args:
        url (str): The location where we find the weights.
        transforms (Callable): A callable that constructs the preprocessing method (or
            validation preset transforms) needed to use the model. The reason we attach a
            constructor method rather than an already constructed object is because the
            specific object might have memory and thus we want to delay initialization until
            needed.
        meta (Dict[str, Any]): Stores meta-data related to the weights of the model and its
            configuration. These can be informative attributes (for example the number of
            parameters/flops, recipe link/methods used in training etc), configuration
            parameters (for example the `num_classes`) needed to construct the model or
            important meta-data (for example the `classes` of a classification model) needed
            to use the model.
    """

    url: str
    transforms: Callable
    meta: dict[str, Any]

    def __eq__(self, other: Any) -> bool:
        # We need this custom implementation for correct deep-copy and deserialization
        # behavior. TL;DR: After the definition of an enum, creating a new instance, i.e. by
        # deep-copying or deserializing it, involves an equality check against the defined
        # members. Unfortunately, the dataclass-generated __eq__ compares the transforms
        # partials by identity, so we compare their parts instead.
        if not isinstance(other, Weights):
            return NotImplemented
        if self.url != other.url or self.meta != other.meta:
            return False
        if isinstance(self.transforms, functools.partial) and \
                isinstance(other.transforms, functools.partial):
            return (self.transforms.func == other.transforms.func
                    and self.transforms.args == other.transforms.args
                    and self.transforms.keywords == other.transforms.keywords)
        return self.transforms == other.transforms

    def __hash__(self) -> int:
        return hash(self.url)


class WeightsEnum(Enum):
    """This class is the parent class of all model weights. Each model building method
    receives an optional `weights` parameter with its associated pre-trained weights. It
    inherits from `Enum` and its values should be of type `Weights`.

    Args:
        value (Weights): The data class entry with the weight information.
    """

    @classmethod
    def verify(cls, obj: Any) -> Any:
        """``obj`` as a member of this enum: a member passes, a name (``"IMAGENET1K_V1"`` or
        ``"ResNet50_Weights.IMAGENET1K_V1"``) is looked up, None stays None."""
        if obj is not None:
            if type(obj) is str:
                name = obj.replace(cls.__name__ + ".", "")
                try:
                    obj = cls[name]
                except KeyError:
                    raise ValueError(f"{obj!r} is not a member of {cls.__name__}; choose from "
                                     f"{', '.join(cls.__members__)}") from None
            elif not isinstance(obj, cls):
                raise TypeError(f"Invalid Weight class provided; expected {cls.__name__} but "
                                f"received {obj.__class__.__name__}.")
        return obj

    def get_state_dict(self, *args: Any, **kwargs: Any) -> Mapping[str, Any]:
        """The weights' state dict, downloaded through ``ember.hub.load_state_dict_from_url``
        (same arguments: ``progress``, ``check_hash``, ``model_dir``, ...) and read by
        ``ember.load`` without torch."""
        from ember.hub import load_state_dict_from_url

        return load_state_dict_from_url(self.url, *args, **kwargs)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}.{self._name_}"

    @property
    def url(self) -> str:
        return self.value.url

    @property
    def transforms(self) -> Callable:
        return self.value.transforms

    @property
    def meta(self) -> dict[str, Any]:
        return self.value.meta


def get_weight(name: str) -> WeightsEnum:
    """Gets the weights enum value by its full name. Example: "ResNet50_Weights.IMAGENET1K_V1"

    Args:
        name (str): The name of the weight enum entry.

    Returns:
        WeightsEnum: The requested weight enum.
    """
    try:
        enum_name, value_name = name.split(".")
    except ValueError:
        raise ValueError(f"Invalid weight name provided: '{name}'.") from None
    base_module = importlib.import_module("ember.vision.models")
    candidates = [base_module] + [sys.modules[m] for m in list(sys.modules)
                                  if m.startswith("ember.vision.models.")]
    for module in candidates:
        obj = getattr(module, enum_name, None)
        if inspect.isclass(obj) and issubclass(obj, WeightsEnum):
            return obj[value_name]
    raise ValueError(f"The weight enum '{enum_name}' for the specific method couldn't be "
                     "retrieved.")


def get_model_weights(name: Callable | str) -> type[WeightsEnum]:
    """Returns the weights enum class associated to the given model.

    Args:
        name (callable or str): The model builder function or the name under which it is
            registered.

    Returns:
        weights_enum (WeightsEnum): The weights enum class associated with the model.
    """
    model = get_model_builder(name) if isinstance(name, str) else name
    return _get_enum_from_fn(model)


def _get_enum_from_fn(fn: Callable) -> type[WeightsEnum]:
    sig = inspect.signature(fn)
    if "weights" not in sig.parameters:
        raise ValueError("The method is missing the 'weights' argument.")
    ann = sig.parameters["weights"].annotation
    weights_enum = getattr(fn, "_weights_enum", None)
    if weights_enum is None and inspect.isclass(ann) and issubclass(ann, WeightsEnum):
        weights_enum = ann
    if weights_enum is None:
        raise ValueError("The WeightsEnum class for the specific method couldn't be "
                         "retrieved. Make sure the typing info is correct.")
    return weights_enum


M = TypeVar("M", bound=nn.Module)

BUILTIN_MODELS: dict[str, Callable[..., nn.Module]] = {}


def register_model(name: str | None = None) -> Callable[[Callable[..., M]],
                                                        Callable[..., M]]:
    """Decorator that registers a model builder under ``name`` (default: its own name)."""
    def wrapper(fn: Callable[..., M]) -> Callable[..., M]:
        key = name if name is not None else fn.__name__
        if key in BUILTIN_MODELS:
            raise ValueError(f"An entry is already registered under the name '{key}'.")
        BUILTIN_MODELS[key] = fn
        return fn

    return wrapper


def list_models(module=None, include: str | Iterable[str] | None = None,
                exclude: str | Iterable[str] | None = None) -> list[str]:
    """Returns a list with the names of registered models.

    Args:
        module (ModuleType, optional): The module from which we want to extract the available
            models.
        include (str or Iterable[str], optional): Filter(s) for including the models from the
            set of all models. Filters are passed to `fnmatch
            <https://docs.python.org/3/library/fnmatch.html>`__ to match Unix shell-style
            wildcards. In case of many filters, the results is the union of individual
            filters.
        exclude (str or Iterable[str], optional): Filter(s) applied after include_filters to
            remove models. Filter are passed to `fnmatch` to match Unix shell-style
            wildcards. In case of many filters, the results is removal of all the models
            that match any individual filter.

    Returns:
        models (list): A list with the names of available models.
    """
    import fnmatch

    all_models = {k for k, v in BUILTIN_MODELS.items()
                  if module is None or v.__module__.rsplit(".", 1)[0] == module.__name__
                  or v.__module__ == module.__name__}
    if include:
        models: set[str] = set()
        if isinstance(include, str):
            include = [include]
        for include_filter in include:
            models = models | set(fnmatch.filter(all_models, include_filter))
    else:
        models = all_models
    if exclude:
        if isinstance(exclude, str):
            exclude = [exclude]
        for exclude_filter in exclude:
            models = models - set(fnmatch.filter(all_models, exclude_filter))
    return sorted(models)


def get_model_builder(name: str) -> Callable[..., nn.Module]:
    """Gets the model name and returns the model builder method.

    Args:
        name (str): The name under which the model is registered.

    Returns:
        fn (Callable): The model builder method.
    """
    name = name.lower()
    try:
        return BUILTIN_MODELS[name]
    except KeyError:
        raise ValueError(f"Unknown model {name}") from None


def get_model(name: str, **config: Any) -> nn.Module:
    """Gets the model name and configuration and returns an instantiated model.

    Args:
        name (str): The name under which the model is registered.
        **config (Any): parameters passed to the model builder method.

    Returns:
        model (nn.Module): The initialized model.
    """
    fn = get_model_builder(name)
    return fn(**config)


def _ovewrite_named_param(kwargs: dict[str, Any], param: str, new_value: Any) -> None:
    """Sets ``kwargs[param]`` to the value the weights require (raising if the caller asked
    for another)."""
    if param in kwargs:
        if kwargs[param] != new_value:
            raise ValueError(f"The parameter '{param}' expected value {new_value} but got "
                             f"{kwargs[param]} instead.")
    else:
        kwargs[param] = new_value


def handle_legacy_pretrained(weights_enum: type[WeightsEnum], default_name: str):
    """Builder decorator accepting torchvision's deprecated ``pretrained=True`` (mapped to
    ``weights=<default_name>`` with a warning), and recording the builder's enum."""
    def deco(builder):
        @functools.wraps(builder)
        def wrapper(*args, **kwargs):
            if "pretrained" in kwargs:
                pretrained = kwargs.pop("pretrained")
                if kwargs.get("weights") is not None:
                    raise ValueError("pass either pretrained= or weights=, not both")
                warnings.warn(f"The parameter 'pretrained' is deprecated, please use "
                              f"'weights' instead (weights={weights_enum.__name__}."
                              f"{default_name} for pretrained=True).", UserWarning,
                              stacklevel=2)
                if pretrained:
                    kwargs["weights"] = weights_enum[default_name]
            return builder(*args, **kwargs)

        wrapper._weights_enum = weights_enum
        return wrapper

    return deco
