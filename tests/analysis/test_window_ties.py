"""window_ties counts tied windows and top-left winners like a loop over every window."""

from __future__ import annotations

import pytest
import torch

from segedu.analysis.window_ties import encoder_window_ties, interior_windows, window_ties
from segedu.models.shortcut_variants import ShortcutNet


def test_window_ties_matches_a_loop_over_windows() -> None:
    torch.manual_seed(0)
    x = torch.relu(torch.randn(2, 3, 6, 8)).round(decimals=1)  # rounding makes ties, ReLU all-zero windows
    keep = torch.rand(2, 3, 4) < 0.7
    ties = window_ties(x, keep, noise=0.0)
    counted = tied = tied_top_left = untied = untied_top_left = 0
    for b in range(2):
        for c in range(3):
            for i in range(3):
                for j in range(4):
                    if not keep[b, i, j]:
                        continue
                    values = [float(x[b, c, 2 * i + di, 2 * j + dj]) for di in (0, 1) for dj in (0, 1)]
                    first = values.index(max(values))  # MaxPool2d reports the first maximum in scan order
                    counted += 1
                    if values.count(max(values)) > 1:
                        tied += 1
                        tied_top_left += first == 0
                    else:
                        untied += 1
                        untied_top_left += first == 0
    assert ties.windows == counted
    assert ties.tied == pytest.approx(tied / counted) and 0 < ties.tied < 1
    assert ties.tied_top_left == pytest.approx(tied_top_left / tied)
    assert ties.untied_top_left == pytest.approx(untied_top_left / untied)
    assert ties.changed == 0.0  # no noise, no change


def test_noise_moves_close_winners_and_leaves_the_random_stream_alone() -> None:
    x = torch.tensor([[[[1.0, 1.001], [0.0, 0.0]], [[1.0, 5.0], [0.0, 0.0]]]])  # (1, 2, 2, 2): close, then clear
    keep = torch.ones(1, 1, 1, dtype=torch.bool)
    torch.manual_seed(3)
    expected = torch.rand(2)
    torch.manual_seed(3)
    window_ties(x, keep, noise=0.5, seed=1)
    assert torch.equal(torch.rand(2), expected)
    clear, close = x[:, 1:], x[:, :1]  # (1, 1, 2, 2) each
    assert window_ties(clear, keep, noise=1e-3).changed == 0.0  # a winner 4 ahead stays put
    assert max(window_ties(close, keep, noise=1e-3, seed=seed).changed for seed in range(10)) == 1.0


def test_interior_windows_drop_every_window_that_touches_the_band() -> None:
    band = torch.zeros(1, 8, 8, dtype=torch.bool)
    band[0, 0, 0] = True
    kept = interior_windows(band, 1)
    assert kept.shape == (1, 4, 4) and not kept[0, 0, 0] and int(kept.sum()) == 15
    kept = interior_windows(band, 2)
    assert kept.shape == (1, 2, 2) and not kept[0, 0, 0] and int(kept.sum()) == 3


def test_encoder_window_ties_measures_every_level_and_keeps_the_mode() -> None:
    torch.manual_seed(0)
    model = ShortcutNet(3, 4, base_channels=4, depth=2, shortcut="indices").train()
    band = torch.zeros(2, 16, 16, dtype=torch.bool)
    band[:, 7:9] = True
    ties = encoder_window_ties(model, torch.rand(2, 3, 16, 16), band)
    assert list(ties) == ["level1", "level2"] and model.training
    assert all(0 <= value.tied <= 1 and value.windows > 0 for value in ties.values())
    with pytest.raises(ValueError, match="multiples of 2\\*\\*depth"):
        encoder_window_ties(model, torch.rand(1, 3, 10, 16), band[:1, :10])
