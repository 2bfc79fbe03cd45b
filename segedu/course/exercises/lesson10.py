"""Checks for lesson 10's exercises (U-Net: where skips help, why the crop is even, valid sizes).

Every check prints ``Correct! ...`` or ``Not yet: <hint>`` and returns ``True`` or ``False``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from segedu.analysis.unet_sizes import valid_output_size
from segedu.course.exercises._verdict import check_cases, choice_hint, recorded_miss, right, wrong

__all__ = [
    "GAIN_CHOICES",
    "PARITY_CHOICES",
    "PREDICTION_QUESTION",
    "check_crop_parity",
    "check_larger_gain",
    "check_predicted_output_side",
    "check_valid_output_size",
    "skip_differences",
]

PREDICTION_QUESTION = {"input_size": 124, "depth": 3}
"""Exercise 3 asks for the output side of a valid U-Net of this depth for this input side."""

GAIN_CHOICES = ("band", "all pixels", "mixed")
"""Exercise 1 asks whether the skips' mean-IoU gain is larger within the boundary band or over all pixels."""


def _as_int(found: Any) -> int | None:
    """``found`` as an int if it is a whole number (int, integral float, 0-d tensor), else None."""
    if isinstance(found, (str, bytes)):
        return None
    try:
        value = float(found)
    except (TypeError, ValueError):
        return None
    return int(value) if value.is_integer() else None


# --- exercise 2: why the crop is always even ---------------------------------------------------

PARITY_CHOICES = {
    "only 572": "572 = 4 · 143 was picked so that every map on the way is even; other inputs that fit can leave "
                "an odd difference",
    "even input": "the input side is even, and no layer can make an even side odd: a convolution trims 4 "
                  "pixels, a max-pool halves the side",
    "even sides": "each side is even on its own: the skip is what its level's max-pool halves, and the up-conv "
                  "doubles the map below",
    "centred crop": "the crop is centred and takes as many pixels from each side, so the pixels it removes "
                    "always come in pairs",
}
"""Exercise 2's choices: why every skip-minus-up-conv difference of a valid U-Net that fits is even."""


