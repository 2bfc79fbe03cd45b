"""Train a segmenter from scratch within a wall-clock budget: ``segedu train unet digits --minutes 3``.

The shipped recipes (:mod:`segedu.training.recipes`) count optimiser steps; this one counts seconds,
so a class can watch a U-Net learn live. What makes a CPU minute go far (each lever was measured
with and without it in one session; the numbers are in the README's "Train your own in a few minutes",
which also says how much the result still varies from seed to seed):

* **bfloat16 autocast** on CPUs that support it (AVX-512 BF16 or AMX): convolutions run in bfloat16,
  the loss and the weights stay float32. Elsewhere the recipe falls back to float32.
* **Scenes rendered once**: a pool of training scenes is drawn before the clock's first step and
  batches are sampled from it, so no Python drawing code runs inside the loop.
* **A one-cycle learning rate driven by the clock**: a linear warm-up over the first 10% of the
  budget, then half a cosine down to zero at the end, whatever the machine's speed.
* **Cross-entropy plus soft Dice, with the last layer's bias started at the log class frequencies**: with
  cross-entropy alone some seeds stalled on the digit scenes, answering "background" everywhere for the
  whole budget (the README's table: from 0.086 to 0.848 test mean IoU over three seeds depending on these two choices).
* AdamW, batch 32, all CPU cores. (Channels-last memory was slower here, so it is not used.)

Example:
    >>> run = train_within(model, scenes, seconds=180)                      # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Callable, Iterator
from time import perf_counter

import torch
from torch import Tensor, nn
from torch.utils.data import Dataset
from tqdm.auto import tqdm

from segedu.core.encoding import IGNORE_INDEX
from segedu.training.evaluation import predict
from segedu.training.losses import cross_entropy_and_dice, pixel_cross_entropy
from segedu.training.metrics import boundary_band, confusion_matrix
from segedu.training._checks import check_positive

__all__ = [
    "QuickRecipe", "QuickRun", "bfloat16_available", "one_cycle_lr", "render_pool", "score_on_pool",
    "start_at_class_frequencies", "train_on_pool", "train_within",
]


@dataclasses.dataclass(frozen=True)
class QuickRecipe:
    """The settings of a time-budgeted run.

    Attributes:
        batch_size: Images per step.
        peak_lr: AdamW's learning rate at the end of the warm-up.
        warmup_fraction: Share of the budget spent raising the learning rate from 4% of the peak.
        weight_decay: AdamW's decoupled weight decay.
        pool_size: Training scenes rendered before the first step and sampled with replacement.
        bfloat16: ``"auto"`` (use it where the CPU supports it), ``"on"`` or ``"off"``.
        loss: ``"cross_entropy+dice"`` (per-pixel cross-entropy plus soft Dice, which weighs every class
            equally however few pixels it has) or ``"cross_entropy"``.
        prior_bias: Start the bias of the model's last class-score layer at the log class frequencies of
            the pool (see :func:`start_at_class_frequencies`).
    """

    batch_size: int = 32
    peak_lr: float = 5e-3
    warmup_fraction: float = 0.1
    weight_decay: float = 1e-4
    pool_size: int = 12000
    bfloat16: str = "auto"
    loss: str = "cross_entropy+dice"
    prior_bias: bool = True


@dataclasses.dataclass
class QuickRun:
    """What a time-budgeted run did: its steps, its seconds and its loss curve.

    Attributes:
        steps: Optimiser steps taken.
        seconds: Wall-clock seconds from the first rendered scene to the last step.
        bfloat16: Whether the convolutions ran in bfloat16.
        curve: ``(seconds, steps, loss)`` every 50 steps.
    """

    steps: int = 0
    seconds: float = 0.0
    bfloat16: bool = False
    curve: list[tuple[float, int, float]] = dataclasses.field(default_factory=list)


def one_cycle_lr(progress: float, *, peak_lr: float, warmup_fraction: float = 0.1) -> float:
    """The learning rate at ``progress`` (0 at the start of the budget, 1 at its end).

    Linear from ``0.04 * peak_lr`` to ``peak_lr`` during the warm-up, then half a cosine to 0.
    """
    progress = min(max(progress, 0.0), 1.0)
    if progress < warmup_fraction:
        return peak_lr * (0.04 + 0.96 * progress / warmup_fraction)
    decay = (progress - warmup_fraction) / (1.0 - warmup_fraction)
    return peak_lr * 0.5 * (1.0 + math.cos(math.pi * decay))


def bfloat16_available() -> bool:
    """True when this CPU runs bfloat16 convolutions natively (oneDNN reports AVX-512 BF16 or AMX)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # an older torch, or a build without oneDNN
        return False


