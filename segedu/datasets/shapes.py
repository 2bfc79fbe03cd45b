"""ShapesScenes: procedural scenes of circles, squares and triangles on a cluttered background.

Each scene is drawn with numpy from nothing but ``(seed, split, index)``, so the dataset needs
no files and every sample is the same on every machine. What makes it a real segmentation
problem rather than a colour lookup:

* the class depends on the *shape* only: colours are drawn from the same distribution for
  every class;
* the background is cluttered (colour gradient, thin lines, noise) and the clutter is *not*
  a class;
* objects have random sizes, positions and rotations, a class may appear several times, and
  later objects hide parts of earlier ones (the masks show only what is visible).

Example:
    >>> scenes = ShapesScenes("train")
    >>> image, mask = scenes[0]
    >>> image.shape, mask.shape
    (torch.Size([3, 64, 64]), torch.Size([64, 64]))
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch.utils.data import Dataset

from segedu.datasets._common import (
    PairTransform,
    check_index,
    check_int,
    check_split,
    check_transform,
    contrasting_color,
    luminance,
    to_tensors,
)

__all__ = ["SHAPE_CLASS_NAMES", "ShapesScenes", "render_shapes_scene"]

SHAPE_CLASS_NAMES = ("background", "circle", "square", "triangle")
_DEFAULT_LENGTHS = {"train": 2000, "val": 200, "test": 200}
_CIRCLE, _SQUARE, _TRIANGLE = 1, 2, 3


def _shape_pixels(
    class_index: int, dx: np.ndarray, dy: np.ndarray, radius: float, angle: float
) -> np.ndarray:
    """Boolean (H, W) mask of one shape; all shapes of the same ``radius`` have equal area.

    ``dx``, ``dy`` are pixel offsets from the shape's centre, ``radius`` is the radius of the
    circle with the same area (so size gives no hint about the class).
    """
    if class_index == _CIRCLE:
        return dx * dx + dy * dy <= radius * radius
    if class_index == _SQUARE:
        half_side = radius * math.sqrt(math.pi) / 2  # side^2 = pi * radius^2
        u = math.cos(angle) * dx + math.sin(angle) * dy  # rotated coordinates
        v = -math.sin(angle) * dx + math.cos(angle) * dy
        return np.maximum(np.abs(u), np.abs(v)) <= half_side
    # Equilateral triangle = intersection of three half-planes, 120 degrees apart.
    circumradius = radius * math.sqrt(4 * math.pi / (3 * math.sqrt(3)))
    inside = np.ones(dx.shape, dtype=bool)
    for corner in range(3):
        normal = angle + corner * 2 * math.pi / 3
        inside &= math.cos(normal) * dx + math.sin(normal) * dy <= circumradius / 2
    return inside


def _draw_background(rng: np.random.Generator, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Colour gradient plus a few thin straight lines: clutter that belongs to class 0."""
    size = ys.shape[0]
    base = rng.uniform(0.2, 0.8, size=3).astype(np.float32)
    direction = rng.uniform(0.0, 2 * math.pi)
    ramp = (math.cos(direction) * xs + math.sin(direction) * ys) / size - 0.5  # (H, W)
    slope = rng.uniform(-0.4, 0.4, size=3).astype(np.float32)
    canvas = base + ramp[:, :, None] * slope  # (H, W, 3)
    for _ in range(rng.integers(1, 5)):
        point_y, point_x = rng.uniform(0, size, size=2)
        line_angle = rng.uniform(0.0, math.pi)
        distance = np.abs(math.sin(line_angle) * (xs - point_x) - math.cos(line_angle) * (ys - point_y))
        canvas[distance < 0.6] = rng.uniform(0.0, 1.0, size=3)
    return canvas


