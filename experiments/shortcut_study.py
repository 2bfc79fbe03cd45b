"""Lesson 11's stored study: four shortcut styles in one encoder-decoder, on equal budgets, over several seeds.

:class:`segedu.models.shortcut_variants.ShortcutNet` (3 levels, base width 8) is trained from scratch
on the shape scenes (thick objects with an interior, 4 classes) with each of four shortcuts:

* ``none``: nothing crosses from encoder to decoder;
* ``add``: FCN-style, a 1x1-projected encoder map added to the upsampled decoder map;
* ``indices``: SegNet-style, only the max-pooling indices cross (max-unpooling replaces the up-conv);
* ``concat``: U-Net-style, the whole encoder map concatenated.

Everything else is equal: the training pool, steps, batch, loss (cross-entropy plus soft Dice), AdamW,
the one-cycle learning-rate schedule, the last layer's bias started at the log class frequencies, and for
each seed the order of the batches and the initial weights of the encoder, bottleneck and classifier
(built first from the seed; only the decoders differ).

Each run is scored on the 200 test scenes: the confusion matrix over all pixels and over the boundary
band (pixels within 2 pixels of a class boundary, :func:`segedu.training.metrics.boundary_band`), from
which the lesson recomputes IoU; the training-loss curve; the parameter count. One CPU thread per run;
runs go to ``--workers`` processes. Each finished run is kept in ``runs/shortcut_study_parts`` (named by
shortcut, seed, steps and the settings' fingerprint), so an interrupted study resumes; delete that folder after
changing the code.

The record goes to ``--output`` (default ``runs/`` in the current folder), never over the lesson's
shipped record unless ``--output segedu/course/experiment_results --overwrite`` asks for it. The lesson's
first record came from

    python -m experiments.shortcut_study --seeds 0 1 2 3 4 --steps 1000 --output segedu/course/experiment_results --overwrite

(20 runs; 139 to 205 CPU-seconds per run on one thread of a busy 2-core machine, 57 CPU-minutes in all).
The control that separates ``indices``'s two changes (the indices, and the unpooling upsampler) is stored
apart, as ``shortcut_study_control``:

    python -m experiments.shortcut_study --seeds 0 1 2 3 4 --steps 1000 --shortcuts fixed_unpool --suffix control --output segedu/course/experiment_results

Its ``wall_seconds`` is that of the last invocation, which found every run in the parts folder. The defaults,
seeds 0 1 2 and 600 steps, are the study's first, shorter version. Three more seeds of ``none``, ``indices`` and the
control (lesson 11's eight-seed answer) are ``shortcut_study_moreseeds``:

    python -m experiments.shortcut_study --seeds 5 6 7 --steps 1000 --shortcuts none indices fixed_unpool \
        --suffix moreseeds --workers 1 --output segedu/course/experiment_results --overwrite

and the same three seeds of ``add`` and ``concat``, so that section 2 of lesson 11 has eight paired seeds, are
``shortcut_study_moreseedsfeature``:

    python -m experiments.shortcut_study --seeds 5 6 7 --steps 1000 --shortcuts add concat \
        --suffix moreseedsfeature --workers 1 --output segedu/course/experiment_results

Those records span two versions of the training code. All five variants over seeds 0 to 7
in one invocation of one code version are ``shortcut_study_oneversion`` (54 CPU-minutes on two workers), the record
lesson 11's sections 2 and 3 read at the peak rate 0.003:

    python -m experiments.shortcut_study --seeds 0 1 2 3 4 5 6 7 --steps 1000 \
        --shortcuts none add indices concat fixed_unpool --suffix oneversion --workers 2 \
        --output segedu/course/experiment_results

``--peak-lr`` replaces the study's one peak learning rate (0.003), for a check that the comparison does not rest on
that one rate. Lesson 11's check trains ``none``, ``indices`` and the control at a third and at three times the rate
(36 runs, about 50 CPU-minutes; here one worker each, one after the other):

    python -m experiments.shortcut_study --seeds 0 1 2 3 4 5 --steps 1000 --shortcuts none indices fixed_unpool \
        --peak-lr 0.001 --suffix lrlow --workers 1 --output segedu/course/experiment_results
    python -m experiments.shortcut_study --seeds 0 1 2 3 4 5 --steps 1000 --shortcuts none indices fixed_unpool \
        --peak-lr 0.01 --suffix lrhigh --workers 1 --output segedu/course/experiment_results

and ``add`` and ``concat`` the same way (``--shortcuts add concat``, suffixes ``lrlowfeature`` and ``lrhighfeature``),
so that all five variants have the three rates on seeds 0 to 5.

0.01 gave the best test seed means of the three for every variant, so lesson 11's sections 2 and 3 then read all five
variants at 0.01 over seeds 0 to 7, ``shortcut_study_lrhighall`` (its seeds 0 to 5 are the runs of ``lrhigh`` and
``lrhighfeature``, found in the parts folder; seeds 6 and 7 trained later; lesson 11's optional part still reads it
as the runs the course first chose the rate from):

    python -m experiments.shortcut_study --steps 1000 --shortcuts none add indices concat fixed_unpool \
        --output segedu/course/experiment_results --seeds 0 1 2 3 4 5 6 7 --peak-lr 0.01 --suffix lrhighall --workers 2

and, to check that 0.01 is not at the edge of the rates tried, seeds 0 to 5 of all five at 0.03,
``shortcut_study_lrtop``:

    python -m experiments.shortcut_study --steps 1000 --shortcuts none add indices concat fixed_unpool \
        --output segedu/course/experiment_results --seeds 0 1 2 3 4 5 --peak-lr 0.03 --suffix lrtop --workers 2

``--keep-models`` also saves each run's final weights (float16, with their sha256 in the record) next to the record,
as ``RECORD_SHORTCUT_seedSEED.pt``, so a lesson can show what the trained networks predict. Lesson 11's pictures then
came from seed 0 of all five variants at 0.01, trained again fresh (about 4 minutes on two workers),
``shortcut_study_lrhighmodels``:

    python -m experiments.shortcut_study --steps 1000 --shortcuts none add indices concat fixed_unpool \
        --output segedu/course/experiment_results --seeds 0 --peak-lr 0.01 --suffix lrhighmodels --keep-models --workers 2

``--validation-scenes N`` also scores each run on the first N scenes of ShapesScenes' validation split (drawn apart
from the training and test scenes) and keeps those confusion matrices under ``validation``, so that a learning rate
can be chosen without looking at the test scenes. The number joins the settings (and so the parts' fingerprint);
without the option the settings, parts and records are those of the studies above.

Lesson 11 now chooses the rate that way. All five variants over seeds 0 to 5 at 0.003, 0.01 and 0.03, each run also
scored on 200 validation scenes, are ``shortcut_study_valthree``, ``shortcut_study_valone`` and
``shortcut_study_valtop`` (``valone``'s test scores are ``lrhighall``'s seeds 0 to 5; 0.01 gave every variant its
highest validation mean IoU):

    python -m experiments.shortcut_study --steps 1000 --shortcuts none add indices concat fixed_unpool \
        --validation-scenes 200 --workers 1 --output segedu/course/experiment_results --seeds 0 1 2 3 4 5 \
        --peak-lr 0.003 --suffix valthree

and the same with ``--peak-lr 0.01 --suffix valone`` and ``--peak-lr 0.03 --suffix valtop``. Lesson 11's main study
is then all five variants at 0.01 on ten seeds that played no part in that choice, ``shortcut_study_freshseeds``:

    python -m experiments.shortcut_study --steps 1000 --shortcuts none add indices concat fixed_unpool \
        --peak-lr 0.01 --seeds 6 7 8 9 10 11 12 13 14 15 --suffix freshseeds --workers 2 \
        --output segedu/course/experiment_results

and its scene figure reads seed 6 of all five retrained with the weights kept (test confusion matrices equal
``freshseeds``' seed 6), ``shortcut_study_freshmodels``:

    python -m experiments.shortcut_study --steps 1000 --shortcuts none add indices concat fixed_unpool \
        --output segedu/course/experiment_results --seeds 6 --peak-lr 0.01 --suffix freshmodels --keep-models \
        --workers 2

Whether the leads of ``add`` and ``concat`` are only faster training is checked on seeds 6 to 8 trained twice as long
(2,000 steps, all else equal; 12 runs, about 26 minutes on two workers), ``shortcut_study_longer``:

    python -m experiments.shortcut_study --steps 2000 --shortcuts none add indices concat --peak-lr 0.01 \
        --seeds 6 7 8 --suffix longer --workers 2 --output segedu/course/experiment_results
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

from experiments._pool_study import cached_run, run_jobs, study_parser, train_and_score
from segedu.core.seeding import seed_everything
from segedu.course.experiments import check_record_target, save_experiment
from segedu.datasets import ShapesScenes
from segedu.models import get_model
from segedu.models.shortcut_variants import CONTROLS, SHORTCUTS
from segedu.training.checkpoints import save_checkpoint
from segedu.training.losses import cross_entropy_and_dice
from segedu.training.quick import render_pool, score_on_pool

NAME = "shortcut_study"
SETTINGS = {
    "model": "get_model('shortcut_net', in_channels=3, num_classes=4, base_channels=8, depth=3, shortcut=...)",
    "task": "ShapesScenes 64x64, 3 channels, 4 classes, dataset seed 0; train pool = the first 2000 train scenes",
    "train_scenes": 2000,
    "test_scenes": 200,
    "steps": 600,
    "batch_size": 16,
    "loss": "pixel cross-entropy + soft Dice",
    "optimizer": "AdamW, weight decay 0",
    "peak_lr": 0.003,
    "schedule": "one_cycle_lr (linear warm-up over the first 10%, cosine down to 0)",
    "warmup_fraction": 0.1,
    "prior_bias": "classifier's bias at the log class frequencies of the train pool",
    "precision": "float32",
    "threads": 1,
    "band_width": 2,
    "curve_every": 25,
    "varies_with_seed": "initial weights and batch order (encoder, bottleneck, classifier and batches "
                        "the same for every shortcut within a seed)",
}
PARTS_DIR = Path("runs/shortcut_study_parts")
MODELS_DIR: Path | None = None  # --keep-models: where each run's weights go (set before the workers fork)
RECORD_NAME = NAME
DEFAULT_PEAK_LR = SETTINGS["peak_lr"]  # the study's one rate; --peak-lr runs a check at another


def _pools() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    train_images, train_masks = render_pool(ShapesScenes("train", length=SETTINGS["train_scenes"]),
                                            SETTINGS["train_scenes"])
    test_images, test_masks = render_pool(ShapesScenes("test", length=SETTINGS["test_scenes"]),
                                          SETTINGS["test_scenes"])
    return train_images, train_masks, test_images, test_masks


def build(shortcut: str, seed: int) -> torch.nn.Module:
    """The study's model with ``shortcut``, its weights drawn from ``seed``."""
    seed_everything(seed)
    return get_model("shortcut_net", in_channels=3, num_classes=4, base_channels=8, depth=3, shortcut=shortcut)


