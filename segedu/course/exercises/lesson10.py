"""Checks for lesson 10 (exploring feature maps).

The references are measurements or brute-force loops: feature-map shapes come from the package's
hook recorder (:func:`segedu.analysis.hooks.record`) and channel selectivity from a loop over
channels.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from segedu.analysis.hooks import record
from segedu.course.exercises._verdict import call_answer, verdict

__all__ = ["SHAPE_QUESTION", "check_class_selectivity", "check_conv_output_shapes", "check_feature_map_shape"]

SHAPE_QUESTION = {"model": "unet", "base_channels": 16, "layer": "down3", "input_size": 64}
"""Exercise 1 asks for the shape of this U-Net block's output for an RGB input of this size."""


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
    """Exercise 1: the shape ``(channels, height, width)`` of the feature map in :data:`SHAPE_QUESTION`.

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
        return _fail("the channels are right; each Down block halves the height and the width "
                     f"(64 -> 32 -> ...), and {question['layer']} is the third one.")
    if shape[1:] == (height, width):
        return _fail("the size is right; inc has base_channels = 16 channels and every Down block doubles them.")
    return _fail("count the blocks: inc keeps 64 x 64 with 16 channels, then each Down halves the size and "
                 "doubles the channels.")


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
    """Exercise 2: ``function(model, image)`` = ``{name: (C, h, w)}`` for every ``nn.Conv2d``, using hooks.

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


def _selectivity_reference(activation: Tensor, mask: Tensor, class_index: int) -> Tensor:
    """Brute force: for each channel, mean over the class's pixels minus mean over the others."""
    inside = mask == class_index
    values = []
    for channel in activation:
        values.append(channel[inside].mean() - channel[~inside].mean())
    return torch.stack(values)  # (C,)


def check_class_selectivity(function: Callable[[Tensor, Tensor, int], Tensor]) -> bool:
    """Exercise 3: ``function(activation, mask, class_index)`` = per-channel selectivity for the class.

    Selectivity of channel c: mean of ``activation[c]`` over the pixels of ``class_index`` minus
    its mean over all other pixels; shape ``(C,)``. Compared with a loop over channels.
    """
    generator = torch.Generator().manual_seed(11)
    mask = torch.zeros(16, 20, dtype=torch.int64)
    mask[3:9, 4:12] = 1
    mask[10:15, 2:7] = 2
    activation = torch.rand(6, 16, 20, generator=generator)
    activation[4] += 2.0 * (mask == 2)  # channel 4 lights up on class 2
    for class_index in (1, 2):
        expected = _selectivity_reference(activation, mask, class_index)
        result, hint = call_answer(function, activation.clone(), mask.clone(), class_index)
        hint = hint or _unfinished(result)
        if hint:
            return _fail(hint)
        result = torch.as_tensor(result, dtype=expected.dtype)
        if tuple(result.shape) != tuple(expected.shape):
            return _fail(f"return one number per channel, shape ({len(expected)},); got {tuple(result.shape)}")
        if torch.allclose(result, -expected, atol=1e-5):
            return _fail("the sign is flipped: inside the class minus outside it.")
        inside_only = activation[:, mask == class_index].mean(dim=1)
        if torch.allclose(result, inside_only, atol=1e-5):
            return _fail("that is the mean inside the class only; subtract the mean over the other pixels.")
        if not torch.allclose(result, expected, atol=1e-5):
            return _fail(f"for class {class_index} expected {[round(v, 3) for v in expected.tolist()]}, got "
                         f"{[round(v, 3) for v in result.tolist()]}. Use activation[:, mask == class_index].")
    return verdict(True, success="Your selectivity matches a loop over channels; channel 4 of the test map "
                   "is the one planted to respond to class 2.", hint="")
