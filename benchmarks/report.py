"""Turn benchmark results into ``docs/benchmarks.md``, a plot and the README's headline numbers.

Every function here works on the plain dictionary form of the results (what
``docs/benchmarks.json`` holds), so the report and the README can be rebuilt from that file.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
from pathlib import Path
from typing import Any

__all__ = [
    "GOALS",
    "README_END",
    "README_START",
    "check_training_results",
    "course_totals",
    "headline_markdown",
    "load_results",
    "measured_on",
    "median_curve",
    "report_markdown",
    "save_plot",
    "training_summary",
    "update_readme",
    "write_atomically",
]

# The course's promises for a 2-core laptop CPU.
GOALS = {"notebook_seconds": 60.0, "course_seconds": 300.0, "peak_rss_bytes": 2 * 2**30}
README_START = "<!-- benchmarks:start (written by make bench) -->"
README_END = "<!-- benchmarks:end -->"
REFERENCE_LABEL = "reference U-Net (smp, ResNet-18)"
LIGHT_REFERENCE_LABEL = "smp U-Net (MobileNet-V2)"


def write_atomically(path: Path, content: str | bytes) -> None:
    """Write ``content`` to ``path`` through a temporary file and a rename (no half files)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".tmp")
    with os.fdopen(handle, "wb") as file:
        file.write(content.encode() if isinstance(content, str) else content)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)


def _megabytes(size: float) -> str:
    return f"{size / 2**20:,.0f} MB"


def _ratio(value: float | None, reference: float | None) -> str:
    if value is None or reference is None or reference == 0:
        return "–"
    return f"{value / reference:.2f}×"


def _tick(ok: bool) -> str:
    return "yes" if ok else "**no**"


def _reference(results: dict[str, Any]) -> str:
    """The reference model's name (the label is only for the rows that show it)."""
    from benchmarks.training import REFERENCE

    return results["settings"].get("training", {}).get("reference", REFERENCE)


def _label(model: str, reference: str) -> str:
    return REFERENCE_LABEL if model == reference else model


def course_totals(results: dict[str, Any]) -> dict[str, Any]:
    """Whole-course figures: sum of median run times, slowest lesson, largest peak memory."""
    runs = results["notebooks"]
    slowest = max(runs, key=lambda run: run["seconds"]["median"])
    return {
        "seconds": sum(run["seconds"]["median"] for run in runs),
        "slowest": slowest["name"],
        "slowest_seconds": slowest["seconds"]["median"],
        "peak_rss_bytes": max(run["peak_rss_bytes"] for run in runs),
    }


def _notebook_section(results: dict[str, Any]) -> list[str]:
    totals = course_totals(results)
    lines = [
        "## Lessons: run time and peak memory",
        "",
        f"Each notebook executed {len(results['notebooks'][0]['seconds']['samples'])} times in a fresh process "
        "(kernel start included); peak memory is the largest resident set size of that process or its kernel.",
        "",
        "| lesson | median s | p95 s | peak RSS | under 60 s |",
        "|---|---:|---:|---:|---|",
    ]
    for run in results["notebooks"]:
        seconds = run["seconds"]
        lines.append(
            f"| {run['name']} | {seconds['median']:.1f} | {seconds['p95']:.1f} | {_megabytes(run['peak_rss_bytes'])} "
            f"| {_tick(seconds['median'] < GOALS['notebook_seconds'])} |"
        )
    lines += [
        "",
        f"**Whole course:** {totals['seconds']:.0f} s (goal under {GOALS['course_seconds']:.0f} s: "
        f"{_tick(totals['seconds'] < GOALS['course_seconds'])}); slowest lesson {totals['slowest']} "
        f"({totals['slowest_seconds']:.1f} s); largest peak memory {_megabytes(totals['peak_rss_bytes'])} "
        f"(goal under 2 GB: {_tick(totals['peak_rss_bytes'] < GOALS['peak_rss_bytes'])}).",
        "",
    ]
    return lines


def check_training_results(results: dict[str, Any]) -> None:
    """Refuse a training part measured by the older fixed-step benchmark (its numbers mean something else).

    Raises:
        ValueError: If ``results["settings"]["training"]`` lacks the time budget's settings.
    """
    settings = results.get("settings", {}).get("training", {})
    if results.get("training") and settings.get("measure") != "time budget":
        raise ValueError(
            "the saved training part comes from the older fixed-step benchmark (--steps), not the time-budgeted "
            "one; measure it again: python -m benchmarks --parts training --update"
        )


