"""Checks for lesson 11 (exploring feature maps).

The references are measurements or brute-force loops: feature-map shapes come from the package's
hook recorder (:func:`segedu.analysis.hooks.record`), a channel's class IoU from
:func:`segedu.analysis.dissection.channel_class_iou`, and the channel a class needs from silenced
forward passes (:func:`segedu.analysis.dissection.silence_channels`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from segedu.analysis.hooks import record
from segedu.course.exercises._verdict import NOT_WRITTEN, call_answer, read_letters, right, verdict, wrong

__all__ = [
    "ABLATION_CHOICES",
    "NEEDED_CHANNEL_REASONS",
    "SHAPE_QUESTION",
    "check_class_iou",
    "check_conv_output_shapes",
    "check_feature_map_shape",
    "check_why_needed_channel",
    "check_zero_or_mean",
    "record_silencing_prediction",
]

SHAPE_QUESTION = {"model": "unet", "base_channels": 16, "layer": "up2", "input_size": 96}
"""Exercise 2 asks for the shape of this U-Net block's output for an RGB input of this size.

The lesson prints every layer of a narrower U-Net (base 8) on 64 x 64 scenes, so neither the width nor the
size of this question appears in it: the learner has to carry the rule, not copy a line.
"""


def _fail(hint: str) -> bool:
    return verdict(False, success="", hint=hint)


def _unfinished(result: Any) -> str | None:
    if result is Ellipsis or result is None:
        return f"your answer is {result!r}: replace the `...` with your code (and return the result)."
    return None


def _hooked_shapes(model: nn.Module, image: Tensor, names: Sequence[str]) -> dict[str, tuple[int, ...]]:
    """Output shapes ``(C, h, w)`` of the named modules for one image (eval mode), by forward hooks."""
    was_training = model.training
    try:
        outputs = record(model.eval(), image[None], names)  # name -> (1, C, h, w)
    finally:
        model.train(was_training)
    return {name: tuple(output.shape[1:]) for name, output in outputs.items()}


def check_feature_map_shape(answer: Sequence[int]) -> bool:
    """Exercise 2: the shape ``(channels, height, width)`` of the feature map in :data:`SHAPE_QUESTION`.

    Args:
        answer: Three integers.

    Returns:
        Whether the answer equals the shape measured with a forward hook.
    """
    from segedu.models import get_model

    hint = _unfinished(answer)
    if hint:
        return _fail(hint)
    try:
        shape = tuple(int(value) for value in answer)
    except (TypeError, ValueError):
        return _fail(f"give three integers (channels, height, width); got {answer!r}")
    if len(shape) != 3:
        return _fail(f"give three integers (channels, height, width); got {len(shape)} of them")
    question = SHAPE_QUESTION
    model = get_model(question["model"], in_channels=3, num_classes=4, base_channels=question["base_channels"])
    size = question["input_size"]
    expected = _hooked_shapes(model, torch.zeros(3, size, size), [question["layer"]])[question["layer"]]
    channels, height, width = expected
    if shape == expected:
        return verdict(True, success=f"{question['layer']} gives a {channels} x {height} x {width} "
                       "feature map, as a forward hook measures.", hint="")
    if shape == (height, width, channels):
        return _fail("PyTorch orders a feature map (channels, height, width): channels first.")
    if shape[0] == channels:
        return _fail(f"the channels are right; the four Down blocks halve a {size} x {size} input four times, and "
                     "each Up block doubles the size again: where is the second Up block?")
    if shape[1:] == (height, width):
        return _fail(f"the size is right; inc has base_channels = {question['base_channels']} channels, every Down "
                     "block doubles them and every Up block halves them again.")
    return _fail(f"count the blocks: inc keeps {size} x {size} with {question['base_channels']} channels, each Down "
                 "halves the size and doubles the channels, each Up doubles the size and halves the channels.")


def _shape_cases() -> list[tuple[str, nn.Module, Tensor]]:
    from segedu.models import get_model

    generator = torch.Generator().manual_seed(10)
    with torch.random.fork_rng():  # random weights without touching the learner's generator
        torch.manual_seed(10)
        unet = get_model("unet", in_channels=3, num_classes=4, base_channels=4)
        fcn = get_model("fcn8s", in_channels=1, num_classes=3, base_channels=4, fc_channels=8)
    return [
        ("a small U-Net on a 32 x 32 image", unet, torch.rand(3, 32, 32, generator=generator)),
        ("a small FCN-8s on a 40 x 48 image", fcn, torch.rand(1, 40, 48, generator=generator)),
    ]


def check_conv_output_shapes(function: Callable[[nn.Module, Tensor], dict[str, tuple[int, ...]]]) -> bool:
    """Exercise 3: ``function(model, image)`` = ``{name: (C, h, w)}`` for every ``nn.Conv2d``, using hooks.

    Also checks that the function removed its hooks.
    """
    for description, model, image in _shape_cases():
        names = [name for name, module in model.named_modules() if isinstance(module, nn.Conv2d)]
        expected = _hooked_shapes(model, image, names)
        result, hint = call_answer(function, model, image.clone())
        hint = hint or _unfinished(result)
        if hint:
            return _fail(hint)
        if not isinstance(result, dict):
            return _fail(f"return a dict name -> shape; got a {type(result).__name__}")
        left = [name for name, module in model.named_modules() if module._forward_hooks]
        if left:
            return _fail(f"on {description} your hooks are still attached to {left[:3]}: keep each handle that "
                         "register_forward_hook returns and call handle.remove() after the forward pass.")
        if not result:
            return _fail("your function returned an empty dict: no hook stored anything. In the loop, register a "
                         "hook on each Conv2d that stores tuple(output.shape[1:]) under its name.")
        got = {name: tuple(shape) for name, shape in result.items()}
        if len(got) == 1 and len(expected) > 1 and next(iter(got)) == names[-1]:
            return _fail("every hook wrote under the same name, the last one: a lambda sees the loop variable's "
                         "final value. Bind it with a default argument: lambda module, inputs, output, name=name: ...")
        if any(len(shape) == 4 and shape[0] == 1 for shape in got.values()):
            return _fail("drop the batch dimension: store output.shape[1:], i.e. (channels, height, width).")
        missing = [name for name in names if name not in got]
        extra = [name for name in got if name not in expected]
        if missing:
            return _fail(f"on {description} {len(missing)} convolution(s) are missing, e.g. {missing[0]!r}: hook "
                         "every nn.Conv2d found by model.named_modules().")
        if extra:
            return _fail(f"on {description} only nn.Conv2d layers were asked for; you also returned {extra[:3]}.")
        wrong = [name for name in names if got[name] != expected[name]]
        if wrong:
            name = wrong[0]
            return _fail(f"on {description} {name!r} has shape {expected[name]}; you stored {got[name]}.")
    return verdict(True, success="Your hooks record every convolution's output shape and are removed afterwards.",
                   hint="")


def _iou_cases() -> list[tuple[str, Tensor, Tensor]]:
    """Tie-free channel maps ``(N, H, W)`` and class masks ``(N, H, W)`` bool, with one planted detector."""
    generator = torch.Generator().manual_seed(11)
    masks = torch.zeros(3, 16, 20, dtype=torch.bool)
    masks[0, 3:9, 4:12] = True
    masks[1, 10:15, 2:7] = True
    masks[2, 1:4, 14:19] = True
    noise = torch.rand(3, 16, 20, generator=generator)
    return [
        ("a channel that leans towards the class", noise + 0.6 * masks, masks),
        ("a channel unrelated to the class", torch.rand(3, 16, 20, generator=generator), masks),
        ("a channel that avoids the class", noise - 0.6 * masks, masks),
    ]


def _reference_iou(channel_maps: Tensor, class_masks: Tensor) -> float:
    """segedu's dissection IoU for one channel and one class (the package is the reference)."""
    from segedu.analysis.dissection import channel_class_iou

    return float(channel_class_iou(channel_maps[:, None], class_masks.long(), num_classes=2)[0, 1])


