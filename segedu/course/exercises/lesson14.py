"""Checks for the exercises of lesson 14 (atrous convolution and DeepLab).

Every check prints ``Correct! ...`` or ``Not yet: <hint>`` and returns ``True`` or ``False``.
"""

from __future__ import annotations

from typing import Any

from segedu.analysis.atrous import footprint_coverage, valid_tap_fraction
from segedu.course.exercises._verdict import choice_hint, read_letters, right, wrong

__all__ = [
    "RATE12_SHARE_CHOICES",
    "STACKS",
    "check_block4_mac_ratio",
    "check_coverage_prediction",
    "check_rate12_share_prediction",
]

# The stacks of exercise 1: letter -> rates of three 3x3 convs.
STACKS: dict[str, tuple[int, ...]] = {
    "a": (1, 1, 1),
    "b": (2, 2, 2),
    "c": (1, 2, 4),
    "d": (2, 4, 8),
    "e": (1, 2, 3),
    "f": (3, 6, 9),
}


def _reads_everything(rates: tuple[int, ...]) -> bool:
    return footprint_coverage(rates) == 1.0


def check_coverage_prediction(prediction: Any) -> bool:
    """Exercise 1: the letters of the stacks in :data:`STACKS` whose centre output reads every pixel of its window."""
    letters, hint = read_letters(prediction, STACKS, "are not stacks")
    if hint is not None:
        return wrong(hint)
    truth = {letter for letter, rates in STACKS.items() if _reads_everything(rates)}
    if letters == truth:
        return right(
            f"{sorted(truth)} read every pixel of their window. A stack whose rates share a factor k > 1 "
            "(2, 2, 2; 2, 4, 8; 3, 6, 9) only ever moves in steps of k, so it reads one pixel in k along each "
            "axis: gridding."
        )
    missing, extra = sorted(truth - letters), sorted(letters - truth)
    parts = []
    if extra:
        parts.append(f"{extra} leave holes: look at the rates' common factor")
    if missing:
        parts.append(f"{missing} do read every pixel: look at where their taps land layer by layer")
    return wrong("; ".join(parts) + ". Compare with the footprint pictures of section 3.")


def check_block4_mac_ratio(prediction: Any, measured: float | None = None) -> bool:
    """Exercise 2: block4's multiply-accumulates at output stride 8 over those at output stride 32 (64x64 input)."""
    if prediction is ... or prediction is None:
        return wrong("record your prediction first: replace the `...` with a number, e.g. 3.")
    try:
        value = float(prediction)
    except (TypeError, ValueError):
        return wrong(f"record a number; got {prediction!r}.")
    truth = 16.0
    if measured is not None and abs(measured - truth) > 1e-9:
        return wrong(f"the measured ratio should be {truth:g}; got {measured}. Did you change the models?")
    if value == truth:
        return right(
            "16: block4 has the same weights at every output stride, but at 8 it runs on an 8 x 8 map and at "
            "32 on a 2 x 2 map, 4 times the side and so 16 times the positions; every position costs the same "
            "MACs (the rate changes where the taps land, not how many there are)."
        )
    if value == 4.0:
        return wrong("4 is the ratio of the map's sides (8 against 2). MACs grow with the number of positions.")
    if value == 1.0:
        return wrong("the weights are the same, but the number of positions they are applied at is not.")
    if value in (2.0, 8.0):
        return wrong("the rate (2 or 4) does not change the number of taps: a 3x3 kernel has 9 at any rate. "
                     "Count the positions of block4's output at each output stride.")
    return wrong("compare the side of block4's output map at output stride 8 and at 32 (section 4), then think "
                 "about how the number of positions grows with the side.")


# Exercise 3: what share of a rate-12 3x3 kernel's taps lands inside an 8 x 8 map, averaged over positions.
RATE12_SHARE_CHOICES = {  # bare shares: the reasons are the checker's feedback, not the options
    "a": "9 of 9",
    "b": "about 4.5 of 9",
    "c": "1 of 9",
    "d": "0 of 9",
}


def check_rate12_share_prediction(prediction: Any) -> bool:
    """Exercise 3: the share of a rate-12 3x3 kernel's taps inside an 8 x 8 map (``valid_tap_fraction(8, 12)``)."""
    hint = choice_hint(prediction, RATE12_SHARE_CHOICES)
    if hint is not None:
        return wrong(hint)
    share = valid_tap_fraction(8, 12)
    truth = min(RATE12_SHARE_CHOICES, key=lambda letter: abs(share - {"a": 1, "b": 0.5, "c": 1 / 9, "d": 0}[letter]))
    if prediction == truth:
        return right(
            f"valid_tap_fraction(8, 12) = {share:.3f} = 1/9. On an 8 x 8 map no position is more than 7 cells "
            "from the far edge, so every tap 12 cells away lands in the zero padding; only the centre tap, the "
            "position itself, reads a feature. The 3x3 atrous conv has become a 1x1 conv: it gathers no context "
            "at all. That is the paper's Fig. 4 argument, and why DeepLabv3 adds the image-level branch: a global "
            "average brings in the whole map where large rates no longer can."
        )
    why = {
        "a": "a larger rate moves the taps rather than removing them, but it moves them into a window wider than "
             "the map: where do taps 12 cells away land?",
        "b": "positions near the edge do lose their outer taps, but on an 8 x 8 map no position is an inner one "
             "for rate 12: that share fits a rate of about half the map's side (compare rate 4 on 8 x 8 in the "
             "table).",
        "c": "",
        "d": "the outer taps do fall off, but the centre tap reads the output position itself, which is always "
             "inside the map.",
    }[prediction]
    return wrong(why + " Count for one position: which of the offsets -12, 0, 12 stay within rows 0 to 7?")

