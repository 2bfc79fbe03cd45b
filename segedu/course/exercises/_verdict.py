"""The one way every exercise check reports its result."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["verdict", "call_answer"]


def verdict(correct: bool, *, success: str, hint: str) -> bool:
    """Print ``Correct! <success>`` or ``Not yet: <hint>`` and return ``correct``."""
    print(f"Correct! {success}" if correct else f"Not yet: {hint}")
    return correct


def call_answer(function: Callable[..., Any], *arguments: Any) -> tuple[Any, str | None]:
    """Call a learner's function; return ``(result, None)`` or ``(None, hint)`` if it raised."""
    try:
        return function(*arguments), None
    except NotImplementedError:
        return None, "the function still raises NotImplementedError: replace the `...` with your code."
    except Exception as error:  # the learner's code may raise anything
        return None, f"your function raised {type(error).__name__}: {error}"
