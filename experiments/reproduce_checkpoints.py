"""Every shipped checkpoint retrained by its own manifest command, timed on this machine.

The manifest (``segedu/training/checkpoints/manifest.json``) stores, for every shipped checkpoint, the full
``segedu train ... --ship --force`` command that made it. This study runs each of those commands again, one
at a time, exactly as a user would type it, except that ``--ship`` is replaced by ``--output PARTS/KEY.pt``
(a new file; the shipped one is never touched). For each run it keeps the wall-clock time of the whole
command (start-up, data, training, scoring and saving) and the processor time it used (with one thread, close to
the wall time on an idle machine; heavy load raises it too), the test metrics the command printed, whether the new
file holds the same weights as the shipped one, and the machine's load before and after.

A run repeats the shipped file byte for byte only on the CPU model and package versions that made it
(``trained_on`` in the manifest); elsewhere floating-point results differ in their last bits and training
amplifies them, so the record also prints how far the test mean IoU moved.

Each finished run is kept in ``--parts`` (its checkpoint and a JSON file), so an interrupted study resumes
where it stopped; the record is written when every run is there, or with ``--partial`` from the runs finished
so far. The record goes to ``--output`` (default ``runs/``), never over the shipped record unless
``--output segedu/course/experiment_results --overwrite`` asks for it.

    python -m experiments.reproduce_checkpoints                      # all ten, one after another
    python -m experiments.reproduce_checkpoints --checkpoints unet-digits
    python -m experiments.reproduce_checkpoints --checkpoints segnet-digits --threads 2   # both cores

After a re-ship, ``--update`` reruns only the named checkpoints and keeps every other run of the shipped record
(refused if a kept run's manifest command or score no longer matches the manifest):

    python -m experiments.reproduce_checkpoints --checkpoints segnet-digits segnet-shapes --update \
        --output segedu/course/experiment_results --overwrite

``--threads N`` replaces the manifest's ``--threads 1`` (nothing else): the runs then use N cores, are kept in
their own parts (``KEY-threadsN``) and go to their own record, ``reproduce_checkpoints_threadsN``. The record of
the manifest commands themselves stays ``reproduce_checkpoints``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from segedu.core.device import cpu_name
from segedu.course.experiments import check_record_target, load_experiment, save_experiment
from segedu.training.checkpoints import load_checkpoint
from segedu.training.shipped import CHECKPOINT_DIR, read_manifest

NAME = "reproduce_checkpoints"
SETTINGS = {
    "command": "each manifest entry's own command, with --ship replaced by --output PARTS/KEY.pt",
    "order": "one run at a time",
    "wall_seconds": "the whole command, from start to exit: imports, data, training, test scoring, saving",
    "cpu_seconds": "processor time the command used (user + system); with one thread, about its wall time on an "
                   "otherwise idle machine, whatever else ran beside it",
    "same_weights": "every tensor of the new file equal to the shipped file's",
}


def reproduction_command(manifest_command: str, output: Path, threads: int | None = None) -> list[str]:
    """The manifest's ``segedu train`` command as an argument list that writes to ``output`` instead of shipping.

    Args:
        manifest_command: e.g. ``"segedu train unet digits --steps 4000 --seed 0 --threads 1 --ship --force"``.
        output: The new checkpoint's path.
        threads: If given, the value that replaces the command's ``--threads`` (the command must name one).

    Returns:
        ``[sys.executable, "-m", "segedu", "train", ..., "--output", str(output), "--force"]``.

    Raises:
        ValueError: If the command is not a shipped ``segedu train ... --ship`` command, or ``threads`` is given
            and is not a positive whole number or the command names no ``--threads``.
    """
    words = shlex.split(manifest_command)
    if words[:2] != ["segedu", "train"] or "--ship" not in words:
        raise ValueError(f"not a shipped 'segedu train ... --ship' command: {manifest_command!r}")
    kept = [word for word in words[2:] if word not in ("--ship", "--force")]
    if threads is not None:
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            raise ValueError(f"threads must be a positive whole number such as 2, got {threads!r}")
        if "--threads" not in kept[:-1]:
            raise ValueError(f"the command names no --threads to replace: {manifest_command!r}")
        kept[kept.index("--threads") + 1] = str(threads)
    return [sys.executable, "-m", "segedu", "train", *kept, "--output", str(output), "--force"]


def _part_stem(key: str, threads: int | None) -> str:
    """A finished run's file name without suffix: the manifest key, with a changed thread count named."""
    return key if threads is None else f"{key}-threads{threads}"


