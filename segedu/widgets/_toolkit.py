"""The small ipywidgets toolkit every lesson widget is built on.

Every widget is built by one function that returns a :class:`WidgetPanel`: the ipywidgets
container to display plus its controls and images by name, so tests (and curious learners)
can set ``panel.controls["index"].value = 3`` and read ``panel.images["mask"].value`` without a
browser. Images are PNG bytes in ``ipywidgets.Image`` views that are updated in place, so a
change never rebuilds a figure (fast, no flicker).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["WidgetPanel", "array_to_png", "image_to_hwc"]


def array_to_png(array: np.ndarray, *, scale: int = 4) -> bytes:
    """Encode an image array as PNG bytes, enlarged by pixel repetition (no smoothing).

    Args:
        array: ``(H, W)`` grey or ``(H, W, 3)`` colour image, uint8 or float in [0, 1].
        scale: Each pixel becomes a ``scale x scale`` block so small images stay visible.

    Returns:
        The PNG file content.
    """
    from PIL import Image

    array = np.asarray(array)
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (1, 3)):
        raise ValueError(f"expected an (H, W) or (H, W, 3) image, got shape {array.shape}")
    if array.dtype != np.uint8:
        array = (np.clip(array, 0.0, 1.0) * 255).round().astype(np.uint8)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if scale > 1:
        array = array.repeat(scale, axis=0).repeat(scale, axis=1)
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


@dataclass
class WidgetPanel:
    """A displayable widget with named handles on its controls and images.

    Attributes:
        widget: The ipywidgets container; displaying the panel displays it.
        controls: Sliders, dropdowns, ... by name.
        images: ``ipywidgets.Image`` views by name (their ``.value`` is PNG bytes).
        state: Whatever the panel computed last (for tests and exercises).
    """

    widget: Any
    controls: dict[str, Any] = field(default_factory=dict)
    images: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


def image_to_hwc(image: Any) -> np.ndarray:
    """(C, H, W) tensor or array in [0, 1] -> (H, W, C) float array."""
    array = np.asarray(image, dtype=np.float32)
    return np.transpose(array, (1, 2, 0))
