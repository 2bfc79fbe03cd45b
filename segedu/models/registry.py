"""Build models by name: ``get_model("unet", in_channels=3, num_classes=5)``.

Names: tiny_classifier, full_resolution, fcn32s, fcn16s, fcn8s, segnet, unet, deeplabv3, shortcut_net. The keyword
arguments go to the model's constructor; ``fcn32s`` / ``fcn16s`` / ``fcn8s`` are :class:`FCN` with
``variant`` fixed.
"""

from __future__ import annotations

import difflib
import inspect

from torch import nn

from segedu.models.contract import check_model_arguments
from segedu.models.deeplab import DeepLabV3
from segedu.models.fcn import FCN
from segedu.models.full_resolution import FullResolutionNet
from segedu.models.segnet import SegNet
from segedu.models.shortcut_variants import ShortcutNet
from segedu.models.tiny_classifier import TinyClassifier
from segedu.models.unet import UNet

__all__ = ["get_model", "list_models"]

# name -> (class, arguments the name fixes, is it a segmentation model)
_REGISTRY: dict[str, tuple[type[nn.Module], dict[str, object], bool]] = {
    "tiny_classifier": (TinyClassifier, {}, False),
    "full_resolution": (FullResolutionNet, {}, True),
    "fcn32s": (FCN, {"variant": "32s"}, True),
    "fcn16s": (FCN, {"variant": "16s"}, True),
    "fcn8s": (FCN, {"variant": "8s"}, True),
    "segnet": (SegNet, {}, True),
    "unet": (UNet, {}, True),
    "deeplabv3": (DeepLabV3, {}, True),
    "shortcut_net": (ShortcutNet, {}, True),
}


# Arguments checked before a model is built; the widths and counts must be ints >= 1.
_POSITIVE_SIZES = ("base_channels", "width", "depth", "fc_channels", "fc_kernel_size", "hidden_features", "image_size")
_CHECKED = ("in_channels", "num_classes", *_POSITIVE_SIZES)
_EXAMPLES = {"in_channels": "3", "num_classes": "4"}


def list_models(*, segmentation_only: bool = False) -> list[str]:
    """Names accepted by :func:`get_model`; ``segmentation_only`` drops the image classifier."""
    return [name for name, (_, _, segmentation) in _REGISTRY.items() if segmentation or not segmentation_only]


def get_model(name: str, **kwargs: object) -> nn.Module:
    """Build the model called ``name`` with constructor arguments ``kwargs``.

    Raises:
        TypeError: ``name`` is not a string.
        ValueError: unknown name, a missing required argument, an argument the constructor does not
            take or one the name fixes, or an impossible value (``num_classes`` and the widths must be
            ints >= 1, ``in_channels`` 1 or 3).

    Example:
        >>> import torch
        >>> get_model("fcn8s", in_channels=1, num_classes=3, base_channels=8)(torch.zeros(2, 1, 40, 50)).shape
        torch.Size([2, 3, 40, 50])
    """
    if not isinstance(name, str):
        raise TypeError(f"get_model expects a model name (str) such as 'unet'; got {type(name).__name__}")
    if name not in _REGISTRY:
        nearest = difflib.get_close_matches(name.lower().replace("-", "").replace("_", ""), _REGISTRY, n=1)
        hint = f" (did you mean {nearest[0]!r}?)" if nearest else ""
        raise ValueError(f"unknown model {name!r}{hint}; valid names: {', '.join(_REGISTRY)}")
    model_class, fixed, _ = _REGISTRY[name]
    parameters = inspect.signature(model_class).parameters
    accepted = [p for p in parameters if p not in fixed]
    unknown = [key for key in kwargs if key not in accepted]
    if unknown:
        fixes = any(key in fixed for key in unknown)
        why = f"{name!r} fixes {fixed}" if fixes else f"{model_class.__name__} has no such parameter"
        raise ValueError(f"get_model({name!r}) got unexpected argument(s) {unknown} ({why}); it accepts {accepted}")
    missing = [p for p in accepted if parameters[p].default is inspect.Parameter.empty and p not in kwargs]
    if missing:
        example = ", ".join(f"{p}={_EXAMPLES.get(p, '...')}" for p in missing)
        raise ValueError(f"get_model({name!r}) needs {' and '.join(missing)}; e.g. get_model({name!r}, {example})")
    arguments = {key: parameters[key].default for key in _CHECKED if key in parameters} | fixed | kwargs
    sizes = {key: arguments[key] for key in _POSITIVE_SIZES if key in arguments}
    check_model_arguments(
        model_class.__name__, in_channels=arguments["in_channels"], num_classes=arguments["num_classes"], **sizes
    )
    return model_class(**fixed, **kwargs)
