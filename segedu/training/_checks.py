"""Input checks shared by the training loop and evaluation (private).

Each check raises ``ValueError`` naming the bad value and the fix, before PyTorch meets it.
"""

from __future__ import annotations

import itertools
from typing import Any

import torch
from torch import Tensor, nn

__all__: list[str] = []


def check_positive(name: str, value: float) -> None:
    """``value`` must be a finite number > 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
        raise ValueError(f"{name} must be a positive number; got {value!r}")


def check_positive_int(name: str, value: int) -> None:
    """``value`` must be an int >= 1 (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int; got {value!r}")


def resolve_num_classes(num_classes: int | None, *datasets: Any) -> int:
    """``num_classes`` if given, else the datasets' ``.num_classes``; they must agree."""
    found = set()
    for data in datasets:
        while not hasattr(data, "num_classes") and hasattr(data, "dataset"):
            data = data.dataset  # look inside wrappers such as torch.utils.data.Subset
        if hasattr(data, "num_classes"):
            found.add(data.num_classes)
    if num_classes is None:
        if not found:
            raise ValueError(
                "num_classes is needed: the dataset has no .num_classes attribute, so pass num_classes=..."
            )
        if len(found) > 1:
            raise ValueError(f"the datasets disagree on num_classes ({sorted(found)}); pass num_classes=...")
        num_classes = found.pop()
    elif found and found != {num_classes}:
        raise ValueError(f"num_classes={num_classes} but the dataset says num_classes={sorted(found)[0]}")
    check_positive_int("num_classes", num_classes)
    return num_classes


def model_device(model: nn.Module) -> torch.device:
    """The device of the model's first parameter or buffer (CPU for a model with neither)."""
    first = next(itertools.chain(model.parameters(), model.buffers()), None)
    return torch.device("cpu") if first is None else first.device


def model_float_dtype(model: nn.Module) -> torch.dtype:
    """The dtype of the model's first floating-point parameter (float32 for a model with none)."""
    for parameter in model.parameters():
        if parameter.is_floating_point():
            return parameter.dtype
    return torch.float32


def images_for_model(images: Any, model: nn.Module, *, name: str = "images") -> Tensor:
    """Check images and move them to the model's device and float dtype.

    float64 or float16 images are converted to the model's dtype (usually float32): that is
    what the caller meant. Integer images are refused, because their scale is ambiguous.
    """
    if not isinstance(images, Tensor):
        raise ValueError(f"{name} must be a torch.Tensor; got {type(images).__name__} (use torch.as_tensor)")
    if not images.is_floating_point():
        raise ValueError(
            f"{name} must be float tensors in [0, 1]; got dtype {images.dtype} (use images.float() / 255)"
        )
    return images.to(device=model_device(model), dtype=model_float_dtype(model))


def masks_for_model(masks: Any, device: torch.device) -> Tensor:
    """Check masks (integer class indices) and move them to ``device`` as int64."""
    if not isinstance(masks, Tensor) or masks.is_floating_point() or masks.dtype == torch.bool:
        what = masks.dtype if isinstance(masks, Tensor) else type(masks).__name__
        raise ValueError(f"masks must be integer tensors of class indices; got {what} (use masks.long())")
    return masks.to(device, dtype=torch.long)


def check_logits(logits: Any, masks: Tensor, num_classes: int) -> None:
    """The model's output must be logits ``(B, num_classes, H, W)`` matching the masks."""
    if isinstance(logits, dict):
        raise ValueError(
            f"the model returned a dict with keys {list(logits)}; segedu expects the logits tensor "
            "itself (for torchvision's segmentation models, wrap them to return model(x)['out'])"
        )
    if not isinstance(logits, Tensor) or logits.ndim != 4:
        what = tuple(logits.shape) if isinstance(logits, Tensor) else type(logits).__name__
        raise ValueError(f"the model must return logits of shape (B, K, H, W); got {what}")
    if logits.shape[1] != num_classes:
        raise ValueError(
            f"the model outputs {logits.shape[1]} channels but num_classes={num_classes}; "
            f"build the model with num_classes={num_classes}"
        )
    if logits.shape[-2:] != masks.shape[-2:]:
        raise ValueError(
            f"the model's output is {tuple(logits.shape[-2:])} pixels but the masks are "
            f"{tuple(masks.shape[-2:])}; upsample the logits to the input size"
        )
