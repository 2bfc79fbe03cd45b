"""Switch off one skip connection of a trained U-Net and watch the prediction degrade.

Controls pick a test scene, a decoder block (or all of them) and whether its skip is kept. With
the skip off, the decoder block receives zeros instead of the encoder's map (a forward pre-hook,
:func:`segedu.analysis.unet_anatomy.zero_skips`): same weights, same shapes, no fine detail from that
level. The panel shows the scene, the true mask, the prediction and the pixels whose label changed
compared with the intact network.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from segedu.core.encoding import to_labels
from segedu.models.unet import UNet
from segedu.analysis.hooks import recording
from segedu.analysis.unet_anatomy import skip_sources, zero_skips
from segedu.plots.masks import colorize
from segedu.widgets._toolkit import WidgetPanel, array_to_png, image_to_hwc

__all__ = ["skip_explorer"]

_CHANGED_COLOR = np.array([230, 40, 40], dtype=np.uint8)


def _predict(model: UNet, image: torch.Tensor, blocks: list[str]) -> torch.Tensor:
    """Labels ``(H, W)`` with the skips of ``blocks`` replaced by zeros."""
    with torch.no_grad(), zero_skips(model, blocks):
        return to_labels(model(image.unsqueeze(0)))[0]  # (H, W)


def skip_explorer(
    model: UNet, dataset: Any, *, index: int = 0, block: str | None = None, size: int = 192
) -> WidgetPanel:
    """Explore what each skip connection of a trained U-Net contributes to its prediction.

    Args:
        model: A trained :class:`~segedu.models.UNet` with skip connections, in eval mode.
        dataset: Scenes, ``dataset[i] -> (image (C, H, W), mask (H, W))``.
        index: Scene shown first.
        block: Decoder block shown first (``"up1"`` is the deepest; default the last one, at full
            resolution), or ``"all"``.
        size: Display size of every picture in screen pixels.

    Returns:
        A panel with the controls ``"index"``, ``"block"``, ``"skip"`` (checkbox: keep the skip),
        the images ``"image"``, ``"truth"``, ``"prediction"``, ``"changed"`` and the state
        ``index``, ``block``, ``skip_kept``, ``source`` (the encoder block that feeds the skip),
        ``skip_shape`` (per image, ``(C, H, W)``), ``accuracy_intact`` and ``accuracy`` (pixel
        accuracy without and with the change) and ``changed_fraction`` (pixels whose label changed).
    """
    import ipywidgets as widgets

    if not isinstance(model, UNet) or not all(getattr(model, name).skip_connection for name in skip_sources(model)):
        raise ValueError("model must be a segedu.models.UNet built with skip_connections=True")
    if not 0 <= index < len(dataset):
        raise ValueError(f"index must be in [0, {len(dataset)}); got {index}")
    sources = skip_sources(model)
    blocks = [*sources, "all"]
    block = list(sources)[-1] if block is None else block
    if block not in blocks:
        raise ValueError(f"block must be one of {blocks}; got {block!r}")
    scene_slider = widgets.IntSlider(value=index, min=0, max=len(dataset) - 1, description="scene")
    block_menu = widgets.Dropdown(
        options=[(f"{name} (skip from {sources[name]})" if name in sources else "all skips", name) for name in blocks],
        value=block,
        description="decoder",
    )
    skip_box = widgets.Checkbox(value=True, description="keep the skip")
    names = ("image", "truth", "prediction", "changed")
    views = {name: widgets.Image(format="png") for name in names}
    titles = {"image": "scene", "truth": "true mask", "prediction": "prediction", "changed": "changed pixels (red)"}
    columns = [widgets.VBox([widgets.Label(titles[name]), views[name]]) for name in names]
    caption = widgets.Label()
    panel = WidgetPanel(
        widgets.VBox([widgets.HBox([scene_slider, block_menu, skip_box]), widgets.HBox(columns), caption]),
        {"index": scene_slider, "block": block_menu, "skip": skip_box},
        views,
    )
    skip_shapes: dict[str, tuple[int, ...]] = {}
    intact: dict[int, torch.Tensor] = {}  # the unchanged prediction of the scene shown

    def record_skip_shapes(image: torch.Tensor) -> None:
        with recording(model, list(sources), inputs=True) as received:  # upK receives (x, skip)
            intact[scene_slider.value] = _predict(model, image, [])
        skip_shapes.update({name: tuple(received[name][1].shape[1:]) for name in sources})

    def show() -> None:
        image, mask = dataset[scene_slider.value]
        if scene_slider.value not in intact:
            intact.clear()
            record_skip_shapes(image)
        reference = intact[scene_slider.value]  # (H, W)
        chosen = list(sources) if block_menu.value == "all" else [block_menu.value]
        prediction = reference if skip_box.value else _predict(model, image, chosen)  # (H, W)
        changed = (prediction != reference).numpy()  # (H, W) bool
        changed_picture = np.where(changed[..., None], _CHANGED_COLOR, np.uint8(40))  # (H, W, 3)
        scale = max(1, size // max(mask.shape))
        views["image"].value = array_to_png(image_to_hwc(image), scale=scale)
        views["truth"].value = array_to_png(colorize(mask), scale=scale)
        views["prediction"].value = array_to_png(colorize(prediction), scale=scale)
        views["changed"].value = array_to_png(changed_picture.astype(np.uint8), scale=scale)
        valid = mask != 255
        state = {
            "index": scene_slider.value,
            "block": block_menu.value,
            "skip_kept": skip_box.value,
            "source": "all" if block_menu.value == "all" else sources[block_menu.value],
            "skip_shape": None if block_menu.value == "all" else skip_shapes[block_menu.value],
            "accuracy_intact": float((reference == mask)[valid].float().mean()),
            "accuracy": float((prediction == mask)[valid].float().mean()),
            "changed_fraction": float(changed.mean()),
        }
        what = "all skips" if block_menu.value == "all" else f"the skip into {block_menu.value} ({state['source']})"
        caption.value = (
            f"{what} {'kept' if skip_box.value else 'replaced by zeros'}: pixel accuracy "
            f"{state['accuracy']:.1%} (intact {state['accuracy_intact']:.1%}), "
            f"{state['changed_fraction']:.1%} of the pixels changed"
        )
        panel.state.update(state)

    show()
    for control in (scene_slider, block_menu, skip_box):
        control.observe(lambda change: show(), names="value")
    return panel
