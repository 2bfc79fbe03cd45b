"""Checks for the exercises of lesson 17 (DeepLab: output stride, ASPP and a comparison).

Every check prints ``Correct! ...`` or ``Not yet: <hint>`` and returns ``True`` or ``False``.
"""

from __future__ import annotations

from typing import Any

from segedu.analysis.atrous import valid_tap_fraction
from segedu.course.exercises._verdict import call_answer, choice_hint, returns_nothing, right, wrong

__all__ = [
    "ASPP_EXERCISE_SIDE",
    "ASPP_SHARE_TOLERANCE",
    "ASPP_SWITCHED_OFF",
    "DEEPLAB_BLOCKS",
    "PAPER_ASPP_RATES",
    "PAPER_MAP_SIDE",
    "POOLING_SWITCHED_OFF",
    "RATE6_SHARE_CHOICES",
    "check_aspp_forward",
    "check_aspp_rates_prediction",
    "check_output_stride_macs",
    "check_rate6_share_prediction",
]

# Exercise 1: DeepLabv3's blocks, in order; the output stride changes the maps some of them write.
DEEPLAB_BLOCKS = ("stem", "block1", "block2", "block3", "block4", "aspp", "classifier")


def _macs_per_block(output_stride: int) -> dict[str, int]:
    """MACs of each of :data:`DEEPLAB_BLOCKS` for one 64 x 64 RGB scene (4 classes); costs do not depend on weights."""
    from segedu.analysis.costs import macs_by_layer
    from segedu.models import DeepLabV3

    per_layer = macs_by_layer(DeepLabV3(3, 4, output_stride=output_stride), (1, 3, 64, 64))  # (name, type, MACs)
    return {block: sum(macs for name, _, macs in per_layer if name.split(".")[0] == block) for block in DEEPLAB_BLOCKS}


def _read_names(prediction: Any, allowed: tuple[str, ...], *, what: str, of: str, example: str,
                missing: str) -> tuple[set[str] | None, str | None]:
    """Read a set of names among ``allowed`` (``what``: "blocks" or "branches"), or say why not."""
    if prediction is ... or prediction is None:
        return None, missing
    if isinstance(prediction, str):
        prediction = prediction.replace(",", " ").split()
    if not isinstance(prediction, (set, frozenset, list, tuple)) or not all(isinstance(n, str) for n in prediction):
        return None, f"record the {what} as a set of names such as {{{example!r}}}; got {prediction!r}."
    names = {name.strip().lower() for name in prediction}
    unknown = sorted(names - set(allowed))
    if unknown:
        return None, f"{unknown} are not {what} of {of}; choose among {list(allowed)}."
    return names, None


def _read_blocks(prediction: Any) -> tuple[set[str] | None, str | None]:
    """Read a set of block names, or say why not."""
    return _read_names(prediction, DEEPLAB_BLOCKS, what="blocks", of="DeepLabV3", example="stem",
                       missing="record the blocks whose MACs do not change as a set of names, e.g. {'stem'}.")


