"""``python -m benchmarks``: measure this machine and write the report (``make bench``)."""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from benchmarks.machine import describe_machine
from benchmarks.report import check_training_results, report_markdown, save_plot, update_readme, write_atomically
from benchmarks.training import REFERENCE, TRAINING_MODELS

__all__ = ["DEFAULT_TARGETS", "PARTS", "build_parser", "main", "run_benchmarks"]

PARTS = ("notebooks", "levers", "training", "inference", "widgets")
# The README's headline quotes the training part (and the lessons' and widgets' times when they are measured too);
# a run without it leaves the README alone.
HEADLINE_PART = "training"
# Validation mean IoU of a usable model, about what the shipped U-Net reached after its 4,000-step recipe (test mean
# IoU 0.91 on the shapes, 0.85 on the digits): the report says whether, and how soon, each model gets there
# within the budget.
DEFAULT_TARGETS = {"shapes": 0.90, "digits": 0.80}
ROOT = Path(__file__).resolve().parents[1]


def build_parser() -> argparse.ArgumentParser:
    """Command-line options.

    With the defaults, the training part alone is 6 models x 2 datasets x 3 seeds x 180 s, about two hours
    (``--models`` trains fewer).
    """
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated subset of {','.join(PARTS)}")
    parser.add_argument("--output-dir", type=Path, default=ROOT / "docs", help="where benchmarks.md/.png/.json go")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md",
                        help="README whose headline numbers are updated (when the training part is measured)")
    parser.add_argument("--update", action="store_true",
                        help="keep the other parts of the saved benchmarks.json and re-measure only --parts")
    parser.add_argument("--notebooks", type=Path, nargs="*", default=None, help="notebooks (default: all lessons)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads for inference and the widgets (the machine line quotes it)")
    parser.add_argument("--training-threads", type=int, default=None,
                        help="torch threads for training (default: every core, as the 3-minute recipe uses)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per notebook and timed passes (>= 3)")
    parser.add_argument("--seconds", type=float, default=180.0, help="training budget per run, in seconds")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="training seeds per model and dataset")
    parser.add_argument("--models", nargs="+", default=list(TRAINING_MODELS), choices=TRAINING_MODELS,
                        help="models the training part trains (default: all; each adds 2 datasets x seeds x --seconds)")
    parser.add_argument("--observe-every", type=float, default=15.0,
                        help="training seconds between validation scores (not counted in the budget)")
    parser.add_argument("--val-scenes", type=int, default=64, help="validation scenes scored at each observation")
    parser.add_argument("--widget-changes", type=int, default=5, help="changes per widget control (>= 3)")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    return parser


def _measure_notebooks(arguments: argparse.Namespace, progress: bool) -> tuple[dict[str, Any], list[Any]]:
    from benchmarks.notebooks import benchmark_notebooks

    paths = arguments.notebooks or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    return {"repeats": arguments.repeats}, benchmark_notebooks(paths, repeats=arguments.repeats, progress=progress)


def _measure_training(arguments: argparse.Namespace, progress: bool) -> tuple[dict[str, Any], list[Any]]:
    from tqdm.auto import tqdm

    from benchmarks.training import TrainingRun, benchmark_training
    from segedu.training.quick import QuickRecipe

    recipe = QuickRecipe()
    threads = arguments.training_threads or os.cpu_count() or 1
    settings = {
        "measure": "time budget",
        "models": list(arguments.models), "reference": REFERENCE, "datasets": ["shapes", "digits"],
        "seconds": arguments.seconds, "seeds": list(arguments.seeds), "observe_every": arguments.observe_every,
        "val_scenes": arguments.val_scenes, "threads": threads, "recipe": dataclasses.asdict(recipe),
        "targets": DEFAULT_TARGETS,
    }
    cases = [
        (model, dataset, seed)
        for dataset in settings["datasets"] for model in settings["models"] for seed in settings["seeds"]
    ]
    # Each finished run is appended to a journal, so an interrupted part resumes where it stopped (same settings).
    journal = arguments.output_dir / "benchmarks.training-runs.jsonl"
    journal.parent.mkdir(parents=True, exist_ok=True)
    done = _journal_runs(journal, settings)
    inference_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        runs = []
        for model, dataset, seed in tqdm(cases, desc="training", unit="run", disable=not progress):
            if (model, dataset, seed) not in done:
                run = benchmark_training(
                    model, dataset, seconds=settings["seconds"], target=settings["targets"][dataset], seed=seed,
                    observe_every=settings["observe_every"], val_scenes=settings["val_scenes"], recipe=recipe,
                )
                done[(model, dataset, seed)] = dataclasses.asdict(run)
                with journal.open("a") as file:
                    file.write(json.dumps({"settings": settings, "run": done[(model, dataset, seed)]}) + "\n")
            runs.append(done[(model, dataset, seed)])
    finally:
        torch.set_num_threads(inference_threads)
    journal.unlink(missing_ok=True)  # the part is complete: its runs go into benchmarks.json
    return settings, [TrainingRun(**run) for run in runs]


def _journal_runs(journal: Path, settings: dict[str, Any]) -> dict[tuple[str, str, int], dict[str, Any]]:
    """The runs an interrupted training part finished with the same settings, keyed by (model, dataset, seed)."""
    if not journal.exists():
        return {}
    entries = [json.loads(line) for line in journal.read_text().splitlines() if line.strip()]
    same = [entry["run"] for entry in entries if entry["settings"] == json.loads(json.dumps(settings))]
    if same:
        print(f"Resuming the training part: {len(same)} run(s) from {journal}", flush=True)
    return {(run["model"], run["dataset"], run["seed"]): run for run in same}


