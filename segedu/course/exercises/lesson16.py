"""Checks for the exercises of lesson 16 (atrous convolution).

Every check prints ``Correct! ...`` or ``Not yet: <hint>`` and returns ``True`` or ``False``.
"""

from __future__ import annotations

import functools
import itertools
import math
from typing import Any

from segedu.analysis.atrous import dilated_stack_footprint, footprint_coverage, reads_whole_window
from segedu.course.exercises._verdict import (
    borrowed_names,
    call_answer,
    read_letters,
    returns_nothing,
    right,
    wrong,
)

__all__ = [
    "ATROUS_BORROWED",
    "LARGEST_RATE_STACKS",
    "NEXT_RATE_STACK",
    "RULE_BORROWED",
    "STACKS",
    "check_atrous_conv2d",
    "check_coverage_prediction",
    "check_largest_rates",
    "check_next_rate",
    "check_reads_whole_window",
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
    kernel; otherwise the first tap that, alone, reads the wrong pixel, adds nothing or is not one shifted copy
    of the input). A hint names the symptom and points back to the formula; it does not give the slices. A function that calls ``conv2d`` or ``Conv2d``
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
                         "neighbouring pixels; in the formula, neighbouring taps read pixels r apart.")
        return wrong(_first_wrong_tap(function, x, weight, rate))
    return right("your nine shifted slices equal PyTorch's dilated convolution at rates 1, 2, 3 and 5: the kernel "
                 "keeps its 9 weights and its cost at every rate, only the slices it reads move r pixels apart.")


def _first_wrong_tap(function: Any, x: Any, weight: Any, rate: int) -> str:
    """The first symptom of a wrong atrous convolution: the first tap that, alone, reads the wrong pixel.

    Each of the nine taps is tried alone (the other eight weights zero). A tap whose output is the input at one
    other offset is named with that offset; a tap that adds nothing, or that is not one shifted copy of the input,
    is named as such. If every tap alone is right, the nine together are not being summed.
    """
    import torch
    import torch.nn.functional as F

    height, width = x.shape[-2:]
    reach = 2 * rate + 2  # offsets tried: up to one pixel beyond the kernel's reach
    padded = F.pad(x, (reach,) * 4)  # (B, C_in, H + 2 reach, W + 2 reach)
    for u in range(3):
        for v in range(3):
            alone = torch.zeros_like(weight)
            alone[:, :, u, v] = weight[:, :, u, v]  # only tap (u, v)
            found, hint = call_answer(function, x.clone(), alone, rate)
            if hint is not None or not isinstance(found, torch.Tensor) or found.shape != (x.shape[0], weight.shape[0],
                                                                                          height, width):
                continue
            expected = F.conv2d(x, alone, padding=rate, dilation=rate)
            if torch.allclose(found, expected, atol=1e-4):
                continue
            tap = f"at rate {rate}, tap (u, v) = ({u}, {v}) alone"
            wanted = f"the formula's offset (r (u - 1), r (v - 1)) = ({rate * (u - 1)}, {rate * (v - 1)})"
            if torch.allclose(found, torch.zeros_like(found), atol=1e-6):
                return f"{tap} adds nothing to your output; it should read {wanted}. Does every tap add to the sum?"
            one_by_one = alone[:, :, u : u + 1, v : v + 1]  # (C_out, C_in, 1, 1): the tap as a 1x1 kernel
            for down in range(-reach, reach + 1):
                for across in range(-reach, reach + 1):
                    window = padded[:, :, reach + down : reach + down + height, reach + across : reach + across + width]
                    if torch.allclose(found, F.conv2d(window, one_by_one), atol=1e-4):
                        return (f"{tap} reads the pixel at offset ({down}, {across}) from the output position; it "
                                f"should read {wanted}. Check where its slice starts in the padded input.")
            return (f"{tap} does not give one shifted copy of the input times w[:, :, {u}, {v}] (largest difference "
                    f"{float((found - expected).abs().max()):.3g}): compare each step with the formula, which "
                    "multiplies w[o, c, u, v] by one input pixel and sums over c.")
    return (f"at rate {rate} each tap alone is right, but all nine together are not: the formula adds the nine "
            "taps' products; check how you combine them.")


