"""Checks for the exercises of lesson 05 (downsampling and upsampling).

Every check prints ``Correct! ...`` or ``Not yet: <hint>`` and returns ``True`` or ``False``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
import torch.nn.functional as F

from segedu.analysis.upsampling import bed_of_nails, checkerboard_pattern, nearest_upsample
from segedu.course.exercises._verdict import check_cases, right, wrong

__all__ = [
    "check_bed_of_nails",
    "check_checkerboard_free_kernel_sizes",
    "check_doubling_layer",
    "check_transposed_output_size",
]


def _torch_output_size(size: int, kernel_size: int, stride: int, padding: int) -> int:
    """The output side PyTorch's transposed convolution really produces."""
    weight = torch.zeros(1, 1, kernel_size, kernel_size)
    output = F.conv_transpose2d(torch.zeros(1, 1, size, size), weight, stride=stride, padding=padding)
    return output.shape[-1]


# Cases where the output has at least one pixel: (size, kernel_size, stride, padding).
_SIZE_CASES = [
    (size, kernel_size, stride, padding)
    for size in (1, 3, 4, 7)
    for kernel_size in (1, 2, 3, 4, 5)
    for stride in (1, 2, 3)
    for padding in (0, 1, 2)
    if (size - 1) * stride + kernel_size - 2 * padding >= 1
]


def check_transposed_output_size(function: Callable[[int, int, int, int], int]) -> bool:
    """Check ``function(size, kernel_size, stride, padding)`` against PyTorch's output sizes."""
    return check_cases(
        function,
        _SIZE_CASES,
        _output_size_mistake,
        success="output = (size - 1) * stride - 2 * padding + kernel_size, as PyTorch computes it.",
        returns="a whole number",
    )


def _output_size_mistake(found: Any, size: int, kernel_size: int, stride: int, padding: int) -> str | None:
    expected = _torch_output_size(size, kernel_size, stride, padding)
    if found == expected:
        return None
    if found == (size - 1) * stride + kernel_size:
        return "padding is missing: a transposed convolution crops `padding` rows from both sides."
    if found == (size + 2 * padding - kernel_size) // stride + 1:
        return (
            "that is the size formula of an ordinary convolution, which shrinks; the transposed "
            "one goes the other way: stamps land `stride` apart and each is `kernel_size` wide."
        )
    case = f"size={size}, kernel_size={kernel_size}, stride={stride}, padding={padding}"
    return f"for {case} PyTorch gives {expected}, your function gives {found!r}."


def check_bed_of_nails(function: Callable[[torch.Tensor, int], Any]) -> bool:
    """Check ``function(x, scale)`` against :func:`segedu.analysis.upsampling.bed_of_nails`."""
    generator = torch.Generator().manual_seed(5)
    shapes_and_scales = (((1, 1, 3, 3), 2), ((2, 3, 4, 5), 3), ((1, 2, 2, 3), 1))
    cases = [(torch.rand(*shape, generator=generator) + 0.5, scale) for shape, scale in shapes_and_scales]  # no zeros
    return check_cases(
        function,
        cases,
        _bed_of_nails_mistake,
        success="every pixel is a nail at the top-left of a block of zeros.",
        returns="a tensor",
    )


def _bed_of_nails_mistake(found: Any, x: torch.Tensor, scale: int) -> str | None:
    expected = bed_of_nails(x, scale)
    if not isinstance(found, torch.Tensor):
        return f"return a tensor; got {type(found).__name__}."
    if found.shape != expected.shape:
        return (
            f"for x of shape {tuple(x.shape)} and scale={scale} the result should have shape "
            f"{tuple(expected.shape)} (B, C, H * scale, W * scale); got {tuple(found.shape)}."
        )
    if torch.allclose(found, expected):
        return None
    if torch.allclose(found, nearest_upsample(x, scale)):
        return "that is nearest upsampling: a bed of nails keeps one pixel per block, the rest zero."
    if torch.equal((found != 0), (expected != 0)):
        return "the nails are in the right places but hold wrong values: copy x there unchanged."
    return (
        "put input pixel (i, j) at output pixel (i * scale, j * scale), the top-left corner "
        "of its block, and zeros everywhere else (try slicing with ::scale)."
    )


