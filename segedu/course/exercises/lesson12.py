"""Checks for lesson 12 (exploring feature maps).

The references are measurements: what a forward hook does to the logits comes from running the hooks
themselves (:func:`hook_effects`), a channel's class IoU from
:func:`segedu.analysis.dissection.channel_class_iou`, the channel a class needs from silenced forward
passes (:func:`segedu.analysis.dissection.silence_channels`).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from segedu.course.exercises._verdict import choice_hint, read_letters, right, verdict, wrong

__all__ = [
    "HOOK_CHOICES",
    "MEAN_ABLATION_READINGS",
    "SILENCING_EXPLANATIONS",
    "check_hook_effects",
    "check_mean_ablation_reading",
    "check_silencing_explanation",
    "hook_effects",
    "record_silencing_prediction",
]

HOOK_CHOICES = {
    "a": "lambda module, inputs, output: maps.append(output)",
    "b": "lambda module, inputs, output: cache.setdefault('pooled', output)",
    "c": "lambda module, inputs, output: output.detach()",
    "d": "lambda module, inputs, output: 2 * output",
}
"""Exercise 1: four forward hooks for ``down2.pool``, each run with its own fresh ``maps = []`` and ``cache = {}``.

With the hook attached, the model runs one scene and then another; which hooks change the second scene's logits?
The check builds each hook from this very text, so what the learner reads is what runs.
"""

_HOOK_HINTS = {
    "a": "what does list.append return, and what does a forward hook's return value do?",
    "b": "what does dict.setdefault return when the key is already there, as it is from the second scene on?",
    "c": "detach() returns a new tensor: which values does it hold?",
    "d": "what does a forward hook's return value do to the module's output?",
}
_HOOK_REASONS = {
    "a": "list.append returns None, and a hook that returns None leaves the output as it is",
    "b": "dict.setdefault returns the value already stored: from the second scene on, the hook hands the first "
    "scene's pooled map on, and the second scene's logits mix it with the second scene's skips",
    "c": "the returned tensor replaces the output, but it holds the same values (detach only cuts it off from "
    "autograd), so the logits do not change; in training, though, no gradient would reach down1 and inc through "
    "this path: a silent bug",
    "d": "the returned tensor replaces the output: the layers after down2.pool see twice the values",
}


def _fail(hint: str) -> bool:
    return verdict(False, success="", hint=hint)


def hook_effects(model: nn.Module, images: Tensor, *, layer: str = "down2.pool") -> dict[str, float]:
    """How far each hook of :data:`HOOK_CHOICES` on ``layer`` moves the logits of the last image.

    For each hook, the images run one at a time with the hook attached (fresh ``maps`` and ``cache``), and the
    last image's logits are compared with those of the model without a hook.

    Args:
        model: The segmentation model (run in eval mode without gradients; its mode is restored).
        images: ``(N, C, H, W)``, N >= 2.
        layer: The qualified name of the module the hooks are attached to.

    Returns:
        Letter -> largest absolute change of the last image's logits.
    """
    if images.dim() != 4 or images.shape[0] < 2:
        raise ValueError(f"images must be (N, C, H, W) with N >= 2; got shape {tuple(images.shape)}")
    module = model.get_submodule(layer)
    was_training = model.training
    model.eval()
    effects = {}
    try:
        with torch.no_grad():
            plain = model(images[-1:])  # (1, K, H, W): no hook
            for letter, source in HOOK_CHOICES.items():
                hook = eval(source, {"maps": [], "cache": {}})  # the text shown to the learner, as code
                handle = module.register_forward_hook(hook)
                try:
                    for image in images:  # one scene at a time, as the exercise says
                        logits = model(image[None])  # (1, K, H, W)
                finally:
                    handle.remove()
                effects[letter] = float((logits - plain).abs().max())
    finally:
        model.train(was_training)
    return effects


def check_hook_effects(answer: Any, model: nn.Module, images: Tensor, *, layer: str = "down2.pool") -> bool:
    """Exercise 1: the set of hooks of :data:`HOOK_CHOICES` that change the last scene's logits.

    The reference is measured with :func:`hook_effects`: a hook changes the logits when it moves them by more
    than 1e-4. A miss gets one question per wrong or missing letter and no measured numbers.

    Args:
        answer: A set, list or string of letters (``set()`` for none).
        model: The segmentation model.
        images: ``(N, C, H, W)``: the scenes run one after another, N >= 2.
        layer: The module the hooks are attached to.

    Returns:
        Whether the letters are exactly the hooks that change the logits.
    """
    if answer is Ellipsis or answer is None:
        return _fail("record your answer first: replace the `...` with the set of letters of the hooks that change "
                     "the logits, e.g. {'a', 'b'} (or set() for none).")
    letters, hint = read_letters(answer, HOOK_CHOICES, "are not among the hooks")
    if hint is not None:
        return _fail(hint)
    effects = hook_effects(model, images, layer=layer)
    changing = {letter for letter, effect in effects.items() if effect > 1e-4}
    if letters != changing:
        return _fail(" ".join(f"Look again at ({letter}): {_HOOK_HINTS[letter]}" for letter in sorted(letters ^ changing)))
    measured = ", ".join(f"({letter}) {effects[letter]:.2f}" for letter in HOOK_CHOICES)
    explained = " ".join(f"({letter}) {'changes' if letter in changing else 'keeps'} them: {_HOOK_REASONS[letter]}."
                         for letter in HOOK_CHOICES)
    return right(f"largest change of the last scene's logits: {measured}. {explained} A hook that only records must "
                 "return None; one that returns a tensor edits the model, as silencing does in section 4.")


def _class_iou_of_logits(logits: Tensor, masks: Tensor, class_index: int) -> float:
    """IoU of the predicted class ``class_index`` with the true one, over all pixels."""
    predicted, truth = logits.argmax(dim=1) == class_index, masks == class_index  # (N, H, W) each
    union = int((predicted | truth).sum())
    return float((predicted & truth).sum()) / union if union else float("nan")


def record_silencing_prediction(
    answer: Any, model: nn.Module, images: Tensor, masks: Tensor, *, layer: str = "up4", class_index: int = 3,
    class_name: str = "triangle",
) -> bool:
    """Exercise 2: record a predicted channel and compare it with silenced forward passes.

    Nothing is judged: a prediction made from the IoU picture alone cannot be reasoned out (the
    weights that decide come after it in the lesson). Prints ``Recorded: ...`` with the measured cost of the
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
          f"(IoU {looks_like[most_like]:.2f}); silenced, it costs {lost[most_like]:.3f}. The IoU picture alone "
          "could not decide this: it shows where a channel is high, not what the network does with it. After the "
          "weights that turn the channels into class scores, the lesson asks you to explain the result.")
    return True


