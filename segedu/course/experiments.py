"""Stored results of the experiments too long to run inside a lesson.

A lesson must stay well under a minute on a laptop CPU, so a study that trains several models over
several seeds runs once from a script in the repository's ``experiments/`` folder
(``python -m experiments.NAME``). The script saves one JSON file here with everything needed to
check and repeat it: the command, the settings, the seeds, the per-seed results and curves, and the
machine it ran on. The lesson loads that file, prints the numbers it quotes, and re-runs a short
piece live where it can.

Example:
    >>> record = load_experiment("fcn32s_ceiling")                     # doctest: +SKIP
    >>> record["command"]                                                 # doctest: +SKIP
    'python -m experiments.fcn32s_ceiling'
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

__all__ = [
    "RESULTS_DIR",
    "available_experiments",
    "changed_settings",
    "check_record_target",
    "confusion_scores",
    "describe_record",
    "interval_verdict",
    "load_experiment",
    "mask_from_text",
    "mask_to_text",
    "merge_runs",
    "paired_gap_table",
    "paired_t_interval",
    "paired_t_p",
    "paired_wins",
    "save_experiment",
    "scores_by_seed",
    "seed_table",
    "signed_difference",
    "wins_ties_losses",
]

RESULTS_DIR = Path(__file__).resolve().parent / "experiment_results"
_NAME = re.compile(r"[a-z0-9_]+")


def _path(name: str) -> Path:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(f"experiment name must be lower-case letters, digits and '_'; got {name!r}")
    return RESULTS_DIR / f"{name}.json"


def available_experiments() -> list[str]:
    """Names of the stored experiments, sorted."""
    return sorted(path.stem for path in RESULTS_DIR.glob("*.json"))


def load_experiment(name: str) -> dict[str, Any]:
    """Read the stored record of experiment ``name``.

    Returns:
        A dict with at least ``command``, ``settings``, ``seeds`` and ``results``.

    Raises:
        FileNotFoundError: Naming the script that produces the file.
    """
    path = _path(name)
    if not path.is_file():
        known = ", ".join(available_experiments()) or "none"
        raise FileNotFoundError(
            f"no stored experiment {name!r} (known: {known}); produce it with `python -m experiments.{name}`"
        )
    return json.loads(path.read_text(encoding="utf-8"))


def check_record_target(directory: Path, name: str, *, overwrite: bool) -> Path:
    """The path a study script will write its record ``name`` to, refusing to replace a shipped record.

    Args:
        directory: The folder the user asked for (``--output``).
        name: The record's name.
        overwrite: Whether the user allowed replacing a record the course ships (``--overwrite``).

    Returns:
        ``directory / f"{name}.json"``.

    Raises:
        ValueError: The path is a record in :data:`RESULTS_DIR` and ``overwrite`` is false.
    """
    target = Path(directory) / _path(name).name
    if target.resolve().parent == RESULTS_DIR.resolve() and target.is_file() and not overwrite:
        raise ValueError(f"{target} is a record the course ships; pass --overwrite to replace it, "
                         "or choose another --output folder")
    return target


def save_experiment(
    name: str,
    *,
    command: str,
    settings: dict[str, Any],
    seeds: list[int],
    results: Any,
    directory: Path | None = None,
) -> Path:
    """Write the record of experiment ``name`` atomically (a crash never leaves half a file).

    Args:
        name: File stem, e.g. ``"fcn32s_ceiling"``.
        command: The command that reproduces the record.
        settings: Every setting that is not a seed (steps, batch, sizes, learning rate, ...).
        seeds: The seeds that were run.
        results: JSON-serialisable numbers and curves, per seed where there are several.
        directory: Where to write (default :data:`RESULTS_DIR`).

    Returns:
        The path written.
    """
    import torch

    from segedu.core.device import cpu_name
    from segedu.training.checkpoints import write_file_atomically

    path = (directory or RESULTS_DIR) / _path(name).name
    record = {
        "name": name,
        "command": command,
        "settings": settings,
        "seeds": list(seeds),
        "results": results,
        "ran_on": f"{cpu_name()}, torch {torch.__version__}, {torch.get_num_threads()} threads",
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
    }
    text = json.dumps(record, indent=1, sort_keys=False) + "\n"  # fails here, before any file is touched
    write_file_atomically(path, lambda stream: stream.write(text.encode("utf-8")))
    return path


def confusion_scores(confusion: Any, *, foreground: str = "foreground") -> dict[str, float]:
    """The scores a stored run is compared by, recomputed from its confusion matrix.

    Class 0 is background; every other class counts as foreground (for the digit scenes: the strokes).

    Args:
        confusion: ``(K, K)`` pixel counts, rows the true class and columns the predicted one (a nested
            list as stored in a record, an array or a tensor).
        foreground: The word for "any class but background" in the last two keys.

    Returns:
        ``"mean IoU"``, ``"mean accuracy"`` and ``"pixel accuracy"`` (the FCN paper's scores, lesson 15,
        from :mod:`segedu.training.metrics`), ``f"{foreground} recall"``: the share of the foreground pixels
        predicted as some foreground class (right or wrong), and ``f"{foreground} precision"``: the share
        of the pixels predicted as some foreground class that are foreground.

    Example:
        >>> scores = confusion_scores([[90, 10], [5, 15]], foreground="stroke")
        >>> round(scores["stroke recall"], 2), round(scores["stroke precision"], 2)
        (0.75, 0.6)
    """
    import torch

    from segedu.training.metrics import mean_accuracy, mean_iou, pixel_accuracy

    matrix = torch.as_tensor(confusion, dtype=torch.float64)  # (K, K)
    hits = matrix[1:, 1:].sum()  # foreground pixels predicted as some foreground class
    return {
        "mean IoU": mean_iou(matrix),
        "mean accuracy": mean_accuracy(matrix),
        "pixel accuracy": pixel_accuracy(matrix),
        f"{foreground} recall": float(hits / matrix[1:, :].sum()),
        f"{foreground} precision": float(hits / matrix[:, 1:].sum()),
    }


def scores_by_seed(runs: dict[str, Any], seeds: list[str], *, foreground: str = "foreground") -> dict[str, Any]:
    """:func:`confusion_scores` of several runs of one setting, gathered per score.

    Args:
        runs: Seed (a string, as in a record) to a run with a ``"confusion"`` matrix.
        seeds: The seeds to read, in the order the arrays should follow.
        foreground: Passed to :func:`confusion_scores`.

    Returns:
        Score name to a numpy array of shape ``(len(seeds),)``.
    """
    import numpy as np

    per_seed = [confusion_scores(runs[seed]["confusion"], foreground=foreground) for seed in seeds]
    return {score: np.array([scores[score] for scores in per_seed]) for score in per_seed[0]}


def seed_table(table: dict[str, dict[str, Any]], columns: list[str], *, label: str = "loss", width: int = 18) -> str:
    """A text table of per-seed scores: one row per setting, each cell ``mean [lowest, highest]``.

    Args:
        table: Setting (e.g. a loss) to score name to its per-seed values.
        columns: The score names to show, in order.
        label: The heading of the first column.
        width: The width of every score column.

    Returns:
        The table as lines of text, without a trailing newline.

    Example:
        >>> print(seed_table({"a": {"x": [0.1, 0.3]}}, ["x"]))
        loss                  x
           a  0.20 [0.10, 0.30]
    """
    import numpy as np

    first = max(len(label), *(len(row) for row in table))
    lines = [f"{label:>{first}} " + " ".join(f"{column:>{width}}" for column in columns)]
    for row, scores in table.items():
        cells = []
        for column in columns:
            values = np.asarray(scores[column], dtype=float)
            cells.append(f"{values.mean():.2f} [{values.min():.2f}, {values.max():.2f}]")
        lines.append(f"{row:>{first}} " + " ".join(f"{cell:>{width}}" for cell in cells))
    return "\n".join(lines)


def paired_wins(
    table: dict[str, dict[str, Any]], baseline: str, score: str, *, higher_is_better: bool = True, margin: float = 0.0
) -> dict[str, int]:
    """In how many seeds each setting beats the baseline of the same seed on one score.

    Args:
        table: Setting (e.g. a loss) to score name to its per-seed values, all in the same seed order (as
            :func:`scores_by_seed` returns them).
        baseline: The setting the others are paired with.
        score: The score compared.
        higher_is_better: ``False`` for a score where lower wins (e.g. a share of missed pixels).
        margin: A win must beat the baseline by more than this (smaller differences count as ties).

    Returns:
        Every setting but the baseline to its number of winning seeds.

    Example:
        >>> paired_wins({"ce": {"IoU": [0.5, 0.5, 0.5]}, "dice": {"IoU": [0.6, 0.5, 0.4]}}, "ce", "IoU")
        {'dice': 1}
    """
    import numpy as np

    if baseline not in table:
        raise ValueError(f"baseline {baseline!r} is not in the table; choose one of {sorted(table)}")
    reference = np.asarray(table[baseline][score], dtype=float)  # (seeds,)
    sign = 1.0 if higher_is_better else -1.0
    wins = {}
    for setting, scores in table.items():
        if setting == baseline:
            continue
        values = np.asarray(scores[score], dtype=float)  # (seeds,)
        if values.shape != reference.shape:
            raise ValueError(f"{setting!r} has {values.shape[0]} seeds of {score!r}, the baseline "
                             f"{reference.shape[0]}; pair runs of the same seeds")
        wins[setting] = int((sign * (values - reference) > margin).sum())
    return wins


def merge_runs(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Join the runs of several records of one study, e.g. seeds 0-2 and 3-5 stored apart.

    Args:
        records: Records whose ``results["runs"]`` map loss (or setting) to seed to run.

    Returns:
        Loss to seed to run, over all the records.

    Raises:
        ValueError: If two records hold a run of the same loss and seed (naming both records).
    """
    runs: dict[str, dict[str, Any]] = {}
    holder: dict[tuple[str, str], str] = {}  # (loss, seed) -> the record that holds it
    for record in records:
        for loss, loss_runs in record["results"]["runs"].items():
            for seed, run in loss_runs.items():
                if (loss, seed) in holder:
                    raise ValueError(f"{loss!r} seed {seed} is in both {holder[loss, seed]!r} and "
                                     f"{record['name']!r}; merge records of different seeds or losses")
                holder[loss, seed] = record["name"]
                runs.setdefault(loss, {})[seed] = run
    return runs