def check_output_stride_macs(ratio: Any, unchanged_blocks: Any, measured: float | None = None) -> bool:
    """Exercise 1: the whole DeepLabv3's MACs at output stride 8 over those at 32, and the blocks that cost the same.

    The ratio passes within 0.25 of the measured one (64 x 64 scene); the blocks must be exactly those whose
    MACs are equal at both strides. A ratio near a common slip (every block x16, the ASPP left unscaled, block3
    left unscaled or scaled x16) gets that slip's hint.

    Args:
        ratio: The learner's predicted ratio, a number.
        unchanged_blocks: The learner's set of block names (:data:`DEEPLAB_BLOCKS`) whose MACs do not change.
        measured: The lesson's measured ratio, to catch a changed model.
    """
    if ratio is ... or ratio is None:
        return wrong("record your prediction first: replace the `...` in my_model_ratio with a number, e.g. 3.")
    try:
        value = float(ratio)
    except (TypeError, ValueError):
        return wrong(f"record a number for my_model_ratio; got {ratio!r}.")
    blocks, hint = _read_blocks(unchanged_blocks)
    if hint is not None:
        return wrong(hint)
    at8, at32 = _macs_per_block(8), _macs_per_block(32)
    truth = sum(at8.values()) / sum(at32.values())
    if measured is not None and abs(measured - truth) > 1e-6:
        return wrong(f"the measured ratio should be {truth:.2f}; got {measured}. Did you change the models?")
    same = {block for block in DEEPLAB_BLOCKS if at8[block] == at32[block]}
    problems = []
    if blocks != same:
        missing, extra = sorted(same - blocks), sorted(blocks - same)
        if extra:
            problems.append(f"{extra} write a larger map at output stride 8, so they cost more")
        if missing:
            problems.append(f"{missing} come before the first dropped stride: what map do they write at each stride?")
    if abs(value - truth) > 0.25:
        def scaled(factors: dict[str, int]) -> float:
            return sum(at32[block] * factors.get(block, 1) for block in DEEPLAB_BLOCKS) / sum(at32.values())
        slips = {
            16.0: "16 is the growth of the blocks after both dropped strides; the stem, block1 and block2 write the "
                  "same maps at both strides, and block3 has only one dropped stride before it",
            scaled({"block3": 4, "block4": 16}): "the ASPP and the classifier read block4's map, so they write 16 "
                                                 "times the positions too",
            scaled({"block4": 16, "aspp": 16, "classifier": 16}): "block3 also writes a larger map at output stride "
                                                                  "8: stride 1 instead of 2",
            scaled({"block3": 16, "block4": 16, "aspp": 16, "classifier": 16}): "block3 has one dropped stride "
                                                                                "before its output, not two",
        }
        nearest = min(slips, key=lambda slip: abs(slip - value))
        if abs(nearest - value) <= 0.15:
            problems.append(f"your ratio {value:g} is what you get if you miss one thing: {slips[nearest]}")
        else:
            problems.append(f"your ratio {value:g} is off: multiply each block's MACs at 32 by the growth of the map "
                            "it writes (1, 4 or 16), add them up and divide by the total at 32")
    if problems:
        return wrong("; ".join(problems) + ".")
    return right(
        f"the whole model costs {truth:.2f} times its output-stride-32 MACs at 8 (you said {value:g}). The stem, "
        "block1 and block2 come before the first dropped stride and write the same maps. block3 writes 4 times the "
        "positions at the same MACs each (the rate moves taps, it does not add any); block4, the ASPP and the "
        "classifier come after both dropped strides and write about 16 times as many (the image-level branch's "
        "1 x 1 map is the one part that does not grow). The same weights, over five times the work."
    )


# Exercise 2: what share of a rate-6 3x3 kernel's taps lands inside an 8 x 8 map, averaged over positions.
RATE6_SHARE_CHOICES = {  # bare shares: the reasons are the checker's feedback, not the options
    "a": "9 of 9",
    "b": "about 4.5 of 9",
    "c": "about 2.25 of 9",
    "d": "1 of 9",
}


def check_rate6_share_prediction(prediction: Any) -> bool:
    """Exercise 2: the share of a rate-6 3x3 kernel's taps inside an 8 x 8 map (``valid_tap_fraction(8, 6)``)."""
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


# Exercise 3: predict ASPP rates that keep, on a 16 x 16 map, the tap shares the paper's rates keep on 33 x 33.

PAPER_ASPP_RATES = (6, 12, 18)  # the paper's rates at output stride 16, made for its 33 x 33 map
PAPER_MAP_SIDE = 33
ASPP_EXERCISE_SIDE = 16  # exercise 3's map: a 128 x 128 scene at output stride 8 (segedu's own map is 8 x 8)
ASPP_SHARE_TOLERANCE = 0.05  # largest distance allowed between a predicted rate's share and the paper's


def _paper_shares() -> list[float]:
    """Share of a 3x3 kernel's taps inside the paper's 33 x 33 map at rates 6, 12, 18: about 0.77, 0.57, 0.40."""
    return [valid_tap_fraction(PAPER_MAP_SIDE, rate) for rate in PAPER_ASPP_RATES]


def _read_rates(prediction: Any) -> tuple[tuple[int, ...] | None, str | None]:
    """Three distinct increasing whole rates >= 1, or ``None`` and a hint that says what to record."""
    if prediction is ... or prediction is None:
        return None, "record your prediction first: replace the `...` with three rates, e.g. (1, 5, 7)."
    try:
        rates = tuple(prediction)
    except TypeError:
        return None, f"record three rates as a tuple such as (1, 5, 7); got {prediction!r}."
    if len(rates) != 3 or not all(isinstance(rate, int) and not isinstance(rate, bool) for rate in rates):
        return None, f"record three whole-number rates, one per atrous branch, such as (1, 5, 7); got {prediction!r}."
    if rates[0] < 1 or any(later <= earlier for earlier, later in zip(rates, rates[1:])):
        return None, f"the three branches need three different rates of at least 1, in increasing order; got {rates}."
    return rates, None