SILENCING_EXPLANATIONS = {
    "a": "little: its weights into the circle and background scores nearly cancel, so it hardly moves any score",
    "b": "it holds the square score down on circle pixels: zeroed, the circle pixels it loses mostly become squares",
    "c": "it holds the background score down on circle pixels: zeroed, the circle pixels it loses mostly become "
    "background",
    "d": "little: it is low on circle pixels, so setting it to zero takes away little of what it gives them",
}
"""Exercise 2, second part: what does channel 5 of ``up4``, the most circle-like one, do for the circles?"""


def check_silencing_explanation(
    answer: Any, model: nn.Module, images: Tensor, masks: Tensor, *, layer: str = "up4", channel: int = 5,
    class_index: int = 1, other_index: int = 2, background_index: int = 0, class_name: str = "circle",
    other_name: str = "square",
) -> bool:
    """Exercise 2, second part: which reading of :data:`SILENCING_EXPLANATIONS` zeroing the channel supports.

    Measured with a silenced forward pass (:func:`segedu.analysis.dissection.silence_channels`), on the pixels
    of ``class_index``: the class's score minus each other class's score (its margin over that class), intact
    and with the channel set to zero; where the pixels go that the class loses (predicted as the class intact,
    as another class zeroed); and the channel's mean on those pixels against its mean everywhere. A reading is
    supported when:

    - ``"a"``: zeroing moves every margin by less than 1 on average;
    - ``"b"``: more than half of the lost pixels become ``other_index``;
    - ``"c"``: more than half of the lost pixels become ``background_index``;
    - ``"d"``: the channel is lower on the class's pixels than on average.

    A supported reading prints the measurements; a miss gets a hint on how to reason, and no measured numbers.

    Args:
        answer: One letter of :data:`SILENCING_EXPLANATIONS`.
        model: The segmentation model (its mode is restored).
        images: ``(N, C, H, W)``.
        masks: ``(N, H, W)`` labels.
        layer: The layer whose channel is zeroed.
        channel: The channel asked about.
        class_index: The class whose pixels are watched.
        other_index: The class reading ``"b"`` names.
        background_index: The class reading ``"c"`` names.
        class_name: Name of ``class_index``, for the feedback.
        other_name: Name of ``other_index``, for the feedback.

    Returns:
        Whether the letter names a reading the measurements support.
    """
    from segedu.analysis.dissection import layer_maps, silence_channels

    if isinstance(answer, str):
        answer = answer.strip().lower()
    hint = choice_hint(answer, SILENCING_EXPLANATIONS)
    if hint is not None:
        return wrong(hint)
    values = layer_maps(model, images, [layer])[layer][:, channel]  # (N, H, W)
    pixels = masks == class_index  # (N, H, W)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            intact_logits = model(images)  # (N, K, H, W)
            with silence_channels(model, layer, channel):
                zero_logits = model(images)
    finally:
        model.train(was_training)

    def margins(logits: Tensor) -> Tensor:  # (K,): class score minus each score, averaged on the class's pixels
        return (logits[:, class_index : class_index + 1] - logits).transpose(0, 1)[:, pixels].mean(dim=1)

    moved = margins(zero_logits) - margins(intact_logits)  # (K,)
    lost = pixels & (intact_logits.argmax(dim=1) == class_index) & (zero_logits.argmax(dim=1) != class_index)
    went = torch.bincount(zero_logits.argmax(dim=1)[lost], minlength=intact_logits.shape[1]).float()
    shares = went / max(int(lost.sum()), 1)  # (K,): where the lost pixels went
    others = [index for index in range(intact_logits.shape[1]) if index != class_index]
    supported = {
        "a": bool((moved[others].abs() < 1).all()),
        "b": float(shares[other_index]) > 0.5,
        "c": float(shares[background_index]) > 0.5,
        "d": float(values[pixels].mean()) < float(values.mean()),
    }
    measured = (f"Zeroed, channel {channel} moves the {class_name} margin over the {other_name} by "
                f"{float(moved[other_index]):+.2f} and over the background by {float(moved[background_index]):+.2f} "
                f"(mean over {class_name} pixels, where it averages {float(values[pixels].mean()):.2f}, "
                f"{float(values.mean()):.2f} everywhere); of the {class_name} pixels it loses "
                f"({float(lost.sum() / pixels.sum()):.0%}), {float(shares[other_index]):.0%} become "
                f"{other_name}s and {float(shares[background_index]):.0%} background.")
    if supported[answer]:
        meaning = {
            "a": "Zeroing hardly moves any margin: the channel does little for these pixels.",
            "b": f"The channel keeps {class_name}s apart from {other_name}s, not from the background: the IoU picture "
            "shows where a channel is high, the weights which scores it moves.",
            "c": "The channel is what keeps these pixels apart from the background.",
            "d": "The channel is low here, so zeroing it takes little away.",
        }
        return right(f"{measured} {meaning[answer]}")
    reasons = {  # reasoning only: a miss shows no measured number, so letters cannot be tried against them
        "a": f"a channel can leave one pair of scores alone and move another: compare the {class_name} score with "
        "every other score, not only with the background",
        "b": f"for this reading the lost {class_name} pixels must go to the {other_name}s: which class's weight for "
        f"this channel lies furthest below the {class_name} weight, once multiplied by the channel's value on "
        f"{class_name} pixels?",
        "c": f"compare the gap between the channel's {class_name} and background weights with the gap between its "
        f"{class_name} and {other_name} weights; times its value on {class_name} pixels, the larger gap says which "
        "score catches up when the channel is zeroed",
        "d": f"read the channel's mean value on {class_name} pixels and compare it with its mean over all pixels "
        "before calling it low there",
    }
    return wrong(reasons[answer])