def render_pool(dataset: Dataset, size: int) -> tuple[Tensor, Tensor]:
    """Draw the first ``size`` scenes of ``dataset`` once into two tensors.

    Returns:
        Images ``(size, C, H, W)`` float32 and masks ``(size, H, W)`` int64.
    """
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"pool_size must be a positive int; got {size!r}")
    if len(dataset) < size:
        raise ValueError(f"the dataset has {len(dataset)} scenes, fewer than pool_size={size}; lower pool_size")
    image, mask = dataset[0]
    images = torch.empty((size, *image.shape), dtype=torch.float32)
    masks = torch.empty((size, *mask.shape), dtype=torch.int64)
    for index in range(size):
        images[index], masks[index] = dataset[index]
    return images, masks


def start_at_class_frequencies(model: nn.Module, masks: Tensor, class_weights: Tensor | None = None) -> bool:
    """Set the bias of ``model``'s last class-score layer so that its first answer is the class frequencies.

    Before any training the logits are then ``log(frequency)`` plus small terms, so softmax gives each
    class its share of the pixels. Without it the network's quickest way down from its first, uniform
    answer is to switch its features off and answer "background" everywhere; on the digit scenes some
    seeds never came back from there within a three-minute budget.

    With ``class_weights`` ``w`` the first answer is instead ``frequency x w`` (normalised): the constant
    answer that minimises cross-entropy weighted by ``w``, as the plain frequencies minimise plain
    cross-entropy.

    Args:
        model: A segmentation model whose last convolution with a bias outputs one channel per class.
        masks: Training masks ``(N, H, W)`` with class indices (``IGNORE_INDEX`` pixels are skipped).
        class_weights: Optional positive weight per class ``(K,)``.

    Returns:
        Whether a layer was found and changed.
    """
    layers = [module for module in model.modules()
              if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)) and module.bias is not None]
    if not layers:
        return False
    layer = layers[-1]
    labelled = masks[masks != IGNORE_INDEX]
    classes = layer.out_channels
    if labelled.numel() == 0 or int(labelled.max()) >= classes:
        return False
    counts = torch.bincount(labelled.flatten(), minlength=classes).double()
    frequencies = (counts / counts.sum()).clamp_min(1e-4)  # a class absent from the pool: rare, not impossible
    if class_weights is not None:
        weights = torch.as_tensor(class_weights, dtype=torch.float64)
        if weights.shape != (classes,) or not bool((weights > 0).all()):
            raise ValueError(f"class_weights must be {classes} positive numbers, one per class; got {class_weights!r}")
        frequencies = frequencies * weights / (frequencies * weights).sum()
    with torch.no_grad():
        layer.bias.copy_(frequencies.log().to(layer.bias.dtype))
    return True