def one_run(job: tuple[str, int]) -> dict:
    """Train one model with shortcut ``job[0]`` and seed ``job[1]``; return its scores, curve and timing."""
    shortcut, seed = job

    def compute() -> dict:
        torch.set_num_threads(SETTINGS["threads"])
        pools = _pools()
        model = build(shortcut, seed)
        result = train_and_score(model, pools, cross_entropy_and_dice, SETTINGS, seed=seed, num_classes=4)
        if SETTINGS.get("validation_scenes"):  # scored after training: the test scores stay as they were
            size = SETTINGS["validation_scenes"]
            validation_images, validation_masks = render_pool(ShapesScenes("val", length=size), size)
            result["validation"] = score_on_pool(model, validation_images, validation_masks, 4,
                                                 band_width=SETTINGS["band_width"])
        if MODELS_DIR is not None:
            metadata = {"model": SETTINGS["model"], "shortcut": shortcut, "seed": seed, "steps": SETTINGS["steps"]}
            path = MODELS_DIR / model_file(RECORD_NAME, shortcut, seed)
            result["checkpoint_sha256"] = save_checkpoint(model, path, metadata=metadata, half_precision=True)
        return result

    kept = "_kept" if MODELS_DIR is not None else ""  # a run without its weights cannot stand in for one with them
    return cached_run(PARTS_DIR, f"{shortcut}_{seed}_{SETTINGS['steps']}{kept}", SETTINGS, compute)