def check_class_iou(function: Callable[[Tensor, Tensor], Any]) -> bool:
    """Exercise 4: ``function(channel_maps, class_masks)`` = the dissection IoU of one channel with one class.

    The channel is on at its n largest values over all pixels (n = number of class pixels); the
    result is the IoU of that on-region with the class pixels, compared with
    :func:`segedu.analysis.dissection.channel_class_iou` on tie-free maps.
    """
    for description, channel_maps, class_masks in _iou_cases():
        expected = _reference_iou(channel_maps, class_masks)
        result, hint = call_answer(function, channel_maps.clone(), class_masks.clone())
        if hint == NOT_WRITTEN:  # the stub is a `raise` line, not a `...`
            hint = "the function still raises NotImplementedError: replace that line with your code."
        hint = hint or _unfinished(result)
        if hint:
            return _fail(hint)
        try:
            value = float(result)
        except (TypeError, ValueError, RuntimeError):
            return _fail(f"return one number (a float or a one-element tensor); got {type(result).__name__} "
                         f"{tuple(getattr(result, 'shape', ()))}")
        if abs(value - expected) < 1e-6:
            continue
        count = int(class_masks.sum())
        on = torch.zeros(channel_maps.numel(), dtype=torch.bool)
        on[channel_maps.flatten().topk(count).indices] = True
        inside = class_masks.flatten()
        intersection = float((on & inside).sum())
        if abs(value - intersection / count) < 1e-6:
            return _fail("you divided the overlap by the number of class pixels (with as many pixels on as the class "
                         "has, that is also the Dice coefficient); IoU divides it by the union, "
                         "|A ∪ B| = |A| + |B| - |A ∩ B|.")
        for threshold_name, on_guess in (("0.5", channel_maps.flatten() > 0.5),
                                         ("the channel's mean", channel_maps.flatten() > channel_maps.mean())):
            guess = float((on_guess & inside).sum()) / float((on_guess | inside).sum())
            if abs(value - guess) < 1e-6:
                return _fail(f"you switched the channel on above {threshold_name}; switch it on at exactly as many "
                             f"pixels as the class has (its n = {count} largest values, e.g. with topk).")
        return _fail(f"for {description} the IoU is {expected:.4f}; you returned {value:.4f}. Switch the channel on "
                     f"at its {count} largest values over all N scenes at once (not scene by scene), then divide "
                     "the overlap with the class pixels by their union.")
    return verdict(True, success="your IoU matches segedu.analysis.dissection.channel_class_iou; the channel that "
                   "leans towards the class scores high, the unrelated one near chance, the one that avoids it 0.",
                   hint="")


