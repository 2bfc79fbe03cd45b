"""The training loop: one epoch of gradient descent, and :func:`fit`, which runs many.

:func:`train_one_epoch` is the whole idea in a dozen lines: for every batch, clear the old
gradients, predict, measure the loss, backpropagate and take a step. :func:`fit` orchestrates
it for the lessons: it checks the arguments, builds the optimiser, shuffles with a seed, stops on
an epoch, time or step budget, validates after every epoch (and, if asked, every few steps) and
shows progress bars.

Example:
    >>> history = fit(model, train_set, val_set, epochs=5)          # doctest: +SKIP
    >>> history.val_metrics[-1]["mean_iou"]                         # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import math
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from segedu.core.device import select_device
from segedu.core.encoding import IGNORE_INDEX
from segedu.training._checks import (
    check_logits,
    check_positive,
    check_positive_int,
    images_for_model,
    masks_for_model,
    model_device,
    resolve_num_classes,
)
from segedu.training.evaluation import evaluate
from segedu.training.losses import pixel_cross_entropy, soft_dice_loss

__all__ = ["History", "fit", "train_one_epoch"]

LossFunction = Callable[[Tensor, Tensor], Tensor]


@dataclasses.dataclass
class History:
    """What happened during :func:`fit`, one entry per epoch.

    Attributes:
        train_loss: Mean training loss over the epoch's batches.
        val_metrics: :func:`evaluate`'s dict for each epoch (empty without validation data).
        seconds: Wall-clock seconds each epoch took, validation included.
        steps: Total optimizer steps taken by the end of each epoch.
        val_curve: ``(step, metrics)`` pairs from validating every ``val_every`` steps (empty unless
            :func:`fit` was given ``val_every``); ``metrics`` is :func:`evaluate`'s dict.
        stop_reason: ``"epochs"``, ``"time_budget"``, ``"max_steps"`` or ``"interrupted"``
            (Ctrl-C: the partial epoch is recorded, without validation).
    """

    train_loss: list[float] = dataclasses.field(default_factory=list)
    val_metrics: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    seconds: list[float] = dataclasses.field(default_factory=list)
    steps: list[int] = dataclasses.field(default_factory=list)
    val_curve: list[tuple[int, dict[str, Any]]] = dataclasses.field(default_factory=list)
    stop_reason: str = ""

    @property
    def epochs(self) -> int:
        """Number of epochs run (the last one may be partial under a time or step budget)."""
        return len(self.train_loss)

    def to_dict(self) -> dict[str, Any]:
        """A deep copy as plain lists and dicts, ready for ``json.dumps``."""
        return dataclasses.asdict(self)


def train_one_epoch(
    model: nn.Module,
    loader: Iterable[tuple[Tensor, Tensor]],
    optimizer: torch.optim.Optimizer,
    loss_function: LossFunction,
    *,
    after_step: Callable[[float], bool] | None = None,
) -> list[float]:
    """One pass of mini-batch gradient descent over ``loader``.

    Args:
        model: Maps images ``(B, C, H, W)`` to logits ``(B, K, H, W)``; put in ``train()`` mode.
        loader: Batches of ``(images, masks)``; moved to the model's device here.
        optimizer: Updates the model's parameters from their gradients.
        loss_function: ``loss_function(logits, masks) -> scalar``.
        after_step: Optional ``after_step(loss) -> stop``, called after every step; returning
            ``True`` ends the epoch early (budgets, schedules, logging).

    Returns:
        The loss of every step, in order.
    """
    model.train()
    device = model_device(model)
    losses: list[float] = []
    for images, masks in loader:
        images, masks = images.to(device), masks.to(device)  # (B, C, H, W), (B, H, W)
        optimizer.zero_grad(set_to_none=True)  # forget the previous batch's gradients
        logits = model(images)  # (B, K, H, W)
        loss = loss_function(logits, masks)  # scalar
        loss.backward()  # d loss / d every parameter
        optimizer.step()  # move every parameter a little downhill
        losses.append(loss.item())
        if after_step is not None and after_step(losses[-1]):
            break
    return losses


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
    val_every: int | None = None,
    lr_factors: Mapping[str, float] | None = None,
) -> History:
    """Train ``model`` on ``(image, mask)`` pairs with :func:`train_one_epoch`, validating after every epoch.

    Say how long to train with ``epochs`` or ``time_budget_s`` (not both), optionally capped by
    ``max_steps``; ``max_steps`` alone also works and gives short, reproducible runs. Budgets
    are checked after every optimizer step, so at least one step is always taken; a run cut
    short by a budget still records (and validates) its last, partial epoch.

    Nothing is lost on Ctrl-C: the run stops, the model keeps what it learned, and the partial
    :class:`History` is returned with ``stop_reason="interrupted"``. For a model with batch
    norm, a last batch of a single image is dropped (batch norm cannot normalise one value).
    float64/float16 images are converted to the model's dtype.

    Reproducibility: ``seed`` fixes the shuffling order and reseeds PyTorch's global generator
    (for dropout and the like) at the start. Two runs with the same model weights, data and
    seed give the same losses and metrics on the same machine; ``seconds`` differ, of course. On a GPU
    this holds only with deterministic kernels (``seed_everything(seed, deterministic=True)``, which
    :func:`segedu.training.recipes.train_recipe` asks for there).

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
        val_every: Also score ``val_data`` after every this many optimizer steps, inside epochs too, into
            ``History.val_curve`` (a validation curve for runs of one long epoch). Validating does not
            change the training: the same seed gives the same weights with or without it.
        lr_factors: Optional ``{submodule name: factor}``: that submodule's parameters train at ``factor`` times
            the learning rate, all along the schedule (e.g. ``{"score_pool3": 1 / 40}``); the rest at ``lr``.

    Returns:
        The :class:`History` of the run.

    Raises:
        ValueError: On inconsistent arguments or a model whose output does not fit the masks.
        FloatingPointError: If the loss becomes NaN or infinite (usually: lower ``lr``).

    Shape:
        - model input: ``(B, C, H, W)``; model output: ``(B, num_classes, H, W)``.
    """
    _check_stopping(epochs, time_budget_s, max_steps)
    check_positive("lr", lr)
    check_positive_int("batch_size", batch_size)
    if val_every is not None:
        check_positive_int("val_every", val_every)
        if val_data is None:
            raise ValueError(f"val_every={val_every} needs val_data to score; pass val_data or drop val_every")
    num_classes = resolve_num_classes(num_classes, train_data, val_data)
    loss_function = _checked_loss(_resolve_loss(loss, ignore_index), num_classes)
    if len(train_data) == 0:
        raise ValueError("train_data is empty; fit needs at least one (image, mask) pair")
    model.to(select_device(device))
    gradient_descent = _make_optimizer(optimizer, model, lr, weight_decay, lr_factors)
    torch.manual_seed(seed)
    loader = _make_loader(train_data, batch_size, seed, model)
    schedule = _make_scheduler(lr_schedule, gradient_descent, epochs, len(loader), max_steps)
    run = _Run(schedule, lr=lr, max_steps=max_steps, time_budget_s=time_budget_s)
    history = History()
    if val_every is not None:
        run.every_steps = val_every
        run.on_every_steps = lambda step: history.val_curve.append(
            (step, evaluate(model, val_data, num_classes=num_classes, batch_size=batch_size, ignore_index=ignore_index))
        )

    with tqdm(total=epochs, desc="fit", unit="epoch", disable=not progress) as epoch_bar:
        while not history.stop_reason:
            run.start_epoch()
            # tqdm.auto wraps the loader itself: it opens (and drops) one iterator, which draws from the
            # shuffling generator; the shuffles, and so every run, stay those of earlier segedu versions.
            bar = tqdm(loader, desc=f"epoch {history.epochs + 1}", leave=False, disable=not progress)
            try:
                batches = _checked_batches(bar, model)
                train_one_epoch(model, batches, gradient_descent, loss_function, after_step=run.after_step)
            except KeyboardInterrupt:
                run.stop_reason = "interrupted"
                warnings.warn(f"training interrupted after {run.steps} steps; returning the partial history")
            except ValueError as error:
                raise _explain_batch_norm_error(error, batch_size) from None
            _record_epoch(history, run, model, val_data, num_classes, batch_size, ignore_index)
            epoch_bar.update(1)
            epoch_bar.set_postfix(run.postfix)
            if not history.stop_reason and epochs is not None and history.epochs >= epochs:
                history.stop_reason = "epochs"
    return history


# --------------------------------------------------------------------------- fit's helpers


class _Run:
    """Step count, clock and per-epoch losses of one :func:`fit` run; ``after_step`` enforces budgets."""

    def __init__(
        self, schedule: torch.optim.lr_scheduler.LRScheduler, *, lr: float, max_steps: int | None,
        time_budget_s: float | None,
    ) -> None:
        self.schedule, self.lr = schedule, lr
        self.max_steps, self.time_budget_s = max_steps, time_budget_s
        self.started = time.perf_counter()
        self.steps = 0
        self.stop_reason = ""
        self.epoch_started = self.started
        self.epoch_losses: list[float] = []
        self.postfix: dict[str, str] = {}
        self.every_steps: int | None = None
        self.on_every_steps: Callable[[int], None] | None = None

    def start_epoch(self) -> None:
        self.epoch_started = time.perf_counter()
        self.epoch_losses = []

    def after_step(self, loss: float) -> bool:
        """Advance the schedule, refuse a non-finite loss, and say whether a budget ran out."""
        self.schedule.step()
        self.steps += 1
        self.epoch_losses.append(loss)
        if not math.isfinite(loss):
            raise FloatingPointError(
                f"the training loss became {loss} at step {self.steps}; "
                f"try a smaller learning rate than lr={self.lr}"
            )
        if self.on_every_steps is not None and self.every_steps and self.steps % self.every_steps == 0:
            self.on_every_steps(self.steps)
        if self.max_steps is not None and self.steps >= self.max_steps:
            self.stop_reason = "max_steps"
        elif self.time_budget_s is not None and time.perf_counter() - self.started >= self.time_budget_s:
            self.stop_reason = "time_budget"
        return bool(self.stop_reason)  # mid-epoch: the partial epoch is still recorded


def _record_epoch(
    history: History, run: _Run, model: nn.Module, val_data: Dataset | None, num_classes: int,
    batch_size: int, ignore_index: int | None,
) -> None:
    """Append the epoch's mean loss, step count, validation metrics and time to ``history``."""
    history.stop_reason = run.stop_reason
    if not run.epoch_losses:
        return  # interrupted before the epoch's first step
    history.train_loss.append(float(np.mean(run.epoch_losses)))
    history.steps.append(run.steps)
    run.postfix = {"loss": f"{history.train_loss[-1]:.4f}"}
    if val_data is not None and run.stop_reason != "interrupted":
        metrics = evaluate(model, val_data, num_classes=num_classes, batch_size=batch_size, ignore_index=ignore_index)
        history.val_metrics.append(metrics)
        run.postfix["val_mIoU"] = f"{metrics['mean_iou']:.3f}"
    history.seconds.append(time.perf_counter() - run.epoch_started)


