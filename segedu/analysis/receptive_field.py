"""Receptive fields: by the formula, for a layer stack or a model, and measured with gradients.

The *receptive field* of a unit is the window of input pixels it can depend on. Walking through
a chain of convolutions and poolings, two numbers change at every layer:

- ``jump``: how many input pixels apart two neighbouring positions of the layer's output are;
  it is multiplied by the stride: ``jump_out = jump_in * stride``;
- ``size``: the side of the window; a ``k x k`` kernel looks at ``k`` neighbouring positions of
  its input, which are ``jump_in`` input pixels apart, so ``size_out = size_in + (k - 1) * jump_in``
  (a dilated kernel spans ``dilation * (k - 1) + 1`` positions instead of ``k``).

The one module for receptive fields; every function is named ``<how>_receptive_field``:

- :func:`stack_receptive_field`: the formula for a list of ``(kernel_size, stride)`` layers,
  pencil-and-paper style (a 2x upsampling is a layer with kernel 1 and stride 1/2);
- :func:`receptive_field_table`: the formula after every convolution and pooling of a model;
- :func:`measured_receptive_field`: the architecture's window, measured with autograd: the input
  pixels that get a nonzero gradient from the centre output unit, united over random images (a
  max-pool passes the gradient to one pixel of each window only, so a single image can show a
  smaller window than the formula);
- :func:`effective_receptive_field`: *how much* each pixel of that window matters, the mean size of
  the same gradient over random images (Luo et al., 2016); :func:`centred_share` measures how much of
  it lies in a centred square, e.g. one half as wide as the theoretical window;
- :func:`pixel_receptive_field`: the window of one output pixel of a segmentation model for one
  image (:class:`PixelReceptiveField`), from the gradient of that pixel's logit; a ReLU that is
  off or a max-pool passes no gradient, so it can be smaller than the architecture allows.
  :func:`pixel_receptive_field_from_recording` reuses the graph of a recording
  (:func:`segedu.analysis.activations.record_activations` with ``keep_graph=True``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import torch
from torch import Tensor, nn

from segedu.analysis.activations import ActivationRecording, record_activations
from segedu.models.deeplab import ASPP

__all__ = [
    "PixelReceptiveField",
    "ReceptiveFieldRow",
    "centred_share",
    "effective_receptive_field",
    "measured_receptive_field",
    "pixel_receptive_field",
    "pixel_receptive_field_from_recording",
    "receptive_field_table",
    "stack_receptive_field",
]

_SPATIAL_LAYERS = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)
# Layers after which the formula's chain no longer holds: an upsampling (the decoder of an
# encoder-decoder) or parallel branches (DeepLab's ASPP).
_NOT_A_CHAIN = (nn.ConvTranspose2d, nn.MaxUnpool2d, nn.Upsample, ASPP)


def stack_receptive_field(layers: Sequence[tuple[int, float | Fraction]]) -> int:
    """Side of the input window that one output pixel of a stack of layers depends on, by the formula.

    Args:
        layers: ``(kernel_size, stride)`` per layer, input first: ``(3, 1)`` for a same-padded
            3x3 conv, ``(2, 2)`` for a 2x2 max-pool, ``(1, 0.5)`` for a 2x upsampling.

    Returns:
        ``1 + sum((kernel_size - 1) * jump)`` with ``jump`` the product of the earlier strides,
        rounded up to a whole number of pixels. Exact for convolutions and poolings; after an
        upsampling the true window varies a little with the pixel's position in the 2x2 grid
        (a few pixels either way) and the formula gives a typical size.

    Example:
        >>> stack_receptive_field([(3, 1)] * 4), stack_receptive_field([(3, 1), (3, 1), (2, 2), (3, 1)])
        (9, 10)
    """
    size, jump = Fraction(1), Fraction(1)
    for kernel_size, stride in layers:
        if kernel_size < 1 or stride <= 0:
            raise ValueError(
                f"each layer needs kernel_size >= 1 and stride > 0; got ({kernel_size}, {stride})"
            )
        size += (kernel_size - 1) * jump
        jump *= Fraction(stride).limit_denominator(1024)
    return math.ceil(size)


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

    The formula holds along one chain only, so the rows stop at the first layer that upsamples (a
    transposed convolution, max-unpooling or ``nn.Upsample``: the decoder of an encoder-decoder such
    as U-Net) or that holds parallel branches (DeepLab's ASPP): for U-Net the last row is its
    bottleneck, not its output. Chaining the decoder's kernels onto the encoder's would give a
    wrong window (396 px for U-Net's output on a 64-px image); measure an output pixel's window
    with :func:`pixel_receptive_field` instead.

    Raises:
        ValueError: If no convolution or pooling comes before the first such layer.

    Example:
        >>> stack = nn.Sequential(nn.Conv2d(1, 1, 3, padding=1), nn.MaxPool2d(2), nn.Conv2d(1, 1, 3, padding=1))
        >>> [row.size for row in receptive_field_table(stack)]
        [3, 4, 8]
    """
    rows: list[ReceptiveFieldRow] = []
    size, jump = 1, 1
    for name, module in model.named_modules():
        if isinstance(module, _NOT_A_CHAIN):
            break  # the chain ends here (see above); every row so far is exact
        if not isinstance(module, _SPATIAL_LAYERS):
            continue
        kernel_size = _square(module.kernel_size, "kernel_size", name)
        stride = _square(module.stride, "stride", name)
        dilation = _square(getattr(module, "dilation", 1), "dilation", name)
        size = size + dilation * (kernel_size - 1) * jump  # the window widens by the kernel's span
        jump = jump * stride  # output positions are `stride` input positions apart
        rows.append(ReceptiveFieldRow(name, type(module).__name__, kernel_size, stride, dilation, jump, size))
    if not rows:
        raise ValueError(
            "the model has no Conv2d, MaxPool2d or AvgPool2d layer before its first upsampling or parallel "
            "branches, so no receptive field to compute; measure it with pixel_receptive_field"
        )
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
    gradient = _centre_gradient(layers, in_channels=in_channels, input_size=input_size, samples=samples, seed=seed)
    touched = gradient.abs().sum(dim=(0, 1)) > 0  # (S, S): pixels that influence the centre unit
    box = _bounding_box(touched)
    if box is None:
        raise ValueError("no input pixel reaches the centre unit (all paths switched off); try more samples")
    top, left, bottom, right = box
    return max(bottom - top, right - left)


