"""Build models by name: ``get_model("unet", in_channels=3, num_classes=5)``.

Names: tiny_classifier, full_resolution, fcn32s, fcn16s, fcn8s, segnet, unet. The keyword
arguments go to the model's constructor; ``fcn32s`` / ``fcn16s`` / ``fcn8s`` are :class:`FCN` with
``variant`` fixed.
"""

from __future__ import annotations

import inspect

from torch import nn

from segedu.models.fcn import FCN
from segedu.models.full_resolution import FullResolutionNet
from segedu.models.segnet import SegNet
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
}


def list_models(*, segmentation_only: bool = False) -> list[str]:
    """Names accepted by :func:`get_model`; ``segmentation_only`` drops the image classifier."""
    return [name for name, (_, _, segmentation) in _REGISTRY.items() if segmentation or not segmentation_only]


def get_model(name: str, **kwargs: object) -> nn.Module:
    """Build the model called ``name`` with constructor arguments ``kwargs``.

    Raises:
        ValueError: unknown name, an argument the constructor does not take, or one the name fixes.

    Example:
        >>> get_model("fcn8s", in_channels=1, num_classes=3, base_channels=8)(torch.zeros(2, 1, 40, 50)).shape
        torch.Size([2, 3, 40, 50])
    """
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; valid names: {', '.join(_REGISTRY)}")
    model_class, fixed, _ = _REGISTRY[name]
    accepted = [p for p in inspect.signature(model_class).parameters if p not in fixed]
    unknown = [key for key in kwargs if key not in accepted]
    if unknown:
        fixes = any(key in fixed for key in unknown)
        why = f"{name!r} fixes {fixed}" if fixes else f"{model_class.__name__} has no such parameter"
        raise ValueError(f"get_model({name!r}) got unexpected argument(s) {unknown} ({why}); it accepts {accepted}")
    return model_class(**fixed, **kwargs)
