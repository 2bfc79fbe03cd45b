"""Lesson 08's stored study: FCN-8s trained in stages, as in the paper, against FCN-8s trained all at once.

The paper trains FCN-32s first, then initialises FCN-16s from it (the new pool4 score layer at zero) and
trains on, then FCN-8s from FCN-16s (Long et al., 2015, section 4.2). The course's shipped FCN-8s is trained
all at once, and lesson 08 finds it leans on pool3: with its skips switched off it calls almost every pixel
"triangle". Is that the training, or the architecture? On the shapes scenes, per seed:

* ``all_at_once``: FCN-8s, the shipped recipe (4,000 steps of 16 fresh scenes, Adam 3e-3 with cosine decay);
* ``staged``: the same 4,000 steps and the same 64,000 scenes, split over three stages: FCN-32s for 2,000
  steps (the recipe's rate), then FCN-16s and FCN-8s for 1,000 steps each, each stage starting from the
  last one's weights and with its rate ten times lower (3e-4; the paper, with SGD, lowers it 100 times);
* ``late_pool3`` (a control, run only when named): FCN-8s all at once, but ``score_pool3`` held at zero (frozen)
  for the first 3,000 steps, then every layer trained 1,000 more steps at a tenth of the rate. pool3's branch
  gets exactly the staged arm's exposure (the last quarter, at lr / 10) without the stages: no FCN-32s or FCN-16s
  phase, no upsampler thrown away, pool4's branch trained from the start. It still restarts at the join (a new
  optimizer and cosine schedule), as every stage does;
* ``joined_pool3`` (a control, run only when named): the same without the restart. One Adam optimizer and one
  cosine schedule run all 4,000 steps; ``score_pool3``'s output is detached (so its zero weights get no gradient and
  Adam keeps no state for them) until step 3,000, then the branch joins at the schedule's rate there (lr x 0.15).
  Only the branch's Adam state starts at the join; every other layer's carries on.
* ``joined_pool4`` (a control, run only when named): the mirror of ``joined_pool3``. ``score_pool4``'s output is
  detached until step 3,000 and pool3's branch learns from the start. If a branch held at zero for most of the
  run is simply the one the model leans on less, this arm leans on pool3.

Each model is scored on the 200 test scenes (mean IoU over all pixels and in the boundary band of 2 pixels);
each FCN-8s also with its skip branches switched off (:func:`segedu.analysis.fcn_stages.skip_branches_off`)
and through conv7's scores read directly. Each stage of the staged arm is scored too (an FCN-32s, FCN-16s,
FCN-8s row, like the paper's table 2). ``--keep-models`` saves seed 0's staged FCN-8s (float16) next to the
record with its SHA-256. A finished run is kept in ``--parts``, so an interrupted study resumes.

Only the seed changes between runs: initial weights and the order of the scenes. The shipped record ran seeds 0
to 2 on a 2-core CPU, two runs at a time with one thread each, about 11 minutes per run (``--device cuda`` trains
on a GPU instead):

    python -m experiments.fcn_staged_study                 # about 35 minutes on two cores
    python -m experiments.fcn_staged_study --output segedu/course/experiment_results --overwrite

Seeds 3 to 5 of the all-at-once arm and the two joined controls are stored apart, as
``fcn_staged_study_moreseeds`` (same script, recipe, CPU type and threads; about 11 minutes per run):

    python -m experiments.fcn_staged_study --arms all_at_once joined_pool3 joined_pool4 --seeds 3 4 5 \
        --suffix moreseeds --output segedu/course/experiment_results

Run A, seeds 0 to 5 of ``slow_pool3``, is stored as ``fcn_staged_study_runa``, run B (``fast_pool3``) as
``fcn_staged_study_runb`` (same script, recipe, CPU type and threads):

    python -m experiments.fcn_staged_study --arms slow_pool3 --seeds 0 1 2 3 4 5 --suffix runa \
        --output segedu/course/experiment_results
    python -m experiments.fcn_staged_study --arms fast_pool3 --seeds 0 1 2 3 4 5 --suffix runb \
        --output segedu/course/experiment_results
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import multiprocessing
import shutil
import sys
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import Subset
from tqdm.auto import tqdm

from segedu.analysis.fcn_stages import detached_until, fcn_score_maps, skip_branches_off
from segedu.core.seeding import seed_everything
from segedu.course.experiments import check_record_target, save_experiment
from segedu.models import get_model
from segedu.training.checkpoints import save_checkpoint
from segedu.training.evaluation import evaluate
from segedu.training.loop import fit
from segedu.training.metrics import boundary_band, confusion_matrix, mean_iou
from segedu.training.recipes import RECIPES, offline_dataset, training_scenes

NAME = "fcn_staged_study"
ARMS = ("all_at_once", "staged")
CONTROLS = ("late_pool3", "joined_pool3", "joined_pool4", "slow_pool3", "fast_pool3")  # run only when named
SLOW_FACTOR = 1 / 40  # slow_pool3's rate factor: 2,000 x lr summed from step 0, divided by 40, is joined_pool3's 50
FAST_FACTOR = 40.0  # fast_pool3's: joined_pool3's 50 x lr, times 40, is the 2,000 x lr of a branch trained from step 0
RECIPE = RECIPES[("fcn8s", "shapes")]
STAGES = (("fcn32s", 0.5, 1.0), ("fcn16s", 0.25, 0.1), ("fcn8s", 0.25, 0.1))  # model, share of steps, rate factor
SWITCHES = {"all on": (), "pool4 off": ("pool4",), "pool3 off": ("pool3",), "both off": ("pool4", "pool3")}
BAND_WIDTH = 2
SETTINGS = {
    "dataset": "shapes (64 x 64 RGB, fresh scenes every step), scored on the 200 test scenes",
    "steps": RECIPE.steps, "batch_size": RECIPE.batch_size, "lr": RECIPE.lr, "lr_schedule": "cosine, per stage",
    "model_kwargs": dict(RECIPE.model_kwargs),
    "staged": "FCN-32s 50% of the steps at lr, then FCN-16s and FCN-8s 25% each at lr / 10, each from the last "
              "stage's weights (new skip score layers start at zero, new 2x upsamplers at bilinear)",
    "late_pool3": "FCN-8s all at once; score_pool3 frozen at its zero start for 75% of the steps at lr, then every layer "
                  "25% at lr / 10 (a new cosine schedule and optimizer, as a new stage)",
    "joined_pool3": "FCN-8s all at once with one Adam optimizer and one cosine schedule over all the steps; "
                    "score_pool3's output detached (no gradient, no Adam state) for 75% of the steps, then trained",
    "joined_pool4": "as joined_pool3 with the branches swapped: score_pool4's output detached for 75% of the steps, "
                    "score_pool3 trained from the start",
    "slow_pool3": "FCN-8s all at once with one Adam optimizer and one cosine schedule over all the steps; "
                  "score_pool3 trained from the start at 1/40 of the other layers' rate (fit's lr_factors)",
    "fast_pool3": "as joined_pool3, with score_pool3 at 40 times the other layers' rate once it joins at 75% of the "
                  "steps (fit's lr_factors)",
    "band_width": BAND_WIDTH,
    "varies_with_seed": "initial weights and the order of the scenes",
}


def _scores(model: torch.nn.Module, off: tuple[str, ...] = ()) -> dict[str, float]:
    """Test mean IoU over all pixels and in the boundary band, with the named skip branches off."""
    test_data = offline_dataset("shapes", "test")
    with skip_branches_off(model, off) if off else nullcontext():
        everywhere = evaluate(model, test_data)["mean_iou"]
        band = evaluate(model, test_data, valid_mask_fn=lambda masks: boundary_band(masks, BAND_WIDTH))["mean_iou"]
    return {"mean_iou": round(float(everywhere), 4), "band": round(float(band), 4)}


def _fcn8s_readout(model: torch.nn.Module) -> dict[str, Any]:
    """An FCN-8s's scores with its skips switched off, and conv7's scores read directly."""
    readout = {label: _scores(model, off) for label, off in SWITCHES.items()}
    test_data = offline_dataset("shapes", "test")
    images = torch.stack([image for image, _ in test_data])  # (200, 3, 64, 64)
    masks = torch.stack([mask for _, mask in test_data])  # (200, 64, 64)
    with torch.no_grad():
        conv7 = fcn_score_maps(model, images)["conv7"]  # (200, K, 2, 2)
    labels = torch.nn.functional.interpolate(conv7, size=masks.shape[-2:], mode="nearest").argmax(1)  # (200, 64, 64)
    shares = torch.bincount(labels.flatten(), minlength=4) / labels.numel()
    readout["conv7_direct"] = {"mean_iou": round(float(mean_iou(confusion_matrix(labels, masks, 4))), 4),
                               "class_shares": [round(float(share), 4) for share in shares]}
    return readout


def _train(model: torch.nn.Module, data: Subset, steps: int, lr: float, seed: int, device: str,
           lr_factors: dict[str, float] | None = None) -> list[list[float]]:
    """Train ``model`` in place with the recipe's loop (cosine decay from ``lr``); its validation curve."""
    history = fit(model, data, offline_dataset("shapes", "val"), max_steps=steps, lr=lr, lr_schedule="cosine",
                  batch_size=RECIPE.batch_size, seed=seed, device=device, progress=False, val_every=min(250, steps),
                  lr_factors=lr_factors)
    model.cpu().eval()
    return [[step, round(float(metrics["mean_iou"]), 4)] for step, metrics in history.val_curve]


