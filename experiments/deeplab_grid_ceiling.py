"""Lesson 17's grid reference: how well can an 8 x 8 score map, through DeepLabv3's one bilinear x8 step, draw the
test masks?

The shipped DeepLabv3 makes its scores on an 8 x 8 map (output stride 8 on a 64 x 64 scene) and brings them to
full size with one fixed bilinear step (``F.interpolate(..., mode="bilinear", align_corners=False)``). Whatever its
backbone, its prediction is the arg-max of what that step makes of *some* 8 x 8 map. This script looks for good
maps directly, with no network: for each of the 200 test masks of both datasets (shapes and digits) it

1. fits one free 8 x 8 map per scene to the mask through that bilinear step, by L-BFGS on the mean pixel
   cross-entropy (:func:`segedu.analysis.score_map_ceiling.score_map_ceiling`; convex in the scores, so the fit
   nears the cross-entropy optimum over all 8 x 8 maps), and
2. adds one constant logit offset per foreground class to every fitted map (background's stays 0) and keeps the
   offsets with the best mean IoU over the 200 scenes: first one shared offset for all foreground classes, on a
   grid, then one sweep of per-class changes around it. A cross-entropy optimum under-predicts thin foreground,
   and a constant offset on the 8 x 8 map is the same constant after the bilinear step, so the offset maps are
   8 x 8 maps through the same step too.

Both are scored over all pixels and in lesson 11's boundary band (pixels within 2 pixels of a class boundary),
with the share of foreground pixels (shapes; digit strokes) predicted as some foreground class. Step 2's score is
what the best map *found* reaches: a lower bound on what an 8 x 8 map plus one bilinear step allows, not the
bound itself; its offsets are chosen on the same 200 masks it is scored on (as the maps are: there is nothing to
generalise, the question is what the grid can draw). The record also keeps one digit scene's fitted map with
its offsets, so the lesson can draw it.

    python -m experiments.deeplab_grid_ceiling --output segedu/course/experiment_results --overwrite
    # 2.3 CPU-minutes on one thread (5.5 minutes of wall time on a busy 2-core machine)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from segedu.analysis.score_map_ceiling import score_map_ceiling
from segedu.core.encoding import IGNORE_INDEX
from segedu.course.experiments import check_record_target, save_experiment
from segedu.training.metrics import boundary_band, confusion_matrix, mean_iou
from segedu.training.recipes import offline_dataset

NAME = "deeplab_grid_ceiling"
DATASETS = ("shapes", "digits")
SETTINGS = {
    "masks": "offline_dataset(dataset, 'test'): the 200 test scenes of each dataset, 64 x 64",
    "scenes": 200,
    "coarse_map": "8 x 8 (output stride 8), one free map per scene, zero start",
    "upsampling": "F.interpolate(scores, scale_factor=8, mode='bilinear', align_corners=False), as DeepLabV3.forward",
    "fit": "L-BFGS (strong Wolfe, history 50) on mean pixel cross-entropy; stops when converged or after max_steps",
    "max_steps": 300,
    "record_at": [10, 50, 100, 200, 300],
    "offsets": "one logit offset per foreground class (background 0), added to every fitted map, chosen for the "
               "best mean IoU over all pixels of the scenes: shared offset on shared_grid, then one sweep of "
               "per-class changes on class_steps",
    "shared_grid": [-2.0, 8.0, 0.05],
    "class_steps": [-1.0, 1.0, 0.125],
    "band_width": 2,
    "shown_scene": {"dataset": "digits", "index": 0},
    "threads": 1,
}


class DeepLabUpsample(nn.Module):
    """DeepLabv3's last step: scores ``(N, K, h, w)`` -> ``(N, K, 8h, 8w)``, bilinear, ``align_corners=False``."""

    def forward(self, scores: Tensor) -> Tensor:
        height, width = scores.shape[-2:]
        return F.interpolate(scores, size=(8 * height, 8 * width), mode="bilinear", align_corners=False)


def _grid(start: float, stop: float, step: float) -> Tensor:
    return torch.arange(round((stop - start) / step) + 1, dtype=torch.float64) * step + start


def scores(predictions: Tensor, masks: Tensor, num_classes: int, where: Tensor | None = None) -> dict:
    """Mean IoU and the share of foreground pixels predicted as some foreground class, optionally in ``where``."""
    target = masks if where is None else torch.where(where, masks, torch.full_like(masks, IGNORE_INDEX))
    matrix = confusion_matrix(predictions, target, num_classes, IGNORE_INDEX)  # (K, K) rows: true class
    found = float(matrix[1:, 1:].sum() / matrix[1:, :].sum())
    return {"mean_iou": round(float(mean_iou(matrix)), 6), "foreground_found": round(found, 6)}


