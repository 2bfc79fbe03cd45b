"""Tests for segedu.analysis.upsampling: each from-scratch operator against PyTorch or a brute-force loop."""

import itertools

import pytest
import torch
import torch.nn.functional as F

from segedu.analysis.upsampling import (
    bed_of_nails,
    bilinear_kernel,
    bilinear_upsample,
    bilinear_upsample_weight,
    checkerboard_pattern,
    conv_matrix,
    max_unpool,
    nearest_upsample,
    stamp_steps,
    transposed_conv_matrix,
    transposed_conv_stamp,
)
from segedu.models.bilinear import bilinear_upsample_weight as models_bilinear_weight

ATOL = 1e-5


@pytest.fixture
def generator() -> torch.Generator:
    return torch.Generator().manual_seed(0)


def _random(generator: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=generator)


# ----------------------------------------------------------------------------------------------
# Fixed upsampling rules
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [1, 2, 3, 4])
@pytest.mark.parametrize("shape", [(1, 1, 3, 3), (2, 3, 4, 7)])
def test_nearest_matches_interpolate(generator, scale, shape):
    x = _random(generator, *shape)
    expected = F.interpolate(x, scale_factor=scale, mode="nearest")
    torch.testing.assert_close(nearest_upsample(x, scale), expected, rtol=0, atol=0)


@pytest.mark.parametrize("scale", [1, 2, 3])
def test_bed_of_nails_matches_loop_and_unpool(generator, scale):
    x = _random(generator, 2, 3, 4, 5)
    result = bed_of_nails(x, scale)

    # Brute force: place each value by hand into a zero canvas.
    expected = torch.zeros(2, 3, 4 * scale, 5 * scale)
    for b, c, i, j in itertools.product(range(2), range(3), range(4), range(5)):
        expected[b, c, i * scale, j * scale] = x[b, c, i, j]
    torch.testing.assert_close(result, expected, rtol=0, atol=0)

    # Same as max-unpooling with every maximum remembered at its window's top-left corner.
    out_width = 5 * scale
    rows, columns = torch.meshgrid(torch.arange(4), torch.arange(5), indexing="ij")
    top_left = (rows * scale * out_width + columns * scale).expand(2, 3, 4, 5)
    unpooled = F.max_unpool2d(x, top_left, kernel_size=scale, output_size=(4 * scale, out_width))
    torch.testing.assert_close(result, unpooled, rtol=0, atol=0)


@pytest.mark.parametrize(
    "kernel_size, stride, size",
    [(2, 2, (8, 6)), (2, 2, (7, 5)), (3, 2, (9, 8)), (3, 3, (9, 7)), (3, 1, (5, 6))],
)
def test_max_unpool_matches_torch(generator, kernel_size, stride, size):
    image = _random(generator, 2, 3, *size)
    pooled, indices = F.max_pool2d(image, kernel_size, stride, return_indices=True)
    expected = F.max_unpool2d(pooled, indices, kernel_size, stride, output_size=size)
    result = max_unpool(pooled, indices, size)
    torch.testing.assert_close(result, expected, rtol=0, atol=0)
    # Each pooled maximum went back to where it was found in the original image.
    assert torch.equal(result.flatten(2).gather(2, indices.flatten(2)), pooled.flatten(2))


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("scale", [1, 2, 3, 4])
@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (1, 2, 3, 3), (2, 3, 4, 6)])
def test_bilinear_matches_interpolate(generator, align_corners, scale, shape):
    x = _random(generator, *shape)
    expected = F.interpolate(x, scale_factor=scale, mode="bilinear", align_corners=align_corners)
    result = bilinear_upsample(x, scale, align_corners=align_corners)
    torch.testing.assert_close(result, expected, rtol=0, atol=ATOL)


def test_bilinear_kernel_is_a_tent():
    # Brute force from the definition: 1 - |distance to centre| / factor, per axis.
    for kernel_size in range(1, 8):
        factor = (kernel_size + 1) // 2
        centre = (kernel_size - 1) / 2  # the middle of the kernel, odd or even
        tent = torch.tensor([1 - abs(i - centre) / factor for i in range(kernel_size)])
        kernel = bilinear_kernel(kernel_size)
        assert kernel.shape == (kernel_size, kernel_size)
        torch.testing.assert_close(kernel, torch.outer(tent, tent))


@pytest.mark.parametrize("scale", [1, 2, 3, 4, 8, 32])
def test_from_scratch_weight_equals_the_one_fcn_is_built_with(scale):
    # Lesson 06 builds the tent here; segedu.models.bilinear keeps its own copy so models import no analysis.
    for channels in (1, 3):
        torch.testing.assert_close(
            bilinear_upsample_weight(channels, scale), models_bilinear_weight(channels, scale), rtol=0, atol=0
        )


