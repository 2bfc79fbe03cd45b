"""Train, evaluate and checkpoint segmentation models.

One small training loop used by every lesson: :func:`fit` runs mini-batch gradient descent on
a dataset of ``(image, mask)`` pairs and scores the model on a validation set after each epoch
with :func:`evaluate`. Checkpoints are plain ``{"state_dict", "metadata"}`` dicts, written
atomically and identified by their SHA-256 hash.

Example:
    >>> history = fit(model, train_set, val_set, epochs=5)          # doctest: +SKIP
    >>> history.val_metrics[-1]["mean_iou"]                         # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from segedu.core.device import select_device
from segedu.core.encoding import IGNORE_INDEX, to_labels
from segedu.core.seeding import seed_everything
from segedu.training.losses import pixel_cross_entropy, soft_dice_loss
from segedu.training.metrics import ConfusionMeter

__all__ = [
    "History",
    "fit",
    "evaluate",
    "predict",
    "save_checkpoint",
    "load_checkpoint",
    "file_sha256",
]

LossFunction = Callable[[Tensor, Tensor], Tensor]


# --------------------------------------------------------------------------- training


@dataclasses.dataclass
class History:
    """What happened during :func:`fit`, one entry per epoch.

    Attributes:
        train_loss: Mean training loss over the epoch's batches.
        val_metrics: :func:`evaluate`'s dict for each epoch (empty without validation data).
        seconds: Wall-clock seconds each epoch took, validation included.
        steps: Total optimizer steps taken by the end of each epoch.
        stop_reason: ``"epochs"``, ``"time_budget"`` or ``"max_steps"``.
    """

    train_loss: list[float] = dataclasses.field(default_factory=list)
    val_metrics: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    seconds: list[float] = dataclasses.field(default_factory=list)
    steps: list[int] = dataclasses.field(default_factory=list)
    stop_reason: str = ""

    @property
    def epochs(self) -> int:
        """Number of epochs run (the last one may be partial under a time or step budget)."""
        return len(self.train_loss)

    def to_dict(self) -> dict[str, Any]:
        """A deep copy as plain lists and dicts, ready for ``json.dumps``."""
        return dataclasses.asdict(self)


def fit(
    model: nn.Module,
    train_data: Dataset,
    val_data: Dataset | None = None,
    *,
    epochs: int | None = None,
    time_budget_s: float | None = None,
    max_steps: int | None = None,
    lr: float = 1e-3,
    batch_size: int = 16,
    num_classes: int | None = None,
    device: str | torch.device | None = None,
    seed: int = 0,
    progress: bool = True,
    loss: str | LossFunction = "cross_entropy",
    ignore_index: int | None = IGNORE_INDEX,
    optimizer: str = "adam",
    weight_decay: float = 0.0,
    lr_schedule: str = "constant",
) -> History:
    """Train ``model`` on ``(image, mask)`` pairs, validating after every epoch.

    Say how long to train with ``epochs`` or ``time_budget_s`` (not both), optionally capped by
    ``max_steps``; ``max_steps`` alone also works and gives short, reproducible runs. Budgets
    are checked after every optimizer step, so at least one step is always taken; a run cut
    short by a budget still records (and validates) its last, partial epoch.

    Reproducibility: ``seed`` fixes the shuffling order and reseeds PyTorch's global generator
    (for dropout and the like) at the start. Two runs with the same model weights, data and
    seed give the same losses and metrics on the same machine; ``seconds`` differ, of course.

    Args:
        model: Maps images ``(B, C, H, W)`` to logits ``(B, num_classes, H, W)``. Moved to
            ``device`` and left there.
        train_data: Dataset of ``(image, mask)`` pairs (image float ``(C, H, W)``, mask int ``(H, W)``).
        val_data: Optional dataset of the same kind, scored with :func:`evaluate` each epoch.
        epochs: Number of passes over ``train_data``.
        time_budget_s: Train for about this many wall-clock seconds instead (validation included).
        max_steps: Stop after this many optimizer steps at the latest.
        lr: Learning rate.
        batch_size: Images per step.
        num_classes: Number of classes; defaults to ``train_data.num_classes``.
        device: See :func:`select_device`; ``None`` picks the best available.
        seed: Seed for shuffling and PyTorch's global generator.
        progress: Show progress bars (tqdm; a widget in notebooks).
        loss: ``"cross_entropy"``, ``"dice"``, or a function ``loss(logits, masks) -> scalar``.
        ignore_index: Mask value to skip in the built-in losses and in the metrics.
        optimizer: ``"adam"``, ``"adamw"`` or ``"sgd"`` (momentum 0.9).
        weight_decay: L2 penalty passed to the optimizer.
        lr_schedule: ``"constant"``, or ``"cosine"``: the learning rate decays from ``lr`` to 0
            along half a cosine over the run (needs ``max_steps`` or ``epochs`` to know its length).

    Returns:
        The :class:`History` of the run.

    Raises:
        ValueError: On inconsistent arguments or a model whose output does not fit the masks.
        FloatingPointError: If the loss becomes NaN or infinite (usually: lower ``lr``).

    Shape:
        - model input: ``(B, C, H, W)``; model output: ``(B, num_classes, H, W)``.
    """
    _check_stopping(epochs, time_budget_s, max_steps)
    _check_positive("lr", lr)
    _check_positive_int("batch_size", batch_size)
    num_classes = _resolve_num_classes(num_classes, train_data, val_data)
    loss_fn = _resolve_loss(loss, ignore_index)
    if len(train_data) == 0:
        raise ValueError("train_data is empty; fit needs at least one (image, mask) pair")
    device = select_device(device)
    model.to(device)
    optim = _make_optimizer(optimizer, model, lr, weight_decay)

    torch.manual_seed(seed)
    shuffle_generator = torch.Generator().manual_seed(seed)
    loader = DataLoader(
        train_data, batch_size=batch_size, shuffle=True, generator=shuffle_generator, num_workers=0
    )
    scheduler = _make_scheduler(lr_schedule, optim, epochs, len(loader), max_steps)

    history = History()
    start = time.perf_counter()
    total_steps = 0
    with tqdm(total=epochs, desc="fit", unit="epoch", disable=not progress) as epoch_bar:
        while not history.stop_reason:
            epoch_start = time.perf_counter()
            batch_losses: list[float] = []
            model.train()
            batches = tqdm(loader, desc=f"epoch {history.epochs + 1}", leave=False, disable=not progress)
            for images, masks in batches:
                images, masks = _batch_to(images, masks, device)
                logits = model(images)  # (B, K, H, W)
                _check_logits(logits, masks, num_classes)
                batch_loss = loss_fn(logits, masks)  # scalar
                optim.zero_grad(set_to_none=True)
                batch_loss.backward()
                optim.step()
                scheduler.step()
                total_steps += 1
                batch_losses.append(batch_loss.item())
                if not np.isfinite(batch_losses[-1]):
                    raise FloatingPointError(
                        f"the training loss became {batch_losses[-1]} at step {total_steps}; "
                        f"try a smaller learning rate than lr={lr}"
                    )
                if max_steps is not None and total_steps >= max_steps:
                    history.stop_reason = "max_steps"
                elif time_budget_s is not None and time.perf_counter() - start >= time_budget_s:
                    history.stop_reason = "time_budget"
                if history.stop_reason:
                    break  # mid-epoch: the partial epoch is still recorded below

            history.train_loss.append(float(np.mean(batch_losses)))
            history.steps.append(total_steps)
            postfix = {"loss": f"{history.train_loss[-1]:.4f}"}
            if val_data is not None:
                metrics = evaluate(
                    model, val_data, num_classes=num_classes, batch_size=batch_size, ignore_index=ignore_index
                )
                history.val_metrics.append(metrics)
                postfix["val_mIoU"] = f"{metrics['mean_iou']:.3f}"
            history.seconds.append(time.perf_counter() - epoch_start)
            epoch_bar.update(1)
            epoch_bar.set_postfix(postfix)
            if not history.stop_reason and epochs is not None and history.epochs >= epochs:
                history.stop_reason = "epochs"
    return history


# --------------------------------------------------------------------------- evaluation


@torch.no_grad()
def evaluate(
    model: nn.Module,
    data: Dataset | DataLoader,
    *,
    num_classes: int | None = None,
    batch_size: int = 32,
    device: str | torch.device | None = None,
    ignore_index: int | None = IGNORE_INDEX,
    valid_mask_fn: Callable[[Tensor], Tensor] | None = None,
) -> dict[str, Any]:
    """Score ``model`` on a dataset with one confusion matrix over all its pixels.

    Args:
        model: Segmentation model; evaluated in ``eval()`` mode, its previous mode restored.
        data: Dataset of ``(image, mask)`` pairs, or a ready ``DataLoader`` of such batches.
        num_classes: Number of classes; defaults to ``data.num_classes``.
        batch_size: Images per forward pass (ignored for a ``DataLoader``).
        device: Where to run; ``None`` keeps the model where it is.
        ignore_index: Mask value to skip, or ``None``.
        valid_mask_fn: Optional ``masks -> bool mask`` choosing which pixels count, e.g.
            ``lambda masks: boundary_band(masks, 3)`` for the pixels near boundaries.

    Returns:
        Dict with ``pixel_accuracy``, ``mean_accuracy``, ``mean_iou``,
        ``frequency_weighted_iou`` and ``iou_per_class`` (see :mod:`segedu.training.metrics`).

    Shape:
        - masks given to ``valid_mask_fn`` and its result: ``(B, H, W)``.
    """
    if isinstance(data, DataLoader):
        loader = data
        num_classes = _resolve_num_classes(num_classes, data.dataset)
    else:
        num_classes = _resolve_num_classes(num_classes, data)
        _check_positive_int("batch_size", batch_size)
        loader = DataLoader(data, batch_size=batch_size, shuffle=False, num_workers=0)
    if device is not None:
        model.to(select_device(device))
    run_device = _model_device(model)
    meter = ConfusionMeter(num_classes, ignore_index)
    was_training = model.training
    model.eval()
    try:
        for images, masks in loader:
            images, masks = _batch_to(images, masks, run_device)
            logits = model(images)  # (B, K, H, W)
            _check_logits(logits, masks, num_classes)
            valid_mask = None if valid_mask_fn is None else valid_mask_fn(masks)  # (B, H, W) bool
            meter.update(to_labels(logits), masks, valid_mask)
    finally:
        model.train(was_training)
    return meter.compute()


@torch.no_grad()
def predict(model: nn.Module, images: Tensor) -> Tensor:
    """Predicted class of every pixel, computed in ``eval()`` mode on the model's device.

    Args:
        model: Segmentation model; its previous train/eval mode is restored.
        images: One image or a batch, float in ``[0, 1]``.

    Returns:
        int64 labels on the CPU.

    Shape:
        - images: ``(B, C, H, W)`` or ``(C, H, W)``.
        - output: ``(B, H, W)`` or ``(H, W)``.
    """
    if not isinstance(images, Tensor) or images.ndim not in (3, 4):
        shape = tuple(images.shape) if isinstance(images, Tensor) else type(images).__name__
        raise ValueError(f"images must be a tensor of shape (B, C, H, W) or (C, H, W); got {shape}")
    batch = images if images.ndim == 4 else images.unsqueeze(0)  # (B, C, H, W)
    was_training = model.training
    model.eval()
    try:
        logits = model(batch.to(_model_device(model)))  # (B, K, H, W)
    finally:
        model.train(was_training)
    labels = to_labels(logits).cpu()  # (B, H, W)
    return labels if images.ndim == 4 else labels[0]


# --------------------------------------------------------------------------- checkpoints


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes as 64 hex digits, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_checkpoint(
    model: nn.Module, path: str | os.PathLike, *, metadata: dict[str, Any], half_precision: bool = False
) -> str:
    """Save ``{"state_dict", "metadata"}`` to ``path`` atomically and return its SHA-256.

    The file is first written to a temporary file in the same folder, flushed to disk, and
    then renamed over ``path`` in one step (``os.replace``). A crash mid-way therefore never
    leaves a half-written ``path``: readers see the old file or the new one.

    Args:
        model: The model whose ``state_dict`` (moved to the CPU) is saved.
        path: Target file, conventionally ending in ``.pt``; missing folders are created.
        metadata: JSON-compatible dict (str keys; str, numbers, bools, None, lists, dicts),
            e.g. the model name, its arguments, the dataset and the final metrics.
        half_precision: Store floating-point tensors as float16 (half the file size);
            ``load_state_dict`` casts them back to the model's float32.

    Returns:
        The SHA-256 hex digest of the written file.
    """
    if not isinstance(metadata, dict):
        raise ValueError(f"metadata must be a dict; got {type(metadata).__name__}")
    try:
        json.dumps(metadata)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"metadata must be JSON-compatible (it is loaded with weights_only=True): {error}"
        ) from error
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state_dict = {name: tensor.detach().cpu() for name, tensor in model.state_dict().items()}
    if half_precision:
        state_dict = {
            name: tensor.half() if tensor.is_floating_point() else tensor for name, tensor in state_dict.items()
        }
    payload = {"state_dict": state_dict, "metadata": metadata}
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as file:
            torch.save(payload, file)
            file.flush()
            os.fsync(file.fileno())  # the bytes are on disk before the rename makes them visible
        digest = file_sha256(temporary)
        os.replace(temporary, path)  # atomic on POSIX and Windows
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return digest


def load_checkpoint(path: str | os.PathLike, *, expected_sha256: str | None = None) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`, verifying its hash first.

    Only tensors and plain containers are unpickled (``weights_only=True``), onto the CPU.
    A truncated or garbled file is refused, but a flipped byte inside the tensor data can
    load silently with wrong weights: pass the hash that :func:`save_checkpoint` returned
    (or a manifest lists) as ``expected_sha256`` to rule that out.

    Args:
        path: The ``.pt`` file.
        expected_sha256: If given, the file's SHA-256 must match before anything is loaded.

    Returns:
        ``{"state_dict": ..., "metadata": ...}``; use ``model.load_state_dict(c["state_dict"])``.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ValueError: On a hash mismatch, or a truncated, corrupt or foreign file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    fix = f"delete {path} and save or download it again"
    if expected_sha256 is not None:
        found = file_sha256(path)
        if found != expected_sha256.strip().lower():
            raise ValueError(
                f"checkpoint {path} has sha256 {found} but {expected_sha256} was expected; "
                f"the file is incomplete, corrupt or a different version: {fix}"
            )
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # a damaged file can fail in many ways inside the unpickler
        if "weights only load failed" in str(error).lower():
            reason = "it is corrupt or holds Python objects other than tensors and plain containers"
        else:
            reason = f"it is truncated or corrupt ({type(error).__name__})"
        raise ValueError(f"cannot read checkpoint {path}: {reason}; {fix}") from None
    if not isinstance(checkpoint, dict) or set(checkpoint) != {"state_dict", "metadata"}:
        raise ValueError(
            f"{path} is not a segedu checkpoint: expected a dict with keys 'state_dict' and "
            "'metadata' (as written by segedu.training.train.save_checkpoint)"
        )
    return checkpoint


# --------------------------------------------------------------------------- helpers


def _check_stopping(epochs: int | None, time_budget_s: float | None, max_steps: int | None) -> None:
    if epochs is not None and time_budget_s is not None:
        raise ValueError(
            "pass either epochs or time_budget_s, not both (add max_steps to cap either one)"
        )
    if epochs is None and time_budget_s is None and max_steps is None:
        raise ValueError("say how long to train: pass epochs=..., time_budget_s=... or max_steps=...")
    if epochs is not None:
        _check_positive_int("epochs", epochs)
    if time_budget_s is not None:
        _check_positive("time_budget_s", time_budget_s)
    if max_steps is not None:
        _check_positive_int("max_steps", max_steps)


def _check_positive(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{name} must be a positive number; got {value!r}")


def _check_positive_int(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int; got {value!r}")


def _resolve_num_classes(num_classes: int | None, *datasets: Any) -> int:
    """``num_classes`` if given, else the datasets' ``.num_classes``; they must agree."""
    found = set()
    for data in datasets:
        while not hasattr(data, "num_classes") and hasattr(data, "dataset"):
            data = data.dataset  # look inside wrappers such as torch.utils.data.Subset
        if hasattr(data, "num_classes"):
            found.add(data.num_classes)
    if num_classes is None:
        if not found:
            raise ValueError(
                "num_classes is needed: the dataset has no .num_classes attribute, so pass num_classes=..."
            )
        if len(found) > 1:
            raise ValueError(f"the datasets disagree on num_classes ({sorted(found)}); pass num_classes=...")
        num_classes = found.pop()
    elif found and found != {num_classes}:
        raise ValueError(f"num_classes={num_classes} but the dataset says num_classes={sorted(found)[0]}")
    _check_positive_int("num_classes", num_classes)
    return num_classes