def one_run(job: tuple[str, int, int, str, str, bool]) -> dict[str, Any]:
    """One arm for one seed: train, score, keep the result in ``parts``."""
    arm, seed, steps, device, parts, keep = job
    part = Path(parts) / f"{arm}-seed{seed}-{steps}steps.json"
    if part.is_file():
        return json.loads(part.read_text())
    torch.set_num_threads(1)
    seed_everything(seed)
    scenes = training_scenes("shapes", steps * RECIPE.batch_size)
    kwargs = {"in_channels": 3, "num_classes": 4, **RECIPE.model_kwargs}
    started = time.perf_counter()
    result: dict[str, Any] = {"arm": arm, "seed": seed}
    if arm == "staged":
        model, first, result["stages"] = None, 0, {}
        for name, share, factor in STAGES:
            count = int(steps * share)
            stage = get_model(name, **kwargs)
            if model is not None:  # the paper's initialisation: every layer the last stage had, the rest new
                missing, _ = stage.load_state_dict(model.state_dict(), strict=False)
                assert all(key.startswith(("score_pool", "upscore")) for key in missing), missing
            model = stage
            subset = Subset(scenes, range(first * RECIPE.batch_size, (first + count) * RECIPE.batch_size))
            curve = _train(model, subset, count, RECIPE.lr * factor, seed, device)
            result["stages"][name] = {"steps": count, "lr": round(RECIPE.lr * factor, 8), "val_curve": curve,
                                      "test": _scores(model)}
            first += count
    elif arm == "late_pool3":
        model, held = get_model("fcn8s", **kwargs), int(steps * 0.75)
        for parameter in model.score_pool3.parameters():  # zero weights and bias, frozen: the branch adds zeros
            parameter.requires_grad_(False)
        first_curve = _train(model, Subset(scenes, range(held * RECIPE.batch_size)), held, RECIPE.lr, seed, device)
        result["pool3_held_at_zero"] = {"steps": held, "lr": RECIPE.lr, "test": _scores(model),
                                        "score_pool3_abs_max": float(model.score_pool3.weight.abs().max())}
        for parameter in model.score_pool3.parameters():
            parameter.requires_grad_(True)
        rest = Subset(scenes, range(held * RECIPE.batch_size, steps * RECIPE.batch_size))
        second_curve = _train(model, rest, steps - held, RECIPE.lr / 10, seed, device)
        result["val_curve"] = first_curve + [[held + step, value] for step, value in second_curve]
        result["test"] = _scores(model)
    elif arm in ("joined_pool3", "joined_pool4", "fast_pool3"):
        late = "pool3" if arm == "fast_pool3" else arm.removeprefix("joined_")
        model, held = get_model("fcn8s", **kwargs), int(steps * 0.75)
        handle = detached_until(getattr(model, f"score_{late}"), held)  # evaluation calls do not count
        factors = {"score_pool3": FAST_FACTOR} if arm == "fast_pool3" else None
        try:
            result["val_curve"] = _train(model, Subset(scenes, range(len(scenes))), steps, RECIPE.lr, seed, device,
                                         lr_factors=factors)
        except FloatingPointError as error:  # run B's 40-fold rate may diverge: keep that as the run's result
            result.update(diverged=str(error), train_seconds=round(time.perf_counter() - started, 1))
            part.write_text(json.dumps(result))
            return result
        if factors:
            result["pool3_lr_factor"] = FAST_FACTOR
        handle.remove()
        rate_at_join = RECIPE.lr * 0.5 * (1 + math.cos(math.pi * held / steps))  # the cosine schedule at the join
        result[f"{late}_joined_at"] = {"step": held, "lr": round(rate_at_join, 8)}
        result["test"] = _scores(model)
    elif arm == "slow_pool3":
        model = get_model("fcn8s", **kwargs)
        result["val_curve"] = _train(model, Subset(scenes, range(len(scenes))), steps, RECIPE.lr, seed, device,
                                     lr_factors={"score_pool3": SLOW_FACTOR})
        result["pool3_lr"] = round(RECIPE.lr * SLOW_FACTOR, 10)
        result["test"] = _scores(model)
    else:
        model = get_model("fcn8s", **kwargs)
        result["val_curve"] = _train(model, Subset(scenes, range(len(scenes))), steps, RECIPE.lr, seed, device)
        result["test"] = _scores(model)
    result["fcn8s_readout"] = _fcn8s_readout(model)
    result["train_seconds"] = round(time.perf_counter() - started, 1)
    result["trained_on"] = f"torch {torch.__version__}, {device}"
    if keep and arm == "staged" and seed == 0:
        result["checkpoint_sha256"] = save_checkpoint(
            model, Path(parts) / f"{NAME}_staged_seed0.pt", half_precision=True,
            metadata={"model": "fcn8s", "dataset": "shapes", "model_kwargs": kwargs, "arm": arm, "seed": seed})
    part.write_text(json.dumps(result))
    return result