@pytest.mark.parametrize("scale", [1, 2, 3, 4])
def test_bilinear_weight_upsamples_like_interpolate_inside(generator, scale):
    channels = 3
    x = _random(generator, 2, channels, 6, 5)
    weight = bilinear_upsample_weight(channels, scale)
    kernel_size = 2 * scale - scale % 2
    assert weight.shape == (channels, channels, kernel_size, kernel_size)
    # Off-diagonal blocks are zero: channels do not mix.
    off_diagonal = ~torch.eye(channels, dtype=torch.bool)
    assert torch.all(weight[off_diagonal] == 0)

    result = F.conv_transpose2d(x, weight, stride=scale, padding=scale // 2)
    expected = F.interpolate(x, scale_factor=scale, mode="bilinear", align_corners=False)
    assert result.shape == expected.shape
    # The borders differ (zeros outside the image vs. repeated edge pixels), the inside agrees.
    inside = (slice(None), slice(None), slice(scale, -scale), slice(scale, -scale))
    torch.testing.assert_close(result[inside], expected[inside], rtol=0, atol=ATOL)


# ----------------------------------------------------------------------------------------------
# Transposed convolution, both ways
# ----------------------------------------------------------------------------------------------

SWEEP = list(itertools.product(range(1, 6), range(1, 4), range(3)))  # kernel, stride, padding


@pytest.mark.parametrize("kernel_size, stride, padding", SWEEP)
def test_transposed_conv_matches_torch(generator, kernel_size, stride, padding):
    checked = 0
    for in_channels in range(1, 4):
        # Over the whole sweep every (C_in, C_out) pair, batch 1 and 2, and every
        # output_padding < stride occur, without multiplying the number of cases.
        out_channels = 1 + (in_channels + kernel_size + stride + padding) % 3
        batch = 1 + (in_channels + kernel_size) % 2
        output_padding = (in_channels + padding) % stride
        x = _random(generator, batch, in_channels, 3, 4)  # non-square input
        weight = _random(generator, in_channels, out_channels, kernel_size, max(1, kernel_size - 1))
        arguments = dict(stride=stride, padding=padding, output_padding=output_padding)
        out_height = (3 - 1) * stride - 2 * padding + kernel_size + output_padding
        out_width = (4 - 1) * stride - 2 * padding + max(1, kernel_size - 1) + output_padding
        if out_height < 1 or out_width < 1:  # padding crops away everything: refused
            with pytest.raises(ValueError, match="output size"):
                transposed_conv_stamp(x, weight, **arguments)
            continue
        expected = F.conv_transpose2d(x, weight, **arguments)
        stamped = transposed_conv_stamp(x, weight, **arguments)
        multiplied = transposed_conv_matrix(x, weight, **arguments)
        torch.testing.assert_close(stamped, expected, rtol=0, atol=ATOL)
        torch.testing.assert_close(multiplied, expected, rtol=0, atol=ATOL)
        checked += 1
    assert checked > 0 or padding > 0


def test_stamp_steps_build_the_output_one_stamp_at_a_time(generator):
    x = _random(generator, 1, 2, 3, 2)
    weight = _random(generator, 2, 1, 3, 3)
    stride, padding = 2, 1
    steps = list(stamp_steps(x, weight, stride=stride, padding=padding))
    row_major = [(i, j) for i in range(3) for j in range(2)]
    assert [(step.row, step.column) for step in steps] == row_major
    torch.testing.assert_close(steps[-1].output, transposed_conv_stamp(x, weight, stride, padding))

    previous = torch.zeros_like(steps[0].output)
    for step in steps:
        # What this step added is the input pixel's stamp alone: transposing a one-pixel input.
        single = torch.zeros_like(x)
        single[:, :, step.row, step.column] = x[:, :, step.row, step.column]
        added = F.conv_transpose2d(single, weight, stride=stride, padding=padding)
        torch.testing.assert_close(step.output - previous, added, rtol=0, atol=ATOL)
        assert step.top == step.row * stride - padding
        assert step.left == step.column * stride - padding
        previous = step.output


@pytest.mark.parametrize("kernel_size, stride, padding", SWEEP)
def test_conv_matrix_matches_conv2d(generator, kernel_size, stride, padding):
    height, width = 6, 5
    for in_channels in range(1, 4):
        out_channels = 1 + (in_channels + kernel_size + stride + padding) % 3  # all pairs occur
        weight = _random(generator, out_channels, in_channels, kernel_size, kernel_size)
        x = _random(generator, in_channels, height, width)
        matrix = conv_matrix((height, width), weight, stride, padding)
        expected = F.conv2d(x[None], weight, stride=stride, padding=padding)[0]
        assert matrix.shape == (expected.numel(), x.numel())
        torch.testing.assert_close(matrix @ x.flatten(), expected.flatten(), rtol=0, atol=ATOL)


def test_conv_matrix_single_channel_and_transpose_is_the_gradient(generator):
    kernel = _random(generator, 3, 3)
    x = _random(generator, 5, 6).requires_grad_()
    matrix = conv_matrix((5, 6), kernel, stride=2, padding=1)
    output = F.conv2d(x[None, None], kernel[None, None], stride=2, padding=1)
    flat_input, flat_output = x.detach().flatten(), output.detach().flatten()
    torch.testing.assert_close(matrix @ flat_input, flat_output, rtol=0, atol=ATOL)
    # The gradient of conv2d with respect to its input multiplies by C^T.
    upstream = _random(generator, *output.shape)
    (gradient,) = torch.autograd.grad(output, x, upstream)
    torch.testing.assert_close(matrix.T @ upstream.flatten(), gradient.flatten(), rtol=0, atol=ATOL)


# ----------------------------------------------------------------------------------------------
# Checkerboard
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kernel_size, stride", list(itertools.product(range(1, 7), range(1, 4))))
def test_checkerboard_counts_and_uniformity(kernel_size, stride):
    size = 6
    counts = checkerboard_pattern(kernel_size, stride, (size, size + 1))
    out_height, out_width = (size - 1) * stride + kernel_size, size * stride + kernel_size
    assert counts.shape == (out_height, out_width)

    # Brute force: input pixel i covers output positions [i * stride, i * stride + kernel_size).
    def cover(position: int, length: int) -> int:
        return sum(1 for i in range(length) if 0 <= position - i * stride < kernel_size)

    expected = torch.tensor(
        [[cover(r, size) * cover(c, size + 1) for c in range(out_width)] for r in range(out_height)]
    )
    assert torch.equal(counts, expected)

    # Inside (every stamp that could reach a pixel exists), the count is constant iff k % s == 0.
    inside_range = slice(kernel_size - 1, (size - 1) * stride + 1)
    inside = counts[inside_range, inside_range]
    assert inside.shape[0] >= stride
    assert (inside.unique().numel() == 1) == (kernel_size % stride == 0)


# ----------------------------------------------------------------------------------------------
# Argument checks
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("function", [nearest_upsample, bed_of_nails, bilinear_upsample])
def test_bad_scale_or_shape_is_refused(function):
    x = torch.zeros(1, 1, 2, 2)
    with pytest.raises(ValueError, match=r"scale must be an integer >= 1; got 0"):
        function(x, 0)
    with pytest.raises(ValueError, match=r"scale must be an integer >= 1; got 1.5"):
        function(x, 1.5)
    with pytest.raises(ValueError, match=r"4-D tensor \(B, C, H, W\); got \(1, 2, 2\)"):
        function(torch.zeros(1, 2, 2), 2)


def test_bad_transposed_conv_arguments_are_refused():
    x = torch.zeros(1, 2, 3, 3)
    for function in (transposed_conv_stamp, transposed_conv_matrix):
        with pytest.raises(ValueError, match=r"weight.shape\[0\] must equal .* got 3 and 2"):
            function(x, torch.zeros(3, 1, 2, 2))
        with pytest.raises(ValueError, match=r"got \(2, 3, 3\)"):
            function(torch.zeros(2, 3, 3), torch.zeros(2, 1, 2, 2))
        message = r"output_padding must be smaller than stride=2; got 2"
        with pytest.raises(ValueError, match=message):
            function(x, torch.zeros(2, 1, 2, 2), stride=2, output_padding=2)
        with pytest.raises(ValueError, match=r"stride must be an integer >= 1; got 0"):
            function(x, torch.zeros(2, 1, 2, 2), stride=0)
    with pytest.raises(ValueError, match=r"indices must have the shape of x"):
        max_unpool(torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 2, 3, dtype=torch.long), (4, 4))
    with pytest.raises(ValueError, match=r"indices must lie in \[0, H_out \* W_out\) = \[0, 16\)"):
        max_unpool(torch.zeros(1, 1, 1, 1), torch.full((1, 1, 1, 1), 16), (4, 4))
    message = r"kernel \(4, 4\) must fit inside the padded input \(3, 3\)"
    with pytest.raises(ValueError, match=message):
        conv_matrix((3, 3), torch.zeros(4, 4))
