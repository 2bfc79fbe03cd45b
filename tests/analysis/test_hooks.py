"""The one hook recorder keeps what named layers see or produce, and leaves no hook behind."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from segedu.analysis.hooks import layer_names, record, recording
from segedu.models import UNet


def _assert_no_hooks(model: nn.Module) -> None:
    for module in model.modules():
        assert not module._forward_hooks and not module._forward_pre_hooks


def _small_unet() -> UNet:
    torch.manual_seed(0)
    return UNet(3, 4, base_channels=4).eval()


def test_record_keeps_outputs_and_inputs_of_named_layers() -> None:
    model = _small_unet()
    x = torch.rand(1, 3, 32, 32)
    outputs = record(model, x, ["inc", "down1", "up4"])
    with torch.no_grad():  # the same tensors, block by block as U-Net's forward pass writes them
        skip1 = model.inc(x)
        skip2 = model.down1(skip1)
    torch.testing.assert_close(outputs["inc"], skip1)
    torch.testing.assert_close(outputs["down1"], skip2)
    received = record(model, x, ["up4", "outc"], inputs=True)
    assert isinstance(received["up4"], tuple) and len(received["up4"]) == 2  # (x, skip): two arguments
    torch.testing.assert_close(received["up4"][1], skip1)  # the skip of the last Up is inc's output
    torch.testing.assert_close(received["outc"], outputs["up4"])  # one argument: the tensor itself
    assert not outputs["inc"].requires_grad and record(model, x, ["inc"], grad=True)["inc"].requires_grad
    _assert_no_hooks(model)


def test_recorded_layers_are_in_execution_order() -> None:
    model = _small_unet()
    names = ["up1", "inc", "outc", "down4"]
    assert list(record(model, torch.rand(1, 3, 16, 16), names)) == ["inc", "down4", "up1", "outc"]


def test_callback_sees_every_call_of_every_leaf_in_order() -> None:
    shared = nn.Linear(4, 4)
    model = nn.Sequential(shared, nn.ReLU(), shared)  # one module, called twice
    calls: list[tuple[str, str, tuple[int, ...]]] = []
    x = torch.rand(3, 4)
    with recording(model, callback=lambda name, module, args, output: calls.append(
            (name, type(module).__name__, tuple(args[0].shape)))) as kept:
        model(x)
    assert calls == [("0", "Linear", (3, 4)), ("1", "ReLU", (3, 4)), ("0", "Linear", (3, 4))]
    assert kept == {}  # a callback keeps no tensors
    _assert_no_hooks(model)


def test_a_model_without_sub_modules_is_its_own_leaf() -> None:
    conv = nn.Conv2d(1, 2, 3)
    assert layer_names(conv) == [""]
    x = torch.rand(1, 1, 5, 5)
    torch.testing.assert_close(record(conv, x)[""], conv(x).detach())
    assert "" not in layer_names(nn.Sequential(conv), leaves_only=False)


def test_hooks_are_removed_when_the_forward_pass_fails() -> None:
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(5, 2))  # wrong Linear size
    with pytest.raises(RuntimeError):
        record(model, torch.rand(1, 3, 6, 6))
    with pytest.raises(RuntimeError), recording(model, callback=lambda *_: None):
        model(torch.rand(1, 3, 6, 6))
    _assert_no_hooks(model)


def test_bad_arguments_are_refused() -> None:
    model = _small_unet()
    with pytest.raises(ValueError, match=r"no layer named 'down9'.*'inc'"):
        record(model, torch.rand(1, 3, 16, 16), ["down9"])
    with pytest.raises(ValueError, match=r"not the string 'inc'; write \['inc'\]"):
        record(model, torch.rand(1, 3, 16, 16), "inc")
    with pytest.raises(ValueError, match="either inputs=True or a callback"):
        with recording(model, ["inc"], inputs=True, callback=lambda *_: None):
            pass
    with pytest.raises(ValueError, match="must be a torch.nn.Module"):
        record(lambda x: x, torch.rand(1))  # type: ignore[arg-type]
    _assert_no_hooks(model)
