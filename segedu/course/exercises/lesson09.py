"""Checks for the exercises of lesson 09 (SegNet: max-pooling indices and unpooling).

Every check prints ``Correct! ...`` or ``Not yet: <hint>`` and returns ``True`` or ``False``. Section 5's
prediction is recorded, not graded: :func:`record_corner_loss_prediction` prints it beside the measurement.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F

from segedu.analysis.upsampling import bed_of_nails, nearest_upsample
from segedu.course.exercises._verdict import check_cases, choice_hint, right, wrong

__all__ = [
    "CORNER_LOSS_CHOICES",
    "check_collision_prediction",
    "check_index_memory",
    "check_max_unpool",
    "check_unpooled_zero_fraction",
    "record_corner_loss_prediction",
]


_INPUT_ZERO_FRACTIONS = (0.3, 0.0, 0.5, 0.8, 1.0)


def _unpooled_zero_fraction_measured(input_zero_fraction: float) -> float:
    """Unpool a real 2x2-pooled map whose values are 0 in the given fraction; count its zeros."""
    generator = torch.Generator().manual_seed(11)
    before = torch.randn(2, 5, 8, 8, generator=generator)  # (B, C, H, W) before pooling
    _, indices = F.max_pool2d(before, 2, return_indices=True)  # (2, 5, 4, 4): 160 windows
    values = torch.rand(indices.shape, generator=generator) + 0.5  # positive: no accidental zeros
    zeroed = torch.randperm(values.numel(), generator=generator)[: round(input_zero_fraction * values.numel())]
    values.view(-1)[zeroed] = 0.0  # ReLU zeros in the map that gets unpooled
    unpooled = F.max_unpool2d(values, indices, 2)  # (2, 5, 8, 8)
    return float((unpooled == 0).sum()) / unpooled.numel()


def check_unpooled_zero_fraction(function: Callable[[float], Any]) -> bool:
    """Check ``function(r) -> float``: the zero fraction after 2x2 max-unpooling a map with ``r`` zeros.

    The reference is measured: real maps with a known fraction of zeros are unpooled with
    ``F.max_unpool2d`` and their zeros counted.
    """
    return check_cases(
        function,
        [(fraction,) for fraction in _INPUT_ZERO_FRACTIONS],
        _unpooled_zero_fraction_mistake,
        success="three of every four positions are empty, and the fourth is 0 whenever the value itself was.",
    )


def _unpooled_zero_fraction_mistake(found: Any, input_zero_fraction: float) -> str | None:
    expected = _unpooled_zero_fraction_measured(input_zero_fraction)
    try:
        value = float(found)
    except (TypeError, ValueError):
        return f"return one number between 0 and 1; got {type(found).__name__}."
    if abs(value - expected) < 1e-6:
        return None
    r = input_zero_fraction
    if abs(value - 0.75) < 1e-6:
        return (f"with r = {r} you still say 0.75: a value that was already 0 before unpooling is also 0 "
                "after it, at its remembered position.")
    if abs(value - r) < 1e-6:
        return "the unpooled map is 4 times larger than the pooled one: where do the other 3 positions of a window go?"
    if abs(value - (1 - expected)) < 1e-6:
        return "that is the fraction of nonzero entries: the question asks for the zeros."
    if abs(value - (0.75 * r + 0.25)) < 1e-6 or abs(value - 0.75 * r) < 1e-6:
        return "only one position in four receives a value: which share of the map does r apply to?"
    return (f"when a fraction r = {r} of the unpooled values are 0, the measured fraction of zeros after "
            f"unpooling is {expected:.3f}; you gave {value:.3f}. Count per 2x2 window.")


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
    filled, expected_filled = found != 0, expected != 0
    if not filled.any():
        return "your map is all zeros: every value of x must land somewhere in it."
    if int(filled.sum()) > int(expected_filled.sum()):
        return (
            "more positions hold a value than x has values: each value goes to exactly one position "
            "(its index), and every other position stays 0."
        )
    if torch.equal(filled, expected_filled):
        return (
            "the right positions, but not the right values there: a position must receive the value of x "
            "whose index points to it (same batch item, same channel)."
        )
    batch, channel, row, column = (int(i) for i in (found != expected).nonzero()[0])
    return (
        f"for x of shape {tuple(values.shape)}, at batch {batch}, channel {channel}, row {row}, column {column} "
        f"you have {float(found[batch, channel, row, column]):.3f}, F.max_unpool2d has "
        f"{float(expected[batch, channel, row, column]):.3f}. Which value of x has its index at "
        f"{row} * W_out + {column}?"
    )


def _repeated_indices(kernel_size: int, stride: int) -> tuple[int, int]:
    """Pool random maps with return_indices=True; count indices that repeat one of their own plane.

    Returns:
        ``(repeated, total)``: indices that equal an earlier index of the same (batch item, channel)
        plane, and all indices.
    """
    generator = torch.Generator().manual_seed(5)
    before = torch.randn(2, 8, 17, 17, generator=generator)  # (B, C, H, W): 16 planes
    _, indices = F.max_pool2d(before, kernel_size, stride=stride, return_indices=True)  # (2, 8, h, w)
    planes = indices.flatten(2)  # (2, 8, h * w)
    repeated = sum(plane.numel() - plane.unique().numel() for plane in planes.flatten(0, 1))
    return int(repeated), planes.numel()


POOLINGS = ("2x2 stride 2", "3x3 stride 2")  # the keys of the collision prediction: (kernel size, stride)
_POOLING_SIZES = {"2x2 stride 2": (2, 2), "3x3 stride 2": (3, 2)}


def check_collision_prediction(prediction: Any) -> bool:
    """Check a predicted yes/no per pooling: can two indices of one plane be equal after that max-pool?

    ``prediction`` maps each of :data:`POOLINGS` (``"2x2 stride 2"``, ``"3x3 stride 2"``) to True or
    False. The reference is measured: random maps are pooled with ``F.max_pool2d(..., return_indices=True)``
    and the repeated indices of each (batch item, channel) plane are counted. SegNet's 2x2 windows of
    stride 2 tile the map (no index can repeat); 3x3 windows of stride 2 share a row or a column with
    their neighbours, so one pixel can be the maximum of two windows.
    """
    if not isinstance(prediction, dict) or set(prediction) != set(POOLINGS):
        return wrong(f"record a dict with the keys {list(POOLINGS)}, each True or False; got {prediction!r}.")
    if any(value is ... or value is None for value in prediction.values()):
        return wrong("record your prediction first: replace every `...` with True (two values can be sent to the "
                     "same position) or False.")
    if not all(isinstance(value, bool) for value in prediction.values()):
        return wrong(f"record True or False for each pooling; got {prediction!r}.")
    measured = {}
    for pooling in POOLINGS:
        repeated, total = _repeated_indices(*_POOLING_SIZES[pooling])
        measured[pooling] = repeated > 0
        print(f"measured on random maps, {pooling}: {repeated} of {total} indices repeat one of their plane")
    mistakes = [pooling for pooling in POOLINGS if prediction[pooling] != measured[pooling]]
    if not mistakes:
        return right("SegNet's 2x2 windows of stride 2 tile the map: every pixel belongs to exactly one window, so "
                     "no two indices can point to it. 3x3 windows with stride 2 share their border row or column "
                     "with the next window, so a large value on that shared line is the maximum of both windows and "
                     "both indices point to it: unpooling writes two values to one position and only one survives.")
    if mistakes == ["2x2 stride 2"]:
        return wrong("2x2 windows of stride 2 do not overlap: each pixel lies in exactly one window, so it can be "
                     "the maximum of one window at most (0 repeats, counted above).")
    if mistakes == ["3x3 stride 2"]:
        return wrong("a 3x3 window is 3 pixels wide but the next one starts only 2 pixels further, so neighbouring "
                     "windows share a row or a column. A large value on that shared line is the maximum of both "
                     "windows, and both indices point to the same position (counted above).")
    return wrong("both are the other way round: which windows overlap? A pixel that lies in two windows can be the "
                 "maximum of both; a pixel in one window only cannot (counted above).")


# --- section 5: what share of the mean IoU do top-left corners cost? ---------------------------

CORNER_LOSS_CHOICES = ("under 10 %", "10 to 30 %", "30 to 50 %", "over 50 %")
_CORNER_LOSS_UPPER = (0.1, 0.3, 0.5)  # upper bounds of the first three choices; the last has none


def _loss_choice(loss: float) -> str:
    """The choice of :data:`CORNER_LOSS_CHOICES` that a lost share of the mean IoU falls in."""
    return next((choice for choice, upper in zip(CORNER_LOSS_CHOICES, _CORNER_LOSS_UPPER) if loss < upper),
                CORNER_LOSS_CHOICES[-1])


def record_corner_loss_prediction(
    prediction: Any,
    reference: float,
    top_left: float,
    random_corners: Sequence[float],
    *,
    background_only: float | None = None,
) -> bool:
    """Print a recorded prediction of the share of mean IoU lost with top-left corners, beside the measurement.

    Nothing is judged: the prediction is recorded before the table of section 5 shows the scores.

    Args:
        prediction: The learner's guess, one of :data:`CORNER_LOSS_CHOICES`: the share of its mean IoU the
            trained SegNet loses when every decoder stage unpools to the top-left corners.
        reference: The mean IoU with the pooling indices.
        top_left: The mean IoU with top-left corners at every stage.
        random_corners: The mean IoU with random corners at every stage, one value per corner draw.
        background_only: The mean IoU of predicting background everywhere on the same scenes (no model), the
            floor the other scores are read against; not printed when ``None``.

    Returns:
        Whether a valid prediction was recorded (printed ``Recorded: ...``), else ``False`` with a hint.
    """
    hint = choice_hint(prediction, CORNER_LOSS_CHOICES)
    if hint is not None:
        return wrong(hint)
    draws = [float(value) for value in random_corners]
    if not float(reference) > 0 or not draws:
        return wrong("pass the mean IoU with the indices (a positive number), the top-left score and a list of "
                     "random-corner scores, one per draw.")
    if background_only is not None and not 0 <= float(background_only) < float(reference):
        return wrong("background_only is the mean IoU of predicting background everywhere: a number from 0 up to "
                     "the mean IoU with the indices.")
    loss = 1 - float(top_left) / float(reference)
    random_losses = [1 - value / float(reference) for value in draws]
    measured = _loss_choice(loss)
    outcome = "The measurement agrees" if prediction == measured else f"The measurement falls in {measured!r}"
    random_choices = sorted({_loss_choice(value) for value in random_losses}, key=CORNER_LOSS_CHOICES.index)
    print(f"Recorded: {prediction!r} (not graded). With the indices the mean IoU is {float(reference):.3f}; "
          f"with top-left corners at every stage it is {float(top_left):.3f}: {loss:.0%} lost. {outcome}. "
          f"Random corners at every stage lose {min(random_losses):.0%} to {max(random_losses):.0%} "
          f"({len(draws)} draws; {' and '.join(map(repr, random_choices))}) with no shift of the map: the trained "
          "decoder relies on where its values land."
          + ("" if background_only is None else
             f" For scale: predicting background everywhere, with no model, scores {float(background_only):.3f} "
             f"({1 - float(background_only) / float(reference):.0%} lost)."))
    return True
