"""Lesson 18's stored study: does U-Net's weight map keep the gap between nearly touching objects of one class?

A per-pixel loss counts the few background pixels between two nearby objects like any other pixels, so a
network can paint over that thin gap at little cost, and the semantic mask then shows one object where
there are two. U-Net (Ronneberger et al. 2015, eq. 2) weights every pixel's loss by
``w(x) = w_c(x) + w0 exp(-(d1 + d2)^2 / (2 sigma^2))`` to make those gaps expensive. Two arms, the same
small U-Net (``UNet(3, 4, base_channels=8)``) trained from scratch on the same pool of shape scenes:

* ``cross_entropy``: per-pixel cross-entropy, every pixel weight 1
  (:func:`segedu.training.losses.pixel_cross_entropy`);
* ``weight_map``: cross-entropy weighted per pixel, ``sum_x w(x) (-log p_true(x)) / sum_x w(x)`` 
  (:func:`segedu.training.losses.pixel_weighted_cross_entropy`, the formula lesson 15 writes out), with
  ``w(x) = unet_weight_map(instances, w0=10, sigma=5, where="background")``
  (:mod:`segedu.analysis.weight_map`) and ``w_c = 1``: a departure from the paper, which also balances
  the class frequencies with ``w_c``; here only the border term differs between the arms. The weight maps
  are computed once for the training pool.

Everything else follows the record ``loss_comparison_shapes``: the first 2000 train shape scenes, batch 16,
AdamW without weight decay, a one-cycle rate peaking at 3e-3 after a 10% warm-up, the last layer's bias
started at the log class frequencies (for both arms), float32, one thread per run, and for each seed the
same initial weights and batch order in both arms. Except the number of steps: at 400 steps plain
cross-entropy had barely told squares and triangles apart, so a pilot (plain cross-entropy, scored on
the 200 test scenes of ``loss_comparison_shapes``; its numbers are in the record's ``settings["pilot"]``)
chose 1,800 steps: at 1,200 steps seed 0 had still not learned squares (square IoU 0.016, mean IoU 0.469),
at 1,800 steps seeds 0 and 2 had learned all three shapes (each shape's IoU >= 0.65; mean IoU 0.808 and
0.862), at about 3.8 CPU-minutes per run (the numbers are in ``PILOT``).

Each run is scored on the first 1000 test scenes (more scenes, more nearby pairs): the confusion matrix over
all pixels and over the boundary band (as :func:`segedu.training.quick.score_on_pool`), the confusion
matrix over the gap pixels (background pixels with two objects within 3 pixels,
:func:`segedu.analysis.touching_objects.gap_pixels`), and the outcome of every nearby pair (two objects of
one class 2 to 4 pixels apart, :func:`segedu.analysis.touching_objects.nearby_pairs`): ``missed``,
``joined`` or ``kept apart`` (:func:`segedu.analysis.touching_objects.pair_outcome`), per pair and
counted; plus the training-loss curve, the parameter count, the CPU seconds, and for seed 0 the predicted
masks of the first four test scenes that hold a nearby pair (one character per pixel). Each finished run is
kept in ``runs/weight_map_study_parts`` (named by arm, seed, steps, pool sizes and the settings' fingerprint),
so an interrupted study resumes; delete that folder after changing the code.

The record goes to ``--output`` (default ``runs/`` in the current folder), never over the lesson's
shipped record unless ``--overwrite`` asks for it. The lesson's record comes from

    python -m experiments.weight_map_study --seeds 0 1 2 3 4 --output segedu/course/experiment_results

(10 runs of 1,800 steps, about 4 CPU-minutes each, two at a time).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import torch

from experiments._pool_study import cached_run, run_jobs, settings_fingerprint, study_parser
from segedu.analysis.touching_objects import OUTCOMES, gap_pixels, nearby_pairs, pair_outcome
from segedu.analysis.weight_map import unet_weight_map
from segedu.core.seeding import seed_everything
from segedu.course.experiments import check_record_target, mask_to_text, save_experiment
from segedu.datasets import ShapesScenes
from segedu.models import get_model
from segedu.training.evaluation import predict
from segedu.training.losses import pixel_cross_entropy, pixel_weighted_cross_entropy
from segedu.training.metrics import boundary_band, confusion_matrix
from segedu.training.quick import start_at_class_frequencies, train_on_pool

NAME = "weight_map_study"
ARMS = ["cross_entropy", "weight_map"]
CLASSES = 4
PILOT = {
    "what": "plain cross-entropy, these settings, scored on the 200 test scenes of loss_comparison_shapes; "
            "per-class IoU (background, circle, square, triangle), mean IoU, CPU seconds",
    "loss_comparison_shapes_400_steps": "seeds 0 1 2: square IoU 0.27-0.54 and triangle IoU 0.00-0.30 "
                                        "(squares and triangles mostly predicted as circles)",
    "runs": [  # steps, seed, per-class IoU, mean IoU, CPU seconds of the run (training and scoring 200 scenes)
        [800, 0, [0.984, 0.356, 0.106, 0.023], 0.367, 88.7],
        [1200, 0, [0.986, 0.463, 0.016, 0.409], 0.469, 148.2],
        [1200, 1, [0.987, 0.802, 0.628, 0.745], 0.791, 148.9],
        [1800, 0, [0.990, 0.816, 0.651, 0.777], 0.808, 227.4],
        [1800, 2, [0.990, 0.884, 0.750, 0.824], 0.862, 224.7],
    ],
    "choice": "1800 steps: the first step count tried at which both seeds tried (0 and 2) learned all three "
              "shapes (each shape's IoU >= 0.65); at 1200 steps seed 0 had not learned squares (IoU 0.016). About 3.8 "
              "CPU-minutes per run, near the budget of about 4.",
}
SETTINGS: dict[str, Any] = {
    "model": "get_model('unet', in_channels=3, num_classes=4, base_channels=8): same padding, batch norm",
    "task": "ShapesScenes 64x64, 3 channels, dataset seed 0; train pool = the first 2000 train scenes",
    "train_scenes": 2000,
    "test_scenes": 1000,
    "steps": 1800,
    "batch_size": 16,
    "optimizer": "AdamW, weight decay 0",
    "peak_lr": 0.003,
    "schedule": "one_cycle_lr (linear warm-up over the first 10%, cosine down to 0)",
    "warmup_fraction": 0.1,
    "prior_bias": "last layer's bias at the log class frequencies of the train pool, for both arms",
    "precision": "float32",
    "threads": 1,
    "band_width": 2,
    "curve_every": 25,
    "losses": {
        "cross_entropy": "pixel_cross_entropy(logits, masks): every pixel weight 1",
        "weight_map": "sum_x w(x) (-log p_true(x)) / sum_x w(x) over the batch, "
                      "w = unet_weight_map(instances, w0=10, sigma=5, where='background')",
    },
    "weight_map": {"w0": 10.0, "sigma": 5.0, "where": "background",
                   "class_weights": "w_c = 1 for every class: unlike the paper, no class balancing, so that only "
                                    "the border term differs between the arms"},
    "gap_within": 3.0,
    "pair_max_distance": 4.0,
    "pair_min_distance": 2.0,
    "found_share": 0.5,
    "picture_count": 4,
    "pilot": PILOT,
    "varies_with_seed": "initial weights and batch order (the same for both arms within a seed)",
}
PARTS_DIR = Path("runs/weight_map_study_parts")
_DATA: dict[tuple[int, int], dict[str, Any]] = {}


def _render(split: str, count: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Images ``(N, 3, H, W)``, masks ``(N, H, W)`` and instance maps ``(N, H, W)`` of the first ``count`` scenes."""
    scenes = ShapesScenes(split, length=count)
    samples = [scenes.sample(index) for index in range(count)]
    return (torch.stack([sample["image"] for sample in samples]), torch.stack([sample["mask"] for sample in samples]),
            torch.stack([sample["instances"] for sample in samples]))


