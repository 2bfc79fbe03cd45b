"""FCN's decoder stages and skip switches, checked against the decoder written out by hand."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from segedu.analysis.fcn_stages import fcn_score_maps, skip_branches_off
from segedu.models import FCN


@pytest.mark.parametrize("variant", ["32s", "16s", "8s"])
def test_score_maps_end_in_the_models_output(variant: str, small_fcn: Callable[..., FCN]) -> None:
    model = small_fcn(variant)
    images = torch.rand(2, 3, 40, 50)  # padded to 64 x 64 inside
    maps = fcn_score_maps(model, images)
    expected = {"32s": ["conv7", "final"], "16s": ["conv7", "fused_pool4", "final"],
                "8s": ["conv7", "fused_pool4", "fused_pool3", "final"]}[variant]
    assert list(maps) == expected
    strides = {"conv7": 32, "fused_pool4": 16, "fused_pool3": 8}
    for name, stride in strides.items():
        if name in maps:
            assert maps[name].shape == (2, 4, 64 // stride, 64 // stride)
    torch.testing.assert_close(maps["final"], model(images))


def test_fused_maps_are_the_sums_written_in_the_paper(small_fcn: Callable[..., FCN]) -> None:
    # Reference: FCN-8s's decoder by hand, from the encoder's pool3 and pool4 (64 x 64: no padding).
    model = small_fcn("8s")
    images = torch.rand(2, 3, 64, 64)
    maps = fcn_score_maps(model, images)
    with torch.no_grad():
        pool3 = model.stage3(model.stage2(model.stage1(images)))  # (B, 4c, 8, 8)
        pool4 = model.stage4(pool3)  # (B, 8c, 4, 4)
        conv7 = model.score_fr(model.fc7(model.fc6(model.stage5(pool4))))  # (B, K, 2, 2)
        fused_pool4 = model.upscore2(conv7) + model.score_pool4(pool4)  # (B, K, 4, 4)
        fused_pool3 = model.upscore_pool4(fused_pool4) + model.score_pool3(pool3)  # (B, K, 8, 8)
    torch.testing.assert_close(maps["conv7"], conv7)
    torch.testing.assert_close(maps["fused_pool4"], fused_pool4)
    torch.testing.assert_close(maps["fused_pool3"], fused_pool3)
    torch.testing.assert_close(maps["final"], model.upscore8(fused_pool3))


def test_score_maps_refuse_other_models() -> None:
    with pytest.raises(TypeError, match="expects a segedu.models.FCN"):
        fcn_score_maps(torch.nn.Identity(), torch.zeros(1, 3, 32, 32))


def test_switching_a_skip_branch_off_zeroes_its_scores(small_fcn: Callable[..., FCN]) -> None:
    # Reference: FCN-8s's decoder by hand with score_pool3's output replaced by zeros.
    model = small_fcn("8s")
    images = torch.rand(2, 3, 64, 64)
    maps = fcn_score_maps(model, images, off=("pool3",))
    with torch.no_grad():
        pool3 = model.stage3(model.stage2(model.stage1(images)))
        pool4 = model.stage4(pool3)
        conv7 = model.score_fr(model.fc7(model.fc6(model.stage5(pool4))))
        fused_pool4 = model.upscore2(conv7) + model.score_pool4(pool4)
        fused_pool3 = model.upscore_pool4(fused_pool4)  # + zeros
    torch.testing.assert_close(maps["fused_pool3"], fused_pool3)
    torch.testing.assert_close(maps["final"], model.upscore8(fused_pool3))
    with torch.no_grad():  # the hooks are gone afterwards
        torch.testing.assert_close(fcn_score_maps(model, images)["final"], model(images))
    with skip_branches_off(model, ["pool4", "pool3"]), torch.no_grad():
        both_off = model(images)
    with torch.no_grad():
        torch.testing.assert_close(both_off, model.upscore8(model.upscore_pool4(model.upscore2(conv7))))


def test_skip_branches_off_refuses_missing_branches(small_fcn: Callable[..., FCN]) -> None:
    with pytest.raises(ValueError, match="has no pool3 branch"):
        with skip_branches_off(small_fcn("16s"), ["pool3"]):
            pass
    with pytest.raises(ValueError, match="unknown skip branch"):
        with skip_branches_off(small_fcn("8s"), ["pool5"]):
            pass
