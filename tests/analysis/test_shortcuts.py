"""shortcut_tensors measures what each family hands from encoder to decoder."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from segedu.models import FullResolutionNet, get_model
from segedu.analysis.shortcuts import shortcut_tensors


def test_fcn_adds_class_scores_from_pool4_and_pool3() -> None:
    model = get_model("fcn8s", in_channels=3, num_classes=5, base_channels=4, fc_channels=8)
    rows = shortcut_tensors(model, (2, 3, 64, 96))
    assert [(row.source, row.how, row.shape) for row in rows] == [
        ("pool4", "add", (2, 5, 4, 6)),
        ("pool3", "add", (2, 5, 8, 12)),
    ]
    assert all(row.bytes == row.values * 4 for row in rows)
    assert shortcut_tensors(get_model("fcn32s", in_channels=3, num_classes=5, base_channels=4, fc_channels=8),
                            (1, 3, 64, 64)) == []
    assert [row.source for row in shortcut_tensors(
        get_model("fcn16s", in_channels=3, num_classes=5, base_channels=4, fc_channels=8), (1, 3, 64, 64))] == ["pool4"]


def test_segnet_passes_int64_indices_like_max_pool2d() -> None:
    model = get_model("segnet", in_channels=1, num_classes=3, base_channels=4, depth=3)
    rows = shortcut_tensors(model, (1, 1, 32, 32))
    assert [row.source for row in rows] == ["stage3", "stage2", "stage1"]
    widths = {"stage1": 4, "stage2": 8, "stage3": 16}
    for row in rows:
        level = int(row.source[-1])
        side = 32 // 2**level
        _, reference = F.max_pool2d(torch.zeros(1, widths[row.source], 2 * side, 2 * side), 2, return_indices=True)
        assert row.shape == tuple(reference.shape) and row.how == "unpool"
        assert row.bytes == reference.numel() * reference.element_size() == row.values * 8


def test_unet_concatenates_whole_feature_maps() -> None:
    model = get_model("unet", in_channels=3, num_classes=2, base_channels=4)
    rows = shortcut_tensors(model, (1, 3, 32, 32))
    assert [(row.source, row.target, row.shape) for row in rows] == [
        ("down3", "up1", (1, 32, 4, 4)),
        ("down2", "up2", (1, 16, 8, 8)),
        ("down1", "up3", (1, 8, 16, 16)),
        ("inc", "up4", (1, 4, 32, 32)),
    ]
    # The same tensors, recomputed block by block as U-Net's forward pass writes them.
    with torch.no_grad():
        skip1 = model.eval().inc(torch.zeros(1, 3, 32, 32))
        skip2 = model.down1(skip1)
        skip3 = model.down2(skip2)
        skip4 = model.down3(skip3)
    assert [row.shape for row in rows] == [tuple(skip.shape) for skip in (skip4, skip3, skip2, skip1)]
    assert [row.values for row in rows] == [skip.numel() for skip in (skip4, skip3, skip2, skip1)]
    assert all(row.how == "concatenate" and row.bytes == row.values * 4 for row in rows)


def test_model_mode_is_restored_and_other_models_are_refused() -> None:
    model = get_model("unet", in_channels=3, num_classes=2, base_channels=4).train()
    shortcut_tensors(model, (1, 3, 16, 16))
    assert model.training
    with pytest.raises(ValueError, match="FCN, SegNet or UNet"):
        shortcut_tensors(FullResolutionNet(3, 2), (1, 3, 16, 16))
    with pytest.raises(ValueError, match="input_shape"):
        shortcut_tensors(model, (3, 16, 16))
