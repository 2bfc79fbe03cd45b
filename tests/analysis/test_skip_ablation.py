"""Replacing skips: zeros equal zero_skips, a mean keeps the shape; scores and the paired training run."""

from __future__ import annotations

import json

import pytest
import torch

from segedu.analysis.skip_ablation import (
    SCORE_NAMES,
    band_scores,
    decode_map,
    encode_map,
    mean_skips,
    object_scenes,
    replace_skips,
    train_skip_pair,
)
from segedu.analysis.unet_anatomy import trace_unet, zero_skips
from segedu.models import UNet


def _model() -> UNet:
    torch.manual_seed(0)
    return UNet(3, 4, base_channels=4).eval()


def test_zeros_as_a_replacement_equal_zero_skips() -> None:
    model, x = _model(), torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        with zero_skips(model, ["up2", "up4"]):
            expected = model(x)
        with replace_skips(model, {"up2": 0.0, "up4": 0.0}):
            found = model(x)
        intact = model(x)
    torch.testing.assert_close(found, expected)
    assert not torch.allclose(found, intact)
    assert all(not getattr(model, name)._forward_pre_hooks for name in ("up1", "up2", "up3", "up4"))


def test_mean_skips_average_over_images_and_positions() -> None:
    model, images = _model(), torch.rand(5, 3, 32, 32)
    trace = trace_unet(model, images)
    per_channel = mean_skips(model, images, batch_size=2)
    per_pixel = mean_skips(model, images, per="pixel", batch_size=2)
    for block, skip in trace.skips.items():  # (5, C, h, w)
        torch.testing.assert_close(per_pixel[block], skip.mean(dim=0))
        torch.testing.assert_close(per_channel[block], skip.mean(dim=(0, 2, 3))[:, None, None])


def test_a_constant_map_reaches_the_decoder_block() -> None:
    model, x = _model(), torch.rand(1, 3, 32, 32)
    means = mean_skips(model, x)
    received = {}
    with torch.no_grad(), replace_skips(model, {"up3": means["up3"]}):
        # registered after the replacement's pre-hook, so it sees what the block receives
        handle = model.up3.register_forward_pre_hook(lambda module, args: received.update(skip=args[1]))
        model(x)
    handle.remove()
    assert received["skip"].shape == (1, 8, 16, 16)
    torch.testing.assert_close(received["skip"][0, :, 3, 5], means["up3"][:, 0, 0])


def test_bad_arguments_are_named() -> None:
    model = _model()
    with pytest.raises(ValueError, match="unknown decoder blocks"):
        with replace_skips(model, {"up5": 0.0}):
            pass
    with pytest.raises(ValueError, match="per must be"):
        mean_skips(model, torch.rand(1, 3, 16, 16), per="image")


def test_the_pair_differs_only_in_the_skips_and_is_scored_six_ways() -> None:
    scenes = object_scenes("train", 8, size=32)
    assert scenes[0][1].unique().tolist() == [0, 1]
    models = train_skip_pair(scenes, seed=3, steps=2, batch_size=4)
    assert list(models) == ["without skips", "with skips"]
    assert not models["without skips"].up4.skip_connection and models["with skips"].up4.skip_connection
    assert models["with skips"].inc.conv1.conv.weight.shape == models["without skips"].inc.conv1.conv.weight.shape
    scores = band_scores(models["with skips"], scenes)
    assert len(scores) == len(SCORE_NAMES) and all(0.0 <= value <= 1.0 for value in scores)


def test_encode_map_round_trips_within_one_level() -> None:
    values = torch.randn(4, 9, 7) * 3
    stored = encode_map(values)
    json.dumps(stored)  # JSON-ready
    decoded = decode_map(stored)
    assert decoded.shape == values.shape and decoded.dtype == torch.float32
    assert (decoded - values).abs().max() <= (values.max() - values.min()) / 510 + 1e-5


def test_encoded_probabilities_keep_their_side_of_one_half() -> None:
    probabilities = torch.tensor([[0.0, 0.4999, 0.5001, 1.0], [0.2, 0.49, 0.51, 0.9]])
    decoded = decode_map(encode_map(probabilities, low=0.0, high=1.0))
    assert torch.equal(decoded > 0.5, probabilities > 0.5)


def test_a_constant_map_survives() -> None:
    decoded = decode_map(encode_map(torch.full((3, 3), 2.5)))
    torch.testing.assert_close(decoded, torch.full((3, 3), 2.5))