def _data() -> dict[str, Any]:
    """The pools, the training weight maps, the test gaps and nearby pairs (computed once per process)."""
    key = (SETTINGS["train_scenes"], SETTINGS["test_scenes"])
    if key in _DATA:
        return _DATA[key]
    cache = PARTS_DIR / f"data_{key[0]}_{key[1]}_{settings_fingerprint(SETTINGS)}.pt"
    if cache.is_file():
        _DATA[key] = torch.load(cache, weights_only=True)  # tensors, lists and numbers only
        return _DATA[key]
    train_images, train_masks, train_instances = _render("train", key[0])
    test_images, test_masks, test_instances = _render("test", key[1])
    options = SETTINGS["weight_map"]
    weights = torch.stack([unet_weight_map(instances, w0=options["w0"], sigma=options["sigma"],
                                           where=options["where"]) for instances in train_instances])  # (N, H, W)
    gaps = torch.stack([gap_pixels(instances, within=SETTINGS["gap_within"]) for instances in test_instances])
    pairs = [{"scene": scene, **pair}
             for scene, (instances, mask) in enumerate(zip(test_instances, test_masks))
             for pair in nearby_pairs(instances, mask, max_distance=SETTINGS["pair_max_distance"])]
    data = dict(train_images=train_images, train_masks=train_masks, weights=weights, test_images=test_images,
                test_masks=test_masks, test_instances=test_instances, gaps=gaps, pairs=pairs)
    cache.parent.mkdir(parents=True, exist_ok=True)
    torch.save(data, cache)
    _DATA[key] = data
    return data


