"""trace_unet keeps every map of the U under its name; zero_skips blanks exactly the chosen skips."""

from __future__ import annotations

import matplotlib
import pytest
import torch

from segedu.models import SegNet, UNet
from segedu.analysis.unet_anatomy import skip_sources, trace_unet, unet_diagram, zero_skips

matplotlib.use("Agg")


@pytest.fixture
def model() -> UNet:
    torch.manual_seed(0)
    return UNet(3, 4, base_channels=4, depth=3).eval()


def test_skip_sources_pair_the_levels_deepest_first() -> None:
    assert skip_sources(UNet(1, 2, depth=4)) == {"up1": "down3", "up2": "down2", "up3": "down1", "up4": "inc"}


def test_trace_records_every_map_and_the_same_logits(model: UNet) -> None:
    image = torch.rand(3, 32, 32)
    trace = trace_unet(model, image)
    torch.testing.assert_close(trace.logits, model(image[None]))
    assert list(trace.encoder) == ["inc", "down1", "down2", "down3"]
    expected = [(1, 4, 32, 32), (1, 8, 16, 16), (1, 16, 8, 8), (1, 32, 4, 4)]
    assert [tuple(t.shape) for t in trace.encoder.values()] == expected
    assert [tuple(t.shape) for t in trace.upsampled.values()] == [(1, 16, 8, 8), (1, 8, 16, 16), (1, 4, 32, 32)]
    assert trace.skips["up3"] is trace.encoder["inc"]
    torch.testing.assert_close(trace.logits, model.outc(trace.features))  # features are outc's input
    torch.testing.assert_close(trace.features, trace.decoded["up3"])
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


def test_zero_skips_equals_feeding_zeros_by_hand(model: UNet) -> None:
    image = torch.rand(1, 3, 32, 32)
    with zero_skips(model, "up3"):
        blanked = model(image)
    x = model.inc(image)
    skips = [x]
    for down in model.encoder.values():
        x = down(x)
        skips.append(x)
    x = model.decoder["up1"](x, skips[2])
    x = model.decoder["up2"](x, skips[1])
    x = model.decoder["up3"](x, torch.zeros_like(skips[0]))
    torch.testing.assert_close(blanked, model.outc(x))
    assert not torch.allclose(blanked, model(image))  # the hook is gone after the block
    torch.testing.assert_close(model(image), trace_unet(model, image).logits)


def test_zero_skips_all_and_unknown_names(model: UNet) -> None:
    image = torch.rand(1, 3, 16, 16)
    with zero_skips(model, "all"):
        all_blank = model(image)
    with zero_skips(model, ["up1", "up2", "up3"]):
        listed = model(image)
    torch.testing.assert_close(all_blank, listed)
    with pytest.raises(ValueError, match="unknown decoder blocks"):
        with zero_skips(model, "up9"):
            pass


def test_diagram_draws_one_box_per_map_and_the_skip_arrows(model: UNet) -> None:
    import matplotlib.pyplot as plt

    with_skips = unet_diagram(trace_unet(model, torch.rand(3, 32, 32)))
    blind = UNet(3, 4, base_channels=4, depth=3, skip_connections=False).eval()
    without = unet_diagram(trace_unet(blind, torch.rand(3, 32, 32)))
    texts = [text.get_text() for text in with_skips.axes[0].texts]
    assert len(with_skips.axes[0].patches) == 4 + 3 + 3 * 3  # boxes, then pool, up-conv and skip arrows
    assert len(without.axes[0].patches) == 4 + 3 + 3 * 2
    assert "up3\n8→4 ch\n32²" in texts and any(text.startswith("copy") for text in texts)
    with torch.device("meta"):
        paper = trace_unet(UNet.paper(), torch.empty(1, 1, 572, 572))
    paper_texts = [text.get_text() for text in unet_diagram(paper).axes[0].texts]
    assert "copy and crop 568² → 392²" in paper_texts
    plt.close("all")
