"""Checks for the exercises of lesson 07 (FCN).

Every check prints ``Correct! ...`` or ``Not yet: <hint>`` and returns ``True`` or ``False``.
The expected answers are computed from segedu itself (its models, the lesson's own scores) or from a
conversion written out here (a private helper, so that exercise 2's one-line answer is not in the public API).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from torch import nn

from segedu.course.exercises._verdict import (
    borrowed_names,
    call_answer,
    choice_hint,
    read_letters,
    right,
    wrong,
)
from segedu.models import get_model

__all__ = [
    "CONVOLUTIONALIZE_BORROWED",
    "FC_AS_CONV_BORROWED",
    "FC_QUESTION",
    "MISS_RATE_BANDS",
    "MISS_REASONS",
    "SKIP_START_STATEMENTS",
    "WEIGHT_GRADIENT_CHOICES",
    "check_fc_as_conv",
    "check_missed_sizes",
    "check_skip_start",
    "flatten_channels_last",
]

SKIP_START_STATEMENTS = {  # four options of similar length and tone
    "a": "in the paper's staged training, a zero-start score_pool4 lets the new FCN-16s begin from the trained "
         "FCN-32s's 1/32 scores unchanged, the branch adding nothing to them until its weights and bias move",
    "b": "at the first step the pool4 branch passes no gradient down to pool4, so whatever gradient reaches "
         "encoder stage 4 at that step comes down the main path, through stage 5 and pool5",
    "c": "score_pool4's bias starts at zero as well, and at the first step its gradient is zero too, so until "
         "the weights have moved the branch cannot add even a constant score to each class",
    "d": "score_pool4's filters all start equal (all zero), and like hidden units started at one constant they "
         "get equal gradients at each step and move together: the branch adds one shared score to every class",
}
_SKIP_START_KEY = frozenset({"a", "b"})
_SKIP_START_REASONS = {
    "a": "a 1 x 1 convolution with zero weights and bias outputs zeros whatever pool4 holds (switching the "
         "zero-start branch off changes the output by 0, printed above), so in staged training the 1/32 scores "
         "the new FCN-16s upsamples are exactly what FCN-32s learned, and the skip adds something only once a "
         "training step has moved its weights or bias. Only those scores carry over: the output passes them through a new 2x and a 16x upsampler, "
         "which at their bilinear start do not reproduce FCN-32s's 32x kernel (that is why the statement names "
         "the 1/32 scores, not the output)",
    "b": "the gradient a convolution passes down is its weights times the upstream gradient, and the weights "
         "are zero: the gradient through the skip is 0 (printed above); stage 4 still gets one through pool5",
    "c": "a bias's gradient is the upstream gradient summed over every position of its class's map; it is not "
         "multiplied by any weight, so the zero start does not stop it: it is not zero at the first step "
         "(printed above), and the branch can learn a per-class constant from the first step on",
    "d": "each filter of score_pool4 scores one class, and its gradient is pool4's features times that class's "
         "own upstream gradient (softmax probability minus target, upsampled), which differs from class to class: "
         "the filters' gradients already differ at the first step (smallest difference printed above), so the "
         "filters part at once. Equal starts trap only interchangeable units, such as hidden units that feed the "
         "next layer through equal weights; the loss treats every class differently, so the class filters are not",
}
WEIGHT_GRADIENT_CHOICES = ("zero", "not zero")
_SKIP_START_HINTS = {  # one question per answer, all asked after any miss: they ask for the reasoning, never a verdict
    "weight_gradient": "write the gradient of a 1 x 1 convolution's weight as a product of two factors; what is "
                       "each factor made of, and what value does each have at the first step?",
    "a": "write the new FCN-16s's 1/16 sum at its first step as what its two paths contribute; work out each "
         "contribution from the layers' starting values. Which part of FCN-32s does that sum keep?",
    "b": "write the gradient a convolution passes down to its input as a product of two factors; where does each "
         "come from? Then trace every path from the loss down to encoder stage 4.",
    "c": "write the gradient of a convolution's bias: which quantities appear in it, and what is each of them at "
         "the first step?",
    "d": "write the gradient of the filter that scores class k: which quantities does it depend on, and which of "
         "them change with k? When do units that start equal stay equal?",
}
_SKIP_START_QUESTIONS = tuple(_SKIP_START_HINTS.items())  # (answer, question), the prediction first


CONVOLUTIONALIZE_BORROWED = ("convolutionalize", "ConvolutionalizedClassifier", "_linear_to_conv")
# What an fc_as_conv answer may not call: convolutionalize's (channels-first) copy, or this module's own answer.
FC_AS_CONV_BORROWED = CONVOLUTIONALIZE_BORROWED + ("_channels_last_filters",)
# The layers the check converts: fc1 of section 1's sizes (128 units reading 32 x 3 x 3), then one for 32 x 32
# windows with other sizes (48 units reading 16 x 4 x 4), so that an answer must use its arguments. Both read their
# block flattened channels-last: permuted to (height, width, channels) before the flatten, as in Keras or TensorFlow.
_FC_CASES = ({"channels": 32, "side": 3, "out_features": 128, "seed": 0},
             {"channels": 16, "side": 4, "out_features": 48, "seed": 1})


def _fc_case(channels: int, side: int, out_features: int, seed: int) -> nn.Linear:
    """An untrained, seeded fully connected layer that reads a channels-last flattened (side, side, channels) block."""
    generator = torch.Generator().manual_seed(seed)
    linear = nn.Linear(channels * side * side, out_features)
    with torch.no_grad():
        linear.weight.copy_(torch.randn(linear.weight.shape, generator=generator) / math.sqrt(linear.in_features))
        linear.bias.copy_(torch.randn(out_features, generator=generator) * 0.1)
    return linear


def _channels_last_filters(linear: nn.Linear, channels: int, side: int) -> torch.Tensor:
    """The ground truth: fc weights read channels-last, as ``(out, channels, side, side)`` convolution filters.

    Input ``j`` of the layer is feature ``(row, column, channel)`` of the block in channels-last order, so each
    filter's weights are reshaped ``(side, side, channels)`` and then permuted to ``(channels, side, side)``.
    """
    return linear.weight.detach().reshape(linear.out_features, side, side, channels).permute(0, 3, 1, 2)


def flatten_channels_last(block: torch.Tensor) -> torch.Tensor:
    """Flatten a ``(B, C, H, W)`` block channels-last, the order the exercise's layer reads: ``(B, H * W * C)``."""
    return block.permute(0, 2, 3, 1).flatten(1)