def build_parser() -> argparse.ArgumentParser:
    """The command line of this study."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arms", nargs="+", choices=ARMS + CONTROLS, default=list(ARMS),
                        help=f"arms to run (default: {', '.join(ARMS)}; the controls {', '.join(CONTROLS)} only when named)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=RECIPE.steps, help="steps of each run (all stages together)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (every run on it)")
    parser.add_argument("--workers", type=int, default=2, help="runs at once, one process and one CPU thread each")
    parser.add_argument("--parts", type=Path, default=Path("runs/fcn_staged_parts"), help="finished runs (resumable)")
    parser.add_argument("--output", type=Path, default=Path("runs"), help="folder for the record (default runs/)")
    parser.add_argument("--overwrite", action="store_true", help="allow replacing a record the course ships")
    parser.add_argument("--keep-models", action="store_true", help="save seed 0's staged FCN-8s next to the record")
    parser.add_argument("--suffix", default="",
                        help="name the record fcn_staged_study_SUFFIX (lower-case letters), e.g. for more seeds")
    return parser


def main() -> None:
    parser = build_parser()
    arguments = parser.parse_args()
    if any(seed < 0 for seed in arguments.seeds) or arguments.workers < 1 or arguments.steps < 8:
        parser.error(f"--seeds must be >= 0, --workers >= 1 and --steps >= 8; "
                     f"got {arguments.seeds}, {arguments.workers}, {arguments.steps}")
    if arguments.suffix and not (arguments.suffix.isalpha() and arguments.suffix.islower()):
        parser.error(f"--suffix must be lower-case letters, e.g. moreseeds; got {arguments.suffix!r}")
    record_name = f"{NAME}_{arguments.suffix}" if arguments.suffix else NAME
    try:
        check_record_target(arguments.output, record_name, overwrite=arguments.overwrite)
    except ValueError as error:
        parser.error(str(error))
    arguments.parts.mkdir(parents=True, exist_ok=True)
    for split in ("val", "test"):
        offline_dataset("shapes", split)[0]  # render the caches once, before the workers read them
    jobs = [(arm, seed, arguments.steps, arguments.device, str(arguments.parts), arguments.keep_models)
            for seed in arguments.seeds for arm in arguments.arms]
    started = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(arguments.workers) as pool:
        outcomes = list(tqdm(pool.imap_unordered(one_run, jobs), total=len(jobs), desc="runs", unit="run"))
    runs: dict[str, dict[str, Any]] = {}
    for outcome in sorted(outcomes, key=lambda run: (run["arm"], run["seed"])):
        runs.setdefault(outcome["arm"], {})[str(outcome["seed"])] = outcome
    results: dict[str, Any] = {"runs": runs, "wall_seconds": round(time.perf_counter() - started, 1)}
    arguments.output.mkdir(parents=True, exist_ok=True)
    kept = arguments.parts / f"{NAME}_staged_seed0.pt"
    if arguments.keep_models and kept.is_file():
        target = arguments.output / kept.name
        shutil.copyfile(kept, target)
        results["checkpoint"] = {"file": target.name, "sha256": hashlib.sha256(target.read_bytes()).hexdigest()}
    command = " ".join([f"python -m experiments.{NAME}", *sys.argv[1:]])
    settings = {**SETTINGS, "steps": arguments.steps}
    path = save_experiment(record_name, command=command, settings=settings, seeds=sorted(arguments.seeds), results=results,
                           directory=arguments.output)
    print(f"record written to {path} ({len(outcomes)} runs)")


if __name__ == "__main__":
    main()