def _class_iou_of_logits(logits: Tensor, masks: Tensor, class_index: int) -> float:
    """IoU of the predicted class ``class_index`` with the true one, over all pixels."""
    predicted, truth = logits.argmax(dim=1) == class_index, masks == class_index  # (N, H, W) each
    union = int((predicted | truth).sum())
    return float((predicted & truth).sum()) / union if union else float("nan")


def record_silencing_prediction(
    answer: Any, model: nn.Module, images: Tensor, masks: Tensor, *, layer: str = "up4", class_index: int = 3,
    class_name: str = "triangle",
) -> bool:
    """Exercise 1, first part: record a predicted channel and compare it with silenced forward passes.

    Nothing is judged: a prediction made from the IoU picture alone cannot be reasoned out (the
    weights that decide come after it). Prints ``Recorded: ...`` with the measured cost of the
    predicted channel, the channel that costs the class most and the most class-like channel, or
    ``Not yet: <hint>`` when no channel number was recorded.

    Args:
        answer: A channel index of ``layer``.
        model: The segmentation model (its mode is restored).
        images: ``(N, C, H, W)``.
        masks: ``(N, H, W)`` labels.
        layer: The layer whose channels are silenced.
        class_index: The class whose IoU is watched.
        class_name: Its name, for the feedback.

    Returns:
        Whether a valid channel number was recorded.
    """
    from segedu.analysis.dissection import channel_class_iou, layer_maps, silence_channels

    if answer is Ellipsis or answer is None:
        return _fail("no prediction recorded yet: replace the `...` with one channel number.")
    if isinstance(answer, (bool, str)) or not hasattr(answer, "__index__"):
        return _fail(f"give one channel number (an int); got {answer!r}")
    answer = answer.__index__()
    maps = layer_maps(model, images, [layer])[layer]  # (N, C, H, W)
    channels = maps.shape[1]
    if not 0 <= answer < channels:
        return _fail(f"{layer} has channels 0 to {channels - 1}; got {answer}")
    looks_like = channel_class_iou(maps, masks, class_index + 1)[:, class_index]  # (C,)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            intact = _class_iou_of_logits(model(images), masks, class_index)
            lost = []
            for channel in range(channels):
                with silence_channels(model, layer, channel):
                    lost.append(intact - _class_iou_of_logits(model(images), masks, class_index))
    finally:
        model.train(was_training)
    needed, most_like = max(range(channels), key=lambda channel: lost[channel]), int(looks_like.argmax())
    outcome = ("it is the channel that costs them most" if answer == needed
               else f"the channel that costs them most is {needed} ({lost[needed]:.3f})")
    print(f"Recorded: channel {answer}. Measured: silenced, it costs {class_name}s {lost[answer]:.3f} of their "
          f"{intact:.3f} IoU; {outcome}. The channel that looks most like the {class_name} mask is {most_like} "
          f"(IoU {looks_like[most_like]:.2f}); silenced, it costs {lost[most_like]:.3f}. The second part of "
          "this exercise asks why; the weights printed after it show what decides.")
    return True


NEEDED_CHANNEL_REASONS = {
    "a": "N looks more like the circle mask than L does",
    "b": "N takes larger values on circle pixels than L does",
    "c": "N's weights times its values favour circle over background on circle pixels; L's do not",
    "d": "N is zero on most background pixels, while L is not",
    "e": "N's weight into the circle score is larger than L's",
}
"""Exercise 1, second part: why the channel circles need most (N) is not the most circle-like one (L).

The first part's printout names both; in the shipped U-Net N = 3 and L = 5. Three of the wrong
statements are true facts about this network that do not explain the difference.
"""