def _same(found: torch.Tensor, expected: torch.Tensor) -> bool:
    return tuple(found.shape) == tuple(expected.shape) and torch.allclose(found.float(), expected.float())


def _fc_as_conv_mistake(conv: Any, linear: nn.Linear, channels: int, side: int) -> str | None:
    """A hint naming what ``conv`` gets wrong as the channels-last layer written as a convolution, or ``None``."""
    out_features = linear.out_features
    if not isinstance(conv, nn.Conv2d):
        return f"return an nn.Conv2d layer that holds the layer's weights; got {type(conv).__name__}."
    if (conv.in_channels, conv.out_channels) != (channels, out_features):
        return (f"for a layer with {out_features} outputs reading {channels} x {side} x {side} features, the "
                f"convolution takes {channels} input channels and has one filter per output unit; yours maps "
                f"{conv.in_channels} channels to {conv.out_channels}. Build it from the arguments, not from "
                "section 1's numbers.")
    if tuple(conv.kernel_size) != (side, side):
        return (f"the layer reads the whole {side} x {side} x {channels} block at once, so each filter must cover "
                f"all of it; your kernel is {tuple(conv.kernel_size)}.")
    if tuple(conv.stride) != (1, 1) or tuple(conv.dilation) != (1, 1) or conv.groups != 1:
        return ("keep the convolution plain (stride 1, no dilation, one group): the classifier must be evaluated at "
                "every position of the feature map, one cell (8 pixels) apart.")
    if conv.padding != (0, 0) and conv.padding != "valid":
        return ("your convolution pads its input. At the training size it would then return a map larger than 1 x 1, "
                "and its border cells would put the filter partly over zeros that the layer never saw: it applies "
                "only where the whole block is real features.")
    weight = conv.weight.detach()
    expected = _channels_last_filters(linear, channels, side)  # (out, C, side, side)
    if not _same(weight, expected):
        rows = linear.weight.detach()  # (out, side * side * C)
        if _same(weight, rows.reshape(out_features, channels, side, side)):
            return ("your filters read each row as nn.Flatten would lay out a (channels, height, width) block, "
                    "channel slowest. This layer's block was permuted to (height, width, channels) before the "
                    "flatten: which index changes fastest along a row now? Flatten torch.arange(2 * 3 * 3)"
                    ".reshape(1, 2, 3, 3).permute(0, 2, 3, 1) and look.")
        if _same(weight, expected.transpose(2, 3)):
            return ("your filters have their rows and columns swapped: the weight that multiplies feature "
                    "(row i, column j, channel c) must sit at channel c, row i, column j of the filter.")
        if _same(weight, rows.t().reshape(out_features, channels, side, side)):
            return ("you reshaped the transposed matrix. Filter k computes output unit k, so it holds row k of "
                    "the weight matrix (the weights of everything unit k reads).")
        if weight.numel() == rows.numel() and sorted(weight.flatten().tolist()) == sorted(rows.flatten().tolist()):
            return ("your filters hold the layer's numbers in another order than its flatten read them: filter k must "
                    "hold row k, each weight at the (channel, row, column) of the feature it multiplies.")
        return ("your filters are not the layer's weights: copy them in (inside torch.no_grad()), filter k from row k "
                "of the matrix, each weight at the (channel, row, column) of the feature it multiplies.")
    if conv.bias is None or not _same(conv.bias.detach(), linear.bias.detach()):
        return "the weights are right; now the bias: the layer adds one bias per output unit, and so must each filter."
    return None