def _resolve_loss(loss: str | LossFunction, ignore_index: int | None) -> LossFunction:
    if loss == "cross_entropy":
        return lambda logits, masks: pixel_cross_entropy(logits, masks, ignore_index=ignore_index)
    if loss == "dice":
        return lambda logits, masks: soft_dice_loss(logits, masks, ignore_index=ignore_index)
    if callable(loss):
        return loss
    raise ValueError(
        f"loss must be 'cross_entropy', 'dice' or a function (logits, masks) -> scalar; got {loss!r}"
    )


def _make_optimizer(name: str, model: nn.Module, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    parameters = [parameter for parameter in model.parameters() if parameter.requires_grad]
    if not parameters:
        raise ValueError("the model has no trainable parameters (all have requires_grad=False)")
    if name == "adam":
        return torch.optim.Adam(parameters, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(parameters, lr=lr, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(parameters, lr=lr, momentum=0.9, weight_decay=weight_decay)
    raise ValueError(f"optimizer must be 'adam', 'adamw' or 'sgd'; got {name!r}")


def _make_scheduler(
    name: str, optim: torch.optim.Optimizer, epochs: int | None, steps_per_epoch: int, max_steps: int | None
) -> torch.optim.lr_scheduler.LRScheduler:
    """A per-step learning-rate schedule: constant, or cosine decay to 0 over the whole run."""
    if name == "constant":
        return torch.optim.lr_scheduler.LambdaLR(optim, lambda step: 1.0)
    if name != "cosine":
        raise ValueError(f"lr_schedule must be 'constant' or 'cosine'; got {name!r}")
    planned = [count for count in (max_steps, None if epochs is None else epochs * steps_per_epoch) if count]
    if not planned:
        raise ValueError("lr_schedule='cosine' needs max_steps or epochs to know how long the run is")
    total = min(planned)
    return torch.optim.lr_scheduler.LambdaLR(
        optim, lambda step: 0.5 * (1.0 + math.cos(math.pi * min(step, total) / total))
    )


def _model_device(model: nn.Module) -> torch.device:
    """The device of the model's first parameter or buffer (CPU for a model with neither)."""
    first = next(itertools.chain(model.parameters(), model.buffers()), None)
    return torch.device("cpu") if first is None else first.device


def _batch_to(images: Tensor, masks: Tensor, device: torch.device) -> tuple[Tensor, Tensor]:
    """Check a batch from the loader and move it to ``device``."""
    if not images.is_floating_point():
        raise ValueError(
            f"images must be float tensors in [0, 1]; got dtype {images.dtype} (use image.float() / 255)"
        )
    if masks.is_floating_point():
        raise ValueError(f"masks must be integer tensors of class indices; got dtype {masks.dtype}")
    return images.to(device), masks.to(device, dtype=torch.long)


def _check_logits(logits: Any, masks: Tensor, num_classes: int) -> None:
    """The model's output must be logits ``(B, num_classes, H, W)`` matching the masks."""
    if isinstance(logits, dict):
        raise ValueError(
            f"the model returned a dict with keys {list(logits)}; segedu expects the logits tensor "
            "itself (for torchvision's segmentation models, wrap them to return model(x)['out'])"
        )
    if not isinstance(logits, Tensor) or logits.ndim != 4:
        what = tuple(logits.shape) if isinstance(logits, Tensor) else type(logits).__name__
        raise ValueError(f"the model must return logits of shape (B, K, H, W); got {what}")
    if logits.shape[1] != num_classes:
        raise ValueError(
            f"the model outputs {logits.shape[1]} channels but num_classes={num_classes}; "
            f"build the model with num_classes={num_classes}"
        )
    if logits.shape[-2:] != masks.shape[-2:]:
        raise ValueError(
            f"the model's output is {tuple(logits.shape[-2:])} pixels but the masks are "
            f"{tuple(masks.shape[-2:])}; upsample the logits to the input size"
        )