_NEEDED_CHANNEL_WRONG = {
    "a": "the IoU picture says the opposite: L, channel 5, reaches the higher circle IoU (about 0.83 against 0.65 "
         "for channel 3)",
    "b": "true (on circle pixels channel 3 averages about 8.2, channel 5 about 5.2; the lesson prints them after "
         "this exercise), "
         "but a value counts only through the weights it is multiplied by, and a channel about two thirds as large "
         "would still matter if its weights pushed the same way",
    "d": "true (channel 3 is zero on 91% of background pixels, channel 5 on 3%), but where a channel is already "
         "zero, zeroing it changes nothing: the circle IoU is lost at the circle pixels, which turn into background",
    "e": "true (0.49 against 0.12), but a weight into one score is half the story: zeroing a channel moves every "
         "class's score, and channel 5's weight into the background score (0.28) is larger than its weight into "
         "the circle score, so its values push circle pixels towards background, not towards circle",
}


def _one_letter(answer: Any, choices: Mapping[str, str]) -> tuple[str, None] | tuple[None, str]:
    """Read a one-letter answer: ``(letter, None)``, or ``(None, hint)`` when it is missing or not one choice."""
    if answer is ... or answer is None:
        return None, "record your answer first: replace the `...` with one letter, e.g. \"a\"."
    letters, hint = read_letters(answer, choices, "are not among the choices")
    if hint is not None:
        return None, hint
    if len(letters) != 1:
        return None, f"choose exactly one letter; got {sorted(letters)}."
    (letter,) = letters
    return letter, None


def check_why_needed_channel(answer: Any) -> bool:
    """Exercise 1, second part: one letter of :data:`NEEDED_CHANNEL_REASONS`; the right one is ``"c"``.

    Args:
        answer: A letter (a string such as ``"c"``, or a one-letter set).

    Returns:
        Whether the letter names the channel's weighted values (W x), not its look or its size alone,
        as what makes channel 3 the one circles need.
    """
    letter, hint = _one_letter(answer, NEEDED_CHANNEL_REASONS)
    if hint is not None:
        return wrong(hint)
    if letter == "c":
        return right("zeroing channel k moves class c's score by -W[c, k] x_k, every class at once. On circle pixels "
                     "channel 3 (N) lifts the circle score over the background score by (0.49 + 0.75) x 8.2, about "
                     "10 on average; channel 5 (L) by (0.12 - 0.28) x 5.2, about -0.8, a small push the other way. "
                     "Zeroed, channel 3 takes that lead of about 10 away and nearly all circle pixels turn into "
                     "background; the lesson computes both terms after this check. Looking like a class (IoU) and "
                     "feeding its score (W x: weight times value) are different things.")
    return wrong(f"{_NEEDED_CHANNEL_WRONG[letter]}. A pixel is a circle when its circle score beats the others, "
                 "background above all: how much does each channel, with its weights and its values, add to the "
                 "circle score minus the background score there?")


ABLATION_CHOICES = {
    "a": "both leave the scores at that pixel unchanged",
    "b": "setting to zero leaves them unchanged; setting to the mean m moves every class score",
    "c": "setting to zero moves every class score; setting to the mean m leaves them unchanged",
    "d": "both move every class score, by the same amount",
}
"""Exercise 5: what zeroing and mean-ablating a channel do at a pixel where the channel is already 0."""

_ABLATION_WHY = (
    "outc is a 1x1 convolution, so setting channel k to a constant v adds W[:, k] (v - x_k) to the logits. "
    "Where the channel is already 0 (x_k = 0), zeroing adds W[:, k] * 0 = 0: nothing changes there. Setting it "
    "to its mean adds W[:, k] * m at that pixel, and at every other pixel too: a constant shift of all class "
    "scores (for channel 3 it lowers the background score, whose weight is negative, and raises the circle "
    "score). That constant is the whole difference between the two choices"
)
_ABLATION_WRONG = {
    "a": "zeroing does leave that pixel alone, but setting to the mean does not",
    "c": "this is the other way round",
    "d": "the two differ at every pixel by the same constant, W[:, k] * m, so they cannot move a pixel by the "
         "same amount unless m = 0",
}


def check_zero_or_mean(answer: Any) -> bool:
    """Exercise 5: one letter of :data:`ABLATION_CHOICES`; the right one is ``"b"``.

    Args:
        answer: A letter (a string such as ``"b"``, or a one-letter set).

    Returns:
        Whether the letter says that zeroing leaves such a pixel's scores unchanged and setting to
        the mean moves them.
    """
    letter, hint = _one_letter(answer, ABLATION_CHOICES)
    if hint is not None:
        return wrong(hint)
    if letter == "b":
        return right(f"{_ABLATION_WHY}.")
    return wrong(f"{_ABLATION_WRONG[letter]}. Write the change of the logits when channel k is set to a "
                 "constant v, and put x_k = 0 into it.")
