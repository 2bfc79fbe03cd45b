"""Tests for the paired transforms: masks are never interpolated and stay aligned."""

import pytest
import torch

from segedu.datasets import ShapesScenes
from torchvision.transforms import v2

from segedu.datasets.transforms import (
    AlignedResize,
    PairedTransform,
    WithPixelNoise,
    resize_transforms,
    training_transforms,
)


def _block_labels(rows: torch.Tensor, columns: torch.Tensor) -> torch.Tensor:
    """A blocky label map over pixel coordinates; values {0, 1, 3, 4} so that blending
    neighbours would invent the missing 2."""
    labels = (rows // 6 + 2 * (columns // 6)) % 4
    return torch.where(labels >= 2, labels + 1, labels)


def _coordinate_scene(height: int = 48, width: int = 40):
    """Image whose channels encode each pixel's own (row, column), plus a constant 1."""
    rows, columns = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    image = torch.stack(
        [(rows + 0.5) / height, (columns + 0.5) / width, torch.ones(height, width)]
    ).float()  # (3, H, W)
    return image, _block_labels(rows, columns)


def test_training_masks_are_never_interpolated():
    image, mask = _coordinate_scene()
    torch.manual_seed(0)
    augment = training_transforms(32, scale=(0.5, 1.5))
    seen = set()
    for _ in range(30):
        out_image, out_mask = augment(image, mask)
        assert out_image.shape == (3, 32, 32) and out_mask.shape == (32, 32)
        assert out_mask.dtype == torch.int64 and type(out_mask) is torch.Tensor
        values = set(out_mask.unique().tolist())
        assert values <= {0, 1, 3, 4, 255}
        seen |= values
    assert 255 in seen  # zooming out needed padding at least once


def test_image_and_mask_stay_aligned():
    image, mask = _coordinate_scene()
    height, width = mask.shape
    torch.manual_seed(1)
    augment = training_transforms(40, scale=(0.6, 1.4))
    for _ in range(20):
        out_image, out_mask = augment(image, mask)
        padded = out_mask == 255
        # Padding is the same region in both: the image's constant channel is 0 there.
        assert (out_image[2][padded] == 0).all()
        inside = (out_image[2] > 0.999) & ~padded
        # Read back where each output pixel came from (bilinear keeps the coordinate ramps).
        rows = (out_image[0][inside] * height - 0.5).round().long()
        columns = (out_image[1][inside] * width - 0.5).round().long()
        labels = out_mask[inside]
        # Nearest-neighbour sampling may pick a source pixel up to one pixel away (torch's
        # "nearest" is not centre-aligned), so the label must occur in the 3 x 3 neighbourhood.
        found = torch.zeros_like(labels, dtype=torch.bool)
        exact = _block_labels(rows.clamp(0, height - 1), columns.clamp(0, width - 1)) == labels
        for row_step in (-1, 0, 1):
            for column_step in (-1, 0, 1):
                near_rows = (rows + row_step).clamp(0, height - 1)
                near_columns = (columns + column_step).clamp(0, width - 1)
                found |= _block_labels(near_rows, near_columns) == labels
        assert found.all()
        assert exact.float().mean() > 0.75  # most pixels are not at a block border


def test_flip_moves_image_and_mask_together():
    image, mask = _coordinate_scene(32, 32)
    torch.manual_seed(2)
    augment = training_transforms(32, scale=(1.0, 1.0), flip=True)
    outcomes = set()
    for _ in range(20):
        out_image, out_mask = augment(image, mask)
        if torch.allclose(out_image, image):
            assert torch.equal(out_mask, mask)
            outcomes.add("kept")
        else:
            torch.testing.assert_close(out_image, image.flip(-1))
            assert torch.equal(out_mask, mask.flip(-1))
            outcomes.add("flipped")
    assert outcomes == {"kept", "flipped"}
    no_flip = training_transforms(32, scale=(1.0, 1.0), flip=False)
    assert all(torch.equal(no_flip(image, mask)[1], mask) for _ in range(10))


def test_resize_uses_nearest_for_masks():
    image, mask = _coordinate_scene()
    out_image, out_mask = resize_transforms((20, 30))(image, mask)
    assert out_image.shape == (3, 20, 30) and out_mask.shape == (20, 30)
    assert set(out_mask.unique().tolist()) <= {0, 1, 3, 4}
    square_image, _ = resize_transforms(16)(image, mask)
    assert square_image.shape == (3, 16, 16)


def test_paired_transform_works_inside_a_dataset():
    dataset = ShapesScenes("val", length=3, transform=training_transforms(48))
    image, mask = dataset[0]
    assert image.shape == (3, 48, 48) and mask.shape == (48, 48)
    assert set(mask.unique().tolist()) <= {0, 1, 2, 3, 255}


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match="scale"):
        training_transforms(32, scale=(1.2, 0.8))
    with pytest.raises(ValueError, match="scale"):
        training_transforms(32, scale=(0.0, 1.0))
    with pytest.raises(ValueError, match="size"):
        resize_transforms(0)
    with pytest.raises(ValueError, match="same size"):
        resize_transforms(8)(torch.rand(3, 10, 10), torch.zeros(10, 12, dtype=torch.long))
    assert isinstance(training_transforms(8), PairedTransform)


