"""Each lesson-11 check accepts right answers and prints a specific hint for wrong ones."""

from __future__ import annotations

import re

import pytest
import torch
from torch import Tensor, nn

from segedu.course.exercises.lesson12 import HOOK_CHOICES, check_hook_effects, hook_effects


class _PoolNet(nn.Module):
    """A 1x1 conv, a 2x2 max-pool, nearest upsampling back and a skip: the pool's output reaches the logits."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)
        self.pool = nn.MaxPool2d(2)
        self.outc = nn.Conv2d(4, 2, 1)

    def forward(self, x: Tensor) -> Tensor:
        features = self.conv(x)  # (B, 4, H, W): the skip
        pooled = self.pool(features)  # (B, 4, H/2, W/2)
        return self.outc(features + nn.functional.interpolate(pooled, scale_factor=2))  # (B, 2, H, W)


def _hook_scenes() -> tuple[nn.Module, Tensor]:
    """The model in training mode and two different random 8 x 8 scenes."""
    torch.manual_seed(0)
    images = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    return _PoolNet().train(), images


def test_hook_effects_are_measured_by_running_the_shown_hooks() -> None:
    model, images = _hook_scenes()
    effects = hook_effects(model, images, layer="pool")
    assert set(effects) == set(HOOK_CHOICES) == set("abcd")
    assert effects["a"] == 0.0 and effects["c"] == 0.0  # None keeps the output; an equal tensor changes no value
    assert effects["b"] > 1e-3 and effects["d"] > 1e-3  # the first scene's map handed on; doubled values
    assert model.training  # the mode is restored
    assert not model.pool._forward_hooks  # every hook removed
    with torch.no_grad():  # by hand: (b) hands the first scene's pooled map to the second scene's pass
        first_pooled = model.pool(model.conv(images[:1]))
        handle = model.pool.register_forward_hook(lambda module, inputs, output: first_pooled)
        mixed = model(images[1:])
        handle.remove()
        plain = model(images[1:])
    assert abs(float((mixed - plain).abs().max()) - effects["b"]) < 1e-6
    with pytest.raises(ValueError, match="N >= 2"):
        hook_effects(model, images[:1], layer="pool")


def test_check_hook_effects(capsys: pytest.CaptureFixture[str]) -> None:
    model, images = _hook_scenes()
    for answer in ({"b", "d"}, "bd", ["d", "b"], " B, D ", ("b", "d")):
        assert check_hook_effects(answer, model, images, layer="pool") is True
        output = capsys.readouterr().out
        assert output.startswith("Correct!") and "(b) changes them: dict.setdefault returns" in output, output
        assert "(c) keeps them" in output
    for answer, hints, absent in [
        ({"d"}, ["(b): what does dict.setdefault return"], ["(d)", "(a)", "(c)"]),
        ({"a", "b", "d"}, ["(a): what does list.append return"], ["(b)", "(d)"]),
        ("bcd", ["(c): detach() returns"], ["(a)", "(b)", "(d)"]),
        (set(), ["(b):", "(d): what does a forward hook's return value do"], ["(a)", "(c)"]),
        ("", ["(b):", "(d):"], ["(a)", "(c)"]),
        ("abcd", ["(a):", "(c):"], ["(b)", "(d)"]),
        (..., ["record your answer first"], []),
        (None, ["record your answer first"], []),
        ("be", ["['e'] are not among the hooks"], []),
        (3, ["record a set of letters"], []),
    ]:
        assert check_hook_effects(answer, model, images, layer="pool") is False
        output = capsys.readouterr().out
        assert output.startswith("Not yet:"), output
        assert all(hint in output for hint in hints), output
        assert not any(letter in output for letter in absent), output
        assert "largest change" not in output  # a miss shows no measured numbers


class _LooksVersusNeeded(nn.Module):
    """A two-class model whose up4 channel 0 looks exactly like class 1 but only channel 1 carries it.

    Input channel 0 is the class-1 indicator, input channel 1 noise in [0, 1). up4 makes
    channel 0 = indicator (IoU 1), channel 1 = indicator + noise (IoU below 1), channel 2 = noise;
    outc scores class 1 as 10 * (channel 1 - channel 2) - 5 = 10 * indicator - 5.
    """

    def __init__(self) -> None:
        super().__init__()
        self.up4 = nn.Conv2d(2, 3, 1, bias=False)
        self.outc = nn.Conv2d(3, 2, 1)
        with torch.no_grad():
            self.up4.weight.copy_(torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])[:, :, None, None])
            self.outc.weight.zero_()
            self.outc.weight[1, 1], self.outc.weight[1, 2] = 10.0, -10.0
            self.outc.bias.copy_(torch.tensor([0.0, -5.0]))

    def forward(self, x: Tensor) -> Tensor:
        return self.outc(self.up4(x))


def _silencing_scenes() -> tuple[Tensor, Tensor]:
    generator = torch.Generator().manual_seed(3)
    masks = torch.zeros(4, 12, 12, dtype=torch.long)
    masks[:, 3:8, 2:9] = 1
    images = torch.stack([masks.float(), torch.rand(4, 12, 12, generator=generator)], dim=1)  # (4, 2, 12, 12)
    return images, masks


def test_record_silencing_prediction(capsys: pytest.CaptureFixture[str]) -> None:
    from segedu.course.exercises.lesson12 import record_silencing_prediction

    model, (images, masks) = _LooksVersusNeeded().train(), _silencing_scenes()
    circle = {"class_index": 1, "class_name": "circle"}
    assert record_silencing_prediction(0, model, images, masks, **circle) is True  # any channel is recorded
    output = capsys.readouterr().out
    assert output.startswith("Recorded: channel 0.") and "the channel that costs them most is 1" in output
    assert "The IoU picture alone could not decide this" in output
    assert record_silencing_prediction(1, model, images, masks, **circle) is True
    assert "it is the channel that costs them most" in capsys.readouterr().out
    assert model.training  # mode restored
    for answer, hint in [(..., "no prediction recorded yet"), (3, "channels 0 to 2"), ("1", "one channel number")]:
        assert record_silencing_prediction(answer, model, images, masks, **circle) is False
        output = capsys.readouterr().out
        assert output.startswith("Not yet:") and hint in output, output


def test_mean_ablation_reading(capsys: pytest.CaptureFixture[str]) -> None:
    from segedu.course.exercises.lesson12 import MEAN_ABLATION_READINGS, check_mean_ablation_reading

    model, (images, masks) = _LooksVersusNeeded().train(), _silencing_scenes()
    with torch.no_grad():
        model.outc.bias[1] = -1.0  # circle pixels score 9 over background, so most survive channel 1 at its mean
        features = model.up4(images)  # (4, 3, 12, 12)
        replaced = features.clone()
        replaced[:, 1] = features[:, 1].mean()
        at_mean = model.outc(replaced)  # (4, 2, 12, 12): channel 1 set to its mean, by hand
    pixels = masks == 1
    lead = float((at_mean[:, 0] - at_mean[:, 1])[pixels].mean())  # background minus circle; intact it is -9
    kept = float((at_mean.argmax(dim=1)[pixels] == 1).float().mean())
    assert -9.0 + 4.5 <= lead < 0 and kept >= 0.5  # reading (b) holds by hand
    question = {"channel": 1, "class_index": 1, "other_index": 0, "class_name": "circle", "other_name": "background"}
    assert set(MEAN_ABLATION_READINGS) == set("abcd")
    assert check_mean_ablation_reading("b", model, images, masks, **question) is True
    assert check_mean_ablation_reading(" B ", model, images, masks, **question) is True
    output = capsys.readouterr().out
    assert output.startswith("Correct!") and f"{lead:+.2f} with channel 1 at its mean" in output
    assert "did use the channel's variation" in output
    assert model.training  # the mode is restored
    for answer, hint in [
        ("a", "check both in the tables"),
        ("c", "it is zeroing that takes that push away"),
        ("d", "is the move a quarter to a half of it?"),
        ("e", "must be one of"),
        (2, "must be one of"),
        (..., "record your prediction first"),
    ]:
        assert check_mean_ablation_reading(answer, model, images, masks, **question) is False
        output = capsys.readouterr().out
        assert output.startswith("Not yet:") and hint in output, output
        assert not re.search(r"\d\.\d|\d%", output), output  # a miss shows no measured number
    # Channel 0 feeds no score: the mean moves nothing, so (a) holds, (b) and (d) not.
    unused = {**question, "channel": 0}
    assert check_mean_ablation_reading("a", model, images, masks, **unused) is True
    assert "-9.00 intact and -9.00 with channel 0 at its mean" in capsys.readouterr().out  # the lead did not move
    assert check_mean_ablation_reading("b", model, images, masks, **unused) is False
    output = capsys.readouterr().out
    assert "at least half of the lead away" in output and not re.search(r"\d\.\d|\d%", output), output
    assert check_mean_ablation_reading("d", model, images, masks, **unused) is False
    output = capsys.readouterr().out
    assert "a quarter to a half" in output and not re.search(r"\d\.\d|\d%", output), output
    # A larger intact lead (-20): the mean moves it by the same amount, now a quarter to a half of it, so (d) holds.
    with torch.no_grad():
        model.outc.bias[1] = 10.0
    shift = lead + 9.0  # what the mean adds to the lead; it does not depend on the bias
    assert 0.25 * 20.0 <= shift < 0.5 * 20.0
    assert check_mean_ablation_reading("d", model, images, masks, **question) is True
    assert "under half of it" in capsys.readouterr().out
    for answer in ("a", "b"):
        assert check_mean_ablation_reading(answer, model, images, masks, **question) is False


class _TwoShapes(nn.Module):
    """Three classes; input channels are the class-1 and class-2 indicators.

    up4: channel 0 = object (class 1 or 2), channel 1 = class 1, channel 2 = 1 - class 1 (feeds no score).
    outc: background 0, class 1 = 6 ch0 + 4 ch1 - 5, class 2 = 8 ch0 - 4 ch1 - 1. Zeroing channel 1 turns
    class-1 pixels into class 2, zeroing channel 0 turns them into background.
    """

    def __init__(self) -> None:
        super().__init__()
        self.up4 = nn.Conv2d(2, 3, 1)
        self.outc = nn.Conv2d(3, 3, 1)
        with torch.no_grad():
            self.up4.weight.copy_(torch.tensor([[1.0, 1.0], [1.0, 0.0], [-1.0, 0.0]])[:, :, None, None])
            self.up4.bias.copy_(torch.tensor([0.0, 0.0, 1.0]))
            self.outc.weight.copy_(torch.tensor([[0.0, 0.0, 0.0], [6.0, 4.0, 0.0], [8.0, -4.0, 0.0]])[:, :, None, None])
            self.outc.bias.copy_(torch.tensor([0.0, -5.0, -1.0]))

    def forward(self, x: Tensor) -> Tensor:
        return self.outc(self.up4(x))


def test_silencing_explanation(capsys: pytest.CaptureFixture[str]) -> None:
    from segedu.course.exercises.lesson12 import SILENCING_EXPLANATIONS, check_silencing_explanation

    masks = torch.zeros(2, 10, 10, dtype=torch.long)
    masks[:, 1:5, 1:5], masks[:, 6:9, 5:9] = 1, 2
    images = torch.stack([(masks == 1).float(), (masks == 2).float()], dim=1)  # (2, 2, 10, 10)
    model = _TwoShapes().train()
    with torch.no_grad():
        assert bool((model(images).argmax(dim=1) == masks).all())  # intact, every pixel is right
    assert set(SILENCING_EXPLANATIONS) == set("abcd")
    assert check_silencing_explanation("b", model, images, masks, channel=1) is True
    assert check_silencing_explanation(" B ", model, images, masks, channel=1) is True
    output = capsys.readouterr().out
    assert output.startswith("Correct!") and "100% become squares and 0% background" in output
    assert "by -8.00" in output  # the class-1 margin over class 2: +2 intact, -6 zeroed
    assert model.training  # the mode is restored
    for answer, hint in [
        ("a", "compare the circle score with every other score"),
        ("c", "the larger gap says which score catches up"),
        ("d", "compare it with its mean over all pixels"),
        ("e", "must be one of"),
        (..., "record your prediction first"),
    ]:
        assert check_silencing_explanation(answer, model, images, masks, channel=1) is False
        output = capsys.readouterr().out
        assert output.startswith("Not yet:") and hint in output, output
        assert "Zeroed, channel" not in output and not re.search(r"\d\.\d|\d%", output), output  # no numbers
    assert check_silencing_explanation("c", model, images, masks, channel=0) is True  # class 1 falls to background
    assert "0% become squares and 100% background" in capsys.readouterr().out
    assert check_silencing_explanation("b", model, images, masks, channel=0) is False
    output = capsys.readouterr().out
    assert "must go to the squares" in output and not re.search(r"\d\.\d|\d%", output), output
    # Channel 2 feeds no score and is low on class-1 pixels: (a) and (d) hold, (b) and (c) not.
    for answer, supported in (("a", True), ("d", True), ("b", False), ("c", False)):
        assert check_silencing_explanation(answer, model, images, masks, channel=2) is supported
    capsys.readouterr()