def _checked_batches(loader: Iterable[tuple[Tensor, Tensor]], model: nn.Module) -> Iterator[tuple[Tensor, Tensor]]:
    """The loader's batches, checked and converted to the model's device and float dtype."""
    for images, masks in loader:
        images = images_for_model(images, model)  # (B, C, H, W)
        yield images, masks_for_model(masks, images.device)  # (B, H, W) int64


def _checked_loss(loss_function: LossFunction, num_classes: int) -> LossFunction:
    """``loss_function`` preceded by a check that the logits fit the masks and ``num_classes``."""

    def checked(logits: Tensor, masks: Tensor) -> Tensor:
        check_logits(logits, masks, num_classes)
        return loss_function(logits, masks)

    return checked


def _make_loader(train_data: Dataset, batch_size: int, seed: int, model: nn.Module) -> DataLoader:
    """Shuffled batches; for a model with batch norm, a last batch of one image is dropped."""
    has_batch_norm = any(isinstance(module, nn.modules.batchnorm._BatchNorm) for module in model.modules())
    lone_last_image = len(train_data) > batch_size and len(train_data) % batch_size == 1
    return DataLoader(
        train_data, batch_size=batch_size, shuffle=True, generator=torch.Generator().manual_seed(seed),
        num_workers=0, drop_last=has_batch_norm and lone_last_image,
    )