def test_elastic_warp_keeps_mask_labels_and_moves_image_and_mask_together():
    image, mask = _coordinate_scene(40, 40)
    torch.manual_seed(0)
    augment = training_transforms(40, scale=(1.0, 1.0), flip=False, elastic=(30.0, 4.0))
    moved = 0
    for _ in range(10):
        out_image, out_mask = augment(image, mask)
        assert out_image.shape == (3, 40, 40) and out_mask.shape == (40, 40)
        assert set(out_mask.unique().tolist()) <= {0, 1, 3, 4, 255}  # nearest neighbour: no invented 2
        inside = (out_mask != 255) & (out_image[2] > 0.999)  # pixels drawn from inside the image
        rows = (out_image[0] * 40 - 0.5).round().long().clamp(0, 39)
        columns = (out_image[1] * 40 - 0.5).round().long().clamp(0, 39)
        expected = mask[rows, columns]  # the label of the source pixel the image says it came from
        agree = (expected == out_mask)[inside].float().mean()
        assert agree > 0.9  # image and mask moved together (bilinear vs nearest differ at block edges)
        moved += int((out_mask != mask).sum())
    assert moved > 0


def test_elastic_is_off_by_default_and_checked():
    assert "ElasticTransform" not in repr(training_transforms(32))
    assert "ElasticTransform" in repr(training_transforms(32, elastic=(10, 3)))
    for bad in [(10.0,), (-1.0, 3.0), (10.0, 0.0), ("a", 3.0), 5.0, (True, 3.0)]:
        with pytest.raises(ValueError, match="elastic must be"):
            training_transforms(32, elastic=bad)


def test_pixel_noise_is_the_generators_kind_on_the_image_only():
    """One standard deviation per call, uniform in [0, up_to]; Gaussian noise of that size; clipped; mask untouched."""
    image, mask = torch.full((1, 64, 64), 0.5), torch.randint(0, 4, (64, 64))
    noisy = WithPixelNoise(lambda image, mask: (image, mask), up_to=0.05)
    torch.manual_seed(3)
    out_image, out_mask = noisy(image, mask)
    torch.manual_seed(3)
    spread = float(torch.rand(())) * 0.05  # the same draws, by hand
    assert torch.equal(out_image, (image + spread * torch.randn_like(image)).clamp(0, 1)) and torch.equal(out_mask, mask)
    assert abs(float((out_image - 0.5).std()) - spread) < 0.1 * spread  # 4,096 pixels: the sample spread is close
    spreads = []
    for _ in range(200):
        spreads.append(float((noisy(image, mask)[0] - 0.5).std()))
    assert max(spreads) < 0.052 and min(spreads) < 0.005 and 0.02 < sum(spreads) / len(spreads) < 0.03  # uniform in [0, 0.05]
    assert torch.equal(WithPixelNoise(lambda image, mask: (image, mask), up_to=0)(image, mask)[0], image)
    bright = WithPixelNoise(lambda image, mask: (image, mask), up_to=5)(torch.ones(1, 8, 8), mask[:8, :8])[0]
    assert float(bright.min()) >= 0 and float(bright.max()) <= 1


