"""Lessons 13 and 14's stored study: overfitting a small training set, what augmentation does to it, learning rates.

Part 1 (augmentation): a U-Net of base width 8 is trained from scratch on the same 32 digit scenes,
with and without paired augmentation (random zoom and crop, then an elastic warp; no flips), for
1500 steps of 8 scenes (375 passes over the 32 scenes; ``--steps`` changes it), long enough for the plain
run's training score to near its ceiling. Every 100 steps it is scored (mean IoU) on the 32 training
scenes as they are and on 100 validation scenes drawn from held-out handwriting. Each seed gives both
runs the same initial weights.

Part 2 (learning rate): the same U-Net, 120 steps of 8 scenes on 500 training scenes without
augmentation, with three constant learning rates, scored on the validation scenes every 25 steps.

Both parts use the course's training pieces: AdamW without weight decay, cross-entropy plus soft
Dice, the last layer's bias started at the log class frequencies of the training scenes
(:func:`segedu.training.quick.start_at_class_frequencies`). One CPU thread per run; the runs (one per
seed and arm, one per seed for part 2) go to ``--workers`` processes. Each finished run is kept in
``runs/augmentation_study_parts`` (named by part, arm, seed, steps and the fingerprint of that part's settings), so an
interrupted study resumes; delete that folder after changing the code.

The record goes to ``--output`` (default ``runs/`` in the current folder), never over the lesson's
shipped record unless ``--output segedu/course/experiment_results --overwrite`` asks for it.
``--learning-rate-from RECORD`` copies part 2 from an earlier record whose part-2 settings are the same
(part 2 is deterministic on one machine, so rerunning it gives the same numbers).

``--arm zoom_in --suffix zoomin`` runs only a third arm of part 1 (no part 2): zoom in only (scale 1.0 to
1.2, so the crop never needs the padded band), then the same elastic warp. Its record is named
``augmentation_study_zoomin``; each seed starts from the same initial weights and batch order as the plain
and augmented arms of the main record, to be set beside their plain arm (no lesson reads it now; its confound:
zooming in only also drops every shrunken digit and cuts more digits at the border).

    python -m experiments.augmentation_study     # seeds 0-2: about 20 CPU-minutes in all (one thread per run)
    python -m experiments.augmentation_study --output segedu/course/experiment_results --overwrite

The lesson's record ran seeds 0 to 9 (``--seeds 0 1 2 3 4 5 6 7 8 9``, about 42 CPU-minutes); its zoom-in
record, seeds 0 to 2.

    python -m experiments.augmentation_study --arm zoom_in --suffix zoomin   # about 8 CPU-minutes

``--arm renoised --suffix renoised`` runs the augmented arm's chain and then puts pixel noise back on the image,
as the scene generator draws it: the zoom and the warp resample bilinearly, which smooths the generator's noise
away. The lesson's ``augmentation_study_renoised`` record ran seeds 0 to 9 (about 25 CPU-minutes), each from the
main record's starts and batch order:

    python -m experiments.augmentation_study --arm renoised --suffix renoised --seeds 0 1 2 3 4 5 6 7 8 9

``--arm fixed_copy --suffix fixedcopy`` trains on one warped copy of each scene, drawn once by the augmented arm's
chain (its draw seeded by ``COPY_SEED_OFFSET + seed``) and then kept for every pass: the same chain as the augmented
arm without a new draw at every pass, and the same start and batch order as the plain arm. The lesson's
``augmentation_study_fixedcopy`` record ran seeds 0 to 9 (about 17 CPU-minutes):

    python -m experiments.augmentation_study --arm fixed_copy --suffix fixedcopy --seeds 0 1 2 3 4 5 6 7 8 9

``--rates 0.046 --suffix pick`` runs only part 2 (no part 1), at the given constant rates, each seed from the same
start and batches as the main record's part 2, into a record of its own (``augmentation_study_pick``).

``--steps 4000 --suffix long`` runs both arms of part 1 for longer under their own name (seeds 0 to 2 took about
32 CPU-minutes; part 2 copied from the main record); on one machine its first 1,500 steps repeat the main record's
runs exactly. The course ships it as ``augmentation_study_long`` (lesson 14: section 2, and exercise 4 in
the appendix), its first 1,500 steps equal to the main record's, score for score:

    python -m experiments.augmentation_study --steps 4000 --seeds 0 1 2 --suffix long \
        --learning-rate-from segedu/course/experiment_results/augmentation_study.json

``--train-scenes 500 --suffix scenes`` trains both arms on another number of scenes (record
``augmentation_study_scenes``: seeds 0 to 2, about 17 CPU-minutes). ``--keep-models --suffix models`` also saves
each part-1 run's final weights (float16, about 1 MB) next to the record, with their SHA-256 in it (record
``augmentation_study_models``: seed 0, whose curves repeat the main record's):

    python -m experiments.augmentation_study --train-scenes 500 --suffix scenes --seeds 0 1 2 \
        --learning-rate-from segedu/course/experiment_results/augmentation_study.json
    python -m experiments.augmentation_study --keep-models --suffix models --seeds 0 \
        --learning-rate-from segedu/course/experiment_results/augmentation_study.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import shutil
import sys
import time
from pathlib import Path

import torch
from torch.utils.data import TensorDataset
from tqdm import tqdm

from experiments._pool_study import settings_fingerprint
from segedu.core.seeding import seed_everything
from segedu.course.experiments import check_record_target, save_experiment
from segedu.datasets import DigitScenes
from segedu.datasets.transforms import WithPixelNoise, training_transforms
from segedu.models import UNet
from segedu.training.checkpoints import save_checkpoint
from segedu.training.curves import train_with_curves
from segedu.training.losses import cross_entropy_and_dice
from segedu.training.quick import render_pool, start_at_class_frequencies

NAME = "augmentation_study"
STEPS = 1500
TRAIN_SCENES = 32
SETTINGS = {
    "model": "UNet(1, 11, base_channels=8), same padding, batch norm",
    "task": "DigitScenes 64x64, 1 channel, dataset seed 0",
    "optimizer": "AdamW, weight decay 0, constant learning rate",
    "loss": "pixel cross-entropy + soft Dice",
    "prior_bias": "last layer's bias at the log class frequencies of the training scenes",
    "threads": 1,
    "augmentation": {
        "train_scenes": TRAIN_SCENES,
        "val_scenes": 100,
        "steps": STEPS,
        "batch_size": 8,
        "lr": 0.003,
        "score_every": 100,
        "transform": "training_transforms(64, scale=(0.8, 1.2), flip=False, elastic=(40.0, 4.0))",
        "zoom_in_transform": "training_transforms(64, scale=(1.0, 1.2), flip=False, elastic=(40.0, 4.0))",
        "renoised_transform": "the augmented arm's transform, then Gaussian pixel noise on the image (standard "
                              "deviation uniform in [0, 0.05] per scene, as the generator draws it), clipped to 0-1",
        "fixed_copy_transform": "the augmented arm's transform, drawn once per scene before training (generators "
                                "seeded with 10000 + seed) and the same copy used at every pass",
        "scored_on": "the 32 training scenes without augmentation ('train') and the validation scenes ('val')",
    },
    "learning_rate": {
        "train_scenes": 500,
        "val_scenes": 100,
        "steps": 120,
        "batch_size": 8,
        "learning_rates": [0.0001, 0.003, 0.3],
        "score_every": 25,
        "transform": "none",
        "scored_on": "the validation scenes",
    },
    "varies_with_seed": "initial weights, batch order and augmentation draws (the scenes are the same)",
}
ARMS = ("plain", "augmented")
EXTRA_ARMS = ("zoom_in", "renoised", "fixed_copy")
SCALES = {"augmented": (0.8, 1.2), "zoom_in": (1.0, 1.2), "renoised": (0.8, 1.2), "fixed_copy": (0.8, 1.2)}
COPY_SEED_OFFSET = 10_000  # "fixed_copy": the copies of seed s are drawn with every generator seeded at 10000 + s
NOISE_UP_TO = 0.05  # "renoised": pixel noise as the generator draws it, standard deviation uniform in [0, 0.05]
PARTS_DIR = Path("runs/augmentation_study_parts")
KEEP_MODELS = False  # --keep-models: save each part-1 run's final weights (float16) next to the record


def fresh_unet(seed: int, train_data: DigitScenes) -> UNet:
    """A U-Net with seeded initial weights and the bias of its last layer at the class frequencies."""
    seed_everything(seed)
    model = UNet(1, 11, base_channels=8)
    _, masks = render_pool(train_data, len(train_data))  # (N, H, W)
    start_at_class_frequencies(model, masks)
    return model


def augmentation_run(seed: int, arm: str) -> dict:
    """One run of part 1 (``arm``: ``"plain"``, ``"augmented"`` or one of :data:`EXTRA_ARMS`); its curves."""
    settings = SETTINGS["augmentation"]
    clean = DigitScenes("train", length=settings["train_scenes"])
    trained_on = clean
    if arm != "plain":
        augment = training_transforms(64, scale=SCALES[arm], flip=False, elastic=(40.0, 4.0))
        trained_on = DigitScenes("train", length=settings["train_scenes"],
                                 transform=WithPixelNoise(augment, NOISE_UP_TO) if arm == "renoised" else augment)
        if arm == "fixed_copy":
            trained_on = fixed_copies(trained_on, seed)
    val = DigitScenes("val", length=settings["val_scenes"])
    model = fresh_unet(seed, clean)
    curves = train_with_curves(
        model, trained_on, {"train": clean, "val": val}, steps=settings["steps"],
        batch_size=settings["batch_size"], lr=settings["lr"], seed=seed, loss_function=cross_entropy_and_dice,
        score_every=settings["score_every"],
    )
    result = {"steps": curves.steps, "train": _rounded(curves.scores["train"]),
              "val": _rounded(curves.scores["val"]), "loss": _rounded(curves.losses)}
    if KEEP_MODELS:
        metadata = {"model": SETTINGS["model"], "arm": arm, "seed": seed, "steps": settings["steps"]}
        result["checkpoint_sha256"] = save_checkpoint(model, _model_path(seed, arm), metadata=metadata,
                                                      half_precision=True)
    return result


def fixed_copies(augmented: DigitScenes, seed: int) -> TensorDataset:
    """One augmented copy of each scene, drawn once with every generator seeded at ``COPY_SEED_OFFSET + seed``.

    Returns:
        The copies as a dataset of ``(image (1, H, W), mask (H, W))`` pairs, the same at every pass.
    """
    seed_everything(COPY_SEED_OFFSET + seed)
    pairs = [augmented[index] for index in range(len(augmented))]
    return TensorDataset(torch.stack([image for image, _ in pairs]), torch.stack([mask for _, mask in pairs]))


def learning_rate_runs(seed: int) -> dict[str, dict]:
    """One run per learning rate for one seed, scored on the validation scenes."""
    settings = SETTINGS["learning_rate"]
    train_data = DigitScenes("train", length=settings["train_scenes"])
    val = DigitScenes("val", length=settings["val_scenes"])
    runs = {}
    for lr in settings["learning_rates"]:
        model = fresh_unet(seed, train_data)
        try:
            curves = train_with_curves(
                model, train_data, {"val": val}, steps=settings["steps"], batch_size=settings["batch_size"],
                lr=lr, seed=seed, loss_function=cross_entropy_and_dice, score_every=settings["score_every"],
            )
            runs[str(lr)] = {"steps": curves.steps, "val": _rounded(curves.scores["val"]),
                             "loss": _rounded(curves.losses), "diverged": False}
        except FloatingPointError:
            runs[str(lr)] = {"steps": [], "val": [], "loss": [], "diverged": True}
    return runs


def _rounded(values: list[float]) -> list[float]:
    return [round(value, 5) for value in values]


def _fingerprint(part: str) -> str:
    """The fingerprint of the settings one part's runs use: the shared ones and that part's own."""
    other = "learning_rate" if part == "augmentation" else "augmentation"
    return settings_fingerprint({key: value for key, value in SETTINGS.items() if key != other})


def _model_path(seed: int, arm: str) -> Path:
    steps = SETTINGS["augmentation"]["steps"]
    return PARTS_DIR / f"augmentation_{arm}_{seed}_{steps}_{_fingerprint('augmentation')}.pt"


def _part_path(job: tuple[str, int, str]) -> Path:
    part, seed, arm = job
    if part == "augmentation":
        kept = "_kept" if KEEP_MODELS else ""  # a run whose weights were saved is cached apart
        scenes = SETTINGS["augmentation"]["train_scenes"]
        pool = "" if scenes == TRAIN_SCENES else f"_{scenes}scenes"  # so is a run on another number of scenes
        steps = SETTINGS["augmentation"]["steps"]
        return PARTS_DIR / f"augmentation_{arm}_{seed}_{steps}{pool}{kept}_{_fingerprint(part)}.json"
    rates = "_".join(f"{rate:g}" for rate in SETTINGS["learning_rate"]["learning_rates"])
    return PARTS_DIR / f"learning_rate_{seed}_{rates}_{_fingerprint(part)}.json"


def one_job(job: tuple[str, int, str]) -> dict:
    """One run of part 1, or part 2 for one seed, in a process of its own with one thread (kept on disk)."""
    path = _part_path(job)
    if path.is_file():
        return json.loads(path.read_text())
    torch.set_num_threads(SETTINGS["threads"])
    started = time.process_time()
    part, seed, arm = job
    outcome = {"result": augmentation_run(seed, arm) if part == "augmentation" else learning_rate_runs(seed)}
    outcome["cpu_seconds"] = round(time.process_time() - started, 1)
    PARTS_DIR.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(outcome))
    return outcome


def _render_caches() -> None:
    """Render the scene caches once, before the worker processes read them."""
    for part in ("augmentation", "learning_rate"):
        DigitScenes("train", length=SETTINGS[part]["train_scenes"])
        DigitScenes("val", length=SETTINGS[part]["val_scenes"])


def build_parser() -> argparse.ArgumentParser:
    """The command line: seeds, workers, steps of part 1, where the record goes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--workers", type=int, default=2, help="runs at once, one process and one thread each")
    parser.add_argument("--steps", type=int, default=STEPS, help="steps of each run of part 1")
    parser.add_argument("--output", type=Path, default=Path("runs"),
                        help="folder for the record (default: runs/ in the current folder)")
    parser.add_argument("--overwrite", action="store_true", help="allow replacing a record the course ships")
    parser.add_argument("--learning-rate-from", type=Path, default=None,
                        help="copy part 2 from this earlier record (same part-2 settings) instead of rerunning it")
    parser.add_argument("--arm", choices=EXTRA_ARMS, default=None,
                        help="run only this extra arm of part 1 (no part 2); needs --suffix")
    parser.add_argument("--rates", type=float, nargs="+", default=None,
                        help="run only part 2 (no part 1), at these constant learning rates; needs --suffix")
    parser.add_argument("--train-scenes", type=int, default=TRAIN_SCENES,
                        help="training scenes of part 1 (default 32); another number needs --suffix")
    parser.add_argument("--keep-models", action="store_true",
                        help="save each part-1 run's final weights (float16) next to the record; needs --suffix")
    parser.add_argument("--suffix", default="",
                        help="name the record augmentation_study_SUFFIX (lower-case letters)")
    return parser


