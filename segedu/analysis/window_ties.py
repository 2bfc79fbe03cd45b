"""Where max-pooling's winners sit inside shapes: tied windows, the top-left pixel, and noise.

A 2x2 max-pool keeps, for every window, the position of its maximum; SegNet-style max-unpooling puts the
decoder's value back there. Two things decide that position inside a shape, away from any boundary:

- **ties**: after a ReLU a window is often all 0, and ``MaxPool2d`` then reports the first pixel in scan
  order, the top-left one, exactly where a fixed top-left unpooling (``"fixed_unpool"``) puts its value;
- **small differences**: in an untied window the winner may lead by little, so a small change of the input
  moves it.

:func:`window_ties` measures both for one feature map; :func:`interior_windows` picks the windows that lie
wholly outside the boundary band; :func:`encoder_window_ties` runs a
:class:`segedu.models.shortcut_variants.ShortcutNet`'s encoder and measures every level.

Example:
    >>> x = torch.tensor([[[[0.0, 0.0], [0.0, 0.0]]], [[[0.1, 0.5], [0.2, 0.3]]]])  # (2, 1, 2, 2)
    >>> ties = window_ties(x, torch.ones(2, 1, 1, dtype=torch.bool), noise=0.0)
    >>> ties.windows, ties.tied, ties.tied_top_left, ties.untied_top_left
    (2, 0.5, 1.0, 0.0)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from segedu.models.shortcut_variants import ShortcutNet

__all__ = ["WindowTies", "encoder_window_ties", "interior_windows", "window_ties"]


@dataclass(frozen=True)
class WindowTies:
    """How the 2x2 windows of one feature map choose their winner (shares of the windows counted).

    Attributes:
        windows: Windows counted (every channel of every kept window position).
        tied: Share whose maximum is held by two or more pixels.
        tied_top_left: Share of the tied windows whose winner, as ``MaxPool2d`` reports it, is the top-left pixel.
        untied_top_left: Share of the untied windows whose winner is the top-left pixel (1/4 if it were random).
        changed: Share of the untied windows whose winner moves when Gaussian noise of ``noise`` times the
            map's standard deviation is added to the map.
        noise: That noise level.
    """

    windows: int
    tied: float
    tied_top_left: float
    untied_top_left: float
    changed: float
    noise: float


def _winner_corner(x: Tensor) -> Tensor:
    """Which pixel of each 2x2 window ``MaxPool2d`` reports: 0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right.

    Shape:
        - x: ``(B, C, H, W)``, H and W even.
        - output: ``(B, C, H/2, W/2)`` int64.
    """
    _, indices = F.max_pool2d(x, 2, return_indices=True)  # (B, C, H/2, W/2): flat row * W + column
    width = x.shape[-1]
    return 2 * ((indices // width) % 2) + (indices % width) % 2


def window_ties(feature_map: Tensor, keep: Tensor, *, noise: float = 0.01, seed: int = 0) -> WindowTies:
    """Measure ties, top-left winners and the winners' sensitivity to noise in the kept 2x2 windows.

    Args:
        feature_map: The map before pooling, ``(B, C, H, W)`` with H and W even.
        keep: ``(B, H/2, W/2)`` bool: the window positions to count (for example :func:`interior_windows`);
            every channel of a kept position is counted.
        noise: Standard deviation of the added noise, as a fraction of ``feature_map``'s standard deviation.
        seed: Seed of the noise (a private generator; the global random stream is left alone).

    Returns:
        A :class:`WindowTies`. Shares over an empty set are NaN.

    Raises:
        ValueError: If the shapes do not fit or no window is kept.
    """
    if feature_map.ndim != 4 or feature_map.shape[-1] % 2 or feature_map.shape[-2] % 2:
        raise ValueError(f"feature_map must be (B, C, H, W) with H and W even; got {tuple(feature_map.shape)}")
    batch, channels, height, width = feature_map.shape
    if tuple(keep.shape) != (batch, height // 2, width // 2):
        raise ValueError(f"keep must be (B, H/2, W/2) = {(batch, height // 2, width // 2)}; got {tuple(keep.shape)}")
    kept = keep.bool()[:, None].expand(batch, channels, height // 2, width // 2)  # (B, C, H/2, W/2)
    if not kept.any():
        raise ValueError("keep selects no window")
    windows = F.unfold(feature_map.reshape(batch * channels, 1, height, width), 2, stride=2)  # (B*C, 4, h*w)
    windows = windows.reshape(batch, channels, 4, height // 2, width // 2)  # pixel order: TL, TR, BL, BR
    top_two = windows.topk(2, dim=2).values  # (B, C, 2, H/2, W/2)
    tied = top_two[:, :, 0] == top_two[:, :, 1]  # (B, C, H/2, W/2)
    corner = _winner_corner(feature_map)  # (B, C, H/2, W/2)
    generator = torch.Generator().manual_seed(seed)
    shaken = feature_map + noise * feature_map.std() * torch.randn(feature_map.shape, generator=generator)
    moved = _winner_corner(shaken) != corner  # (B, C, H/2, W/2)

    def share(condition: Tensor, among: Tensor) -> float:
        count = int(among.sum())
        return float((condition & among).sum()) / count if count else float("nan")

    untied = kept & ~tied
    return WindowTies(
        windows=int(kept.sum()),
        tied=share(tied, kept),
        tied_top_left=share(corner == 0, kept & tied),
        untied_top_left=share(corner == 0, untied),
        changed=share(moved, untied),
        noise=noise,
    )


def interior_windows(band: Tensor, scale: int) -> Tensor:
    """The 2x2 windows of a map at ``1/scale`` of the image's resolution that hold no band pixel.

    Args:
        band: ``(B, H, W)`` bool, the boundary band at full resolution.
        scale: The map's downsampling factor (1 for the first encoder level, 2 for the second ...).

    Returns:
        ``(B, H / (2 scale), W / (2 scale))`` bool: True where none of the window's image pixels is in the band.
    """
    if band.ndim != 3:
        raise ValueError(f"band must be (B, H, W); got {tuple(band.shape)}")
    touched = F.max_pool2d(band[:, None].float(), 2 * scale)  # (B, 1, H/(2s), W/(2s)): 1 if any band pixel
    return touched[:, 0] == 0


def encoder_window_ties(model: ShortcutNet, images: Tensor, band: Tensor, *, noise: float = 0.01,
                        seed: int = 0) -> dict[str, WindowTies]:
    """Run a ShortcutNet's encoder (eval mode, no gradients) and measure each level's interior windows.

    Args:
        model: A :class:`ShortcutNet`; its weights are used as they are (trained or freshly built).
        images: ``(B, C_in, H, W)`` with H and W multiples of ``2**model.depth``.
        band: ``(B, H, W)`` bool boundary band of those images.
        noise: See :func:`window_ties`.
        seed: See :func:`window_ties`.

    Returns:
        Encoder level name (``"level1"`` ...) -> :class:`WindowTies` of its map before pooling.
    """
    if images.shape[-1] % 2**model.depth or images.shape[-2] % 2**model.depth:
        raise ValueError(f"images' H and W must be multiples of 2**depth = {2**model.depth}; got "
                         f"{tuple(images.shape[-2:])}")
    was_training = model.training
    model.eval()
    ties = {}
    try:
        with torch.no_grad():
            x = images
            for index, (name, level) in enumerate(model.encoder.items()):
                skip, x, _ = level(x)  # skip (B, c_i, H/2**i', W/2**i'); x the pooled map
                ties[name] = window_ties(skip, interior_windows(band, 2**index), noise=noise, seed=seed)
    finally:
        model.train(was_training)
    return ties
