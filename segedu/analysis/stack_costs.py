"""Pencil-and-paper costs of stacks of 3x3 convolutions, computed without building a network.

Lesson 04 asks what it costs to keep every feature map at the input's full resolution.
:func:`encoder_decoder_costs` answers it by formula: multiply-accumulates, parameters, activation
memory and receptive field of a plain stack of ``depth`` (3x3 conv -> BatchNorm -> ReLU) layers
spread over ``2 * stages + 1`` resolution levels (down ``stages`` times by 2x2 max-pooling, back up
by 2x nearest upsampling, no skips). ``stages=0`` is a full-resolution stack: the body of
:class:`~segedu.models.FullResolutionNet`, without its 1x1 classifier.

Activation memory is given both ways :func:`segedu.analysis.costs.activation_memory` measures it.
``saved_bytes`` is what autograd saves for the backward pass (``backward=True``): the image, two
maps per conv layer (the conv's output, which BatchNorm saves, and the ReLU's output, which the
ReLU and the next conv share), each pooled or upsampled map a conv reads, the max-poolings' int64
indices and BatchNorm's two statistics per channel. ``activation_bytes`` is the forward sum of
**every layer's output** (conv, BatchNorm and ReLU output of each conv layer, three tensors of the
same size, and every pooling and upsampling output): a count, not a footprint.

A second family reaches far without downsampling: 3x3 convs whose taps are ``dilation`` pixels
apart (same weights and MACs per pixel as an ordinary 3x3 conv; built by
:class:`~segedu.models.FullResolutionNet` with ``dilations=``); :func:`dilated_receptive_field_layers`
lists them for the receptive-field formula.

The formulas are the package's own: :func:`segedu.analysis.costs.conv_macs` for the MACs and
:func:`segedu.analysis.receptive_field.stack_receptive_field` for the window.
:func:`build_encoder_decoder` builds exactly the network the formulas describe, so the tests
check them against the measurements of :mod:`segedu.analysis.costs`.
"""

from __future__ import annotations

from fractions import Fraction

from torch import nn

from segedu.analysis.costs import conv_macs
from segedu.analysis.receptive_field import stack_receptive_field
from segedu.models.blocks import ConvBNReLU

__all__ = [
    "build_encoder_decoder",
    "dilated_receptive_field_layers",
    "encoder_decoder_costs",
    "encoder_decoder_levels",
    "encoder_decoder_receptive_field_layers",
]


