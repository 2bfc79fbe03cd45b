"""Lesson 15's stored study: five losses for the imbalanced digit scenes, on equal budgets, over several seeds.

The same small U-Net (``UNet(1, 11, base_channels=8)``) is trained from scratch on the same pool of
digit scenes (mostly background) with each of five losses:

* ``cross_entropy``: per-pixel cross-entropy;
* ``weighted_ce_inverse``: cross-entropy with inverse-frequency class weights;
* ``weighted_ce_median``: cross-entropy with median-frequency class weights (SegNet's choice);
* ``dice``: soft Dice alone;
* ``cross_entropy+dice``: the sum of the two (the course recipe's loss).

Two more losses run only when named: ``--losses weighted_ce_sqrt``, cross-entropy with the square root of the
inverse-frequency weights, a milder weighting (the average digit weighs about 13 times background instead of 164);
and ``--losses focal``, focal loss with gamma 2 and no class weights (:func:`segedu.training.losses.focal_loss`).

Everything else is equal: steps, batch, learning-rate schedule, the scenes, and for each seed the
initial weights and the order of the batches. The class weights are computed from the training pool
(:mod:`segedu.training.class_balance`). Every model starts with the bias of its last layer at the log
class frequencies (:func:`segedu.training.quick.start_at_class_frequencies`, as in lesson 13).

Each run is scored on the 200 test scenes: the confusion matrix over all pixels and over the boundary
band (pixels within 2 pixels of a class boundary, :func:`segedu.training.metrics.boundary_band`, the
band of lesson 11), from which the lesson recomputes per-class IoU, mean IoU and pixel accuracy; the
training-loss curve; and for seed 0 the predicted masks of a few test scenes (one character per pixel,
class index in base 16). One CPU thread per run; runs go to ``--workers`` processes. Each finished run is
kept in ``runs/loss_comparison_parts`` (named by scenes, loss, seed, steps and the settings' fingerprint), so
an interrupted study resumes; delete that folder after changing the code.

The record goes to ``--output`` (default ``runs/`` in the current folder), never over the
lesson's shipped record unless ``--output segedu/course/experiment_results --overwrite`` asks for it.
``--scenes shapes`` runs the same study on the shape scenes (3 channels, 4 classes; thicker objects with
an interior, for the boundary question) and names its record ``loss_comparison_shapes``.

The lesson's records come from

    python -m experiments.loss_comparison --seeds 0 1 2 3 4 5   # 30 runs of about 65 CPU-seconds each (one thread)
    python -m experiments.loss_comparison --scenes shapes        # seeds 0 1 2: 15 runs
    python -m experiments.loss_comparison --losses cross_entropy dice --seeds 6 7 8 9 10 11 --suffix fresh
    python -m experiments.loss_comparison --losses cross_entropy dice --steps 1600 --suffix long
    python -m experiments.loss_comparison --losses weighted_ce_inverse weighted_ce_median cross_entropy+dice \
        --steps 1600 --seeds 0 1 2 --suffix longrest
    python -m experiments.loss_comparison --steps 1600 --seeds 3 4 5 --suffix longmore   # all five losses
    python -m experiments.loss_comparison --losses weighted_ce_inverse weighted_ce_median --steps 1600 \
        --seeds 0 1 2 3 4 5 --untilt --suffix untilt
    python -m experiments.loss_comparison --losses cross_entropy weighted_ce_median dice cross_entropy+dice \
        --steps 4000 --seeds 0 1 2 --untilt --suffix fourk
    python -m experiments.loss_comparison --losses cross_entropy weighted_ce_inverse weighted_ce_median --steps 1600 \
        --peak-lr 0.01 --seeds 0 1 2 3 4 5 --untilt --suffix longlrhigh
    python -m experiments.loss_comparison --losses cross_entropy weighted_ce_inverse weighted_ce_median --steps 1600 \
        --peak-lr 0.001 --seeds 0 1 2 3 --untilt --suffix longlrlow
    python -m experiments.loss_comparison --losses weighted_ce_inverse weighted_ce_median --steps 1600 \
        --seeds 0 1 2 3 4 5 --weighted-start --untilt --suffix longownstart
    python -m experiments.loss_comparison --losses weighted_ce_inverse weighted_ce_median --seeds 6 7 8 9 10 11 \
        --suffix freshrest

each with ``--output segedu/course/experiment_results`` (and ``--overwrite`` to replace a shipped record).
``--losses`` trains only the named losses; ``--suffix fresh`` names the record ``loss_comparison_fresh``,
so it stands beside the six-seed one (the third record: the fresh seeds that tested the lesson's planned
comparison, 12 runs). ``--weighted-start`` starts each weighted cross-entropy at its own best constant
answer (the bias at log(frequency x weight)) instead of plain cross-entropy's. The default, ``--seeds 0 1 2``,
is 15 runs; ``--steps 1600`` makes each run four times longer (``long``: plain cross-entropy and soft Dice;
``longrest``: the three other losses, so that all five have a 1,600-step record on seeds 0 to 2; ``longmore``: all
five on seeds 3 to 5, so that lesson 15's main study has six paired seeds at 1,600 steps). ``--untilt`` also scores
each weighted model with its class weights divided out at prediction (``untilt``: the same twelve weighted runs as
``longrest`` and ``longmore``, retrained, with those extra matrices). ``fourk`` runs four of the losses for 4,000
steps, the shipped checkpoints' length, as a check of whether the 1,600-step ranking still moves.
``--peak-lr`` replaces the one peak learning rate (0.003): ``longlrhigh`` checks the class weights against plain
cross-entropy at 0.01, both retrained (``longlrlow`` the same at 0.001, four seeds), and ``longownstart`` starts the class weights at their own best constant answer;
both are checks of section 3's verdict at 1,600 steps. ``freshrest`` holds the class-weighted losses on the held-out
seeds 6 to 11. ``--tilt`` also scores each plain cross-entropy model with the class weights multiplied in at
prediction (argmax of w_c p_c, logits plus log w, for the inverse and the median weights): the tilt section 2 of
lesson 15 derives, added to the very networks the weighted losses are compared against. ``tilt`` retrains plain
cross-entropy's six 1,600-step seeds for it:

    python -m experiments.loss_comparison --losses cross_entropy --steps 1600 --seeds 0 1 2 3 4 5 --tilt --suffix tilt
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
from torch import nn

from experiments._pool_study import cached_run, run_jobs, study_parser, train_and_score
from segedu.core.seeding import seed_everything
from segedu.course.experiments import check_record_target, mask_to_text, save_experiment
from segedu.datasets import DigitScenes, ShapesScenes
from segedu.models import get_model
from segedu.training.class_balance import inverse_frequency_weights, median_frequency_weights
from segedu.training.evaluation import predict
from segedu.training.losses import focal_loss, pixel_cross_entropy, soft_dice_loss
from segedu.training.quick import render_pool, score_on_pool

NAME = "loss_comparison"
LOSSES = ["cross_entropy", "weighted_ce_inverse", "weighted_ce_median", "dice", "cross_entropy+dice"]
MILD = "weighted_ce_sqrt"  # run only when named
FOCAL = "focal"  # run only when named: gamma 2, no class weights
OPT_IN = [MILD, FOCAL]
WEIGHTED = {"weighted_ce_inverse": "inverse", "weighted_ce_median": "median", MILD: "sqrt"}  # loss -> its class weights
SETTINGS = {
    "model": "get_model('unet', in_channels=1, num_classes=11, base_channels=8): same padding, batch norm",
    "task": "DigitScenes 64x64, 1 channel, dataset seed 0; train pool = the first 2000 train scenes",
    "train_scenes": 2000,
    "test_scenes": 200,
    "steps": 400,
    "batch_size": 16,
    "optimizer": "AdamW, weight decay 0",
    "peak_lr": 0.003,
    "schedule": "one_cycle_lr (linear warm-up over the first 10%, cosine down to 0)",
    "warmup_fraction": 0.1,
    "prior_bias": "last layer's bias at the log class frequencies of the train pool, for every loss",
    "precision": "float32",
    "threads": 1,
    "band_width": 2,
    "curve_every": 25,
    "picture_scenes": [0, 1, 2, 3],
    "varies_with_seed": "initial weights and batch order (the same for every loss within a seed)",
}
DEFAULT_PEAK_LR = SETTINGS["peak_lr"]  # the study's one rate; --peak-lr runs a check at another
PARTS_DIR = Path("runs/loss_comparison_parts")
SCENES = {  # name -> (dataset class, input channels, classes, record name)
    "digits": (DigitScenes, 1, 11, NAME),
    "shapes": (ShapesScenes, 3, 4, f"{NAME}_shapes"),
}


def loss_function(name: str, weights: dict[str, torch.Tensor]):
    """The loss ``name`` as ``loss(logits (B, K, H, W), masks (B, H, W)) -> scalar``."""
    if name == "cross_entropy":
        return pixel_cross_entropy
    if name == "weighted_ce_inverse":
        return lambda logits, masks: pixel_cross_entropy(logits, masks, class_weights=weights["inverse"])
    if name == "weighted_ce_median":
        return lambda logits, masks: pixel_cross_entropy(logits, masks, class_weights=weights["median"])
    if name == MILD:
        return lambda logits, masks: pixel_cross_entropy(logits, masks, class_weights=weights["sqrt"])
    if name == FOCAL:
        return lambda logits, masks: focal_loss(logits, masks, gamma=2.0)
    if name == "dice":
        return soft_dice_loss
    if name == "cross_entropy+dice":
        return lambda logits, masks: pixel_cross_entropy(logits, masks) + soft_dice_loss(logits, masks)
    raise ValueError(f"unknown loss {name!r}; choose from {LOSSES + OPT_IN}")


class Untilted(nn.Module):
    """A weighted-loss model read with its class weights divided out: logits minus log w, argmax of p_c / w_c.

    Section 2 of lesson 15 shows that weighted cross-entropy's best answer is p_c proportional to w_c p(c | x);
    dividing by w_c at prediction undoes that tilt without retraining.
    """

    def __init__(self, model: nn.Module, class_weights: torch.Tensor) -> None:
        super().__init__()
        self.model = model
        self.register_buffer("log_weights", class_weights.log().view(1, -1, 1, 1))  # (1, K, 1, 1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.model(images) - self.log_weights  # (B, K, H, W)


class Tilted(Untilted):
    """A plain cross-entropy model read with class weights multiplied in: logits plus log w, argmax of w_c p_c.

    The tilt that weighted cross-entropy's best answer carries (lesson 15, section 2), added after training instead.
    """

    def __init__(self, model: nn.Module, class_weights: torch.Tensor) -> None:
        super().__init__(model, class_weights.reciprocal())  # logits - log(1 / w) = logits + log w


def _pools() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    scenes = SCENES[SETTINGS.get("scenes", "digits")][0]
    train_images, train_masks = render_pool(scenes("train", length=SETTINGS["train_scenes"]),
                                            SETTINGS["train_scenes"])
    test_images, test_masks = render_pool(scenes("test", length=SETTINGS["test_scenes"]),
                                          SETTINGS["test_scenes"])
    return train_images, train_masks, test_images, test_masks


def one_run(job: tuple[str, int]) -> dict:
    """Train one model with loss ``job[0]`` and seed ``job[1]``; return its scores, curve and timing."""
    name, seed = job
    scenes = SETTINGS.get("scenes", "digits")
    _, channels, classes, _ = SCENES[scenes]
    prefix = "" if scenes == "digits" else f"{scenes}_"  # the digit study's parts keep their old names
    own_start = SETTINGS.get("weighted_start", False) and name in WEIGHTED
    prefix += "ownstart_" if own_start else ""
    prefix += f"lr{SETTINGS['peak_lr']:g}_" if SETTINGS["peak_lr"] != DEFAULT_PEAK_LR else ""
    untilt = SETTINGS.get("untilt") is not None and name in WEIGHTED
    prefix += "untilt_" if untilt else ""
    tilt = SETTINGS.get("tilt") is not None and name == "cross_entropy"
    prefix += "tilt_" if tilt else ""

    def compute() -> dict:
        torch.set_num_threads(SETTINGS["threads"])
        pools = _pools()
        train_masks, test_images = pools[1], pools[2]
        inverse = inverse_frequency_weights(train_masks, classes)
        weights = {"inverse": inverse, "median": median_frequency_weights(train_masks, classes), "sqrt": inverse.sqrt()}
        seed_everything(seed)
        model = get_model("unet", in_channels=channels, num_classes=classes, base_channels=8)
        result = train_and_score(model, pools, loss_function(name, weights), SETTINGS, seed=seed, num_classes=classes,
                                 class_weights=weights[WEIGHTED[name]] if own_start else None)
        if untilt:
            untilted = score_on_pool(Untilted(model, weights[WEIGHTED[name]]), test_images, pools[3], classes,
                                     band_width=SETTINGS["band_width"])
            result["untilted_confusion"] = untilted["confusion"]
            result["untilted_band_confusion"] = untilted["band_confusion"]
        if tilt:
            for recipe in ("inverse", "median"):
                tilted = score_on_pool(Tilted(model, weights[recipe]), test_images, pools[3], classes,
                                       band_width=SETTINGS["band_width"])
                result[f"tilted_{recipe}_confusion"] = tilted["confusion"]
                result[f"tilted_{recipe}_band_confusion"] = tilted["band_confusion"]
        if seed == 0:
            pictures = predict(model, test_images[SETTINGS["picture_scenes"]])  # (P, H, W)
            result["pictures"] = [mask_to_text(picture) for picture in pictures]
        return result

    return cached_run(PARTS_DIR, f"{prefix}{name}_{seed}_{SETTINGS['steps']}", SETTINGS, compute)


def build_parser() -> argparse.ArgumentParser:
    """The command-line options of the study."""
    parser = study_parser(__doc__.splitlines()[0], steps=SETTINGS["steps"])
    parser.add_argument("--scenes", choices=list(SCENES), default="digits")
    parser.add_argument("--losses", nargs="+", choices=LOSSES + OPT_IN, default=list(LOSSES),
                        help=f"train only these losses (default: all five; {' and '.join(OPT_IN)} only when named)")
    parser.add_argument("--weighted-start", action="store_true",
                        help="start each weighted loss at its own best constant answer (bias log(f w)) "
                             "instead of the class frequencies")
    parser.add_argument("--peak-lr", type=float, default=DEFAULT_PEAK_LR,
                        help=f"AdamW's peak learning rate (default {DEFAULT_PEAK_LR}, the study's one rate)")
    parser.add_argument("--untilt", action="store_true",
                        help="for the weighted losses, also score each model with its class weights divided out at "
                             "prediction (argmax of p_c / w_c)")
    parser.add_argument("--tilt", action="store_true",
                        help="for plain cross-entropy, also score each model with the inverse and the median class "
                             "weights multiplied in at prediction (argmax of w_c p_c)")
    parser.add_argument("--suffix", default="",
                        help="name the record NAME_SUFFIX, e.g. 'fresh' for a test on new seeds (lower-case letters)")
    return parser


def main() -> None:
    parser = build_parser()
    arguments = parser.parse_args()
    _, channels, classes, record_name = SCENES[arguments.scenes]
    if arguments.suffix:
        if not arguments.suffix.isalpha() or not arguments.suffix.islower():
            parser.error(f"--suffix must be lower-case letters, e.g. fresh; got {arguments.suffix!r}")
        record_name = f"{record_name}_{arguments.suffix}"
    try:
        check_record_target(arguments.output, record_name, overwrite=arguments.overwrite)
    except ValueError as error:
        parser.error(str(error))
    if not 0 < arguments.peak_lr < 1:
        parser.error(f"--peak-lr must be between 0 and 1, e.g. 0.001; got {arguments.peak_lr}")
    SETTINGS["steps"] = arguments.steps
    SETTINGS["peak_lr"] = arguments.peak_lr
    if arguments.weighted_start:
        SETTINGS["weighted_start"] = True
        SETTINGS["prior_bias"] = ("last layer's bias at the log class frequencies of the train pool; for the weighted "
                                  "losses at log(frequency x weight), each one's best constant answer")
    if arguments.untilt:
        SETTINGS["untilt"] = ("for the weighted losses, also untilted_confusion and untilted_band_confusion: the test "
                              "scores of argmax(logits - log w), the class weights divided out at prediction")
    if arguments.tilt:
        SETTINGS["tilt"] = ("for plain cross-entropy, also tilted_inverse_confusion, tilted_median_confusion and their "
                            "band_confusion: the test scores of argmax(logits + log w), the class weights multiplied "
                            "in at prediction")
    if arguments.scenes != "digits":
        SETTINGS["scenes"] = arguments.scenes
        SETTINGS["model"] = (f"get_model('unet', in_channels={channels}, num_classes={classes}, base_channels=8): "
                             "same padding, batch norm")
        SETTINGS["task"] = f"ShapesScenes 64x64, {channels} channels, dataset seed 0; train pool = the first 2000 train scenes"
    torch.set_num_threads(SETTINGS["threads"])
    started_wall = time.perf_counter()
    train_images, train_masks, _, test_masks = _pools()  # renders the scene caches once
    losses = [name for name in LOSSES + OPT_IN if name in arguments.losses]  # the study's order, no repeats
    jobs = [(name, seed) for seed in arguments.seeds for name in losses]
    outcomes = run_jobs(one_run, jobs, arguments.workers)
    runs: dict[str, dict[str, dict]] = {name: {} for name in losses}
    for (name, seed), outcome in zip(jobs, outcomes):
        runs[name][str(seed)] = outcome
    results = {
        "runs": runs,
        "class_weights": {"inverse": [round(float(w), 5) for w in inverse_frequency_weights(train_masks, classes)],
                          "median": [round(float(w), 5) for w in median_frequency_weights(train_masks, classes)],
                          "sqrt": [round(float(w) ** 0.5, 5) for w in inverse_frequency_weights(train_masks, classes)]},
        "test_masks_for_pictures": [mask_to_text(test_masks[index]) for index in SETTINGS["picture_scenes"]],
        "cpu_seconds": round(sum(outcome["cpu_seconds"] for outcome in outcomes), 1),
        "wall_seconds": round(time.perf_counter() - started_wall, 1),
    }
    arguments.output.mkdir(parents=True, exist_ok=True)
    command = " ".join(["python -m experiments.loss_comparison", *sys.argv[1:]])
    path = save_experiment(record_name, command=command, settings=SETTINGS, seeds=arguments.seeds, results=results,
                           directory=arguments.output)
    print(f"record written to {path}")


if __name__ == "__main__":
    main()