def _explain_batch_norm_error(error: ValueError, batch_size: int) -> ValueError:
    """Turn batch norm's "Expected more than 1 value per channel" into a message with the fix."""
    if "Expected more than 1 value per channel" not in str(error):
        return error
    return ValueError(
        f"batch norm cannot train on a batch of one image when a feature map shrinks to 1x1 "
        f"(batch_size={batch_size}); use batch_size >= 2 and at least 2 training images"
    )


def _check_stopping(epochs: int | None, time_budget_s: float | None, max_steps: int | None) -> None:
    if epochs is not None and time_budget_s is not None:
        raise ValueError(
            "pass either epochs or time_budget_s, not both (add max_steps to cap either one)"
        )
    if epochs is None and time_budget_s is None and max_steps is None:
        raise ValueError("say how long to train: pass epochs=..., time_budget_s=... or max_steps=...")
    if epochs is not None:
        check_positive_int("epochs", epochs)
    if time_budget_s is not None:
        check_positive("time_budget_s", time_budget_s)
    if max_steps is not None:
        check_positive_int("max_steps", max_steps)


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


def _make_optimizer(
    name: str, model: nn.Module, lr: float, weight_decay: float, lr_factors: Mapping[str, float] | None = None
) -> torch.optim.Optimizer:
    parameters = [parameter for parameter in model.parameters() if parameter.requires_grad]
    if not parameters:
        raise ValueError("the model has no trainable parameters (all have requires_grad=False)")
    groups: list[dict[str, Any]] = [{"params": parameters}]
    if lr_factors:
        groups = _factor_groups(model, parameters, lr, lr_factors)
    if name == "adam":
        return torch.optim.Adam(groups, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(groups, lr=lr, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=0.9, weight_decay=weight_decay)
    raise ValueError(f"optimizer must be 'adam', 'adamw' or 'sgd'; got {name!r}")


def _factor_groups(
    model: nn.Module, parameters: list[nn.Parameter], lr: float, lr_factors: Mapping[str, float]
) -> list[dict[str, Any]]:
    """Parameter groups for ``lr_factors``: each named submodule's trainable parameters at its factor times ``lr``."""
    names = dict(model.named_modules())
    scaled: dict[int, float] = {}
    for module_name, factor in lr_factors.items():
        if not module_name or module_name not in names:
            raise ValueError(f"lr_factors names {module_name!r}, which is not a submodule of the model; "
                             f"use a name from model.named_modules(), e.g. {next((name for name in names if name), 'conv1')!r}")
        if isinstance(factor, bool) or not (isinstance(factor, (int, float)) and math.isfinite(factor) and factor > 0):
            raise ValueError(f"lr_factors[{module_name!r}] must be a positive number; got {factor!r}")
        for parameter in names[module_name].parameters():
            if id(parameter) in scaled:
                raise ValueError(f"lr_factors gives {module_name!r} a factor while a submodule or parent named there "
                                 "already has one; name each parameter's module once")
            scaled[id(parameter)] = float(factor)
    plain = [parameter for parameter in parameters if id(parameter) not in scaled]
    groups = [{"params": plain}] if plain else []
    for factor in dict.fromkeys(scaled.values()):
        groups.append({"params": [parameter for parameter in parameters if scaled.get(id(parameter)) == factor],
                       "lr": lr * factor})
    return [group for group in groups if group["params"]]


def _make_scheduler(
    name: str, optimizer: torch.optim.Optimizer, epochs: int | None, steps_per_epoch: int, max_steps: int | None
) -> torch.optim.lr_scheduler.LRScheduler:
    """A per-step learning-rate schedule: constant, or cosine decay to 0 over the whole run."""
    if name == "constant":
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    if name != "cosine":
        raise ValueError(f"lr_schedule must be 'constant' or 'cosine'; got {name!r}")
    planned = [count for count in (max_steps, None if epochs is None else epochs * steps_per_epoch) if count]
    if not planned:
        raise ValueError("lr_schedule='cosine' needs max_steps or epochs to know how long the run is")
    total = min(planned)
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: 0.5 * (1.0 + math.cos(math.pi * min(step, total) / total))
    )