def train_on_pool(
    model: nn.Module,
    images: Tensor,
    masks: Tensor,
    loss_function: Callable[..., Tensor],
    *,
    steps: int,
    batch_size: int,
    peak_lr: float,
    warmup_fraction: float,
    seed: int,
    curve_every: int,
    pixel_weights: Tensor | None = None,
) -> list[list[float]]:
    """Train ``model`` in place for ``steps`` steps on batches drawn with replacement from a rendered pool.

    AdamW without weight decay; the rate follows :func:`one_cycle_lr` by step; the batch indices come
    from a generator seeded with ``seed``, so two runs with one seed see the same batches. This is the
    loop of the course's stored studies that compare losses or shortcuts on equal budgets.

    Args:
        model: The network to train (left in train mode).
        images: The pool of scenes.
        masks: Their class masks.
        loss_function: ``loss(logits, masks) -> scalar``, or ``loss(logits, masks, weights) -> scalar``
            when ``pixel_weights`` is given.
        steps: Optimiser steps.
        batch_size: Scenes per step.
        peak_lr: The one-cycle schedule's peak rate.
        warmup_fraction: Share of the steps spent warming up.
        seed: Seed of the batch sampler.
        curve_every: Average the loss over this many steps for each point of the curve.
        pixel_weights: Optional loss weight per pixel of every pool scene (e.g. U-Net's weight map,
            :func:`segedu.analysis.weight_map.unet_weight_map`); the batch's rows are passed to the loss as
            ``loss_function(logits, masks[batch], pixel_weights[batch])``.

    Returns:
        ``[step, mean loss of the preceding curve_every steps]`` rows, the mean rounded to 5 decimals.

    Shape:
        - images: ``(N, C, H, W)``; masks: ``(N, H, W)``; pixel_weights: ``(N, H, W)``.
    """
    if pixel_weights is not None and (not isinstance(pixel_weights, Tensor)
                                      or pixel_weights.shape != masks.shape):
        shape = tuple(pixel_weights.shape) if isinstance(pixel_weights, Tensor) else type(pixel_weights).__name__
        raise ValueError(f"pixel_weights must be a tensor shaped like masks {tuple(masks.shape)}, one weight map "
                         f"per pool scene; got {shape}")
    optimizer = torch.optim.AdamW(model.parameters(), lr=peak_lr, weight_decay=0.0)
    sampler = torch.Generator().manual_seed(seed)
    curve: list[list[float]] = []
    window: list[float] = []
    model.train()
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = one_cycle_lr(step / steps, peak_lr=peak_lr, warmup_fraction=warmup_fraction)
        batch = torch.randint(0, len(images), (batch_size,), generator=sampler)
        optimizer.zero_grad(set_to_none=True)
        if pixel_weights is None:
            loss = loss_function(model(images[batch]), masks[batch])
        else:
            loss = loss_function(model(images[batch]), masks[batch], pixel_weights[batch])
        loss.backward()
        optimizer.step()
        window.append(loss.item())
        if (step + 1) % curve_every == 0:
            curve.append([step + 1, round(sum(window) / len(window), 5)])
            window = []
    return curve


def score_on_pool(model: nn.Module, images: Tensor, masks: Tensor, num_classes: int, *, band_width: int = 2,
                  chunk: int = 50) -> dict[str, list[list[int]]]:
    """Confusion matrices of ``model`` on a pool of test scenes, over all pixels and in the boundary band.

    The stored studies keep these matrices so that a lesson can recompute any IoU from them.

    Args:
        model: The trained network (evaluated in ``eval()`` mode, its mode restored).
        images: The test scenes.
        masks: Their class masks.
        num_classes: Classes of the masks.
        band_width: The band holds the pixels within this many pixels of a class boundary
            (:func:`segedu.training.metrics.boundary_band`).
        chunk: Scenes per forward pass.

    Returns:
        ``{"confusion": K x K, "band_confusion": K x K}`` as nested lists (row = true class, column = predicted).

    Shape:
        - images: ``(N, C, H, W)``; masks: ``(N, H, W)``.
    """
    check_positive("chunk", chunk)
    predictions = torch.cat([predict(model, images[start:start + chunk]) for start in range(0, len(images), chunk)])
    band = boundary_band(masks, band_width)  # (N, H, W) bool
    return {
        "confusion": confusion_matrix(predictions, masks, num_classes).tolist(),
        "band_confusion": confusion_matrix(predictions, masks, num_classes, valid_mask=band).tolist(),
    }


