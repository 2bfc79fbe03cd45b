"""Overlap-tile: stitched tiles equal one pass over the whole mirror-padded image."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from segedu.models import UNet
from segedu.analysis.overlap_tile import mirror_pad_predict, overlap_tile_predict, tile_grid, tile_margin
from segedu.analysis.unet_sizes import valid_input_size


@pytest.fixture
def model() -> UNet:
    torch.manual_seed(0)
    return UNet(3, 4, base_channels=2, padding="valid").eval()


def test_margin_is_half_the_size_difference(model: UNet) -> None:
    for tile in (4, 20, 36, 100):
        assert tile_margin(model, tile) == (valid_input_size(tile) - tile) // 2 == 92
    assert tile_margin(UNet.paper(), 388) == 92  # 572 = 388 + 2 * 92


def test_margin_refuses_sizes_the_network_cannot_produce(model: UNet) -> None:
    with pytest.raises(ValueError, match=r"not an output size.*nearest are \[20, 36\]"):
        tile_margin(model, 30)
    with pytest.raises(ValueError, match="padding='valid'"):
        tile_margin(UNet(3, 4), 36)


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
    # Tiles of 52 on a 100-pixel side start at 0 and 48: multiples of 16, so every max-pool sees
    # the same 2x2 grid as in the whole pass.
    image = torch.rand(2, 3, 100, 100)
    assert tile_grid(100, 100, 52) == [(0, 0), (0, 48), (48, 0), (48, 48)]
    stitched = overlap_tile_predict(model, image, 52)
    margin = tile_margin(model, 52)
    with torch.no_grad():
        whole = model(F.pad(image, (margin,) * 4, mode="reflect"))
    assert stitched.shape == whole.shape == (2, 4, 100, 100)
    torch.testing.assert_close(stitched, whole)
    torch.testing.assert_close(mirror_pad_predict(model, image), whole)


def test_a_tile_depends_only_on_its_window(model: UNet) -> None:
    image = torch.rand(3, 164, 164)
    before = overlap_tile_predict(model, image, 36)
    changed = image.clone()
    changed[:, 140:, 140:] = 1.0  # more than the margin (92) away from the top-left tile
    after = overlap_tile_predict(model, changed, 36)
    torch.testing.assert_close(after[..., :36, :36], before[..., :36, :36])
    assert not torch.allclose(after[..., 128:, 128:], before[..., 128:, 128:])


def test_mirror_padding_needs_a_large_enough_image(model: UNet) -> None:
    with pytest.raises(ValueError, match="larger than 92x92"):
        mirror_pad_predict(model, torch.rand(3, 68, 68))