def picture_scenes(pairs: list[dict[str, Any]], count: int) -> list[int]:
    """The first ``count`` test scenes (in index order) that hold a nearby pair."""
    return sorted({pair["scene"] for pair in pairs})[:count]


def one_run(job: tuple[str, int]) -> dict[str, Any]:
    """Train one model in arm ``job[0]`` with seed ``job[1]``; return its scores, pair outcomes, curve and timing."""
    arm, seed = job
    if arm not in ARMS:
        raise ValueError(f"unknown arm {arm!r}; choose from {ARMS}")

    def compute() -> dict[str, Any]:
        torch.set_num_threads(SETTINGS["threads"])
        data = _data()
        seed_everything(seed)
        model = get_model("unet", in_channels=3, num_classes=CLASSES, base_channels=8)
        start_at_class_frequencies(model, data["train_masks"])
        weighted = arm == "weight_map"
        curve = train_on_pool(model, data["train_images"], data["train_masks"],
                              pixel_weighted_cross_entropy if weighted else pixel_cross_entropy,
                              steps=SETTINGS["steps"], batch_size=SETTINGS["batch_size"], peak_lr=SETTINGS["peak_lr"],
                              warmup_fraction=SETTINGS["warmup_fraction"], seed=seed,
                              curve_every=SETTINGS["curve_every"], pixel_weights=data["weights"] if weighted else None)
        images, masks = data["test_images"], data["test_masks"]
        predictions = torch.cat([predict(model, images[start:start + 50]) for start in range(0, len(images), 50)])
        band = boundary_band(masks, SETTINGS["band_width"])  # (N, H, W) bool
        outcomes = [pair_outcome(predictions[pair["scene"]], data["test_instances"][pair["scene"]], pair,
                                 found_share=SETTINGS["found_share"]) for pair in data["pairs"]]
        result = {
            "confusion": confusion_matrix(predictions, masks, CLASSES).tolist(),
            "band_confusion": confusion_matrix(predictions, masks, CLASSES, valid_mask=band).tolist(),
            "gap_confusion": confusion_matrix(predictions, masks, CLASSES, valid_mask=data["gaps"]).tolist(),
            "pair_outcomes": outcomes,
            "outcome_counts": {outcome: outcomes.count(outcome) for outcome in OUTCOMES},
            "loss_curve": curve,
            "parameters": sum(parameter.numel() for parameter in model.parameters()),
        }
        if seed == 0:
            chosen = SETTINGS["picture_scenes"]
            result["pictures"] = [mask_to_text(predictions[index]) for index in chosen]
        return result

    key = f"{arm}_{seed}_{SETTINGS['steps']}_{SETTINGS['train_scenes']}_{SETTINGS['test_scenes']}"
    return cached_run(PARTS_DIR, key, SETTINGS, compute)