FC_QUESTION = {"channels": 32, "side": 3, "feature": (5, 1, 2)}
# The prediction: for section 1's block (32 channels, 3 x 3) read by a channels-last layer, which column of its
# matrix W multiplies feature (channel 5, row 1, column 2)? Columns count from 0.


def _feature_column(channels: int, side: int, feature: tuple[int, int, int]) -> int:
    """The column of a channels-last layer's matrix that multiplies ``feature = (channel, row, column)``.

    Read off :func:`flatten_channels_last` itself: a block whose values are their own positions, flattened
    as the layer flattens it, shows where each feature lands.
    """
    positions = torch.arange(channels * side * side).reshape(1, channels, side, side)  # (1, C, side, side)
    flat = flatten_channels_last(positions)[0]  # (C * side * side,)
    channel, row, column = feature
    return int((flat == positions[0, channel, row, column]).nonzero()[0, 0])


_ARANGE_HINT = ("Or run lesson07.flatten_channels_last on torch.arange(2 * 3 * 3).reshape(1, 2, 3, 3), a small block "
                "whose values are their own positions, and look where each one lands.")


def _column_hint(column: Any) -> str | None:
    """The hint for a recorded column that is missing or wrong, ``None`` for the right one; never the answer."""
    channels, side, feature = FC_QUESTION["channels"], FC_QUESTION["side"], FC_QUESTION["feature"]
    width = channels * side * side
    c, i, j = feature
    if column is ... or column is None:
        return ("record your prediction first: replace the `...` of `column` with a whole number, the column of W "
                f"that multiplies feature (channel {c}, row {i}, column {j}).")
    if isinstance(column, bool) or not isinstance(column, int):
        return f"`column` must be a whole number, a column of W counted from 0; got {column!r}."
    if not 0 <= column < width:
        return (f"W has {width} columns, one per feature of the {channels} x {side} x {side} block, numbered 0 to "
                f"{width - 1}; got {column}.")
    right_column = _feature_column(channels, side, feature)
    if column == right_column:
        return None
    if column == c * side * side + i * side + j:
        return ("that is where nn.Flatten would put the feature, reading a (channels, height, width) block channel "
                "by channel, as convolutionalize assumes. This layer runs permute(0, 2, 3, 1) before it flattens: "
                "what shape has the block then, and which of its indices changes fastest in flatten(1)? "
                f"{_ARANGE_HINT}")
    if column == (j * side + i) * channels + c:
        return ("you swapped the row and the column. After permute(0, 2, 3, 1), which of the two comes first in the "
                f"block's shape? {_ARANGE_HINT}")
    if column == i * channels * side + c * side + j:
        return ("in that count the column changes fastest. Which dimension does permute(0, 2, 3, 1) put last, and "
                f"how fast does the last dimension change when a tensor is flattened? {_ARANGE_HINT}")
    if column == right_column + 1:
        return "columns count from 0, as Python indexes: the first feature of the flattened block is column 0."
    return ("write the block's shape after permute(0, 2, 3, 1), then count positions as flatten(1) does, the last "
            f"index fastest, to where feature (channel {c}, row {i}, column {j}) lands. {_ARANGE_HINT}")


