"""Checks for the exercises of lesson 09 (U-Net: where skips help, which skip matters, valid padding and sizes).

Every check prints ``Correct! ...`` or ``Not yet: <hint>`` and returns ``True`` or ``False``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch

from segedu.analysis.unet_sizes import valid_output_size
from segedu.course.exercises._verdict import check_cases, choice_hint, right, wrong

__all__ = [
    "GAIN_CHOICES",
    "PREDICTION_QUESTION",
    "SKIP_CHOICES",
    "TILE_QUESTION",
    "check_costliest_skip",
    "check_crop_margins",
    "check_larger_gain",
    "check_predicted_output_side",
    "check_tile_prediction",
    "check_valid_output_size",
]

PREDICTION_QUESTION = {"input_size": 124, "depth": 3}
"""Exercise 4 asks for the output side of a valid U-Net of this depth for this input side."""

TILE_QUESTION = {"image_size": 100, "tile_size": 68, "depth": 4}
"""Exercise 5 asks whether tiles of this size reproduce the whole-image pass on this image."""

GAIN_CHOICES = ("band", "all pixels", "mixed")
"""Exercise 1 asks whether the skips' mean-IoU gain is larger within the boundary band or over all pixels."""

SKIP_CHOICES = ("up1", "up2", "up3", "up4")
"""Exercise 2 asks which decoder block's skip, zeroed alone, costs the shapes U-Net the most mean IoU."""


def _as_int(found: Any) -> int | None:
    """``found`` as an int if it is a whole number (int, integral float, 0-d tensor), else None."""
    if isinstance(found, (str, bytes)):
        return None
    try:
        value = float(found)
    except (TypeError, ValueError):
        return None
    return int(value) if value.is_integer() else None


# --- exercise 3: the crop's margins ----------------------------------------------------------


def _margins(skip_shape: tuple[int, ...], size: tuple[int, int]) -> tuple[int, int, int, int]:
    """(left, right, top, bottom) that Up's centre crop removes, in ``F.pad``'s order."""
    extra_rows, extra_columns = skip_shape[-2] - size[0], skip_shape[-1] - size[1]
    top, left = extra_rows // 2, extra_columns // 2
    return left, extra_columns - left, top, extra_rows - top


_MARGIN_CASES = [((1, 2, 8, 8), (4, 4)), ((2, 3, 64, 64), (56, 56)), ((1, 1, 9, 12), (4, 7)),
                 ((1, 4, 6, 6), (6, 6)), ((1, 64, 568, 568), (392, 392)), ((1, 1, 13, 10), (8, 9))]


def check_crop_margins(function: Callable[[tuple[int, ...], tuple[int, int]], Any]) -> bool:
    """Check ``function(skip_shape, size) -> (left, right, top, bottom)``: what "copy and crop" removes.

    The reference is the crop of :class:`segedu.models.unet.Up` (top = ``(H - h) // 2``, left =
    ``(W - w) // 2``, the rest at the bottom and right); the margins are in the order of
    ``torch.nn.functional.pad``, so ``F.pad(skip, [-m for m in margins])`` must equal that crop (a
    negative pad removes pixels). Cases include odd differences and non-square maps.
    """
    generator = torch.Generator().manual_seed(8)
    cases = list(_MARGIN_CASES)

    def judge(found: Any, skip_shape: tuple[int, ...], size: tuple[int, int]) -> str | None:
        expected = _margins(skip_shape, size)
        try:
            values = tuple(_as_int(value) for value in found)
        except TypeError:
            return f"return four whole numbers (left, right, top, bottom); got {found!r}."
        if len(values) != 4 or None in values:
            return f"return four whole numbers (left, right, top, bottom); got {found!r}."
        skip = torch.randn(*skip_shape, generator=generator)
        left, right, top, bottom = expected
        reference = skip[..., top : top + size[0], left : left + size[1]]  # what Up concatenates
        if all(value >= 0 for value in values):
            cropped = torch.nn.functional.pad(skip, [-value for value in values])
            if cropped.shape == reference.shape and torch.equal(cropped, reference):
                return None
        case = f"a {skip_shape[-2]}x{skip_shape[-1]} skip cropped to {size[0]}x{size[1]}"
        if values == (top, bottom, left, right):
            return f"for {case}: F.pad lists the last dimension first: (left, right, top, bottom), columns before rows."
        if values == (right, left, bottom, top):
            return (f"for {case}: when the difference is odd, the extra row or column goes to one side only; "
                    f"you put it on the other side from Up. Try the model's crop on a small tensor and see.")
        if sum(values[:2]) != skip_shape[-1] - size[1] or sum(values[2:]) != skip_shape[-2] - size[0]:
            return (f"for {case}: left + right must remove {skip_shape[-1] - size[1]} columns and top + bottom "
                    f"{skip_shape[-2] - size[0]} rows; got {values}.")
        return f"for {case}: the crop is centred, so the two sides of a dimension differ by at most one pixel."

    return check_cases(function, cases, judge, returns="four whole numbers (left, right, top, bottom)",
                       success="F.pad with these margins, negated, is exactly the crop Up makes.")


# --- exercise 4: output size of a valid U-Net -------------------------------------------------


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


# --- exercise 5: will these tiles match? ------------------------------------------------------


