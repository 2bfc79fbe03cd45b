"""Checks for the exercises of lesson 09 (SegNet: max-pooling indices and unpooling).

Every check prints ``Correct! ...`` or ``Not yet: <hint>`` and returns ``True`` or ``False``. The questions
that reasoning answers (exercise 1's collisions, exercise 2's memory) are graded: a wrong answer gets a hint
that names neither the answer nor the measurement, which is printed once the answer is right. Predictions of
a measured outcome pass once recorded: exercise 3's density (:func:`check_density_prediction`) says
``Correct! ...`` or ``Recorded; the result differs: ...``, and section 5's prediction is kept by
:func:`record_scratch_prediction` before the table and printed beside the verdicts by
:func:`compare_scratch_prediction`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from segedu.analysis.upsampling import bed_of_nails, nearest_upsample
from segedu.course.exercises._verdict import borrowed_names, check_cases, choice_hint, recorded_miss, right, wrong

__all__ = [
    "DENSITY_CHOICES",
    "MEMORY_KEYS",
    "MEMORY_SHARES",
    "QUADRUPLED_WIDTHS",
    "SCRATCH_CHOICES",
    "check_collision_prediction",
    "check_density_prediction",
    "check_max_unpool",
    "check_memory_prediction",
    "check_quadrupled_share",
    "check_unpooled_zero_fraction",
    "compare_scratch_prediction",
    "record_scratch_prediction",
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


def _sentences(mistakes: Sequence[str]) -> str:
    """Join hints into one text, each after the first starting with a capital letter."""
    return " ".join(mistake[0].upper() + mistake[1:] if at else mistake for at, mistake in enumerate(mistakes))


DENSITY_CHOICES = ("at least 75 %", "between 25 and 75 %", "under 25 %")


def _decoder_zero_fractions(model: nn.Module, image: torch.Tensor) -> tuple[list[float], list[float]]:
    """Zero fractions after unpooling and after the convolutions, per decoder stage of ``model`` on ``image``."""
    from segedu.analysis.pooling_indices import trace_segnet, zero_fraction

    trace = trace_segnet(model, image)
    stages = list(model.decoder)
    unpooled = [zero_fraction(trace.unpooled[name]) for name in stages]
    decoded = [zero_fraction(trace.decoded[name]) for name in stages]
    return unpooled, decoded


def check_density_prediction(prediction: Any, model: nn.Module, image: torch.Tensor) -> bool:
    """Compare a recorded prediction of how many zeros a SegNet decoder stage's output has with the measurement.

    ``prediction`` is one of :data:`DENSITY_CHOICES` (for the map after a decoder stage's convolutions,
    every stage). The measurement is made on ``model`` (a SegNet) and ``image`` (C, H, W) with
    :func:`~segedu.analysis.pooling_indices.trace_segnet`. The prediction passes once recorded (a guess
    about a measurement is not graded on being right): a match says ``Correct!``, a miss says
    ``Recorded; the result differs:`` and why.
    """
    hint = choice_hint(prediction, DENSITY_CHOICES)
    if hint is not None:
        return wrong(hint)
    unpooled, decoded = _decoder_zero_fractions(model, image)
    low, high = min(decoded), max(decoded)
    mean = sum(decoded) / len(decoded)
    measured = DENSITY_CHOICES[0 if mean >= 0.75 else 1 if mean >= 0.25 else 2]  # by the stages' mean
    print(f"measured, zeros per decoder stage (deepest first): unpooled {', '.join(f'{z:.0%}' for z in unpooled)}; "
          f"after the convolutions {', '.join(f'{z:.0%}' for z in decoded)}.")
    if prediction != measured:
        if prediction == DENSITY_CHOICES[0]:
            return recorded_miss(f"after the convolutions the stages have only {low:.0%} to {high:.0%} zeros "
                                 f"({measured!r}): a convolution computes a value at every position, written or "
                                 "empty, and the ReLU zeros only the negative results.")
        return recorded_miss(f"after the convolutions the stages still have {low:.0%} to {high:.0%} zeros "
                             f"({measured!r}): each convolution is followed by a ReLU, which zeros every negative "
                             "value.")
    return right(f"the stages' outputs have {low:.0%} to {high:.0%} zeros, where the unpooled maps have 75 % or more: "
                 "the convolutions fill the empty positions in, and the ReLU zeros about half of what they produce.")


_PAPER_WIDTHS = (64, 128, 256, 512, 512)  # SegNet.paper()'s encoder stages (VGG16)
MEMORY_SHARES = ("under 25 %", "25 to 50 %", "over 50 %")
MEMORY_KEYS = ("largest stage", "stage 1's share")
QUADRUPLED_WIDTHS = (64, 256, 1024, 4096, 16384)  # a made-up VGG whose channels quadruple at every pool


def _measured_index_bytes(
    size: int = 64, widths: Sequence[int] = _PAPER_WIDTHS
) -> tuple[list[int], list[torch.dtype]]:
    """Bytes and dtype of the int64 indices of every encoder stage for one 3 x size x size image.

    Measured on real tensors: each stage's map before pooling (zeros of the right shape, ``widths[i]``
    channels) is pooled 2x2 with ``return_indices=True`` and the indices' bytes are counted.
    """
    counted, dtypes = [], []
    for stage, channels in enumerate(widths):
        side = size // 2**stage  # the map before stage (stage + 1)'s pool
        _, indices = F.max_pool2d(torch.zeros(1, channels, side, side), 2, return_indices=True)
        counted.append(indices.numel() * indices.element_size())
        dtypes.append(indices.dtype)
    return counted, dtypes


def _share_choice(share: float) -> str:
    """The choice of :data:`MEMORY_SHARES` that a share falls in."""
    return MEMORY_SHARES[0 if share < 0.25 else 1 if share < 0.5 else 2]


def check_memory_prediction(prediction: Any) -> bool:
    """Check where SegNet.paper()'s index memory goes, worked out before the lesson measures it.

    ``prediction`` maps ``"largest stage"`` to one of ``"stage1"`` ... ``"stage5"`` and ``"stage 1's share"``
    to one of :data:`MEMORY_SHARES` (stage 1's share of the indices' bytes over all five stages). The
    reference is measured: maps of each stage's shape are pooled with ``F.max_pool2d(..., return_indices=True)``
    and the indices' bytes counted. A wrong answer gets a hint without the measurement, which is printed
    once the answer is right. Why it comes out so is asked next (:func:`check_quadrupled_share`).
    """
    stages = [f"stage{number}" for number in range(1, len(_PAPER_WIDTHS) + 1)]
    if not isinstance(prediction, dict) or set(prediction) != set(MEMORY_KEYS):
        return wrong(f"record a dict with the keys {list(MEMORY_KEYS)}; got {prediction!r}.")
    if any(value is ... or value is None for value in prediction.values()):
        return wrong("record your prediction first: replace every `...` (a stage name and a share).")
    if prediction["largest stage"] not in stages:
        return wrong(f"'largest stage' must be one of {stages}; got {prediction['largest stage']!r}.")
    hint = choice_hint(prediction["stage 1's share"], MEMORY_SHARES)
    if hint is not None:
        return wrong("'stage 1's share': " + hint)
    counted, _ = _measured_index_bytes()
    share = counted[0] / sum(counted)
    largest = stages[max(range(len(counted)), key=counted.__getitem__)]
    measured_share = _share_choice(share)
    mistakes = []
    if prediction["largest stage"] != largest:
        mistakes.append("'largest stage': one index per channel per 2x2 window, so count channels x windows for "
                        "each stage (stage 1: 64 channels on a 64x64 map; stage 5: 512 channels on a 4x4 map).")
    if prediction["stage 1's share"] != measured_share:
        mistakes.append("'stage 1's share': from one stage to the next a pool quarters the pixels and VGG at most "
                        "doubles the channels. If stage 1's bytes count 1, at most how much do the other four count "
                        "together?")
    if mistakes:
        return wrong(_sentences(mistakes))
    print("measured, int64 indices of SegNet.paper() on one 3x64x64 image: "
          + ", ".join(f"{stage} {count / 1024:g} KiB" for stage, count in zip(stages, counted))
          + f"; stage 1 holds {share:.0%}")
    return right(f"stage 1 is the largest and holds {share:.0%} of the index bytes; each stage holds at most half "
                 "of the one before. The next question asks why.")


def check_quadrupled_share(prediction: Any) -> bool:
    """Check a prediction of stage 1's share of the index bytes if the channels quadrupled at every pool.

    ``prediction`` is one of :data:`MEMORY_SHARES`: stage 1's share of all five stages' int64 index bytes
    for a made-up VGG with :data:`QUADRUPLED_WIDTHS` channels on a 3x64x64 image. The reference is
    measured as in :func:`check_memory_prediction`, with these widths, and printed once the answer is right.
    """
    hint = choice_hint(prediction, MEMORY_SHARES)
    if hint is not None:
        return wrong(hint)
    counted, _ = _measured_index_bytes(widths=QUADRUPLED_WIDTHS)
    share = counted[0] / sum(counted)
    measured = _share_choice(share)
    if prediction != measured:
        return wrong("a 2x2 pool quarters the pixels, and here the channels quadruple at every stage. What happens "
                     "to channels x pixels from one stage to the next, and so to each stage's share of five?")
    print("measured, int64 indices with channels " + ", ".join(map(str, QUADRUPLED_WIDTHS)) + ": "
          + ", ".join(f"stage{at} {count / 1024:g} KiB" for at, count in enumerate(counted, start=1))
          + f"; stage 1 holds {share:.0%}")
    return right("quadrupled channels cancel the pool's quartering of the pixels: every stage holds the same "
                 "bytes. VGG only doubles its channels (and not at all at stage 5), so in SegNet.paper() each "
                 "stage holds at most half of the one before, and stage 1 over half of them all. A U-Net's skips "
                 "follow the same pattern, at twice the bytes.")


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
    """Check ``function(x, indices, output_size)`` against ``F.max_unpool2d``; calling a library unpooling fails."""
    borrowed = borrowed_names(function, ("max_unpool2d", "MaxUnpool2d", "max_unpool"))
    if borrowed:
        return wrong(f"your function calls {borrowed[0]}, which does the unpooling for you: write each value into a "
                     "map of zeros yourself, at the position its index names.")
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
    and the repeated indices of each (batch item, channel) plane are counted. A wrong answer gets one hint,
    the same whichever pooling is wrong, so that it gives away neither answer; the counts are printed once
    both are right. SegNet's 2x2 windows of stride 2 tile the map (no index can repeat); 3x3 windows of
    stride 2 share a row or a column with their neighbours, so one pixel can be the maximum of two windows.
    """
    if not isinstance(prediction, dict) or set(prediction) != set(POOLINGS):
        return wrong(f"record a dict with the keys {list(POOLINGS)}, each True or False; got {prediction!r}.")
    if any(value is ... or value is None for value in prediction.values()):
        return wrong("record your prediction first: replace every `...` with True (two values can be sent to the "
                     "same position) or False.")
    if not all(isinstance(value, bool) for value in prediction.values()):
        return wrong(f"record True or False for each pooling; got {prediction!r}.")
    counts = {pooling: _repeated_indices(*_POOLING_SIZES[pooling]) for pooling in POOLINGS}
    if any(prediction[pooling] != (counts[pooling][0] > 0) for pooling in POOLINGS):
        return wrong("at least one answer is not right yet. Draw each pooling's windows on a 6x6 grid: a window is "
                     "k pixels wide and the next one starts 2 pixels further. A pixel that lies in two windows can "
                     "be the maximum of both; a pixel that lies in one window only cannot.")
    for pooling, (repeated, total) in counts.items():
        print(f"measured on random maps, {pooling}: {repeated} of {total} indices repeat one of their plane")
    return right("SegNet's 2x2 windows of stride 2 tile the map: every pixel belongs to exactly one window, so "
                 "no two indices can point to it. 3x3 windows with stride 2 share their border row or column with "
                 "the next window, so a large value on that shared line is the maximum of both windows and both "
                 "indices point to it: unpooling writes two values to one position and only one survives.")