def check_fc_as_conv(column: Any, function: Callable[[nn.Linear, int, int], Any]) -> bool:
    """Check a predicted column of W, then ``function(linear, channels, side)``: a channels-last layer as a conv.

    ``linear`` reads a ``channels x side x side`` block of features flattened as
    ``block.permute(0, 2, 3, 1).flatten(1)`` (:func:`flatten_channels_last`, as in a classifier ported
    from Keras). ``column`` is the learner's prediction of which column of its ``(out, side * side *
    channels)`` matrix ``W`` multiplies feature (channel 5, row 1, column 2) of section 1's 32 x 3 x 3
    block (:data:`FC_QUESTION`; :func:`_feature_column`, private, is the ground truth). It is judged first (a wrong
    number gets a question, never the right number), and the function only after it.

    The answer must be an ``nn.Conv2d`` that computes the same numbers at that size and slides over a
    larger feature map. It is compared with :func:`_channels_last_filters` (each row reshaped ``(side,
    side, channels)``, then permuted to ``(channels, side, side)``) and with the layer itself run on
    every channels-last flattened block, for 128 units reading 32 x 3 x 3 (section 1's sizes) and 48
    units reading 16 x 4 x 4. A function that calls ``convolutionalize`` (or its helpers) or
    :func:`_channels_last_filters` (:data:`FC_AS_CONV_BORROWED`) is sent back; a miss gets a hint, and only
    a right answer prints what it computes.
    """
    hint = _column_hint(column)
    if hint is not None:
        return wrong(hint)
    channels, side, (c, i, j) = FC_QUESTION["channels"], FC_QUESTION["side"], FC_QUESTION["feature"]
    print(f"Column {column} is right: after permute(0, 2, 3, 1) the block is (B, {side}, {side}, {channels}), and "
          "flatten(1) counts its last index fastest, so along a row of W the channel changes fastest, then the "
          f"column, then the row: feature (channel {c}, row {i}, column {j}) sits at ({i} x {side} + {j}) x {channels} "
          f"+ {c} = {column}. Now the layer: turn each row into a filter whose weights sit in the (channel, row, "
          "column) order nn.Conv2d expects.")
    borrowed = borrowed_names(function, FC_AS_CONV_BORROWED)
    if borrowed:
        what = ("is the check's own conversion" if borrowed[0] == "_channels_last_filters"
                else "does a (channels-first) copy for you")
        return wrong(f"your function uses `{borrowed[0]}`, which {what}: build the nn.Conv2d yourself and copy the "
                     "layer's weights and bias into it.")
    with torch.random.fork_rng(devices=[]):  # new layers draw random starts; the lesson's later draws stay unchanged
        return _check_fc_as_conv_cases(function)


