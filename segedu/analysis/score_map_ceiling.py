"""How good can any network be whose last step upsamples a coarse score map? (lessons 08 and 16)

FCN-32s predicts a score map 32 times smaller than the image and upsamples it with one
transposed convolution. However good its encoder, its output can only be what that upsampling
makes of *some* coarse map. This module measures that ceiling: instead of asking an encoder for
the coarse scores, it fits them directly to the true masks (one free coarse map per scene), and
scores the result.

What the number means, exactly. The fit minimises the pixel-wise cross-entropy, which is convex
in the coarse scores when the upsampling is fixed, so a long enough fit reaches the
cross-entropy optimum over all coarse maps: no encoder can give a lower loss on these masks
through this layer. The mean IoU of that optimum's arg-max is the reference the lesson calls the
ceiling; it is not a strict bound on mean IoU: a map with a worse loss can score a higher mean IoU
(on thin digit strokes, shifting the fitted map's foreground scores by a constant raised it by 0.08). With ``learn_upsampling=True`` the upsampling weights are
fitted to the same masks too, which measures memorisation, not a ceiling (see the lesson).

With a fixed upsampling layer the map from coarse scores to logits is linear, so it is computed
once as a matrix (:func:`impulse_responses`: the "stamps" of every coarse cell) and the fit is a
matrix product per step, fast enough for L-BFGS to converge in seconds.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from segedu.core.encoding import IGNORE_INDEX
from segedu.training.losses import pixel_cross_entropy
from segedu.training.metrics import confusion_matrix, mean_iou

__all__ = ["Ceiling", "CurvePoint", "impulse_responses", "score_map_ceiling"]


@dataclass(frozen=True)
class CurvePoint:
    """The fit after ``step`` optimiser steps: its mean cross-entropy and its mean IoU."""

    step: int
    loss: float
    mean_iou: float


@dataclass(frozen=True)
class Ceiling:
    """The best an upsampled coarse score map can do on some masks.

    Attributes:
        predictions: Class of every pixel from the fitted coarse maps, ``(N, H, W)``.
        coarse_scores: The fitted coarse maps, ``(N, K, h, w)``.
        loss: Final mean cross-entropy of the fitted maps.
        mean_iou: Mean IoU of ``predictions`` against the masks (one confusion matrix over all N).
        curve: The fit at the steps asked for in ``record_at`` (empty if none), then at the end
            (L-BFGS stops early once converged: its last point is then the step it stopped at).
        upsample: The upsampling layer used: a fitted copy with ``learn_upsampling=True``, else an
            unchanged copy of the one passed in.
    """

    predictions: Tensor
    coarse_scores: Tensor
    loss: float
    mean_iou: float
    curve: tuple[CurvePoint, ...] = ()
    upsample: nn.Module | None = None


@torch.no_grad()
def impulse_responses(
    upsample: nn.Module, num_classes: int, coarse_size: tuple[int, int], size: tuple[int, int]
) -> Tensor:
    """What ``upsample`` draws for a single 1 in one coarse cell of one class: its "stamps".

    Every output of a bias-free upsampling layer is a sum of these stamps weighted by the coarse
    scores, so they span everything the layer can draw.

    Args:
        upsample: A linear layer without bias from ``(N, K, h, w)`` to ``(N, K, >= H, >= W)``;
            its output is cropped to the top-left ``H x W`` as FCN does.
        num_classes: ``K``.
        coarse_size: ``(h, w)`` of the coarse map.
        size: ``(H, W)`` of the output.

    Returns:
        ``stamps[c, i, j, k]``: the ``(H, W)`` logit image of output class ``k`` when the coarse
        score of class ``c`` at cell ``(i, j)`` is 1 and every other score is 0.

    Raises:
        ValueError: If ``upsample`` gives a non-zero output for zero scores (it has a bias).

    Shape:
        Returns ``(K, h, w, K, H, W)``.
    """
    height, width = size
    coarse_height, coarse_width = coarse_size
    parameter = next(iter(upsample.parameters()), None)
    dtype = parameter.dtype if parameter is not None else torch.float32
    zero = upsample(torch.zeros(1, num_classes, coarse_height, coarse_width, dtype=dtype))
    if bool(zero.abs().max() > 0):
        raise ValueError("upsample must be linear without bias: it maps zero scores to a non-zero output")
    cells = coarse_height * coarse_width
    stamps = []
    for source_class in range(num_classes):
        impulses = torch.zeros(cells, num_classes, cells, dtype=dtype)  # (h*w, K, h*w)
        impulses[torch.arange(cells), source_class, torch.arange(cells)] = 1.0
        impulses = impulses.view(cells, num_classes, coarse_height, coarse_width)  # one 1 per impulse
        drawn = upsample(impulses)[..., :height, :width]  # (h*w, K, H, W)
        stamps.append(drawn.reshape(coarse_height, coarse_width, num_classes, height, width))
    return torch.stack(stamps)  # (K, h, w, K, H, W)


def _linear_upsampler(stamps: Tensor):
    """``scores (N, K, h, w) -> logits (N, K, H, W)`` as matrix products with the stamps.

    Uses one ``(h*w, H*W)`` matrix per class when classes do not mix (every bilinear kernel),
    the full ``(K*h*w, K*H*W)`` matrix otherwise.
    """
    num_classes, coarse_height, coarse_width, _, height, width = stamps.shape
    cells, pixels = coarse_height * coarse_width, height * width
    blocks = stamps.reshape(num_classes, cells, num_classes, pixels)  # (K, h*w, K, H*W)
    diagonal = torch.arange(num_classes)
    off_diagonal = blocks.clone()
    off_diagonal[diagonal, :, diagonal] = 0
    if bool((off_diagonal == 0).all()):
        per_class = blocks[diagonal, :, diagonal]  # (K, h*w, H*W)

        def draw(scores: Tensor) -> Tensor:
            flat = scores.flatten(2)  # (N, K, h*w)
            logits = torch.einsum("nkc,kcp->nkp", flat, per_class)  # (N, K, H*W)
            return logits.view(-1, num_classes, height, width)  # (N, K, H, W)

        return draw
    matrix = blocks.reshape(num_classes * cells, num_classes * pixels)  # (K*h*w, K*H*W)

    def draw(scores: Tensor) -> Tensor:
        return (scores.flatten(1) @ matrix).view(-1, num_classes, height, width)  # (N, K, H, W)

    return draw


def score_map_ceiling(
    upsample: nn.Module,
    masks: Tensor,
    num_classes: int,
    *,
    stride: int,
    learn_upsampling: bool = False,
    steps: int = 300,
    lr: float | None = None,
    method: str = "adam",
    record_at: Sequence[int] = (),
) -> Ceiling:
    """Fit one coarse score map per mask so that ``upsample`` turns it into that mask.

    Args:
        upsample: Maps ``(N, K, h, w)`` scores to ``(N, K, >= H, >= W)`` (e.g. FCN's ``upscore32``);
            the output is cropped to the top-left ``H x W`` as FCN does. It is never modified.
        masks: True labels ``(N, H, W)``, values in ``[0, num_classes)`` or ``IGNORE_INDEX``.
        num_classes: Number of classes ``K``.
        stride: How much smaller the coarse map is: ``h = ceil(H / stride)``.
        learn_upsampling: Also fit (a copy of) the upsampling weights to these masks. With enough
            weights this memorises the masks: it measures memorisation, not a ceiling.
        steps: Optimiser steps (L-BFGS iterations for ``method="lbfgs"``).
        lr: Learning rate; default 0.1 for Adam, 1 for L-BFGS.
        method: ``"adam"`` or ``"lbfgs"`` (L-BFGS with a strong-Wolfe line search; it converges
            in far fewer steps on this convex problem; only with a fixed upsampling layer).
        record_at: Steps after which to record the loss and mean IoU in ``curve``.

    Raises:
        ValueError: For masks that are not ``(N, H, W)`` integer labels in range, a bad stride
            or method, or an upsampling layer with a bias.
    """
    if masks.ndim != 3 or masks.is_floating_point():
        raise ValueError(f"masks must be (N, H, W) integer labels; got {tuple(masks.shape)} {masks.dtype}")
    labelled = masks[masks != IGNORE_INDEX]
    if labelled.numel() and (int(labelled.min()) < 0 or int(labelled.max()) >= num_classes):
        raise ValueError(
            f"mask labels must lie in [0, {num_classes}) or be {IGNORE_INDEX}; found {int(labelled.min())}.."
            f"{int(labelled.max())}"
        )
    if stride < 1:
        raise ValueError(f"stride must be a positive int; got {stride}")
    if method not in ("adam", "lbfgs"):
        raise ValueError(f"method must be 'adam' or 'lbfgs'; got {method!r}")
    if method == "lbfgs" and learn_upsampling:
        raise ValueError("method='lbfgs' fits the scores through a fixed layer; use 'adam' with learn_upsampling")
    count, height, width = masks.shape
    coarse_size = (-(-height // stride), -(-width // stride))
    upsample = copy.deepcopy(upsample)
    for parameter in upsample.parameters():
        parameter.requires_grad_(learn_upsampling)
    if learn_upsampling:
        def draw(scores: Tensor) -> Tensor:
            return upsample(scores)[..., :height, :width]  # (N, K, H, W)
    else:
        draw = _linear_upsampler(impulse_responses(upsample, num_classes, coarse_size, (height, width)))
    scores = torch.zeros(count, num_classes, *coarse_size, requires_grad=True)  # (N, K, h, w)
    parameters = [scores, *(upsample.parameters() if learn_upsampling else [])]

    def loss_now() -> Tensor:
        return pixel_cross_entropy(draw(scores), masks)

    def measure(step: int) -> CurvePoint:
        with torch.no_grad():
            logits = draw(scores)  # (N, K, H, W)
            matrix = confusion_matrix(logits.argmax(dim=1), masks, num_classes, IGNORE_INDEX)
            return CurvePoint(step, float(pixel_cross_entropy(logits, masks)), float(mean_iou(matrix)))

    curve = []
    wanted = sorted({int(step) for step in record_at if 0 <= int(step) <= steps})
    if wanted and wanted[0] == 0:
        curve.append(measure(0))
        wanted = wanted[1:]
    done = 0
    with torch.enable_grad():
        if method == "adam":
            optimizer = torch.optim.Adam(parameters, lr=0.1 if lr is None else lr)
            for done in range(1, steps + 1):
                loss = loss_now()
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                if wanted and done == wanted[0]:
                    curve.append(measure(done))
                    wanted = wanted[1:]
        else:
            optimizer = torch.optim.LBFGS(
                parameters, lr=1.0 if lr is None else lr, max_iter=steps, history_size=50,
                line_search_fn="strong_wolfe", tolerance_grad=1e-9, tolerance_change=1e-12,
            )

            def closure() -> Tensor:
                optimizer.zero_grad(set_to_none=True)
                loss = loss_now()
                loss.backward()
                return loss

            for stop in [*wanted, steps]:  # run to each recorded step; stops early once converged
                if stop <= done:
                    continue
                optimizer.param_groups[0]["max_iter"] = stop - done
                optimizer.step(closure)
                reached = int(optimizer.state[scores].get("n_iter", done))
                if reached < stop:  # converged: no further step changes the loss
                    done = reached
                    break
                done = stop
                if wanted and done == wanted[0]:
                    curve.append(measure(done))
                    wanted = wanted[1:]
    final = measure(done)
    if not curve or curve[-1].step != done:
        curve.append(final)
    with torch.no_grad():
        predictions = draw(scores).argmax(dim=1)  # (N, H, W)
    upsample.requires_grad_(False)
    return Ceiling(predictions, scores.detach(), final.loss, final.mean_iou, tuple(curve), upsample)
