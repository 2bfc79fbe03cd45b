"""FCN's decoder stages: the class scores after conv7, after adding pool4 and after adding pool3, switching
a skip branch off (its score layer then adds zeros), and re-tuning a trained FCN with one branch held off.

Lessons 07 and 08 read these through their explorer widget, and lesson 08 and its stored staged-training study also
directly; the stored re-tuning study (``experiments/fcn_retune_study.py``) is a follow-up lesson 08 points to.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import torch
from torch import Tensor
from torch.utils.data import Dataset

from segedu.analysis.hooks import recording
from segedu.models.fcn import FCN
from segedu.training.losses import pixel_cross_entropy

__all__ = [
    "FUSED_INPUT_OF",
    "SKIP_BRANCHES",
    "detached_until",
    "fcn_score_maps",
    "retune_without_branch",
    "skip_branches_off",
]


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


def detached_until(branch: torch.nn.Module, training_calls: int) -> torch.utils.hooks.RemovableHandle:
    """Detach ``branch``'s output for its first ``training_calls`` calls in training mode, then let it learn.

    A detached output sends no gradient to the branch's weights, so an optimizer skips them (their ``grad`` stays
    ``None``: no update and, for Adam, no state) until the first training call after that. Calls in ``eval()``
    mode (validation) do not count. Lesson 08's study holds a skip branch back this way.

    Args:
        branch: The module whose output is held back, e.g. an FCN's ``score_pool3``.
        training_calls: How many training-mode forward calls stay detached (0 or more).

    Returns:
        The hook's handle; ``handle.remove()`` ends it.
    """
    if training_calls < 0:
        raise ValueError(f"training_calls must be 0 or more; got {training_calls}")
    calls = 0

    def hook(module: torch.nn.Module, inputs: tuple[Tensor, ...], output: Tensor) -> Tensor:
        nonlocal calls
        if module.training:
            calls += 1
        return output.detach() if calls <= training_calls else output

    return branch.register_forward_hook(hook)


def retune_without_branch(
    model: FCN,
    branch: str | None,
    scenes: Dataset,
    *,
    steps: int,
    batch_size: int,
    lr: float,
    seed: int,
    device: str | torch.device = "cpu",
) -> tuple[FCN, list[float]]:
    """Train a copy of a trained FCN on, with one skip branch held at zero: can the rest do without it?

    The copy trains in ``train()`` mode under :func:`skip_branches_off`, so the held branch's score layer adds
    zeros and gets no gradient; it is also left out of the optimizer, so it keeps its trained weights. Every other
    layer trains: Adam, ``steps`` batches of ``batch_size`` scenes drawn without repetition in an order shuffled by
    ``seed``, the rate decaying from ``lr`` to 0 along half a cosine (as :func:`segedu.training.loop.fit`'s
    ``"cosine"`` schedule), pixel cross-entropy. One step is: set the rate, clear the gradients, forward, loss,
    backward, step. ``model`` itself is not changed.

    Args:
        model: A trained :class:`~segedu.models.FCN` (16s or 8s for a branch; any variant for ``None``).
        branch: ``"pool4"`` or ``"pool3"``, held at zero; ``None`` re-tunes with nothing held (a reference).
        scenes: ``(image, mask)`` pairs, at least ``steps * batch_size`` of them.
        steps: Optimizer steps.
        batch_size: Scenes per step.
        lr: The rate at the first step.
        seed: Shuffles the scenes (``torch.randperm`` with a generator seeded by it) and seeds torch's global
            generator (dropout, if the model has any).
        device: Where to train; the copy is returned there, in ``eval()`` mode.

    Returns:
        The re-tuned copy (use it under ``skip_branches_off(copy, [branch])`` to score it as trained) and the
        loss of every step.

    Shape:
        scenes' images ``(C, H, W)``, masks ``(H, W)``; each step's batch ``(batch_size, C, H, W)`` and
        ``(batch_size, H, W)``, logits ``(batch_size, K, H, W)``.

    Example:
        >>> retuned, losses = retune_without_branch(fcn8, "pool3", scenes, steps=200, batch_size=16,
        ...                                         lr=4.4e-4, seed=0)  # doctest: +SKIP
    """
    held = [] if branch is None else [branch]
    if not isinstance(model, FCN):
        raise TypeError(f"retune_without_branch expects a segedu.models.FCN; got {type(model).__name__}")
    if steps < 1 or batch_size < 1 or not lr > 0:
        raise ValueError(f"steps and batch_size must be >= 1 and lr > 0; got {steps}, {batch_size}, {lr}")
    if len(scenes) < steps * batch_size:
        raise ValueError(f"{steps} steps of {batch_size} scenes need {steps * batch_size} scenes; got {len(scenes)}")
    retuned = copy.deepcopy(model).to(device)  # the trained model stays as it is
    with skip_branches_off(retuned, held):  # checks the branch exists before any training
        frozen = {id(parameter) for name in held for parameter in getattr(retuned, SKIP_BRANCHES[name]).parameters()}
        trained = [parameter for parameter in retuned.parameters()
                   if parameter.requires_grad and id(parameter) not in frozen]
        optimizer = torch.optim.Adam(trained, lr=lr)
        order = torch.randperm(len(scenes), generator=torch.Generator().manual_seed(seed))  # (N,)
        torch.manual_seed(seed)
        retuned.train()
        losses = []
        for step in range(steps):
            batch = [scenes[int(index)] for index in order[step * batch_size:(step + 1) * batch_size]]
            images = torch.stack([image for image, _ in batch]).to(device)  # (B, C, H, W)
            masks = torch.stack([mask for _, mask in batch]).to(device)  # (B, H, W)
            for group in optimizer.param_groups:  # cosine decay from lr (step 0) towards 0
                group["lr"] = lr * 0.5 * (1 + math.cos(math.pi * step / steps))
            optimizer.zero_grad(set_to_none=True)
            loss = pixel_cross_entropy(retuned(images), masks)  # logits (B, K, H, W) -> scalar
            loss.backward()  # the held score layer adds zeros: no gradient reaches it
            optimizer.step()
            losses.append(loss.item())
    return retuned.eval(), losses


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
