"""segedu.training.class_balance against counts done by hand and loops."""

from __future__ import annotations

import pytest
import torch

from segedu.core.encoding import IGNORE_INDEX
from segedu.training.class_balance import class_pixel_counts, inverse_frequency_weights, median_frequency_weights
from segedu.training.losses import pixel_cross_entropy


def _masks() -> torch.Tensor:
    first = torch.zeros(4, 4, dtype=torch.int64)
    first[0, :2] = 1  # 2 pixels of class 1
    second = torch.zeros(4, 4, dtype=torch.int64)
    second[1:3, 1:3] = 2  # 4 pixels of class 2
    second[3, 3] = 1  # 1 pixel of class 1
    third = torch.zeros(4, 4, dtype=torch.int64)
    return torch.stack([first, second, third])  # class 0: 14 + 11 + 16 = 41 pixels


def test_counts_by_hand():
    class_pixels, present = class_pixel_counts(_masks(), 4)
    assert class_pixels.tolist() == [41.0, 3.0, 4.0, 0.0]
    assert present.tolist() == [48.0, 32.0, 16.0, 0.0]  # class 1 in images 1 and 2, class 2 in image 2


def test_inverse_frequency_gives_every_present_class_the_same_total_weight():
    masks = _masks()
    weights = inverse_frequency_weights(masks, 4)
    class_pixels, _ = class_pixel_counts(masks, 4)
    totals = weights.double() * class_pixels
    assert torch.allclose(totals[:3], totals[0].expand(3), rtol=1e-5)
    assert weights[3] == 0  # absent class
    assert float((weights.double() * class_pixels).sum() / class_pixels.sum()) == pytest.approx(1.0, rel=1e-5)


def test_median_frequency_by_hand():
    weights = median_frequency_weights(_masks(), 4)
    frequencies = torch.tensor([41 / 48, 3 / 32, 4 / 16])  # freq(c) over images where c is present
    median = frequencies.median()  # 0.25 (class 2)
    assert torch.allclose(weights[:3], (median / frequencies).float())
    assert weights[2] == pytest.approx(1.0) and weights[3] == 0


def test_median_equals_inverse_up_to_scale_when_every_class_is_in_every_image():
    masks = torch.tensor([[[0, 0, 1, 2]], [[0, 1, 1, 2]]])  # every class present in both images
    inverse, median = inverse_frequency_weights(masks, 3), median_frequency_weights(masks, 3)
    assert torch.allclose(inverse / inverse[0], median / median[0])
    logits = torch.randn(2, 3, 1, 4)
    assert torch.allclose(pixel_cross_entropy(logits, masks, class_weights=inverse),
                          pixel_cross_entropy(logits, masks, class_weights=median), atol=1e-6)


def test_ignored_pixels_are_not_counted():
    masks = _masks()
    masks[2, 0, 0] = IGNORE_INDEX
    class_pixels, present = class_pixel_counts(masks, 4)
    assert class_pixels[0] == 40 and present[0] == 47


@pytest.mark.parametrize("bad", [torch.zeros(4, 4, dtype=torch.int64), torch.zeros(1, 4, 4)])
def test_bad_masks_are_refused(bad):
    with pytest.raises(ValueError, match="masks"):
        class_pixel_counts(bad, 2)


def test_labels_out_of_range_and_empty_masks_are_refused():
    with pytest.raises(ValueError):
        inverse_frequency_weights(torch.full((1, 2, 2), 5), 3)
    with pytest.raises(ValueError, match="no labelled pixel"):
        median_frequency_weights(torch.full((1, 2, 2), IGNORE_INDEX), 3)
