"""Executable conclusions: a lesson's sentence that states a measured result is checked in code.

The prose of a lesson may say "FCN-8s beats FCN-32s" only if the cell that produced the numbers
also runs ``claim("FCN-8s beats FCN-32s on mean IoU", fcn8s_miou > fcn32s_miou)``. When a retrained
checkpoint or a library upgrade flips the result, the claim raises and nbval fails, instead of the
lesson quietly contradicting its own output.

Example:
    >>> claim("2 + 2 is 4", 2 + 2 == 4)
    verified: 2 + 2 is 4
"""

from __future__ import annotations

from typing import Any

__all__ = ["ClaimFailed", "claim"]


class ClaimFailed(AssertionError):
    """A lesson's stated conclusion is contradicted by the numbers it was computed from."""


def claim(statement: str, condition: Any) -> None:
    """Print ``statement`` as verified when ``condition`` holds; raise :class:`ClaimFailed` if not.

    Args:
        statement: The conclusion in words, as the lesson's prose states it.
        condition: A Python bool, NumPy bool or one-element tensor computed from the lesson's outputs.

    Raises:
        ValueError: If ``statement`` is empty or ``condition`` is not a single truth value.
        ClaimFailed: If the condition is false: the prose above the cell must change.
    """
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
    if not bool(condition):
        raise ClaimFailed(
            f"The lesson claims: {statement!r}, but its own output says otherwise. "
            "Fix the prose (and this claim) to say what the numbers show."
        )
    print(f"verified: {statement}")
