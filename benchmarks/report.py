"""Turn benchmark results into ``docs/benchmarks.md``, a plot and the README's headline numbers.

Every function here works on the plain dictionary form of the results (what
``docs/benchmarks.json`` holds), so the report and the README can be rebuilt from that file.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = [
    "GOALS",
    "README_END",
    "README_START",
    "course_totals",
    "headline_markdown",
    "load_results",
    "report_markdown",
    "save_plot",
    "update_readme",
    "write_atomically",
]

# The course's promises for a 2-core laptop CPU.
GOALS = {"notebook_seconds": 60.0, "course_seconds": 300.0, "peak_rss_bytes": 2 * 2**30}
README_START = "<!-- benchmarks:start (written by make bench) -->"
README_END = "<!-- benchmarks:end -->"
REFERENCE_LABEL = "reference U-Net (smp, ResNet-18)"


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


def _recipe_steps_range(steps: int) -> str:
    """How many times ``steps`` the shipped checkpoints' recipes trained, e.g. ``"10 to 40"``."""
    from segedu.training.recipes import RECIPES

    recipe_steps = [recipe.steps for recipe in RECIPES.values()]
    low, high = min(recipe_steps) / steps, max(recipe_steps) / steps
    return f"{low:g}" if low == high else f"{low:g} to {high:g}"


def _training_section(results: dict[str, Any]) -> list[str]:
    settings = results["settings"]["training"]
    reference = settings["reference"]
    lines = [
        "## Training: speed and time to quality against a reference library",
        "",
        f"Every model is trained by the same loop on the same fresh scenes (batch {settings['batch_size']}, "
        f"Adam {settings['lr']:g}, seed {settings['seed']}) for {settings['steps']} steps and scored on "
        f"{settings['val_scenes']} validation scenes every {settings['eval_every']} steps; only training steps "
        f"are timed. The reference is segmentation_models_pytorch's `Unet` with a ResNet-18 encoder, randomly "
        "initialised (nothing downloaded). Steps/s is the median over the timed chunks. Ratios divide "
        "segedu's number by the reference's: above 1× is faster for steps/s, below 1× is faster for time to target. "
        f"The budget is short (a laptop's first minutes), so the targets mark early progress, not finished models; "
        f"the shipped checkpoints trained {_recipe_steps_range(settings['steps'])} times longer.",
        "",
    ]
    for dataset in settings["datasets"]:
        runs = [run for run in results["training"] if run["dataset"] == dataset]
        by_model = {run["model"]: run for run in runs}
        ref = by_model.get(reference)
        target = settings["targets"][dataset]
        lines += [
            f"### {dataset} (target: validation mean IoU ≥ {target})",
            "",
            "| model | parameters | steps/s | steps/s vs reference | steps to target | seconds to target "
            "| time vs reference | mean IoU at the end |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        reference_speed = None if ref is None else 1.0 / ref["seconds_per_step"]["median"]
        reference_time = None if ref is None else ref["seconds_to_target"]
        for run in runs:
            speed = 1.0 / run["seconds_per_step"]["median"]
            reached = run["seconds_to_target"] is not None
            seconds = f"{run['seconds_to_target']:.1f}" if reached else "–"
            lines.append(
                f"| {_label(run['model'], reference)} | {run['parameters']:,} | {speed:.1f} "
                f"| {_ratio(speed, reference_speed)} "
                f"| {run['steps_to_target'] if reached else 'not reached'} "
                f"| {seconds} "
                f"| {_ratio(run['seconds_to_target'], reference_time)} | {run['curve'][-1][2]:.3f} |"
            )
        lines.append("")
    return lines


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


def report_markdown(results: dict[str, Any]) -> str:
    """The whole ``docs/benchmarks.md``: machine first, then one section per measurement."""
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m benchmarks`); rerun it to measure your own machine.",
        "",
        f"**Machine:** {results['machine']['line']}  ",
        f"**Measured:** {results['date']}; measuring took {sum(results['part_seconds'].values()) / 60:.1f} min "
        f"({', '.join(f'{part} {seconds / 60:.1f}' for part, seconds in results['part_seconds'].items())}).",
        "",
        "![Benchmark plots](benchmarks.png)",
        "",
    ]
    sections = {
        "notebooks": _notebook_section,
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
    totals = course_totals(results)
    settings = results["settings"]["training"]
    reference = settings["reference"]
    lines = [f"Measured by `make bench` on {results['machine']['line']} ({results['date']}):", ""]
    lines.append(
        f"- **Whole course:** {totals['seconds']:.0f} s for all {len(results['notebooks'])} lessons; "
        f"slowest lesson {totals['slowest_seconds']:.0f} s; peak memory {_megabytes(totals['peak_rss_bytes'])}."
    )
    for dataset in settings["datasets"]:
        by_model = {run["model"]: run for run in results["training"] if run["dataset"] == dataset}
        unet, ref = by_model.get("unet"), by_model.get(reference)
        if unet is None or ref is None:
            continue
        speed = ref["seconds_per_step"]["median"] / unet["seconds_per_step"]["median"]
        if unet["seconds_to_target"] is not None and ref["seconds_to_target"] is not None:
            quality = (
                f"reaches mean IoU {settings['targets'][dataset]} in {unet['seconds_to_target']:.0f} s against "
                f"{ref['seconds_to_target']:.0f} s"
            )
        else:
            quality = (
                f"mean IoU after {settings['steps']} steps {unet['curve'][-1][2]:.3f} "
                f"against {ref['curve'][-1][2]:.3f}"
            )
        lines.append(
            f"- **U-Net vs {REFERENCE_LABEL}, {dataset}:** {speed:.1f}× the training steps per second; {quality}."
        )
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


def save_plot(results: dict[str, Any], path: Path) -> None:
    """Draw the report's figure: lessons, training curves, inference and widgets."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    reference = _reference(results)
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
        for run in (run for run in results["training"] if run["dataset"] == dataset):
            seconds = [point[1] for point in run["curve"]]
            mean_iou = [point[2] for point in run["curve"]]
            style = {"color": "black", "linestyle": "--"} if run["model"] == reference else {}
            axis.plot(seconds, mean_iou, marker="o", markersize=3, label=_label(run["model"], reference), **style)
        axis.axhline(results["settings"]["training"]["targets"][dataset], color="grey", linewidth=0.8)
        axis.set(title=f"Training on {dataset}: validation mean IoU", xlabel="training seconds", ylabel="mean IoU")
        axis.legend(fontsize=8)
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
