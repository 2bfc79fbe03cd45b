"""The U-Net paper's overlap-tile strategy: segment a large image with a valid-padding U-Net.

With valid convolutions the output is smaller than the input by the same margin on every side
(92 pixels for the paper's network: 572 -> 388). So tile the *output*: for each output tile, cut
the input window that adds that margin of context around it, run the network and put the result
in place. Where the window leaves the image, the context is mirrored (reflect padding), and
neighbouring windows overlap by twice the margin. When the tiles start at multiples of
16 (so every max-pool sees the same 2x2 grid), the stitched result equals one pass over
the whole mirror-padded image: tiling changes the memory needed, not the answer.

Example:
    >>> import torch
    >>> from segedu.models import UNet
    >>> model = UNet(3, 4, base_channels=2, padding="valid").eval()
    >>> tile_margin(model, 36)
    92
    >>> overlap_tile_predict(model, torch.rand(3, 100, 100), 36).shape
    torch.Size([1, 4, 100, 100])
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from segedu.analysis.unet_sizes import valid_input_size, valid_output_size
from segedu.models.unet import UNet

__all__ = ["mirror_pad_predict", "overlap_tile_predict", "tile_grid", "tile_margin"]


def _check_valid(model: UNet) -> None:
    if not isinstance(model, UNet) or model.padding != "valid":
        raise ValueError("overlap-tile needs a segedu.models.UNet built with padding='valid'")


def tile_margin(model: UNet, tile_size: int) -> int:
    """Context (pixels on each side) the network needs around an output tile of ``tile_size``.

    Raises:
        ValueError: If ``tile_size`` is not an output side the network can produce exactly.
    """
    _check_valid(model)
    input_size = valid_input_size(tile_size, model.depth)
    if valid_output_size(input_size, model.depth) != tile_size:
        lower = valid_output_size(valid_input_size(max(1, tile_size - 2**model.depth), model.depth), model.depth)
        upper = valid_output_size(input_size, model.depth)
        raise ValueError(
            f"tile_size {tile_size} is not an output size of this valid U-Net (16 * k + 4 for k >= 0); "
            f"the nearest are {sorted({lower, upper})}"
        )
    return (input_size - tile_size) // 2


def tile_grid(height: int, width: int, tile_size: int) -> list[tuple[int, int]]:
    """Top-left corners of square output tiles covering ``height x width``, row by row.

    Tiles start at multiples of ``tile_size``; when the image is not a multiple, the last row and
    column are moved inward to end at the border (overlapping their neighbours).
    """
    if tile_size < 1 or tile_size > min(height, width):
        raise ValueError(f"tile_size must be in [1, min(H, W)] = [1, {min(height, width)}]; got {tile_size}")

    def starts(length: int) -> list[int]:
        corners = list(range(0, length - tile_size + 1, tile_size))
        return corners if corners[-1] + tile_size == length else [*corners, length - tile_size]

    return [(top, left) for top in starts(height) for left in starts(width)]


def _mirror_pad(batch: Tensor, margin: int) -> Tensor:
    height, width = batch.shape[-2:]
    if margin >= min(height, width):
        raise ValueError(
            f"mirror padding by {margin} pixels needs an image larger than {margin}x{margin}; got {height}x{width}"
        )
    return F.pad(batch, (margin, margin, margin, margin), mode="reflect")  # (B, C, H + 2m, W + 2m)


@torch.no_grad()
def overlap_tile_predict(model: UNet, image: Tensor, tile_size: int) -> Tensor:
    """Logits for the whole image, computed one output tile at a time with mirrored context.

    Args:
        model: A valid-padding U-Net (its train/eval mode is restored; use eval mode).
        image: One image or a batch.
        tile_size: Side of each output tile; must be an output size of ``model``.

    Returns:
        Logits for every pixel of the image.

    Shape:
        image ``(C, H, W)`` or ``(B, C, H, W)`` -> ``(B, K, H, W)``.
    """
    margin = tile_margin(model, tile_size)
    batch = image if image.dim() == 4 else image.unsqueeze(0)  # (B, C, H, W)
    height, width = batch.shape[-2:]
    corners = tile_grid(height, width, tile_size)
    padded = _mirror_pad(batch, margin)  # (B, C, H + 2m, W + 2m); image pixel (y, x) is at (y + m, x + m)
    window = tile_size + 2 * margin
    logits = batch.new_zeros(batch.shape[0], model.num_classes, height, width)  # (B, K, H, W)
    was_training = model.training
    model.eval()
    try:
        for top, left in corners:
            tile_input = padded[..., top : top + window, left : left + window]  # (B, C, t + 2m, t + 2m)
            logits[..., top : top + tile_size, left : left + tile_size] = model(tile_input)  # (B, K, t, t)
    finally:
        model.train(was_training)
    return logits


@torch.no_grad()
def mirror_pad_predict(model: UNet, image: Tensor) -> Tensor:
    """Logits from one pass over the whole image, mirror-padded by the network's margin.

    Needs ``H`` and ``W`` to be output sizes of ``model`` (``16 * k + 4``, e.g. 36 or 388).

    Shape:
        image ``(C, H, W)`` or ``(B, C, H, W)`` -> ``(B, K, H, W)``.
    """
    batch = image if image.dim() == 4 else image.unsqueeze(0)  # (B, C, H, W)
    height, width = batch.shape[-2:]
    margin = tile_margin(model, height)
    if tile_margin(model, width) != margin:
        raise ValueError(f"height and width need the same margin; got {height}x{width}")
    was_training = model.training
    model.eval()
    try:
        return model(_mirror_pad(batch, margin))  # (B, K, H, W)
    finally:
        model.train(was_training)
