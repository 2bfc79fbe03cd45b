"""Tables of paired verdicts: the text layout, and the two-test rule that reads each row.

A row is one difference per seed against a reference (e.g. a loss's mean IoU minus plain cross-entropy's on the
same seed). :func:`two_test_verdict` reads it: a side only where the 95% t-interval of the mean difference leaves out
0 *and* the exact sign-flip p is at most 0.05. :func:`verdict_table` lays rows out: seed by seed, then per row the
seed counts, the mean with its 95% t-interval, the exact sign-flip p and the verdict (the two-test rule unless the
caller passes another); :func:`length_table` gives one row per training length.

Example:
    >>> print(verdict_table("toy", {"a": [0.1, 0.2, 0.3]}, ["0", "1", "2"]))
    toy
                                     +/=/-  mean [95% t-interval]    sign-flip p  verdict
    a                                3/0/0  +0.200 [-0.048, +0.448]  0.25         not distinguishable
    (+/=/-: how many of the 3 seeds are above / exactly at / below the reference)
    the two tests disagree (the t-interval leaves out 0, the verdict is not distinguishable): none
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from segedu.course.experiments import (
    interval_verdict,
    paired_t_interval,
    sign_flip_p,
    signed_difference,
    wins_ties_losses,
)

__all__ = ["length_table", "two_test_verdict", "verdict_table"]

_UNDECIDED = "not distinguishable"
_LEVEL = 0.05  # the sign-flip test's level in the course's rule


def two_test_verdict(differences: Sequence[float], words: tuple[str, str] = ("ahead", "behind"), *,
                     level: float = _LEVEL) -> str:
    """Read paired differences by two tests: a side only where both leave out "no difference".

    Args:
        differences: One difference per seed against the reference, shape ``(seeds,)``.
        words: What to call a difference above 0 and one below 0, e.g. ``("more", "fewer")`` for errors.
        level: The largest exact sign-flip p that still counts.

    Returns:
        ``words[0]`` or ``words[1]`` where the 95% t-interval of the mean difference leaves out 0 on that side and
        the exact sign-flip p is at most ``level``; otherwise ``"not distinguishable"``. With six seeds the
        sign-flip p is at most 0.05 only when all six differences share a sign.

    Example:
        >>> two_test_verdict([-0.1, -0.12, -0.2, -0.11, -0.13, -0.09]), two_test_verdict([1, 1, 1, 1, 1, -0.01])
        ('behind', 'not distinguishable')
    """
    values = np.asarray(differences, dtype=float)  # (seeds,)
    by_interval = interval_verdict(*paired_t_interval(values), words)
    return by_interval if sign_flip_p(values) <= level else _UNDECIDED


def verdict_table(
    title: str,
    rows: dict[str, Sequence[float]],
    seeds: Sequence[str],
    verdict: Callable[[str, np.ndarray], str] | None = None,
    *,
    words: tuple[str, str] = ("ahead", "behind"),
    by_seed: Sequence[str] = (),
    tie: float = 0.0,
    reference: str = "the reference",
    width: int = 31,
    say_agreement: bool = False,
) -> str:
    """A text table of paired differences read by the caller's verdict rule.

    Args:
        title: The first line.
        rows: Row label to its differences against the reference, one per seed in the order of ``seeds``.
        seeds: The seed names, for the per-seed columns.
        verdict: The rule, called as ``verdict(label, differences)`` with the differences as a float array;
            by default :func:`two_test_verdict` with ``words``.
        words: What the default rule calls a difference above 0 and one below 0.
        by_seed: The rows to print seed by seed first (none by default).
        tie: The tie band's half-width for the seed counts and the per-seed cells.
        reference: What the differences are taken against, for the note under the table.
        width: The label column's width (longer labels widen it).
        say_agreement: Where no row's two tests disagree either way, end with "the two tests agree on every row"
            instead of the disagreement line ending in ``none``.

    Returns:
        The table as lines of text, without a trailing newline. A line names the rows whose t-interval leaves
        out 0 but whose verdict is ``"not distinguishable"`` (the two tests disagree), or ``none``; where some row's
        sign-flip p is at most 0.05 while its t-interval holds 0, one more line names those rows.

    Example:
        >>> print(verdict_table("toy", {"a": [0.1, 0.2, 0.3]}, ["0", "1", "2"], say_agreement=True).splitlines()[-1])
        the two tests agree on every row
    """
    width = max(width, *(len(label) for label in rows))
    lines = [title]
    if by_seed:
        lines.append(f"{'':<{width}}" + "".join(f"{'seed ' + seed:>8}" for seed in seeds))
        for label in by_seed:
            lines.append(f"{label:<{width}}" + "".join(f"{signed_difference(value, tie):>8}" for value in rows[label]))
        lines.append("")
    lines.append(f"{'':<{width}} {'+/=/-':>6}  {'mean [95% t-interval]':<24} {'sign-flip p':<12} verdict")
    split = []  # rows where the t-interval leaves out 0 yet the rule says not distinguishable
    split_other_way = []  # rows where the sign-flip p is at most the level yet the t-interval holds 0
    for label, gap in rows.items():
        values = np.asarray(gap, dtype=float)  # (seeds,)
        low, high = paired_t_interval(values)
        said = two_test_verdict(values, words) if verdict is None else verdict(label, values)
        interval = f"{values.mean():+.3f} [{low:+.3f}, {high:+.3f}]"
        counts = wins_ties_losses(values, tie)
        lines.append(f"{label:<{width}} {counts:>6}  {interval:<24} {sign_flip_p(values):<12g} {said}")
        if (low > 0 or high < 0) and said == _UNDECIDED:
            split.append(label)
        if low <= 0 <= high and sign_flip_p(values) <= _LEVEL:
            split_other_way.append(label)
    lines.append(f"(+/=/-: how many of the {len(seeds)} seeds are above / exactly at / below {reference})")
    if say_agreement and not split and not split_other_way:
        lines.append("the two tests agree on every row")
        return "\n".join(lines)
    lines.append("the two tests disagree (the t-interval leaves out 0, the verdict is not distinguishable): "
                 + (", ".join(split) or "none"))
    if split_other_way:  # printed only where it happens, so tables without such rows keep their last line
        lines.append(f"the two tests disagree the other way (sign-flip p at most {_LEVEL:g}, the t-interval holds 0): "
                     + ", ".join(split_other_way))
    return "\n".join(lines)


def length_table(
    scores: dict[int, dict[str, Sequence[float]]],
    seeds: dict[int, Sequence[str]],
    verdicts: dict[int, dict[str, str]],
    *,
    column: int = 30,
) -> str:
    """A table of one score by training length: per length a row of seed means [lowest, highest], then the verdicts.

    Args:
        scores: Steps to column name to that column's scores, one per seed (the first column is the reference).
        seeds: Steps to the seed names of that length (shown as ``first-last``).
        verdicts: Steps to column name to the verdict text printed under it (the reference has none).
        column: Each column's width.

    Returns:
        The table as lines of text, without a trailing newline.

    Example:
        >>> print(length_table({400: {"a": [0.1, 0.3], "b": [0.2, 0.4]}}, {400: ["0", "1"]}, {400: {"b": "ahead"}}))
         steps  seeds   a                             b
           400    0-1   0.20 [0.10, 0.30]             0.30 [0.20, 0.40]
                                                      ahead
    """
    names = list(next(iter(scores.values())))
    lines = [(f"{'steps':>6} {'seeds':>6}   " + "".join(f"{name:<{column}}" for name in names)).rstrip()]
    for steps, by_name in scores.items():
        cells = [np.asarray(by_name[name], dtype=float) for name in names]  # (seeds,) each
        spans = [f"{values.mean():.2f} [{values.min():.2f}, {values.max():.2f}]" for values in cells]
        lines.append((f"{steps:>6,} {seeds[steps][0] + '-' + seeds[steps][-1]:>6}   "
                      + "".join(f"{span:<{column}}" for span in spans)).rstrip())
        lines.append((" " * (16 + column) + "".join(f"{verdicts[steps].get(name, ''):<{column}}"
                                                    for name in names[1:])).rstrip())
    return "\n".join(lines)