def _centre_gradient(layers: nn.Module, *, in_channels: int, input_size: int, samples: int, seed: int) -> Tensor:
    """Gradient of the centre output unit (summed over channels) w.r.t. random images: (B, C_in, S, S)."""
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
    return gradient


def effective_receptive_field(
    layers: nn.Module, *, in_channels: int, input_size: int, samples: int = 16, seed: int = 0
) -> Tensor:
    """How much each input pixel moves the centre output unit of ``layers``, on average (Luo et al., 2016).

    The same gradient as :func:`measured_receptive_field` (centre position of the output, summed
    over channels, evaluation mode, random images), but instead of the set of pixels where it is
    nonzero this returns its mean size: ``|gradient|`` summed over input channels, averaged over
    the images and scaled to sum to 1. Its bright part is the *effective* receptive field, usually
    much smaller than the theoretical window. Luo et al. average over random weights too: call
    this for models built with several seeds and average the maps.

    Args:
        layers: Maps ``(B, in_channels, S, S)`` to feature maps ``(B, C, S', S')``.
        in_channels: Channels of the input.
        input_size: Side ``S`` of the square random input; larger than the receptive field.
        samples: Random images averaged.
        seed: Seed of the local generator that draws the images.

    Returns:
        The normalised gradient map.

    Shape:
        ``(S, S)``, summing to 1.
    """
    gradient = _centre_gradient(layers, in_channels=in_channels, input_size=input_size, samples=samples, seed=seed)
    magnitude = gradient.abs().sum(dim=1).mean(dim=0)  # (S, S)
    total = magnitude.sum()
    if total == 0:
        raise ValueError("no input pixel reaches the centre unit (all paths switched off); try more samples")
    return magnitude / total


