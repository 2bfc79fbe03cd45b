"""Load the small trained checkpoints that ship with segedu.

Each checkpoint was produced by ``segedu train MODEL DATASET`` (see :mod:`segedu.training.recipes`); its
sha256, the exact settings and its test-split metrics are recorded in
``segedu/training/checkpoints/manifest.json``. Loading verifies the hash before unpickling anything and
uses ``torch.load(..., weights_only=True)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import nn

__all__ = ["available_pretrained", "pretrained", "pretrained_info"]


def _checkpoint_dir() -> Path:
    from segedu.training.recipes import CHECKPOINT_DIR

    return CHECKPOINT_DIR


def available_pretrained() -> list[str]:
    """Names ``"MODEL-DATASET"`` of the shipped checkpoints, e.g. ``"unet-shapes"``."""
    from segedu.training.recipes import read_manifest

    return sorted(read_manifest(_checkpoint_dir()))


def pretrained_info(name: str, dataset: str) -> dict[str, Any]:
    """The manifest entry of a checkpoint: settings, sha256 and test metrics.

    Raises:
        ValueError: If no checkpoint was shipped for this model and dataset.
    """
    from segedu.training.recipes import read_manifest

    key = f"{name}-{dataset}"
    manifest = read_manifest(_checkpoint_dir())
    if key not in manifest:
        raise ValueError(
            f"no shipped checkpoint for model {name!r} on dataset {dataset!r}; available: "
            f"{sorted(manifest)}. Train one with `segedu train {name} {dataset}`."
        )
    return manifest[key]


def pretrained(name: str, dataset: str) -> nn.Module:
    """Build model ``name`` and load its shipped weights for ``dataset``, in eval mode.

    Args:
        name: Registry name, e.g. ``"fcn8s"`` or ``"unet"``.
        dataset: ``"shapes"`` or ``"digits"``.

    Returns:
        The model on the CPU, in ``eval()`` mode.

    Raises:
        ValueError: If there is no such checkpoint, or its file does not match the recorded
            sha256 (corrupted or replaced): the message says how to restore it.

    Example:
        >>> model = pretrained("unet", "shapes")  # doctest: +SKIP
    """
    from segedu.models.registry import get_model
    from segedu.training.train import load_checkpoint

    info = pretrained_info(name, dataset)
    checkpoint = load_checkpoint(_checkpoint_dir() / info["file"], expected_sha256=info["sha256"])
    model = get_model(name, **info["model_kwargs"])
    model.load_state_dict(checkpoint["state_dict"])
    return model.eval()