def _check_fc_as_conv_cases(function: Callable[[nn.Linear, int, int], Any]) -> bool:
    """Run :func:`check_fc_as_conv`'s cases in order; the first miss ends the check."""
    measured = []
    for case in _FC_CASES:
        linear, channels, side = _fc_case(**case), case["channels"], case["side"]
        conv, hint = call_answer(function, copy.deepcopy(linear), channels, side)
        if hint is None and (conv is ... or conv is None):
            hint = "your function returns nothing yet: replace the `...` with code that returns an nn.Conv2d."
        if hint is not None:
            return wrong(hint)
        hint = _fc_as_conv_mistake(conv, linear, channels, side)
        if hint is not None:
            return wrong(f"for a layer with {linear.out_features} outputs reading {side} x {side} x {channels} "
                         f"channels-last features: {hint}")
        features = torch.randn(1, channels, 4 * side, 4 * side, generator=torch.Generator().manual_seed(case["seed"]))
        with torch.no_grad():
            yours = conv(features)  # (1, out, 3 * side + 1, 3 * side + 1)
            blocks = features.unfold(2, side, 1).unfold(3, side, 1)  # (1, C, n, n, side, side): every block
            cells = blocks.shape[2]
            by_layer = torch.stack([torch.stack([linear(flatten_channels_last(blocks[:, :, i, j]))[0]
                                                 for j in range(cells)], -1) for i in range(cells)], -2)  # (out, n, n)
        if not torch.allclose(yours[0], by_layer, atol=1e-5):
            return wrong("your layer holds the right weights but does not compute what the layer computes: does its "
                         "forward pass use them unchanged?")
        measured.append(f"{linear.out_features} units reading {side} x {side} x {channels} channels-last: your filters "
                        f"{tuple(conv.weight.shape)} equal each row reshaped (side, side, channels) and permuted to "
                        f"(channels, side, side); on a {4 * side} x {4 * side} feature map your layer returns a "
                        f"{yours.shape[-2]} x {yours.shape[-1]} map, and every cell is the fully connected layer "
                        "applied to that block flattened channels-last")
    print("\n".join(measured))  # only once every case is right
    return right(
        "output unit k is the dot product of row k with the block, read in the order the block was flattened. Here "
        "that order is (row, column, channel), so row k reshaped to (side, side, channels) holds each weight at its "
        "feature, and permute(0, 3, 1, 2) gives the (channels, side, side) filter that nn.Conv2d expects. The plain "
        "reshape that convolutionalize uses is right only for PyTorch's own (channels, row, column) flatten; on "
        "weights ported from a channels-last framework it runs without an error and computes something else. A "
        "convolution without padding then computes the dot product at every position where the whole block fits: "
        "once at the training size, at every window position on a larger map."
    )


MISS_RATE_BANDS = {"under 20%": (0, 20), "20-40%": (20, 40), "40-60%": (40, 60), "over 60%": (60, 100)}
# exercise 1: what share of the small objects (below the median size) does FCN-32s miss? Each band is read on the
# share in whole percent, ends included, so a share on a boundary (40 %, say) accepts both bands that meet there.
_QUARTER = 32 * 32  # pixels per cell of FCN-32s's 2 x 2 map on a 64 x 64 scene


def _miss_rates(answers: Sequence[str], small: torch.Tensor) -> dict[str, float]:
    """The share of each half (``small``: below the median size, ``large``: the rest) whose answer is "missed"."""
    missed = torch.tensor([answer == "missed" for answer in answers], dtype=torch.float)
    return {half: float(missed[chosen].mean()) if bool(chosen.any()) else 0.0
            for half, chosen in (("small", small), ("large", ~small))}


