"""Checks for the exercises of lesson 05 (downsampling).

Every check prints ``Correct! ...`` or ``Not yet: <hint>`` and returns ``True`` or ``False``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import math

from segedu.course.exercises._verdict import choice_hint, recorded_miss, right, wrong

__all__ = [
    "BLUR_EFFECTS",
    "SAME_FRACTION",
    "check_aliased_period",
    "check_blur_size_prediction",
    "check_equivariant_shift",
]


def _aliased_period(period: float, step: int) -> float:
    """Period, in original pixels, that stripes of ``period`` pixels show after keeping every ``step``-th pixel.

    The kept samples see ``step / period`` cycles each; a pixel grid cannot tell that from the
    nearest whole number of cycles, so what remains is the distance to it. Returns ``inf`` when
    the stripes come out flat (the kept samples all fall on the same phase).
    """
    cycles_per_sample = step / period
    remaining = abs(cycles_per_sample - round(cycles_per_sample))
    return math.inf if remaining < 1e-9 else step / remaining


def check_aliased_period(answer: Any, *, period: int = 5, step: int = 4) -> bool:
    """Check a prediction of the period that ``period``-pixel stripes show after keeping every ``step``-th pixel.

    Args:
        answer: The learner's period, in original pixels.
        period: Period of the input stripes, in pixels.
        step: Every ``step``-th pixel is kept.
    """
    if answer is None or answer is ...:
        return wrong("replace the `...` with your prediction: a period in original pixels.")
    if isinstance(answer, bool) or not isinstance(answer, (int, float)):
        return wrong(f"give a number of original pixels; got {answer!r}.")
    expected = _aliased_period(period, step)
    shortest = 2 * step
    if abs(answer - expected) < 0.5:
        return right(
            f"{expected:g} pixels: the kept columns see {step}/{period} of a cycle each, which the coarse "
            f"grid cannot tell from {round(step / period)} cycle minus {abs(step / period - round(step / period)):g}, "
            "so the stripes come out wider and just as strong."
        )
    walk = (
        f"write down the brightness cos(2 pi column / {period}) at the kept columns 0, {step}, "
        f"{2 * step}, {3 * step}, ... and count how many original pixels pass before it repeats."
    )
    if abs(answer - period) < 0.5:
        return wrong(
            f"that is the input's period. Stripes of period {period} are finer than the {shortest}-pixel "
            f"limit of a grid that keeps every {step}th pixel, so they cannot come out unchanged: {walk}"
        )
    if abs(answer - _aliased_period(3, step)) < 0.5 and period != 3:
        return wrong(f"that is what period-3 stripes became in section 3; these are period {period}: {walk}")
    if abs(answer - shortest) < 0.5:
        return wrong(
            f"{shortest} pixels is the Nyquist limit of the coarse grid, not the period these stripes "
            f"turn into: {walk}"
        )
    if answer < shortest:
        return wrong(
            f"no pattern on the coarse grid repeats faster than every {shortest} original pixels "
            f"(2 kept pixels), so the alias is coarser than that: {walk}"
        )
    return wrong(walk[0].upper() + walk[1:])


# --- 2 · the smallest shift that moves an encoder's output exactly --------------------------------


def check_equivariant_shift(
    answer: Any, *, strides: tuple[int, ...] = (2, 2, 2), kernel_sizes: tuple[int, ...] = (7, 3, 3, 3)
) -> bool:
    """Check the smallest input shift after which an encoder's output is exactly its old output, shifted.

    The encoder is convolutions and max pools; ``strides`` are the strides of its downsampling steps in
    order and ``kernel_sizes`` the window sizes of all its layers (lesson 05's encoder starts like
    ResNet-18: a 7x7 convolution with stride 2, a 3x3 max pool with stride 2, a 3x3 convolution with
    stride 1, a 3x3 convolution with stride 2). The comparison leaves out the border.

    Args:
        answer: The learner's shift, in input pixels.
        strides: Strides of the encoder's downsampling steps (strided convolutions and pools).
        kernel_sizes: Window sizes of the encoder's layers, to recognise an answer built from them.
    """
    if answer is None or answer is ...:
        return wrong("replace the `...` with a shift, a whole number of input pixels.")
    if isinstance(answer, bool) or not isinstance(answer, (int, float)) or answer != int(answer):
        return wrong(f"a shift of the input is a whole number of pixels; got {answer!r}.")
    answer = int(answer)
    total = math.prod(strides)
    if answer == total:
        return right(
            f"{total} pixels: every downsampling step, strided convolutions included, shrinks the grid by its "
            f"stride, so each output pixel stands for {total} input pixels. A window's size does not matter: a large "
            "kernel or overlapping pool windows move with their input like any window; only the stride decides "
            "which positions are kept, and a downsampled grid can only move by whole pixels of its own, so only "
            f"shifts by multiples of {total} input pixels move the output exactly."
        )
    if answer <= 0:
        return wrong("the question asks for a positive shift: a shift of 0 leaves everything unchanged trivially.")
    if answer % total == 0:
        return wrong(f"{answer} pixels works, but it is not the smallest shift that does. Try smaller ones.")
    if answer == 1:
        return wrong(
            "a one-pixel shift is what section 4 measured: the downsampled features change in ways that are no "
            "shift at all. Ask what one pixel of the output stands for in input pixels."
        )
    if answer in kernel_sizes or answer in (math.prod(kernel_sizes), sum(kernel_sizes)):
        return wrong(
            "that comes from the windows' sizes. A window of any size moves with its input; what decides where "
            "the outputs sit is the step from one window to the next. Which layers take a step above 1?"
        )
    if len(strides) > 1 and any(stride > 1 and answer * stride == total for stride in strides):
        return wrong(
            "that leaves out one downsampling step: count every layer with a stride above 1, convolutions "
            "included (section 2's strided convolution kept only some positions too)."
        )
    if answer in strides:
        return wrong(
            f"{answer} pixels moves the map after the first downsampling step by exactly one of its pixels, but "
            "the next step sees that as a shift of part of one of *its* pixels. Follow the shift through every step."
        )
    if answer == sum(strides):
        return wrong(
            "the steps do not add up: follow a shift through them one at a time. What does each step do to it?"
        )
    return wrong(
        "the output moves exactly only if the shift is a whole number of output pixels. How many input pixels "
        "does one output pixel stand for after every downsampling step?"
    )


# --- 3 · predict what a bigger blur does ----------------------------------------------------------

BLUR_EFFECTS: dict[str, str] = {
    "a": "the alias score falls by a larger fraction than the detail score, by 5 percentage points or more",
    "b": "the detail score falls by a larger fraction than the alias score, by 5 percentage points or more",
    "c": "both fall by about the same fraction (less than 5 percentage points apart)",
}
SAME_FRACTION = 0.05
"""Drops closer than this (as fractions of the 3-tap values) count as "about the same" (answer c); drops this far
apart or more decide between a and b. The texts of :data:`BLUR_EFFECTS` state the same threshold."""


def _blur_effect(alias_ratio: float, detail_ratio: float) -> str:
    alias_drop, detail_drop = 1 - alias_ratio, 1 - detail_ratio
    if abs(alias_drop - detail_drop) < SAME_FRACTION:
        return "c"
    return "a" if alias_drop > detail_drop else "b"


def _linear_ratio(low: float, high: float, *, samples: int = 1000) -> float:
    """Mean response of a 5-tap binomial blur over frequencies ``low`` to ``high``, relative to the 3-tap blur's.

    The 3-tap blur ([1, 2, 1] / 4) responds with cos²(πf) at frequency f (cycles per pixel), the 5-tap one
    with cos⁴(πf); a linear blur followed by subsampling keeps a stripe at exactly that strength.
    """
    frequencies = [low + (high - low) * (index + 0.5) / samples for index in range(samples)]
    three = sum(math.cos(math.pi * frequency) ** 2 for frequency in frequencies)
    five = sum(math.cos(math.pi * frequency) ** 4 for frequency in frequencies)
    return five / three


def check_blur_size_prediction(prediction: Any, measured: Mapping[str, float]) -> bool:
    """Compare a recorded prediction of what a 5-tap blur does to max-blur pooling with the measurement.

    The prediction passes once recorded (a guess about a measurement is not graded on being right):
    a match says ``Correct!``, a miss says ``Recorded; the result differs:`` with the same explanation.

    Args:
        prediction: One of the letters of :data:`BLUR_EFFECTS`, recorded before ``measured`` was printed.
        measured: ``"alias"`` and ``"detail kept"`` (the mean alias score above the 2x grid's limit and
            below it), each measured with the 5-tap blur divided by the same with the 3-tap blur; optionally
            ``"shift change"``, section 4's one-pixel shift error divided the same way, and ``"finest alias 3 taps"``
            and ``"finest alias 5 taps"``, the alias score of each at the finest stripes measured (near f = 0.5).
    """
    hint = choice_hint(prediction, BLUR_EFFECTS)
    if hint is not None:
        return wrong(hint)
    names = ("alias", "detail kept")
    if any(name not in measured or not float(measured[name]) > 0 for name in names):
        return wrong(f"pass the measured ratios, a dict with the keys {names[0]!r} and {names[1]!r}.")
    alias, detail = float(measured["alias"]), float(measured["detail kept"])
    found = _blur_effect(alias, detail)
    report = (
        f"measured: with 5 taps the alias fell to {alias:.2f} of its 3-tap value (by {1 - alias:.0%}), the detail "
        f"kept to {detail:.2f} (by {1 - detail:.0%}), so {BLUR_EFFECTS[found]}."
    )
    at = lambda frequency: math.cos(math.pi * frequency) ** 2  # noqa: E731
    linear_alias, linear_detail = _linear_ratio(0.25, 0.5), _linear_ratio(0.0, 0.25)
    why = (
        " Every extra pair of binomial taps multiplies a linear blur's response at frequency f by cos²(πf): "
        f"{at(1 / 8):.2f} at 1/8 cycle per pixel, below the 2x grid's limit, but {at(3 / 8):.2f} at 3/8, above it, "
        f"where the aliases come from. Averaged over each side of the limit, that rule predicts the alias to fall by "
        f"{1 - linear_alias:.0%} and the detail by {1 - linear_detail:.0%}."
    )
    alias_drop, detail_drop = 1 - alias, 1 - detail
    if found == "a" and alias_drop < (1 - linear_alias) - 0.1:
        why += (
            f" The alias fell by {alias_drop / detail_drop:.1f} times the detail's fraction, but far less than "
            "the rule predicts: the dense maximum before the blur is not linear."
        )
    elif found == "a":
        why += " The measurement follows that rule: a wider blur removes more alias than detail."
    else:
        why += " This measurement does not follow that rule: the dense maximum before the blur is not linear."
    finest = ("finest alias 3 taps", "finest alias 5 taps")
    if all(name in measured for name in finest):
        three, five = (float(measured[name]) for name in finest)
        why += (
            " For the finest stripes (near f = 0.5) the dense 2x2 maximum turns the stripes into a nearly flat "
            "level that depends on where they sit, and no blur removes a flat level: the red curve (max, blur, "
            f"every 2nd) in section 4's alias figure climbs to {three:.2f} there, and with 5 taps it is {five:.2f}."
        )
    if "shift change" in measured:
        why += (
            f" The one-pixel shift error fell too (to {float(measured['shift change']):.2f} of its 3-tap value), but "
            "blur lowers it more than it lowers the alias, because a map with less fine detail is easier to "
            "interpolate, so it cannot tell alias from lost detail."
        )
    if prediction == found:
        return right(report + why)
    return recorded_miss(f"you predicted that {BLUR_EFFECTS[prediction]}; {report}{why}")
