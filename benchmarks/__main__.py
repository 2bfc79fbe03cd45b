"""``python -m benchmarks``: measure this machine and write the report (``make bench``)."""

from __future__ import annotations

import argparse
import datetime
import json
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from benchmarks.machine import describe_machine
from benchmarks.report import report_markdown, save_plot, update_readme, write_atomically

__all__ = ["DEFAULT_TARGETS", "PARTS", "build_parser", "main", "run_benchmarks"]

PARTS = ("notebooks", "training", "inference", "widgets")
# Validation mean IoU to reach within the 400-step budget (the first half-minute to two minutes of
# training on 2 cores): clear progress beyond labelling everything background, which scores about
# 0.21 on the shapes and 0.09 on the digits. Longer comparisons: --steps 2000 (about an hour).
DEFAULT_TARGETS = {"shapes": 0.33, "digits": 0.12}
ROOT = Path(__file__).resolve().parents[1]


def build_parser() -> argparse.ArgumentParser:
    """Command-line options (the defaults fit in about a quarter of an hour on 2 cores)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated subset of {','.join(PARTS)}")
    parser.add_argument("--output-dir", type=Path, default=ROOT / "docs", help="where benchmarks.md/.png/.json go")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md",
                        help="README whose headline numbers are updated (once every part is measured)")
    parser.add_argument("--update", action="store_true",
                        help="keep the other parts of the saved benchmarks.json and re-measure only --parts")
    parser.add_argument("--notebooks", type=Path, nargs="*", default=None, help="notebooks (default: all lessons)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads for training and inference")
    parser.add_argument("--repeats", type=int, default=3, help="runs per notebook and timed passes (>= 3)")
    parser.add_argument("--steps", type=int, default=400, help="training steps per model")
    parser.add_argument("--eval-every", type=int, default=50, help="steps between validations")
    parser.add_argument("--widget-changes", type=int, default=5, help="changes per widget control (>= 3)")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    return parser


def _measure_notebooks(arguments: argparse.Namespace, progress: bool) -> tuple[dict[str, Any], list[Any]]:
    from benchmarks.notebooks import benchmark_notebooks

    paths = arguments.notebooks or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    return {"repeats": arguments.repeats}, benchmark_notebooks(paths, repeats=arguments.repeats, progress=progress)


def _measure_training(arguments: argparse.Namespace, progress: bool) -> tuple[dict[str, Any], list[Any]]:
    from tqdm.auto import tqdm

    from benchmarks.training import REFERENCE, SEGEDU_MODELS, benchmark_training

    settings = {
        "models": list(SEGEDU_MODELS), "reference": REFERENCE, "datasets": ["shapes", "digits"],
        "steps": arguments.steps, "eval_every": arguments.eval_every, "batch_size": 16, "lr": 3e-3, "seed": 0,
        "val_scenes": 64, "targets": DEFAULT_TARGETS,
    }
    cases = [(model, dataset) for dataset in settings["datasets"] for model in [*SEGEDU_MODELS, REFERENCE]]
    runs = [
        benchmark_training(
            model, dataset, steps=settings["steps"], eval_every=settings["eval_every"],
            target=settings["targets"][dataset], batch_size=settings["batch_size"], lr=settings["lr"],
            val_scenes=settings["val_scenes"], seed=settings["seed"],
        )
        for model, dataset in tqdm(cases, desc="training", unit="run", disable=not progress)
    ]
    return settings, runs


def _measure_inference(arguments: argparse.Namespace, progress: bool) -> tuple[dict[str, Any], list[Any]]:
    from tqdm.auto import tqdm

    from benchmarks.inference import benchmark_inference
    from benchmarks.training import REFERENCE, SEGEDU_MODELS

    sizes = (64, 256, 512)
    models = tqdm([*SEGEDU_MODELS, REFERENCE], desc="inference", unit="model", disable=not progress)
    items = [item for model in models for item in benchmark_inference(model, sizes, repeats=arguments.repeats)]
    return {"sizes": list(sizes), "repeats": arguments.repeats}, items


def _measure_widgets(arguments: argparse.Namespace, progress: bool) -> tuple[dict[str, Any], list[Any]]:
    from benchmarks.widgets import benchmark_widgets

    return {"changes": arguments.widget_changes}, benchmark_widgets(changes=arguments.widget_changes,
                                                                     progress=progress)


_MEASURE = {
    "notebooks": _measure_notebooks,
    "training": _measure_training,
    "inference": _measure_inference,
    "widgets": _measure_widgets,
}


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
    if arguments.threads < 1:
        raise SystemExit(f"--threads must be at least 1; got {arguments.threads}")
    torch.set_num_threads(arguments.threads)
    machine = describe_machine(arguments.threads)
    print("Machine:", machine.line(), flush=True)
    results: dict[str, Any] = {"settings": {}, "part_seconds": {}, **(previous or {})}
    if previous is not None and previous["machine"]["line"] != machine.line():
        raise SystemExit(
            f"--update mixes machines: the saved results come from {previous['machine']['line']!r}; "
            "measure every part here instead"
        )
    results["machine"] = {**asdict(machine), "line": machine.line()}
    results["date"] = datetime.date.today().isoformat()
    for part in parts:
        started = time.perf_counter()
        settings, items = _MEASURE[part](arguments, not arguments.no_progress)
        results["settings"][part] = settings
        results[part] = [asdict(item) for item in items]
        results["part_seconds"][part] = time.perf_counter() - started
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
    if all(results.get(part) for part in PARTS):
        update_readme(arguments.readme, results)
        print(f"Updated the headline numbers in {arguments.readme}")
    minutes = sum(results["part_seconds"].values()) / 60
    print(f"Wrote {output / 'benchmarks.md'} and benchmarks.png ({minutes:.1f} min of measuring)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