def _largest_difference(first: dict[str, torch.Tensor], second: dict[str, torch.Tensor]) -> float:
    """The largest absolute difference between two state dicts with the same keys and shapes."""
    if first.keys() != second.keys():
        raise ValueError("the two checkpoints hold different tensors")
    return max((first[key].double() - second[key].double()).abs().max().item() if first[key].numel() else 0.0
               for key in first)


def one_run(key: str, entry: dict[str, Any], parts: Path, progress: bool = True,
            threads: int | None = None) -> dict[str, Any]:
    """Run ``entry``'s command again into ``parts``; the comparison with the shipped file.

    Args:
        key: The manifest key, e.g. ``"unet-digits"``.
        entry: Its manifest entry.
        parts: Folder for the new checkpoint and the run's JSON (a finished run is read back, not rerun).
        progress: Let the command show its progress bar (on stderr).
        threads: If given, the ``--threads`` value that replaces the manifest's (the part is then ``KEY-threadsN``).

    Returns:
        The run's result: command, wall and training seconds, load averages, test metrics (shipped and new),
        the validation curve and whether the weights are the shipped ones.
    """
    stem = _part_stem(key, threads)
    part = parts / f"{stem}.json"
    if part.is_file():
        return json.loads(part.read_text())
    output = parts / f"{stem}.pt"
    command = reproduction_command(entry["command"], output, threads)
    load_before = os.getloadavg()
    used_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    finished = subprocess.run(command, check=True, stdout=subprocess.PIPE,
                              stderr=None if progress else subprocess.DEVNULL, text=True)
    wall_seconds = time.perf_counter() - started
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_seconds = used.ru_utime + used.ru_stime - used_before.ru_utime - used_before.ru_stime
    load_after = os.getloadavg()
    printed = json.loads(finished.stdout)
    new = load_checkpoint(output, expected_sha256=printed["sha256"])["state_dict"]
    shipped = load_checkpoint(CHECKPOINT_DIR / entry["file"], expected_sha256=entry["sha256"])["state_dict"]
    difference = _largest_difference(new, shipped)
    result = {
        "checkpoint": key,
        "manifest_command": entry["command"],
        "command": " ".join(["segedu", *command[3:]]),
        "shipped_trained_on": entry["trained_on"],
        "trained_on": printed["trained_on"],
        "threads": int(command[command.index("--threads") + 1]) if "--threads" in command else None,
        "wall_seconds": round(wall_seconds, 1),
        "train_seconds": printed["train_seconds"],
        "cpu_seconds": round(cpu_seconds, 1),
        "load_average_before": [round(value, 2) for value in load_before],
        "load_average_after": [round(value, 2) for value in load_after],
        "shipped_test_mean_iou": entry["test_metrics"]["mean_iou"],
        "test_metrics": printed["test_metrics"],
        "val_curve": printed["val_curve"],
        "same_weights": difference == 0.0,
        "largest_weight_difference": difference,
        "same_file": printed["sha256"] == entry["sha256"],
    }
    part.write_text(json.dumps(result))
    return result


