"""Checks for lesson 09's exercises (U-Net: where skips help, a U-Net without its skips, valid sizes).

Every check prints ``Correct! ...`` or ``Not yet: <hint>`` and returns ``True`` or ``False``; the one
exception is exercise 5 (:func:`check_all_skips_zeroed`, optional part D), graded on recording a prediction: a recorded
number that misses prints ``Recorded. ...`` with the measurement and why, and still returns ``True``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from segedu.analysis.unet_sizes import valid_output_size
from segedu.course.exercises._verdict import check_cases, choice_hint, right, wrong

__all__ = [
    "GAIN_CHOICES",
    "PARITY_CHOICES",
    "PREDICTION_QUESTION",
    "TILE_QUESTION",
    "ZEROED_TOLERANCE",
    "check_all_skips_zeroed",
    "check_crop_parity",
    "check_larger_gain",
    "check_predicted_output_side",
    "check_tile_prediction",
    "check_valid_output_size",
    "skip_differences",
]

PREDICTION_QUESTION = {"input_size": 124, "depth": 3}
"""Exercise 3 asks for the output side of a valid U-Net of this depth for this input side."""

TILE_QUESTION = {"image_size": 100, "tile_sizes": (20, 68, 84, 100), "depth": 4}
"""Exercise 4 (optional part B) asks which of these output-tile sides reproduce the whole-image pass on this image."""

GAIN_CHOICES = ("band", "all pixels", "mixed")
"""Exercise 1 asks whether the skips' mean-IoU gain is larger within the boundary band or over all pixels."""

ZEROED_TOLERANCE = 0.1
"""Exercise 5 (optional part D): a predicted mean IoU this close to the measured one counts as a hit."""


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
    "only 572": "572 = 4 · 143 was chosen so that every map on the way comes out even; for other inputs that fit, "
                "the trims and the halvings can leave the skip and the up-conv's output an odd number of pixels "
                "apart",
    "even trims": "between the skip and the up-conv's output lie only DoubleConvs, each trimming 4 pixels, and 2x2 "
                  "steps; sums of 4s are even, so the difference is even for any input, whether it fits or not",
    "even sides": "the skip is the map its level's max-pool halves, so in an input that fits its side is even; the "
                  "up-conv's output is twice the side of the map below, so it is even too, and so is the difference",
    "centred crop": "the crop is centred: it takes the same number of pixels from both sides, so the pixels it "
                    "removes come in pairs and the difference is twice the crop per side",
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
        "even trims": "try your argument on an input that does not fit, say 573: the same trims of 4 happen, yet "
                      "inc's output is 569 pixels wide, odd. A trim of 4 keeps a side's parity; it cannot make it "
                      "even. Take the two maps one at a time and ask what forces each side to be even.",
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


# --- exercise 4: which tiles will match? -------------------------------------------------------


def _tile_starts(image_size: int, tile_size: int) -> list[int]:
    """Where :func:`segedu.analysis.overlap_tile.tile_grid` starts the tiles (the same in rows and columns)."""
    from segedu.analysis.overlap_tile import tile_grid

    return sorted({left for _, left in tile_grid(image_size, image_size, tile_size)})


def check_tile_prediction(prediction: Any) -> bool:
    """Check a predicted set: which output tiles of :data:`TILE_QUESTION` reproduce the whole-image pass?

    The reference is arithmetic on :func:`segedu.analysis.overlap_tile.tile_grid`: overlap-tile
    with a valid U-Net of depth ``d`` reproduces the whole-image pass when every tile starts at a
    multiple of ``2**d`` (the max-pools then see the same 2x2 grid); the lesson measures it after.

    Args:
        prediction: The tile sides (a set, list or tuple, possibly empty) expected to match, each one of
            ``TILE_QUESTION["tile_sizes"]``.
    """
    image_size, sizes, depth = TILE_QUESTION["image_size"], TILE_QUESTION["tile_sizes"], TILE_QUESTION["depth"]
    listed = ", ".join(str(size) for size in sizes)
    if prediction is ... or prediction is None:
        return wrong(f"record your prediction first: replace the `...` with the set of tile sides, among {listed}, "
                     f"that you expect to reproduce the whole-image pass (`set()` if none).")
    if isinstance(prediction, (str, bytes, int, float)) or not hasattr(prediction, "__iter__"):
        return wrong(f"record a set of tile sides, e.g. {{{sizes[0]}}} or set(); got {prediction!r}.")
    try:
        chosen = {_as_int(size) for size in prediction}
    except TypeError:
        return wrong(f"record a set of tile sides, e.g. {{{sizes[0]}}} or set(); got {prediction!r}.")
    if None in chosen or not chosen <= set(sizes):
        return wrong(f"every side in the set must be one of {listed}; got {prediction!r}.")
    grid = 2**depth
    starts = {size: _tile_starts(image_size, size) for size in sizes}
    expected = {size for size in sizes if all(start % grid == 0 for start in starts[size])}
    print(f"tile_grid on {image_size} pixels starts the tiles at: "
          + "; ".join(f"{size}: {starts[size]}" for size in sizes)
          + f". You predicted {sorted(chosen)}.")
    if chosen == expected:
        return right(f"what matters is where the tiles start, not the tile size. tile_grid steps by the tile size "
                     f"and moves the last tile inward to end at the border. A valid side is {grid}k + 4, and so is "
                     f"{image_size}: with two tiles per side the second starts at {image_size} minus the side, a "
                     f"multiple of {grid}; with three or more the second starts at the side itself, 4 pixels off "
                     f"the grid. One tile as large as the image is the whole pass.")
    missed = sorted(expected - chosen)
    extra = sorted(chosen - expected)
    hints = []
    if missed:
        hints.append(f"{', '.join(map(str, missed))} "
                     f"{'is not a multiple' if len(missed) == 1 else 'are not multiples'} of {grid}, "
                     f"but that alone does not decide it: look at where tile_grid puts each tile, the last one "
                     f"included, and check those starts against the {grid}-pixel grid of the max-pools.")
    if extra:
        hints.append(f"for {', '.join(map(str, extra))}, some tile starts off the {grid}-pixel grid (see the starts "
                     f"above): its max-pools take other 2x2 blocks than the whole image's.")
    return wrong(" ".join(hints))


