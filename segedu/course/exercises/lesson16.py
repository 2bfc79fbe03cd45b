"""Checks for the exercises of lesson 16 (atrous convolution and DeepLab).

Every check prints ``Correct! ...`` or ``Not yet: <hint>`` and returns ``True`` or ``False``.
"""

from __future__ import annotations

from typing import Any

from segedu.analysis.atrous import footprint_coverage, valid_tap_fraction
from segedu.course.exercises._verdict import (
    borrowed_names,
    call_answer,
    choice_hint,
    read_letters,
    returns_nothing,
    right,
    wrong,
)

__all__ = [
    "ATROUS_BORROWED",
    "RATE6_SHARE_CHOICES",
    "STACKS",
    "check_atrous_conv2d",
    "check_block3_mac_ratio",
    "check_coverage_prediction",
    "check_rate6_share_prediction",
]

# --- 1 · write the atrous convolution ------------------------------------------------------------------------

ATROUS_BORROWED = ("conv2d", "Conv2d")  # PyTorch's convolutions: they would do the exercise


def _atrous_cases() -> list[tuple[Any, Any, int]]:
    """``(x (B, C_in, H, W), weight (C_out, C_in, 3, 3), rate)``: odd sides, four rates."""
    import torch

    generator = torch.Generator().manual_seed(3)
    x = torch.randn(2, 3, 13, 17, generator=generator)
    weight = torch.randn(4, 3, 3, 3, generator=generator)
    return [(x, weight, rate) for rate in (1, 2, 3, 5)]


def check_atrous_conv2d(function: Any) -> bool:
    """Check ``function(x, weight, rate)``: a 3x3 atrous convolution with zero padding ``rate``.

    It is compared with ``torch.nn.functional.conv2d(x, weight, padding=rate, dilation=rate)`` at rates 1, 2, 3
    and 5 on an input with odd sides; the first rate it gets wrong ends the check with a hint (the output's size,
    offsets not scaled by the rate, slices that start 1 pixel apart in the padded input, a flipped
    kernel). A function that calls ``conv2d`` or ``Conv2d``
    (:data:`ATROUS_BORROWED`) is sent back.

    Args:
        function: The learner's ``atrous_conv2d(x, weight, rate)``: ``(B, C_in, H, W)``, ``(C_out, C_in, 3, 3)``
            and an int rate to ``(B, C_out, H, W)``.
    """
    import torch
    import torch.nn.functional as F

    borrowed = borrowed_names(function, ATROUS_BORROWED)
    if borrowed:
        return wrong(f"your function calls {' and '.join(borrowed)}, which does the convolution for you: add up the "
                     "nine shifted slices of the padded input yourself.")
    for x, weight, rate in _atrous_cases():
        found, hint = call_answer(function, x.clone(), weight.clone(), rate)
        if hint is not None:
            return wrong(hint)
        if found is ... or found is None:
            return wrong(returns_nothing("the output, a tensor (B, C_out, H, W)"))
        expected = F.conv2d(x, weight, padding=rate, dilation=rate)  # (2, 4, 13, 17)
        if not isinstance(found, torch.Tensor) or tuple(found.shape) != tuple(expected.shape):
            shape = tuple(found.shape) if isinstance(found, torch.Tensor) else type(found).__name__
            return wrong(f"at rate {rate} the output should be {tuple(expected.shape)}, as large as the input with "
                         f"C_out channels (zero padding {rate} on each side); got {shape}.")
        if torch.allclose(found, expected, atol=1e-4):
            continue
        if rate > 1 and torch.allclose(found, F.conv2d(x, weight, padding=1), atol=1e-4):
            return wrong(f"at rate {rate} your output is the ordinary 3x3 convolution's: tap (u, v) must read the "
                         "pixel r (u - 1) rows and r (v - 1) columns away, not 1.")
        if torch.allclose(found, F.conv2d(x, weight.flip(-1, -2), padding=rate, dilation=rate), atol=1e-4):
            return wrong("your kernel is flipped: PyTorch's convolution (like the formula above) multiplies w[u, v] "
                         "with the pixel at offset (r (u - 1), r (v - 1)), without flipping.")
        neighbours = F.conv2d(F.pad(x, (rate,) * 4), weight)[:, :, : x.shape[-2], : x.shape[-1]]  # taps 1 px apart
        if rate > 1 and torch.allclose(found, neighbours, atol=1e-4):
            return wrong(f"at rate {rate} your nine slices start 1 pixel apart in the padded input, so the taps read "
                         "neighbouring pixels: in the padded input the slice for tap (u, v) starts u r rows and v r "
                         "columns in (the formula's offset r (u - 1) plus the padding r).")
        return wrong(f"at rate {rate} the largest difference from F.conv2d(dilation={rate}) is "
                     f"{float((found - expected).abs().max()):.3g}. Pad by r, then for each (u, v) take the slice "
                     "starting at (u r, v r) and add its product with w[:, :, u, v], summed over C_in.")
    return right("your nine shifted slices equal PyTorch's dilated convolution at rates 1, 2, 3 and 5: the kernel "
                 "keeps its 9 weights and its cost at every rate, only the slices it reads move r pixels apart.")


