"""Lesson 08's score-map ceiling, fitted to convergence: how well can a coarse score map, upsampled
by a fixed layer, draw the shapes masks?

For each variant, :func:`segedu.analysis.score_map_ceiling.score_map_ceiling` fits one free coarse
score map per test mask (L-BFGS on the pixel-wise cross-entropy, which is convex in the scores
when the upsampling layer is fixed) and records the loss and mean IoU along the way. The
variants:

* ``fcn32s_learned``: 2 x 2 maps through the shipped FCN-32s's own (learned, then fixed) ``upscore32``;
* ``fcn32s_bilinear``: 2 x 2 maps through a fixed bilinear 32x kernel (the paper fixes its final
  upsampling to bilinear);
* ``fcn32s_bilinear_256px``: the same scenes drawn at 256 x 256 pixels, 8 x 8 maps through the
  fixed bilinear 32x kernel (the same stride, objects four times larger);
* ``stride8_bilinear``: 8 x 8 maps through a fixed bilinear 8x kernel on the 64-pixel scenes;
* ``fcn8s_learned``: 8 x 8 maps through the shipped FCN-8s's ``upscore8`` (its fused pool3 map).

Three disjoint groups of 24 test scenes play the role of seeds (the fit itself has no randomness:
it starts from zero scores). Also recorded: Adam's slower path to the same optimum (group 0),
the trained models' own scores on each group, and what happens when the upsampling kernel is
fitted to the masks as well (group 0), then tested, fixed, on group 1.

    python -m experiments.fcn32s_ceiling                          # 10-25 minutes on one thread
    python -m experiments.fcn32s_ceiling --update fcn8s_learned   # after retraining FCN-8s: redo what uses it
"""

from __future__ import annotations

import argparse

import torch
from tqdm import tqdm

from segedu.analysis.score_map_ceiling import Ceiling, score_map_ceiling
from segedu.course.experiments import load_experiment, save_experiment
from segedu.datasets import ShapesScenes
from segedu.models.bilinear import BilinearUpsample
from segedu.training.evaluation import evaluate
from segedu.training.losses import pixel_cross_entropy
from segedu.training.recipes import offline_dataset
from segedu.training.shipped import pretrained, pretrained_info

NAME = "fcn32s_ceiling"
GROUP_SIZE = 24
SETTINGS = {
    "masks": "ShapesScenes test split, seed 0 (offline_dataset('shapes', 'test')); group g = scenes 24g .. 24g+23",
    "masks_256px": "ShapesScenes('test', size=256, channels=3, seed=0): the same scenes drawn at 256 x 256",
    "group_size": GROUP_SIZE,
    "num_classes": 4,
    "fit": "one free coarse map per scene, zero start, L-BFGS (strong Wolfe, history 50) on mean pixel "
           "cross-entropy; stops when converged or after max_steps",
    "max_steps": 300,
    "record_at": [1, 2, 5, 10, 20, 50, 100, 150, 200, 300],
    "adam_reference": {"group": 0, "lr": 0.1, "steps": 6000, "record_at": [200, 2000, 6000]},
    "memorisation": {"fit_group": 0, "held_out_group": 1, "optimizer": "adam", "lr": 0.1, "steps": 300},
    "threads": 1,
}
VARIANTS = {
    "fcn32s_learned": {"layer": "shipped FCN-32s upscore32 (learned in training, fixed here)", "stride": 32,
                       "scene_size": 64},
    "fcn32s_bilinear": {"layer": "fixed bilinear 32x kernel", "stride": 32, "scene_size": 64},
    "fcn32s_bilinear_256px": {"layer": "fixed bilinear 32x kernel", "stride": 32, "scene_size": 256},
    "stride8_bilinear": {"layer": "fixed bilinear 8x kernel", "stride": 8, "scene_size": 64},
    "fcn8s_learned": {"layer": "shipped FCN-8s upscore8 (learned in training, fixed here)", "stride": 8,
                      "scene_size": 64},
}