MISS_REASONS = {  # exercise 1's second part: why FCN-32s misses small objects; three options of similar length
    "a": "each conv7 cell's receptive field is too small to take in a small shape with its surroundings",
    "b": "FCN-32s has one score cell per 32 x 32 quarter, and a small shape fills only a small part of it",
    "c": "the loss is dominated by the pixels of large shapes and background, so small shapes barely count",
}
_MISS_REASON_KEY = "b"
_MISS_REASON_WHY = {
    "a": "each conv7 cell's receptive field is wider than the whole 64-pixel scene (padded 3 x 3 convolutions, five "
         "poolings), so every cell sees every shape; what FCN-32s lacks is a finer place to put it",
    "b": "its output is one learned kernel stamped at four cells: it can give a class to much of a quarter, not to a "
         "small patch wherever a small shape lies",
    "c": "FCN-8s is trained with the same loss on the same scenes, where small shapes weigh just as little, yet it "
         "misses far fewer of them: the loss cannot explain the difference",
}


def _reason_verdict(reason: Any) -> tuple[bool, str]:
    """Whether ``reason`` is the right letter of :data:`MISS_REASONS`, and a sentence that says why."""
    hint = choice_hint(reason, tuple(MISS_REASONS))
    if hint is not None:
        return False, f"the reason: {hint.replace('prediction', 'reason')}"
    if reason == _MISS_REASON_KEY:
        return True, f"your reason {reason!r} is right: {_MISS_REASON_WHY[reason]}"
    return False, (f"your reason {reason!r} does not hold: {_MISS_REASON_WHY[reason]}. Which difference between the "
                   "two models is left?")


def check_missed_sizes(prediction: Any, object_size: Sequence[int], verdicts: Mapping[str, Sequence[str]],
                       reason: Any = None) -> bool:
    """Check a prediction of the share of the small objects that FCN-32s misses, as one of four bands.

    The objects are split at their median size (``small``: fewer pixels than the median, ``large``: the rest);
    an object is *missed* when background is its plurality label (the label given to the most of its pixels), as
    in section 4's object-by-object table. The share is read off the lesson's own counts, rounded to a whole
    percent; a band counts its ends, so a share on a boundary accepts both bands that meet there. Either way the
    feedback gives the shares (FCN-32s's for both halves, FCN-8s's when ``verdicts`` has them) and says why.

    Args:
        prediction: One of :data:`MISS_RATE_BANDS`: ``"under 20%"``, ``"20-40%"``, ``"40-60%"``, ``"over 60%"``;
            ``...`` means not recorded yet.
        object_size: Each test object's size in pixels.
        verdicts: ``{"32s": [...], "8s": [...]}``, one answer per object, in the order of ``object_size``:
            ``"named"``, ``"another shape"`` or ``"missed"``.

        reason: One letter of :data:`MISS_REASONS`, the learner's reason; ``None`` checks the band alone,
            ``...`` means not recorded yet.

    Returns:
        Whether the predicted band holds the share of the small objects that FCN-32s misses (and, when a
        reason is passed, whether it is the right one).
    """
    hint = choice_hint(prediction, tuple(MISS_RATE_BANDS))
    if hint is not None:
        return wrong(hint)
    if "32s" not in verdicts or any(len(answers) != len(object_size) for answers in verdicts.values()):
        return wrong("pass section 4's `object_size` and `verdicts`: one answer per object for '32s' (and '8s').")
    sizes = torch.tensor(list(object_size), dtype=torch.float)
    median = float(sizes.median())
    small = sizes < median  # (objects,) bool
    rate = {variant: _miss_rates(verdicts[variant], small) for variant in ("32s", "8s") if variant in verdicts}
    percent = round(100 * rate["32s"]["small"])
    bands = [band for band, (low, high) in MISS_RATE_BANDS.items() if low <= percent <= high]
    measured = (f"FCN-32s misses {rate['32s']['small']:.0%} of the objects under {median:.0f} pixels "
                f"({' or '.join(bands)}), {rate['32s']['large']:.0%} of the larger ones")
    why = (f"a median object, {median:.0f} pixels, fills {median / _QUARTER:.0%} of one 32 x 32 quarter of a 64-pixel "
           "scene, and FCN-32s has one cell per quarter. Its output is the same learned 32x kernel stamped at its four "
           "cells, weighted by their scores: such a mix can give a class to much of a quarter, not to a small patch "
           "wherever a small shape lies, so background is often the plurality label of a small shape")
    if "8s" in rate:
        why += (f". FCN-8s adds scores from an 8 x 8 map, one cell per 8 x 8 pixels: fine enough to place a small "
                f"shape (it misses {rate['8s']['small']:.0%} of the small objects, {rate['8s']['large']:.0%} of the "
                "larger ones)")
    if prediction not in bands:
        return wrong(f"you predicted {prediction!r}, but {measured}: {why}.")
    if reason is None:
        return right(f"{measured}: {why}.")
    reason_right, reason_text = _reason_verdict(reason)
    if not reason_right:
        return wrong(f"your band is right ({measured}), but {reason_text}")
    return right(f"{measured}: {why}. And {reason_text}.")