# --- exercise 5: a trained U-Net with all four skips zeroed --------------------------------------


def check_all_skips_zeroed(prediction: Any, intact_miou: float, zeroed_miou: float, labelled_background: float,
                           true_background: float, num_classes: int) -> bool:
    """Record a predicted mean IoU of the shipped shapes U-Net with all four skips zeroed, then explain it.

    Graded on recording a number from 0 to 1, not on matching: the point is the comparison. A
    prediction within :data:`ZEROED_TOLERANCE` of the measurement prints ``Correct! ...``, a farther
    one ``Recorded. ...``; both print the measurement and why, and return True.

    Args:
        prediction: The mean IoU the learner expects.
        intact_miou: The measured mean IoU with every skip kept.
        zeroed_miou: The measured mean IoU with the skips into all four decoder blocks replaced by zeros.
        labelled_background: Share of the pixels the zeroed network labels background.
        true_background: Share of the pixels that are background in the truth.
        num_classes: Number of classes the mean IoU averages over.

    Returns:
        True once a number from 0 to 1 is recorded.
    """
    if prediction is ... or prediction is None:
        return wrong("record your prediction first: replace the `...` with the mean IoU (a number from 0 to 1) you "
                     "expect with all four skips zeroed.")
    if isinstance(prediction, (str, bytes, bool)):
        return wrong(f"record a number from 0 to 1; got {prediction!r}.")
    try:
        value = float(prediction)
    except (TypeError, ValueError):
        return wrong(f"record a number from 0 to 1; got {prediction!r}.")
    if not 0 <= value <= 1:
        return wrong(f"a mean IoU lies between 0 and 1; got {value}.")
    floor = true_background / num_classes
    print(f"measured: with all four skips zeroed the shapes U-Net scores mean IoU {zeroed_miou:.3f} (intact "
          f"{intact_miou:.3f}); you predicted {value:.3f}.")
    reading = (f"It labels {labelled_background:.1%} of the pixels background, where {true_background:.1%} truly "
               f"are: it draws almost no object, and labelling every pixel background scores {true_background:.3f} / "
               f"{num_classes} = {floor:.3f}. The encoder and the bottleneck are untouched, so up1 receives from below "
               f"exactly what it always did; but this decoder was trained with its skips, and each Up's DoubleConv "
               f"learned its weights for the skip and the map from below together. An all-zero skip is an input it "
               f"never saw. Section 3's U trained without skips learned to do without them; this one did not. "
               f"Switching the skips off measures how much one trained network relies on them, not what a U "
               f"without skips could learn.")
    if abs(value - zeroed_miou) <= ZEROED_TOLERANCE:
        return right(reading)
    print(f"Recorded. You were {abs(value - zeroed_miou):.2f} {'above' if value > zeroed_miou else 'below'} the "
          f"measurement. {reading}")
    return True


# --- exercise 1: where do the skips gain? ------------------------------------------------------


def _gain_side(all_pixel_gain: float, band_gain: float) -> str:
    """"band" or "all pixels": where one seed's mean-IoU gain is larger (ties count as "all pixels")."""
    return "band" if band_gain > all_pixel_gain else "all pixels"


def check_larger_gain(prediction: Any, all_pixel_gains: Sequence[float], band_gains: Sequence[float]) -> bool:
    """Check a prediction, made before the table: is the skips' mean-IoU gain larger in the boundary band?

    Args:
        prediction: One of :data:`GAIN_CHOICES`: ``"band"`` (on every seed the gain, "with skips" minus
            "without skips", is larger within the boundary band than over all pixels), ``"all pixels"``
            (smaller on every seed) or ``"mixed"`` (larger on some seeds, smaller on others).
        all_pixel_gains: Per seed, the gain in mean IoU over all pixels.
        band_gains: Per seed, the gain in mean IoU within the boundary band (same seed order).

    Returns:
        True when ``prediction`` describes the measured gains.
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
                         "all pixels, most of which lie far from any edge.")
        where = "over all pixels" if expected == "all pixels" else "in the band on some seeds only"
        return right(f"the measured gains are larger {where}.")
    reason = {
        "band": "the skips' help is expected near the edges",
        "all pixels": "a larger gain over all pixels would mean the skips help far from the edges at least as "
                      "much as near them",
        "mixed": "seeds differ a lot in this short run, but not in this comparison",
    }[prediction]
    return wrong(f"{reason}; the measurement says {expected!r}. Look at the per-seed gains above.")