def centred_share(weights: Tensor, side: int) -> float:
    """Share of ``weights`` that lies in the ``side x side`` square centred on the map's centre pixel.

    The centre pixel is ``(H // 2, W // 2)``, the position :func:`effective_receptive_field`
    differentiates; the square reaches ``side // 2`` pixels each way (``side`` must be odd).

    Args:
        weights: Non-negative weights, e.g. an effective receptive field.
        side: Odd side of the square, in pixels.

    Shape:
        weights ``(H, W)``.

    Example:
        >>> round(centred_share(torch.ones(5, 5), 3), 4)  # 9 of 25 pixels
        0.36
    """
    if side < 1 or side % 2 == 0:
        raise ValueError(f"side must be an odd number >= 1, so the square has a centre pixel; got {side}")
    if weights.dim() != 2 or (weights < 0).any():
        raise ValueError(f"weights must be a non-negative (H, W) map; got shape {tuple(weights.shape)}")
    height, width = weights.shape
    row, column, reach = height // 2, width // 2, side // 2
    inside = weights[max(row - reach, 0): row + reach + 1, max(column - reach, 0): column + reach + 1]
    return float(inside.sum() / weights.sum())


def _bounding_box(region: Tensor) -> tuple[int, int, int, int] | None:
    """``(top, left, bottom, right)`` of the True pixels of ``region`` (bottom, right exclusive), or None."""
    rows = region.any(dim=1).nonzero().flatten()
    columns = region.any(dim=0).nonzero().flatten()
    if rows.numel() == 0:
        return None
    return int(rows[0]), int(columns[0]), int(rows[-1]) + 1, int(columns[-1]) + 1


@dataclass(frozen=True)
class PixelReceptiveField:
    """The input pixels one output pixel depends on, measured with a gradient.

    Attributes:
        gradient: ``|d logit / d input|`` summed over input channels.
        region: Where the gradient is nonzero.
        box: ``(top, left, bottom, right)`` of the smallest rectangle holding the region (bottom
            and right exclusive, as in slicing), or None if the gradient is zero everywhere.
        class_index: The class whose logit was differentiated.

    Shape:
        gradient and region: ``(H, W)``.
    """

    gradient: Tensor
    region: Tensor
    box: tuple[int, int, int, int] | None
    class_index: int

    @property
    def height(self) -> int:
        """Rows of the bounding box (0 if the region is empty)."""
        return 0 if self.box is None else self.box[2] - self.box[0]

    @property
    def width(self) -> int:
        """Columns of the bounding box (0 if the region is empty)."""
        return 0 if self.box is None else self.box[3] - self.box[1]


def pixel_receptive_field_from_recording(
    recording: ActivationRecording, row: int, column: int, *, class_index: int | None = None
) -> PixelReceptiveField:
    """Measure the receptive field of output pixel ``(row, column)`` from a recording's kept graph.

    Args:
        recording: Made by :func:`~segedu.analysis.activations.record_activations` with
            ``keep_graph=True``; reusable for any number of pixels.
        row: Output row.
        column: Output column.
        class_index: Whose logit to differentiate; default: the class predicted at that pixel.

    Returns:
        The receptive field.
    """
    logits = recording.logits  # (1, K, H, W)
    if not recording.input.requires_grad or logits.grad_fn is None:
        raise ValueError("this recording has no autograd graph; record it with keep_graph=True")
    height, width = logits.shape[-2:]
    if not (0 <= row < height and 0 <= column < width):
        raise ValueError(f"(row, column) must lie in the {height}x{width} output; got ({row}, {column})")
    if class_index is None:
        class_index = int(logits[0, :, row, column].argmax())
    (gradient,) = torch.autograd.grad(logits[0, class_index, row, column], recording.input, retain_graph=True)
    magnitude = gradient[0].abs().sum(dim=0).cpu()  # (H, W)
    region = magnitude > 0  # (H, W)
    return PixelReceptiveField(magnitude, region, _bounding_box(region), class_index)


def pixel_receptive_field(
    model: nn.Module, image: Tensor, row: int, column: int, *, class_index: int | None = None
) -> PixelReceptiveField:
    """Measure which input pixels output pixel ``(row, column)`` of ``model`` depends on, for ``image``.

    Example:
        >>> from segedu.models import FullResolutionNet
        >>> field = pixel_receptive_field(FullResolutionNet(1, 2, depth=3), torch.rand(1, 32, 32), 16, 16)
        >>> field.height, field.width  # 3 stacked 3x3 convs see 7 x 7 pixels
        (7, 7)

    Shape:
        image ``(C_in, H, W)``.
    """
    recording = record_activations(model, image, keep_graph=True)
    return pixel_receptive_field_from_recording(recording, row, column, class_index=class_index)