def best_offsets(logits: Tensor, masks: Tensor, num_classes: int) -> tuple[Tensor, float]:
    """The per-class logit offsets (background 0) with the best mean IoU found, and that mean IoU.

    Args:
        logits: ``(N, K, H, W)`` upsampled scores.
        masks: ``(N, H, W)`` true labels.
        num_classes: ``K``.

    Returns:
        ``(offsets (K,), mean IoU)``: a shared foreground offset on ``SETTINGS["shared_grid"]``, then one sweep
        of per-class changes on ``SETTINGS["class_steps"]`` (a change is kept only when it raises the score).
    """

    def score(offsets: Tensor) -> float:
        shifted = logits + offsets.to(logits.dtype).view(1, -1, 1, 1)  # (N, K, H, W)
        return float(mean_iou(confusion_matrix(shifted.argmax(dim=1), masks, num_classes, IGNORE_INDEX)))

    best, best_score = torch.zeros(num_classes, dtype=torch.float64), score(torch.zeros(num_classes))
    for shared in _grid(*SETTINGS["shared_grid"]):
        trial = torch.full((num_classes,), float(shared), dtype=torch.float64)
        trial[0] = 0.0
        value = score(trial)
        if value > best_score:
            best, best_score = trial, value
    for k in range(1, num_classes):
        start = best.clone()
        for change in _grid(*SETTINGS["class_steps"]):
            trial = start.clone()
            trial[k] += float(change)
            value = score(trial)
            if value > best_score:
                best, best_score = trial, value
    return best, best_score


def one_dataset(dataset: str, scenes: int, max_steps: int) -> dict:
    """Fit, offset and score the first ``scenes`` test masks of ``dataset``."""
    test = offline_dataset(dataset, "test")
    masks = torch.stack([test[index][1] for index in range(scenes)])  # (N, 64, 64)
    band = boundary_band(masks, SETTINGS["band_width"])  # (N, 64, 64) booleans
    upsample = DeepLabUpsample()
    fit = score_map_ceiling(upsample, masks, test.num_classes, stride=8, method="lbfgs", steps=max_steps,
                            record_at=[step for step in SETTINGS["record_at"] if step <= max_steps])
    with torch.no_grad():
        logits = upsample(fit.coarse_scores)  # (N, K, 64, 64)
    offsets, _ = best_offsets(logits, masks, test.num_classes)
    shifted = (logits + offsets.float().view(1, -1, 1, 1)).argmax(dim=1)  # (N, 64, 64)
    result = {
        "num_classes": test.num_classes,
        "cross_entropy_fit": {
            "loss": round(fit.loss, 6), "stopped_at": fit.curve[-1].step,
            "curve": [[point.step, round(point.loss, 6), round(point.mean_iou, 6)] for point in fit.curve],
            "all": scores(fit.predictions, masks, test.num_classes),
            "band": scores(fit.predictions, masks, test.num_classes, band),
        },
        "best_found": {
            "offsets": [round(float(value), 4) for value in offsets],
            "all": scores(shifted, masks, test.num_classes),
            "band": scores(shifted, masks, test.num_classes, band),
        },
    }
    shown = SETTINGS["shown_scene"]
    if dataset == shown["dataset"] and shown["index"] < scenes:
        map_with_offsets = fit.coarse_scores[shown["index"]] + offsets.float().view(-1, 1, 1)  # (K, 8, 8)
        result["shown_scene"] = {"index": shown["index"],
                                 "coarse_scores": [[[round(float(v), 4) for v in row] for row in plane]
                                                   for plane in map_with_offsets]}
    return result


def build_parser() -> argparse.ArgumentParser:
    """The command line: scenes, fit steps, where the record goes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=SETTINGS["scenes"], help="test scenes per dataset (200: all)")
    parser.add_argument("--max-steps", type=int, default=SETTINGS["max_steps"], help="L-BFGS iterations at most")
    parser.add_argument("--output", type=Path, default=Path("runs"), help="folder for the record (default runs/)")
    parser.add_argument("--overwrite", action="store_true", help="allow replacing a record the course ships")
    return parser


def main() -> None:
    parser = build_parser()
    arguments = parser.parse_args()
    if not 1 <= arguments.scenes <= 200 or arguments.max_steps < 1:
        parser.error(f"--scenes must lie in 1..200 and --max-steps be positive; got {arguments.scenes}, "
                     f"{arguments.max_steps}")
    try:
        check_record_target(arguments.output, NAME, overwrite=arguments.overwrite)
    except ValueError as error:
        parser.error(str(error))
    torch.set_num_threads(SETTINGS["threads"])
    results = {dataset: one_dataset(dataset, arguments.scenes, arguments.max_steps) for dataset in DATASETS}
    arguments.output.mkdir(parents=True, exist_ok=True)
    settings = {**SETTINGS, "scenes": arguments.scenes, "max_steps": arguments.max_steps}
    command = " ".join([f"python -m experiments.{NAME}", *sys.argv[1:]])
    # the fit has no randomness (zero start, L-BFGS); the one seed is the test split's dataset seed
    path = save_experiment(NAME, command=command, settings=settings, seeds=[0], results=results,
                           directory=arguments.output)
    print(f"record written to {path}")


if __name__ == "__main__":
    main()