def _training_label(model: str, reference: str) -> str:
    from benchmarks.training import LIGHT_REFERENCE

    return LIGHT_REFERENCE_LABEL if model == LIGHT_REFERENCE else _label(model, reference)


def training_summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One model on one dataset over its seeds: medians, spreads and how many seeds reached the target.

    Args:
        runs: The saved :class:`benchmarks.training.TrainingRun` dicts of one model and dataset, one per seed.

    Returns:
        ``seeds``, ``parameters``, ``steps_per_second`` (median), ``test_mean_iou`` (median, ``min``, ``max``),
        ``reached`` (how many seeds reached the target) and ``seconds_to_target`` (median over those seeds,
        None if none did).
    """
    scores = [run["test_mean_iou"] for run in runs]
    times = [run["seconds_to_target"] for run in runs if run["seconds_to_target"] is not None]
    return {
        "seeds": len(runs),
        "parameters": runs[0]["parameters"],
        "steps_per_second": statistics.median([run["steps_per_second"] for run in runs]),
        "test_mean_iou": statistics.median(scores),
        "test_mean_iou_min": min(scores),
        "test_mean_iou_max": max(scores),
        "reached": len(times),
        "seconds_to_target": statistics.median(times) if times else None,
    }


def _summaries(results: dict[str, Any], dataset: str) -> dict[str, dict[str, Any]]:
    """Model name -> :func:`training_summary` on ``dataset``, in the order the runs were measured."""
    by_model: dict[str, list[dict[str, Any]]] = {}
    for run in results["training"]:
        if run["dataset"] == dataset:
            by_model.setdefault(run["model"], []).append(run)
    return {model: training_summary(runs) for model, runs in by_model.items()}


def _quality(summary: dict[str, Any]) -> str:
    """``"0.912 (0.880–0.930)"``: the median test mean IoU and its range over the seeds."""
    return (
        f"{summary['test_mean_iou']:.3f} ({summary['test_mean_iou_min']:.3f}–{summary['test_mean_iou_max']:.3f})"
    )


def _time_to_target(summary: dict[str, Any], seconds: float) -> str:
    """``"95 s (2 of 3 seeds)"``, or ``"not reached in 180 s"`` when no seed got there."""
    if summary["seconds_to_target"] is None:
        return f"not reached in {seconds:g} s"
    return f"{summary['seconds_to_target']:.0f} s ({summary['reached']} of {summary['seeds']} seeds)"


def _training_settings_line(results: dict[str, Any]) -> str:
    settings = results["settings"]["training"]
    recipe = settings["recipe"]
    bfloat16 = {run["bfloat16"] for run in results["training"]}
    precision = "bfloat16 autocast" if bfloat16 == {True} else "float32" if bfloat16 == {False} else "mixed"
    return (
        f"**Settings:** {settings['seconds']:g} s of training per run (rendering the pool of "
        f"{recipe['pool_size']:,} scenes included), recipe `segedu.training.quick.train_within` (AdamW, batch "
        f"{recipe['batch_size']}, peak learning rate {recipe['peak_lr']:g}, one-cycle schedule by the clock), "
        f"seeds {', '.join(str(seed) for seed in settings['seeds'])}; validation mean IoU on "
        f"{settings['val_scenes']} scenes every {settings['observe_every']:g} s (clock stopped) and at the end; "
        f"{settings['threads']} torch thread(s); {precision}."
    )


def _training_section(results: dict[str, Any]) -> list[str]:
    check_training_results(results)
    settings = results["settings"]["training"]
    reference = settings["reference"]
    seconds = settings["seconds"]
    from benchmarks.training import LIGHT_REFERENCE

    light = ("; its MobileNet-V2 variant is the lighter library model" if LIGHT_REFERENCE in settings.get("models", [])
             else "; the lighter MobileNet-V2 variant was not trained in this run (`--models`)")
    lines = [
        "## Training: quality within a time budget against a reference library",
        "",
        "Every model is trained by the package's own time-budgeted recipe (what `segedu train MODEL DATASET "
        "--minutes 3` runs) with the same scenes, budget and seeds, then scored on the whole test split. The "
        "reference is segmentation_models_pytorch's `Unet` with a ResNet-18 encoder, randomly initialised (nothing "
        f"downloaded){light}. Test mean IoU is the median over the "
        "seeds with their range; time to target is the first validation score at or above the target, median over "
        "the seeds that reached it. Steps/s (median over seeds) leaves out rendering the scene pool. Ratios divide "
        "a model's number by the reference's: above 1× is faster for steps/s, below 1× is faster for time to target.",
        "",
        _training_settings_line(results),
        "",
    ]
    for dataset in settings["datasets"]:
        summaries = _summaries(results, dataset)
        if not summaries:
            continue
        ref = summaries.get(reference)
        target = settings["targets"][dataset]
        lines += [
            f"### {dataset} (target: validation mean IoU ≥ {target:g})",
            "",
            f"| model | parameters | steps/s | steps/s vs reference | test mean IoU after {seconds:g} s "
            f"| time to {target:g} | time vs reference |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for model, summary in summaries.items():
            lines.append(
                f"| {_training_label(model, reference)} | {summary['parameters']:,} "
                f"| {summary['steps_per_second']:.1f} "
                f"| {_ratio(summary['steps_per_second'], None if ref is None else ref['steps_per_second'])} "
                f"| {_quality(summary)} | {_time_to_target(summary, seconds)} "
                f"| {_ratio(summary['seconds_to_target'], None if ref is None else ref['seconds_to_target'])} |"
            )
        lines.append("")
    return lines


def _levers_section(results: dict[str, Any]) -> list[str]:
    settings = results["settings"]["levers"]
    lines = [
        "## The three-minute recipe: what each speed lever buys",
        "",
        f"The recipe's training step (`segedu/training/quick.py`: {settings['model']} on {settings['dataset']}, batch "
        f"{settings['batch_size']}, AdamW) timed with and without each lever, all else equal: {settings['steps']} "
        f"steps per variant, {settings['rounds']} interleaved rounds, ratio of the medians. Above 1× the lever "
        "buys steps per second.",
        "",
        "| lever | ms per step with | ms per step without | speed-up | in the recipe |",
        "|---|---:|---:|---:|---|",
    ]
    for item in results["levers"]:
        lines.append(
            f"| {item['lever']} | {1000 * item['with_lever']['median']:.0f} | "
            f"{1000 * item['without_lever']['median']:.0f} | {item['speedup']:.2f}× | {'yes' if item['kept'] else 'no'} |"
        )
    return lines + [""]


def _inference_section(results: dict[str, Any]) -> list[str]:
    reference = _reference(results)
    sizes = results["settings"]["inference"]["sizes"]
    rows: dict[str, dict[int, dict[str, Any]]] = {}
    for item in results["inference"]:
        rows.setdefault(item["model"], {})[item["size"]] = item
    largest = sizes[-1]
    lines = [
        "## Inference: time per image and activation memory",
        "",
        "One RGB image, four classes, `eval()` mode without gradients, median of the timed passes. "
        "Activations: the sum of every layer's output in one forward pass; for training: what autograd "
        "keeps for the backward pass (both from `segedu.analysis.costs.activation_memory`).",
        "",
        "| model | " + " | ".join(f"{size}² ms" for size in sizes)
        + f" | activations {largest}² | for training {largest}² |",
        "|---|" + "---:|" * (len(sizes) + 2),
    ]
    for model, by_size in rows.items():
        times = " | ".join(f"{by_size[size]['seconds']['median'] * 1000:.1f}" for size in sizes)
        lines.append(
            f"| {_label(model, reference)} | {times} | {_megabytes(by_size[largest]['forward_bytes'])} "
            f"| {_megabytes(by_size[largest]['backward_bytes'])} |"
        )
    return lines + [""]


def _widget_section(results: dict[str, Any]) -> list[str]:
    lines = [
        "## Widgets: update latency",
        "",
        "Time from setting a control's value in the kernel to the new pictures being ready, over "
        f"{results['settings']['widgets']['changes']} changes of every control (the browser adds transfer "
        "and drawing).",
        "",
        "| widget | lesson | median ms | p95 ms | slowest control (median ms) |",
        "|---|---|---:|---:|---|",
    ]
    for widget in results["widgets"]:
        control, timing = max(widget["per_control"].items(), key=lambda item: item[1]["median"])
        lines.append(
            f"| {widget['name']} | {widget['lesson']} | {widget['overall']['median'] * 1000:.1f} "
            f"| {widget['overall']['p95'] * 1000:.1f} | {control} ({timing['median'] * 1000:.1f}) |"
        )
    return lines + [""]


def measured_on(results: dict[str, Any]) -> str:
    """``"2026-12-01"``, or ``"notebooks 2026-11-25, training 2026-12-01"`` when the parts were measured on different days."""
    dates = results.get("part_dates") or {part: results["date"] for part in results["part_seconds"]}
    if len(set(dates.values())) <= 1:
        return results["date"]
    return ", ".join(f"{part} {date}" for part, date in dates.items())


def report_markdown(results: dict[str, Any]) -> str:
    """The whole ``docs/benchmarks.md``: machine first, then one section per measurement."""
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m benchmarks`); rerun it to measure your own machine.",
        "",
        f"**Machine:** {results['machine']['line']}  ",
        f"**Measured:** {measured_on(results)}; measuring took {sum(results['part_seconds'].values()) / 60:.1f} min "
        f"({', '.join(f'{part} {seconds / 60:.1f}' for part, seconds in results['part_seconds'].items())}).",
        "",
        "![Benchmark plots](benchmarks.png)",
        "",
    ]
    sections = {
        "notebooks": _notebook_section,
        "levers": _levers_section,
        "training": _training_section,
        "inference": _inference_section,
        "widgets": _widget_section,
    }
    for key, section in sections.items():
        if results.get(key):
            lines += section(results)
    return "\n".join(lines).rstrip() + "\n"


def headline_markdown(results: dict[str, Any]) -> str:
    """The few numbers the README quotes, with the machine they come from."""
    check_training_results(results)
    settings = results["settings"]["training"]
    reference = settings["reference"]
    lines = [f"Measured by `make bench` on {results['machine']['line']} ({measured_on(results)}):", ""]
    if results.get("notebooks"):
        totals = course_totals(results)
        lines.append(
            f"- **Whole course:** {totals['seconds']:.0f} s for all {len(results['notebooks'])} lessons; "
            f"slowest lesson {totals['slowest_seconds']:.0f} s; peak memory {_megabytes(totals['peak_rss_bytes'])}."
        )
    for dataset in settings["datasets"]:
        summaries = _summaries(results, dataset)
        unet, ref = summaries.get("unet"), summaries.get(reference)
        if unet is None or ref is None:
            continue
        target = settings["targets"][dataset]
        lines.append(
            f"- **U-Net vs {REFERENCE_LABEL}, {dataset}:** test mean IoU after {settings['seconds']:g} s of training "
            f"{_quality(unet)} against {_quality(ref)} (median and range over {unet['seeds']} seeds); time to "
            f"validation mean IoU {target:g}: {_time_to_target(unet, settings['seconds'])} against "
            f"{_time_to_target(ref, settings['seconds'])}; "
            f"{unet['steps_per_second'] / ref['steps_per_second']:.1f}× the training steps per second."
        )
    if results.get("widgets"):
        widget_medians = [widget["overall"]["median"] * 1000 for widget in results["widgets"]]
        widget_p95 = max(widget["overall"]["p95"] * 1000 for widget in results["widgets"])
        lines.append(
            f"- **Widgets:** median update {min(widget_medians):.0f}–{max(widget_medians):.0f} ms, "
            f"95th percentile at most {widget_p95:.0f} ms."
        )
    lines += ["", "Full tables and plots: [docs/benchmarks.md](docs/benchmarks.md)."]
    return "\n".join(lines)


def update_readme(readme: Path, results: dict[str, Any]) -> None:
    """Replace the text between the README's benchmark markers with :func:`headline_markdown`.

    Raises:
        ValueError: If the README lacks the markers (they say where the numbers go).
    """
    text = readme.read_text()
    if README_START not in text or README_END not in text:
        raise ValueError(f"{readme} needs the lines {README_START!r} and {README_END!r} around the numbers")
    before, rest = text.split(README_START, 1)
    after = rest.split(README_END, 1)[1]
    write_atomically(readme, f"{before}{README_START}\n{headline_markdown(results)}\n{README_END}{after}")


def median_curve(curves: list[list[list[float]]]) -> tuple[list[float], list[float]]:
    """The seeds' ``(seconds, steps, mean IoU)`` curves point by point: median seconds, median mean IoU.

    Observations fall at nearly the same seconds in every run, so the ``i``-th points are taken together, up to
    the shortest curve; the last point of every curve (the end of the budget) is taken together too.
    """
    length = min(len(curve) for curve in curves)
    points = [[curve[index] for curve in curves] for index in range(length - 1)] + [[curve[-1] for curve in curves]]
    seconds = [statistics.median(point[0] for point in group) for group in points]
    mean_iou = [statistics.median(point[2] for point in group) for group in points]
    return seconds, mean_iou


def _plot_training_curves(axis: Any, results: dict[str, Any], dataset: str, reference: str) -> None:
    """Validation mean IoU against training seconds: every seed thin, the median over seeds bold."""
    settings = results["settings"]["training"]
    by_model: dict[str, list[list[list[float]]]] = {}
    for run in results["training"]:
        if run["dataset"] == dataset:
            by_model.setdefault(run["model"], []).append(run["curve"])
    for index, (model, curves) in enumerate(by_model.items()):
        color = "black" if model == reference else f"C{index}"
        linestyle = "--" if model == reference else "-"
        for curve in curves:
            axis.plot([point[0] for point in curve], [point[2] for point in curve], color=color, linestyle=linestyle,
                      linewidth=0.6, alpha=0.35)
        seconds, mean_iou = median_curve(curves)
        axis.plot(seconds, mean_iou, color=color, linestyle=linestyle, linewidth=2, marker="o", markersize=3,
                  label=_training_label(model, reference))
    target = settings["targets"][dataset]
    axis.axhline(target, color="grey", linewidth=0.8, linestyle=":", label=f"target {target:g}")
    axis.set(title=f"Training on {dataset}: validation mean IoU (median over seeds)", xlabel="training seconds",
             ylabel="mean IoU", ylim=(0, 1))
    axis.legend(fontsize=7)


def save_plot(results: dict[str, Any], path: Path) -> None:
    """Draw the report's figure: lessons, training curves, inference and widgets."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    reference = _reference(results)
    if results.get("training"):
        check_training_results(results)
    datasets = results["settings"]["training"]["datasets"] if results.get("training") else []
    figure, axes = plt.subplots(2, 3, figsize=(16, 9))
    lessons, peaks, curves_a, curves_b, inference, widgets = axes.flat

    if results.get("notebooks"):
        names = [run["name"][:2] for run in results["notebooks"]]
        lessons.bar(names, [run["seconds"]["median"] for run in results["notebooks"]], color="tab:blue")
        lessons.axhline(GOALS["notebook_seconds"], color="tab:red", linestyle="--", label="goal: 60 s")
        lessons.set(title="Lesson run time (median)", xlabel="lesson", ylabel="seconds")
        lessons.legend()
        peaks.bar(names, [run["peak_rss_bytes"] / 2**20 for run in results["notebooks"]], color="tab:purple")
        peaks.axhline(GOALS["peak_rss_bytes"] / 2**20, color="tab:red", linestyle="--", label="goal: 2 GB")
        peaks.set(title="Lesson peak memory (RSS)", xlabel="lesson", ylabel="MB")
        peaks.legend()
    for axis, dataset in zip((curves_a, curves_b), datasets):
        _plot_training_curves(axis, results, dataset, reference)
    if results.get("inference"):
        models = dict.fromkeys(item["model"] for item in results["inference"])
        for model in models:
            items = [item for item in results["inference"] if item["model"] == model]
            style = {"color": "black", "linestyle": "--"} if model == reference else {}
            inference.plot(
                [item["size"] for item in items], [item["seconds"]["median"] * 1000 for item in items],
                marker="o", label=_label(model, reference), **style,
            )
        sizes = results["settings"]["inference"]["sizes"]
        inference.set(title="Inference time per image", xlabel="image side (pixels)", ylabel="ms", xscale="log",
                      yscale="log", xticks=sizes, xticklabels=[str(size) for size in sizes])
        inference.minorticks_off()
        inference.legend(fontsize=8)
    if results.get("widgets"):
        names = [widget["name"] for widget in results["widgets"]]
        medians = [widget["overall"]["median"] * 1000 for widget in results["widgets"]]
        p95 = [widget["overall"]["p95"] * 1000 for widget in results["widgets"]]
        widgets.barh(names, p95, color="tab:orange", alpha=0.4, label="95th percentile")
        widgets.barh(names, medians, color="tab:orange", label="median")
        widgets.set(title="Widget update latency", xlabel="ms")
        widgets.invert_yaxis()
        widgets.legend(fontsize=8)
    for axis in axes.flat:
        if not axis.has_data():
            axis.set_visible(False)
    figure.suptitle(f"segedu benchmarks — {results['machine']['line']}", fontsize=10)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".png")
    os.close(handle)
    figure.savefig(temporary, dpi=90)
    plt.close(figure)
    os.replace(temporary, path)


def load_results(path: Path) -> dict[str, Any]:
    """Read ``docs/benchmarks.json``."""
    return json.loads(Path(path).read_text())