def check_aspp_rates_prediction(prediction: Any) -> bool:
    """Exercise 3: three ASPP rates whose tap shares on a 16 x 16 map are within 0.05 of the paper's on 33 x 33.

    The paper's rates 6, 12, 18 keep about 0.77, 0.57, 0.40 of a 3x3 kernel's taps inside its 33 x 33 map
    (``valid_tap_fraction``); a right prediction keeps each of those shares, in order, within
    :data:`ASPP_SHARE_TOLERANCE` on a :data:`ASPP_EXERCISE_SIDE` x 16 map: (3, 6, 9), the paper's rates scaled with
    the map, or (3, 6, 8). segedu's own (2, 3, 4), chosen for its 8 x 8 map, is not one.

    Args:
        prediction: Three distinct whole rates in increasing order, e.g. ``(1, 5, 7)``.
    """
    rates, hint = _read_rates(prediction)
    if hint is not None:
        return wrong(hint)
    side = ASPP_EXERCISE_SIDE
    targets = _paper_shares()
    shares = [valid_tap_fraction(side, rate) for rate in rates]
    listed = ", ".join(f"rate {rate} keeps {share:.2f}" for rate, share in zip(rates, shares))
    goal = ", ".join(f"{target:.2f}" for target in targets)
    misses = [(rate, share, target) for rate, share, target in zip(rates, shares, targets)
              if abs(share - target) > ASPP_SHARE_TOLERANCE]
    if not misses:
        from segedu.models.deeplab import DEFAULT_ATROUS_RATES

        def scaled(map_side: int) -> str:  # the paper's rates scaled from its 33 x 33 map to a map_side one
            return ", ".join(f"{rate * map_side / PAPER_MAP_SIDE:.1f}" for rate in PAPER_ASPP_RATES)

        ours = DEFAULT_ATROUS_RATES[8]  # segedu's rates for its own 8 x 8 map
        ours_keep = ", ".join(f"{valid_tap_fraction(8, rate):.2f}" for rate in ours)
        paper_here = ", ".join(f"{valid_tap_fraction(side, 2 * rate):.2f}" for rate in PAPER_ASPP_RATES)
        return right(
            f"on a {side} x {side} map {listed} of its taps, each within {ASPP_SHARE_TOLERANCE} of the {goal} that "
            f"the paper's 6, 12, 18 keep on its 33 x 33 map. The share depends on the rate over the map's side, so "
            f"the rates scale with the map: {side}/33 of 6, 12, 18 is {scaled(side)}. For segedu's 8 x 8 map the "
            f"same scaling gives {scaled(8)}; segedu uses {', '.join(map(str, ours))}, which keep {ours_keep} there. "
            f"The paper's own 12, 24, 36 at output stride 8 would keep {paper_here} here: two of the three branches "
            "reduced to their centre tap, 1x1 convolutions in effect."
        )
    rate, share, target = misses[0]
    direction = "too large: fewer of its taps land inside" if share < target else "too small: more of its taps land inside"
    return wrong(
        f"{listed} on a {side} x {side} map; the paper's shares are {goal}. Rate {rate} keeps {share:.2f}, more than "
        f"{ASPP_SHARE_TOLERANCE} from {target:.2f}: {direction}. Count along one axis as in exercise 2: of a row of "
        f"three taps the centre one is always inside and each side one from {side} - r of the {side} rows; the "
        "kernel's share is that axis's share, squared. Or ask what the share depends on: the rate alone, or the rate "
        "over the map's side?"
    )


# --- 4 · write the ASPP's forward pass ------------------------------------------------------------------------

ASPP_SWITCHED_OFF = ("the ASPP's own forward is switched off in this check: build its output from its parts, "
                     "`aspp.branches` and `aspp.project`.")
POOLING_SWITCHED_OFF = ("the image-level branch's own forward is switched off in this check: write it out from its "
                        "parts, `.pool` and `.conv`, and bring its output back to the input's h x w.")


def _switched_off(message: str) -> Any:
    def forward(*_: Any, **__: Any) -> Any:
        raise RuntimeError(message)
    return forward


def _aspp_case() -> tuple[Any, Any, Any]:
    """``(reference ASPP, the learner's copy, x)``: a small ASPP (8 -> 6 channels, rates 2, 3, 4) in evaluation mode.

    Its weights and BatchNorm statistics are random (seeded), so a skipped step changes the output. The copy has its
    own ``forward`` and its image-level branch's ``forward`` switched off. ``x`` is ``(2, 8, 6, 10)``: a map that is
    not square, so a branch resized to the wrong side shows.
    """
    import copy

    import torch

    from segedu.models.deeplab import ASPP

    generator = torch.Generator().manual_seed(16)
    reference = ASPP(8, 6, (2, 3, 4))
    with torch.no_grad():
        for parameter in reference.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.5)
        for module in reference.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.copy_(torch.randn(module.num_features, generator=generator) * 0.3)
                module.running_var.copy_(torch.rand(module.num_features, generator=generator) + 0.5)
    reference.eval()
    learner = copy.deepcopy(reference)
    learner.forward = _switched_off(ASPP_SWITCHED_OFF)
    learner.branches["image_pooling"].forward = _switched_off(POOLING_SWITCHED_OFF)
    x = torch.randn(2, 8, 6, 10, generator=generator)  # (B, C, h, w)
    return reference, learner, x


