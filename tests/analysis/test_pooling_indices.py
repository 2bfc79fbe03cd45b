"""Pooling switches, SegNet traces and index memory, checked against loops and torch built-ins."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from segedu.models import SegNet, UNet
from segedu.analysis.pooling_indices import (
    IndexFreeUnpool,
    index_memory,
    index_memory_formula,
    random_corner_unpool,
    trace_segnet,
    window_position,
    with_unpooling,
    zero_fraction,
)
from segedu.analysis.upsampling import bed_of_nails, nearest_upsample


def test_window_position_matches_a_loop_over_windows() -> None:
    x = torch.randn(2, 3, 6, 8, generator=torch.Generator().manual_seed(0))
    _, indices = F.max_pool2d(x, 2, return_indices=True)  # (2, 3, 3, 4)
    corners = window_position(indices, width=8)
    for b in range(2):
        for c in range(3):
            for i in range(3):
                for j in range(4):
                    window = x[b, c, 2 * i : 2 * i + 2, 2 * j : 2 * j + 2].flatten()  # TL, TR, BL, BR
                    assert corners[b, c, i, j] == int(window.argmax())


def test_window_position_rejects_float_indices_and_bad_width() -> None:
    with pytest.raises(ValueError, match="integer tensor"):
        window_position(torch.zeros(2, 2), 4)
    with pytest.raises(ValueError, match="width must be a positive integer"):
        window_position(torch.zeros(2, 2, dtype=torch.long), 0)


def test_zero_fraction_counts_exact_zeros() -> None:
    x = torch.tensor([[0.0, 1.0, -2.0, 0.0], [0.0, 1e-9, 3.0, 0.0]])
    assert zero_fraction(x) == 4 / 8
    assert zero_fraction(torch.zeros(0)) == 0.0
    with pytest.raises(ValueError, match="must be a tensor"):
        zero_fraction([0.0, 1.0])  # type: ignore[arg-type]


@pytest.fixture
def small_segnet() -> SegNet:
    torch.manual_seed(0)
    return SegNet(3, 4, base_channels=8, depth=3)


def test_trace_records_every_stage_and_the_same_logits(small_segnet: SegNet) -> None:
    images = torch.rand(2, 3, 32, 40, generator=torch.Generator().manual_seed(1))
    small_segnet.train()
    trace = trace_segnet(small_segnet, images)
    assert small_segnet.training  # mode restored
    assert all(not module._forward_hooks for module in small_segnet.modules())  # hooks removed
    small_segnet.eval()
    with torch.no_grad():
        torch.testing.assert_close(trace.logits, small_segnet(images))
    for number, width in enumerate((8, 16, 32), start=1):
        name = f"stage{number}"
        height_i, width_i = 32 // 2 ** (number - 1), 40 // 2 ** (number - 1)
        assert trace.pre_pool[name].shape == (2, width, height_i, width_i)
        assert trace.indices[name].shape == (2, width, height_i // 2, width_i // 2)
        assert trace.indices[name].dtype == torch.int64
        assert trace.unpooled[name].shape == (2, width, height_i, width_i)
    assert trace.decoded["stage3"].shape == (2, 16, 8, 10)
    assert trace.decoded["stage1"].shape == (2, 8, 32, 40)


def test_deepest_unpooling_puts_the_pooled_maxima_back(small_segnet: SegNet) -> None:
    trace = trace_segnet(small_segnet, torch.rand(3, 32, 32, generator=torch.Generator().manual_seed(2)))
    pooled, indices = F.max_pool2d(trace.pre_pool["stage3"], 2, return_indices=True)
    torch.testing.assert_close(indices, trace.indices["stage3"])
    torch.testing.assert_close(trace.unpooled["stage3"], F.max_unpool2d(pooled, indices, 2))
    # Every 2x2 window of every unpooled map holds at most one nonzero value: >= 75 % zeros.
    for name, unpooled in trace.unpooled.items():
        nonzero_per_window = F.avg_pool2d((unpooled != 0).float(), 2) * 4
        assert nonzero_per_window.max() <= 1, name
        assert zero_fraction(unpooled) >= 0.75


@pytest.mark.parametrize("input_shape", [(1, 3, 32, 32), (2, 3, 30, 44), (1, 3, 8, 9)])
def test_index_memory_measured_equals_formula(small_segnet: SegNet, input_shape: tuple[int, ...]) -> None:
    measured = index_memory(small_segnet, input_shape)
    assert measured == index_memory_formula([8, 16, 32], input_shape)
    for row in measured:
        batch, channels, height, width = row.feature_shape
        assert height % 2 == 0 and width % 2 == 0  # padded to a multiple of 2**depth
        assert row.index_bytes * 2 == row.feature_bytes  # 8 bytes per window vs 4 x 4 bytes
        assert row.two_bit_bytes * 64 == row.feature_bytes  # 2 bits per window vs 4 x 32 bits


def test_index_memory_follows_the_model_dtype(small_segnet: SegNet) -> None:
    rows = index_memory(small_segnet.double(), (1, 3, 16, 16))
    assert rows[0].feature_bytes == 8 * 16 * 16 * 8  # float64 maps, 8 bytes each
    assert rows[0].index_bytes == 8 * 8 * 8 * 8  # indices stay int64


def test_other_models_and_bad_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="must be a segedu.models.SegNet; got UNet"):
        index_memory(UNet(3, 2, base_channels=4), (1, 3, 32, 32))
    with pytest.raises(ValueError, match=r"input_shape must be \(B, C_in, H, W\)"):
        index_memory_formula([8], (3, 32, 32))


@pytest.mark.parametrize("input_shape", [(1, 3, 360, 480), (2, 3, 45, 61), (1, 3, 8, 8)])
def test_ceil_mode_formula_follows_max_pool_with_partial_windows(input_shape: tuple[int, ...]) -> None:
    widths = [2, 3, 4]
    rows = index_memory_formula(widths, input_shape, ceil_mode=True)
    features = torch.zeros(input_shape[0], 1, *input_shape[2:])
    for row, width in zip(rows, widths):
        assert row.feature_shape == (input_shape[0], width, *features.shape[2:])
        features, indices = F.max_pool2d(features, 2, ceil_mode=True, return_indices=True)
        assert row.index_bytes == indices.numel() * width * 8
        assert row.feature_bytes == input_shape[0] * width * row.feature_shape[2] * row.feature_shape[3] * 4
    padded = index_memory_formula(widths, input_shape)
    assert sum(row.index_bytes for row in rows) <= sum(row.index_bytes for row in padded)


def test_with_unpooling_swaps_only_the_unpooling(small_segnet: SegNet) -> None:
    images = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(3))
    small_segnet.eval()
    same = with_unpooling(small_segnet, "indices")
    assert same is not small_segnet
    with torch.no_grad():
        torch.testing.assert_close(same(images), small_segnet(images))
    for rule, reference in (("top_left", bed_of_nails), ("nearest", nearest_upsample)):
        changed = with_unpooling(small_segnet, rule)
        assert isinstance(small_segnet.decoder["stage1"].unpool, torch.nn.MaxUnpool2d)  # original untouched
        unpool = changed.decoder["stage2"].unpool
        assert isinstance(unpool, IndexFreeUnpool) and rule in repr(unpool)
        x = torch.randn(2, 4, 3, 5)
        _, indices = F.max_pool2d(torch.randn(2, 4, 6, 10), 2, return_indices=True)
        torch.testing.assert_close(unpool(x, indices), reference(x, 2))
        with torch.no_grad():
            assert not torch.allclose(changed(images), small_segnet(images))
    assert zero_fraction(IndexFreeUnpool("top_left")(torch.ones(1, 1, 2, 2), None)) == 0.75


def test_spread_keeps_each_channel_mean_of_max_unpooling() -> None:
    values, indices = F.max_pool2d(torch.randn(2, 4, 6, 10, generator=torch.Generator().manual_seed(5)), 2,
                                   return_indices=True)  # (2, 4, 3, 5)
    unpooled = F.max_unpool2d(values, indices, 2)  # (2, 4, 6, 10)
    spread = IndexFreeUnpool("spread")(values, indices)
    nearest = IndexFreeUnpool("nearest")(values, indices)
    torch.testing.assert_close(spread.mean(dim=(2, 3)), unpooled.mean(dim=(2, 3)))
    torch.testing.assert_close(nearest.mean(dim=(2, 3)), 4 * unpooled.mean(dim=(2, 3)))
    for row in range(6):  # every output pixel holds a quarter of its window's value
        for column in range(10):
            torch.testing.assert_close(spread[:, :, row, column], values[:, :, row // 2, column // 2] / 4)


def test_with_unpooling_rejects_unknown_rules_and_models(small_segnet: SegNet) -> None:
    with pytest.raises(ValueError, match="rule must be one of"):
        with_unpooling(small_segnet, "bilinear")
    with pytest.raises(ValueError, match="rule must be one of"):
        IndexFreeUnpool("indices")
    with pytest.raises(ValueError, match="must be a segedu.models.SegNet"):
        with_unpooling(UNet(3, 2, base_channels=4), "top_left")


def test_with_unpooling_can_change_one_stage(small_segnet: SegNet) -> None:
    changed = with_unpooling(small_segnet, "top_left", stages=["stage1"])
    assert isinstance(changed.decoder["stage1"].unpool, IndexFreeUnpool)
    assert isinstance(changed.decoder["stage2"].unpool, torch.nn.MaxUnpool2d)
    with pytest.raises(ValueError, match="stages must be among"):
        with_unpooling(small_segnet, "top_left", stages=["stage9"])


def test_random_corner_unpool_keeps_every_value_once_in_its_own_window() -> None:
    x = torch.randn(2, 3, 4, 5, generator=torch.Generator().manual_seed(0))
    out = random_corner_unpool(x, seed=7)  # (2, 3, 8, 10)
    assert out.shape == (2, 3, 8, 10)
    windows = out.unfold(2, 2, 2).unfold(3, 2, 2).flatten(-2)  # (2, 3, 4, 5, 4): the four pixels of each window
    assert bool(((windows != 0).sum(dim=-1) == 1).all())  # one value per window (x has no exact zeros)
    torch.testing.assert_close(windows.sum(dim=-1), x)  # and it is the window's own value
    torch.testing.assert_close(random_corner_unpool(x, seed=7), out)  # the same seed, the same corners
    assert not torch.equal(random_corner_unpool(x, seed=8), out)


def test_random_corner_unpool_uses_every_corner() -> None:
    x = torch.ones(1, 1, 40, 40)
    _, indices = F.max_pool2d(random_corner_unpool(x, seed=0), 2, return_indices=True)
    counts = torch.bincount(window_position(indices, width=80).flatten(), minlength=4)  # (4,)
    assert int(counts.sum()) == 1600 and int(counts.min()) > 300  # about 400 each, not all top-left


def test_with_unpooling_random_corner_is_seeded_per_model(small_segnet: SegNet) -> None:
    images = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(3))
    small_segnet.eval()
    first = with_unpooling(small_segnet, "random_corner", seed=0)
    again = with_unpooling(small_segnet, "random_corner", seed=0)
    other = with_unpooling(small_segnet, "random_corner", seed=1)
    unpool = first.decoder["stage1"].unpool
    assert isinstance(unpool, IndexFreeUnpool) and "random_corner" in repr(unpool)
    with torch.no_grad():
        torch.testing.assert_close(first(images), again(images))
        assert not torch.allclose(first(images), other(images))
        assert not torch.allclose(first(images), small_segnet(images))