def changed_settings(record: dict[str, Any], reference: dict[str, Any]) -> list[str]:
    """The settings of ``record`` that differ from (or are missing in) the ``reference`` settings, sorted."""
    settings = record["settings"]
    return sorted(key for key in settings if key not in reference or settings[key] != reference[key])


def describe_record(record: dict[str, Any], reference: dict[str, Any] | None = None) -> str:
    """Where a record's numbers come from, in two or three lines.

    Args:
        record: A stored record (:func:`load_experiment`).
        reference: Settings to compare with; the record's differences from them are listed.

    Returns:
        The record's name, losses and seeds; the settings it changed (with ``reference``); and the command
        that repeats it (without the flags that only say where it ran) with the machine and CPU time.
    """
    losses = ", ".join(record["results"]["runs"])
    lines = [f"{record['name']}: {losses}; seeds {', '.join(str(seed) for seed in record['seeds'])}"]
    if reference is not None:
        changed = changed_settings(record, reference)
        shown = [f"{key} {record['settings'][key]}" if len(str(record["settings"][key])) <= 40 else key
                 for key in changed]  # a long value (a description) by its name only
        lines.append("  changed: " + (", ".join(shown) or "nothing"))
    command = re.sub(r" --(output \S+|workers \d+|overwrite)", "", record["command"])
    cpu = record["results"].get("cpu_seconds")
    lines.append(f"  {command}\n  ({record['ran_on']}, {record['date']}"
                 + (f", {cpu:.0f} CPU-seconds)" if cpu is not None else ")"))
    return "\n".join(lines)


