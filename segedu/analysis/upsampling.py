"""The upsampling family, written from scratch so each idea is visible.

A segmentation network shrinks an image to find *what* is in it, then must grow the result back
to full resolution to say *where*. This module builds every common way of growing a feature map:

- fixed rules: ``nearest_upsample``, ``bed_of_nails``, ``bilinear_upsample``;
- remembering where maxima came from: ``max_unpool`` (SegNet);
- learnable: transposed convolution, built two ways. ``transposed_conv_stamp`` lets every input
  pixel stamp a scaled copy of the kernel onto the output; ``transposed_conv_matrix`` writes the
  ordinary convolution as a matrix C and multiplies by its transpose. Both give the same numbers
  as ``torch.nn.functional.conv_transpose2d``;
- ``bilinear_upsample_weight`` initialises a transposed convolution to bilinear interpolation (FCN
  keeps its own copy in :mod:`segedu.models.bilinear`, and a test checks that the two agree);
- ``checkerboard_pattern`` counts how many stamps land on each output pixel. A flat image stays
  flat only if every stride phase of the output receives the same total kernel weight (Odena,
  Dumoulin & Olah, "Deconvolution and Checkerboard Artifacts", Distill 2016); a kernel size that
  is not a multiple of the stride gives the phases different counts and so invites checkerboard
  artefacts.

Every function takes and returns ``(B, C, H, W)`` tensors and is checked against PyTorch's own
operators in ``tests/test_upsampling.py``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import NamedTuple

import torch
from torch import Tensor

__all__ = [
    "StampStep",
    "bed_of_nails",
    "bilinear_kernel",
    "bilinear_upsample",
    "bilinear_upsample_weight",
    "checkerboard_pattern",
    "conv_matrix",
    "max_unpool",
    "nearest_upsample",
    "stamp_steps",
    "transposed_conv_matrix",
    "transposed_conv_stamp",
]


# ----------------------------------------------------------------------------------------------
# Argument checks shared by the functions below
# ----------------------------------------------------------------------------------------------


def _check_batch(x: Tensor, name: str = "x") -> None:
    if not isinstance(x, Tensor) or x.dim() != 4:
        found = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"{name} must be a 4-D tensor (B, C, H, W); got {found}")


def _check_int(value: int, name: str, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")


def _pair(size: int | Sequence[int], name: str) -> tuple[int, int]:
    """Turn ``n`` or ``(h, w)`` into ``(h, w)`` of positive ints."""
    pair = (size, size) if isinstance(size, int) else tuple(size)
    if len(pair) != 2:
        raise ValueError(f"{name} must be an int or a pair (H, W); got {size!r}")
    for value in pair:
        _check_int(value, name, 1)
    return pair  # type: ignore[return-value]


# ----------------------------------------------------------------------------------------------
# Fixed upsampling rules
# ----------------------------------------------------------------------------------------------


def nearest_upsample(x: Tensor, scale: int) -> Tensor:
    """Copy every pixel into a ``scale x scale`` block.

    Output pixel ``(i, j)`` reads input pixel ``(i // scale, j // scale)``.

    Args:
        x: Feature maps.
        scale: Integer upsampling factor, at least 1.

    Returns:
        The upsampled maps; equal to ``F.interpolate(x, scale_factor=scale, mode="nearest")``.

    Shape:
        x: ``(B, C, H, W)``; returns ``(B, C, H * scale, W * scale)``.
    """
    _check_batch(x)
    _check_int(scale, "scale", 1)
    height, width = x.shape[-2:]
    rows = torch.arange(height * scale, device=x.device) // scale  # (H*s,) source row of each row
    columns = torch.arange(width * scale, device=x.device) // scale  # (W*s,) source column
    taller = x[:, :, rows]  # (B, C, H*s, W)
    return taller[:, :, :, columns]  # (B, C, H*s, W*s)


def bed_of_nails(x: Tensor, scale: int) -> Tensor:
    """Put every pixel at the top-left corner of a ``scale x scale`` block of zeros.

    Args:
        x: Feature maps.
        scale: Integer upsampling factor, at least 1.

    Returns:
        Mostly-zero maps: ``out[..., i * scale, j * scale] = x[..., i, j]``, zeros elsewhere.
        This is ``max_unpool`` with every maximum remembered at the top-left of its window.

    Shape:
        x: ``(B, C, H, W)``; returns ``(B, C, H * scale, W * scale)``.
    """
    _check_batch(x)
    _check_int(scale, "scale", 1)
    batch, channels, height, width = x.shape
    out = x.new_zeros(batch, channels, height * scale, width * scale)  # (B, C, H*s, W*s)
    out[:, :, ::scale, ::scale] = x  # every scale-th row and column holds a "nail"
    return out


def max_unpool(x: Tensor, indices: Tensor, output_size: Sequence[int]) -> Tensor:
    """Send every value back to the position its max-pooling maximum came from (SegNet).

    ``indices`` are what ``F.max_pool2d(..., return_indices=True)`` returns: for every pooled
    value, the flat position ``row * W_out + column`` of its maximum in the pre-pooling map of
    the same batch item and channel. Positions that received no value stay zero.

    Args:
        x: Pooled values (or features computed from them).
        indices: Flat positions in the ``(H_out, W_out)`` plane, same shape as ``x``.
        output_size: ``(H_out, W_out)``, the size before pooling.

    Returns:
        The sparse unpooled maps; equal to ``F.max_unpool2d`` with the same arguments.

    Shape:
        x, indices: ``(B, C, H, W)``; returns ``(B, C, H_out, W_out)``.
    """
    _check_batch(x)
    if not isinstance(indices, Tensor) or indices.shape != x.shape:
        found = tuple(indices.shape) if isinstance(indices, Tensor) else type(indices).__name__
        raise ValueError(f"indices must have the shape of x {tuple(x.shape)}; got {found}")
    out_height, out_width = _pair(tuple(output_size), "output_size")
    if indices.numel() > 0 and (indices.min() < 0 or indices.max() >= out_height * out_width):
        raise ValueError(
            f"indices must lie in [0, H_out * W_out) = [0, {out_height * out_width}) for "
            f"output_size {(out_height, out_width)}; found range "
            f"[{int(indices.min())}, {int(indices.max())}]"
        )
    batch, channels = x.shape[:2]
    out = x.new_zeros(batch, channels, out_height * out_width)  # (B, C, H_out*W_out) flat planes
    # out[b, c, indices[b, c, k]] = x[b, c, k] for every pooled position k
    out.scatter_(2, indices.flatten(2).long(), x.flatten(2))
    return out.view(batch, channels, out_height, out_width)  # (B, C, H_out, W_out)


def _source_positions(
    in_size: int, out_size: int, scale: int, align_corners: bool, device: torch.device
) -> tuple[Tensor, Tensor, Tensor]:
    """For each output position along one axis: the two input neighbours and the blend weight."""
    out_positions = torch.arange(out_size, dtype=torch.float64, device=device)
    if align_corners:
        # First and last pixel centres line up exactly; the rest are spaced evenly in between.
        step = (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
        source = out_positions * step
    else:
        # Pixels are unit squares; map the centre of output square i back into input coordinates.
        source = ((out_positions + 0.5) / scale - 0.5).clamp(min=0)
    low = source.floor().long().clamp(max=in_size - 1)  # left/top neighbour
    high = (low + 1).clamp(max=in_size - 1)  # right/bottom neighbour (repeat the edge at the end)
    fraction = source - low  # how far past `low` we are: the weight of `high`
    return low, high, fraction


def bilinear_upsample(x: Tensor, scale: int, *, align_corners: bool = False) -> Tensor:
    """Blend the two nearest input pixels along each axis, first rows then columns.

    Args:
        x: Floating-point feature maps.
        scale: Integer upsampling factor, at least 1.
        align_corners: Where output pixels sample the input; see ``F.interpolate``. ``False``
            treats pixels as unit squares (the default everywhere in PyTorch); ``True`` maps the
            corner pixel centres onto each other.

    Returns:
        Equal (to float rounding) to
        ``F.interpolate(x, scale_factor=scale, mode="bilinear", align_corners=align_corners)``.

    Shape:
        x: ``(B, C, H, W)``; returns ``(B, C, H * scale, W * scale)``.
    """
    _check_batch(x)
    _check_int(scale, "scale", 1)
    if not x.is_floating_point():
        raise ValueError(f"bilinear_upsample needs a floating-point x; got dtype {x.dtype}")
    height, width = x.shape[-2:]
    top, bottom, down = _source_positions(height, height * scale, scale, align_corners, x.device)
    left, right, across = _source_positions(width, width * scale, scale, align_corners, x.device)
    down = down.to(x.dtype)[:, None]  # (H*s, 1) weight of the lower row
    across = across.to(x.dtype)  # (W*s,) weight of the right column
    rows = (1 - down) * x[:, :, top] + down * x[:, :, bottom]  # (B, C, H*s, W)
    return (1 - across) * rows[..., left] + across * rows[..., right]  # (B, C, H*s, W*s)


def bilinear_kernel(kernel_size: int, *, dtype: torch.dtype = torch.float32) -> Tensor:
    """The FCN bilinear filter: a 2-D "tent" that a transposed convolution can stamp.

    For upsampling by a factor ``f`` use ``kernel_size = 2 * f - f % 2``. The 1-D tent is
    ``1 - |i - centre| / f``; the 2-D kernel is the outer product of two tents.

    Args:
        kernel_size: Side of the square kernel, at least 1.
        dtype: Floating-point dtype of the result.

    Returns:
        The kernel, peaked at the centre.

    Shape:
        Returns ``(kernel_size, kernel_size)``.
    """
    _check_int(kernel_size, "kernel_size", 1)
    factor = (kernel_size + 1) // 2
    centre = factor - 1 if kernel_size % 2 == 1 else factor - 0.5
    positions = torch.arange(kernel_size, dtype=dtype)
    tent = 1 - (positions - centre).abs() / factor  # (k,) rises linearly to 1, falls back down
    return tent[:, None] * tent[None, :]  # (k, k)


def bilinear_upsample_weight(channels: int, scale: int) -> Tensor:
    """Weight that makes ``nn.ConvTranspose2d`` perform bilinear upsampling channel by channel.

    Use it with ``nn.ConvTranspose2d(channels, channels, kernel_size=2 * scale - scale % 2,
    stride=scale, padding=scale // 2, bias=False)``: the output is exactly ``scale`` times larger
    and, away from a border of ``scale // 2`` pixels, equals ``bilinear_upsample`` (borders
    differ because the transposed convolution sees zeros outside the image).

    Args:
        channels: Number of channels in and out.
        scale: Integer upsampling factor, at least 1.

    Returns:
        Weight in conv_transpose2d layout ``(C_in, C_out, k, k)``, with the bilinear kernel on
        the channel diagonal and zeros elsewhere, so channels never mix.

    Shape:
        Returns ``(channels, channels, k, k)`` with ``k = 2 * scale - scale % 2``.
    """
    _check_int(channels, "channels", 1)
    _check_int(scale, "scale", 1)
    kernel_size = 2 * scale - scale % 2
    weight = torch.zeros(channels, channels, kernel_size, kernel_size)
    diagonal = torch.arange(channels)
    weight[diagonal, diagonal] = bilinear_kernel(kernel_size)  # channel c feeds only channel c
    return weight


# ----------------------------------------------------------------------------------------------
# Transposed convolution, way 1: every input pixel stamps a copy of the kernel
# ----------------------------------------------------------------------------------------------


class StampStep(NamedTuple):
    """One step of a transposed convolution: which input pixel stamped, and the result so far.

    ``top`` and ``left`` give where the stamp's top-left corner landed in output coordinates;
    they can be negative (or run past the end) because ``padding`` crops the output's border.
    """

    row: int
    column: int
    top: int
    left: int
    output: Tensor  # (B, C_out, H_out, W_out) after this stamp


def _transposed_output_size(
    x: Tensor, weight: Tensor, stride: int, padding: int, output_padding: int
) -> tuple[int, int]:
    """Check the arguments of a transposed convolution and return its ``(H_out, W_out)``."""
    _check_batch(x)
    if not isinstance(weight, Tensor) or weight.dim() != 4:
        found = tuple(weight.shape) if isinstance(weight, Tensor) else type(weight).__name__
        raise ValueError(f"weight must be a 4-D tensor (C_in, C_out, kH, kW); got {found}")
    if weight.shape[0] != x.shape[1]:
        raise ValueError(
            f"weight.shape[0] must equal the input channels x.shape[1] (transposed-conv weight "
            f"layout is (C_in, C_out, kH, kW)); got {weight.shape[0]} and {x.shape[1]}"
        )
    _check_int(stride, "stride", 1)
    _check_int(padding, "padding", 0)
    _check_int(output_padding, "output_padding", 0)
    if output_padding >= stride:
        raise ValueError(
            f"output_padding must be smaller than stride={stride}; got {output_padding}"
        )
    height, width = x.shape[-2:]
    kernel_height, kernel_width = weight.shape[-2:]
    out_height = (height - 1) * stride - 2 * padding + kernel_height + output_padding
    out_width = (width - 1) * stride - 2 * padding + kernel_width + output_padding
    if out_height < 1 or out_width < 1:
        raise ValueError(
            "output size (in - 1) * stride - 2 * padding + kernel + output_padding must be >= 1; "
            f"got {(out_height, out_width)} for input {(height, width)}, kernel "
            f"{(kernel_height, kernel_width)}, stride={stride}, padding={padding}"
        )
    return out_height, out_width


def _stamp(canvas: Tensor, x: Tensor, weight: Tensor, row: int, column: int, stride: int) -> None:
    """Add input pixel ``(row, column)``'s scaled kernel onto the (uncropped) canvas, in place."""
    kernel_height, kernel_width = weight.shape[-2:]
    pixel = x[:, :, row, column]  # (B, C_in) one value per input channel
    # Each input channel scales its own kernel; the scaled kernels add up over input channels.
    stamp = (pixel[:, :, None, None, None] * weight).sum(dim=1)  # (B, C_out, kH, kW)
    top, left = row * stride, column * stride  # moving one input pixel moves the stamp `stride`
    canvas[:, :, top : top + kernel_height, left : left + kernel_width] += stamp


def transposed_conv_stamp(
    x: Tensor, weight: Tensor, stride: int = 1, padding: int = 0, output_padding: int = 0
) -> Tensor:
    """Transposed convolution by stamping: explicit loops over input pixels.

    Every input pixel ``(i, j)`` adds ``x[:, :, i, j]``-scaled copies of the kernel onto the
    output, with the top-left corner at ``(i * stride, j * stride)``. Where stamps overlap they
    add up. Finally ``padding`` rows and columns are cropped from every side (``output_padding``
    extra rows and columns are kept at the bottom and right).

    Args:
        x: Input maps.
        weight: Kernel in PyTorch's conv_transpose2d layout ``(C_in, C_out, kH, kW)``.
        stride: Distance between neighbouring stamps, at least 1.
        padding: Rows/columns cropped from each side of the output, at least 0.
        output_padding: Extra rows/columns kept at the bottom/right, smaller than ``stride``.

    Returns:
        Equal to ``F.conv_transpose2d(x, weight, stride=stride, padding=padding,
        output_padding=output_padding)``.

    Shape:
        x: ``(B, C_in, H, W)``; weight: ``(C_in, C_out, kH, kW)``; returns
        ``(B, C_out, H_out, W_out)`` with ``H_out = (H - 1) * stride - 2 * padding + kH +
        output_padding`` (likewise ``W_out``).
    """
    out_height, out_width = _transposed_output_size(x, weight, stride, padding, output_padding)
    # A canvas big enough to hold every full stamp; padding is cropped off at the end.
    canvas_size = (out_height + 2 * padding, out_width + 2 * padding)
    canvas = x.new_zeros(x.shape[0], weight.shape[1], *canvas_size)  # (B, C_out, H_out + 2p, W_out + 2p)
    for row in range(x.shape[2]):
        for column in range(x.shape[3]):
            _stamp(canvas, x, weight, row, column, stride)
    return canvas[:, :, padding : padding + out_height, padding : padding + out_width]


def stamp_steps(
    x: Tensor, weight: Tensor, stride: int = 1, padding: int = 0, output_padding: int = 0
) -> Iterator[StampStep]:
    """Run ``transposed_conv_stamp`` one stamp at a time, for stepping through it in a lesson.

    Args:
        x, weight, stride, padding, output_padding: As for ``transposed_conv_stamp``.

    Yields:
        One ``StampStep`` per input pixel, in row-major order, holding a copy of the cropped
        output so far. The last step's ``output`` equals ``transposed_conv_stamp(...)``.

    Shape:
        x: ``(B, C_in, H, W)``; each ``output``: ``(B, C_out, H_out, W_out)``; ``H * W`` steps.
    """
    out_height, out_width = _transposed_output_size(x, weight, stride, padding, output_padding)
    canvas_size = (out_height + 2 * padding, out_width + 2 * padding)
    canvas = x.new_zeros(x.shape[0], weight.shape[1], *canvas_size)  # (B, C_out, H_out + 2p, W_out + 2p)
    for row in range(x.shape[2]):
        for column in range(x.shape[3]):
            _stamp(canvas, x, weight, row, column, stride)
            output = canvas[:, :, padding : padding + out_height, padding : padding + out_width]
            top, left = row * stride - padding, column * stride - padding
            yield StampStep(row, column, top, left, output.clone())


def checkerboard_pattern(kernel_size: int, stride: int, size: int | Sequence[int]) -> Tensor:
    """How many stamps land on each output pixel of a transposed convolution.

    This is the transposed convolution of an all-ones input with an all-ones kernel (no
    padding). Along one axis each output pixel is covered by ``kernel_size // stride`` or
    ``kernel_size // stride + 1`` stamps; away from the border the count is the same everywhere
    exactly when ``kernel_size % stride == 0``. Otherwise it alternates, and a kernel prints it as
    checkerboard artefacts unless its weights give every stride phase the same total (as the
    tent ``bilinear_kernel(3)`` does for stride 2).

    Args:
        kernel_size: Side of the square kernel, at least 1.
        stride: Distance between stamps, at least 1.
        size: Input size, ``n`` or ``(H, W)``.

    Returns:
        Integer overlap counts.

    Shape:
        Returns ``(H_out, W_out)`` with ``H_out = (H - 1) * stride + kernel_size``.
    """
    _check_int(kernel_size, "kernel_size", 1)
    _check_int(stride, "stride", 1)
    height, width = _pair(size, "size")
    ones_input = torch.ones(1, 1, height, width)
    ones_kernel = torch.ones(1, 1, kernel_size, kernel_size)
    counts = transposed_conv_stamp(ones_input, ones_kernel, stride)  # (1, 1, H_out, W_out)
    return counts[0, 0].round().long()  # (H_out, W_out)


# ----------------------------------------------------------------------------------------------
# Transposed convolution, way 2: the transpose of the convolution matrix
# ----------------------------------------------------------------------------------------------


def conv_matrix(
    input_size: Sequence[int], weight: Tensor, stride: int = 1, padding: int = 0
) -> Tensor:
    """The matrix C of an ordinary convolution: ``conv2d(x) == C @ x.flatten()``.

    A convolution is linear, so it is a matrix. Row ``r`` of C belongs to one output pixel (of
    one output channel): it holds the kernel laid over the input where that output pixel looks,
    flattened. We first build C for the zero-padded input, then drop the columns of padding
    pixels: they are zeros, so they add nothing to any output.

    Args:
        input_size: ``(H, W)`` of the input the convolution is applied to.
        weight: Convolution kernel, ``(kH, kW)`` for one channel or ``(C_out, C_in, kH, kW)``
            as for ``F.conv2d``.
        stride: Convolution stride, at least 1.
        padding: Zero padding on every side, at least 0.

    Returns:
        The matrix, with rows in ``(C_out, H_out, W_out)`` order and columns in
        ``(C_in, H, W)`` order (the order of ``.flatten()``).

    Shape:
        Returns ``(C_out * H_out * W_out, C_in * H * W)`` with
        ``H_out = (H + 2 * padding - kH) // stride + 1`` (likewise ``W_out``).
    """
    if isinstance(weight, Tensor) and weight.dim() == 2:
        weight = weight[None, None]  # (1, 1, kH, kW): one channel in, one channel out
    if not isinstance(weight, Tensor) or weight.dim() != 4:
        found = tuple(weight.shape) if isinstance(weight, Tensor) else type(weight).__name__
        raise ValueError(f"weight must be (kH, kW) or (C_out, C_in, kH, kW); got {found}")
    height, width = _pair(tuple(input_size), "input_size")
    _check_int(stride, "stride", 1)
    _check_int(padding, "padding", 0)
    out_channels, in_channels, kernel_height, kernel_width = weight.shape
    padded_height, padded_width = height + 2 * padding, width + 2 * padding
    out_height = (padded_height - kernel_height) // stride + 1
    out_width = (padded_width - kernel_width) // stride + 1
    if out_height < 1 or out_width < 1:
        raise ValueError(
            f"kernel {(kernel_height, kernel_width)} must fit inside the padded input "
            f"{(padded_height, padded_width)}"
        )
    # One row per output pixel, one column per pixel of the padded input.
    matrix = weight.new_zeros(
        out_channels, out_height, out_width, in_channels, padded_height, padded_width
    )
    for row in range(out_height):
        for column in range(out_width):
            # Output pixel (row, column) looks at a kernel-sized window of the padded input.
            rows = slice(row * stride, row * stride + kernel_height)
            columns = slice(column * stride, column * stride + kernel_width)
            matrix[:, row, column, :, rows, columns] = weight  # (C_out, C_in, kH, kW) weights
    # Drop the columns of padding pixels.
    inside = matrix[..., padding : padding + height, padding : padding + width]
    return inside.reshape(out_channels * out_height * out_width, in_channels * height * width)


def transposed_conv_matrix(
    x: Tensor, weight: Tensor, stride: int = 1, padding: int = 0, output_padding: int = 0
) -> Tensor:
    """Transposed convolution as ``C^T @ x``: the convolution matrix, transposed.

    The weight ``(C_in, C_out, kH, kW)`` read as an ordinary conv2d weight is a convolution from
    ``C_out`` channels of size ``(H_out, W_out)`` down to ``C_in`` channels of size ``(H, W)``.
    Its matrix C maps big to small; ``C^T`` maps small to big with the same connections. That is
    why the operation is called *transposed* convolution (and why it is conv2d's gradient).

    Args:
        x, weight, stride, padding, output_padding: As for ``transposed_conv_stamp``.

    Returns:
        Equal to ``F.conv_transpose2d(x, weight, stride=stride, padding=padding,
        output_padding=output_padding)``.

    Shape:
        x: ``(B, C_in, H, W)``; weight: ``(C_in, C_out, kH, kW)``; returns
        ``(B, C_out, H_out, W_out)`` as in ``transposed_conv_stamp``.
    """
    out_height, out_width = _transposed_output_size(x, weight, stride, padding, output_padding)
    # (C_in*H*W, C_out*H_out*W_out): a convolution from the big output down to the input size.
    matrix = conv_matrix((out_height, out_width), weight, stride, padding)
    flat = x.flatten(1) @ matrix  # (B, C_out*H_out*W_out): row b is C^T @ x[b].flatten()
    return flat.view(x.shape[0], weight.shape[1], out_height, out_width)