def train_within(
    model: nn.Module,
    train_data: Dataset,
    seconds: float,
    *,
    recipe: QuickRecipe = QuickRecipe(),
    seed: int = 0,
    progress: bool = True,
    observe: Callable[[float, int, nn.Module], None] | None = None,
    observe_every: float = 15.0,
) -> QuickRun:
    """Train ``model`` on ``train_data`` for ``seconds`` of wall-clock time on the CPU.

    Rendering the scene pool counts against the budget; evaluation afterwards does not, and neither
    does the time spent in ``observe`` (the clock stops while it runs).

    Args:
        model: A segmentation model on the CPU, logits ``(B, K, H, W)``.
        train_data: ``(image, mask)`` pairs, at least ``recipe.pool_size`` of them.
        seconds: The budget, > 0.
        recipe: Batch size, learning rate, pool size and precision.
        seed: Seeds the sampling order and PyTorch's generator.
        progress: Show a progress bar counting seconds.
        observe: Called as ``observe(elapsed_seconds, steps, model)`` with the model in ``eval()`` mode
            every ``observe_every`` seconds of training (e.g. to score it on validation scenes).
        observe_every: Seconds of training between two observations, > 0.

    Returns:
        The :class:`QuickRun` (the model is trained in place and left in ``train()`` mode).
    """
    check_positive("seconds", seconds)
    check_positive("observe_every", observe_every)
    if recipe.bfloat16 not in ("auto", "on", "off"):
        raise ValueError(f"bfloat16 must be 'auto', 'on' or 'off'; got {recipe.bfloat16!r}")
    if recipe.loss not in _LOSSES:
        raise ValueError(f"loss must be one of {sorted(_LOSSES)}; got {recipe.loss!r}")
    use_bfloat16 = recipe.bfloat16 == "on" or (recipe.bfloat16 == "auto" and bfloat16_available())
    run = QuickRun(bfloat16=use_bfloat16)
    clock = _Clock(seconds)
    torch.manual_seed(seed)
    images, masks = render_pool(train_data, recipe.pool_size)  # (N, C, H, W), (N, H, W)
    if recipe.prior_bias:
        start_at_class_frequencies(model, masks)
    optimizer = torch.optim.AdamW(model.parameters(), lr=recipe.peak_lr, weight_decay=recipe.weight_decay)
    sampler = torch.Generator().manual_seed(seed)
    model.train()
    next_observation = observe_every
    with tqdm(total=round(seconds), desc="train", unit="s", disable=not progress) as bar:
        for elapsed in clock.ticks(bar):
            if observe is not None and elapsed >= next_observation:
                with clock.paused():
                    model.eval()
                    observe(elapsed, run.steps, model)
                    model.train()
                next_observation += observe_every * math.ceil((elapsed - next_observation + 1e-9) / observe_every)
            for group in optimizer.param_groups:
                group["lr"] = one_cycle_lr(elapsed / seconds, peak_lr=recipe.peak_lr,
                                           warmup_fraction=recipe.warmup_fraction)
            batch = torch.randint(0, recipe.pool_size, (recipe.batch_size,), generator=sampler)
            optimizer.zero_grad(set_to_none=True)
            with _autocast(use_bfloat16):
                logits = model(images[batch])  # (B, K, H, W), bfloat16 under autocast
            loss = _LOSSES[recipe.loss](logits.float(), masks[batch])  # float32
            loss.backward()
            optimizer.step()
            run.steps += 1
            if run.steps % 50 == 0:
                run.curve.append((round(elapsed, 1), run.steps, round(loss.item(), 4)))
    run.seconds = clock.elapsed()
    return run


class _Clock:
    """Seconds of training since it was made, not counting the time spent inside :meth:`paused`."""

    def __init__(self, budget: float) -> None:
        self.budget = budget
        self.started = perf_counter()
        self.paused_for = 0.0

    def elapsed(self) -> float:
        return perf_counter() - self.started - self.paused_for

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        stopped = perf_counter()
        try:
            yield
        finally:
            self.paused_for += perf_counter() - stopped

    def ticks(self, bar: tqdm) -> Iterator[float]:
        """Yield the elapsed seconds before every step until the budget is spent (at least one step)."""
        elapsed = self.elapsed()
        while True:
            yield elapsed
            elapsed = self.elapsed()
            bar.update(min(round(elapsed), round(self.budget)) - bar.n)
            if elapsed >= self.budget:
                return


_LOSSES = {"cross_entropy": pixel_cross_entropy, "cross_entropy+dice": cross_entropy_and_dice}


def _autocast(enabled: bool) -> contextlib.AbstractContextManager:
    return torch.autocast("cpu", dtype=torch.bfloat16) if enabled else contextlib.nullcontext()