def mask_to_text(mask: Any) -> list[str]:
    """A class mask as rows of base-16 digits, one character per pixel: how the records store pictures.

    Args:
        mask: Integer class indices from 0 to 15.

    Returns:
        ``H`` strings of ``W`` characters.

    Shape:
        - mask: ``(H, W)``.
    """
    import torch

    mask = torch.as_tensor(mask)
    if mask.ndim != 2 or mask.is_floating_point() or int(mask.min()) < 0 or int(mask.max()) > 15:
        raise ValueError(f"mask must be an (H, W) integer map of classes 0 to 15; got shape {tuple(mask.shape)}, "
                         f"dtype {mask.dtype}")
    return ["".join(format(int(value), "x") for value in row) for row in mask]


def mask_from_text(rows: list[str]) -> Any:
    """The class mask ``(H, W)`` (int64 tensor) back from the rows :func:`mask_to_text` wrote."""
    import torch

    if not rows or len({len(row) for row in rows}) != 1:
        raise ValueError("rows must be a non-empty list of strings of equal length, as mask_to_text writes them")
    try:
        return torch.tensor([[int(character, 16) for character in row] for row in rows])
    except ValueError:
        raise ValueError("rows may hold only the base-16 digits 0-9 and a-f, as mask_to_text writes them") from None


