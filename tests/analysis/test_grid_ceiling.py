"""The best mask drawn back from a pooled grid: brute-force majority votes and exact cases."""

import pytest
import torch

from segedu.analysis.grid_ceiling import best_mask_from_grid, grid_ceiling_iou


def test_nearest_is_the_majority_label_of_each_patch() -> None:
    generator = torch.Generator().manual_seed(0)
    masks = torch.randint(0, 3, (2, 8, 8), generator=generator)
    drawn = best_mask_from_grid(masks, 3, factor=4)
    for n in range(2):
        for row in range(0, 8, 4):
            for column in range(0, 8, 4):
                counts = torch.bincount(masks[n, row:row + 4, column:column + 4].flatten(), minlength=3)
                expected = int(torch.argmax(counts))  # ties: the first maximum, the lower class
                assert (drawn[n, row:row + 4, column:column + 4] == expected).all()


def test_factor_one_is_exact_and_coarse_grids_lose_small_objects() -> None:
    masks = torch.zeros(1, 16, 16, dtype=torch.long)
    masks[0, 5:8, 9:12] = 2  # a 3x3 square: 9 pixels
    assert torch.equal(best_mask_from_grid(masks, 3, factor=1), masks)
    assert grid_ceiling_iou(masks, 3, factor=1) == 1.0
    assert (best_mask_from_grid(masks, 3, factor=8) == 0).all()  # 9 of 64 pixels: outvoted
    assert grid_ceiling_iou(masks, 3, factor=8) < grid_ceiling_iou(masks, 3, factor=2, mode="bilinear")


def test_bilinear_keeps_an_aligned_block_exactly() -> None:
    masks = torch.zeros(1, 16, 16, dtype=torch.long)
    masks[0, :, 8:] = 1  # the boundary lies on a cell boundary
    drawn = best_mask_from_grid(masks, 2, factor=4, mode="bilinear")
    assert torch.equal(drawn, masks)


def test_bad_arguments_are_refused() -> None:
    masks = torch.zeros(1, 8, 8, dtype=torch.long)
    with pytest.raises(ValueError, match="divide"):
        best_mask_from_grid(masks, 2, factor=3)
    with pytest.raises(ValueError, match="mode"):
        best_mask_from_grid(masks, 2, factor=2, mode="cubic")
    with pytest.raises(ValueError, match=r"labels must be in \[0, 2\)"):
        best_mask_from_grid(masks + 5, 2, factor=2)