MEAN_ABLATION_READINGS = {
    "a": "the network hardly uses channel 1's variation on triangle pixels: their lead over squares barely moves",
    "b": "its variation carried most of the triangles' lead over squares, yet the smaller lead still wins there",
    "c": "setting it to its mean adds a constant push, W[:, 1] m_1, that makes up for the variation it loses",
    "d": "its variation carried a quarter to a half of the triangles' lead over squares; the rest kept them triangles",
}
"""Exercise 3: what does the (small) IoU cost of setting channel 1 of ``up4`` to its mean say?"""


def check_mean_ablation_reading(
    answer: Any, model: nn.Module, images: Tensor, masks: Tensor, *, layer: str = "up4", channel: int = 1,
    class_index: int = 3, other_index: int = 2, class_name: str = "triangle", other_name: str = "square",
) -> bool:
    """Exercise 3: which reading of :data:`MEAN_ABLATION_READINGS` the measurements support.

    Measured here with silenced forward passes (:func:`segedu.analysis.dissection.silence_channels`), on the
    pixels of ``class_index``: the ``other_index`` score minus the ``class_index`` score (its *lead*, negative
    while the class wins), intact and with the channel set to its mean m (over all images and pixels); the
    share of those pixels still predicted as the class at the mean; and the class's IoU lost at the mean and
    set to zero. A reading is supported when:

    - ``"a"``: the mean moves the lead by less than a quarter of its intact size;
    - ``"b"``: the mean moves the lead by at least half its intact size, yet the lead stays negative and at
      least half of the pixels stay the class;
    - ``"c"``: never: at its mean the channel keeps its average push W[:, k] m (zeroing is what takes it away);
    - ``"d"``: the mean moves the lead by a quarter to a half of its intact size, and the lead stays negative.

    A supported reading prints the measurements; a miss gets a hint on how to reason, and no measured numbers.

    Args:
        answer: One letter of :data:`MEAN_ABLATION_READINGS`.
        model: The segmentation model (its mode is restored).
        images: ``(N, C, H, W)``.
        masks: ``(N, H, W)`` labels.
        layer: The layer whose channel is silenced.
        channel: The channel asked about.
        class_index: The class whose pixels are watched.
        other_index: The class whose score is compared with the class's.
        class_name: Name of ``class_index``, for the feedback.
        other_name: Name of ``other_index``, for the feedback.

    Returns:
        Whether the letter names a reading the measurements support.
    """
    from segedu.analysis.dissection import layer_maps, silence_channels

    if isinstance(answer, str):
        answer = answer.strip().lower()
    hint = choice_hint(answer, MEAN_ABLATION_READINGS)
    if hint is not None:
        return wrong(hint)
    mean = float(layer_maps(model, images, [layer])[layer][:, channel].mean())
    pixels = masks == class_index  # (N, H, W)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            intact_logits = model(images)  # (N, K, H, W)
            with silence_channels(model, layer, channel, value=mean):
                mean_logits = model(images)
            with silence_channels(model, layer, channel):
                zero_logits = model(images)
    finally:
        model.train(was_training)

    def lead(logits: Tensor) -> float:
        return float((logits[:, other_index] - logits[:, class_index])[pixels].mean())

    intact_iou = _class_iou_of_logits(intact_logits, masks, class_index)
    mean_cost = intact_iou - _class_iou_of_logits(mean_logits, masks, class_index)
    zero_cost = intact_iou - _class_iou_of_logits(zero_logits, masks, class_index)
    before, after = lead(intact_logits), lead(mean_logits)
    kept = float((mean_logits.argmax(dim=1)[pixels] == class_index).float().mean())
    moved = after - before
    supported = {
        "a": abs(moved) < 0.25 * abs(before),
        "b": moved >= 0.5 * abs(before) and after < 0 and kept >= 0.5,
        "c": False,
        "d": 0.25 * abs(before) <= moved < 0.5 * abs(before) and after < 0,
    }
    measured = (f"On {class_name} pixels, {other_name} minus {class_name} is {before:+.2f} intact and {after:+.2f} "
                f"with channel {channel} at its mean ({mean:.2f}); {kept:.0%} stay {class_name}s; the {class_name}s "
                f"lose {mean_cost:.3f} IoU at the mean and {zero_cost:.3f} set to zero.")
    if supported[answer]:
        meaning = {
            "a": "The lead hardly moved: here the channel's variation does little to these pixels.",
            "b": f"The lead shrank by {moved:.2f}, so the network did use the channel's variation, but the IoU changes "
            "only where another score overtakes: the IoU cost at the mean counts the pixels that flipped, and a small "
            "one says that the pixels survived without the variation, not that the network did not use it.",
            "d": f"The lead shrank by {moved:.2f}, under half of it: the variation carried part of the lead, and "
            "the rest kept the pixels.",
        }
        return right(f"{measured} {meaning[answer]}")
    reasons = {  # reasoning only: a miss shows no measured number, so letters cannot be tried against them
        "a": f"the lead barely moves only if the channel's value on {class_name} pixels lies close to its mean, or "
        f"its weights into the {other_name} and {class_name} scores are nearly equal: check both in the tables",
        "b": f"for this reading the mean must take at least half of the lead away while most {class_name} pixels "
        "stay; work out the size of the move against the size of the lead",
        "c": "at its mean the channel still gives every pixel W[:, k] m, its average push; it is zeroing that takes "
        "that push away, and nothing is added",
        "d": f"work out how far the mean moves the lead (from the channel's value on {class_name} pixels, its mean "
        "and its two weights) and compare it with the intact lead: is the move a quarter to a half of it?",
    }
    return wrong(reasons[answer])