# The t distribution's 97.5% point for 1 to 11 degrees of freedom (a t table), for 2 to 12 paired seeds.
_T_975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228,
          11: 2.201}


def paired_t_interval(differences: Sequence[float]) -> tuple[float, float]:
    """The 95% t-interval of the mean of paired differences (one per seed).

    Args:
        differences: One difference per seed, e.g. augmented minus plain (2 to 12 values).

    Returns:
        ``(low, high)``: the mean minus and plus the t point times the standard error (``ddof=1``).

    Example:
        >>> [round(bound, 3) for bound in paired_t_interval([0.1, 0.2, 0.3])]
        [-0.048, 0.448]
    """
    values = [float(value) for value in differences]
    if not 2 <= len(values) <= len(_T_975) + 1:
        raise ValueError(f"pass 2 to {len(_T_975) + 1} paired differences (one per seed); got {len(values)}")
    count = len(values)
    mean = sum(values) / count
    spread = (sum((value - mean) ** 2 for value in values) / (count - 1)) ** 0.5
    half_width = _T_975[count - 1] * spread / count**0.5
    return mean - half_width, mean + half_width


def interval_verdict(low: float, high: float, words: tuple[str, str] = ("ahead", "behind")) -> str:
    """Read a difference's confidence interval: a side only where the interval leaves out 0.

    Args:
        low: The interval's lower end (e.g. from :func:`paired_t_interval`).
        high: Its upper end.
        words: What to call an interval above 0 and one below 0.

    Returns:
        ``words[0]`` if ``low > 0``, ``words[1]`` if ``high < 0``, otherwise ``"not distinguishable"``.

    Example:
        >>> interval_verdict(-0.03, 0.01), interval_verdict(0.01, 0.04, ("more", "fewer"))
        ('not distinguishable', 'more')
    """
    return words[0] if low > 0 else words[1] if high < 0 else "not distinguishable"


def wins_ties_losses(differences: Sequence[float], tie: float) -> str:
    """Count paired differences above, within and below a tie band around 0.

    Args:
        differences: One difference per seed, before any rounding.
        tie: A difference of at most this size either way counts as a tie.

    Returns:
        ``"wins/ties/losses"``: how many differences exceed ``tie``, lie within ``[-tie, tie]``, fall below ``-tie``.

    Example:
        >>> wins_ties_losses([0.02, 0.004, -0.005, -0.03], tie=0.005)
        '1/2/1'
    """
    values = [float(value) for value in differences]
    wins = sum(value > tie for value in values)
    losses = sum(value < -tie for value in values)
    return f"{wins}/{len(values) - wins - losses}/{losses}"