# --- 2 · predict which stacks read every pixel ---------------------------------------------------------------

# The stacks of exercise 2: letter -> rates of three 3x3 convs.
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
    """Exercise 2: the letters of the stacks in :data:`STACKS` whose centre output reads every pixel of its window."""
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


def check_block3_mac_ratio(prediction: Any, measured: float | None = None) -> bool:
    """Exercise 3: block3's multiply-accumulates at output stride 8 over those at output stride 32 (64x64 input)."""
    if prediction is ... or prediction is None:
        return wrong("record your prediction first: replace the `...` with a number, e.g. 3.")
    try:
        value = float(prediction)
    except (TypeError, ValueError):
        return wrong(f"record a number; got {prediction!r}.")
    truth = 4.0
    if measured is not None and abs(measured - truth) > 1e-9:
        return wrong(f"the measured ratio should be {truth:g}; got {measured}. Did you change the models?")
    if value == truth:
        return right(
            "4: block3 reads the same 8 x 8 map at both output strides, but a convolution costs by the positions "
            "it writes. At 32 its first conv has stride 2 and writes 4 x 4, and so do the rest of the block; at 8 "
            "every conv writes 8 x 8, 4 times the positions at the same MACs each (the rate moves taps, it does "
            "not add any). block4 comes after a second dropped stride: 16."
        )
    if value == 16.0:
        return wrong("16 is block4's ratio, which sits after both dropped strides. How large is the map block3 "
                     "writes at each output stride?")
    if value == 1.0:
        return wrong("block3 does read the same 8 x 8 map at both strides, but a convolution costs by the "
                     "positions it writes, not those it reads.")
    if value == 2.0:
        return wrong("the rate (2 at output stride 8) does not change the number of taps: a 3x3 kernel has 9 at any "
                     "rate. Count the positions of block3's output at each output stride.")
    return wrong("compare the side of block3's output map at output stride 8 and at 32 (section 4's table: "
                 "stride 1 against stride 2 on an 8 x 8 input), then think about how the positions grow with the side.")


# Exercise 4: what share of a rate-6 3x3 kernel's taps lands inside an 8 x 8 map, averaged over positions.
RATE6_SHARE_CHOICES = {  # bare shares: the reasons are the checker's feedback, not the options
    "a": "9 of 9",
    "b": "about 4.5 of 9",
    "c": "about 2.25 of 9",
    "d": "1 of 9",
}


def check_rate6_share_prediction(prediction: Any) -> bool:
    """Exercise 4: the share of a rate-6 3x3 kernel's taps inside an 8 x 8 map (``valid_tap_fraction(8, 6)``)."""
    hint = choice_hint(prediction, RATE6_SHARE_CHOICES)
    if hint is not None:
        return wrong(hint)
    share = valid_tap_fraction(8, 6)
    shares = {"a": 1, "b": 0.5, "c": 0.25, "d": 1 / 9}
    truth = min(RATE6_SHARE_CHOICES, key=lambda letter: abs(share - shares[letter]))
    if prediction == truth:
        return right(
            f"valid_tap_fraction(8, 6) = {share:.3f} = 2.25 of 9. Along one axis the offset 0 always lands inside, "
            "+6 only from rows 0 and 1, -6 only from rows 6 and 7: 12 of 24 row offsets, a half. The two axes "
            "multiply: a quarter of the taps. The paper's smallest rate, made for a 33 x 33 map, has lost three "
            "quarters of its taps to the zero padding here; rate 12 keeps only the centre tap (1 of 9), a 1x1 conv."
        )
    why = {
        "a": "a larger rate moves the taps rather than removing them, but 6 cells is most of an 8-cell map: "
             "from how many rows does a tap 6 below stay inside?",
        "b": "about half of the row offsets do stay inside, but a tap must stay inside along both axes at once.",
        "c": "",
        "d": "1 of 9 (the centre tap alone) is what a rate of 8 or more leaves; at rate 6 a few positions near "
             "the edge still reach the far side.",
    }[prediction]
    return wrong(why + " Count for one axis: from which rows 0 to 7 do the offsets -6, 0, +6 stay inside?")
