"""Checks for lesson 04 (the price of keeping full resolution).

Each check calls the learner's function on a few cases and compares it with a measurement:
:func:`segedu.analysis.costs.count_macs` on real layers, the bytes autograd saves for a real
:class:`~segedu.models.FullResolutionNet`, or the receptive field of a stack of layers by the
recurrence of :func:`segedu.analysis.receptive_field.stack_receptive_field`. Hints name the likely
mistake; they never print the expected answer.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

from torch import nn

from segedu.analysis.costs import activation_memory, count_macs
from segedu.analysis.receptive_field import stack_receptive_field
from segedu.analysis.stack_costs import dilated_receptive_field_layers
from segedu.course.exercises._verdict import check_cases, right, wrong
from segedu.models import FullResolutionNet

__all__ = [
    "check_conv_macs",
    "check_dilated_layers_for_receptive_field",
    "check_fraction_saved_prediction",
    "check_layers_after_pooling",
    "check_macs_saved_by_downsampling",
    "check_saved_bytes_per_pixel",
]

# (height, width, in_channels, out_channels): small, so the reference layers run in milliseconds.
_CONV_CASES = ((8, 8, 3, 16), (12, 20, 16, 16), (5, 7, 32, 4))


def _is_whole_number(answer: Any) -> bool:
    return isinstance(answer, int) and not isinstance(answer, bool)


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
        f"for {case} you returned {answer!r}, which is not what count_macs measures. How many output "
        "values are there, and how many multiply-accumulates does each one need?"
    )


# (in_channels, width, depth, batch_norm); in_channels is 1 or 3, as FullResolutionNet requires.
_SAVED_CASES = ((3, 16, 18, True), (1, 8, 3, True), (3, 8, 3, False), (1, 4, 1, False))


def _saved_bytes_per_pixel_measured(in_channels: int, width: int, depth: int, batch_norm: bool) -> Fraction:
    """Bytes per input pixel that autograd saves for a FullResolutionNet in training mode (float32)."""
    model = FullResolutionNet(in_channels, 2, width=width, depth=depth, batch_norm=batch_norm)
    small, large = (
        activation_memory(model, (1, in_channels, side, side), backward=True) for side in (8, 16)
    )
    return Fraction(large - small, 16 * 16 - 8 * 8)  # the slope: fixed BatchNorm statistics drop out


def check_saved_bytes_per_pixel(saved_bytes_per_pixel: Callable[[int, int, int, bool], float]) -> bool:
    """``saved_bytes_per_pixel(in_channels, width, depth, batch_norm)``: autograd's bytes per pixel.

    The network is ``FullResolutionNet(in_channels, num_classes, width=width, depth=depth,
    batch_norm=batch_norm)`` in training mode, float32, one image; the answer is compared with the
    slope of :func:`segedu.analysis.costs.activation_memory` (``backward=True``) between two sizes.
    """
    return check_cases(
        saved_bytes_per_pixel,
        _SAVED_CASES,
        _saved_bytes_mistake,
        success=(
            "per pixel autograd keeps the input image, and per layer the conv's output (BatchNorm's "
            "input) and the ReLU's output (which the next conv also needs, stored once). BatchNorm's "
            "output is never kept: ReLU's gradient needs only where its own output is positive."
        ),
        returns="a number of bytes per pixel",
    )


def _saved_bytes_mistake(answer: Any, in_channels: int, width: int, depth: int, batch_norm: bool) -> str | None:
    if isinstance(answer, bool) or not isinstance(answer, (int, float, Fraction)):
        return f"you returned {answer!r}; return a number of bytes per pixel."
    expected = _saved_bytes_per_pixel_measured(in_channels, width, depth, batch_norm)
    if answer == expected:
        return None
    case = f"for in_channels={in_channels}, width={width}, depth={depth}, batch_norm={batch_norm}"
    if answer * 4 == expected:
        return f"{case}: each float32 value takes 4 bytes."
    if answer == expected - 4 * in_channels:
        return f"{case}: the first conv needs its input (the image) for its weight gradient, so it is saved too."
    if answer > expected and (answer - expected) % (4 * width) == 0:
        return (
            f"{case} you counted too many feature maps: a tensor that two layers save (a ReLU's output is "
            "also the next conv's input) is stored once, and an output that no rule names is not saved."
        )
    return (
        f"{case} you returned {answer!r} bytes per pixel; autograd saves a different amount. For one layer, "
        "list what each module saves (conv: its input; BatchNorm: its input; ReLU: its output), count a "
        "tensor that two modules save once, then add the layers up."
    )


def check_layers_after_pooling(layers_after_pooling: Callable[[int, int], int]) -> bool:
    """``layers_after_pooling(size, pools)``: fewest stride-1 3x3 layers after ``pools`` 2x2 poolings seeing >= size."""
    return check_cases(
        layers_after_pooling,
        [(3, 0), (37, 0), (2, 1), (16, 2), (100, 2), (200, 3), (1024, 4), (1000, 5)],
        _layers_after_pooling_mistake,
        success=(
            "after p poolings the window is 2**p (1 + 2L): every 3x3 layer adds 2 * 2**p pixels, so each "
            "pooling roughly halves the number of layers needed to see an object."
        ),
        returns="a whole number of layers",
    )


def _window_after_pooling(pools: int, layers: int) -> int:
    return stack_receptive_field([(2, 2)] * pools + [(3, 1)] * layers) if pools + layers else 1


def _layers_after_pooling_mistake(answer: Any, size: int, pools: int) -> str | None:
    if not _is_whole_number(answer) or answer < 0:
        return f"for a {size}-pixel window after {pools} pooling(s) you returned {answer!r}; return a whole number >= 0."
    window = _window_after_pooling(pools, answer)
    case = f"for a {size}-pixel window after {pools} pooling(s)"
    if window < size:
        return (
            f"{case}: {answer} layers see only {window} pixels. After a 2x2 pooling neighbouring inputs "
            "are 2 pixels apart, so each later 3x3 layer adds more than 2 pixels."
        )
    if answer > 0 and _window_after_pooling(pools, answer - 1) >= size:
        return f"{case}: {answer} layers see {window} pixels, but fewer layers already see {size}."
    return None


def _fraction_saved_measured() -> Fraction:
    """Share of a 3x3 layer's MACs saved by running it on a map with half the side (measured)."""
    full = _conv_macs_measured(16, 16, 8, 8)
    return Fraction(full - _conv_macs_measured(8, 8, 8, 8), full)


