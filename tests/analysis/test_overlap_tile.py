"""Overlap-tile: stitched tiles equal one pass over the whole mirror-padded image."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from segedu.models import UNet
from segedu.analysis.overlap_tile import mirror_pad_predict, overlap_tile_predict, tile_grid, tile_margin


@pytest.fixture
def model() -> UNet:
    torch.manual_seed(0)
    return UNet(3, 4, base_channels=4, depth=2, padding="valid").eval()


def test_margin_is_half_the_size_difference(model: UNet) -> None:
    for tile in (4, 8, 32, 100):
        assert tile_margin(model, tile) == (model.input_size_for(tile) - tile) // 2 == 20
    assert tile_margin(UNet.paper(), 388) == 92  # 572 = 388 + 2 * 92


def test_margin_refuses_sizes_the_network_cannot_produce(model: UNet) -> None:
    with pytest.raises(ValueError, match=r"not an output size.*nearest are \[28, 32\]"):
        tile_margin(model, 30)
    with pytest.raises(ValueError, match="padding='valid'"):
        tile_margin(UNet(3, 4, depth=2), 32)


def test_tile_grid_covers_the_image_exactly_once_or_with_a_shifted_last_tile() -> None:
    assert tile_grid(64, 64, 32) == [(0, 0), (0, 32), (32, 0), (32, 32)]
    corners = tile_grid(40, 70, 32)
    covered = torch.zeros(40, 70, dtype=torch.int64)
    for top, left in corners:
        covered[top : top + 32, left : left + 32] += 1
    assert covered.min() >= 1 and corners[-1] == (8, 38)
    with pytest.raises(ValueError, match="tile_size must be in"):
        tile_grid(16, 64, 32)


def test_stitched_tiles_equal_the_whole_padded_image(model: UNet) -> None:
    image = torch.rand(2, 3, 64, 96)
    stitched = overlap_tile_predict(model, image, 32)
    margin = tile_margin(model, 32)
    whole = model(F.pad(image, (margin,) * 4, mode="reflect"))
    assert stitched.shape == whole.shape == (2, 4, 64, 96)
    torch.testing.assert_close(stitched, whole)
    torch.testing.assert_close(mirror_pad_predict(model, image), whole)


def test_a_tile_depends_only_on_its_window(model: UNet) -> None:
    image = torch.rand(3, 96, 96)
    before = overlap_tile_predict(model, image, 32)
    changed = image.clone()
    changed[:, 90:, 90:] = 1.0  # far (more than the margin) from the top-left tile
    after = overlap_tile_predict(model, changed, 32)
    torch.testing.assert_close(after[..., :32, :32], before[..., :32, :32])
    assert not torch.allclose(after[..., 64:, 64:], before[..., 64:, 64:])


def test_mirror_padding_needs_a_large_enough_image(model: UNet) -> None:
    with pytest.raises(ValueError, match="larger than 20x20"):
        mirror_pad_predict(model, torch.rand(3, 16, 16))