def _even_overlap(kernel_size: int, stride: int) -> bool:
    counts = checkerboard_pattern(kernel_size, stride, 12)  # (H_out, W_out)
    inner = counts[kernel_size:-kernel_size, kernel_size:-kernel_size]
    return bool((inner == inner[0, 0]).all())


def check_checkerboard_free_kernel_sizes(
    sizes: Iterable[int] | None, stride: int = 2, largest: int = 8
) -> bool:
    """Check which kernel sizes 1..``largest`` give every interior pixel the same number of stamps.

    Args:
        sizes: The learner's set of kernel sizes.
        stride: Stride of the transposed convolution (the lesson asks about 2, then 3).
        largest: Largest kernel size asked about.
    """
    if sizes is None or sizes is ...:
        return wrong("replace the `...` with the kernel sizes you chose, e.g. {1, 5}.")
    try:
        chosen = {int(size) for size in sizes}
    except (TypeError, ValueError):
        return wrong(f"give a set of whole numbers between 1 and {largest}, e.g. {{1, 5}}.")
    expected = {size for size in range(1, largest + 1) if _even_overlap(size, stride)}
    if chosen == expected:
        return right(
            f"{sorted(expected)}: the kernel size is a multiple of the stride {stride}, so stamps overlap evenly."
        )
    outside = sorted(size for size in chosen if not 1 <= size <= largest)
    uneven = sorted(chosen - expected - set(outside))
    missing = sorted(expected - chosen)
    if outside:
        hint = f"only kernel sizes from 1 to {largest} are asked for; remove {outside}."
    elif any(size < stride for size in uneven):
        size = min(uneven)
        hint = (
            f"kernel size {size} with stride {stride} leaves holes: some output pixels get no stamp at all "
            f"(look at checkerboard_pattern({size}, {stride}, 4))."
        )
    elif uneven:
        size = uneven[0]
        hint = (
            f"kernel size {size} overlaps unevenly: look at checkerboard_pattern({size}, {stride}, 6) away "
            "from the border."
        )
    else:
        hint = f"you missed {missing}: they overlap evenly too (check with checkerboard_pattern)."
    return wrong(hint)


def check_doubling_layer(kernel_size: int, padding: int, output_padding: int = 0) -> bool:
    """Check a stride-2 transposed convolution that exactly doubles every size, checkerboard-free.

    The layer is ``nn.ConvTranspose2d(..., kernel_size, stride=2, padding, output_padding)``.
    """
    values = (kernel_size, padding, output_padding)
    if not all(isinstance(value, int) and not isinstance(value, bool) for value in values):
        return wrong("set kernel_size, padding and output_padding to whole numbers.")
    for size in (1, 2, 5, 8, 13):
        try:
            found = F.conv_transpose2d(
                torch.zeros(1, 1, size, size),
                torch.zeros(1, 1, kernel_size, kernel_size),
                stride=2,
                padding=padding,
                output_padding=output_padding,
            ).shape[-1]
        except RuntimeError as error:
            message = str(error).splitlines()[0]
            return wrong(f"PyTorch refuses these settings: {message}")
        if found != 2 * size:
            return wrong(
                f"an input of side {size} becomes {found}, not {2 * size}: solve "
                "(size - 1) * 2 - 2 * padding + kernel_size + output_padding = 2 * size."
            )
    if not _even_overlap(kernel_size, 2):
        return wrong(
            f"the size doubles, but kernel size {kernel_size} overlaps unevenly with stride 2, "
            "which invites checkerboard artefacts; pick a kernel size that is a multiple of the stride."
        )
    return right(
        f"kernel_size={kernel_size}, padding={padding}, output_padding={output_padding} "
        "doubles every size, and the stamps overlap evenly."
    )