def model_file(record_name: str, shortcut: str, seed: int) -> str:
    """The file name of one kept run's weights: ``RECORD_SHORTCUT_seedSEED.pt``."""
    return f"{record_name}_{shortcut}_seed{seed}.pt"


def build_parser() -> argparse.ArgumentParser:
    """The command-line options of the study."""
    parser = study_parser(__doc__.splitlines()[0], steps=SETTINGS["steps"])
    parser.add_argument("--shortcuts", nargs="+", choices=SHORTCUTS + CONTROLS, default=list(SHORTCUTS),
                        help="the shortcuts to train (default: the four of the lesson)")
    parser.add_argument("--suffix", default="",
                        help="name the record shortcut_study_SUFFIX (lower-case letters); needed for other shortcuts")
    parser.add_argument("--peak-lr", type=float, default=DEFAULT_PEAK_LR,
                        help=f"AdamW's peak learning rate (default {DEFAULT_PEAK_LR}, the study's one rate; "
                             "another needs --suffix)")
    parser.add_argument("--validation-scenes", type=int, default=0,
                        help="also score every run on this many validation scenes (needs --suffix)")
    parser.add_argument("--keep-models", action="store_true",
                        help="also save each run's final weights next to the record (needs --suffix)")
    return parser


def main() -> None:
    parser = build_parser()
    arguments = parser.parse_args()
    record_name = NAME
    if arguments.suffix:
        if not arguments.suffix.isalpha() or not arguments.suffix.islower():
            parser.error(f"--suffix must be lower-case letters, e.g. control; got {arguments.suffix!r}")
        record_name = f"{NAME}_{arguments.suffix}"
    elif list(arguments.shortcuts) != list(SHORTCUTS):
        parser.error("other --shortcuts need --suffix, so that their record does not take the main record's name")
    if not 0 < arguments.peak_lr < 1:
        parser.error(f"--peak-lr must be between 0 and 1, e.g. 0.001; got {arguments.peak_lr}")
    if arguments.peak_lr != DEFAULT_PEAK_LR and not arguments.suffix:
        parser.error("another --peak-lr needs --suffix, so that its record does not take the main record's name")
    if arguments.validation_scenes < 0:
        parser.error(f"--validation-scenes must be 0 or more, e.g. 200; got {arguments.validation_scenes}")
    if arguments.validation_scenes and not arguments.suffix:
        parser.error("--validation-scenes needs --suffix, so that its record does not take the main record's name")
    if arguments.keep_models and not arguments.suffix:
        parser.error("--keep-models needs --suffix (its checkpoints take the record's name)")
    try:
        check_record_target(arguments.output, record_name, overwrite=arguments.overwrite)
    except ValueError as error:
        parser.error(str(error))
    global MODELS_DIR, RECORD_NAME
    RECORD_NAME = record_name
    if arguments.keep_models:
        arguments.output.mkdir(parents=True, exist_ok=True)
        MODELS_DIR = arguments.output  # read by the worker processes, which fork after this line
    SETTINGS["steps"] = arguments.steps
    SETTINGS["peak_lr"] = arguments.peak_lr  # part of the settings' fingerprint, so each rate keeps its own parts
    SETTINGS.pop("validation_scenes", None)  # absent without the option: the old fingerprints hold
    if arguments.validation_scenes:
        SETTINGS["validation_scenes"] = arguments.validation_scenes
    torch.set_num_threads(SETTINGS["threads"])
    started_wall = time.perf_counter()
    _pools()  # renders the scene caches once
    jobs = [(shortcut, seed) for seed in arguments.seeds for shortcut in arguments.shortcuts]
    outcomes = run_jobs(one_run, jobs, arguments.workers)
    runs: dict[str, dict[str, dict]] = {shortcut: {} for shortcut in arguments.shortcuts}
    for (shortcut, seed), outcome in zip(jobs, outcomes):
        runs[shortcut][str(seed)] = outcome
    results = {
        "runs": runs,
        "cpu_seconds": round(sum(outcome["cpu_seconds"] for outcome in outcomes), 1),
        "wall_seconds": round(time.perf_counter() - started_wall, 1),
    }
    arguments.output.mkdir(parents=True, exist_ok=True)
    command = " ".join(["python -m experiments.shortcut_study", *sys.argv[1:]])
    path = save_experiment(record_name, command=command, settings=SETTINGS, seeds=arguments.seeds, results=results,
                           directory=arguments.output)
    print(f"record written to {path}")


if __name__ == "__main__":
    main()
