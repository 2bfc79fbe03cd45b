"""to_picture, to_uint8 and png_bytes agree with PyTorch's own layout change and with a PNG decoder."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from segedu.plots.pictures import as_numpy, channels_last, png_bytes, to_picture, to_uint8


def _decode(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def test_channels_last_matches_permute() -> None:
    image = torch.rand(3, 5, 7)
    moved = channels_last(image)
    np.testing.assert_array_equal(moved, image.permute(1, 2, 0).numpy())
    assert moved.dtype == np.float32
    assert channels_last(torch.rand(5, 7)).shape == (5, 7, 1)
    np.testing.assert_array_equal(channels_last(image.numpy()), moved)  # arrays laid out (C, H, W) too
    with pytest.raises(ValueError, match=r"\(C, H, W\) or \(H, W\)"):
        channels_last(torch.rand(1, 3, 5, 7))


def test_to_picture_layouts_agree() -> None:
    image = torch.rand(3, 4, 6, dtype=torch.float64)
    expected = image.permute(1, 2, 0).numpy()
    np.testing.assert_array_equal(to_picture(image), expected)  # tensor: channels first
    np.testing.assert_array_equal(to_picture(expected), expected)  # array: channels last
    grey = torch.rand(1, 4, 6)
    for picture in (to_picture(grey), to_picture(grey[0]), to_picture(grey[0].numpy()), to_picture(grey.numpy()[0])):
        assert picture.shape == (4, 6, 3)
        for channel in range(3):
            np.testing.assert_array_equal(picture[:, :, channel], grey[0].numpy())


def test_to_picture_scales_uint8_and_keeps_float32() -> None:
    as_bytes = np.random.default_rng(0).integers(0, 256, size=(4, 6, 3), dtype=np.uint8)
    np.testing.assert_allclose(to_picture(as_bytes), as_bytes / 255.0, rtol=0, atol=0)
    assert to_picture(as_bytes).dtype == np.float64
    assert to_picture(torch.rand(3, 2, 2)).dtype == np.float32
    image = torch.rand(3, 2, 2)
    before = image.clone()
    picture = to_picture(image)
    picture[:] = 0.5  # a new array: the tensor is not touched
    assert torch.equal(image, before)


def test_to_picture_refuses_or_clips_values_outside_0_1() -> None:
    image = torch.linspace(-1.0, 2.0, 12).reshape(1, 3, 4)
    with pytest.raises(ValueError, match=r"\[0, 1\].*clip=True"):
        to_picture(image)
    clipped = to_picture(image, clip=True)
    np.testing.assert_array_equal(clipped[:, :, 0], image[0].clamp(0, 1).numpy())


@pytest.mark.parametrize(
    "image, words",
    [
        (torch.rand(2, 4, 4), "C = 1 or 3"),
        (torch.rand(1, 3, 4, 4), "C = 1 or 3"),
        (np.zeros((3, 4, 4)), r"\(H, W, 3\)"),
        ([[0.0, 1.0]], "torch.Tensor or numpy.ndarray"),
    ],
)
def test_to_picture_rejects_bad_images(image, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        to_picture(image)


def test_to_uint8_rounds_like_the_brute_force_loop() -> None:
    picture = np.random.default_rng(1).uniform(-0.2, 1.2, size=(3, 5)).astype(np.float32)
    expected = np.zeros((3, 5), dtype=np.uint8)
    for row in range(3):
        for column in range(5):
            value = np.float32(min(max(float(picture[row, column]), 0.0), 1.0))
            expected[row, column] = round(float(value * np.float32(255)))  # float32 product, halves to even
    result = to_uint8(picture)
    assert result.dtype == np.uint8
    np.testing.assert_array_equal(result, expected)
    as_bytes = np.arange(6, dtype=np.uint8).reshape(2, 3)
    assert to_uint8(as_bytes) is as_bytes


def test_png_bytes_round_trips_grey_and_colour() -> None:
    colour = np.random.default_rng(2).integers(0, 256, size=(5, 7, 3), dtype=np.uint8)
    decoded = _decode(png_bytes(colour, scale=3))
    assert decoded.shape == (15, 21, 3)
    np.testing.assert_array_equal(decoded[::3, ::3], colour)
    np.testing.assert_array_equal(decoded[2::3, 2::3], colour)  # whole blocks, no smoothing
    grey = np.linspace(0.0, 1.0, 12).reshape(3, 4)
    decoded_grey = np.asarray(Image.open(io.BytesIO(png_bytes(grey, scale=1))))
    assert decoded_grey.shape == (3, 4)  # one channel stays one channel
    np.testing.assert_array_equal(decoded_grey, to_uint8(grey))
    np.testing.assert_array_equal(_decode(png_bytes(grey[:, :, None], scale=1)), _decode(png_bytes(grey, scale=1)))


@pytest.mark.parametrize("array, scale, words", [
    (np.zeros((2, 3, 4, 5)), 1, r"\(H, W\) or \(H, W, 3\)"),
    (np.zeros((4, 4, 2)), 1, r"\(H, W\) or \(H, W, 3\)"),
    (np.zeros((4, 4)), 0, "scale"),
    (np.zeros((4, 4)), 1.5, "scale"),
])
def test_png_bytes_rejects_bad_input(array: np.ndarray, scale, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        png_bytes(array, scale=scale)


def test_as_numpy_accepts_tensors_on_any_dtype() -> None:
    half = torch.rand(2, 2, dtype=torch.bfloat16)
    np.testing.assert_array_equal(as_numpy(half), half.float().numpy())
    with pytest.raises(ValueError, match="mask must be"):
        as_numpy([1, 2], "mask")
