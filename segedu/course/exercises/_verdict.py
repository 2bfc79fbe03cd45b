"""The one way every exercise check runs the learner's answer and reports its result.

A check prints ``Correct! <what it means>`` or ``Not yet: <one specific hint>`` and returns
``True`` or ``False``; it never raises on a wrong answer, so a notebook keeps running.

A prediction of a measured outcome (an experiment's result the learner cannot work out, only
expect) is different: it passes once it is recorded. A prediction that names the outcome prints
``Correct! ...``; one that does not prints ``Recorded; the result differs: ...`` with what
happened and why, and the check still returns ``True``. Grading such a guess on being right would
reward changing it after the result shows; only a missing or unreadable prediction says
``Not yet``. :func:`check_outcome_prediction` and :func:`recorded_miss` do this.

Most checks call the learner's function on a few cases and stop at the first case it gets
wrong; :func:`check_cases` is that loop, so a checker only writes the part that differs: a
``judge(found, *arguments)`` that returns a hint, or ``None`` when ``found`` is right. It also
handles the two ways an answer is not written yet (the stub still raises ``NotImplementedError``;
the function returns ``...`` or ``None``) with the same words in every lesson.

Example:
    >>> def judge(found, size, pools):
    ...     return None if found == size // 2**pools else f"for {size} after {pools} pools, halve the side."
    >>> check_cases(lambda size, pools: size >> pools, [(224, 5), (7, 1)], judge, success="right!")
    Correct! right!
    True
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from torch import Tensor

__all__ = [
    "NOT_WRITTEN",
    "RETURNS_NOTHING",
    "borrowed_names",
    "call_answer",
    "check_cases",
    "check_outcome_prediction",
    "choice_hint",
    "read_letters",
    "recorded_miss",
    "returns_nothing",
    "right",
    "verdict",
    "wrong",
]

NOT_WRITTEN = "the function still raises NotImplementedError: replace the `...` with your code."


def returns_nothing(what: str = "the answer") -> str:
    """The hint for a function that returns ``...`` or ``None``: what it should return instead."""
    return f"your function returns nothing yet: replace the `...` with code that returns {what}."


RETURNS_NOTHING = returns_nothing()


def choice_hint(prediction: Any, choices: Iterable[str]) -> str | None:
    """The hint for a prediction that is not yet one of ``choices`` (``...``, ``None`` or another value), else None."""
    listed = ", ".join(repr(choice) for choice in choices)
    if prediction is ... or prediction is None:
        return f"record your prediction first: replace the `...` with one of {listed}."
    if prediction not in choices:
        return f"your prediction must be one of {listed}; got {prediction!r}."
    return None


def check_outcome_prediction(prediction: Any, outcome: str, meanings: Mapping[str, str], *, happened: str) -> bool:
    """Compare a prediction recorded before an experiment with the outcome the lesson measured.

    The prediction passes once it is recorded (see the module docstring): a match says ``Correct!``,
    a miss says what happened with :func:`recorded_miss`.

    Args:
        prediction: The learner's guess, one of the keys of ``meanings``.
        outcome: What the lesson measured, one of the keys of ``meanings``.
        meanings: Each possible outcome and what it means, used in the feedback.
        happened: How the feedback names the outcome, e.g. ``"the loss came out"``.

    Returns:
        ``True`` once a prediction among ``meanings`` is recorded, whether it names the outcome or not.
    """
    hint = choice_hint(prediction, meanings)
    if hint is not None:
        return wrong(hint)
    if outcome not in meanings:
        return wrong(f"pass the measured outcome, one of {', '.join(map(repr, meanings))}; got {outcome!r}.")
    if prediction == outcome:
        return right(f"{happened} {outcome}: {meanings[outcome]}.")
    return recorded_miss(f"you predicted {prediction!r}, but {happened} {outcome}: {meanings[outcome]}.")


def read_letters(prediction: Any, choices: Iterable[str], unknown_hint: str) -> tuple[set[str] | None, str | None]:
    """Read a prediction of letters (a set, list or string such as ``"ab"``) into a set, or explain why not.

    Args:
        prediction: What the learner recorded.
        choices: The letters there are to choose from.
        unknown_hint: Ends the hint for letters outside ``choices``, e.g. ``"are not edits"``.

    Returns:
        ``(letters, None)``, or ``(None, hint)`` when the prediction cannot be read.
    """
    if isinstance(prediction, str):
        items = [character for character in prediction if character.isalnum()]
    elif isinstance(prediction, (set, frozenset, list, tuple)):
        items = list(prediction)
    else:
        return None, f"record a set of letters such as {{'a', 'b'}}; got {type(prediction).__name__}."
    if not all(isinstance(item, str) for item in items):
        return None, f"record letters (strings) such as {{'a', 'b'}}; got {prediction!r}."
    letters = {item.strip().lower() for item in items}
    unknown = sorted(letters - set(choices))
    if unknown:
        return None, f"{unknown} {unknown_hint}; choose among {sorted(choices)}."
    return letters, None


def verdict(correct: bool, *, success: str, hint: str) -> bool:
    """Print ``Correct! <success>`` or ``Not yet: <hint>`` and return ``correct``."""
    print(f"Correct! {success}" if correct else f"Not yet: {hint}")
    return correct


def right(success: str) -> bool:
    """Print ``Correct! <success>`` and return ``True``."""
    return verdict(True, success=success, hint="")


def wrong(hint: str) -> bool:
    """Print ``Not yet: <hint>`` and return ``False``."""
    return verdict(False, success="", hint=hint)


def recorded_miss(explanation: str) -> bool:
    """Print ``Recorded; the result differs: <explanation>`` and return ``True``.

    For a recorded prediction of a measured outcome that did not happen: it passes (it was recorded
    before the result), and ``explanation`` says what happened and why.
    """
    print(f"Recorded; the result differs: {explanation}")
    return True


def borrowed_names(function: Callable[..., Any], names: Iterable[str]) -> list[str]:
    """Which of ``names`` a learner's function refers to, in its own code or in functions defined inside it.

    For exercises whose point is to write a mechanism that segedu also provides: a function that
    calls segedu's version (as ``evaluate(...)`` or ``module.evaluate(...)``) would pass by copying
    the answer. Names are read from the compiled code, so a mention in a comment or a string
    does not count.

    Args:
        function: The learner's function.
        names: The names the answer should not use.

    Returns:
        The names found, in the order given; empty when none is used (or ``function`` has no code).
    """
    wanted = list(names)
    code = getattr(function, "__code__", None)
    found: set[str] = set()
    pending = [code] if code is not None else []
    while pending:
        current = pending.pop()
        found.update(current.co_names)
        found.update(current.co_freevars)
        pending.extend(constant for constant in current.co_consts if hasattr(constant, "co_names"))
    return [name for name in wanted if name in found]


def call_answer(function: Callable[..., Any], *arguments: Any) -> tuple[Any, str | None]:
    """Call a learner's function; return ``(result, None)`` or ``(None, hint)`` if it raised."""
    try:
        return function(*arguments), None
    except NotImplementedError:
        return None, NOT_WRITTEN
    except Exception as error:  # the learner's code may raise anything
        return None, f"your function raised {type(error).__name__}: {error}"


