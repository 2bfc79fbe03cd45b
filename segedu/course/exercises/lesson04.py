"""Checks for lesson 04 (the price of keeping full resolution).

Each check calls the learner's function on a few cases and compares it with a measurement:
:func:`segedu.analysis.costs.count_macs` on a real layer, the bytes of a real tensor, or the receptive
field of a real :class:`~segedu.models.FullResolutionNet` or of a stack of dilated convolutions.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from segedu.analysis.costs import count_macs
from segedu.analysis.receptive_field import stack_receptive_field
from segedu.analysis.stack_costs import dilated_receptive_field_layers
from segedu.course.exercises._verdict import check_cases
from segedu.models import FullResolutionNet

__all__ = [
    "check_conv_macs",
    "check_dilated_layers_for_receptive_field",
    "check_feature_map_megabytes",
    "check_layers_for_receptive_field",
    "check_macs_saved_by_downsampling",
]

# (height, width, in_channels, out_channels): small, so the reference layers run in milliseconds.
_CONV_CASES = ((8, 8, 3, 16), (12, 20, 16, 16), (5, 7, 32, 4))


def _conv_macs_measured(height: int, width: int, in_channels: int, out_channels: int) -> int:
    conv = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1)
    return count_macs(conv, (1, in_channels, height, width))


def check_conv_macs(conv_macs: Callable[[int, int, int, int], int]) -> bool:
    """``conv_macs(height, width, in_channels, out_channels)``: MACs of one same-padded 3x3 conv."""
    return check_cases(
        conv_macs,
        _CONV_CASES,
        _conv_macs_mistake,
        success="a 3x3 conv costs H * W * C_in * C_out * 9 MACs: proportional to the number of pixels.",
        returns="a whole number of MACs",
    )


def _conv_macs_mistake(answer: Any, height: int, width: int, in_channels: int, out_channels: int) -> str | None:
    expected = _conv_macs_measured(height, width, in_channels, out_channels)
    if answer == expected:
        return None
    case = f"a {height}x{width} map, {in_channels} -> {out_channels} channels"
    if answer == expected // 9:
        return f"for {case} you forgot the 3x3 = 9 weights each output value multiplies."
    if answer == 2 * expected:
        return f"for {case} you counted FLOPs (2 per multiply-accumulate); count MACs."
    return (
        f"for {case} you returned {answer}, count_macs measures {expected}. Each of the "
        "out_channels x height x width outputs is a dot product over in_channels x 3 x 3 weights."
    )


def check_feature_map_megabytes(feature_map_megabytes: Callable[[int, int, int], float]) -> bool:
    """``feature_map_megabytes(channels, height, width)``: MB (10**6 bytes) of one float32 map."""
    return check_cases(
        feature_map_megabytes,
        [(64, 1024, 2048), (16, 64, 64), (3, 7, 5)],
        _megabytes_mistake,
        success=(
            "64 channels of a 1024x2048 image take 536.9 MB, for ONE tensor. A conv -> BatchNorm -> "
            "ReLU layer outputs three such tensors, which is how the forward column adds up."
        ),
        returns="a number of MB",
    )


def _megabytes_mistake(answer: Any, channels: int, height: int, width: int) -> str | None:
    expected = torch.finfo(torch.float32).bits // 8 * channels * height * width / 1e6
    case = f"{channels} channels of {height}x{width}"
    if not isinstance(answer, (int, float)):
        return f"for {case} you returned {answer!r}, expected {expected:.4f} MB = C * H * W * 4 bytes / 10**6."
    if math.isclose(answer, expected, rel_tol=1e-6):
        return None
    if math.isclose(answer * 4, expected, rel_tol=1e-6):
        return f"for {case}: each float32 value takes 4 bytes."
    if math.isclose(answer, expected * 1e6, rel_tol=1e-6):
        return f"for {case} you returned bytes; divide by 10**6 for MB."
    if math.isclose(answer, expected * 1e6 / 2**20, rel_tol=1e-6):
        return f"for {case} you used MiB (2**20 bytes); this course's MB is 10**6 bytes."
    return f"for {case} you returned {answer!r}, expected {expected:.4f} MB = C * H * W * 4 bytes / 10**6."


def check_layers_for_receptive_field(layers_for_receptive_field: Callable[[int], int]) -> bool:
    """``layers_for_receptive_field(size)``: fewest stride-1 3x3 layers whose window is >= size."""
    return check_cases(
        layers_for_receptive_field,
        [(size,) for size in (1, 2, 3, 10, 37, 100, 1024)],
        _layers_mistake,
        success="a 100-pixel object needs 50 stride-1 3x3 layers; 1024 pixels need 512.",
        returns="a whole number of layers",
    )


def _layers_mistake(answer: Any, size: int) -> str | None:
    expected = next(depth for depth in range(size + 1) if 2 * depth + 1 >= size)
    if answer == expected:
        return None
    if isinstance(answer, int) and answer >= 1:
        window = FullResolutionNet(1, 2, width=1, depth=answer).receptive_field
        detail = f"{answer} layers see {window} pixels"
    else:
        detail = f"you returned {answer!r}"
    return f"for a {size}-pixel window: {detail}; the fewest layers with 1 + 2 * L >= {size} is {expected}."


def check_macs_saved_by_downsampling(macs_saved: Callable[[int, int, int, int], int]) -> bool:
    """``macs_saved(height, width, channels, num_layers)``: MACs saved by running the layers at half size."""
    return check_cases(
        macs_saved,
        [(16, 16, 8, 2), (32, 64, 4, 3), (8, 12, 16, 1)],
        _macs_saved_mistake,
        success="one 2x downsampling saves 3/4 of the MACs of every layer after it.",
        returns="a whole number of MACs",
    )


def _macs_saved_mistake(answer: Any, height: int, width: int, channels: int, num_layers: int) -> str | None:
    full = _conv_macs_measured(height, width, channels, channels) * num_layers
    half = _conv_macs_measured(height // 2, width // 2, channels, channels) * num_layers
    if answer == full - half:
        return None
    case = f"{num_layers} layer(s) of {channels} -> {channels} channels at {height}x{width}"
    if answer == full - full // 2:
        return f"for {case}: halving the side divides the pixels by 4, not 2."
    if answer == half:
        return f"for {case} you returned the MACs that remain; return full minus half-resolution MACs."
    return f"for {case} you returned {answer!r}; count_macs measures {full} at full and {half} at half size."


def _dilated_window(num_layers: int) -> int:
    """Receptive field of ``num_layers`` 3x3 convs with dilations 1, 2, 4, ... (1 for no layer)."""
    if num_layers == 0:
        return 1
    return stack_receptive_field(dilated_receptive_field_layers([2**index for index in range(num_layers)]))


def check_dilated_layers_for_receptive_field(dilated_layers_for_receptive_field: Callable[[int], int]) -> bool:
    """``dilated_layers_for_receptive_field(size)``: fewest 3x3 layers with dilations 1, 2, 4, ... seeing >= size."""
    return check_cases(
        dilated_layers_for_receptive_field,
        [(size,) for size in (3, 7, 8, 100, 255, 256, 2048)],
        _dilated_layers_mistake,
        success=(
            "the window of L doubling dilations is 2**(L + 1) - 1: 7 layers see 255 pixels, which "
            "would take 127 stride-1 3x3 layers, at the same cost per layer."
        ),
        returns="a whole number of layers",
    )


def _dilated_layers_mistake(answer: Any, size: int) -> str | None:
    expected = next(layers for layers in range(size + 1) if _dilated_window(layers) >= size)
    if answer == expected:
        return None
    plain = next(layers for layers in range(size + 1) if 2 * layers + 1 >= size)
    if answer == plain and plain != expected:
        return (
            f"for a {size}-pixel window you gave the stride-1 answer ({plain}); layer k (from 0) has "
            "dilation 2**k, so it adds 2 * 2**k pixels, not 2."
        )
    if isinstance(answer, int) and not isinstance(answer, bool) and 0 <= answer <= 64:
        return (
            f"for a {size}-pixel window: {answer} layers with dilations 1, 2, 4, ... see "
            f"{_dilated_window(answer)} pixels; the fewest that see at least {size} is {expected}."
        )
    return f"for a {size}-pixel window you returned {answer!r}; return a whole number of layers."
