"""Checks for the exercises of lesson 07 (FCN).

Every check prints ``Correct! ...`` or ``Not yet: <hint>`` and returns ``True`` or ``False``.
The expected answers are computed from segedu itself (its models, the lesson's own scores, a model's own
forward pass).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from torch import nn

from segedu.course.exercises._verdict import (
    borrowed_names,
    call_answer,
    choice_hint,
    returns_nothing,
    right,
    wrong,
)
from segedu.models import convolutionalize, get_model

__all__ = [
    "FC_AS_CONV_BORROWED",
    "FCN16S_BORROWED",
    "FCN16S_QUESTION",
    "FCN16S_STEPS",
    "MISS_RATE_BANDS",
    "MISS_WHY_OPTIONS",
    "check_fc_as_convolutions",
    "check_fcn16s_forward",
    "check_missed_sizes",
    "fcn16s_random_skip",
]



# Exercise 1: the trained classifier's fully connected layers rewritten as convolutions (section 1), with the shape
# of the map on one 100 x 72 input predicted first (a size the lesson has not printed, with an odd side after two
# poolings). The learner's module is compared with segedu's convolutionalize(classifier) on that input and on a
# 40 x 72 input (not square, not a multiple of 24).
FC_AS_CONV_BORROWED = ("convolutionalize", "ConvolutionalizedClassifier", "_linear_to_conv")  # segedu's answer
_FC_AS_CONV_SECOND_INPUT = (1, 3, 40, 72)


def _recorded_shape(name: str, found: Any, second: str) -> tuple[Any, str | None]:
    """A recorded shape prediction as a tuple, or the message for one that is missing or not four whole numbers."""
    layout = f"(batch, {second}, height, width)"
    if found is ... or found is None:
        return found, (f"record your prediction first: replace the `...` of `{name}` with a tuple of four whole "
                       f"numbers, {layout}.")
    if isinstance(found, torch.Size):
        found = tuple(found)
    if not isinstance(found, (tuple, list)) or len(found) != 4 or not all(
            isinstance(value, int) and not isinstance(value, bool) for value in found):
        return found, f"`{name}` must be a tuple of four whole numbers, {layout}; got {found!r}."
    return tuple(found), None


def _map_shape_hint(found: Any, expected: tuple[int, ...], scene_size: tuple[int, int]) -> str | None:
    """The hint for a predicted map shape that is missing or wrong, ``None`` for the right one; never the answer."""
    found, problem = _recorded_shape("map_shape", found, "classes")
    if problem:
        return problem
    if tuple(found) == expected:
        return None
    batch, classes, height, width = found
    if batch != expected[0]:
        return "`map_shape`: how many scenes does the batch hold? No layer changes the batch size."
    if classes != expected[1]:
        return "`map_shape`: the last layer is the classifier's own: how many scores does it give for each window?"
    scene_height, scene_width = scene_size
    if (height, width) == (1, 1):
        return (f"`map_shape`: a 1 x 1 map would be one window, but a {scene_height} x {scene_width} input holds many "
                "24 x 24 windows: count the positions fc1's kernel fits on the input's pool3.")
    if (height, width) == (scene_height // 8, scene_width // 8):
        return (f"`map_shape`: {height} x {width} is pool3's size. fc1, as a convolution, is not padded: how many "
                "positions does its kernel fit along each side of pool3?")
    if (height, width) == expected[:-3:-1]:
        return "`map_shape`: right numbers, wrong order: PyTorch gives the height (rows) before the width (columns)."
    rounded_up = tuple(-(-side // 8) - 2 for side in scene_size)  # each pooling rounding an odd side up
    if (height, width) == rounded_up and rounded_up != tuple(expected[-2:]):
        return ("`map_shape`: follow each side through the three 2 x 2 poolings one at a time: what does a pooling "
                "do with an odd number of rows (nn.MaxPool2d's default, ceil_mode=False)?")
    return ("`map_shape`: three 2 x 2 poolings shrink each side of the scene; then count the positions fc1's "
            "unpadded kernel fits along each side of pool3.")


def _layer_hint(module: nn.Module, classifier: nn.Module) -> str | None:
    """A hint naming the first of fc1, fc2, classifier whose Conv2d in ``module`` is wrong (``None`` if all hold).

    Each layer's Conv2d is found by its weight's shape; a layer with no such Conv2d is skipped here (the
    output comparison then speaks for it).
    """
    convs = [layer for layer in module.modules() if isinstance(layer, nn.Conv2d)]
    side = classifier.feature_size
    for name, kernel in (("fc1", side), ("fc2", 1), ("classifier", 1)):
        linear = getattr(classifier, name)
        inputs = linear.in_features // (kernel * kernel)
        target = (linear.out_features, inputs, kernel, kernel)
        found = [conv for conv in convs if tuple(conv.weight.shape) == target]
        if not found:
            continue
        conv = found[0]
        expected = linear.weight.reshape(target)
        if not torch.allclose(conv.weight, expected):
            if name == "fc1" and torch.allclose(
                    conv.weight, linear.weight.reshape(target[0], kernel, kernel, inputs).permute(0, 3, 1, 2)):
                return ("fc1's filters hold the right numbers in the wrong order: you read each row of the matrix as "
                        "(row, column, channel), but nn.Flatten laid pool3's features out channel first, "
                        f"({inputs}, {kernel}, {kernel}), so row k becomes filter k by a plain view or reshape to "
                        "that shape, with no permute.")
            if torch.equal(conv.weight.flatten().sort().values, linear.weight.flatten().sort().values):
                return (f"{name}'s Conv2d holds the trained numbers, but in another order: filter k must be row k "
                        "of the matrix, reshaped in the order nn.Flatten read the features (channel, then row, then "
                        "column). A transpose, or a reshape of the whole matrix to another shape first, mixes rows.")
            return (f"{name}'s Conv2d does not hold {name}'s trained weights: a new nn.Conv2d starts random; copy "
                    f"the Linear's weight into it (inside torch.no_grad(), e.g. with copy_).")
        if conv.bias is None:
            return (f"{name}'s Conv2d has no bias, but the fully connected layer adds one per output: build the "
                    "Conv2d with its bias (the default) and copy the Linear's bias into it.")
        if not torch.allclose(conv.bias, linear.bias):
            return (f"{name}'s Conv2d has the trained weights but not the trained bias: a new Conv2d's bias starts "
                    "random; copy the Linear's bias into it too.")
        if tuple(conv.padding) != (0, 0) or tuple(conv.stride) != (1, 1) or tuple(conv.dilation) != (1, 1):
            return (f"{name}'s Conv2d has padding {tuple(conv.padding)}, stride {tuple(conv.stride)}: the fully "
                    "connected layer read exactly one block of features, with nothing added around it, so its "
                    "convolution needs no padding, and stride 1 moves it one pool3 cell (8 px) at a time.")
    return None


def check_fc_as_convolutions(map_shape: Any, function: Callable[[nn.Module], Any], classifier: nn.Module,
                             scene: torch.Tensor) -> bool:
    """Check a predicted map shape, then ``function(classifier)``: the classifier with its fc layers as Conv2d.

    The shape is judged first, a miss with a question, never the shape. ``function`` gets a copy of the
    classifier (it may not call segedu's version, :data:`FC_AS_CONV_BORROWED`) and must return a module; the
    module runs in eval mode on ``scene`` and on a 1 x 3 x 40 x 72 input, and its scores are compared with
    ``convolutionalize(classifier)``'s (``torch.allclose``). A miss says why: the first of fc1, fc2 and classifier
    whose Conv2d (found by its weight's shape) has its weights in the wrong order, not copied, no bias or the
    wrong one, or padding; else what the scores show (their shape, or values with a missing ReLU or stage).

    Args:
        map_shape: The predicted shape of the module's scores on ``scene``; ``...`` means not recorded yet.
        function: ``function(classifier)`` -> a module mapping (B, 3, H, W) to (B, K, h, w) scores.
        classifier: The trained :class:`~segedu.models.TinyClassifier` (not changed).
        scene: One input, (1, 3, H, W), H and W at least the classifier's image size (the lesson's is 100 x 72).

    Returns:
        Whether the shape is right and the module's scores equal segedu's on both inputs.
    """
    with torch.no_grad():
        reference_model = convolutionalize(classifier).eval()
        reference = reference_model(scene)  # (1, K, h, w)
    hint = _map_shape_hint(map_shape, tuple(reference.shape), (scene.shape[-2], scene.shape[-1]))
    if hint is not None:
        return wrong(hint)
    borrowed = borrowed_names(function, FC_AS_CONV_BORROWED)
    if borrowed:
        return wrong(f"your function uses `{borrowed[0]}`, segedu's answer: build the three Conv2d layers and copy "
                     "the weights yourself.")
    learner_classifier = copy.deepcopy(classifier)
    module, error = call_answer(function, learner_classifier)
    if error is not None:
        return wrong(error)
    if module is ... or module is None:
        return wrong(returns_nothing("a module (such as an nn.Sequential) that runs the stages and the three "
                                     "convolutions"))
    if not isinstance(module, nn.Module):
        return wrong(f"your function returns {type(module).__name__}, not a module: return, for example, an "
                     "nn.Sequential of the stages, the three Conv2d layers and the ReLUs between them.")
    module.eval()  # BatchNorm with its running statistics, as in segedu's version
    second = torch.rand(*_FC_AS_CONV_SECOND_INPUT, generator=torch.Generator().manual_seed(0))
    exact = True
    for x in (scene, second):
        with torch.no_grad():
            expected = reference_model(x)
            yours, error = call_answer(module, x.clone())
        where = f"for an input of shape {tuple(x.shape)}: "
        if error is not None:
            layer_hint = _layer_hint(module, classifier)
            return wrong(where + (layer_hint or error.replace("your function", "your module")
                                  + ". Print the shape after each layer."))
        if not isinstance(yours, torch.Tensor) or tuple(yours.shape) != tuple(expected.shape):
            layer_hint = _layer_hint(module, classifier)
            if layer_hint is not None:
                return wrong(where + layer_hint)
            found = tuple(yours.shape) if isinstance(yours, torch.Tensor) else type(yours).__name__
            flat = " (flattened: the point is to keep the map, so no Flatten and no Linear)" if (
                isinstance(yours, torch.Tensor) and yours.dim() == 2) else ""
            return wrong(where + f"your module returns {found}{flat}, segedu's version {tuple(expected.shape)}: one "
                         "score per class at each window position.")
        if not torch.allclose(yours, expected, rtol=1e-4, atol=1e-5):
            layer_hint = _layer_hint(module, classifier)
            if layer_hint is not None:
                return wrong(where + layer_hint)
            gap = float((yours - expected).abs().max())
            return wrong(where + f"the three convolutions hold the trained weights, but the scores differ by up to "
                         f"{gap:.3g}: does the module run stage1, stage2 and stage3 first, and a ReLU after fc1 and "
                         "after fc2 (as TinyClassifier.forward does), none after the last layer?")
        exact &= torch.equal(yours, expected)
    height, width = reference.shape[-2:]
    pooled_height, pooled_width = scene.shape[-2] // 8, scene.shape[-1] // 8
    return right(
        f"your module's scores equal convolutionalize(classifier)'s "
        f"({'exactly, torch.equal' if exact else 'within float32 rounding'}), on the input ({tuple(reference.shape)}) "
        f"and on a 40 x 72 input. map_shape: each 2 x 2 pooling halves a side, rounding down, so pool3 has "
        f"{pooled_height} x {pooled_width} cells, and fc1's unpadded 3 x 3 kernel fits {pooled_height} - 3 + 1 = "
        f"{height} by {pooled_width} - 3 + 1 = {width} positions: {height} x {width} scores, one per 24 x 24 window, "
        "8 px apart. "
        "Why a reshape is enough: nn.Flatten laid pool3's features out channel first, then row, then column, so row "
        "k of fc1's matrix viewed as (32, 3, 3) is a filter that takes the same dot product with the same features; "
        "fc2 and classifier read one vector per position, so they are 1 x 1 convolutions. Nothing is retrained, and "
        "segedu's convolutionalize does the same."
    )


MISS_RATE_BANDS = {"under 10%": (0, 10), "10-25%": (10, 25), "25-45%": (25, 45), "45-65%": (45, 65),
                   "over 65%": (65, 100)}
# exercise 3: what share of the small objects (below the median size) does FCN-32s miss? Each band is read on the
# share in whole percent, ends included, so a share on a boundary (45 %, say) accepts both bands that meet there, and
# only then: a neighbouring band is not accepted. Five bands, so "small ones are missed more" alone does not pass;
# the lesson's shares (53 % and 18 %) lie 7 or more points inside their bands.
MISS_WHY_OPTIONS = {  # exercise 3: why the two shares differ, recorded before the feedback
    "a": "a small shape covers few pixels, so the per-pixel loss gives it little weight, and training teaches "
         "FCN-32s to call it background",
    "b": "FCN-32s's output blends only four score vectors, one per quarter of the scene: it can paint a broad "
         "region, not place a small patch",
    "c": "a small shape often lies across a border of FCN-32s's 2 x 2 cells, so its score is split between two "
         "cells and averaged away",
}
_MISS_WHY_KEY = "b"
_MISS_WHY_WRONG = {  # why each wrong reason fails, with the evidence the check measures ({...} filled in)
    "a": "FCN-8s learns from the same per-pixel loss on the same scenes, yet misses only {small8} of the small "
         "objects: the loss weighs a small shape as little for FCN-8s, so it is not what makes FCN-32s miss them",
    "c": "FCN-32s misses {inside} of the small objects that lie inside one of its four 32 x 32 cells and {across} of "
         "those across a cell border{verdict}",
}
_QUARTER = 32 * 32  # pixels per cell of FCN-32s's 2 x 2 map on a 64 x 64 scene


def _miss_rates(answers: Sequence[str], small: torch.Tensor) -> dict[str, float]:
    """The share of each half (``small``: below the median size, ``large``: the rest) whose answer is "missed"."""
    missed = torch.tensor([answer == "missed" for answer in answers], dtype=torch.float)
    return {half: float(missed[chosen].mean()) if bool(chosen.any()) else 0.0
            for half, chosen in (("small", small), ("large", ~small))}


def _bands_of(share: float) -> list[str]:
    """The bands of :data:`MISS_RATE_BANDS` that hold ``share`` (whole percent, ends included)."""
    percent = round(100 * share)
    return [band for band, (low, high) in MISS_RATE_BANDS.items() if low <= percent <= high]


def check_missed_sizes(prediction: Any, object_size: Sequence[int], verdicts: Mapping[str, Sequence[str]],
                       large: Any = None, why: Any = None, across: Sequence[bool] | None = None) -> bool:
    """Check predictions of the share of the small (and of the large) objects that FCN-32s misses, as bands.

    The objects are split at their median size (``small``: fewer pixels than the median, ``large``: the rest);
    an object is *missed* when background is its plurality label (the label given to the most of its pixels), as
    in section 3's object-by-object table. Each share is read off the lesson's own counts, rounded to a whole
    percent; a band counts its ends, so a share on a boundary accepts both bands that meet there; a neighbouring
    band is not accepted. Either way the feedback gives the shares (FCN-32s's for both halves, FCN-8s's when
    ``verdicts`` has them) and says why. When ``why`` is passed, it must be recorded before any share is shown,
    and a right pair of bands with a wrong reason is not yet, with the evidence against that reason (for reason
    c, the share of the small objects missed inside one cell and across a cell border, read from ``across``).

    Args:
        prediction: The band for the small objects, one of :data:`MISS_RATE_BANDS`: ``"under 10%"``,
            ``"10-25%"``, ``"25-45%"``, ``"45-65%"``, ``"over 65%"``; ``...`` means not recorded yet.
        object_size: Each test object's size in pixels.
        verdicts: ``{"32s": [...], "8s": [...]}``, one answer per object, in the order of ``object_size``:
            ``"named"``, ``"another shape"`` or ``"missed"``.
        large: The band for the large objects, one of :data:`MISS_RATE_BANDS`; ``None`` checks the small band
            alone, ``...`` means not recorded yet.
        why: The letter of :data:`MISS_WHY_OPTIONS` that says why the two shares differ; ``None`` skips it,
            ``...`` means not recorded yet.
        across: For each object, whether it lies across a border of FCN-32s's 2 x 2 cells (row or column 31 |
            32 on a 64-pixel scene); needed to explain why reason c is wrong.

    Returns:
        Whether the predicted band holds the share of the small objects that FCN-32s misses (and, when ``large`` is
        passed, the same for the large ones).
    """
    hint = choice_hint(prediction, tuple(MISS_RATE_BANDS))
    if hint is not None:
        return wrong(hint)
    if large is not None:
        hint = choice_hint(large, tuple(MISS_RATE_BANDS))
        if hint is not None:
            return wrong(f"the large objects: {hint}")
    if why is not None:
        hint = choice_hint(why, tuple(MISS_WHY_OPTIONS))
        if hint is not None:
            return wrong(f"why the two differ: {hint}")
    if "32s" not in verdicts or any(len(answers) != len(object_size) for answers in verdicts.values()):
        return wrong("pass section 3's `object_size` and `verdicts`: one answer per object for '32s' (and '8s').")
    sizes = torch.tensor(list(object_size), dtype=torch.float)
    median = float(sizes.median())
    small = sizes < median  # (objects,) bool
    rate = {variant: _miss_rates(verdicts[variant], small) for variant in ("32s", "8s") if variant in verdicts}
    bands = {half: _bands_of(rate["32s"][half]) for half in ("small", "large")}
    measured = (f"FCN-32s misses {rate['32s']['small']:.0%} of the objects under {median:.0f} pixels "
                f"({' or '.join(bands['small'])}), {rate['32s']['large']:.0%} of the larger ones "
                f"({' or '.join(bands['large'])})")
    reason = (f"a median object, {median:.0f} pixels, fills {median / _QUARTER:.0%} of the 32 x 32 pixels per cell, "
              "and FCN-32s scores only 2 x 2 cells, 32 px apart, on a 64-pixel scene. Its output is the learned 32x "
              "upsampling (K x K kernels of 64 x 64 pixels, one per class pair, so neighbouring stamps overlap) "
              "stamped at its four cells, weighted by their scores: such a mix can give a class to a broad region, not "
              "to a small patch wherever a small shape lies, so background is often the plurality label of a small "
              "shape")
    if across is not None and len(across) == len(object_size):
        border = torch.tensor(list(across), dtype=torch.bool)
        split = {name: _miss_rates(verdicts["32s"], chosen)["small"]
                 for name, chosen in (("inside", small & ~border), ("across", small & border))}
        reason += (f", inside one cell ({split['inside']:.0%} of those missed) or across a cell border "
                   f"({split['across']:.0%})")
    reason += ". A shape above the median fills more of a cell, and FCN-32s misses a smaller share of those"
    if "8s" in rate:
        reason += (f". FCN-8s adds scores from an 8 x 8 map, one cell per 8 x 8 pixels: fine enough to place a small "
                   f"shape (it misses {rate['8s']['small']:.0%} of the small objects, {rate['8s']['large']:.0%} of the "
                   "larger ones)")
    if prediction not in bands["small"]:
        return wrong(f"you predicted {prediction!r} for the small objects, but {measured}: {reason}.")
    if large is not None and large not in bands["large"]:
        return wrong(f"your band for the small objects is right, but you predicted {large!r} for the larger ones, "
                     f"and {measured}: {reason}.")
    if why is not None and why != _MISS_WHY_KEY:
        evidence = {"small8": f"{rate['8s']['small']:.0%}" if "8s" in rate else "a smaller share"}
        if across is not None and len(across) == len(object_size):
            evidence.update({name: f"{share:.0%}" for name, share in split.items()})
            evidence["verdict"] = (": a small shape is missed wherever it lies, not because a border splits it"
                                   if split["across"] <= split["inside"] else
                                   ": a border cannot explain the misses inside one cell")
        template = _MISS_WHY_WRONG[why] if why != "c" or "inside" in evidence else (
            "a cell border splits only some of the small shapes (pass `across` to compare the shares missed inside "
            "one cell and across a border)")
        return wrong(f"your bands are right ({measured}), but not your reason {why!r}: "
                     f"{template.format(**evidence)}. Which option does the 2 x 2 map explain?")
    return right(f"{measured}: {reason}.")


# Exercise 2: FCN-16s's forward pass written from the model's parts, and two shapes predicted before it.
FCN16S_QUESTION = {"scene": (2, 3, 96, 160), "num_classes": 4, "pool4_channels": 128}
# The prediction, for the shipped sizes (base_channels 16: stage 4 is 8 x 16 = 128 wide; 4 classes): the shape of
# pool4, and of the 1/16 sum that upscore16 receives, for a batch of two 96 x 160 scenes (not square, and not the
# 64-pixel scenes of the printed examples, so the sizes are worked out, not read off).
FCN16S_STEPS = ("stage1", "stage2", "stage3", "stage4", "stage5", "fc6", "fc7", "score_fr", "upscore2", "score_pool4",
                "upscore16")  # FCN-16s's parts, in the order model(x) calls them
FCN16S_BORROWED = ("forward", "fcn_score_maps")  # each runs the model's forward pass for the learner
_FCN16S_SIZES = {"in_channels": 3, "num_classes": 4, "base_channels": 16, "fc_channels": 128}  # the shipped sizes
_FCN16S_INPUTS = ((1, 3, 64, 64, 0), (2, 3, 96, 64, 1))  # (B, C, H, W, seed): the second is not square
_STEP_QUESTIONS = {
    "stage1": "stage1 takes the scene itself, unchanged.",
    "stage2": "each stage takes the output of the stage before it.",
    "stage3": "each stage takes the output of the stage before it.",
    "stage4": "each stage takes the output of the stage before it.",
    "stage5": "each stage takes the output of the stage before it.",
    "fc6": "fc6 takes the last encoder stage's output, pool5.",
    "fc7": "fc7 takes fc6's output.",
    "score_fr": "score_fr turns conv7, fc7's output, into class scores.",
    "upscore2": "upscore2 upsamples the 1/32 class scores 2x: which layer returns those?",
    "score_pool4": "score_pool4 scores the encoder's 1/16 features: which stage returns them?",
    "upscore16": "upscore16 receives the 1/16 sum of two class-score maps: which two, and is each at 1/16?",
}


def fcn16s_random_skip(model_kwargs: Mapping[str, Any], seed: int = 0) -> nn.Module:
    """An untrained FCN-16s (eval mode) whose ``score_pool4`` is drawn at random, for checking a forward pass.

    At its zero start the pool4 branch adds nothing, so a forward pass that leaves the skip out would still match
    ``model(x)``; with random weights it does not. The global random state is left as it was.

    Args:
        model_kwargs: The FCN's sizes, e.g. ``pretrained_info("fcn8s", "shapes")["model_kwargs"]``.
        seed: Seeds the whole model's random start.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = get_model("fcn16s", **dict(model_kwargs))
        model.score_pool4.reset_parameters()  # PyTorch's default random start instead of zeros
    return model.eval()


