"""The mask drawn back from a pooled grid of labels.

After ``n`` 2x2 poolings a map has one cell per ``2**n x 2**n`` patch of the image. If a cell can
say only *which class* (or *how much of each class*) covers its patch, the straightforward mask
to draw from the grid is the true mask pooled to that grid and upsampled back. Scoring that
against the truth measures what that redrawing reaches when each cell keeps only one label or the
class shares; it is not a proven optimum (the majority per cell maximises the correct pixels, not
the mean IoU, and bilinear redrawing loses to nearest on coarse grids). Nor is it a ceiling for
a network that outputs free class scores per cell (FCN-32s is one): scores upsampled bilinearly
can put a boundary between two cell centres, wherever they cross. Nor is it one for decoders that
read more than a class per cell: a cell with many channels can also say where inside the patch an
edge runs.

Example:
    >>> masks = torch.zeros(1, 8, 8, dtype=torch.long); masks[0, 2:5, 3:6] = 1
    >>> best_mask_from_grid(masks, 2, factor=4)[0, ::4, ::4]
    tensor([[0, 0],
            [0, 0]])
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from segedu.training.metrics import confusion_matrix, mean_iou

__all__ = ["UPSAMPLING_MODES", "best_mask_from_grid", "grid_ceiling_iou"]

UPSAMPLING_MODES = ("nearest", "bilinear")


def best_mask_from_grid(masks: Tensor, num_classes: int, *, factor: int, mode: str = "nearest") -> Tensor:
    """Pool the true masks to a grid ``factor`` times coarser, then draw them back at full size.

    Each cell keeps the share of its ``factor x factor`` patch that every class covers.

    - ``"nearest"``: every pixel of a patch gets the cell's most common class (ties go to the
      lower class index). For one label per cell this is the mask with the most correct pixels
      (which need not be the one with the best mean IoU).
    - ``"bilinear"``: the class shares are interpolated bilinearly between cell centres and
      every pixel takes the largest: a smooth outline drawn from the same coarse grid.

    Args:
        masks: Integer labels in ``[0, num_classes)``.
        num_classes: Number of classes.
        factor: Pooling factor, e.g. ``2**n`` after ``n`` 2x2 poolings; must divide H and W.
        mode: One of :data:`UPSAMPLING_MODES`.

    Returns:
        The redrawn masks, int64.

    Shape:
        ``(N, H, W)`` -> ``(N, H, W)``
    """
    if masks.dim() != 3 or masks.is_floating_point():
        raise ValueError(f"masks must be an integer tensor (N, H, W); got {masks.dtype} of shape {tuple(masks.shape)}")
    if int(masks.min()) < 0 or int(masks.max()) >= num_classes:
        raise ValueError(f"mask labels must be in [0, {num_classes}); found {int(masks.min())}..{int(masks.max())}")
    height, width = masks.shape[-2:]
    if factor < 1 or height % factor or width % factor:
        raise ValueError(f"factor must be >= 1 and divide the mask size {height}x{width}; got {factor}")
    if mode not in UPSAMPLING_MODES:
        raise ValueError(f"mode must be one of {UPSAMPLING_MODES}; got {mode!r}")
    one_hot = F.one_hot(masks, num_classes).permute(0, 3, 1, 2).float()  # (N, K, H, W)
    shares = F.avg_pool2d(one_hot, factor)  # (N, K, H/f, W/f): how much of each patch each class covers
    if mode == "nearest":
        drawn = F.interpolate(shares, scale_factor=factor, mode="nearest")  # (N, K, H, W): blocks
    else:
        drawn = F.interpolate(shares, scale_factor=factor, mode="bilinear", align_corners=False)  # (N, K, H, W)
    return drawn.argmax(dim=1)  # (N, H, W)


def grid_ceiling_iou(masks: Tensor, num_classes: int, *, factor: int, mode: str = "nearest") -> float:
    """Mean IoU of :func:`best_mask_from_grid` against ``masks`` (one confusion matrix for all).

    Classes absent from both are left out of the mean (their IoU is NaN).
    """
    drawn = best_mask_from_grid(masks, num_classes, factor=factor, mode=mode)  # (N, H, W)
    return mean_iou(confusion_matrix(drawn, masks, num_classes))
