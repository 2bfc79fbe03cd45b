"""Checks for lesson 11 (exploring feature maps).

The references are measurements: feature-map shapes come from the package's hook recorder
(:func:`segedu.analysis.hooks.record`), a channel's class IoU from
:func:`segedu.analysis.dissection.channel_class_iou`, the channel a class needs from silenced forward
passes (:func:`segedu.analysis.dissection.silence_channels`), and the weights from the model itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from segedu.analysis.hooks import record
from segedu.course.exercises._verdict import call_answer, choice_hint, right, verdict, wrong

__all__ = [
    "MEAN_ABLATION_READINGS",
    "SHAPE_QUESTION",
    "check_circle_lead",
    "check_conv_output_shapes",
    "check_explorer_probe",
    "check_feature_map_shape",
    "check_mean_ablation_reading",
    "record_mean_ablation_estimate",
    "record_silencing_prediction",
]

SHAPE_QUESTION = {"model": "unet", "base_channels": 16, "layer": "up2", "input_size": 96}
"""Exercise 3 asks for the shape of this U-Net block's output for an RGB input of this size.

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
    """Exercise 3: the shape ``(channels, height, width)`` of the feature map in :data:`SHAPE_QUESTION`.

    Args:
        answer: Three integers.

    Returns:
        Whether the answer equals the shape measured with a forward hook.
    """
    from segedu.models import get_model

    if answer is Ellipsis or answer is None:
        return _fail(f"your answer is {answer!r}: replace the `...` with a tuple of three integers, "
                     "(channels, height, width).")
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
    """Exercise 4: ``function(model, image)`` = ``{name: (C, h, w)}`` for every ``nn.Conv2d``, using hooks.

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
            return _fail("your function returned an empty dict: no hook stored anything (section 2 shows a hook "
                         "that keeps a module's output).")
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
          f"(IoU {looks_like[most_like]:.2f}); silenced, it costs {lost[most_like]:.3f}. The IoU picture alone "
          "could not decide this: it shows where a channel is high, not what the network does with it. The "
          "second part of this exercise measures why, with the weights that turn the channels into class scores.")
    return True


def _real_number(answer: Any) -> float | None:
    """The answer as a float, or None when it is not one real number."""
    if isinstance(answer, bool):
        return None
    if isinstance(answer, Tensor):
        if answer.numel() != 1 or answer.is_complex():
            return None
        return float(answer)
    try:
        return float(answer)
    except (TypeError, ValueError):
        return None


def check_circle_lead(
    answer: Any, model: nn.Module, images: Tensor, masks: Tensor, *, channel: int = 5, class_index: int = 1,
    class_name: str = "circle", layer: str = "up4", head: str = "outc",
) -> bool:
    """Exercise 1, second part: how much one channel adds to a class's score minus the background score.

    ``head`` must be a 1x1 convolution fed only by ``layer``, with weights W (classes x channels). The
    reference is (W[class, k] - W[0, k]) times the channel's mean over the class's pixels, measured here
    with a forward pass; an answer within 10 % (or 0.05) of it is right.

    Args:
        answer: One number, the average lead on the class's pixels (negative if the channel lowers it).
        model: The segmentation model (its mode is restored).
        images: ``(N, C, H, W)``.
        masks: ``(N, H, W)`` labels; class 0 is background.
        channel: The channel k of ``layer`` asked about.
        class_index: The class whose score is compared with background's.
        class_name: Its name, for the feedback.
        layer: The layer feeding ``head``.
        head: The name of the 1x1 convolution that turns ``layer`` into class scores.

    Returns:
        Whether the number matches the measured lead.
    """
    from segedu.analysis.dissection import layer_maps

    if answer is Ellipsis or answer is None:
        return wrong("record your answer first: replace the `...` with one number.")
    value = _real_number(answer)
    if value is None:
        return wrong(f"give one number (negative if the channel lowers the lead); got {answer!r}.")
    maps = layer_maps(model, images, [layer])[layer]  # (N, C, H, W)
    weights = getattr(model, head).weight[:, :, 0, 0].detach()  # (classes, C)
    on_class = maps.transpose(0, 1)[:, masks == class_index].mean(dim=1)  # (C,): each channel's mean on the class
    leads = (weights[class_index] - weights[0]) * on_class  # (C,)
    lead, mean = float(leads[channel]), float(on_class[channel])
    class_weight, background_weight = float(weights[class_index, channel]), float(weights[0, channel])
    strongest = int(leads.argmax())
    if abs(value - lead) <= max(0.05, 0.1 * abs(lead)):
        direction = f"lifts the {class_name} score over" if lead > 0 else f"lowers the {class_name} score against"
        background_term = f"{background_weight:.2f}" if background_weight >= 0 else f"({background_weight:.2f})"
        return right(f"about {lead:.2f}. Zeroing channel k moves every class score c by -W[c, k] x_k at once, so what "
                     f"the channel adds to a class pixel's lead is (W[class, k] - W[background, k]) x_k: here "
                     f"({class_weight:.2f} - {background_term}) x {mean:.2f}. Channel {channel} {direction} "
                     f"background on {class_name} pixels. Channel {strongest} adds the largest lead, about "
                     f"{float(leads[strongest]):.1f}: zeroed, it takes that lead away and those pixels fall to "
                     "background. Looking like a class "
                     "(IoU) and feeding its score (W x: weight times value) are different things.")
    near = max(0.05, 0.1 * abs(lead))
    if abs(value + lead) <= near and lead != 0:
        hint = "the sign is wrong: compare the channel's weight into the class score with its weight into background"
    elif abs(value - class_weight * mean) <= near:
        hint = ("that is its push on the class score alone, but the same values also move the background score: "
                "take the difference of the two scores")
    elif abs(value - (class_weight - background_weight)) <= near:
        hint = "that is the difference of the weights alone: a weight counts only multiplied by the channel's values"
    else:
        hint = (f"a pixel is a {class_name} when its {class_name} score beats background's: how much do the "
                f"channel's values, through its two weights, add to the {class_name} score minus the background "
                "score, on average?")
    return wrong(f"{hint} (your answer: {value:.2f}).")


def record_mean_ablation_estimate(
    answer: Any, model: nn.Module, images: Tensor, masks: Tensor, *, layer: str = "up4", channel: int = 1,
    class_index: int = 3, class_name: str = "triangle",
) -> bool:
    """Exercise 2, first part: record an estimate of the IoU a class loses when one channel is set to its mean.

    Nothing is judged: the estimate is a prediction, recorded before the measurement, and the
    graded part of the exercise (:func:`check_mean_ablation_reading`) asks what the cost at the mean says. The
    measurement uses silenced forward passes (:func:`segedu.analysis.dissection.silence_channels`):
    the channel's mean over all images and pixels replaces its whole map. Prints ``Recorded: ...``
    with the measured loss, beside the loss when the channel is set to zero, and how far the
    estimate was; or ``Not yet: <hint>`` when no number was recorded.

    Args:
        answer: One number, the estimated IoU lost (0 if nothing is lost).
        model: The segmentation model (its mode is restored).
        images: ``(N, C, H, W)``.
        masks: ``(N, H, W)`` labels.
        layer: The layer whose channel is silenced.
        channel: The channel asked about.
        class_index: The class whose IoU is watched.
        class_name: Its name, for the feedback.

    Returns:
        Whether a number was recorded.
    """
    from segedu.analysis.dissection import layer_maps, silence_channels

    if answer is Ellipsis or answer is None:
        return _fail("no estimate recorded yet: replace the `...` with one number.")
    value = _real_number(answer)
    if value is None:
        return _fail(f"give one number, the IoU you expect the {class_name}s to lose; got {answer!r}.")
    mean = float(layer_maps(model, images, [layer])[layer][:, channel].mean())
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            intact = _class_iou_of_logits(model(images), masks, class_index)
            with silence_channels(model, layer, channel):
                zeroed = intact - _class_iou_of_logits(model(images), masks, class_index)
            with silence_channels(model, layer, channel, value=mean):
                at_mean = intact - _class_iou_of_logits(model(images), masks, class_index)
    finally:
        model.train(was_training)
    gap = value - at_mean
    how_far = "on the mark" if abs(gap) < 0.005 else f"{abs(gap):.3f} too {'high' if gap > 0 else 'low'}"
    print(f"Recorded: your estimate {value:.3f}. Measured: set to its mean ({mean:.2f}), channel {channel} costs "
          f"{class_name}s {at_mean:.3f} of their {intact:.3f} IoU, against {zeroed:.3f} set to zero; your estimate "
          f"was {how_far}. The second part of this exercise asks what the cost at the mean says.")
    return True


MEAN_ABLATION_READINGS = {
    "a": "the network hardly uses channel 1's variation on triangle pixels",
    "b": "its variation carried most of the triangles' lead over squares, but the lead that is left still makes "
    "most triangle pixels triangles, and the IoU counts only which score wins",
    "c": "setting it to its mean adds a constant push, W[:, 1] m_1, that makes up for the lost variation",
    "d": "m_1 is close to zero, so setting channel 1 to its mean is nearly the same as zeroing it",
}
"""Exercise 2, second part: what does the (small) IoU cost of setting channel 1 of ``up4`` to its mean say?"""


def check_mean_ablation_reading(
    answer: Any, model: nn.Module, images: Tensor, masks: Tensor, *, layer: str = "up4", channel: int = 1,
    class_index: int = 3, other_index: int = 2, class_name: str = "triangle", other_name: str = "square",
) -> bool:
    """Exercise 2, second part: which reading of :data:`MEAN_ABLATION_READINGS` the measurements support.

    Measured here with silenced forward passes (:func:`segedu.analysis.dissection.silence_channels`), on the
    pixels of ``class_index``: the ``other_index`` score minus the ``class_index`` score (its *lead*, negative
    while the class wins), intact and with the channel set to its mean m (over all images and pixels); the
    share of those pixels still predicted as the class at the mean; and the class's IoU lost at the mean and
    set to zero. A reading is supported when:

    - ``"a"``: the mean moves the lead by less than a quarter of its intact size;
    - ``"b"``: the mean moves the lead by at least half its intact size, yet the lead stays negative and at
      least half of the pixels stay the class;
    - ``"c"``: never: at its mean the channel keeps its average push W[:, k] m (zeroing is what takes it away);
    - ``"d"``: zeroing and setting to the mean cost the class within 0.05 IoU of each other.

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
        "d": abs(zero_cost - mean_cost) < 0.05,
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
            "d": "Zeroing and the mean cost about the same here: the channel's average push does little.",
        }
        return right(f"{measured} {meaning[answer]}")
    reasons = {
        "a": f"the mean moved the lead by {moved:+.2f}, {abs(moved) / abs(before):.0%} of its intact size: the "
        "variation did a lot of work",
        "b": "the measurements do not show both a large move of the lead and most pixels staying",
        "c": "at its mean the channel still gives every pixel W[:, k] m, its average push; it is zeroing that takes "
        "that push away, and nothing is added",
        "d": f"m = {mean:.2f} is not small next to the channel's values, and the two ways cost {mean_cost:.3f} and "
        f"{zero_cost:.3f}",
    }
    return wrong(f"{reasons[answer]}. {measured}")


