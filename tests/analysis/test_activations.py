"""record_activations keeps the feature map of every explorable layer, as the model computed it."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from segedu.analysis.activations import (
    LAYER_TYPES,
    expected_in_channels,
    explorable_layers,
    record_activations,
)
from segedu.models import FullResolutionNet, SegNet, UNet, get_model


def test_every_conv_pool_and_upsampling_layer_is_recorded_once_in_run_order() -> None:
    torch.manual_seed(0)
    model = UNet(3, 4, base_channels=4)
    recording = record_activations(model, torch.rand(3, 32, 32))
    modules = {name for name, module in model.named_modules() if isinstance(module, LAYER_TYPES)}
    ups = {"up1", "up2", "up3", "up4"}  # the skip-fusion points
    assert set(recording.order) == set(recording.activations) == modules | ups
    assert len(recording.order) == len(set(recording.order))
    assert recording.order.index("down1.pool") < recording.order.index("down2.pool") < recording.order.index("up1")
    assert recording.order[-1] == "outc"
    assert recording.kinds["up1"] == "Up (skip fusion)" and recording.kinds["down1.pool"] == "MaxPool2d"
    assert all(activation.dim() == 3 for activation in recording.activations.values())  # batch dimension dropped


def test_maps_are_the_outputs_the_forward_pass_computes() -> None:
    torch.manual_seed(0)
    model = UNet(3, 4, base_channels=4).train()
    image = torch.rand(3, 32, 32)
    recording = record_activations(model, image)
    assert model.training  # the mode is restored
    with torch.no_grad():  # reference: the blocks by hand, in eval mode
        model.eval()
        skip1 = model.inc(image[None])
        skip2 = model.down1(skip1)
        pooled = model.down2.pool(skip2)
        conv = model.down1.convs.conv2.conv(model.down1.convs.conv1(model.down1.pool(skip1)))
        logits = model(image[None])
    torch.testing.assert_close(recording.activations["down1.convs.conv2.conv"], conv[0])
    torch.testing.assert_close(recording.activations["down2.pool"], pooled[0])
    torch.testing.assert_close(recording.logits.detach(), logits)


def test_segnet_pooling_keeps_the_values_not_the_indices() -> None:
    torch.manual_seed(0)
    model = SegNet(3, 4, base_channels=4, depth=3).eval()
    image = torch.rand(3, 32, 32)
    recording = record_activations(model, image)
    with torch.no_grad():
        values, _ = model.encoder.stage1(image[None])
    torch.testing.assert_close(recording.activations["encoder.stage1.pool"], values[0])
    assert recording.activations["encoder.stage1.pool"].is_floating_point()


def test_fcn_fusion_points_are_the_sums_of_the_forward_pass() -> None:
    torch.manual_seed(0)
    model = get_model("fcn8s", in_channels=3, num_classes=4, base_channels=4, fc_channels=8).eval()
    nn.init.normal_(model.score_pool4.weight)  # zero at initialisation: make the sum visible
    nn.init.normal_(model.score_pool3.weight)
    image = torch.rand(3, 64, 64)
    recording = record_activations(model, image)
    upscore2 = recording.activations["upscore2"]
    score_pool4 = recording.activations["score_pool4"]
    torch.testing.assert_close(recording.activations["upscore2 + score_pool4"], upscore2 + score_pool4)
    sum3 = recording.activations["upscore_pool4"] + recording.activations["score_pool3"]
    torch.testing.assert_close(recording.activations["upscore_pool4 + score_pool3"], sum3)
    order = recording.order
    assert order.index("score_pool4") < order.index("upscore2 + score_pool4") < order.index("upscore_pool4")


def test_keep_graph_links_the_input_to_the_logits() -> None:
    model = FullResolutionNet(1, 2, width=4, depth=2)
    kept = record_activations(model, torch.rand(1, 8, 8), keep_graph=True)
    assert kept.input.requires_grad and kept.logits.grad_fn is not None
    plain = record_activations(model, torch.rand(1, 8, 8))
    assert not plain.input.requires_grad and plain.logits.grad_fn is None


def test_input_channels_and_refusals() -> None:
    assert expected_in_channels(UNet(1, 2, base_channels=4)) == 1
    assert expected_in_channels(nn.Sequential(nn.Conv2d(5, 2, 1))) == 5
    with pytest.raises(ValueError, match="no Conv2d or ConvTranspose2d"):
        explorable_layers(nn.Sequential(nn.Identity()))
    with pytest.raises(ValueError, match=r"image must be a \(C, H, W\) tensor; got \(1, 1, 8, 8\)"):
        record_activations(FullResolutionNet(1, 2, depth=1), torch.rand(1, 1, 8, 8))