def skip_differences(input_size: int, depth: int = 4) -> list[int]:
    """Per level, top first: the skip's side minus the up-conv output's side in a valid U-Net.

    Args:
        input_size: Side of a square input that fits (every max-pool sees an even side).
        depth: Number of Down (and Up) blocks.

    Returns:
        ``depth`` differences, from the full-resolution level down (176, 80, 32, 8 for 572 and depth 4).
    """
    skips = [input_size - 4]  # inc's output
    for _ in range(depth):
        skips.append(skips[-1] // 2 - 4)  # Down: pool, DoubleConv
    below, differences = skips.pop(), []
    for skip in reversed(skips):
        differences.append(skip - 2 * below)  # the up-conv doubles the side
        below = 2 * below - 4  # Up's DoubleConv
    return differences[::-1]


def check_crop_parity(prediction: Any) -> bool:
    """Check the reason chosen for the crop's even differences (one of :data:`PARITY_CHOICES`).

    Prints the differences for every valid input of depth 4 up to 1020 pixels (all even) before the verdict.
    """
    hint = choice_hint(prediction, PARITY_CHOICES)
    if hint:
        return wrong(hint)
    inputs = [16 * (bottleneck + 8) - 4 for bottleneck in range(4, 57)]  # 188 ... 1020, section 2's rule
    odd = [size for size in inputs if any(difference % 2 for difference in skip_differences(size))]
    print(f"skip minus up-conv output, per level: {skip_differences(572)} for 572, {skip_differences(188)} for 188; "
          f"over all {len(inputs)} valid inputs from {inputs[0]} to {inputs[-1]}, {len(odd)} have an odd difference. "
          f"You chose {prediction!r}.")
    if prediction == "even sides":
        return right("the skip at each level is exactly the map its level's max-pool halves, and an input fits only "
                     "when every max-pool sees an even side; the up-conv's output is twice the map below it. Even "
                     "minus even is even, so Up can always cut the same number of pixels on both sides.")
    reason = {
        "only 572": "the differences printed above are even for every input that fits, so 572 is not special. Look "
                    "for a reason that holds for all of them, and only for inputs that fit.",
        "even input": "one step of that argument fails: halving keeps a side even only when it is a multiple of 4. "
                      "Try 204, which fits: the last pooling halves 18 to 9, odd, and the bottleneck is 5 wide. "
                      "Sides inside a U that fits can be odd, so evenness cannot just be passed down from the input. "
                      "Take the two maps one at a time and ask what forces each side to be even.",
        "centred crop": "that is circular: the crop can be exactly centred because the difference is even, not the "
                        "other way round. Take the two maps one at a time and ask what forces each side to be even.",
    }[prediction]
    return wrong(reason)


# --- exercise 3: output size of a valid U-Net -------------------------------------------------


def _walk(input_size: int, depth: int, *, encoder_trims: bool = True, decoder_trims: bool = True) -> int:
    """The side around a valid U-Net, with some trims left out (to name a learner's slip)."""
    size = input_size - 4
    for _ in range(depth):
        size = size // 2 - (4 if encoder_trims else 0)
    for _ in range(depth):
        size = 2 * size - (4 if decoder_trims else 0)
    return size


def check_predicted_output_side(predicted_side: Any) -> bool:
    """Check a predicted output side for :data:`PREDICTION_QUESTION` against the measured one.

    The reference is :func:`segedu.analysis.unet_sizes.valid_output_size`; a miss is explained by
    the slip it matches (same padding, the depth-4 margin of 184, a forgotten trim).
    """
    input_size, depth = PREDICTION_QUESTION["input_size"], PREDICTION_QUESTION["depth"]
    if predicted_side is ... or predicted_side is None:
        return wrong(f"record your prediction first: replace the `...` with the output side you expect for a "
                     f"{input_size}x{input_size} input to a valid U-Net of depth {depth}.")
    value = _as_int(predicted_side)
    if value is None:
        return wrong(f"record a whole number of pixels; got {predicted_side!r}.")
    expected = valid_output_size(input_size, depth)
    print(f"measured: a valid U-Net of depth {depth} turns {input_size} into {expected} "
          f"({input_size - expected} pixels less); you predicted {value}.")
    if value == expected:
        return right("every DoubleConv trims 4 pixels, and a trim costs more the deeper it sits in the U.")
    slips = [
        (input_size, "that is what same padding gives; valid 3x3 convs trim 2 pixels per side in every DoubleConv."),
        (input_size - 184, "184 is the margin of the depth-4 U-Net of the paper; with one level less, fewer and "
                           "cheaper trims happen."),
        (_walk(input_size, depth, decoder_trims=False), "the way down is right, but each Up's DoubleConv trims 4 "
                                                        "pixels too."),
        (_walk(input_size, depth, encoder_trims=False), "each Down's DoubleConv trims 4 pixels after the pool."),
        (input_size - 4 * (2 * depth + 1), "the trims do not simply add up: a trim at 1/2 resolution costs 2 input "
                                           "pixels, at 1/4 it costs 4, and so on."),
    ]
    for slip, hint in slips:
        if value == slip:
            return wrong(hint)
    return wrong("walk the side around the U, block by block: inc, then each Down (pool, DoubleConv), then each Up "
                 "(up-conv, DoubleConv).")

_SIZE_CASES = [(572, 4), (188, 3), (92, 2), (1020, 5), (236, 4), (44, 1)]


def check_valid_output_size(function: Callable[[int, int], Any]) -> bool:
    """Check ``function(input_size, depth) -> output side`` of a valid U-Net (vs ``valid_output_size``).

    Every input in the checks fits (all max-pools see even sizes).
    """

    def judge(found: Any, input_size: int, depth: int) -> str | None:
        expected = valid_output_size(input_size, depth)
        value = _as_int(found)
        if value is None:
            return f"return a whole number of pixels; got {found!r}."
        if value == expected:
            return None
        bottleneck = input_size - 4
        for _ in range(depth):
            bottleneck = bottleneck // 2 - 4
        case = f"input {input_size}, depth {depth}"
        if value == input_size:
            return "that is 'same' padding; with valid 3x3 convs every DoubleConv trims 2 pixels per side."
        if value == bottleneck * 2**depth:
            return f"for {case} the bottleneck is right ({bottleneck}), but each Up's DoubleConv also trims 4 pixels."
        if value == input_size - 4 * (2 * depth + 1):
            return "the pools halve the size (and the up-convs double it): a trim deep in the U costs more pixels."
        return (
            f"for {case} the output is {expected}; you gave {value}. Walk down the U: inc trims 4, each Down "
            f"halves then trims 4; then up: each Up doubles then trims 4."
        )

    return check_cases(function, _SIZE_CASES, judge, returns="a whole number of pixels",
                       success="572 -> 388, as in the paper's figure.")


# --- exercise 1: where do the skips gain? ------------------------------------------------------


def _gain_side(all_pixel_gain: float, band_gain: float) -> str:
    """"band" or "all pixels": where one seed's mean-IoU gain is larger (ties count as "all pixels")."""
    return "band" if band_gain > all_pixel_gain else "all pixels"


def check_larger_gain(prediction: Any, all_pixel_gains: Sequence[float], band_gains: Sequence[float]) -> bool:
    """Check a prediction, made before the table: is the skips' mean-IoU gain larger in the boundary band?

    The prediction passes once recorded (a guess about a measurement is not graded on being right):
    a match says ``Correct!``, a miss says ``Recorded; the result differs:`` and why.

    Args:
        prediction: One of :data:`GAIN_CHOICES`: ``"band"`` (on every seed the gain, "with skips" minus
            "without skips", is larger within the boundary band than over all pixels), ``"all pixels"``
            (smaller on every seed) or ``"mixed"`` (larger on some seeds, smaller on others).
        all_pixel_gains: Per seed, the gain in mean IoU over all pixels.
        band_gains: Per seed, the gain in mean IoU within the boundary band (same seed order).

    Returns:
        True once a prediction among :data:`GAIN_CHOICES` is recorded and the gains are readable.
    """
    hint = choice_hint(prediction, GAIN_CHOICES)
    if hint:
        return wrong(hint)
    overall, band = [float(gain) for gain in all_pixel_gains], [float(gain) for gain in band_gains]
    if not overall or len(overall) != len(band):
        return wrong(f"pass one all-pixel gain and one band gain per seed; got {len(overall)} and {len(band)}.")
    sides = [_gain_side(a, b) for a, b in zip(overall, band)]
    expected = sides[0] if len(set(sides)) == 1 else "mixed"
    print("mean-IoU gain of the skips per seed (all pixels / band): "
          + ", ".join(f"{a:+.3f} / {b:+.3f}" for a, b in zip(overall, band))
          + f" -> larger in the band on {sides.count('band')} of {len(sides)} seeds; you predicted {prediction!r}.")
    if prediction == expected:
        if expected == "band":
            return right("what a skip brings is its level's encoder map, which says where the edges are; a decoder "
                         "without skips must guess them from the coarse bottleneck and draws blobs. Blob and outline "
                         "disagree mostly near the boundaries, so the gain concentrates there and is diluted over "
                         "all pixels, most of which lie far from any edge. Part of it is headroom too: without "
                         "skips the band's mean IoU starts much lower than the overall one (the table below), so "
                         "the band has more room to gain.")
        where = "over all pixels" if expected == "all pixels" else "in the band on some seeds only"
        return right(f"the measured gains are larger {where}.")
    reason = {
        "band": "the skips' help is expected near the edges",
        "all pixels": "a larger gain over all pixels would mean the skips help far from the edges at least as "
                      "much as near them",
        "mixed": "seeds differ a lot in this short run, but not in this comparison",
    }[prediction]
    return recorded_miss(f"{reason}; the measurement says {expected!r}. Look at the per-seed gains above.")