# --- section 5: the from-scratch study, predicted before its table is shown ----------------------

SCRATCH_CHOICES = ("beats both", "beats only top-left", "beats only nearest", "beats neither")
SCRATCH_REGIONS = {"band": "band", "all pixels": "all"}  # the learner's key -> the lesson's region name
_SCRATCH_RULES = ("top-left", "nearest")


_RECORDED_SCRATCH: dict[str, str] = {}
"""The first prediction that :func:`record_scratch_prediction` accepted (keys of :data:`SCRATCH_REGIONS`)."""


def record_scratch_prediction(prediction: Any) -> bool:
    """Record a prediction of the from-scratch study's verdicts, before the study's table is shown.

    Nothing is judged. The first valid prediction is kept (a later call does not replace it), so it
    cannot be changed after the table; :func:`compare_scratch_prediction` compares it with the verdicts.

    Args:
        prediction: ``{"band": choice, "all pixels": choice}``, each one of :data:`SCRATCH_CHOICES`: whether
            SegNet with its indices beats both index-free decoders, only one of them, or neither.

    Returns:
        Whether a valid prediction is recorded (printed ``Recorded: ...``), else ``False`` with a hint.
    """
    if not isinstance(prediction, dict) or set(prediction) != set(SCRATCH_REGIONS):
        return wrong(f"record a dict with the keys {', '.join(map(repr, SCRATCH_REGIONS))}, each one of "
                     f"{', '.join(map(repr, SCRATCH_CHOICES))}.")
    for key in SCRATCH_REGIONS:
        hint = choice_hint(prediction[key], SCRATCH_CHOICES)
        if hint is not None:
            return wrong(f"{key!r}: {hint}")
    if _RECORDED_SCRATCH:
        print(f"Recorded: {_RECORDED_SCRATCH} earlier. The first prediction is kept (restart the kernel to record "
              "a new one); the cell under the study's table compares it.")
        return True
    _RECORDED_SCRATCH.update(prediction)
    print(f"Recorded (not graded): {dict(prediction)}. Run the study's table; the cell under it compares.")
    return True