def signed_difference(value: float, tie: float) -> str:
    """A difference with its sign and three decimals; four where three would print the tie band's edge.

    At three decimals +0.0053 (a win) and +0.0049 (a tie) would both print as ``+0.005``; the fourth decimal
    shows on which side of the band the value lies.

    Args:
        value: The difference.
        tie: The tie band's half-width, as in :func:`wins_ties_losses`.

    Returns:
        The text, with ``+0.000`` for a value that rounds to zero from below.

    Example:
        >>> signed_difference(0.0053, 0.005), signed_difference(0.0061, 0.005), signed_difference(-0.0001, 0.005)
        ('+0.0053', '+0.006', '+0.000')
    """
    text = f"{value:+.3f}".replace("-0.000", "+0.000")
    return f"{value:+.4f}" if abs(float(text)) == tie else text


def sign_flip_p(differences: Sequence[float]) -> float:
    """The exact two-sided sign-flip p of the mean of paired differences (one per seed).

    With no real difference each seed's difference is as likely + as -; p is the share of the ``2**n`` sign
    patterns whose mean lies at least as far from 0 as the measured one. No normal shape is assumed. The
    measured signs and their mirror always count, so ``n`` seeds cannot give less than ``2 / 2**n``.

    Args:
        differences: One difference per seed (1 to 16 values).

    Returns:
        The p value, between ``2 / 2**n`` and 1.

    Example:
        >>> sign_flip_p([0.1, 0.2, 0.3, 0.1, 0.2, 0.3]), sign_flip_p([0.1, 0.2, -0.01, 0.1, 0.2, 0.3])
        (0.03125, 0.0625)
    """
    import itertools

    values = [float(value) for value in differences]
    if not 1 <= len(values) <= 16:
        raise ValueError(f"pass 1 to 16 paired differences (one per seed); got {len(values)}")
    measured = abs(sum(values)) / len(values)
    patterns = list(itertools.product((1, -1), repeat=len(values)))
    extreme = sum(abs(sum(sign * value for sign, value in zip(pattern, values))) / len(values) >= measured - 1e-12
                  for pattern in patterns)
    return extreme / len(patterns)


