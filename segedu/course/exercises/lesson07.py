"""Checks for the exercises of lesson 07 (SegNet: max-pooling indices and unpooling).

Every check prints ``Correct! ...`` or ``Not yet: <hint>`` and returns ``True`` or ``False``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from segedu.analysis.upsampling import bed_of_nails, nearest_upsample
from segedu.course.exercises._verdict import check_cases

__all__ = ["check_index_memory", "check_max_unpool", "check_zero_fraction"]


def _zero_fraction_cases() -> list[torch.Tensor]:
    """Dense, sparse, all-zero and signed tensors of different shapes."""
    generator = torch.Generator().manual_seed(7)
    dense = torch.rand(2, 3, 4, 4, generator=generator) + 0.1  # no zeros
    pooled, indices = F.max_pool2d(torch.randn(1, 4, 6, 8, generator=generator), 2, return_indices=True)
    sparse = F.max_unpool2d(pooled, indices, 2)  # at least 3/4 zeros, negatives too
    relu = torch.relu(torch.randn(5, 7, generator=generator))
    return [dense, sparse, relu, torch.zeros(3, 3)]


def check_zero_fraction(function: Callable[[torch.Tensor], Any]) -> bool:
    """Check ``function(x) -> float``: the fraction of entries of ``x`` that are exactly zero."""
    return check_cases(
        function,
        [(x,) for x in _zero_fraction_cases()],
        _zero_fraction_mistake,
        success="(x == 0) counted and divided by x.numel().",
    )


def _zero_fraction_mistake(found: Any, x: torch.Tensor) -> str | None:
    expected = float((x == 0).sum()) / x.numel()
    try:
        value = float(found)
    except (TypeError, ValueError):
        return f"return one number between 0 and 1; got {type(found).__name__}."
    if abs(value - expected) < 1e-6:
        return None
    if abs(value - (1 - expected)) < 1e-6:
        return "that is the fraction of nonzero entries: count the entries equal to 0 instead."
    if abs(value - float((x == 0).sum())) < 1e-6:
        return "that is the number of zeros; divide by the number of entries, x.numel()."
    if abs(value - float((x <= 0).sum()) / x.numel()) < 1e-6:
        return "negative values are not zeros: compare with == 0, not <= 0."
    return f"for a tensor of shape {tuple(x.shape)} the fraction of zeros is {expected:.3f}; you gave {value:.3f}."


_MEMORY_CASES = [(64, 64, 64), (512, 24, 30), (3, 2, 2), (128, 96, 120)]


def _measured_memory(channels: int, height: int, width: int) -> tuple[int, int, int]:
    """Bytes of the int64 indices and of the float32 map, measured on real tensors; 2-bit bytes."""
    features = torch.zeros(1, channels, height, width)  # float32, as a U-Net skip keeps it
    _, indices = F.max_pool2d(features, 2, return_indices=True)
    windows = indices.numel()
    return (
        indices.numel() * indices.element_size(),
        features.numel() * features.element_size(),
        -(-windows * 2 // 8),
    )


def check_index_memory(function: Callable[[int, int, int], Any]) -> bool:
    """Check ``function(channels, height, width) -> (index_bytes, feature_bytes, two_bit_bytes)``.

    For one ``(channels, height, width)`` float32 map (H, W even) pooled 2x2: the bytes of the
    int64 indices PyTorch returns, of the whole map (a U-Net skip), and of 2 bits per window.
    """
    return check_cases(
        function,
        _MEMORY_CASES,
        _index_memory_mistake,
        success="int64 indices take half the bytes of the float32 map, 2 bits per window 1/64 of them.",
    )


def _index_memory_mistake(found: Any, channels: int, height: int, width: int) -> str | None:
    expected = _measured_memory(channels, height, width)
    try:
        index_bytes, feature_bytes, two_bit_bytes = (int(value) for value in found)
    except (TypeError, ValueError):
        return "return three whole numbers: (index_bytes, feature_bytes, two_bit_bytes)."
    windows = channels * (height // 2) * (width // 2)
    if index_bytes != expected[0]:
        if index_bytes == windows * 4:
            return "PyTorch stores the indices as int64: 8 bytes per index, not 4."
        if index_bytes in (channels * height * width * 8, channels * height * width * 4):
            return "there is one index per pooled value, i.e. per 2x2 window: channels * (H/2) * (W/2) of them."
        case = f"a map of {channels} x {height} x {width}"
        return f"for {case} the int64 indices take {expected[0]} bytes; you gave {index_bytes}."
    if feature_bytes != expected[1]:
        return "a U-Net skip keeps the whole float32 map before pooling: channels * H * W values of 4 bytes each."
    if two_bit_bytes != expected[2]:
        return "2 bits per 2x2 window: channels * (H/2) * (W/2) * 2 bits, and 8 bits make a byte."
    return None


def _unpool_cases() -> list[tuple[torch.Tensor, torch.Tensor, tuple[int, int]]]:
    """(x, indices, output_size): pooled maps with values that are not the maxima (any x works)."""
    generator = torch.Generator().manual_seed(3)
    cases = []
    for shape in ((1, 1, 4, 4), (2, 3, 6, 8), (1, 2, 2, 10)):
        before = torch.randn(*shape, generator=generator)
        pooled, indices = F.max_pool2d(before, 2, return_indices=True)
        values = pooled + torch.rand(pooled.shape, generator=generator) + 0.1
        cases.append((values, indices, tuple(shape[-2:])))
    return cases


def check_max_unpool(function: Callable[[torch.Tensor, torch.Tensor, tuple[int, int]], Any]) -> bool:
    """Check ``function(x, indices, output_size)`` against ``F.max_unpool2d``."""
    return check_cases(function, _unpool_cases(), _max_unpool_mistake, success="your unpooling equals F.max_unpool2d.")


def _max_unpool_mistake(
    found: Any, values: torch.Tensor, indices: torch.Tensor, output_size: tuple[int, int]
) -> str | None:
    expected = F.max_unpool2d(values, indices, 2, output_size=output_size)
    if not isinstance(found, torch.Tensor):
        return f"return a tensor; got {type(found).__name__}."
    if found.shape != expected.shape:
        return (
            f"for x of shape {tuple(values.shape)} and output_size {output_size} the result should "
            f"have shape {tuple(expected.shape)} (B, C, H_out, W_out); got {tuple(found.shape)}."
        )
    if torch.allclose(found, expected):
        return None
    if torch.allclose(found, bed_of_nails(values, 2)):
        return "every value went to the top-left corner of its window (bed of nails): use the indices."
    if torch.allclose(found, nearest_upsample(values, 2)):
        return "that is nearest upsampling: only the remembered position gets the value, the rest stays 0."
    if torch.allclose(found.flatten(2).sort(dim=2).values, expected.flatten(2).sort(dim=2).values):
        return (
            "the right values, in the wrong places: each index is a flat position row * W_out + "
            "column inside the (H_out, W_out) plane of the same batch item and channel."
        )
    return (
        "start from zeros of shape (B, C, H_out * W_out), scatter x.flatten(2) into dim 2 at "
        "indices.flatten(2), then reshape to (B, C, H_out, W_out)."
    )