def main() -> None:
    parser = build_parser()
    arguments = parser.parse_args()
    record_name = NAME
    if arguments.suffix:
        if not arguments.suffix.isalpha() or not arguments.suffix.islower():
            parser.error(f"--suffix must be lower-case letters, e.g. zoomin; got {arguments.suffix!r}")
        record_name = f"{NAME}_{arguments.suffix}"
    if arguments.arm is not None and not arguments.suffix:
        parser.error("--arm needs --suffix, so that its record does not take the main record's name")
    if arguments.train_scenes != TRAIN_SCENES and (not arguments.suffix or arguments.rates is not None):
        parser.error("--train-scenes needs --suffix (the record is not the main one) and part 1 (no --rates)")
    if arguments.train_scenes < SETTINGS["augmentation"]["batch_size"]:
        parser.error(f"--train-scenes must be at least the batch size, {SETTINGS['augmentation']['batch_size']}; "
                     f"got {arguments.train_scenes}")
    if arguments.keep_models and (not arguments.suffix or arguments.rates is not None):
        parser.error("--keep-models needs --suffix (its checkpoints take the record's name) and part 1 (no --rates)")
    if arguments.arm is not None and arguments.learning_rate_from is not None:
        parser.error("--arm runs no part 2; leave out --learning-rate-from")
    if arguments.rates is not None:
        if not arguments.suffix:
            parser.error("--rates needs --suffix, so that its record does not take the main record's name")
        if arguments.arm is not None or arguments.learning_rate_from is not None:
            parser.error("--rates runs part 2 only; leave out --arm and --learning-rate-from")
        if not all(0 < rate < 10 for rate in arguments.rates):
            parser.error(f"--rates must lie between 0 and 10 (exclusive); got {arguments.rates}")
    try:
        check_record_target(arguments.output, record_name, overwrite=arguments.overwrite)
    except ValueError as error:
        parser.error(str(error))
    SETTINGS["augmentation"]["steps"] = arguments.steps
    SETTINGS["augmentation"]["train_scenes"] = arguments.train_scenes
    SETTINGS["augmentation"]["scored_on"] = (f"the {arguments.train_scenes} training scenes without augmentation "
                                             "('train') and the validation scenes ('val')")
    global KEEP_MODELS
    KEEP_MODELS = arguments.keep_models  # read by the worker processes, which fork after this line
    torch.set_num_threads(SETTINGS["threads"])
    started_wall = time.perf_counter()
    _render_caches()
    arms = ARMS if arguments.arm is None else (arguments.arm,)
    jobs = [("augmentation", seed, arm) for seed in arguments.seeds for arm in arms if arguments.rates is None]
    copied = None
    record_settings = SETTINGS
    if arguments.arm is not None:  # this arm's record holds part 1 only
        record_settings = {key: value for key, value in SETTINGS.items() if key != "learning_rate"}
        record_settings["augmentation"] = {**SETTINGS["augmentation"], "arms": [arguments.arm]}
    elif arguments.rates is not None:  # this record holds part 2 only, at these rates
        SETTINGS["learning_rate"]["learning_rates"] = arguments.rates
        record_settings = {key: value for key, value in SETTINGS.items() if key != "augmentation"}
        jobs += [("learning_rate", seed, "") for seed in arguments.seeds]
    elif arguments.learning_rate_from is not None:
        copied = json.loads(arguments.learning_rate_from.read_text(encoding="utf-8"))
        source = {key: value for key, value in copied["settings"]["learning_rate"].items() if key != "copied_from"}
        if source != SETTINGS["learning_rate"] or not set(arguments.seeds) <= set(copied["seeds"]):
            parser.error(f"{arguments.learning_rate_from} has other part-2 settings or lacks a seed; rerun part 2")
    else:
        jobs += [("learning_rate", seed, "") for seed in arguments.seeds]
    with multiprocessing.get_context("fork").Pool(arguments.workers) as pool:
        outcomes = list(tqdm(pool.imap(one_job, jobs), total=len(jobs), desc="runs", unit="run"))
    augmentation: dict[str, dict] = {str(seed): {} for seed in arguments.seeds}
    learning_rate: dict[str, dict] = {}
    for (part, seed, arm), outcome in zip(jobs, outcomes):
        if part == "augmentation":
            augmentation[str(seed)][arm] = outcome["result"]
        else:
            learning_rate[str(seed)] = outcome["result"]
    if copied is not None:
        learning_rate = {str(seed): copied["results"]["learning_rate"][str(seed)] for seed in arguments.seeds}
        SETTINGS["learning_rate"]["copied_from"] = copied["settings"]["learning_rate"].get("copied_from") or (
            f"the record of {copied['date']} ({copied['command']}); its CPU time is not in cpu_seconds")
    results = {
        **({"augmentation": augmentation} if arguments.rates is None else {}),
        **({"learning_rate": learning_rate} if arguments.arm is None else {}),
        "cpu_seconds": round(sum(outcome["cpu_seconds"] for outcome in outcomes), 1),
        "cpu_seconds_per_run": {f"{part} {arm} seed {seed}".replace("  ", " "): outcome["cpu_seconds"]
                                for (part, seed, arm), outcome in zip(jobs, outcomes)},
        "wall_seconds": round(time.perf_counter() - started_wall, 1),
    }
    arguments.output.mkdir(parents=True, exist_ok=True)
    if KEEP_MODELS:
        results["checkpoints"] = {}
        for part, seed, arm in jobs:
            if part == "augmentation":
                name = f"{record_name}_{arm}_seed{seed}.pt"
                shutil.copyfile(_model_path(seed, arm), arguments.output / name)
                digest = hashlib.sha256((arguments.output / name).read_bytes()).hexdigest()
                if digest != augmentation[str(seed)][arm].pop("checkpoint_sha256"):
                    raise RuntimeError(f"{name}: the copy's SHA-256 differs from the saved file's")
                results["checkpoints"][f"{arm} seed {seed}"] = {"file": name, "sha256": digest}
    command = " ".join([f"python -m experiments.{NAME}", *sys.argv[1:]])
    reproduce = [f"python -m experiments.{NAME}", "--seeds", *map(str, arguments.seeds)]
    if arguments.rates is None:
        reproduce += ["--steps", str(arguments.steps)]
    else:
        reproduce += ["--rates", *(f"{rate:g}" for rate in arguments.rates), "--suffix", arguments.suffix]
    if arguments.train_scenes != TRAIN_SCENES:
        reproduce += ["--train-scenes", str(arguments.train_scenes)]
    if arguments.keep_models:
        reproduce += ["--keep-models"]
    if arguments.arm is not None:
        reproduce += ["--arm", arguments.arm, "--suffix", arguments.suffix]
    elif arguments.suffix and arguments.rates is None:  # both arms under another name, e.g. a longer run
        reproduce += ["--suffix", arguments.suffix]
    results["reproduce"] = " ".join(reproduce) + "   # writes to runs/"
    path = save_experiment(record_name, command=command, settings=record_settings, seeds=arguments.seeds,
                           results=results, directory=arguments.output)
    print(f"record written to {path}")


if __name__ == "__main__":
    main()
