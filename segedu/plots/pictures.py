"""Turn images into pictures: the one place where tensors become displayable arrays and PNG bytes.

PyTorch stores an image channels first, ``(C, H, W)``; matplotlib and PIL want it channels
last, ``(H, W, 3)``, as floats in [0, 1] or bytes in [0, 255]. Every figure and widget of the
course converts through these functions:

- :func:`as_numpy`: a tensor (any device) or an array -> a numpy array;
- :func:`channels_last`: ``(C, H, W)`` -> ``(H, W, C)``, values untouched;
- :func:`to_picture`: any image -> ``(H, W, 3)`` float picture in [0, 1];
- :func:`to_uint8`: float picture in [0, 1] -> uint8 in [0, 255];
- :func:`png_bytes`: picture -> PNG file content, enlarged by pixel repetition.

Example:
    >>> import torch
    >>> picture = to_picture(torch.rand(1, 4, 6))  # a grey image becomes RGB
    >>> picture.shape
    (4, 6, 3)
    >>> png_bytes(picture, scale=2)[:4]
    b'\\x89PNG'
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import torch

__all__ = ["as_numpy", "channels_last", "png_bytes", "to_picture", "to_uint8"]


def as_numpy(value: Any, name: str = "image") -> np.ndarray:
    """A tensor (detached, copied to the CPU) or a numpy array, as a numpy array.

    Args:
        value: A ``torch.Tensor`` or ``numpy.ndarray``.
        name: What to call ``value`` in the error message.

    Returns:
        The array; for a CPU tensor it shares the tensor's memory.
    """
    if isinstance(value, torch.Tensor):
        tensor = value.detach().cpu()
        if tensor.is_floating_point() and tensor.dtype not in (torch.float32, torch.float64):
            tensor = tensor.float()  # numpy has no bfloat16
        return tensor.numpy()
    if isinstance(value, np.ndarray):
        return value
    raise ValueError(f"{name} must be a torch.Tensor or numpy.ndarray; got {type(value).__name__}")


def channels_last(image: Any) -> np.ndarray:
    """Move the channel axis of a PyTorch-layout image to the end; values and dtype are unchanged.

    Args:
        image: A tensor or array laid out channels first; an ``(H, W)`` image has one channel.

    Returns:
        The numpy array.

    Shape:
        ``(C, H, W)`` or ``(H, W)`` -> ``(H, W, C)`` (``C = 1`` for ``(H, W)``).
    """
    array = as_numpy(image) if isinstance(image, (torch.Tensor, np.ndarray)) else np.asarray(image)
    if array.ndim == 2:
        return array[:, :, None]  # (H, W, 1)
    if array.ndim != 3:
        raise ValueError(f"image must have shape (C, H, W) or (H, W); got shape {tuple(array.shape)}")
    return np.transpose(array, (1, 2, 0))  # (H, W, C)


def to_picture(image: torch.Tensor | np.ndarray, *, clip: bool = False) -> np.ndarray:
    """A displayable ``(H, W, 3)`` float picture in [0, 1] from a tensor or an array.

    Tensors follow PyTorch's layout, channels first; arrays follow matplotlib's and PIL's,
    channels last. One channel (grey) is repeated into three. uint8 values are divided by 255;
    float values must already be in [0, 1], or are clamped into it with ``clip=True``.

    Args:
        image: A ``(C, H, W)`` or ``(H, W)`` tensor, or an ``(H, W)`` / ``(H, W, C)`` array,
            with ``C`` = 1 or 3; float in [0, 1] or uint8.
        clip: Clamp float values into [0, 1] instead of refusing values outside it.

    Returns:
        A new array: float32 for float32 input (same values), float64 otherwise.

    Shape:
        ``(C, H, W)`` tensor or ``(H, W, C)`` array -> ``(H, W, 3)``.
    """
    if isinstance(image, torch.Tensor):
        if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[0] not in (1, 3)):
            raise ValueError(
                f"image tensor must have shape (C, H, W) with C = 1 or 3, or (H, W); got {tuple(image.shape)}"
            )
        pixels = channels_last(image)  # (H, W, C)
    else:
        pixels = as_numpy(image)
        if pixels.ndim == 2:
            pixels = pixels[:, :, None]  # (H, W, 1)
        if pixels.ndim != 3 or pixels.shape[2] not in (1, 3):
            raise ValueError(
                f"image array must have shape (H, W), (H, W, 1) or (H, W, 3); got {pixels.shape} "
                f"(a (C, H, W) array: pass it as a tensor, or use channels_last first)"
            )
    if pixels.dtype == np.uint8:
        pixels = pixels / 255.0  # float64
    elif pixels.dtype not in (np.float32, np.float64):
        pixels = pixels.astype(np.float64)
    if clip:
        pixels = np.clip(pixels, 0.0, 1.0)
    elif pixels.size and (pixels.min() < 0.0 or pixels.max() > 1.0):
        raise ValueError(
            f"float image values must be in [0, 1]; found [{pixels.min():.3g}, {pixels.max():.3g}] "
            f"(divide by 255, undo the normalization, or pass clip=True)"
        )
    return np.repeat(pixels, 3 // pixels.shape[2], axis=2)  # a new array; grey -> RGB


def to_uint8(picture: np.ndarray) -> np.ndarray:
    """Float values in [0, 1] -> uint8 in [0, 255]: clipped, scaled by 255 and rounded; uint8 is kept.

    The arithmetic happens in the picture's own float type, so float32 pictures give the same
    bytes everywhere in the course.

    Shape:
        Any; the shape is unchanged.
    """
    array = np.asarray(picture)
    if array.dtype == np.uint8:
        return array
    return (np.clip(array, 0.0, 1.0) * 255).round().astype(np.uint8)


def png_bytes(array: np.ndarray, *, scale: int = 4) -> bytes:
    """Encode a picture as PNG bytes, enlarged by pixel repetition (no smoothing).

    Args:
        array: ``(H, W)`` grey or ``(H, W, 3)`` colour picture (``(H, W, 1)`` counts as grey),
            uint8 or float in [0, 1] (see :func:`to_uint8`).
        scale: Each pixel becomes a ``scale x scale`` block so small images stay visible.

    Returns:
        The PNG file content.

    Shape:
        ``(H, W)`` or ``(H, W, 3)`` -> a PNG of ``scale * H`` rows and ``scale * W`` columns.
    """
    from PIL import Image

    array = np.asarray(array)
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (1, 3)):
        raise ValueError(
            f"array must be an (H, W) or (H, W, 3) picture, channels last; got shape {array.shape} "
            f"(convert a (C, H, W) image with to_picture first)"
        )
    if isinstance(scale, bool) or not isinstance(scale, (int, np.integer)) or scale < 1:
        raise ValueError(f"scale must be a whole number >= 1 (pixels per image pixel); got {scale!r}")
    array = to_uint8(array)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if scale > 1:
        array = array.repeat(scale, axis=0).repeat(scale, axis=1)
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()
