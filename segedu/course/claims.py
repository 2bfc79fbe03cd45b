"""Executable conclusions: a lesson's sentence that states a measured result is checked in code.

The prose of a lesson may say "FCN-8s beats FCN-32s" only if the cell that produced the numbers
also runs ``claim("FCN-8s beats FCN-32s on mean IoU", fcn8s_miou > fcn32s_miou)``. When a retrained
checkpoint or a library upgrade flips the result, the claim raises and nbval fails, instead of the
lesson quietly contradicting its own output.

A section that states many results can keep each sentence beside its numbers and check them all
in one cell at its end with :class:`SectionClaims`, so the reading path is not a wall of checks.

Example:
    >>> claim("2 + 2 is 4", 2 + 2 == 4)
    verified: 2 + 2 is 4
"""

from __future__ import annotations

from typing import Any

__all__ = ["ClaimFailed", "SectionClaims", "claim", "rounding_gap"]


class ClaimFailed(AssertionError):
    """A lesson's stated conclusion is contradicted by the numbers it was computed from."""


def _truth_value(statement: str, condition: Any) -> bool:
    """The one truth value of ``condition``; refuse an empty statement or several values."""
    if not isinstance(statement, str) or not statement.strip():
        raise ValueError(f"statement must be a non-empty sentence; got {statement!r}")
    if hasattr(condition, "numel"):  # a torch tensor
        count = condition.numel()
    else:  # a NumPy array or scalar has an int .size; a Python bool has none
        count = getattr(condition, "size", 1)
    if count != 1:
        raise ValueError(
            f"claim({statement!r}, ...) needs one truth value; got {count} values. "
            "Reduce them first, e.g. with .all() or .any()"
        )
    return bool(condition)


def claim(statement: str, condition: Any) -> None:
    """Print ``statement`` as verified when ``condition`` holds; raise :class:`ClaimFailed` if not.

    Args:
        statement: The conclusion in words, as the lesson's prose states it.
        condition: A Python bool, NumPy bool or one-element tensor computed from the lesson's outputs.

    Raises:
        ValueError: If ``statement`` is empty or ``condition`` is not a single truth value.
        ClaimFailed: If the condition is false: the prose above the cell must change.
    """
    if not _truth_value(statement, condition):
        raise ClaimFailed(
            f"The lesson claims: {statement!r}, but its own output says otherwise. "
            "Fix the prose (and this claim) to say what the numbers show."
        )
    print(f"verified: {statement}")


class SectionClaims:
    """Sentences of one section kept with their conditions, then checked together at its end.

    ``claim`` evaluates the condition at once, from the numbers just printed (a later change to a
    variable cannot alter it), and keeps it; ``check`` runs :func:`claim` on every kept sentence
    in order and starts afresh, so one object serves every section of a lesson.

    Example:
        >>> claims = SectionClaims()
        >>> claims.claim("2 + 2 is 4", 2 + 2 == 4)
        >>> claims.check("Section 1")
        Section 1: 1 sentence of the text, checked against the numbers printed above
        verified: 2 + 2 is 4
    """

    def __init__(self) -> None:
        self._kept: list[tuple[str, bool]] = []

    def claim(self, statement: str, condition: Any) -> None:
        """Keep ``statement`` with the truth value of ``condition`` (refused at once if malformed)."""
        self._kept.append((statement, _truth_value(statement, condition)))

    def check(self, where: str, *, list_sentences: bool = True) -> None:
        """Check every kept sentence with :func:`claim`, headed by ``where``; then keep nothing.

        Args:
            where: The section's name, printed first.
            list_sentences: Print every verified sentence (the default), or one line with their
                count, for a section whose sentences are many (each stays readable in its call).

        Raises:
            ValueError: If no sentence was kept since the last check (a section with nothing to check).
            ClaimFailed: At the first kept sentence whose condition was false.
        """
        kept, self._kept = self._kept, []
        if not kept:
            raise ValueError(f"{where}: no sentence was kept with claims.claim(...) since the last check")
        count = len(kept)
        plural = "s" if count != 1 else ""
        if not list_sentences:
            for statement, holds in kept:
                if not holds:
                    claim(statement, holds)  # raises, naming the sentence
            print(f"{where}: {'all ' if count != 1 else ''}{count} claim{plural} checked in code "
                  "(each is written out in a claims.claim(...) call in this cell)")
            return
        print(f"{where}: {count} sentence{plural} of the text, "
              f"{'each ' if count != 1 else ''}checked against the numbers printed above")
        for statement, holds in kept:
            claim(statement, holds)


def rounding_gap(difference: float, tolerance: float = 1e-5) -> str:
    """How a lesson prints the largest gap between two float32 computations of the same thing.

    Below ``tolerance`` the gap is rounding, and its digits change with the CPU and the kernels
    torch picks there; the text then says only that it is below the tolerance, so the printed
    line is the same on every machine. A larger gap is printed as the number it is.

    Args:
        difference: A non-negative largest absolute difference, e.g. ``(a - b).abs().max()``.
        tolerance: The bound under which the gap counts as float32 rounding.

    Returns:
        ``"below 1e-05 (float32 rounding)"`` or the difference as ``"3.2e-02"``.

    Example:
        >>> rounding_gap(4.3e-06), rounding_gap(0.032)
        ('below 1e-05 (float32 rounding)', '3.2e-02')
    """
    value = float(difference)
    if not value >= 0:  # also refuses NaN
        raise ValueError(f"difference must be a non-negative number, like (a - b).abs().max(); got {difference!r}")
    if value < tolerance:
        return f"below {tolerance:.0e} (float32 rounding)"
    return f"{value:.1e}"