def check_tile_prediction(prediction: Any) -> bool:
    """Check a predicted yes/no: do tiles of :data:`TILE_QUESTION` reproduce the whole-image pass?

    The reference is arithmetic on :func:`segedu.analysis.overlap_tile.tile_grid`: overlap-tile
    with a valid U-Net of depth ``d`` reproduces the whole-image pass when every tile starts at a
    multiple of ``2**d`` (the max-pools then see the same 2x2 grid); the lesson measures it after.
    """
    from segedu.analysis.overlap_tile import tile_grid

    image_size, tile_size, depth = TILE_QUESTION["image_size"], TILE_QUESTION["tile_size"], TILE_QUESTION["depth"]
    if prediction is ... or prediction is None:
        return wrong("record your prediction first: replace the `...` with True (the tiles reproduce the "
                     "whole-image pass) or False.")
    if not isinstance(prediction, bool):
        return wrong(f"record True or False; got {prediction!r}.")
    starts = sorted({left for _, left in tile_grid(image_size, image_size, tile_size)})
    grid = 2**depth
    expected = all(start % grid == 0 for start in starts)
    print(f"tile_grid({image_size}, {image_size}, {tile_size}) starts the tiles at {starts} (in rows and in "
          f"columns); you predicted {'a match' if prediction else 'a mismatch'}.")
    if prediction == expected:
        return right("what matters is where the tiles start, not the tile size: "
                     + ("every start is a multiple of 16." if expected else "a start off the 16-pixel grid breaks it."))
    if expected:
        return wrong(f"{tile_size} is not a multiple of {grid}, but no tile starts at {tile_size}: the last tile is "
                     f"moved inward to end at the border, so the starts are {starts}. Check them against the "
                     f"{grid}-pixel grid of the max-pools.")
    return wrong(f"the starts {starts} include one that is not a multiple of {grid}: its max-pools see a "
                 f"different 2x2 grid than the whole image's.")


# --- exercise 2: which skip costs most? ----------------------------------------------------------

_SKIP_SOURCES = {"up1": "down3, 1/8 resolution", "up2": "down2, 1/4 resolution", "up3": "down1, 1/2 resolution",
                 "up4": "inc, full resolution"}
_FINEST_FIRST = ("up4", "up3", "up2", "up1")


def check_costliest_skip(prediction: Any, mean_iou_drops: Mapping[str, Mapping[str, float]],
                         network: str = "shapes") -> bool:
    """Check a prediction, made before the measurement: which zeroed skip costs ``network`` the most mean IoU?

    Args:
        prediction: One of :data:`SKIP_CHOICES` (``"up1"`` … ``"up4"``), the decoder block whose skip,
            replaced by zeros alone, is predicted to cost the most.
        mean_iou_drops: Per trained U-Net (e.g. ``"shapes"``, ``"digits"``), the measured drop in mean
            IoU when the skip into each decoder block alone is replaced by zeros (``{"up1": 0.09, ...}``).
        network: The U-Net the question is about; the others are printed for comparison.

    Returns:
        True when ``prediction`` names the block with the largest measured drop on ``network``.
    """
    hint = choice_hint(prediction, SKIP_CHOICES)
    if hint:
        return wrong(hint)
    missing = [f"{model}: {name}" for model, drops in mean_iou_drops.items() for name in _FINEST_FIRST
               if name not in drops]
    if missing or network not in mean_iou_drops:
        return wrong(f"pass the measured drop of every decoder block for each U-Net, {network!r} included; "
                     f"missing: {missing or [network]}.")
    rankings = {model: sorted(_FINEST_FIRST, key=lambda name: float(drops[name]), reverse=True)
                for model, drops in mean_iou_drops.items()}
    for model, ranking in rankings.items():
        print(f"{model}: mean-IoU drop with one skip zeroed, largest first: "
              + ", ".join(f"{name} {float(mean_iou_drops[model][name]):.3f}" for name in ranking))
    print(f"you predicted {prediction!r} for the {network} U-Net.")
    costliest = rankings[network][0]
    drops = mean_iou_drops[network]
    measured = (f"on {network} the costliest is {costliest} (from {_SKIP_SOURCES[costliest]}, "
                f"{float(drops[costliest]):.3f}) and the cheapest {rankings[network][-1]}")
    others = "; ".join(f"on {model} the costliest is {ranking[0]} (from {_SKIP_SOURCES[ranking[0]]})"
                       for model, ranking in rankings.items() if model != network)
    by_resolution = [float(drops[name]) for name in _FINEST_FIRST]
    monotone = (all(a > b for a, b in zip(by_resolution, by_resolution[1:]))
                or all(a < b for a, b in zip(by_resolution, by_resolution[1:])))
    lesson = ("the costs follow the resolution here" if monotone else
              "the costs follow no resolution order, so resolution alone does not rank the skips of this network")
    comparison = f"; {others}" if others else ""
    if prediction == costliest:
        return right(f"{measured}; {lesson}{comparison}.")
    rank = rankings[network].index(prediction) + 1
    reason = {
        "up4": "the finest skip carries the sharpest detail, but",
        "up1": "the deepest skip carries the most processed features per pixel, but",
    }.get(prediction, "")
    return wrong(f"{reason + ' ' if reason else ''}{prediction} (from {_SKIP_SOURCES[prediction]}) ranks {rank} of 4: "
                 f"{measured}; {lesson}{comparison}.")


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
        "all pixels": "a gain over all pixels would mean the skips help far from the edges too, where a blob and an "
                      "outline mostly agree",
        "mixed": "seeds differ a lot in this short run, but not in this comparison",
    }[prediction]
    return wrong(f"{reason}; the measurement says {expected!r}. Look at the per-seed gains above.")