def check_explorer_probe(
    state: Mapping[str, Any], model: nn.Module, samples: Sequence[tuple[Tensor, Tensor]], *, layer: str = "up4",
    channel: int = 7, class_index: int = 3, class_name: str = "triangle", threshold: float = 3.0,
    other_channel: int = 1, other_class_index: int = 2,
) -> bool:
    """Exercise 5: the explorer shows ``layer`` channel ``channel`` with the probe on a well-predicted pixel.

    The probe must lie on a pixel of class ``class_index``, predicted as that class, where the channel's
    value (measured here with :func:`segedu.analysis.activations.record_activations`) exceeds
    ``threshold``. The feedback compares what the channel and ``other_channel`` add there to the
    class's score minus the score of ``other_class_index`` (weights of ``model.outc``, a 1x1 convolution).

    Args:
        state: The explorer's ``state`` dict (``sample``, ``layer``, ``channel``, ``row``, ``column``,
            ``predicted_class``, ``true_class``).
        model: The model the explorer shows (with an ``outc`` 1x1 convolution fed by ``layer``).
        samples: The explorer's scenes, ``(image (C, H, W), mask (H, W))`` pairs.
        layer: The layer asked for.
        channel: The channel asked for.
        class_index: The class the probed pixel must have.
        class_name: Its name, for the feedback.
        threshold: The channel value the probe must exceed.
        other_channel: A channel compared with ``channel`` in the feedback.
        other_class_index: The class whose score the feedback compares with.

    Returns:
        Whether the explorer shows such a pixel.
    """
    from segedu.analysis.activations import record_activations

    if state.get("layer") != layer or state.get("channel") != channel or state.get("grid"):
        return wrong(f"show one channel: set layer to {layer}, channel to {channel} and untick grid "
                     f"(now: layer {state.get('layer')}, channel {state.get('channel')}, grid {state.get('grid')}).")
    sample, row, column = state["sample"], state["row"], state["column"]
    image, _ = samples[sample]
    recording = record_activations(model, image)
    values = recording.activations[layer][:, row, column]  # (C,)
    value = float(values[channel])
    where = f"pixel ({row}, {column}) of scene {sample}"
    if state.get("true_class") != class_index:
        return wrong(f"{where} is not a {class_name} pixel in the true mask: move the probe sliders onto one.")
    if state.get("predicted_class") != class_index:
        return wrong(f"{where} is a {class_name}, but the network predicts another class there: pick one it gets "
                     "right.")
    if value <= threshold:
        return wrong(f"channel {channel} is {value:.2f} at {where}, not above {threshold:g}: look for a bright "
                     f"part of the feature map on a {class_name}.")
    weights = model.outc.weight[:, :, 0, 0].detach()  # (classes, C)
    def lead(k: int, against: int) -> float:
        return float((weights[class_index, k] - weights[against, k]) * values[k])

    other_name = "the other class's" if other_class_index != 2 else "the square"
    if lead(channel, other_class_index) <= 0 < lead(channel, 0):
        reading = (f"Channel {channel} lifts the pixel out of the background; what keeps it from being a "
                   f"{'square' if other_class_index == 2 else 'class ' + str(other_class_index)} comes from other "
                   "channels.")
    else:
        reading = "Weight times value, not the look of the map, says what a channel does to the scores."
    return right(f"at {where} channel {channel} is {value:.2f} and channel {other_channel} is "
                 f"{float(values[other_channel]):.2f}. Weight times value: channel {channel} adds "
                 f"{lead(channel, 0):.1f} to the {class_name} score minus the background score and "
                 f"{lead(channel, other_class_index):.1f} to the {class_name} score minus {other_name} score; "
                 f"channel {other_channel} adds {lead(other_channel, 0):.1f} and "
                 f"{lead(other_channel, other_class_index):.1f}. {reading}")