@torch.no_grad()
def _skip_effects(seed: int = 0) -> dict[str, float]:
    """How much an untrained FCN-16s's output moves when its pool4 branch is switched off.

    Returns the largest absolute difference of the output logits, with ``score_pool4`` as built
    (started at zero) and after PyTorch's default random initialisation of that layer.
    """
    torch.manual_seed(seed)
    model = get_model("fcn16s", in_channels=3, num_classes=4, base_channels=4, fc_channels=16).eval()
    image = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(seed))  # (1, 3, 64, 64)

    def silenced(_module: torch.nn.Module, _inputs: Any, output: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(output)

    effects = {}
    for start in ("zero_start", "random_start"):
        if start == "random_start":
            model.score_pool4.reset_parameters()  # PyTorch's default random start
        with_pool4 = model(image)  # (1, 4, 64, 64)
        handle = model.score_pool4.register_forward_hook(silenced)
        without_pool4 = model(image)
        handle.remove()
        effects[start] = float((with_pool4 - without_pool4).abs().max())
    return effects


def _first_step_gradients(seed: int = 0) -> dict[str, float]:
    """Gradient norms at an untrained FCN-16s's first step (zero-start ``score_pool4``).

    Returns the norm of the gradient reaching ``score_pool4``'s weights and its bias, the norm of the gradient
    that ``score_pool4`` passes down to pool4, the norm reaching the convolution weights of
    encoder stage 4 (whose output is pool4), the smallest distance between the gradients of two
    of ``score_pool4``'s filters (one filter per class) and the range of those filters' gradient norms.
    """
    torch.manual_seed(seed)
    model = get_model("fcn16s", in_channels=3, num_classes=4, base_channels=4, fc_channels=16).train()
    generator = torch.Generator().manual_seed(seed)
    image = torch.rand(2, 3, 64, 64, generator=generator)  # (2, 3, 64, 64)
    mask = torch.randint(0, 4, (2, 64, 64), generator=generator)  # (2, 64, 64)
    passed_down = []

    def record(_module: torch.nn.Module, gradient_in: tuple[torch.Tensor, ...], _gradient_out: Any) -> None:
        passed_down.append(gradient_in[0])  # (2, C, 4, 4): the gradient this layer alone sends to pool4

    handle = model.score_pool4.register_full_backward_hook(record)
    torch.nn.functional.cross_entropy(model(image), mask).backward()
    handle.remove()
    stage4 = [parameter.grad for name, parameter in model.stage4.named_parameters() if name.endswith("conv.weight")]
    per_filter = model.score_pool4.weight.grad.flatten(1)  # (K, C): one row per class's filter
    distances = torch.cdist(per_filter, per_filter)  # (K, K)
    apart = distances[~torch.eye(len(per_filter), dtype=torch.bool)]  # the K * (K - 1) pairs of different filters
    norms = per_filter.norm(dim=1)  # (K,)
    return {"score_pool4": float(model.score_pool4.weight.grad.norm()),
            "score_pool4_bias": float(model.score_pool4.bias.grad.norm()),
            "through_skip": float(passed_down[0].norm()),
            "stage4": float(torch.cat([gradient.flatten() for gradient in stage4]).norm()),
            "filters_apart": float(apart.min()),
            "filter_norm_low": float(norms.min()),
            "filter_norm_high": float(norms.max())}


def check_skip_start(weight_gradient: Any, prediction: Any) -> bool:
    """Check a prediction about the zero-start ``score_pool4`` and which statements of :data:`SKIP_START_STATEMENTS` hold.

    The check measures, on an untrained FCN-16s, the gradients at the first training step (reaching
    ``score_pool4``'s weights and how far its per-class filters' gradients differ, passed down by it to
    pool4, reaching encoder stage 4) and how much the
    output moves when the pool4 branch is switched off (zero start, then PyTorch's random start). A miss
    says how many of the five answers (the prediction and each letter) are wrong, never which, and asks
    the same question about each of them every time, with no measured numbers; a right answer prints
    the measurements and explains every statement.

    Args:
        weight_gradient: The predicted gradient of ``score_pool4``'s weights at the first step,
            ``"zero"`` or ``"not zero"``; ``...`` means not recorded yet.
        prediction: The letters of the true statements, as a set, list or string; ``...`` means not
            recorded yet.

    Returns:
        Whether the prediction is right and the letters are exactly the true statements.
    """
    hint = choice_hint(weight_gradient, WEIGHT_GRADIENT_CHOICES)
    if hint is not None:
        return wrong(hint)
    if prediction is ... or prediction is None:
        return wrong("record your answer first: replace the `...` with the set of letters of the true "
                     "statements, any number of a-d (or set() for none).")
    letters, hint = read_letters(prediction, SKIP_START_STATEMENTS, "are not among the statements")
    if hint is not None:
        return wrong(hint)
    gradients = _first_step_gradients()
    misses = int(weight_gradient != ("zero" if gradients["score_pool4"] == 0 else "not zero"))
    misses += len(letters ^ _SKIP_START_KEY)  # a true statement left out, or a false one marked
    if misses:  # a miss: how many answers are wrong, never which; the same questions every time
        questions = " ".join(f"{label}: {question}" for label, question in _SKIP_START_QUESTIONS)
        return wrong(f"{misses} of your 5 answers {'is' if misses == 1 else 'are'} wrong (the prediction is one "
                     "answer; each of a-d is another, wrong when you marked a false statement or left out a true "
                     f"one). Settle each from the mechanism, not the wording. {questions}")
    effects = _skip_effects()
    print(f"untrained FCN-16s, first step: gradient norm of score_pool4's weights {gradients['score_pool4']:.4f} "
          f"(you predicted {weight_gradient!r}), of its bias {gradients['score_pool4_bias']:.4f}; passed down by score_pool4 to pool4 {gradients['through_skip']:.4f}; "
          f"reaching encoder stage 4's convolutions {gradients['stage4']:.4f}")
    print(f"score_pool4 has one filter per class; their gradients have norms {gradients['filter_norm_low']:.4f} to "
          f"{gradients['filter_norm_high']:.4f}, and the two closest differ by {gradients['filters_apart']:.4f}")
    print(f"largest change of the output when the pool4 branch is switched off: zero start "
          f"{effects['zero_start']:.4f}, random start {effects['random_start']:.4f}")
    explained = " ".join(f"{letter} is {'true' if letter in _SKIP_START_KEY else 'false'}: "
                         f"{_SKIP_START_REASONS[letter]}." for letter in sorted(SKIP_START_STATEMENTS))
    return right(
        "the weights' gradient is not zero: it is the upstream gradient times the layer's input, pool4's "
        "features, which are not zero; only the gradient the layer passes *down* is zero, because that one is "
        f"multiplied by the zero weights. {explained} So a zero-start branch changes nothing at first, yet its "
        "weights learn from the first step, each class's filter in its own direction, and the encoder below it "
        "learns through pool5. That matters in the paper's staged training, where each new "
        "variant starts from a trained coarser one and must not spoil it. In segedu's all-at-once training "
        "from scratch there is nothing to preserve: the zero start only keeps the pool4 branch silent at "
        "the first step (whether it changes the trained result here is not measured in this course)."
    )
