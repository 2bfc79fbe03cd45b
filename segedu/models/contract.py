"""The contract every segmentation model keeps, checked at its edge with messages that say the fix.

Every segmentation model in :mod:`segedu.models` maps a float batch ``(B, C_in, H, W)`` to logits
``(B, num_classes, H, W)`` for any ``H, W`` at or above its documented minimum. Constructors call
:func:`check_model_arguments` first; every ``forward`` calls :func:`check_input` first, so a wrong
shape, dtype or channel count fails with the rule, not with a message from inside torch.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["check_input", "check_model_arguments", "parameter_dtype"]


def check_model_arguments(model_name: str, *, in_channels: int, num_classes: int, **sizes: int) -> None:
    """Raise ``ValueError`` at construction unless the model's arguments can build a working model.

    Every constructor calls it first, so ``UNet(3, 0)`` fails at once with the rule, not in the
    first forward pass with a message from inside torch.

    Args:
        model_name: named in the error messages.
        in_channels: must be 1 (grey) or 3 (RGB).
        num_classes: must be an int >= 1 (one output channel per class).
        sizes: further widths and counts that must be ints >= 1, e.g. ``base_channels=16, depth=4``.

    Example:
        >>> check_model_arguments("UNet", in_channels=3, num_classes=0)
        Traceback (most recent call last):
        ValueError: UNet: num_classes must be an int >= 1 (one output channel per class); got 0
    """
    for name, value in (("num_classes", num_classes), *sizes.items()):
        rule = " (one output channel per class)" if name == "num_classes" else ""
        if not _is_int(value) or value < 1:
            raise ValueError(f"{model_name}: {name} must be an int >= 1{rule}; got {value!r}")
    if not _is_int(in_channels) or in_channels not in (1, 3):
        raise ValueError(
            f"{model_name}: in_channels must be 1 (grey images) or 3 (RGB images); got {in_channels!r}. "
            "Use the dataset's channels, e.g. in_channels=dataset.channels"
        )


def _is_int(value: object) -> bool:
    """True for Python and numpy integers, False for bools, floats and everything else."""
    return not isinstance(value, bool) and hasattr(value, "__index__") and not isinstance(value, Tensor)


def parameter_dtype(model: nn.Module) -> torch.dtype:
    """The dtype of the model's first floating-point parameter: float32 unless it was converted.

    Example:
        >>> parameter_dtype(nn.Conv2d(1, 2, 3).double())
        torch.float64
    """
    for parameter in model.parameters():
        if parameter.is_floating_point():
            return parameter.dtype
    return torch.float32


def check_input(
    x: Tensor,
    *,
    in_channels: int,
    min_size: int,
    model_name: str,
    size_rule: str = "",
    weight_dtype: torch.dtype = torch.float32,
) -> None:
    """Raise a helpful error unless ``x`` is a finite float batch ``(B, in_channels, H, W)`` with H, W >= min_size.

    The input's dtype must equal the weights' (float32 unless the model was converted with
    ``model.double()`` or ``model.half()``), so float64 (numpy's default) and float16 inputs are
    refused with the fix, ``x.float()``, rather than converted silently: a silent conversion would
    hide a wasteful data pipeline, and torch's own message ("expected scalar type Double but found
    Float") does not say which tensor is wrong. (The training loop converts images for you.)

    Args:
        x: the model's input.
        in_channels: channels the model was built for.
        min_size: smallest allowed height and width.
        model_name: named in the error messages.
        size_rule: why ``min_size`` is the minimum, e.g. "it halves the resolution 5 times".
        weight_dtype: the dtype of the model's weights; every model passes ``parameter_dtype(self)``.

    Raises:
        TypeError: ``x`` is not a tensor.
        ValueError: wrong number of dimensions or channels, a dtype other than the weights', too
            small an image, or NaN / infinite values.
    """
    if not isinstance(x, Tensor):
        hint = "; convert it with torch.as_tensor(x, dtype=torch.float32)" if hasattr(x, "__array__") else ""
        raise TypeError(f"{model_name} expects a torch.Tensor; got {type(x).__name__}{hint}")
    plural = "s" if in_channels != 1 else ""
    expected = (
        f"expected input of shape (B, {in_channels}, H, W) — {in_channels} channel{plural} because the model "
        f"was built with in_channels={in_channels} — got {tuple(x.shape)}"
    )
    if x.dim() != 4:
        hint = "; add a batch dimension with x.unsqueeze(0)" if x.dim() == 3 else ""
        raise ValueError(expected + hint)
    if x.shape[1] != in_channels:
        raise ValueError(expected)
    if not x.is_floating_point():
        fix = "x.float() / 255" if x.dtype not in (torch.bool, torch.complex64, torch.complex128) else "x.float()"
        raise ValueError(f"expected a floating-point input; got dtype {x.dtype}. Convert images with {fix}")
    if x.dtype != weight_dtype:
        fix = "x.float()" if weight_dtype == torch.float32 else f"x.to({weight_dtype})"
        raise ValueError(
            f"{model_name} has {weight_dtype} weights, so its input must be {weight_dtype} too; got dtype {x.dtype}. "
            f"Convert the input with {fix}"
        )
    height, width = x.shape[-2:]
    if min(height, width) < min_size:
        because = f" because {size_rule}" if size_rule else ""
        raise ValueError(f"{model_name} needs H and W >= {min_size}{because}; got {height}x{width}")
    _check_finite(x, model_name)


def _check_finite(x: Tensor, model_name: str) -> None:
    """Raise ``ValueError`` naming how many NaN and infinite values ``x`` holds, if any."""
    if x.is_meta or bool(torch.isfinite(x).all()):  # meta tensors (shape tracing) hold no values
        return
    not_a_number = int(torch.isnan(x).sum())
    infinite = int(torch.isinf(x).sum())
    raise ValueError(
        f"{model_name} got an input with {not_a_number} NaN and {infinite} infinite values; every output would be "
        "NaN. Find where they come from (a division by zero in normalisation?) or replace them with "
        "torch.nan_to_num(x)"
    )