def summary(results: dict[str, Any]) -> str:
    """The README's sentence about a reproduction record: minutes per thread count, and how far the scores moved.

    One-thread commands are summarised by their processor time (about their wall time on an idle core), commands
    with more threads by their wall time (their processor time adds up every thread).

    Args:
        results: A record's ``results`` (``runs`` keyed by checkpoint, each with its ``threads``).
    """
    runs = list(results["runs"].values())
    parts = []
    for threads in sorted({run["threads"] for run in runs}):
        group = [run for run in runs if run["threads"] == threads]
        names = ", ".join(run["checkpoint"] for run in group)
        if threads == 1:
            minutes = [run["cpu_seconds"] / 60 for run in group]
            parts.append(f"the {len(group)} one-thread commands used {min(minutes):.1f} to {max(minutes):.1f} "
                         f"CPU-minutes ({sum(value < 15 for value in minutes)} of {len(group)} under 15)")
        else:
            minutes = [run["wall_seconds"] / 60 for run in group]
            parts.append(f"the {len(group)} commands with {threads} threads ({names}) took {min(minutes):.1f} to "
                         f"{max(minutes):.1f} minutes of wall time ({sum(value < 15 for value in minutes)} of "
                         f"{len(group)} under 15)")
    shifts = [run["test_metrics"]["mean_iou"] - run["shipped_test_mean_iou"] for run in runs]
    identical = sum(run["same_weights"] for run in runs)
    largest = max(runs, key=lambda run: abs(run["test_metrics"]["mean_iou"] - run["shipped_test_mean_iou"]))
    return (f"{'; '.join(parts)}; {identical} of {len(runs)} came out with the shipped weights, and test mean IoU "
            f"moved by {min(shifts):+.3f} to {max(shifts):+.3f} (the largest move: {largest['checkpoint']}, "
            f"{largest['shipped_test_mean_iou']:.3f} shipped, {largest['test_metrics']['mean_iou']:.3f} rerun)")


def threads_summary(results: dict[str, Any]) -> str:
    """The README's sentence about a record made with ``--threads N``: wall minutes and scores per checkpoint.

    Args:
        results: The record's ``results`` (``runs`` keyed by checkpoint, each with its ``threads``).
    """
    runs = list(results["runs"].values())
    threads = sorted({run["threads"] for run in runs})
    if len(threads) != 1:
        raise ValueError(f"the runs used different thread counts {threads}; summarise one count at a time")
    each = "; ".join(f"{run['checkpoint']} {run['wall_seconds'] / 60:.1f} minutes of wall time "
                     f"({run['cpu_seconds'] / 60:.1f} CPU-minutes), test mean IoU {run['test_metrics']['mean_iou']:.3f} "
                     f"(shipped {run['shipped_test_mean_iou']:.3f})" for run in runs)
    return f"with --threads {threads[0]} in place of --threads 1 and nothing else changed: {each}"


