"""GAPClassifier: TinyClassifier's stages, then the mean of each channel, then one linear layer."""

import pytest
import torch

from segedu.models import TinyClassifier
from segedu.models.gap_classifier import GAPClassifier


def test_forward_is_mean_over_the_grid_then_linear() -> None:
    torch.manual_seed(0)
    model = GAPClassifier(3, 5, base_channels=4).eval()
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        last = model.stage_outputs(x)[-1]  # (2, 16, 4, 4)
        expected = last.mean(dim=(2, 3)) @ model.classifier.weight.T + model.classifier.bias
        torch.testing.assert_close(model(x), expected)
    assert last.shape == (2, 16, 4, 4)


def test_stages_match_tiny_classifier_and_any_size_is_accepted() -> None:
    gap = GAPClassifier(3, 3, base_channels=4)
    tiny = TinyClassifier(3, 3, base_channels=4, image_size=32)
    stage_keys = {key for key in tiny.state_dict() if key.startswith("stage")}
    assert stage_keys == {key for key in gap.state_dict() if key.startswith("stage")}
    assert gap(torch.rand(1, 3, 48, 40)).shape == (1, 3)
    # The head has (16 + 1) x 3 parameters: one weight per channel mean, whatever the image size.
    assert sum(p.numel() for p in gap.classifier.parameters()) == 17 * 3


def test_shift_of_a_whole_cell_moves_the_grid_not_the_scores() -> None:
    # With circular padding, a shift by 8 pixels (one cell after three pools) shifts the final grid
    # by one cell, and the mean over the grid, hence the scores, does not change at all.
    torch.manual_seed(0)
    model = GAPClassifier(1, 2, base_channels=2).eval()
    for module in model.modules():
        if isinstance(module, torch.nn.Conv2d):
            module.padding_mode = "circular"
    x = torch.rand(1, 1, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(model(torch.roll(x, 8, dims=3)), model(x))


def test_too_small_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="halves the resolution 3 times"):
        GAPClassifier(3, 3, base_channels=4)(torch.rand(1, 3, 4, 4))