def check_cases(
    function: Callable[..., Any],
    cases: Iterable[tuple[Any, ...]],
    judge: Callable[..., str | None],
    *,
    success: str,
    returns: str = "the answer",
    none_is_an_answer: bool = False,
) -> bool:
    """Call ``function`` on every case; the first hint ends the check with ``Not yet``.

    Args:
        function: The learner's function.
        cases: Argument tuples, one per call. Tensors are cloned and lists, dicts and sets
            copied before each call, so a function that changes its inputs cannot change what
            ``judge`` sees.
        judge: ``judge(found, *arguments)``: a hint naming the likely mistake, or ``None``
            when ``found`` is right for these arguments.
        success: What a right answer means, printed after ``Correct!``.
        returns: What the function should return, named in the hint when it returns nothing.
        none_is_an_answer: Whether ``None`` is a possible right answer (otherwise it means
            the function returns nothing yet).

    Returns:
        Whether every case was right.
    """
    for arguments in cases:
        found, hint = call_answer(function, *(_fresh(argument) for argument in arguments))
        if hint is None and (found is ... or (found is None and not none_is_an_answer)):
            hint = returns_nothing(returns)
        if hint is None:
            hint = judge(found, *arguments)
        if hint is not None:
            return wrong(hint)
    return right(success)


def _fresh(argument: Any) -> Any:
    """A copy of ``argument`` that the learner's function may change freely."""
    if isinstance(argument, Tensor):
        return argument.clone()
    if isinstance(argument, (list, dict, set)):
        return copy.deepcopy(argument)
    return argument
