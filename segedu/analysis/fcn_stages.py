"""FCN's decoder stages: the class scores after conv7, after adding pool4 and after adding pool3, and switching
a skip branch off (its score layer then adds zeros).

Lessons 07 and 08 read these through their explorer widget, and lesson 08 and its stored staged-training study
also directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import torch
from torch import Tensor

from segedu.analysis.hooks import recording
from segedu.models.fcn import FCN

__all__ = ["FUSED_INPUT_OF", "SKIP_BRANCHES", "fcn_score_maps", "skip_branches_off"]


# Skip branches by the pooling layer they read, with the score layer whose output is added.
SKIP_BRANCHES: dict[str, str] = {"pool4": "score_pool4", "pool3": "score_pool3"}


@contextmanager
def skip_branches_off(model: FCN, branches: Iterable[str]) -> Iterator[FCN]:
    """Inside the block, the named skip branches of ``model`` add zeros instead of their scores.

    A forward hook replaces the output of ``score_pool4`` (branch ``"pool4"``) or ``score_pool3``
    (``"pool3"``) by zeros, so the sum that follows gets only the upsampled coarser scores. The
    weights are not touched; the hooks are removed on exit.

    Args:
        model: An :class:`~segedu.models.FCN`.
        branches: Any of ``"pool4"``, ``"pool3"``; each must exist in the model's variant.

    Yields:
        The same model.
    """
    branches = tuple(branches)
    for branch in branches:
        if branch not in SKIP_BRANCHES:
            raise ValueError(f"unknown skip branch {branch!r}; choose from {list(SKIP_BRANCHES)}")
        if not hasattr(model, SKIP_BRANCHES[branch]):
            raise ValueError(f"FCN-{model.variant} has no {branch} branch")
    handles = [getattr(model, SKIP_BRANCHES[branch]).register_forward_hook(
        lambda module, inputs, output: torch.zeros_like(output)) for branch in branches]
    try:
        yield model
    finally:
        for handle in handles:
            handle.remove()


# Fused score maps are the inputs of the upsampler that follows each sum in FCN.forward.
FUSED_INPUT_OF: dict[str, dict[str, str]] = {
    "32s": {},
    "16s": {"fused_pool4": "upscore16"},
    "8s": {"fused_pool4": "upscore_pool4", "fused_pool3": "upscore8"},
}


@torch.no_grad()
def fcn_score_maps(model: FCN, images: Tensor, off: Iterable[str] = ()) -> dict[str, Tensor]:
    """Run an FCN once and keep the class scores of every decoder stage.

    The scores are recorded from the model's own layers (:func:`segedu.analysis.hooks.recording`):
    the output of ``score_fr`` and the inputs of the upsamplers that follow each skip sum.

    Args:
        model: An :class:`~segedu.models.FCN` of any variant (its train/eval mode is used as is).
        images: A batch of images.
        off: Skip branches (``"pool4"``, ``"pool3"``) switched off for this run
            (:func:`skip_branches_off`).

    Returns:
        ``"conv7"`` (scores of conv7, 1/32), ``"fused_pool4"`` (16s and 8s: upsampled conv7
        scores + pool4 scores, 1/16), ``"fused_pool3"`` (8s only, 1/8) and ``"final"``, which
        is ``model(images)``.

    Shape:
        images ``(B, C, H, W)`` -> maps ``(B, K, H' / s, W' / s)`` for stride ``s`` (H' = H padded to
        a multiple of 32), and ``"final"`` ``(B, K, H, W)``.
    """
    if not isinstance(model, FCN):
        raise TypeError(f"fcn_score_maps expects a segedu.models.FCN; got {type(model).__name__}")
    fused_inputs = FUSED_INPUT_OF[model.variant]
    upsamplers = list(fused_inputs.values())
    with (skip_branches_off(model, off), recording(model, ["score_fr"]) as outputs,
          recording(model, upsamplers, inputs=True) as inputs):
        final = model(images)  # (B, K, H, W)
    maps = {"conv7": outputs["score_fr"]}  # (B, K, H'/32, W'/32)
    maps.update({stage: inputs[upsampler] for stage, upsampler in fused_inputs.items()})  # 1/16, 1/8
    maps["final"] = final
    return maps