def _shape_hint(name: str, found: Any, expected: tuple[int, ...]) -> str | None:
    """The hint for a predicted shape that is missing or wrong, ``None`` for the right one; never the answer."""
    found, problem = _recorded_shape(name, found, "channels")
    if problem:
        return problem
    batch, channels, height, width = found
    if tuple(found) == expected:
        return None
    scene_height, scene_width = FCN16S_QUESTION["scene"][2:]
    if batch != expected[0]:
        return f"`{name}`: how many scenes does the batch hold? No layer changes the batch size."
    if (height, width) != expected[2:]:
        stride = (scene_height // height if height and width and scene_height % height == 0
                  and scene_width % width == 0 and scene_height // height == scene_width // width else None)
        if stride in (8, 32, 1):
            place = {8: "pool3's 1/8", 32: "the 1/32 of pool5 and score_fr", 1: "the scene's full size"}[stride]
            return (f"`{name}`: {height} x {width} is {place}. Count the 2 x 2 poolings up to pool4; for the sum, "
                    "remember that upscore2 upsamples score_fr's map 2x before it is added.")
        return (f"`{name}`: each of the encoder's 2 x 2 poolings halves both sides of the {scene_height} x "
                f"{scene_width} scene (height first); count them up to pool4.")
    if name == "pool4_shape":
        if channels == FCN16S_QUESTION["num_classes"]:
            return ("`pool4_shape`: pool4 holds encoder features, not class scores: how wide is stage 4 in the printed "
                    "model?")
        return "`pool4_shape`: read stage 4's width (its last convolution's output channels) in the printed model."
    if channels == FCN16S_QUESTION["pool4_channels"]:
        return ("`sum_shape`: the sum adds class scores, one channel per class: what does score_pool4 turn pool4's "
                "channels into?")
    return "`sum_shape`: both terms of the sum are class scores: how many classes do the shipped scenes have?"


def _calls(model: nn.Module, run: Callable[[], Any]) -> tuple[Any, list[tuple[str, torch.Tensor]], str | None, bool]:
    """Run ``run()`` and record, in order, each of FCN16S_STEPS that ``model`` called and the tensor it received.

    Returns ``(result, calls, error, whole_model_called)``: ``error`` is a hint when ``run`` raised.
    """
    calls: list[tuple[str, torch.Tensor]] = []
    whole: list[bool] = []
    handles = [getattr(model, step).register_forward_pre_hook(
        lambda _module, inputs, step=step: calls.append((step, inputs[0].detach().clone()))) for step in FCN16S_STEPS]
    handles.append(model.register_forward_pre_hook(lambda _module, _inputs: whole.append(True)))
    try:
        result, error = call_answer(run)
    finally:
        for handle in handles:
            handle.remove()
    return result, calls, error, bool(whole)


def _first_mismatch(mine: list[tuple[str, torch.Tensor]], reference: list[tuple[str, torch.Tensor]]) -> str | None:
    """A hint naming the first step (in model(x)'s order) that is missing or receives another tensor, or ``None``."""
    received = {}
    for step, tensor in mine:
        received.setdefault(step, tensor)  # a step called twice is judged on its first call
    for number, (step, expected) in enumerate(reference, start=1):
        if step not in received:
            return (f"your function never calls model.{step}, step {number} of {len(reference)} in model(x). "
                    f"{_STEP_QUESTIONS[step]}")
        found = received[step]
        if tuple(found.shape) != tuple(expected.shape):
            return (f"model.{step} (step {number} of {len(reference)}) receives a {tuple(found.shape)} tensor from "
                    f"your function, a {tuple(expected.shape)} one in model(x). {_STEP_QUESTIONS[step]}")
        if not torch.allclose(found, expected, rtol=1e-4, atol=1e-5):
            return (f"model.{step} (step {number} of {len(reference)}) receives a tensor of the right shape "
                    f"{tuple(found.shape)} but other values than in model(x). {_STEP_QUESTIONS[step]}")
    return None


def check_fcn16s_forward(pool4_shape: Any, sum_shape: Any, function: Callable[[nn.Module, torch.Tensor], Any]) -> bool:
    """Check two predicted shapes, then ``function(model, x)``: FCN-16s's forward pass written from its parts.

    The shapes (:data:`FCN16S_QUESTION`) are judged first, each miss with a question, never the shape. The
    function then runs on an FCN-16s at the shipped sizes whose ``score_pool4`` is random (a zero-start skip would
    hide a missing one) and whose upsamplers are moved off bilinear, for two inputs (1 x 3 x 64 x 64 and
    2 x 3 x 96 x 64), and its result is compared with ``model(x)`` by ``torch.testing.assert_close``. A miss
    names the first step, in model(x)'s order, that the function leaves out or feeds another tensor, with a
    question about what that step should receive, never the code; the function may not call ``model(x)`` or
    ``model.forward`` (:data:`FCN16S_BORROWED`). Only a right answer prints what each part receives.

    Args:
        pool4_shape: The predicted shape of pool4 for the input of :data:`FCN16S_QUESTION` (two 96 x 160
            scenes) at the shipped sizes; ``...`` means not recorded yet.
        sum_shape: The predicted shape of the sum that ``upscore16`` receives, same input.
        function: ``function(model, x)`` -> scores ``(B, K, H, W)``, for ``H`` and ``W`` multiples of 32.

    Returns:
        Whether both shapes are right and the function computes ``model(x)`` for both inputs.
    """
    batch, _, height, width = FCN16S_QUESTION["scene"]
    expected_shapes = {"pool4_shape": (batch, FCN16S_QUESTION["pool4_channels"], height // 16, width // 16),
                       "sum_shape": (batch, FCN16S_QUESTION["num_classes"], height // 16, width // 16)}
    for name, found in (("pool4_shape", pool4_shape), ("sum_shape", sum_shape)):
        hint = _shape_hint(name, found, expected_shapes[name])
        if hint is not None:
            return wrong(hint)
    borrowed = borrowed_names(function, FCN16S_BORROWED)
    if borrowed:
        return wrong(f"your function uses `{borrowed[0]}`, which runs the model (or its parts) for you: call the "
                     "parts yourself, one step at a time.")
    with torch.random.fork_rng(devices=[]):  # the check draws its own model and inputs
        model = fcn16s_random_skip(_FCN16S_SIZES, seed=0)
        with torch.no_grad():
            for upsampler in (model.upscore2, model.upscore16):  # off bilinear, as after training
                upsampler.weight.add_(0.05 * torch.randn_like(upsampler.weight))
        shapes = []
        for *size, seed in _FCN16S_INPUTS:
            x = torch.randn(*size, generator=torch.Generator().manual_seed(seed))  # (B, 3, H, W)
            with torch.no_grad():
                expected, reference, _, _ = _calls(model, lambda x=x: model(x))
                copied = copy.deepcopy(model)  # a function that changes the model cannot change the next case
                yours, mine, error, whole = _calls(copied, lambda x=x, copied=copied: function(copied, x.clone()))
            where = f"for x of shape {tuple(x.shape)}: "
            if whole:
                return wrong(where + "your function calls model(x) itself: call its parts one at a time instead.")
            if error is not None:
                step = (f" (the last layer it entered: model.{mine[-1][0]}, which received a {tuple(mine[-1][1].shape)} "
                        "tensor)") if mine else ""
                return wrong(where + error + step + ". Print each tensor's shape after each step and compare with "
                             "your predictions.")
            if yours is ... or yours is None:
                return wrong(returns_nothing("the scores, a tensor of shape (B, K, H, W)"))
            hint = _first_mismatch(mine, reference)
            if hint is not None:
                return wrong(where + hint)
            if not isinstance(yours, torch.Tensor) or tuple(yours.shape) != tuple(expected.shape):
                found = tuple(yours.shape) if isinstance(yours, torch.Tensor) else type(yours).__name__
                return wrong(where + f"every layer received what it gets in model(x), but your function returns "
                             f"{found}, not upscore16's {tuple(expected.shape)} scores: return them as they are.")
            try:
                torch.testing.assert_close(yours, expected)
            except AssertionError:
                return wrong(where + "every layer received what it gets in model(x), but what your function returns "
                             "differs from upscore16's output: return it unchanged (no softmax, no argmax).")
            shapes.append({f"{step} gets": tuple(tensor.shape) for step, tensor in reference})
            shapes[-1]["model(x) returns"] = tuple(expected.shape)
    scene_side = _FCN16S_INPUTS[0][3]
    print(f"What each part of FCN-16s receives in model(x), for x of shape {_FCN16S_INPUTS[0][:4]} (the shipped sizes):")
    for step, shape in shapes[0].items():
        print(f"  {step:18} {str(shape):18} 1/{scene_side // shape[-1]} of the input")
    cells = (height // 16, width // 16)  # the prediction's 1/16 grid
    return right(
        f"pool4 is {expected_shapes['pool4_shape']} (four 2 x 2 poolings: {height} / 16 = {cells[0]} and "
        f"{width} / 16 = {cells[1]}; stage 4 is 128 channels wide at the shipped sizes), and the sum upscore16 "
        f"receives is {expected_shapes['sum_shape']}: score_fr's {height // 32} x {width // 32} class scores upsampled "
        f"2x by upscore2, plus score_pool4's {cells[0]} x {cells[1]} class scores of pool4. Your function equals "
        "model(x) for both inputs (torch.testing.assert_close), the 96 x 64 one included. That sum is the skip: on "
        "the 64 x 64 scene above, the 16x kernel is stamped at 4 x 4 cells, each given its own pool4 score, where "
        "FCN-32s's 32x kernel has 2 x 2. FCN-8s repeats the step once more with pool3 at 1/8. Why the check's score_pool4 is "
        "random: at its zero start the skip adds nothing, so a forward pass that leaves the skip out would match "
        "model(x) too; with random weights only a pass that adds it does."
    )