def check_fraction_saved_prediction(prediction: Any) -> bool:
    """``prediction``: the share (0 to 1) of a layer's MACs saved by one 2x downsampling, predicted first."""
    if prediction is ... or prediction is None:
        return wrong("write your prediction first: replace the `...` with a number between 0 and 1.")
    if isinstance(prediction, bool) or not isinstance(prediction, (int, float, Fraction)) or not 0 <= prediction <= 1:
        return wrong(f"you wrote {prediction!r}; write a share of the MACs, a number between 0 and 1.")
    measured = _fraction_saved_measured()
    if abs(prediction - measured) <= 0.01:
        return right("halving the side divides the pixels, and so each layer's MACs, by 4: 3/4 are saved.")
    if abs(prediction - Fraction(1, 2)) <= 0.01:
        return wrong("halving the side halves each side, so how many pixels are left?")
    return wrong(
        f"your prediction {prediction!r} is not what count_macs measures; "
        "count the pixels left after halving both sides."
    )


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
    return (
        f"for {case} you returned {answer!r}, which is not the difference count_macs measures between "
        "full and half size. Compute both with your conv_macs and subtract."
    )


_DILATION_FACTOR = 3  # layer k has dilation 3**k


def _dilated_window(num_layers: int) -> int:
    """Receptive field of ``num_layers`` 3x3 convs with dilations 1, 3, 9, ... (1 for no layer)."""
    if num_layers == 0:
        return 1
    dilations = [_DILATION_FACTOR**index for index in range(num_layers)]
    return stack_receptive_field(dilated_receptive_field_layers(dilations))


def check_dilated_layers_for_receptive_field(dilated_layers_for_receptive_field: Callable[[int], int]) -> bool:
    """``dilated_layers_for_receptive_field(size)``: fewest 3x3 layers with dilations 1, 3, 9, ... seeing >= size."""
    return check_cases(
        dilated_layers_for_receptive_field,
        [(size,) for size in (1, 3, 4, 9, 10, 100, 243, 244, 2048)],
        _dilated_layers_mistake,
        success=(
            "with dilations 1, 3, 9, ... the window of L layers is 3**L: each layer triples it, and its 9 "
            "taps, 3**k apart, land exactly on the 3**k-wide windows below, so no pixel is skipped."
        ),
        returns="a whole number of layers",
    )


def _dilated_layers_mistake(answer: Any, size: int) -> str | None:
    if not _is_whole_number(answer) or not 0 <= answer <= 64:
        return f"for a {size}-pixel window you returned {answer!r}; return a whole number of layers."
    window = _dilated_window(answer)
    plain = next(layers for layers in range(size + 1) if 2 * layers + 1 >= size)
    case = f"for a {size}-pixel window"
    too_many = answer > 0 and _dilated_window(answer - 1) >= size
    if answer == plain and (window < size or too_many):
        return f"{case} you gave the stride-1 answer; layer k (from 0) has dilation 3**k, so it adds 2 * 3**k pixels."
    if window < size:
        return f"{case}: {answer} layers with dilations 1, 3, 9, ... see only {window} pixels."
    if too_many:
        return f"{case}: {answer} layers see {window} pixels, but fewer layers already see {size}."
    return None
