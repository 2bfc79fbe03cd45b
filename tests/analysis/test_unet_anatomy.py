"""trace_unet keeps every map of the U under its name; zero_skips blanks exactly the chosen skips."""

from __future__ import annotations

import pytest
import torch

from segedu.models import SegNet, UNet
from segedu.analysis.unet_anatomy import skip_sources, trace_unet, zero_skips


@pytest.fixture
def model() -> UNet:
    torch.manual_seed(0)
    return UNet(3, 4, base_channels=4).eval()


def test_skip_sources_pair_the_levels_deepest_first() -> None:
    assert skip_sources(UNet(1, 2)) == {"up1": "down3", "up2": "down2", "up3": "down1", "up4": "inc"}


def test_trace_records_every_map_and_the_same_logits(model: UNet) -> None:
    image = torch.rand(3, 32, 32)
    trace = trace_unet(model, image)
    torch.testing.assert_close(trace.logits, model(image[None]))
    assert list(trace.encoder) == ["inc", "down1", "down2", "down3", "down4"]
    expected = [(1, 4, 32, 32), (1, 8, 16, 16), (1, 16, 8, 8), (1, 32, 4, 4), (1, 64, 2, 2)]
    assert [tuple(t.shape) for t in trace.encoder.values()] == expected
    upsampled = [(1, 32, 4, 4), (1, 16, 8, 8), (1, 8, 16, 16), (1, 4, 32, 32)]
    assert [tuple(t.shape) for t in trace.upsampled.values()] == upsampled
    assert trace.skips["up4"] is trace.encoder["inc"]
    torch.testing.assert_close(trace.encoder["down2"], model.down2(model.down1(model.inc(image[None]))))
    torch.testing.assert_close(trace.upsampled["up1"], model.up1.up(trace.encoder["down4"]))
    torch.testing.assert_close(trace.logits, model.outc(trace.features))  # features are outc's input
    torch.testing.assert_close(trace.features, trace.decoded["up4"])
    assert trace.input_shape == (1, 3, 32, 32) and trace.skip_connections


def test_trace_restores_training_mode_and_removes_hooks(model: UNet) -> None:
    model.train()
    trace_unet(model, torch.rand(2, 3, 16, 16))
    assert model.training
    assert not any(module._forward_hooks or module._forward_pre_hooks for module in model.modules())


def test_trace_on_meta_gives_the_paper_sizes() -> None:
    with torch.device("meta"):
        paper = UNet.paper()
        trace = trace_unet(paper, torch.empty(1, 1, 572, 572))
    assert [t.shape[-1] for t in trace.encoder.values()] == [568, 280, 136, 64, 28]
    assert [t.shape[-1] for t in trace.upsampled.values()] == [56, 104, 200, 392]
    assert [t.shape[-1] for t in trace.decoded.values()] == [52, 100, 196, 388]
    assert tuple(trace.logits.shape) == (1, 2, 388, 388)


def test_trace_refuses_other_models() -> None:
    with pytest.raises(ValueError, match="must be a segedu.models.UNet"):
        trace_unet(SegNet(3, 4, base_channels=4, depth=2), torch.rand(3, 16, 16))
    with pytest.raises(ValueError, match="must be a segedu.models.UNet"):
        skip_sources(SegNet(3, 4, base_channels=4, depth=2))


def test_zero_skips_equals_feeding_zeros_by_hand(model: UNet) -> None:
    image = torch.rand(1, 3, 32, 32)
    with zero_skips(model, "up4"):
        blanked = model(image)
    skip1 = model.inc(image)
    skip2 = model.down1(skip1)
    skip3 = model.down2(skip2)
    skip4 = model.down3(skip3)
    x = model.down4(skip4)
    x = model.up1(x, skip4)
    x = model.up2(x, skip3)
    x = model.up3(x, skip2)
    x = model.up4(x, torch.zeros_like(skip1))
    torch.testing.assert_close(blanked, model.outc(x))
    assert not torch.allclose(blanked, model(image))  # the hook is gone after the block
    torch.testing.assert_close(model(image), trace_unet(model, image).logits)


def test_zero_skips_all_and_unknown_names(model: UNet) -> None:
    image = torch.rand(1, 3, 16, 16)
    with zero_skips(model, "all"):
        all_blank = model(image)
    with zero_skips(model, ["up1", "up2", "up3", "up4"]):
        listed = model(image)
    torch.testing.assert_close(all_blank, listed)
    with pytest.raises(ValueError, match="unknown decoder blocks"):
        with zero_skips(model, "up9"):
            pass


def test_trace_observes_the_wiring_by_identity(model: UNet) -> None:
    image = torch.rand(1, 3, 32, 32)
    trace = trace_unet(model, image)
    assert trace.sources == skip_sources(model)  # observed, and equal to the expected pairing
    assert trace.received["up1"][0] is trace.encoder["down4"]  # the bottleneck comes from below
    assert trace.received["up2"][0] is trace.decoded["up1"]
    assert all(trace.skips[up] is trace.encoder[source] for up, source in trace.sources.items())
    with zero_skips(model, "up2"):
        blanked = trace_unet(model, image)
    assert blanked.sources["up2"] == "(replaced)" and blanked.sources["up4"] == "inc"
    assert not blanked.skips["up2"].any()
