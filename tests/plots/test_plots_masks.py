"""Tests for segedu.plots.masks: palette, colour masks, overlays and the sample figure."""

import numpy as np
import pytest
import torch

from segedu.plots.masks import INSTANCE_COLORS, PALETTE, colorize, colorize_instances, overlay, show_samples


def test_palette_layout():
    assert PALETTE.shape == (256, 3) and PALETTE.dtype == np.uint8
    assert int(PALETTE[0].astype(int).sum()) < 100  # background is near-black
    assert len(set(PALETTE[255].tolist())) == 1 and PALETTE[255, 0] >= 128  # ignore: white/grey


def test_first_classes_are_clearly_distinct():
    colors = PALETTE[list(range(11)) + [255]].astype(int)
    distances = np.abs(colors[:, None, :] - colors[None, :, :]).sum(axis=-1)
    np.fill_diagonal(distances, 10**6)
    assert distances.min() >= 60


def test_colorize_matches_a_pixel_loop():
    rng = np.random.default_rng(0)
    mask = rng.integers(0, 12, size=(5, 7))
    mask[0, 0] = 255
    expected = np.zeros((5, 7, 3), dtype=np.uint8)
    for row in range(5):
        for column in range(7):
            expected[row, column] = PALETTE[mask[row, column]]
    np.testing.assert_array_equal(colorize(mask), expected)
    np.testing.assert_array_equal(colorize(torch.from_numpy(mask)), expected)
    assert colorize(mask).dtype == np.uint8


@pytest.mark.parametrize(
    "bad_mask, words",
    [
        (np.zeros((2, 3, 4), dtype=np.int64), "shape"),
        (np.zeros((3, 3), dtype=np.float32), "integer"),
        (np.full((3, 3), 256), "[0, 255]"),
        (np.full((3, 3), -1), "[0, 255]"),
    ],
)
def test_colorize_rejects_bad_masks(bad_mask, words):
    with pytest.raises(ValueError, match=words.replace("[", r"\[").replace("]", r"\]")):
        colorize(bad_mask)


def _scene():
    generator = torch.Generator().manual_seed(0)
    image = torch.rand(3, 6, 8, generator=generator)
    mask = torch.randint(0, 4, (6, 8), generator=generator)
    mask[0, :] = 0
    mask[1, :] = 2
    return image, mask


def test_overlay_blends_by_alpha_and_keeps_background():
    image, mask = _scene()
    pixels = image.permute(1, 2, 0).numpy().astype(np.float64)
    colors = PALETTE[mask.numpy()] / 255.0
    for alpha in (0.0, 0.3, 1.0):
        result = overlay(image, mask, alpha)
        expected = (1 - alpha) * pixels + alpha * colors
        background = mask.numpy() == 0
        expected[background] = pixels[background]
        np.testing.assert_allclose(result, expected, atol=1e-12)
    blended_everywhere = overlay(image, mask, 0.5, skip_background=False)
    np.testing.assert_allclose(blended_everywhere, 0.5 * pixels + 0.5 * colors, atol=1e-12)


def test_overlay_accepts_grayscale_and_uint8_arrays():
    image, mask = _scene()
    gray = image[:1]  # (1, H, W)
    from_tensor = overlay(gray, mask)
    from_array = overlay(gray[0].numpy(), mask.numpy())  # (H, W) array
    np.testing.assert_allclose(from_tensor, from_array, atol=1e-7)
    assert from_tensor.shape == (6, 8, 3)
    as_bytes = np.round(image.permute(1, 2, 0).numpy() * 255).astype(np.uint8)
    np.testing.assert_allclose(overlay(as_bytes, mask), overlay(as_bytes / 255.0, mask), atol=1e-12)
    result = overlay(image, mask)
    assert result.min() >= 0.0 and result.max() <= 1.0


@pytest.mark.parametrize(
    "image, mask, alpha, words",
    [
        (torch.rand(3, 4, 4), torch.zeros(4, 4, dtype=torch.long), 1.5, "alpha"),
        (torch.rand(3, 4, 4), torch.zeros(5, 4, dtype=torch.long), 0.5, "sizes differ"),
        (torch.rand(2, 4, 4), torch.zeros(4, 4, dtype=torch.long), 0.5, "C = 1 or 3"),
        (torch.rand(3, 4, 4) * 3, torch.zeros(4, 4, dtype=torch.long), 0.5, r"\[0, 1\]"),
    ],
)
def test_overlay_rejects_bad_inputs(image, mask, alpha, words):
    with pytest.raises(ValueError, match=words):
        overlay(image, mask, alpha)


class _TinyDataset:
    class_names = ("background", "a", "b", "c")

    def __getitem__(self, index):
        return _scene()


def test_show_samples_builds_one_row_per_item():
    pyplot = pytest.importorskip("matplotlib.pyplot")
    figure = show_samples(_TinyDataset(), [0, 1])
    try:
        assert len(figure.axes) == 6
        assert len(figure.legends) == 1
        assert [text.get_text() for text in figure.legends[0].get_texts()] == list(_TinyDataset.class_names)
    finally:
        pyplot.close(figure)
    with pytest.raises(ValueError, match="at least one"):
        show_samples(_TinyDataset(), [])


def test_colorize_instances_matches_a_pixel_loop():
    ids = np.random.default_rng(0).integers(0, 25, size=(5, 6))
    colors = colorize_instances(ids)
    assert colors.shape == (5, 6, 3) and colors.dtype == np.uint8
    for row in range(5):
        for column in range(6):
            value = ids[row, column]
            if value:
                assert tuple(colors[row, column]) == tuple(INSTANCE_COLORS[(value - 1) % len(INSTANCE_COLORS)])
            else:
                assert colors[row, column].astype(int).sum() < 100
    assert len({tuple(color) for color in INSTANCE_COLORS.tolist()}) == len(INSTANCE_COLORS)
    # No object colour is near the shapes' class colours (red, green, blue), so instances are not read as classes.
    distances = np.linalg.norm(INSTANCE_COLORS[:, None, :].astype(float) - PALETTE[None, 1:4, :].astype(float), axis=-1)
    assert distances.min() > 80
    between = np.linalg.norm(INSTANCE_COLORS[:, None, :].astype(float) - INSTANCE_COLORS[None].astype(float), axis=-1)
    assert between[np.triu_indices(len(INSTANCE_COLORS), 1)].min() > 40  # and from each other
    np.testing.assert_array_equal(colorize_instances(torch.from_numpy(ids)), colors)
    with pytest.raises(ValueError, match=">= 0"):
        colorize_instances(np.array([[-1, 0]]))


@pytest.mark.parametrize(
    "bad_ids, words",
    [(np.zeros((2, 2, 2), dtype=np.int64), "shape"), (np.zeros((2, 2)), "integer"), ([[1, 2]], "numpy.ndarray")],
)
def test_colorize_instances_rejects_bad_maps(bad_ids, words):
    with pytest.raises(ValueError, match=words):
        colorize_instances(bad_ids)