def _aspp_slips(aspp: Any, x: Any) -> dict[str, Any]:
    """The ASPP's output with one common slip each, for the hints: slip -> (B, A, h, w)."""
    import torch
    import torch.nn.functional as F

    pooling = aspp.branches["image_pooling"]
    height, width = x.shape[-2:]

    def joined(image_level: Any, order: tuple[str, ...] | None = None) -> Any:
        names = list(aspp.branches) if order is None else list(order)
        parts = {name: branch(x) for name, branch in aspp.branches.items() if name != "image_pooling"}
        parts["image_pooling"] = image_level.expand(-1, -1, height, width)
        return aspp.project(torch.cat([parts[name] for name in names], dim=1))

    mean = x.mean(dim=(2, 3), keepdim=True)  # (B, C, 1, 1)
    names = list(aspp.branches)
    return {
        "no_relu": joined(pooling.conv(mean)),
        "max_pool": joined(F.relu(pooling.conv(x.amax(dim=(2, 3), keepdim=True)))),
        "no_bias": joined(F.relu(F.conv2d(mean, pooling.conv.weight))),
        "order": joined(F.relu(pooling.conv(mean)), ("image_pooling", *names[:-1])),
    }


def check_aspp_forward(function: Any) -> bool:
    """Exercise 4: ``function(aspp, x)`` computes what segedu's ``aspp(x)`` computes, image-level branch written out.

    It runs on a small random ASPP (rates 2, 3, 4) in evaluation mode with the ASPP's own ``forward`` and the
    image-level branch's ``forward`` switched off, on a ``(2, 8, 6, 10)`` input, and is compared with the untouched
    ASPP's output. A wrong output gets the hint of the slip it matches: the branches not projected, no ReLU in the
    image-level branch, max instead of average pooling, the 1x1 convolution's bias left out, the image-level
    branch concatenated first; otherwise the largest difference and where to look.

    Args:
        function: The learner's ``aspp_forward(aspp, x)``: an :class:`~segedu.models.deeplab.ASPP` and
            ``(B, C, h, w)`` to ``(B, A, h, w)``.
    """
    import torch

    reference, learner, x = _aspp_case()
    with torch.no_grad():
        found, hint = call_answer(function, learner, x.clone())
        if hint is not None:
            return wrong(hint)
        if found is ... or found is None:
            return wrong(returns_nothing("the ASPP's output, a tensor (B, A, h, w)"))
        expected = reference(x)  # (2, 6, 6, 10)
        if not isinstance(found, torch.Tensor) or tuple(found.shape) != tuple(expected.shape):
            shape = tuple(found.shape) if isinstance(found, torch.Tensor) else type(found).__name__
            if isinstance(found, torch.Tensor) and tuple(found.shape) == (2, 5 * 6, 6, 10):
                return wrong(f"your output {shape} has the five branches' channels side by side: the ASPP ends with "
                             "`aspp.project`, a 1x1 convolution (with BatchNorm and ReLU) back to one branch's width.")
            return wrong(f"the output should be {tuple(expected.shape)}, the input's map with the ASPP's width; got "
                         f"{shape}. Does every branch return the input's h x w before you concatenate?")
        if torch.allclose(found, expected, atol=1e-5, rtol=1e-4):
            return right("your forward gives the package's ASPP output: four convolution branches and the image-level "
                         "branch (average pool, 1x1 conv, ReLU, one vector copied to every position), concatenated "
                         "along the channels and projected by one 1x1 conv to the head's width.")
        slips = _aspp_slips(reference, x)
        hints = {
            "no_relu": "your image-level branch has no ReLU after its 1x1 convolution; every branch ends in one, this one too.",
            "max_pool": "your image-level branch takes the largest value of the map; it averages the map.",
            "no_bias": "your image-level branch leaves out its 1x1 convolution's bias: call `.conv` itself (it has "
                       "no BatchNorm, so it keeps its bias).",
            "order": "the branches go into the concatenation in the order of `aspp.branches`, the image-level "
                     "branch last: the projection's weights expect that order.",
        }
        for slip, output in slips.items():
            if torch.allclose(found, output, atol=1e-5, rtol=1e-4):
                return wrong(hints[slip])
        gap = float((found - expected).abs().max())
        return wrong(f"your output differs from the package's by up to {gap:.3g}. Compare each of your five branch "
                     "outputs with the package's: `aspp.branches[name]` for the four convolution branches, and for "
                     "the image-level branch the average over h and w, its `.conv`, a ReLU, copied to every position.")