def encoder_decoder_levels(depth: int, stages: int) -> list[int]:
    """Resolution level of each 3x3 conv layer (0 = full resolution, ``s`` = 1/2**s).

    The ``depth`` layers fill the levels ``0, 1, ..., stages, ..., 1, 0`` (encoder, bottleneck,
    decoder) as evenly as possible; leftover layers go to the earliest levels.

    Example:
        >>> encoder_decoder_levels(7, 1)
        [0, 0, 0, 1, 1, 0, 0]
    """
    if stages < 0:
        raise ValueError(f"stages must be >= 0 (number of 2x downsamplings); got {stages}")
    groups = 2 * stages + 1
    if depth < groups:
        raise ValueError(
            f"depth={depth} is too small for stages={stages}: every one of the {groups} levels "
            f"(down {stages} times and back up) needs a conv layer, so depth must be >= {groups}"
        )
    order = list(range(stages + 1)) + list(range(stages - 1, -1, -1))
    per_group = [depth // groups + (1 if index < depth % groups else 0) for index in range(groups)]
    return [level for level, count in zip(order, per_group) for _ in range(count)]


def _level_widths(width: int, levels: list[int], double_channels: bool) -> list[int]:
    return [width * 2**level if double_channels else width for level in levels]


def encoder_decoder_receptive_field_layers(depth: int, stages: int) -> list[tuple[int, Fraction]]:
    """The ``(kernel_size, stride)`` list of :func:`build_encoder_decoder`, for
    :func:`~segedu.analysis.receptive_field.stack_receptive_field`."""
    layers: list[tuple[int, Fraction]] = []
    previous = 0
    for level in encoder_decoder_levels(depth, stages):
        if level > previous:
            layers.append((2, Fraction(2)))  # 2x2 max-pool
        elif level < previous:
            layers.append((1, Fraction(1, 2)))  # 2x nearest upsampling
        layers.append((3, Fraction(1)))
        previous = level
    return layers


def encoder_decoder_costs(
    image_size: int | tuple[int, int],
    *,
    width: int,
    depth: int,
    stages: int,
    in_channels: int = 3,
    double_channels: bool = True,
    batch_norm: bool = True,
    batch_size: int = 1,
    bytes_per_value: int = 4,
) -> dict[str, int]:
    """Costs of ``depth`` (3x3 conv -> BatchNorm -> ReLU) layers spread over ``2 * stages + 1`` levels.

    Level ``s`` works at ``1/2**s`` of the image side with ``width * 2**s`` channels (or
    ``width`` everywhere with ``double_channels=False``).

    Args:
        image_size: Side ``S`` or ``(H, W)``; both must be multiples of ``2**stages``.
        width: Channels of the full-resolution layers.
        depth: Number of 3x3 conv layers.
        stages: Number of 2x downsamplings (0 = full resolution everywhere).
        in_channels: Image channels.
        double_channels: Double the channels at each downsampling, as U-Net and VGG do.
        batch_norm: BatchNorm after every conv (whose bias is then dropped), as in
            :class:`~segedu.models.FullResolutionNet`; without it, conv (with bias) -> ReLU.
        batch_size: Images per batch.
        bytes_per_value: 4 for float32.

    Returns:
        ``macs`` (as :func:`segedu.analysis.costs.count_macs` counts them), ``parameters``,
        ``saved_bytes`` (what autograd saves for the backward pass in training mode, as
        :func:`segedu.analysis.costs.activation_memory` with ``backward=True`` measures it),
        ``activation_bytes`` (every layer's output: conv, BatchNorm, ReLU, pooling and upsampling,
        as :func:`segedu.analysis.costs.activation_memory` counts them), ``tensors_per_layer``
        (outputs per conv layer: 3 with BatchNorm, 2 without) and ``receptive_field`` (pixels, see
        :func:`~segedu.analysis.receptive_field.stack_receptive_field`).
    """
    height, width_pixels = (image_size, image_size) if isinstance(image_size, int) else image_size
    if min(height, width_pixels) < 2**stages or height % 2**stages or width_pixels % 2**stages:
        raise ValueError(
            f"image size {height}x{width_pixels} must be a multiple of 2**stages = {2**stages}"
        )
    levels = encoder_decoder_levels(depth, stages)
    outputs = _level_widths(width, levels, double_channels)
    inputs = [in_channels] + outputs[:-1]
    tensors_per_layer = 3 if batch_norm else 2  # conv, (BatchNorm,) ReLU outputs, all the same size
    saved_maps_per_layer = 2 if batch_norm else 1  # the conv's output (BatchNorm's input), the ReLU's output
    macs = parameters = values = 0
    saved_values = batch_size * height * width_pixels * in_channels  # the image, saved by the first conv
    saved_extra_bytes = 0  # max-pool indices (int64) and BatchNorm's per-channel mean and 1/std
    previous = 0
    for level, channels_in, channels_out in zip(levels, inputs, outputs):
        pixels = batch_size * (height // 2**level) * (width_pixels // 2**level)
        if level != previous:  # a max-pool or an upsampling produces the layer's input at this level
            values += pixels * channels_in
            saved_values += pixels * channels_in  # the conv saves its (resampled) input
            if level > previous:
                saved_extra_bytes += pixels * channels_in * 8
        macs += conv_macs(pixels * channels_out, channels_in, 3)
        parameters += channels_out * channels_in * 9 + (2 * channels_out if batch_norm else channels_out)
        values += tensors_per_layer * pixels * channels_out
        saved_values += saved_maps_per_layer * pixels * channels_out
        if batch_norm:
            saved_extra_bytes += 2 * channels_out * bytes_per_value
        previous = level
    return {
        "macs": macs,
        "parameters": parameters,
        "saved_bytes": saved_values * bytes_per_value + saved_extra_bytes,
        "activation_bytes": values * bytes_per_value,
        "tensors_per_layer": tensors_per_layer,
        "receptive_field": stack_receptive_field(encoder_decoder_receptive_field_layers(depth, stages)),
    }


def build_encoder_decoder(
    in_channels: int,
    *,
    width: int,
    depth: int,
    stages: int,
    double_channels: bool = True,
    batch_norm: bool = True,
) -> nn.Sequential:
    """The network :func:`encoder_decoder_costs` describes: (conv3x3 -> BN -> ReLU) x depth, pools, upsamplings.

    Shape:
        (B, in_channels, H, W) -> (B, width, H, W) for H, W multiples of ``2**stages``.
    """
    levels = encoder_decoder_levels(depth, stages)
    outputs = _level_widths(width, levels, double_channels)
    layers: list[nn.Module] = []
    channels, previous = in_channels, 0
    for level, channels_out in zip(levels, outputs):
        if level > previous:
            layers.append(nn.MaxPool2d(2))
        elif level < previous:
            layers.append(nn.Upsample(scale_factor=2, mode="nearest"))
        layers.append(ConvBNReLU(channels, channels_out, batch_norm=batch_norm))
        channels, previous = channels_out, level
    return nn.Sequential(*layers)


def dilated_receptive_field_layers(dilations: list[int]) -> list[tuple[int, int]]:
    """The ``(kernel_size, stride)`` list of 3x3 convs with these dilations, for
    :func:`~segedu.analysis.receptive_field.stack_receptive_field`.

    A 3x3 kernel with dilation ``d`` has its taps ``d`` pixels apart, so it spans ``2 * d + 1``
    pixels: for the window it acts like a ``(2d + 1) x (2d + 1)`` kernel with stride 1.

    Example:
        >>> dilated_receptive_field_layers([1, 2, 4])
        [(3, 1), (5, 1), (9, 1)]
    """
    if not dilations or any(isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in dilations):
        raise ValueError(f"dilations must be a non-empty list of integers >= 1; got {dilations!r}")
    return [(2 * dilation + 1, 1) for dilation in dilations]
