"""Checks for the exercises of lesson 11 (comparing shortcut connections).

Every check prints ``Correct! ...`` or ``Not yet: <hint>`` and returns ``True`` or ``False``. Exercise 1's
parameter prediction is graded against the package's ``ShortcutNet``; Exercise 2's prediction and its reason are
recorded, not graded: :func:`record_shortcut_band_prediction` prints both beside the study's record. Exercise 3
(:func:`check_one_below_verdict`) asks what the course's two-test rule makes of ten paired differences, nine above
0 and one far below.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
import torch.nn.functional as F

from segedu.course.exercises._verdict import call_answer, choice_hint, returns_nothing, right, wrong
from segedu.course.experiments import paired_t_interval, sign_flip_p
from segedu.course.verdict_tables import two_test_verdict
from segedu.models.shortcut_variants import DecoderLevel, ShortcutNet

__all__ = [
    "ONE_BELOW_VERDICT_CHOICES",
    "MIN_REASON_WORDS",
    "PARAMETER_CHOICES",
    "SHORTCUT_CHOICES",
    "check_one_below_verdict",
    "check_merge",
    "check_parameter_prediction",
    "check_unpool",
    "record_shortcut_band_prediction",
]


# --- the merge of a decoder level: the lines where the shortcuts differ ------------------------


def _decoder_case(
    shortcut: str, channels: int, side: int, seed: int
) -> tuple[DecoderLevel, torch.Tensor, torch.Tensor, torch.Tensor]:
    """A DecoderLevel with seeded weights (eval mode) and inputs like an encoder's: (level, x, skip, indices)."""
    with torch.random.fork_rng():  # leave the lesson's random stream as it was
        torch.manual_seed(seed)
        level = DecoderLevel(channels, max(channels // 2, 1), shortcut).eval()
        skip = torch.randn(2, channels, 2 * side, 2 * side)  # (B, C, 2h, 2w): the encoder map
        _, indices = F.max_pool2d(skip, 2, return_indices=True)  # (B, C, h, w): where each maximum was
        x = torch.randn(2, channels, side, side)  # (B, C, h, w): the decoder map from below
    return level, x, skip, indices


def _convs_input(level: DecoderLevel, x: torch.Tensor, skip: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
    """What the package's DecoderLevel hands its convs (a forward pre-hook on ``level.convs``)."""
    seen = []
    handle = level.convs.register_forward_pre_hook(lambda module, inputs: seen.append(inputs[0]))
    try:
        with torch.no_grad():
            level(x, skip, indices)
    finally:
        handle.remove()
    return seen[0]


def _merge_mistake(found: Any, level: DecoderLevel, up: torch.Tensor, skip: torch.Tensor,
                   expected: torch.Tensor) -> str | None:
    shortcut = level.shortcut
    if not isinstance(found, torch.Tensor):
        return f"for {shortcut!r} return a tensor (what the convs receive); got {type(found).__name__}."
    if found.shape == expected.shape and torch.allclose(found, expected, rtol=1e-5, atol=1e-6):
        return None  # equal up to float rounding (a 1x1 convolution written out by hand sums in another order)
    with torch.no_grad():
        projected = level.project(skip) if level.project is not None else None

    def same(other: torch.Tensor) -> bool:
        return found.shape == other.shape and bool(torch.allclose(found, other))

    if shortcut in ("none", "indices"):
        return (f"for {shortcut!r} nothing more crosses at this point: return `up` unchanged (for 'indices' the "
                "encoder's contribution, its pooling indices, was already used by level.up to place the values).")
    if same(up):
        return f"for {shortcut!r} your merge returns the decoder's map unchanged: the encoder map has to cross too."
    if shortcut == "add":
        if same(up + skip):
            return ("the encoder map goes through level.project (a 1x1 convolution) before the sum; it lets the level "
                    "learn how much of each encoder channel to add (FCN likewise scores each pool map with a 1x1 "
                    "convolution before its sum).")
        if projected is not None and same(projected):
            return "that is the projected encoder map alone: the sum keeps the decoder's own map too."
        if found.shape[1] != up.shape[1]:
            return (f"a sum keeps the channel count: expected {tuple(expected.shape)}, got {tuple(found.shape)}. "
                    "Add the projected encoder map to `up`, value by value.")
    if shortcut == "concat":
        if found.shape[0] == 2 * up.shape[0]:
            return "dim 0 is the batch, so that stacks twice as many images: concatenate along the channels, dim=1."
        if found.shape[1] == up.shape[1]:
            return (f"a concatenation keeps both maps whole, side by side along the channels: expected "
                    f"{tuple(expected.shape)}, got {tuple(found.shape)}.")
    return (f"for {shortcut!r} segedu hands its convs a {tuple(expected.shape)} tensor; yours is "
            f"{tuple(found.shape)}{' with other values' if found.shape == expected.shape else ''}.")


def check_merge(function: Callable[[DecoderLevel, torch.Tensor, torch.Tensor], Any]) -> bool:
    """Check ``function(level, up, skip)``: what a :class:`DecoderLevel` hands its convs, against the package.

    ``up`` is the upsampled decoder map (``level.up``'s output) and ``skip`` the encoder map, both
    (B, C, H, W). Each case runs segedu's ``level(x, skip, indices)`` with a hook on ``level.convs`` and
    compares its input with the learner's merge (``torch.allclose``: equal up to float rounding), for all four
    shortcuts.
    """
    cases = [(shortcut, channels, side, seed) for seed, (channels, side) in enumerate(((4, 3), (3, 2)))
             for shortcut in ("add", "concat", "none", "indices")]
    swapped = False  # [up, skip] instead of segedu's [skip, up]: another convention, just as good
    for shortcut, channels, side, seed in cases:
        level, x, skip, indices = _decoder_case(shortcut, channels, side, seed)
        expected = _convs_input(level, x, skip, indices)
        with torch.no_grad():
            up = level.up(x, indices) if shortcut == "indices" else level.up(x)  # (B, C, 2h, 2w)
            found, hint = call_answer(function, level, up.clone(), skip.clone())
        if hint is None and (found is ... or found is None):
            hint = returns_nothing(f"the merged map for {shortcut!r}")
        if hint is None and shortcut == "concat" and isinstance(found, torch.Tensor):
            other_order = torch.cat([up, skip], dim=1)  # (B, 2C, H, W): decoder first
            if found.shape == other_order.shape and torch.allclose(found, other_order, rtol=1e-5, atol=1e-6):
                swapped = True
                continue
        if hint is None:
            hint = _merge_mistake(found, level, up, skip, expected)
        if hint is not None:
            return wrong(hint)
    order = ("Your concatenation puts the decoder's channels first, segedu's puts the encoder's first ([skip, up]); "
             "either is right, as long as the network keeps one order: the first convolution's weights belong to "
             "input channels and learn whichever order they are trained with." if swapped else
             "segedu's convention puts the encoder's channels first ([skip, up]); [up, skip] would be just as "
             "good, as long as the network keeps one order.")
    return right(
        "your merge hands the convs what segedu's DecoderLevel does (torch.allclose) for all four shortcuts. "
        f"{order} 'add' and 'concat' bring the encoder's full-resolution values across: the sum mixes them into the "
        "decoder's C channels at once, the concatenation keeps both sets of C apart (2C) and leaves the mixing to "
        "the convolutions. 'none' and 'indices' hand over the upsampled decoder map alone.")


def _unpool_mistake(found: Any, shortcut: str, x: torch.Tensor, indices: torch.Tensor,
                    expected: torch.Tensor) -> str | None:
    """Why ``found`` is not the unpooled map ``expected`` of ``shortcut``, or None when it is (allclose)."""
    if not isinstance(found, torch.Tensor):
        return f"for {shortcut!r} return a tensor, the (B, C, 2h, 2w) unpooled map; got {type(found).__name__}."
    if found.shape != expected.shape:
        return (f"unpooling doubles the height and width: for {shortcut!r} expected {tuple(expected.shape)}, got "
                f"{tuple(found.shape)}.")
    if torch.allclose(found, expected):
        return None
    with torch.no_grad():
        with_indices = F.max_unpool2d(x, indices, 2)  # (B, C, 2h, 2w)
        nearest = F.interpolate(x, scale_factor=2.0, mode="nearest")  # (B, C, 2h, 2w)
    if torch.allclose(found, nearest):
        return ("that copies each value to all four pixels of its window (nearest-neighbour upsampling); unpooling "
                "puts it at one pixel and zeros at the other three.")
    if shortcut == "fixed_unpool" and torch.allclose(found, with_indices):
        return ("that uses the encoder's indices, so positions still cross: the control builds its own index of each "
                "window's top-left pixel, row 2i and column 2j of the 2h x 2w map, i.e. flat index 2i * 2w + 2j.")
    if shortcut == "indices":
        return "for 'indices' each value goes to where the encoder's maximum was: F.max_unpool2d(x, indices, 2)."
    return ("the control's index for window (i, j) is the flat position of its top-left pixel in the 2h x 2w map, "
            "2i * 2w + 2j, the same for every image and channel (expand it to x's shape).")


def check_unpool(function: Callable[[str, torch.Tensor, torch.Tensor], Any]) -> bool:
    """Check ``function(shortcut, x, indices)``: the unpooled (B, C, 2h, 2w) map of "indices" and "fixed_unpool".

    ``x`` is the decoder map from below, (B, C, h, w); ``indices`` the encoder's pooling indices, (B, C, h, w)
    int64 flat positions in the 2h x 2w map. Each case is compared (``torch.allclose``) with what segedu's
    :class:`DecoderLevel` hands its convs for that shortcut (nothing else joins there).
    """
    for seed, (channels, side) in enumerate(((4, 3), (3, 2))):
        for shortcut in ("indices", "fixed_unpool"):
            level, x, skip, indices = _decoder_case(shortcut, channels, side, seed)
            expected = _convs_input(level, x, skip, indices)  # (B, C, 2h, 2w)
            with torch.no_grad():
                found, hint = call_answer(function, shortcut, x.clone(), indices.clone())
            if hint is None and (found is ... or found is None):
                hint = returns_nothing(f"the unpooled map for {shortcut!r}")
            if hint is None:
                hint = _unpool_mistake(found, shortcut, x, indices, expected)
            if hint is not None:
                return wrong(hint)
    return right(
        "your unpooling matches segedu's DecoderLevel (torch.allclose) for 'indices' and the control. Both put each "
        "value at one pixel of its 2x2 window and zeros at the other three; only 'indices' lets the encoder choose "
        "that pixel, the control always takes the top-left. The convolutions that follow then fill in the zeros.")


# --- what each merge costs: the parameter change of "add" and "concat" against "none" ----------

PARAMETER_CHOICES = {
    "a": "fewer (below -5 %)",
    "b": "about the same (-5 % to +5 %)",
    "c": "more (+5 % to +50 %)",
    "d": "about double or more (above +50 %)",
}
"""Exercise 1's ranges for a variant's parameter count against ``"none"``'s (the whole network)."""


def _range_letter(change: float) -> str:
    """The letter of :data:`PARAMETER_CHOICES` whose range holds ``change`` (a fraction, e.g. 0.2 for +20 %)."""
    if change < -0.05:
        return "a"
    if change <= 0.05:
        return "b"
    return "c" if change <= 0.5 else "d"


def _study_network(shortcut: str) -> ShortcutNet:
    """The lesson's ``ShortcutNet`` variant (width 8, depth 3, RGB in, 4 classes), built without disturbing the RNG."""
    with torch.random.fork_rng():  # building draws weights: leave the lesson's random stream alone
        return ShortcutNet(3, 4, base_channels=8, depth=3, shortcut=shortcut)


def _count(module: torch.nn.Module) -> int:
    """Number of parameters of ``module``."""
    return sum(parameter.numel() for parameter in module.parameters())


def check_parameter_prediction(add: Any, concat: Any) -> bool:
    """Check the ranges predicted for the parameter change of ``"add"`` and ``"concat"`` against ``"none"``.

    The right letters are measured, not stored: the check builds the lesson's three ``ShortcutNet`` variants
    (base width 8, depth 3, 3 input channels, 4 classes) and counts their parameters.

    Args:
        add: A letter of :data:`PARAMETER_CHOICES` for ``"add"``.
        concat: A letter of :data:`PARAMETER_CHOICES` for ``"concat"``.

    Returns:
        Whether both letters name the measured ranges (``"b"`` and ``"c"`` for the lesson's network).
    """
    for name, answer in (("add", add), ("concat", concat)):
        hint = choice_hint(answer, PARAMETER_CHOICES)
        if hint is not None:
            return wrong(f"for {name!r}: {hint}")
    networks = {shortcut: _study_network(shortcut) for shortcut in ("none", "add", "concat")}
    total = {shortcut: _count(network) for shortcut, network in networks.items()}
    change = {shortcut: total[shortcut] / total["none"] - 1 for shortcut in ("add", "concat")}
    decoder = _count(networks["none"].decoder)
    measured = (f"Measured on segedu's ShortcutNet: 'none' {total['none']:,} parameters (its decoder {decoder:,}), "
                f"'add' {total['add']:,} ({change['add']:+.0%}), 'concat' {total['concat']:,} "
                f"({change['concat']:+.0%}).")
    level = networks["concat"].decoder["level1"].convs.conv1[0]  # the first conv after the merge, (C_out, 2C, 3, 3)
    hints = []
    if add != _range_letter(change["add"]):
        hints.append("'add' only puts a 1x1 convolution (`project`, C x C weights and C biases) on each level's "
                     "encoder map, small beside the 3x3 convolutions; the sum itself has no weights and removes none")
    if concat != _range_letter(change["concat"]):
        widened = (f"'concat' widens the first convolution after each merge (at level 1 its weight is "
                   f"{tuple(level.weight.shape)}, reading 2C channels instead of C)")
        hints.append(f"{widened}, and wider inputs need more weights" if concat in ("a", "b") else
                     f"{widened}, and only that one: the encoder, the bottleneck, the second convs and the "
                     "up-convolutions keep their size, so the network does not double")
    if hints:  # the reason only: the measured counts are shown once the ranges are right
        return wrong("; ".join(hints) + ".")
    return right(
        f"{measured} The sum costs only its 1x1 projections; the concatenation doubles what the first convolution "
        "of each decoder level reads, and that convolution is a part of the network, so the whole grows by about a "
        "fifth. Neither merge changes the encoder.")


# --- the controlled study: which shortcut gains least in the boundary band over "none"? ------

SHORTCUT_CHOICES = ("add", "indices", "concat")


MIN_REASON_WORDS = 6
"""Exercise 2's reason must be a sentence of at least this many words."""


def record_shortcut_band_prediction(prediction: Any, band_gains: Mapping[str, Any], *, reason: Any) -> bool:
    """Print a reasoned prediction of the shortcut that gains *least* band mean IoU over ``"none"``, beside the record.

    Nothing is judged but that a prediction and a reason were written: a prediction can be well reasoned and
    still differ from one short study. The reason is echoed beside the result so the learner can test it
    against the numbers; the table after Exercise 3 gives the two-test rule's verdicts.

    Args:
        prediction: The learner's guess, one of :data:`SHORTCUT_CHOICES`, recorded before the gains were shown.
        band_gains: Each shortcut of :data:`SHORTCUT_CHOICES` -> its band mean IoU minus ``"none"``'s, one value
            per seed (paired: the same seed for both).
        reason: One sentence (a string of at least :data:`MIN_REASON_WORDS` words): why the learner expects that
            shortcut to gain least.

    Returns:
        Whether a valid prediction and reason were recorded (printed ``Recorded: ...``), else ``False`` with a hint.
    """
    hint = choice_hint(prediction, SHORTCUT_CHOICES)
    if hint is not None:
        return wrong(hint)
    if not isinstance(reason, str) or len(reason.split()) < MIN_REASON_WORDS:
        return wrong(f"add your reason: replace the `...` of `my_reason` with a sentence of at least "
                     f"{MIN_REASON_WORDS} words (a string): why you expect that shortcut to gain least.")
    gains = {name: [float(value) for value in band_gains.get(name, [])] for name in SHORTCUT_CHOICES}
    if any(not values for values in gains.values()) or len({len(values) for values in gains.values()}) != 1:
        return wrong(f"pass one list of per-seed gains, of equal length, for each of {', '.join(SHORTCUT_CHOICES)}.")
    mean = {name: sum(values) / len(values) for name, values in gains.items()}
    least = min(SHORTCUT_CHOICES, key=mean.get)
    table = "; ".join(f"{name} {mean[name]:+.3f} (seeds {', '.join(f'{v:+.3f}' for v in gains[name])})"
                      for name in sorted(SHORTCUT_CHOICES, key=mean.get))
    others = [name for name in SHORTCUT_CHOICES if name != least]
    every_seed = all(gains[least][seed] < min(gains[name][seed] for name in others)
                     for seed in range(len(gains[least])))
    seeds = ("it is behind both others in every seed" if every_seed else
             "mind the seeds: it is not behind both others in every seed, so the order is not separated")
    outcome = "The record agrees" if prediction == least else f"The record differs: {least!r} gains least"
    print(f"Recorded: {prediction!r} (not graded), because {reason.strip()!r}. Band mean IoU minus that of 'none', "
          f"mean over seeds: {table}. {outcome}; {seeds}. Does your reason explain the order? The table after "
          "Exercise 3 gives the two-test rule's verdicts.")
    return True


# --- Exercise 3: what the two-test rule makes of nine seeds above and one far below -------------

ONE_BELOW_VERDICT_CHOICES = {
    "a": "not distinguishable: one seed below 0 forbids a call, whatever the others show",
    "b": "not distinguishable: the sign-flip test calls a side only when every seed shares a sign",
    "c": "ahead: the 95 % t interval leaves out 0 and the sign-flip p is at most 0.05",
    "d": "not distinguishable: the 95 % t interval includes 0",
    "e": "not distinguishable: the t interval leaves out 0, but the sign-flip p is above 0.05",
    "f": "behind: the seed below 0 outweighs the seeds above it",
}
"""Exercise 3's verdicts, each with a reason, for paired per-seed differences (for the study's concat - none: ``"c"``)."""

_ONE_BELOW_WRONG = {
    "a": "the rule has no clause about single seeds: it asks whether the 95 % t interval leaves out 0 and whether the "
         "sign-flip p is at most 0.05. Work out both: how far does the one difference below 0 move them?",
    "b": "the sign-flip p is the share of the 2^n sign patterns whose sum is at least as far from 0 as the observed "
         "one, counted on both sides. It weighs sizes, not only signs: with one seed below 0, how small can p be?",
    "f": "look at the mean of the differences: is it below 0? 'behind' needs a mean below 0 and both tests agreeing",
}


def _t_interval_hint(values: list[float]) -> str:
    """Feedback for a reason that misreads the t interval: how to work it out, without its bounds or its side of 0."""
    low, high = paired_t_interval(values)
    mean = sum(values) / len(values)
    spread = (sum((value - mean) ** 2 for value in values) / (len(values) - 1)) ** 0.5
    t_point = (high - low) / 2 / (spread / len(values) ** 0.5)
    return (f"this reason misreads the 95 % t interval. Work it out before naming it: mean ± t · s / √n, with the "
            f"mean {_fmt(mean)}, t = {t_point:.2f} for {len(values) - 1} degrees of freedom and s the differences' "
            "standard deviation. Where do its ends lie?")


def _fmt(value: float) -> str:
    return f"{value:+.3f}"


def check_one_below_verdict(answer: Any, differences: Any) -> bool:
    """Check the verdict chosen for paired per-seed differences (a letter of :data:`ONE_BELOW_VERDICT_CHOICES`).

    The right letter is measured, not stored: the course's two-test rule
    (:func:`segedu.course.verdict_tables.two_test_verdict`) reads ``differences``; ``"c"`` where it calls
    "ahead", ``"f"`` where "behind"; where it calls no side, ``"e"`` if the 95 % t interval leaves out 0 (only the
    sign-flip p failed), ``"d"`` otherwise. ``"a"`` and ``"b"`` state rules the two tests do not have, so they are
    never right. Choosing ``"d"`` for ``"e"``, or the reverse, gets a hint on working out the t interval. The feedback
    on the right answer prints both tests and the sign-flip p as a count of sign patterns.

    Args:
        answer: One letter, such as ``"a"``.
        differences: One paired difference per seed, e.g. concat minus none over all pixels, ``(seeds,)``.

    Returns:
        Whether the letter names the rule's verdict with its reason.
    """
    hint = choice_hint(answer, ONE_BELOW_VERDICT_CHOICES)
    if hint is not None:
        return wrong(hint)
    values = [float(value) for value in differences]
    if len(values) < 2:
        return wrong("pass the per-seed differences, one per seed (at least two).")
    measured = two_test_verdict(values)
    low, high = paired_t_interval(values)
    interval_clear = low > 0 or high < 0
    letter = {"ahead": "c", "behind": "f"}.get(measured, "e" if interval_clear else "d")
    if answer != letter:  # the reason only: the two tests are printed once the answer is right
        if answer in ("d", "e") and (answer == "d") == interval_clear:  # the t interval misread
            reason = _t_interval_hint(values)
        elif answer == "e":  # the t interval read right; the sign-flip p not
            reason = ("work out the sign-flip p before naming it: 2 x (the sign patterns whose sum is at least the "
                      f"observed one) / 2^{len(values)}. Which patterns beat the observed sum, if you flip only the "
                      "smallest differences?")
        elif answer in _ONE_BELOW_WRONG:
            reason = _ONE_BELOW_WRONG[answer]
        elif answer == "c":
            reason = ("the rule calls a side only where both tests agree: work out the t interval and the sign-flip p "
                      "for these differences")
        else:
            reason = f"by the rule these differences read {measured!r}; which of the two tests decides?"
        return wrong(f"{reason[0].upper()}{reason[1:]}{'' if reason.endswith('?') else '.'}")
    p = sign_flip_p(values)
    patterns = 2 ** len(values)
    extreme = round(p * patterns / 2)  # sign patterns on one side at least as far from 0 as the observed sum
    above = sum(value > 0 for value in values)
    return right(
        f"{above} of {len(values)} seeds are above 0 and the mean is {_fmt(sum(values) / len(values))}; the 95 % t "
        f"interval is [{_fmt(low)}, {_fmt(high)}] and the sign-flip p is 2 x {extreme}/2^{len(values)} = {p:.4f}: by "
        f"the rule, {measured}."
        + (" The sign-flip test weighs sizes, not only signs: the further the seed on the other side, the more sign "
           "patterns beat the observed sum and the higher p." if measured != "not distinguishable" and 0 < above < len(values)
           else ""))