def build_parser():
    """The command-line options of the study."""
    parser = study_parser(__doc__.splitlines()[0], steps=SETTINGS["steps"])
    parser.add_argument("--train-scenes", type=int, default=SETTINGS["train_scenes"],
                        help="size of the training pool (the first scenes of the train split)")
    parser.add_argument("--test-scenes", type=int, default=SETTINGS["test_scenes"],
                        help="test scenes to score on (the first scenes of the test split)")
    return parser


def main() -> None:
    parser = build_parser()
    arguments = parser.parse_args()
    if arguments.train_scenes < 1 or arguments.test_scenes < 1 or arguments.steps < 1:
        parser.error("--steps, --train-scenes and --test-scenes must be positive")
    try:
        check_record_target(arguments.output, NAME, overwrite=arguments.overwrite)
    except ValueError as error:
        parser.error(str(error))
    SETTINGS.update(steps=arguments.steps, train_scenes=arguments.train_scenes, test_scenes=arguments.test_scenes)
    SETTINGS["task"] = (f"ShapesScenes 64x64, 3 channels, dataset seed 0; train pool = the first "
                        f"{arguments.train_scenes} train scenes")
    torch.set_num_threads(SETTINGS["threads"])
    started_wall = time.perf_counter()
    data = _data()  # before the workers fork, so they share it
    SETTINGS["picture_scenes"] = picture_scenes(data["pairs"], SETTINGS["picture_count"])
    jobs = [(arm, seed) for seed in arguments.seeds for arm in ARMS]
    outcomes = run_jobs(one_run, jobs, arguments.workers)
    runs: dict[str, dict[str, dict]] = {arm: {} for arm in ARMS}
    for (arm, seed), outcome in zip(jobs, outcomes):
        runs[arm][str(seed)] = outcome
    weights = data["weights"]
    chosen = SETTINGS["picture_scenes"]
    results = {
        "runs": runs,
        "nearby_pairs": data["pairs"],
        "nearby_pair_count": len(data["pairs"]),
        "scenes_with_nearby_pairs": len({pair["scene"] for pair in data["pairs"]}),
        "gap_pixel_count": int(data["gaps"].sum()),
        "test_pixel_count": int(data["test_masks"].numel()),
        "train_weights": {
            "mean": round(float(weights.mean()), 5),
            "max": round(float(weights.max()), 5),
            "share_of_pixels_above_2": round(float((weights > 2.0).double().mean()), 6),
            "share_of_total_weight_from_the_border_term": round(float((weights - 1.0).sum() / weights.sum()), 5),
        },
        "test_masks_for_pictures": [mask_to_text(data["test_masks"][index]) for index in chosen],
        "pairs_in_pictures": [pair for pair in data["pairs"] if pair["scene"] in chosen],
        "cpu_seconds": round(sum(outcome["cpu_seconds"] for outcome in outcomes), 1),
        "wall_seconds": round(time.perf_counter() - started_wall, 1),
    }
    arguments.output.mkdir(parents=True, exist_ok=True)
    command = " ".join(["python -m experiments.weight_map_study", *sys.argv[1:]])
    path = save_experiment(NAME, command=command, settings=SETTINGS, seeds=arguments.seeds, results=results,
                           directory=arguments.output)
    print(f"record written to {path}")


if __name__ == "__main__":
    main()