@pytest.mark.parametrize("up_to", [-0.1, float("inf"), "0.05", True, None])
def test_pixel_noise_refuses_a_bad_size(up_to):
    with pytest.raises(ValueError, match="up_to must be a number >= 0"):
        WithPixelNoise(lambda image, mask: (image, mask), up_to=up_to)



def _stroke_pair(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A 64 x 64 mask of thin strokes (2 px wide) and an image that is the same strokes as brightness."""
    generator = torch.Generator().manual_seed(seed)
    mask = torch.zeros(64, 64, dtype=torch.long)
    for _ in range(6):
        row, column = (int(value) for value in torch.randint(4, 58, (2,), generator=generator))
        if torch.rand(1, generator=generator) < 0.5:
            mask[row:row + 2, column - 4:column + 4] = 1
        else:
            mask[row - 4:row + 4, column:column + 2] = 1
    return mask.float()[None], mask


def _centroid_offset(image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """(row, column) of the mask's stroke centroid minus the image's brightness centroid, in pixels."""
    rows, columns = torch.meshgrid(torch.arange(mask.shape[0]).float(), torch.arange(mask.shape[1]).float(), indexing="ij")
    stroke, brightness = (mask == 1).float(), image[0].clamp(min=0)
    return torch.stack([(grid * stroke).sum() / stroke.sum() - (grid * brightness).sum() / brightness.sum()
                        for grid in (rows, columns)])


def test_scale_jittered_masks_stay_on_their_images_pixel_grid() -> None:
    # over random zooms the stroke centroids of mask and image agree; torchvision's own ScaleJitter
    # resizes masks with legacy nearest, about half a pixel off the image (the next test)
    torch.manual_seed(0)
    transform = training_transforms(64, scale=(0.8, 1.2), flip=False)
    offsets = [_centroid_offset(*transform(*_stroke_pair(seed))) for seed in range(40)]
    mean_offset = torch.stack(offsets).mean(0).abs()
    assert bool((mean_offset < 0.1).all()), f"mask off its image by {mean_offset.tolist()} px on average"


@pytest.mark.parametrize("size", [48, 80, 100])
def test_resized_mask_samples_the_source_pixel_under_each_pixel_centre(size: int) -> None:
    image, mask = _stroke_pair(3)
    _, resized = resize_transforms(size)(image, mask)
    for row in range(size):  # brute force: output pixel i reads source pixel floor((i + 0.5) * 64 / size)
        source_row = int((row + 0.5) * 64 / size)
        for column in range(size):
            assert resized[row, column] == mask[source_row, int((column + 0.5) * 64 / size)]


def test_torchvisions_legacy_nearest_is_what_the_alignment_test_catches() -> None:
    torch.manual_seed(0)
    legacy = PairedTransform(v2.ScaleJitter(target_size=(64, 64), scale_range=(0.8, 1.2), antialias=True))
    offsets = [_centroid_offset(*legacy(*_stroke_pair(seed))) for seed in range(40)]
    assert float(torch.stack(offsets).mean(0).abs().max()) > 0.2


def test_aligned_resize_refuses_a_single_side() -> None:
    with pytest.raises(ValueError, match=r"\(height, width\) pair"):
        AlignedResize(64)  # torchvision's short-side rule would need the image's shape to resize a mask alone
