"""Aliasing of downsampling methods, measured: how much of a too-fine pattern survives as a false one.

Keeping every ``factor``-th pixel can only represent patterns whose period is at least
``2 * factor`` pixels (the *Nyquist* limit of the new grid). A finer pattern cannot be shown at the
new resolution, so the right result is flat grey; whatever pattern the output shows instead is an
*alias*: a false, coarser pattern that moves when the input is shifted.

- :func:`blur_downsample`: blur with a binomial kernel, then keep every ``factor``-th pixel (the
  anti-aliasing of "blur pooling", Zhang 2019, "Making Convolutional Networks Shift-Invariant
  Again"); :func:`binomial_kernel` is its blur;
- :func:`max_blur_pool`: max pooling made anti-aliased the same way (Zhang's "MaxBlurPool"): the max
  of every window at stride 1, then blur, then keep every ``factor``-th pixel;
- :func:`ideal_downsample`: the reference: remove every frequency above the new Nyquist limit with
  the Fourier transform, then keep every ``factor``-th pixel;
- :func:`stripes` and :func:`zone_plate`: test patterns (one frequency; all frequencies at once);
- :func:`alias_response`: for stripes of one frequency, the variation of a method's output over
  positions and over shifts of the stripes, relative to the input's. Above the Nyquist limit every
  bit of it is alias (the right answer is flat); below it, it is the contrast the method keeps.
  It works for any method, linear or not (max pooling is not linear). It pools the variation
  inside each output with the variation of the output's level from shift to shift, so a
  brightening that is the same for every shift is not counted, but one that depends on where the
  stripes sit (as max pooling's does) is.

Every image function takes and returns ``(B, C, H, W)`` tensors.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "alias_response",
    "binomial_kernel",
    "blur_downsample",
    "ideal_downsample",
    "max_blur_pool",
    "stripes",
    "zone_plate",
]


def _check_batch(x: Tensor) -> None:
    if not isinstance(x, Tensor) or x.dim() != 4 or not x.is_floating_point():
        found = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"x must be a 4-D floating-point tensor (B, C, H, W); got {found}")


def _check_factor(factor: int) -> None:
    if isinstance(factor, bool) or not isinstance(factor, int) or factor < 1:
        raise ValueError(f"factor must be an integer >= 1; got {factor!r}")


def binomial_kernel(taps: int) -> Tensor:
    """A 2-D blur kernel from binomial coefficients (a discrete Gaussian), summing to 1.

    Args:
        taps: Side of the kernel, >= 1 (``taps=3`` gives ``[1, 2, 1] / 4`` along each axis).

    Returns:
        The ``(taps, taps)`` kernel, the outer product of ``C(taps - 1, k) / 2**(taps - 1)``.

    Example:
        >>> binomial_kernel(3)[1].tolist()
        [0.125, 0.25, 0.125]
    """
    if isinstance(taps, bool) or not isinstance(taps, int) or taps < 1:
        raise ValueError(f"taps must be an integer >= 1; got {taps!r}")
    row = torch.tensor([math.comb(taps - 1, k) for k in range(taps)], dtype=torch.float64) / 2 ** (taps - 1)
    return (row[:, None] * row[None, :]).float()  # (taps, taps)


def blur_downsample(x: Tensor, factor: int, *, taps: int | None = None) -> Tensor:
    """Blur every channel with :func:`binomial_kernel`, then keep every ``factor``-th pixel.

    Args:
        x: Images.
        factor: Downsampling factor.
        taps: Side of the blur kernel; default ``2 * factor + 1``. Borders are reflected.

    Returns:
        The blurred image sampled at rows and columns ``0, factor, 2 * factor, ...``.

    Shape:
        ``(B, C, H, W) -> (B, C, ceil(H / factor), ceil(W / factor))``.
    """
    _check_batch(x)
    _check_factor(factor)
    taps = 2 * factor + 1 if taps is None else taps
    channels = x.shape[1]
    kernel = binomial_kernel(taps).to(x)[None, None].expand(channels, 1, taps, taps)  # (C, 1, k, k)
    before, after = (taps - 1) // 2, taps // 2
    padded = F.pad(x, (before, after, before, after), mode="reflect")  # (B, C, H + k - 1, W + k - 1)
    blurred = F.conv2d(padded, kernel, groups=channels)  # (B, C, H, W)
    return blurred[:, :, ::factor, ::factor]


def max_blur_pool(x: Tensor, factor: int = 2, *, taps: int = 3) -> Tensor:
    """Anti-aliased max pooling: max over ``factor x factor`` windows at stride 1, blur, then subsample.

    Max pooling with stride ``factor`` is two steps, a dense max and a subsampling; Zhang (2019,
    "Making Convolutional Networks Shift-Invariant Again") keeps the dense max and puts a
    :func:`binomial_kernel` blur before the subsampling (:func:`blur_downsample`).

    Args:
        x: Images or feature maps.
        factor: Pooling window and stride, at least 1.
        taps: Side of the binomial blur (3 gives ``[1, 2, 1] / 4`` along each axis).

    Returns:
        The pooled maps; for even ``H`` and ``W`` the same size as ``F.max_pool2d(x, factor)``.

    Shape:
        ``(B, C, H, W) -> (B, C, ceil((H - factor + 1) / factor), ceil((W - factor + 1) / factor))``.
    """
    _check_batch(x)
    _check_factor(factor)
    dense_max = F.max_pool2d(x, factor, stride=1)  # (B, C, H - factor + 1, W - factor + 1)
    return blur_downsample(dense_max, factor, taps=taps)


def ideal_downsample(x: Tensor, factor: int) -> Tensor:
    """The reference: keep only frequencies below the new Nyquist limit, then every ``factor``-th pixel.

    Frequencies of ``|f| < 1 / (2 * factor)`` cycles per pixel (along each axis) are kept exactly,
    all others removed, with the discrete Fourier transform (so the image is treated as periodic).

    Shape:
        ``(B, C, H, W) -> (B, C, ceil(H / factor), ceil(W / factor))``.
    """
    _check_batch(x)
    _check_factor(factor)
    height, width = x.shape[-2:]
    keep_rows = torch.fft.fftfreq(height).abs() < 0.5 / factor  # (H,)
    keep_columns = torch.fft.fftfreq(width).abs() < 0.5 / factor  # (W,)
    mask = (keep_rows[:, None] & keep_columns[None, :]).to(x.device)  # (H, W)
    low_pass = torch.fft.ifft2(torch.fft.fft2(x) * mask).real  # (B, C, H, W)
    return low_pass[:, :, ::factor, ::factor].to(x.dtype)


def stripes(size: int, frequency: float, *, phase: float = 0.0) -> Tensor:
    """Vertical stripes ``0.5 + 0.5 * cos(2 pi frequency column + phase)``, values in [0, 1].

    Args:
        size: Side of the square image.
        frequency: Cycles per pixel (1 / period); 0.5 is the finest pattern a pixel grid shows.
        phase: Shift of the stripes, in radians.

    Returns:
        A ``(1, 1, size, size)`` image.
    """
    columns = torch.arange(size, dtype=torch.float64)
    profile = 0.5 + 0.5 * torch.cos(2 * math.pi * frequency * columns + phase)  # (size,)
    return profile.expand(size, size)[None, None].float().clone()


def zone_plate(size: int = 128, *, scale: float = 256.0) -> Tensor:
    """Rings ``0.5 + 0.5 * cos(pi r**2 / scale)`` around the centre, finer and finer outwards.

    At the point ``(x, y)`` from the centre the rings change with ``x / scale`` cycles per pixel
    along a row and ``y / scale`` along a column, so every frequency up to ``size / (2 * scale)``
    (along the axes) appears once. A square grid limits each direction separately: after
    downsampling by ``factor`` the rings can be shown only where both ``|x|`` and ``|y|`` are below
    ``scale / (2 * factor)``, a square (the corners of that square hold diagonal rings finer than
    the limit along the radius, which the grid can still show).

    Returns:
        A ``(1, 1, size, size)`` image, centred at ``(size / 2, size / 2)``.
    """
    coordinates = torch.arange(size, dtype=torch.float32) - size / 2
    squared_radius = coordinates[:, None] ** 2 + coordinates[None, :] ** 2  # (size, size)
    return (0.5 + 0.5 * torch.cos(math.pi * squared_radius / scale))[None, None]


def alias_response(
    downsample: Callable[[Tensor], Tensor],
    frequency: float,
    *,
    size: int = 96,
    phases: int = 8,
    margin: int = 4,
) -> float:
    """How much a downsampling method's output varies for stripes of one frequency, relative to the input.

    The stripes are drawn at ``phases`` evenly spaced shifts; the output pixels at least ``margin``
    pixels from the border, over all shifts, are pooled and their standard deviation is divided by
    that of the input stripes (``0.5 / sqrt(2)``). A method that keeps a pattern unchanged scores 1;
    one whose output is the same wherever the pattern sits scores 0. For a frequency above the
    method's Nyquist limit every bit of the score is alias.

    Args:
        downsample: Maps ``(1, 1, size, size)`` to a smaller ``(1, 1, h, w)`` image, e.g.
            ``lambda x: F.max_pool2d(x, 4)``.
        frequency: Of the stripes, in cycles per input pixel.
        size: Side of the stripe images.
        phases: Number of shifts (at least 2).
        margin: Output pixels left out at each border.

    Returns:
        The relative variation, >= 0.
    """
    if phases < 2:
        raise ValueError(f"phases must be >= 2 to see a pattern move; got {phases}")
    outputs = []
    for index in range(phases):
        picture = stripes(size, frequency, phase=2 * math.pi * index / phases)  # (1, 1, size, size)
        output = downsample(picture)  # (1, 1, h, w)
        inner = output[0, 0, margin : output.shape[-2] - margin, margin : output.shape[-1] - margin]
        if inner.numel() == 0:
            raise ValueError(f"margin={margin} leaves no output pixel of a {tuple(output.shape)} output")
        outputs.append(inner.double())
    variation = torch.stack(outputs).std(unbiased=False).item()
    return variation / (0.5 / math.sqrt(2))
