"""live_activation_bytes against byte counts worked out by hand and against index_memory."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor, nn

from segedu.analysis.live_memory import live_activation_bytes
from segedu.analysis.pooling_indices import index_memory
from segedu.models import SegNet


def test_a_chain_holds_at_most_one_input_and_one_output() -> None:
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.Conv2d(8, 16, 3, padding=1), nn.Conv2d(16, 4, 1))
    measured = live_activation_bytes(net, torch.zeros(2, 3, 8, 8))
    pixels = 2 * 8 * 8 * 4  # batch x H x W x float32 bytes
    assert measured.peak == max(8 + 16, 16 + 4) * pixels  # conv1's output is freed after conv2 ran


class _KeepsEveryMap(nn.Module):
    """Three 1x1 convs whose outputs are all summed at the end, so all three are alive together."""

    def __init__(self) -> None:
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv2d(2, 2, 1) for _ in range(3))

    def forward(self, x: Tensor) -> Tensor:
        kept = [conv(x) for conv in self.convs]  # three (B, 2, H, W) maps
        return kept[0] + kept[1] + kept[2]


def test_maps_kept_for_later_all_count_and_views_are_not_counted_twice() -> None:
    model = _KeepsEveryMap()
    one_map = 1 * 2 * 4 * 4 * 4
    assert live_activation_bytes(model, torch.zeros(1, 2, 4, 4)).peak == 5 * one_map  # 3 kept, (a + b) and (a + b) + c
    viewed = nn.Sequential(nn.Conv2d(2, 2, 1), nn.Flatten(), nn.Unflatten(1, (2, 4, 4)))
    assert live_activation_bytes(viewed, torch.zeros(1, 2, 4, 4)).peak == one_map  # views share the storage


def test_segnet_enters_its_decoder_holding_only_the_indices_and_the_deepest_pooled_map() -> None:
    torch.manual_seed(0)
    model = SegNet(in_channels=3, num_classes=4, base_channels=8, depth=3).eval()
    images = torch.rand(2, 3, 32, 32)
    measured = live_activation_bytes(model, images, watch={"decoder": model.decoder["stage3"]})
    index_bytes = sum(row.index_bytes for row in index_memory(model, tuple(images.shape)))
    deepest = 2 * 32 * 4 * 4 * 4  # the third stage's 32 channels at 4x4, float32
    assert measured.entering["decoder"] == index_bytes + deepest
    assert measured.peak > measured.entering["decoder"]


def test_a_watched_module_that_never_runs_is_an_error() -> None:
    with pytest.raises(ValueError, match="never called"):
        live_activation_bytes(nn.Identity(), torch.zeros(1), watch={"unused": nn.ReLU()})
