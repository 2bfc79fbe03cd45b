"""Checks for the exercises of lesson 05 (downsampling and upsampling).

Every check prints ``Correct! ...`` or ``Not yet: <hint>`` and returns ``True`` or ``False``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
import torch.nn.functional as F

from segedu.course.exercises._verdict import call_answer, verdict
from segedu.analysis.upsampling import bed_of_nails, checkerboard_pattern, nearest_upsample

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
    for size, kernel_size, stride, padding in _SIZE_CASES:
        expected = _torch_output_size(size, kernel_size, stride, padding)
        found, problem = call_answer(function, size, kernel_size, stride, padding)
        if problem:
            return verdict(False, success="", hint=problem)
        if found == expected:
            continue
        case = f"size={size}, kernel_size={kernel_size}, stride={stride}, padding={padding}"
        if found == (size - 1) * stride + kernel_size:
            hint = "padding is missing: a transposed convolution crops `padding` rows from both sides."
        elif found == (size + 2 * padding - kernel_size) // stride + 1:
            hint = (
                "that is the size formula of an ordinary convolution, which shrinks; the transposed "
                "one goes the other way: stamps land `stride` apart and each is `kernel_size` wide."
            )
        else:
            hint = f"for {case} PyTorch gives {expected}, your function gives {found!r}."
        return verdict(False, success="", hint=hint)
    return verdict(
        True,
        success="output = (size - 1) * stride - 2 * padding + kernel_size, as PyTorch computes it.",
        hint="",
    )


def check_bed_of_nails(function: Callable[[torch.Tensor, int], Any]) -> bool:
    """Check ``function(x, scale)`` against :func:`segedu.analysis.upsampling.bed_of_nails`."""
    generator = torch.Generator().manual_seed(5)
    for shape, scale in (((1, 1, 3, 3), 2), ((2, 3, 4, 5), 3), ((1, 2, 2, 3), 1)):
        x = torch.rand(*shape, generator=generator) + 0.5  # no zeros, so nails are visible
        expected = bed_of_nails(x, scale)
        found, problem = call_answer(function, x, scale)
        if problem:
            return verdict(False, success="", hint=problem)
        if not isinstance(found, torch.Tensor):
            hint = f"return a tensor; got {type(found).__name__}."
        elif found.shape != expected.shape:
            hint = (
                f"for x of shape {tuple(shape)} and scale={scale} the result should have shape "
                f"{tuple(expected.shape)} (B, C, H * scale, W * scale); got {tuple(found.shape)}."
            )
        elif torch.allclose(found, expected):
            continue
        elif torch.allclose(found, nearest_upsample(x, scale)):
            hint = "that is nearest upsampling: a bed of nails keeps one pixel per block, the rest zero."
        elif torch.equal((found != 0), (expected != 0)):
            hint = "the nails are in the right places but hold wrong values: copy x there unchanged."
        else:
            hint = (
                "put input pixel (i, j) at output pixel (i * scale, j * scale), the top-left corner "
                "of its block, and zeros everywhere else (try slicing with ::scale)."
            )
        return verdict(False, success="", hint=hint)
    return verdict(True, success="every pixel is a nail at the top-left of a block of zeros.", hint="")


def _even_overlap(kernel_size: int, stride: int) -> bool:
    counts = checkerboard_pattern(kernel_size, stride, 12)  # (H_out, W_out)
    inner = counts[kernel_size:-kernel_size, kernel_size:-kernel_size]
    return bool((inner == inner[0, 0]).all())


def check_checkerboard_free_kernel_sizes(sizes: Iterable[int] | None) -> bool:
    """Check which kernel sizes 1..8 give every interior pixel the same number of stride-2 stamps."""
    if sizes is None or sizes is ...:
        hint = "replace the `...` with the kernel sizes you chose, e.g. {1, 5}."
        return verdict(False, success="", hint=hint)
    try:
        chosen = {int(size) for size in sizes}
    except (TypeError, ValueError):
        hint = "give a set of whole numbers between 1 and 8, e.g. {1, 5}."
        return verdict(False, success="", hint=hint)
    expected = {size for size in range(1, 9) if _even_overlap(size, 2)}
    if chosen == expected:
        return verdict(
            True,
            success=f"{sorted(expected)}: the kernel size is a multiple of the stride, so stamps "
            "overlap evenly.",
            hint="",
        )
    outside = sorted(size for size in chosen if not 1 <= size <= 8)
    uneven = sorted(chosen - expected - set(outside))
    missing = sorted(expected - chosen)
    if outside:
        hint = f"only kernel sizes from 1 to 8 are asked for; remove {outside}."
    elif 1 in uneven:
        hint = (
            "kernel size 1 with stride 2 leaves holes: some output pixels get no stamp at all "
            "(look at checkerboard_pattern(1, 2, 4))."
        )
    elif uneven:
        size = uneven[0]
        hint = (
            f"kernel size {size} overlaps unevenly: look at checkerboard_pattern({size}, 2, 6) away "
            "from the border."
        )
    else:
        hint = f"you missed {missing}: they overlap evenly too (check with checkerboard_pattern)."
    return verdict(False, success="", hint=hint)


def check_doubling_layer(kernel_size: int, padding: int, output_padding: int = 0) -> bool:
    """Check a stride-2 transposed convolution that exactly doubles every size, checkerboard-free.

    The layer is ``nn.ConvTranspose2d(..., kernel_size, stride=2, padding, output_padding)``.
    """
    values = (kernel_size, padding, output_padding)
    if not all(isinstance(value, int) and not isinstance(value, bool) for value in values):
        hint = "set kernel_size, padding and output_padding to whole numbers."
        return verdict(False, success="", hint=hint)
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
            return verdict(False, success="", hint=f"PyTorch refuses these settings: {message}")
        if found != 2 * size:
            return verdict(
                False,
                success="",
                hint=f"an input of side {size} becomes {found}, not {2 * size}: solve "
                "(size - 1) * 2 - 2 * padding + kernel_size + output_padding = 2 * size.",
            )
    if not _even_overlap(kernel_size, 2):
        return verdict(
            False,
            success="",
            hint=f"the size doubles, but kernel size {kernel_size} overlaps unevenly with stride 2, "
            "which invites checkerboard artefacts; pick a kernel size that is a multiple of the "
            "stride.",
        )
    return verdict(
        True,
        success=f"kernel_size={kernel_size}, padding={padding}, output_padding={output_padding} "
        "doubles every size, and the stamps overlap evenly.",
        hint="",
    )