def compare_scratch_prediction(verdicts: Any) -> bool:
    """Print the prediction recorded by :func:`record_scratch_prediction` beside the measured verdicts.

    The feedback names, region by region, which index-free decoder the indices beat by the course's
    two-test rule, whether the prediction was right or not.

    Args:
        verdicts: ``(rule, region) -> verdict`` for rule ``"top-left"`` and ``"nearest"`` and region ``"band"``
            and ``"all"``; a verdict is ``"indices ahead"``, ``"<rule> ahead"`` or ``"not distinguishable"``.

    Returns:
        Whether a prediction had been recorded and the verdicts could be read.
    """
    if not _RECORDED_SCRATCH:
        return wrong("no prediction recorded yet: fill in `scratch_prediction` and run the cell that records it, "
                     "above the study's table.")
    try:
        beaten = {key: [rule for rule in _SCRATCH_RULES if verdicts[rule, region] == "indices ahead"]
                  for key, region in SCRATCH_REGIONS.items()}
    except (KeyError, TypeError):
        return wrong("pass the study's verdicts: (rule, region) -> verdict for rules 'top-left' and 'nearest' and "
                     "regions 'band' and 'all'.")
    parts = []
    for key, region in SCRATCH_REGIONS.items():
        measured = ("beats both" if len(beaten[key]) == 2 else "beats neither" if not beaten[key]
                    else f"beats only {beaten[key][0]}")
        reasons = ", ".join(f"against {rule}: {verdicts[rule, region]}" for rule in _SCRATCH_RULES)
        predicted = _RECORDED_SCRATCH[key]
        outcome = "as you predicted" if predicted == measured else f"you predicted {predicted!r}"
        parts.append(f"{key}: SegNet with its indices {measured!r} ({reasons}; {outcome})")
    print(f"By the two-test rule, {'; '.join(parts)}. A difference counts only when the 95 % t-interval leaves "
          "out 0 and the sign-flip p is at most 0.05.")
    return True
