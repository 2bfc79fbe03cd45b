"""Receptive fields layer by layer: the formula, and a measurement with gradients to check it.

The *receptive field* of a unit is the window of input pixels it can depend on. Walking through
a chain of convolutions and poolings, two numbers change at every layer:

- ``jump``: how many input pixels apart two neighbouring positions of the layer's output are;
  it is multiplied by the stride: ``jump_out = jump_in * stride``;
- ``size``: the side of the window; a ``k x k`` kernel looks at ``k`` neighbouring positions of
  its input, which are ``jump_in`` input pixels apart, so ``size_out = size_in + (k - 1) * jump_in``
  (a dilated kernel spans ``dilation * (k - 1) + 1`` positions instead of ``k``).

:func:`receptive_field_table` applies the formula to the layers of a model;
:func:`measured_receptive_field` measures the window with autograd: the input pixels that get a
nonzero gradient from one output unit. A max-pool passes the gradient to one pixel of each window
only, so a single image can show a smaller window than the formula; the union over a batch of
random images shows all of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

__all__ = ["ReceptiveFieldRow", "measured_receptive_field", "receptive_field_table"]

_SPATIAL_LAYERS = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)


@dataclass(frozen=True)
class ReceptiveFieldRow:
    """One layer of :func:`receptive_field_table`.

    Attributes:
        name: The layer's name in the model, e.g. ``"stage2.conv1.conv"``.
        kind: ``"Conv2d"``, ``"MaxPool2d"`` or ``"AvgPool2d"``.
        kernel_size: Side of the kernel (square kernels only).
        stride: Step of the kernel.
        dilation: Spacing between kernel taps (1 for poolings and ordinary convolutions).
        jump: Distance, in input pixels, between neighbouring positions of this layer's output.
        size: Side of the receptive field of one output position, in input pixels.
    """

    name: str
    kind: str
    kernel_size: int
    stride: int
    dilation: int
    jump: int
    size: int


def _square(value: int | tuple[int, ...], what: str, name: str) -> int:
    """The one side of a square kernel/stride/dilation; refuse rectangular ones."""
    values = (value,) if isinstance(value, int) else tuple(value)
    if len(set(values)) != 1:
        raise ValueError(f"layer {name!r} has a non-square {what} {values}; only square ones are supported")
    return int(values[0])


def receptive_field_table(model: nn.Module) -> list[ReceptiveFieldRow]:
    """Receptive field after every convolution and pooling of ``model``, by the formula.

    The layers are taken in the order they were registered (``model.named_modules()``), which is
    the order they are applied in for chain-like models such as VGG stages; a model that applies
    its layers in another order, or in parallel branches, needs its layers listed by hand.
    Layers that mix no neighbouring positions (ReLU, BatchNorm) leave the window unchanged.

    Args:
        model: A module containing ``nn.Conv2d``, ``nn.MaxPool2d`` or ``nn.AvgPool2d`` layers.

    Returns:
        One row per such layer, input side first.

    Example:
        >>> stack = nn.Sequential(nn.Conv2d(1, 1, 3, padding=1), nn.MaxPool2d(2), nn.Conv2d(1, 1, 3, padding=1))
        >>> [row.size for row in receptive_field_table(stack)]
        [3, 4, 8]
    """
    rows: list[ReceptiveFieldRow] = []
    size, jump = 1, 1
    for name, module in model.named_modules():
        if not isinstance(module, _SPATIAL_LAYERS):
            continue
        kernel_size = _square(module.kernel_size, "kernel_size", name)
        stride = _square(module.stride, "stride", name)
        dilation = _square(getattr(module, "dilation", 1), "dilation", name)
        size = size + dilation * (kernel_size - 1) * jump  # the window widens by the kernel's span
        jump = jump * stride  # output positions are `stride` input positions apart
        rows.append(ReceptiveFieldRow(name, type(module).__name__, kernel_size, stride, dilation, jump, size))
    if not rows:
        raise ValueError("the model has no Conv2d, MaxPool2d or AvgPool2d layer, so no receptive field to compute")
    return rows


def measured_receptive_field(
    layers: nn.Module, *, in_channels: int, input_size: int, samples: int = 16, seed: int = 0
) -> int:
    """Side of the input window that the centre output unit of ``layers`` depends on, measured.

    Runs ``layers`` in evaluation mode on a batch of random images, backpropagates the centre
    position of every image's output (summed over channels) and takes the bounding box of the
    input pixels that received a nonzero gradient in any image. Choose ``input_size`` larger than
    the receptive field, so the window is not cut by the image border.

    Args:
        layers: Maps ``(B, in_channels, S, S)`` to feature maps ``(B, C, S', S')``.
        in_channels: Channels of the input.
        input_size: Side ``S`` of the square random input.
        samples: Random images whose windows are united (max-pool and ReLU hide parts of the
            window in any single image).
        seed: Seed of the local generator that draws the images.

    Returns:
        The larger side of the measured window, in pixels.
    """
    generator = torch.Generator().manual_seed(seed)
    images = torch.randn(samples, in_channels, input_size, input_size, generator=generator)
    images.requires_grad_(True)
    was_training = layers.training
    layers.eval()  # BatchNorm with running statistics: each image on its own, no mixing in the batch
    try:
        features: Tensor = layers(images)  # (B, C, S', S')
        centre = features[:, :, features.shape[-2] // 2, features.shape[-1] // 2].sum()
        (gradient,) = torch.autograd.grad(centre, images)  # (B, C_in, S, S)
    finally:
        layers.train(was_training)
    touched = gradient.abs().sum(dim=(0, 1)) > 0  # (S, S): pixels that influence the centre unit
    rows = torch.nonzero(touched.any(dim=1)).flatten()
    columns = torch.nonzero(touched.any(dim=0)).flatten()
    if rows.numel() == 0:
        raise ValueError("no input pixel reaches the centre unit (all paths switched off); try more samples")
    return int(max(rows[-1] - rows[0] + 1, columns[-1] - columns[0] + 1))