# --- 2 · predict which stacks read every pixel ---------------------------------------------------------------

# The stacks of exercise 2: letter -> rates of three 3x3 convs.
# Lesson 04 shows (2, 2, 2), (1, 2, 3) and (1, 4, 8); these are new: one gridding stack (b), two with no common
# factor > 1 that still leave holes (c, d), and three that read every pixel, one of them in shuffled order (f).
STACKS: dict[str, tuple[int, ...]] = {
    "a": (1, 1, 5),
    "b": (2, 2, 4),
    "c": (1, 1, 6),
    "d": (2, 3, 4),
    "e": (1, 3, 3),
    "f": (5, 1, 2),
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
        holes = sorted(set(STACKS) - truth)
        shared = [letter for letter in holes if math.gcd(*STACKS[letter]) > 1]
        coprime = [letter for letter in holes if math.gcd(*STACKS[letter]) == 1]
        return right(
            f"{sorted(truth)} read every pixel of their window (f is 1, 2, 5 in another order). "
            + "".join(f"{letter} ({_rates(letter)}) shares the factor {math.gcd(*STACKS[letter])}, so it only ever "
                      f"moves in steps of {math.gcd(*STACKS[letter])} and reads one pixel in "
                      f"{math.gcd(*STACKS[letter])} along each axis: gridding. " for letter in shared)
            + f"{' and '.join(f'{letter} ({_rates(letter)})' for letter in coprime)} share no factor > 1, yet leave "
            "holes: exercise 3 looks for the bound that tells them apart."
        )
    missing, extra = sorted(truth - letters), sorted(letters - truth)
    parts = []
    if extra:
        parts.append(f"{extra} leave holes: " + "; ".join(
            f"{letter}'s rates share the factor {math.gcd(*STACKS[letter])}" if math.gcd(*STACKS[letter]) > 1
            else f"{letter}'s rates share no factor > 1, yet along one row some offset is reached by no sum of its "
                 "tap offsets" for letter in extra))
    if missing:
        parts.append(f"{missing} do read every pixel: look at where their taps land layer by layer (the order of "
                     "the layers does not change the sums)")
    return wrong("; ".join(parts) + ". Compare with the footprint pictures of section 3.")


def _rates(letter: str) -> str:
    return ", ".join(map(str, STACKS[letter]))


# --- 3 · find the bound (before the rule is stated) -------------------------------------------------------------

LARGEST_RATE_STACKS = ((1,), (1, 2))  # exercise 3 (a): the largest second rate after 1, third after 1, 2


def _first_unread_offset(rates: tuple[int, ...]) -> int:
    """The smallest positive offset along the centre row that the stack never reads (pixel count)."""
    paths = dilated_stack_footprint(rates)  # (S, S)
    centre = paths.shape[0] // 2
    return next(offset for offset in range(1, centre + 1) if paths[centre, centre + offset] == 0)


def check_largest_rates(answer: Any) -> bool:
    """Exercise 3 (a): the largest second rate after rate 1, and the largest third rate after rates 1 and 2.

    The truth is counted with :func:`~segedu.analysis.atrous.footprint_coverage` over next rates 1 to 64 (3 and 7).
    A wrong number gets why, from the pixel count: a rate that leaves a hole gets the first offset along a row it
    never reads, a smaller one that it still reads everything but is not the largest. No hint states the rule.

    Args:
        answer: The learner's prediction, two whole numbers ``(second, third)``.
    """
    if answer is ... or answer is None:
        return wrong("record your prediction first: replace the `...` in my_largest_rates with two whole numbers, "
                     "(second, third).")
    if (not isinstance(answer, (tuple, list)) or len(answer) != 2
            or any(isinstance(rate, bool) or not isinstance(rate, int) or rate < 1 for rate in answer)):
        return wrong(f"record two whole-number rates of at least 1, (second, third); got {answer!r}.")
    notes, facts = [], []
    for first, rate, which in zip(LARGEST_RATE_STACKS, answer, ("second", "third")):
        largest = _largest_full_rate(first)
        stack = (*first, rate)
        if rate > largest:
            notes.append(f"{stack} leaves holes: offset {_first_unread_offset(stack)} along a row is never read "
                         f"(pixel count). How far can the {which} layer jump before it skips past what the layers "
                         "before it read?")
        elif rate < largest:
            notes.append(f"{stack} does read every pixel, but a larger {which} rate does too.")
        facts.append(f"{(*first, largest)} reads every pixel, while {(*first, largest + 1)} never reads offset "
                     f"{_first_unread_offset((*first, largest + 1))} along a row")
    if notes:
        return wrong(" ".join(notes))
    return right("; ".join(facts) + " (pixel count). Write down how each largest rate follows from the rates "
                 "before it.")


# --- 4 · write the exact rule -----------------------------------------------------------------------------------

RULE_BORROWED = ("footprint_coverage", "dilated_stack_footprint", "conv2d")  # a pixel count, not the rule
_RULE_RATES = range(1, 10)  # every stack of 2 to 4 rates from 1 to 9, in every order
_RULE_LAYERS = (2, 3, 4)


@functools.lru_cache(maxsize=1)
def _shares_read() -> dict[tuple[int, ...], float]:
    """Pixel count: the share of its window each sorted stack of 2 to 4 rates from 1 to 9 reads (705 stacks).

    The footprint does not depend on the order of the layers (the offsets add up), so one count per sorted stack
    gives the truth for every order of it.
    """
    return {rates: footprint_coverage(rates) for layers in _RULE_LAYERS
            for rates in itertools.combinations_with_replacement(_RULE_RATES, layers)}


def _why_rule(rates: tuple[int, ...]) -> str:
    """Why a sorted stack does or does not read its whole window, by the rule, with an unread offset if any."""
    for index, rate in enumerate(rates):
        smaller = sum(rates[:index])
        if rate > 1 + 2 * smaller:
            unread = sum(rates[index:]) - smaller - 1  # offset L - S - 1 of the lesson's proof
            if index == 0:
                return (f"its smallest rate, {rate}, is above 1, and offset {unread} along a row is never read: "
                        "the first rate must be 1.")
            return (f"sorted, its rate {rate} is above 1 + 2 x {smaller} = {1 + 2 * smaller}, the side of the "
                    f"gap-free window the smaller rates build, and offset {unread} along a row is never read.")
    bounds = ", ".join(f"{rate} <= 1 + 2 x {sum(rates[:index])} = {1 + 2 * sum(rates[:index])}"
                       for index, rate in enumerate(rates) if index > 0)
    return f"sorted, its first rate is 1 and each next one is at most its bound ({bounds}; equal is allowed)."


def check_reads_whole_window(function: Any) -> bool:
    """Exercise 4: the learner's ``reads_whole_window(rates)``, the lesson's exact rule written out.

    It is called on every stack of 2 to 4 rates from 1 to 9, in every order (7,371 stacks), and compared with a
    pixel count (:func:`~segedu.analysis.atrous.footprint_coverage` equal to 1) and with the package's own
    :func:`~segedu.analysis.atrous.reads_whole_window`. A wrong answer gets the first stack it gets wrong and why:
    an answer that changes with the order of the layers, a smallest rate above 1, a rate above its bound (with the
    offset it leaves unread) or a stack that does read everything. A function that counts pixels
    (:data:`RULE_BORROWED`) or is the package's own is sent back.

    Args:
        function: The learner's ``reads_whole_window(rates)``: a tuple of ints to ``True`` or ``False``.
    """
    if function is reads_whole_window:
        return wrong("that is the package's own reads_whole_window: run your cell that defines the function.")
    borrowed = borrowed_names(function, RULE_BORROWED)
    if borrowed:
        return wrong(f"your function calls {' and '.join(borrowed)}, which counts pixels: write the rule instead, "
                     "from the rates alone.")
    shares = _shares_read()
    if any(reads_whole_window(rates) != (share == 1.0) for rates, share in shares.items()):
        raise AssertionError("the package's reads_whole_window disagrees with the pixel count")  # never, tests check
    answers: dict[tuple[int, ...], bool] = {}
    for sorted_rates in shares:
        for rates in sorted(set(itertools.permutations(sorted_rates))):
            found, hint = call_answer(function, rates)
            if hint is not None:
                return wrong(f"{hint} (for rates {rates})")
            if found is ... or found is None:
                return wrong(returns_nothing("True or False"))
            if not isinstance(found, bool):
                return wrong(f"for rates {rates} your function returns {found!r}; return True or False.")
            answers[rates] = found
    for rates, found in answers.items():  # an answer that depends on the order of the layers
        in_order = tuple(sorted(rates))
        if found != answers[in_order]:
            return wrong(f"you return {found} for rates {rates} but {answers[in_order]} for {in_order}, the same "
                         "layers in another order. The stack reads the same pixels in any order, because the offsets "
                         "add up: sort the rates first.")
    for rates, share in shares.items():
        if answers[rates] != (share == 1.0):
            return wrong(f"for rates {rates} you return {answers[rates]}, but the stack reads {share:.0%} of its "
                         f"window (pixel count): {_why_rule(rates)}")
    return right("your rule agrees with the pixel count and with the package's reads_whole_window on all "
                 f"{len(answers):,} stacks of 2 to 4 rates from 1 to 9, in every order. The pixel count builds "
                 "each footprint; the rule needs only the rates.")


# --- 3 (b) · the largest rate a fourth layer can have --------------------------------------------------------------

NEXT_RATE_STACK = (1, 2, 5)  # exercise 3 (b): the first three layers; the learner names the largest fourth rate
_RATES_TRIED = range(1, 65)  # fourth rates tried by the pixel count (the answer is far below 64)


def _largest_full_rate(first_rates: tuple[int, ...] = NEXT_RATE_STACK) -> int:
    """The largest next rate for which ``first_rates`` plus it still reads every pixel of the window (pixel count)."""
    return max(rate for rate in _RATES_TRIED if footprint_coverage((*first_rates, rate)) == 1.0)


def check_next_rate(rate: Any) -> bool:
    """Exercise 3 (b): the largest rate a fourth 3x3 layer can have after rates 1, 2 and 5 with no hole in the window.

    The truth is counted with :func:`~segedu.analysis.atrous.footprint_coverage` over fourth rates 1 to 64 (17: the
    first three layers read offsets -8 to 8 without a gap). A wrong answer gets why: a rate that still reads
    everything but is not the largest, the first rate that leaves a hole (18), or a larger one.

    Args:
        rate: The learner's answer, a whole number.
    """
    if rate is ... or rate is None:
        return wrong("record your answer first: replace the `...` in my_largest_rate with a whole number.")
    if isinstance(rate, bool) or not isinstance(rate, int) or rate < 1:
        return wrong(f"record a whole-number rate of at least 1 for my_largest_rate; got {rate!r}.")
    largest = _largest_full_rate()
    reach = sum(NEXT_RATE_STACK)  # the first layers read offsets -reach .. reach, every one of them
    first = ", ".join(map(str, NEXT_RATE_STACK))
    stack = f"({first}, {rate})"
    if rate == largest:
        return right(
            f"rates {first} read every offset from -{reach} to {reach}, a gap-free window of side 1 + 2 x {reach} = "
            f"{2 * reach + 1}. A fourth layer of rate r reads that window three times, shifted by -r, 0 and +r; the "
            f"copies still touch while r <= {2 * reach + 1}. At r = {largest + 1} the copy shifted by +r starts at "
            f"{largest + 1 - reach} and the middle one ends at {reach}, so offset {largest - reach} is never read. "
            "Exercise 4 asks for the rule behind 3, 7 and 17."
        )
    if rate > largest:
        first_hole = rate - reach - 1  # offset L - S - 1 of the rule, with L = rate and S = reach
        return wrong(
            f"{stack} leaves holes: the first three layers read offsets -{reach} to {reach}, and the copy of that "
            f"window shifted by +{rate} starts at {rate - reach}, so offset {first_hole} is read by no copy. How far "
            "can the shifted copies move before a gap opens between them and the middle one?"
        )
    return wrong(
        f"{stack} does read every pixel, but a larger fourth rate does too. The first three layers read every "
        f"offset from -{reach} to {reach}; the fourth reads that window shifted by -r, 0 and +r. How far can the "
        "shifted copies move and still touch the middle one?"
    )
