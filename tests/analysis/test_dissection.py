"""Class IoU of thresholded channels equals a brute-force count; silencing zeroes exactly the chosen channels."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from segedu.analysis.dissection import channel_class_iou, layer_maps, silence_channels
from segedu.models import UNet


def _brute_force_iou(values: torch.Tensor, inside: torch.Tensor) -> float:
    """One channel, one class: switch on the n largest values (n = class pixels), count overlap."""
    flat, labels = values.flatten().tolist(), inside.flatten().tolist()
    count = sum(labels)
    order = sorted(range(len(flat)), key=lambda index: -flat[index])
    on = set(order[:count])
    intersection = sum(1 for index in on if labels[index])
    union = count + len(on) - intersection
    return intersection / union


def test_class_iou_matches_a_brute_force_count_on_tie_free_maps() -> None:
    generator = torch.Generator().manual_seed(0)
    masks = torch.randint(0, 3, (2, 6, 7), generator=generator)
    activations = torch.rand(2, 4, 6, 7, generator=generator)
    activations[:, 1] += 0.8 * (masks == 2)  # channel 1 leans towards class 2
    iou = channel_class_iou(activations, masks, num_classes=3)
    assert iou.shape == (4, 3)
    for channel in range(4):
        for class_index in range(3):
            expected = _brute_force_iou(activations[:, channel], masks == class_index)
            assert math.isclose(float(iou[channel, class_index]), expected, abs_tol=1e-6)
    assert int(iou[:, 2].argmax()) == 1


def test_a_channel_that_is_the_class_mask_scores_one_and_a_constant_channel_gets_no_credit() -> None:
    masks = torch.zeros(3, 8, 8, dtype=torch.long)
    masks[:, 2:5, 1:6] = 1
    activations = torch.stack([(masks == 1).float(), torch.zeros(3, 8, 8)], dim=1)  # (3, 2, 8, 8)
    iou = channel_class_iou(activations, masks, num_classes=3)
    assert iou[0, 1] == 1.0
    assert iou[1, 1] == 0.0 and iou[1, 0] == 0.0  # all values tie: the channel is on nowhere
    assert torch.isnan(iou[:, 2]).all()  # class 2 is absent


def test_class_iou_rejects_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match="same N, H, W"):
        channel_class_iou(torch.rand(2, 3, 8, 8), torch.zeros(2, 8, 9, dtype=torch.long), 2)


def test_layer_maps_are_upsampled_to_the_image_size_and_keep_the_mode() -> None:
    torch.manual_seed(0)
    model = UNet(3, 4, base_channels=4).train()
    images = torch.rand(3, 3, 32, 32)
    maps = layer_maps(model, images, ["down2", "outc"], batch_size=2)
    assert maps["down2"].shape == (3, 16, 32, 32) and maps["outc"].shape == (3, 4, 32, 32)
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(maps["outc"], model(images))
    with pytest.raises(ValueError, match="list of names"):
        layer_maps(model, images, "outc")


def test_silence_channels_zeroes_exactly_those_channels_and_then_lets_go() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.Conv2d(4, 3, 1)).eval()
    x = torch.rand(1, 2, 8, 8)
    seen = {}
    handle = model[1].register_forward_pre_hook(lambda module, args: seen.update(x=args[0]))
    with torch.no_grad(), silence_channels(model, "0", [1, 3]):
        model(x)
    handle.remove()
    full = model[0](x)
    assert torch.count_nonzero(seen["x"][:, [1, 3]]) == 0
    torch.testing.assert_close(seen["x"][:, [0, 2]], full[:, [0, 2]])
    assert not model[0]._forward_hooks  # removed on exit
    with pytest.raises(ValueError, match="no layer"):
        with silence_channels(model, "9", 0):
            pass


def test_a_channel_firing_evenly_on_two_classes_of_equal_size_scores_a_third_for_each() -> None:
    masks = torch.zeros(1, 4, 8, dtype=torch.long)
    masks[0, :, 4:6] = 1  # class 1: 8 pixels
    masks[0, :, 6:] = 2  # class 2: 8 pixels
    graded = torch.zeros(1, 4, 8)
    graded[0, :, 4:] = torch.arange(16, 0, -1, dtype=torch.float32).reshape(4, 4)  # fires on both, no ties
    flat = (masks > 0).float()  # fires on both with one value: every value ties
    iou = channel_class_iou(torch.stack([graded, flat], dim=1), masks, num_classes=3)  # (2, 3)
    # graded is on at its 8 largest values, the top two rows: 4 pixels of each class -> 4 / (8 + 8 - 4)
    assert math.isclose(float(iou[0, 1]), 1 / 3, abs_tol=1e-6)
    assert math.isclose(float(iou[0, 2]), 1 / 3, abs_tol=1e-6)
    assert iou[1, 1] == 0.0 and iou[1, 2] == 0.0  # values tied at the threshold are off: on nowhere


def test_silence_channels_can_write_each_channel_its_own_value() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.Conv2d(4, 3, 1)).eval()
    x = torch.rand(2, 2, 8, 8)
    seen = {}
    handle = model[1].register_forward_pre_hook(lambda module, args: seen.update(x=args[0]))
    with torch.no_grad(), silence_channels(model, "0", [3, 1], value=torch.tensor([0.5, -2.0])):
        model(x)
    handle.remove()
    assert bool((seen["x"][:, 3] == 0.5).all()) and bool((seen["x"][:, 1] == -2.0).all())
    torch.testing.assert_close(seen["x"][:, [0, 2]], model[0](x)[:, [0, 2]])
    with pytest.raises(ValueError, match="one per channel"):
        with silence_channels(model, "0", [1, 3], value=torch.ones(3)):
            pass