def paired_t_p(differences: Sequence[float]) -> float:
    """The two-sided p of the paired t test on the mean of paired differences (one per seed).

    Exact for whole degrees of freedom: P(|T| <= t) for Student's t with ``n - 1`` degrees of freedom is a finite
    sum in theta = arctan(t / sqrt(n - 1)) (Abramowitz and Stegun, 26.7.3 and 26.7.4); p is one minus it. A
    lesson that corrects for many calls compares this p with its level divided by the number of calls.

    Args:
        differences: One difference per seed (2 to 100 values, not all equal).

    Returns:
        The p value, between 0 and 1.

    Example:
        >>> round(paired_t_p([0.1, 0.2, 0.3]), 4)
        0.0742
    """
    import math

    values = [float(value) for value in differences]
    if not 2 <= len(values) <= 100:
        raise ValueError(f"pass 2 to 100 paired differences (one per seed); got {len(values)}")
    count, freedom = len(values), len(values) - 1
    mean = sum(values) / count
    spread = (sum((value - mean) ** 2 for value in values) / freedom) ** 0.5
    if spread <= 1e-12 * max(1.0, abs(mean)):  # equal up to rounding
        raise ValueError(f"the {count} differences are all equal ({mean:g}): the t test needs a spread; "
                         "read them with sign_flip_p instead")
    theta = math.atan(abs(mean) / (spread / count**0.5) / freedom**0.5)
    cosine_squared = math.cos(theta) ** 2
    if freedom % 2:  # odd: (2 / pi) (theta + sin cos (1 + 2/3 cos^2 + (2 4)/(3 5) cos^4 + ...))
        term, total = 1.0, 0.0
        for power in range(1, (freedom - 1) // 2 + 1):
            total += term
            term *= cosine_squared * 2 * power / (2 * power + 1)
        inside = 2 / math.pi * (theta + math.sin(theta) * math.cos(theta) * total)
    else:  # even: sin (1 + 1/2 cos^2 + (1 3)/(2 4) cos^4 + ...)
        term, total = 1.0, 0.0
        for power in range(1, freedom // 2 + 1):
            total += term
            term *= cosine_squared * (2 * power - 1) / (2 * power)
        inside = math.sin(theta) * total
    return min(1.0, max(0.0, 1.0 - inside))


def paired_gap_table(
    title: str,
    gaps: dict[str, Sequence[float]],
    seeds: Sequence[str],
    *,
    tie: float,
    words: tuple[str, str] | dict[str, tuple[str, str]] = ("ahead", "behind"),
    by_seed: list[str] | None = None,
    leave_out: int | None = None,
    flip: bool = False,
) -> str:
    """A text table of paired differences: seed by seed, then one summary row per comparison.

    Each summary row gives the seed counts of :func:`wins_ties_losses`, the mean with its 95% t-interval
    (:func:`paired_t_interval`) and the :func:`interval_verdict`. With ``leave_out``, a row follows a summary
    row, read without that seed, only where that reading's verdict differs: a sensitivity check.

    Args:
        title: The first line.
        gaps: Row label to its differences, one per seed in the order of ``seeds``.
        seeds: The seed names, for the per-seed columns.
        tie: The tie band's half-width for the seed counts and the per-seed cells (:func:`signed_difference`).
        words: The verdict's two words, for every row or per row label.
        by_seed: The rows to print seed by seed (all rows when ``None``; none when empty).
        leave_out: The position in ``seeds`` of a seed to leave out in the sensitivity rows.
        flip: Also print each row's exact :func:`sign_flip_p` beside its verdict.

    Returns:
        The table as lines of text, without a trailing newline.

    Example:
        >>> print(paired_gap_table("toy", {"a": [0.1, 0.2, 0.3]}, ["0", "1", "2"], tie=0.005, by_seed=[]))
        toy
                          +/=/-  mean [95% t-interval]    verdict
        a                 3/0/0  +0.200 [-0.048, +0.448]  not distinguishable
    """
    import numpy as np

    without = f"  without seed {seeds[leave_out]}" if leave_out is not None else ""
    width = max(16, len(without), *(len(label) for label in gaps))
    lines = [title]
    rows = by_seed if by_seed is not None else list(gaps)
    if rows:
        lines.append((f"{'':<{width}} " + "".join(f" {'seed ' + seed:<8}" for seed in seeds)).rstrip())
        for label in rows:
            lines.append((f"{label:<{width}} " + "".join(f" {signed_difference(value, tie):<8}"
                                                        for value in gaps[label])).rstrip())
        lines.append("")
    p_head = f"{'sign-flip p':<12} " if flip else ""
    lines.append(f"{'':<{width}} {'+/=/-':>6}  {'mean [95% t-interval]':<24} {p_head}verdict")
    for label, gap in gaps.items():
        row_words = words[label] if isinstance(words, dict) else words
        values = np.asarray(gap, dtype=float)
        parts = [values] if leave_out is None else [values, np.delete(values, leave_out)]
        read = [(f"{part.mean():+.3f} [{low:+.3f}, {high:+.3f}]", interval_verdict(low, high, row_words),
                 f"{sign_flip_p(part):<12g} " if flip else "")
                for part in parts for low, high in [paired_t_interval(part)]]
        lines.append(f"{label:<{width}} {wins_ties_losses(values, tie):>6}  {read[0][0]:<24} {read[0][2]}{read[0][1]}")
        if len(read) == 2 and read[1][1] != read[0][1]:
            lines.append(f"{without:<{width}} {'':>6}  {read[1][0]:<24} {read[1][2]}{read[1][1]}")
    if leave_out is not None:
        lines.append(f"({without.strip()}: a sensitivity check, printed only where the verdict would read otherwise)")
    return "\n".join(lines)