def _record(ceiling: Ceiling) -> dict:
    return {
        "mean_iou": round(ceiling.mean_iou, 6),
        "loss": round(ceiling.loss, 6),
        "stopped_at": ceiling.curve[-1].step,
        "curve": [[point.step, round(point.loss, 6), round(point.mean_iou, 6)] for point in ceiling.curve],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--update", nargs="+", choices=list(VARIANTS), default=None,
                        help="refit only these variants (and the trained models' scores) in the stored record")
    arguments = parser.parse_args()
    torch.set_num_threads(SETTINGS["threads"])
    test = offline_dataset("shapes", "test")
    large = ShapesScenes("test", size=256, channels=3, seed=0)

    def group_pairs(group: int, dataset) -> list:
        return [dataset[index] for index in range(GROUP_SIZE * group, GROUP_SIZE * (group + 1))]

    models = {name: pretrained(name, "shapes") for name in ("fcn32s", "fcn8s")}
    layers = {
        "fcn32s_learned": models["fcn32s"].upscore32,
        "fcn32s_bilinear": BilinearUpsample(4, 32, learnable=False),
        "fcn32s_bilinear_256px": BilinearUpsample(4, 32, learnable=False),
        "stride8_bilinear": BilinearUpsample(4, 8, learnable=False),
        "fcn8s_learned": models["fcn8s"].upscore8,
    }
    results: dict = {"variants": {name: {**spec, "groups": {}} for name, spec in VARIANTS.items()},
                     "trained_models": {}}
    if arguments.update:  # keep everything else of the stored record
        stored = load_experiment(NAME)
        if stored["seeds"] != arguments.groups:
            raise SystemExit(f"the stored record has groups {stored['seeds']}; rerun everything for {arguments.groups}")
        results = stored["results"]
        for name in arguments.update:
            results["variants"][name] = {**VARIANTS[name], "groups": {}}
    for name, model in models.items():
        info = pretrained_info(name, "shapes")
        results["trained_models"][name] = {
            "sha256": info["sha256"], "steps": info["recipe"]["steps"], "batch_size": info["recipe"]["batch_size"],
            "groups": {},
        }
    jobs = [(group, name) for group in arguments.groups for name in (arguments.update or VARIANTS)]
    for group, name in tqdm(jobs, desc="ceilings"):
        spec = VARIANTS[name]
        pairs = group_pairs(group, large if spec["scene_size"] == 256 else test)
        masks = torch.stack([mask for _, mask in pairs])  # (24, S, S)
        ceiling = score_map_ceiling(layers[name], masks, 4, stride=spec["stride"], method="lbfgs",
                                    steps=SETTINGS["max_steps"], record_at=SETTINGS["record_at"])
        results["variants"][name]["groups"][str(group)] = _record(ceiling)
    for group in arguments.groups:
        pairs = group_pairs(group, test)
        images = torch.stack([image for image, _ in pairs])  # (24, 3, 64, 64)
        masks = torch.stack([mask for _, mask in pairs])  # (24, 64, 64)
        for name, model in models.items():
            with torch.no_grad():
                loss = float(pixel_cross_entropy(model(images), masks))
            results["trained_models"][name]["groups"][str(group)] = {
                "mean_iou": round(evaluate(model, pairs, num_classes=4)["mean_iou"], 6), "loss": round(loss, 6)}

    if arguments.update:
        save_experiment(NAME, command=f"python -m experiments.{NAME}", settings={**SETTINGS, "variants": VARIANTS},
                        seeds=arguments.groups, results=results)
        return
    reference = SETTINGS["adam_reference"]
    masks = torch.stack([mask for _, mask in group_pairs(reference["group"], test)])
    adam = score_map_ceiling(layers["fcn32s_learned"], masks, 4, stride=32, method="adam", lr=reference["lr"],
                             steps=reference["steps"], record_at=reference["record_at"])
    results["adam_reference"] = _record(adam)

    setting = SETTINGS["memorisation"]
    fit_masks = torch.stack([mask for _, mask in group_pairs(setting["fit_group"], test)])
    held_out_masks = torch.stack([mask for _, mask in group_pairs(setting["held_out_group"], test)])
    memorised = score_map_ceiling(layers["fcn32s_learned"], fit_masks, 4, stride=32, learn_upsampling=True,
                                  method="adam", lr=setting["lr"], steps=setting["steps"])
    held_out = score_map_ceiling(memorised.upsample, held_out_masks, 4, stride=32, method="lbfgs",
                                 steps=SETTINGS["max_steps"])
    kernel_weights = memorised.upsample.weight.numel()
    results["memorisation"] = {
        "fitted_mean_iou": round(memorised.mean_iou, 6),
        "fitted_loss": round(memorised.loss, 6),
        "held_out_mean_iou_with_fitted_kernel": round(held_out.mean_iou, 6),
        "kernel_weights": kernel_weights,
        "scores_fitted": int(fit_masks.shape[0] * 4 * 2 * 2),
        "pixels": int(fit_masks.numel()),
    }
    save_experiment(NAME, command=f"python -m experiments.{NAME}", settings={**SETTINGS, "variants": VARIANTS},
                    seeds=arguments.groups, results=results)


if __name__ == "__main__":
    main()