def render_shapes_scene(
    rng: np.random.Generator, size: int, min_objects: int, max_objects: int
) -> dict:
    """Draw one RGB scene; the building block of :class:`ShapesScenes`.

    Returns:
        dict with ``image`` (H, W, 3) float32 in [0, 1], ``mask`` and ``instances`` (H, W)
        int64, and ``objects``: one dict per drawn object (class, colour, geometry, full and
        visible pixel counts, instance id or 0 when fully hidden).
    """
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5  # pixel centres, (H, W) each
    canvas = _draw_background(rng, ys, xs)
    mask = np.zeros((size, size), dtype=np.int64)
    instances = np.zeros((size, size), dtype=np.int64)
    objects = []
    for number in range(1, rng.integers(min_objects, max_objects + 1) + 1):
        class_index = int(rng.integers(1, len(SHAPE_CLASS_NAMES)))
        radius = float(rng.uniform(0.08, 0.18) * size)
        center_y, center_x = rng.uniform(0.12, 0.88, size=2) * size
        angle = float(rng.uniform(0.0, 2 * math.pi))
        inside = _shape_pixels(class_index, xs - center_x, ys - center_y, radius, angle)
        behind = canvas[inside].mean(axis=0) if inside.any() else canvas.mean(axis=(0, 1))
        color = contrasting_color(rng, behind)
        canvas[inside] = color  # later objects paint over earlier ones ...
        mask[inside] = class_index  # ... and the labels follow what is visible
        instances[inside] = number
        objects.append(
            dict(
                class_index=class_index,
                color=tuple(float(c) for c in color),
                center=(float(center_y), float(center_x)),
                radius=radius,
                angle=angle,
                pixels=int(inside.sum()),
            )
        )
    canvas += rng.normal(0.0, rng.uniform(0.01, 0.06), size=canvas.shape).astype(np.float32)
    np.clip(canvas, 0.0, 1.0, out=canvas)

    # Renumber the visible objects 1..N (objects hidden completely get no id).
    visible_counts = np.bincount(instances.ravel(), minlength=len(objects) + 1)
    new_ids = np.zeros(len(objects) + 1, dtype=np.int64)
    visible = np.flatnonzero(visible_counts[1:]) + 1
    new_ids[visible] = np.arange(1, len(visible) + 1)
    for number, description in enumerate(objects, start=1):
        description["visible_pixels"] = int(visible_counts[number])
        description["instance_id"] = int(new_ids[number])
    return dict(image=canvas, mask=mask, instances=new_ids[instances], objects=objects)


class ShapesScenes(Dataset):
    """Procedural scenes with classes background (0), circle (1), square (2), triangle (3).

    Args:
        split: "train", "val" or "test"; each split draws from its own random stream.
        length: Number of scenes (default: 2000 for train, 200 for val and test).
        size: Height and width in pixels (at least 16).
        channels: 3 for RGB, 1 for grayscale (the luminance of the RGB scene).
        seed: Changes every scene; sample ``i`` is a pure function of (seed, split, i).
        min_objects: Fewest objects drawn per scene (at least 1).
        max_objects: Most objects drawn per scene.
        transform: Optional paired transform ``(image, mask) -> (image, mask)`` applied by
            ``__getitem__`` (see :mod:`segedu.datasets.transforms`).

    Shape:
        ``dataset[i]`` -> image (C, H, W) float32 in [0, 1], mask (H, W) int64.
    """

    num_classes = len(SHAPE_CLASS_NAMES)
    class_names = SHAPE_CLASS_NAMES

    def __init__(
        self,
        split: str = "train",
        length: int | None = None,
        *,
        size: int = 64,
        channels: int = 3,
        seed: int = 0,
        min_objects: int = 2,
        max_objects: int = 5,
        transform: PairTransform | None = None,
    ) -> None:
        self.split_id = check_split(split)
        length = _DEFAULT_LENGTHS[split] if length is None else check_int(length, "length", minimum=1)
        size = check_int(size, "size", minimum=16, rule="pixels")
        channels = check_int(channels, "channels", minimum=1, rule="(1 grayscale, 3 RGB)")
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 (grayscale) or 3 (RGB); got {channels}")
        min_objects = check_int(min_objects, "min_objects", minimum=1)
        max_objects = check_int(max_objects, "max_objects", minimum=1)
        if min_objects > max_objects:
            raise ValueError(
                f"need 1 <= min_objects <= max_objects; got min_objects={min_objects}, "
                f"max_objects={max_objects}"
            )
        seed = check_int(seed, "seed", minimum=0)
        check_transform(transform)
        self.split, self.length, self.size, self.channels, self.seed = split, length, size, channels, seed
        self.min_objects, self.max_objects = min_objects, max_objects
        self.transform = transform

    def __len__(self) -> int:
        return self.length

    def sample(self, index: int) -> dict:
        """Return one scene with its instance map and object list (``transform`` not applied).

        Returns:
            dict with ``image`` (C, H, W) float32, ``mask`` (H, W) int64, ``instances``
            (H, W) int64 (0 = background, 1..N = visible objects) and ``objects`` (list of
            dicts describing every drawn object, see :func:`render_shapes_scene`).
        """
        index = check_index(index, self.length)
        rng = np.random.default_rng([self.seed, self.split_id, index])
        scene = render_shapes_scene(rng, self.size, self.min_objects, self.max_objects)
        pixels = scene["image"] if self.channels == 3 else luminance(scene["image"])
        image, mask = to_tensors(pixels, scene["mask"])
        instances = torch.from_numpy(scene["instances"])
        return dict(image=image, mask=mask, instances=instances, objects=scene["objects"])

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        scene = self.sample(index)
        image, mask = scene["image"], scene["mask"]
        if self.transform is not None:
            image, mask = self.transform(image, mask)
        return image, mask

    def __repr__(self) -> str:
        return (
            f"ShapesScenes(split={self.split!r}, length={self.length}, size={self.size}, "
            f"channels={self.channels}, seed={self.seed})"
        )