def build_parser() -> argparse.ArgumentParser:
    """The command line of this study."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoints", nargs="+", default=None,
                        help="manifest keys such as unet-digits (default: every shipped checkpoint)")
    parser.add_argument("--parts", type=Path, default=Path("runs/reproduce_checkpoints_parts"),
                        help="folder for finished runs (checkpoints and results); an interrupted study resumes from it")
    parser.add_argument("--output", type=Path, default=Path("runs"),
                        help="folder for the record (default runs/; the shipped record is in experiment_results)")
    parser.add_argument("--overwrite", action="store_true", help="allow replacing a record the course ships")
    parser.add_argument("--threads", type=int, default=None,
                        help="replace the manifest's --threads 1 by this many threads (own parts and record)")
    parser.add_argument("--partial", action="store_true", help="write the record from the runs finished so far")
    parser.add_argument("--update", action="store_true",
                        help="keep the shipped record's runs of the checkpoints not named in --checkpoints")
    return parser


def kept_runs(record: dict[str, Any], manifest: dict[str, Any], rerun: list[str]) -> dict[str, Any]:
    """The runs of a stored record that an update keeps: every checkpoint not rerun, still as shipped.

    A kept run lacking ``threads`` (records made before the field existed) gets the count its command names.

    Args:
        record: The stored reproduction record.
        manifest: The current manifest.
        rerun: The checkpoints run again now.

    Raises:
        ValueError: If a kept run's command or shipped score differs from the manifest's (it is stale: rerun it too),
            or the record lacks a checkpoint of the manifest.
    """
    kept = {}
    for key in sorted(set(manifest) - set(rerun)):
        run = record["results"]["runs"].get(key)
        if run is None:
            raise ValueError(f"the stored record has no run of {key}; add it to --checkpoints")
        if (run["manifest_command"], run["shipped_test_mean_iou"]) != (
                manifest[key]["command"], manifest[key]["test_metrics"]["mean_iou"]):
            raise ValueError(f"the stored run of {key} is of a checkpoint that has been re-shipped since; "
                             "add it to --checkpoints")
        words = run["command"].split()
        kept[key] = {**run, "threads": int(words[words.index("--threads") + 1])}  # older records lack the field
    return kept


def main() -> None:
    parser = build_parser()
    arguments = parser.parse_args()
    manifest = read_manifest()
    keys = arguments.checkpoints or sorted(manifest)
    unknown = [key for key in keys if key not in manifest]
    if unknown:
        parser.error(f"no shipped checkpoint named {unknown}; choose from {sorted(manifest)}")
    threads = arguments.threads
    if threads is not None and threads < 1:
        parser.error(f"--threads must be 1 or more, got {threads}")
    name = NAME if threads is None else f"{NAME}_threads{threads}"
    try:
        check_record_target(arguments.output, name, overwrite=arguments.overwrite)
    except ValueError as error:
        parser.error(str(error))
    arguments.parts.mkdir(parents=True, exist_ok=True)
    kept: dict[str, Any] = {}
    if arguments.update:
        if threads is not None or arguments.checkpoints is None:
            parser.error("--update keeps the manifest commands' record; name the rerun --checkpoints, "
                         "without --threads")
        try:
            kept = kept_runs(load_experiment(NAME), manifest, keys)
        except ValueError as error:
            parser.error(str(error))
    if arguments.partial:
        runs = [json.loads(part.read_text()) for key in keys
                if (part := arguments.parts / f"{_part_stem(key, threads)}.json").is_file()]
    else:
        runs = [one_run(key, manifest[key], arguments.parts, threads=threads)
                for key in tqdm(keys, desc="checkpoints", unit="run")]
    runs += list(kept.values())
    results = {
        "machine": cpu_name(),
        "cores": os.cpu_count(),
        "runs": {run["checkpoint"]: run for run in sorted(runs, key=lambda run: run["checkpoint"])},
        "longest_wall_minutes": round(max(run["wall_seconds"] for run in runs) / 60, 1) if runs else None,
        "longest_cpu_minutes": round(max(run["cpu_seconds"] for run in runs) / 60, 1) if runs else None,
    }
    arguments.output.mkdir(parents=True, exist_ok=True)
    command = " ".join(["python -m experiments.reproduce_checkpoints", *sys.argv[1:]])
    settings = dict(SETTINGS)
    if kept:
        settings["kept"] = f"runs of {sorted(kept)} kept from the record before this update"
    if threads is not None:
        settings["command"] = (f"each manifest entry's own command, with --threads 1 replaced by --threads {threads} "
                               "and --ship by --output PARTS/KEY-threadsN.pt")
        settings["cpu_seconds"] = (f"processor time the command used (user + system), summed over its {threads} "
                                   "threads")
    path = save_experiment(name, command=command, settings=settings, seeds=[0], results=results,
                           directory=arguments.output)
    print(f"record written to {path} ({len(runs) - len(kept)} of {len(keys)} runs"
          + (f", {len(kept)} kept from the record before)" if kept else ")"))
    if runs:
        print(summary(results) if threads is None else threads_summary(results))


if __name__ == "__main__":
    main()