def _measure_inference(arguments: argparse.Namespace, progress: bool) -> tuple[dict[str, Any], list[Any]]:
    from tqdm.auto import tqdm

    from benchmarks.inference import benchmark_inference
    from benchmarks.training import SEGEDU_MODELS

    sizes = (64, 256, 512)
    models = tqdm([*SEGEDU_MODELS, REFERENCE], desc="inference", unit="model", disable=not progress)
    items = [item for model in models for item in benchmark_inference(model, sizes, repeats=arguments.repeats)]
    return {"sizes": list(sizes), "repeats": arguments.repeats}, items


def _measure_widgets(arguments: argparse.Namespace, progress: bool) -> tuple[dict[str, Any], list[Any]]:
    from benchmarks.widgets import benchmark_widgets

    return {"changes": arguments.widget_changes}, benchmark_widgets(changes=arguments.widget_changes,
                                                                     progress=progress)


def _measure_levers(arguments: argparse.Namespace, progress: bool) -> tuple[dict[str, Any], list[Any]]:
    from benchmarks.levers import benchmark_levers

    settings = {"model": "unet", "dataset": "digits", "steps": 20, "rounds": arguments.repeats, "batch_size": 32}
    return settings, benchmark_levers(settings["model"], settings["dataset"], steps=settings["steps"],
                                      rounds=settings["rounds"], batch_size=settings["batch_size"])


_MEASURE = {
    "notebooks": _measure_notebooks,
    "levers": _measure_levers,
    "training": _measure_training,
    "inference": _measure_inference,
    "widgets": _measure_widgets,
}


def _check_arguments(arguments: argparse.Namespace) -> None:
    """Refuse impossible options before anything is measured."""
    for option, value in (("--threads", arguments.threads), ("--training-threads", arguments.training_threads),
                          ("--val-scenes", arguments.val_scenes)):
        if value is not None and value < 1:
            raise SystemExit(f"{option} must be at least 1; got {value}")
    for option, value in (("--seconds", arguments.seconds), ("--observe-every", arguments.observe_every)):
        if not value > 0:
            raise SystemExit(f"{option} must be positive; got {value}")
    if REFERENCE not in arguments.models:
        raise SystemExit(f"--models must include the reference {REFERENCE!r}: every ratio is taken against it")
    if len(set(arguments.seeds)) != len(arguments.seeds):
        raise SystemExit(f"--seeds must differ from each other; got {arguments.seeds}")


def run_benchmarks(arguments: argparse.Namespace, previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """Measure the chosen parts; return the results in their plain (JSON) form.

    Args:
        arguments: Parsed command-line options.
        previous: Saved results to keep for the parts not measured now (same machine only).
    """
    parts = [part.strip() for part in arguments.parts.split(",") if part.strip()]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        raise SystemExit(f"unknown part(s) {unknown}; choose from {list(PARTS)}")
    _check_arguments(arguments)
    torch.set_num_threads(arguments.threads)
    machine = describe_machine(arguments.threads)
    print("Machine:", machine.line(), flush=True)
    results: dict[str, Any] = {"settings": {}, "part_seconds": {}, **(previous or {})}
    # Parts kept from an older run keep the date they were measured on.
    results["part_dates"] = {part: results.get("part_dates", {}).get(part, results.get("date"))
                             for part in results["part_seconds"]}
    if previous is not None and previous["machine"]["line"] != machine.line():
        raise SystemExit(
            f"--update mixes machines: the saved results come from {previous['machine']['line']!r}; "
            "measure every part here instead"
        )
    if previous is not None and previous.get("training") and "training" not in parts:
        try:
            check_training_results(previous)
        except ValueError as error:
            raise SystemExit(f"--update cannot keep the saved training part: {error}") from error
    results["machine"] = {**dataclasses.asdict(machine), "line": machine.line()}
    results["date"] = datetime.date.today().isoformat()
    for part in parts:
        started = time.perf_counter()
        settings, items = _MEASURE[part](arguments, not arguments.no_progress)
        results["settings"][part] = settings
        results[part] = [dataclasses.asdict(item) for item in items]
        results["part_seconds"][part] = time.perf_counter() - started
        results["part_dates"][part] = results["date"]
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, then write benchmarks.json, benchmarks.md and benchmarks.png (and the README)."""
    arguments = build_parser().parse_args(argv)
    output = arguments.output_dir
    saved = output / "benchmarks.json"
    previous = json.loads(saved.read_text()) if arguments.update and saved.exists() else None
    results = run_benchmarks(arguments, previous)
    write_atomically(saved, json.dumps(results, indent=1) + "\n")
    save_plot(results, output / "benchmarks.png")
    write_atomically(output / "benchmarks.md", report_markdown(results))
    if results.get(HEADLINE_PART):
        update_readme(arguments.readme, results)
        print(f"Updated the headline numbers in {arguments.readme}")
    minutes = sum(results["part_seconds"].values()) / 60
    print(f"Wrote {output / 'benchmarks.md'} and benchmarks.png ({minutes:.1f} min of measuring)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
