"""The shared verdict helpers: one printed line per check, the same words for unfinished answers."""

from __future__ import annotations

import pytest
import torch

from segedu.course.exercises._verdict import (
    NOT_WRITTEN,
    borrowed_names,
    check_cases,
    check_outcome_prediction,
    choice_hint,
    read_letters,
    returns_nothing,
    right,
    wrong,
)

CASES = [(2, 3), (5, 7), (0, 4)]


def _sum_judge(found, first, second):
    return None if found == first + second else f"{first} + {second} is {first + second}, not {found!r}."


def test_right_and_wrong_print_one_line_and_return_their_verdict(capsys) -> None:
    assert right("well done.") is True
    assert wrong("look again.") is False
    assert capsys.readouterr().out.splitlines() == ["Correct! well done.", "Not yet: look again."]


def test_a_right_function_passes_every_case(capsys) -> None:
    calls = []

    def add(first, second):
        calls.append((first, second))
        return first + second

    assert check_cases(add, CASES, _sum_judge, success="sums.") is True
    assert calls == CASES
    assert capsys.readouterr().out == "Correct! sums.\n"


def test_the_first_wrong_case_stops_the_check_with_its_hint(capsys) -> None:
    calls = []

    def add_badly(first, second):
        calls.append((first, second))
        return first + second + (first == 5)

    assert check_cases(add_badly, CASES, _sum_judge, success="sums.") is False
    assert calls == CASES[:2]  # the third case is never tried
    assert capsys.readouterr().out == "Not yet: 5 + 7 is 12, not 13.\n"


def _raise_not_implemented(first, second):
    raise NotImplementedError


@pytest.mark.parametrize(
    ("function", "printed"),
    [
        (_raise_not_implemented, NOT_WRITTEN),
        (lambda first, second: ..., returns_nothing("a sum")),
        (lambda first, second: None, returns_nothing("a sum")),
        (lambda first, second: first / 0, "your function raised ZeroDivisionError: division by zero"),
    ],
)
def test_unfinished_and_crashing_answers_get_the_shared_words(capsys, function, printed) -> None:
    assert check_cases(function, CASES, _sum_judge, success="sums.", returns="a sum") is False
    assert capsys.readouterr().out == f"Not yet: {printed}\n"


def test_none_can_be_a_right_answer_when_allowed(capsys) -> None:
    def judge(found, value):
        return None if found == (None if value < 0 else value) else "negative values have no answer: return None."

    cases = [(3,), (-1,)]
    assert check_cases(lambda value: None if value < 0 else value, cases, judge, success="ok", none_is_an_answer=True)
    assert not check_cases(lambda value: None, cases, judge, success="ok")
    assert capsys.readouterr().out.splitlines() == ["Correct! ok", f"Not yet: {returns_nothing()}"]


def test_the_learner_cannot_change_what_the_judge_sees(capsys) -> None:
    original_tensor, original_list = torch.arange(4), [1, 2]
    seen = []

    def vandal(tensor, items):
        tensor.zero_()
        items.append(99)
        return 0

    def judge(found, tensor, items):
        seen.append((tensor.clone(), list(items)))
        return None

    assert check_cases(vandal, [(original_tensor, original_list)], judge, success="ok")
    assert torch.equal(seen[0][0], torch.arange(4)) and seen[0][1] == [1, 2]
    assert torch.equal(original_tensor, torch.arange(4)) and original_list == [1, 2]


@pytest.mark.parametrize("prediction", [{"a", "c"}, ["A", "c"], ("c", "a"), "a, c", " ac "])
def test_read_letters_accepts_sets_lists_and_strings(prediction) -> None:
    assert read_letters(prediction, "abcd", "are not answers") == ({"a", "c"}, None)


@pytest.mark.parametrize(("prediction", "expected"), [
    (3, "got int"),
    ([1, "a"], "record letters (strings)"),
    ({"a", "z"}, "['z'] are not answers; choose among ['a', 'b', 'c', 'd']"),
])
def test_read_letters_explains_what_it_cannot_read(prediction, expected) -> None:
    letters, hint = read_letters(prediction, "abcd", "are not answers")
    assert letters is None and expected in hint


def test_choice_hint_names_the_choices() -> None:
    assert choice_hint("b", ("a", "b")) is None
    assert choice_hint(..., ("a", "b")) == "record your prediction first: replace the `...` with one of 'a', 'b'."
    assert choice_hint("c", ("a", "b")) == "your prediction must be one of 'a', 'b'; got 'c'."


def test_check_outcome_prediction_compares_with_the_measured_outcome(capsys) -> None:
    meanings = {"rises": "more weight, more loss", "stays": "a common factor cancels"}
    assert check_outcome_prediction("stays", "stays", meanings, happened="the loss") is True
    assert "Correct! the loss stays: a common factor cancels." in capsys.readouterr().out
    # A recorded miss passes (a guess about a measurement is not graded on being right) and says what happened.
    assert check_outcome_prediction("rises", "stays", meanings, happened="the loss") is True
    assert capsys.readouterr().out == ("Recorded; the result differs: you predicted 'rises', but the loss stays: "
                                       "a common factor cancels.\n")
    assert check_outcome_prediction(..., "stays", meanings, happened="the loss") is False
    assert "record your prediction first" in capsys.readouterr().out
    assert check_outcome_prediction("stays", "falls", meanings, happened="the loss") is False
    assert "pass the measured outcome" in capsys.readouterr().out


def test_borrowed_names_reads_the_code_not_the_comments() -> None:
    import math

    def answer(x):
        rounded = math.floor(x)  # not evaluate: a comment does not count

        def inner():
            return evaluate(rounded)  # noqa: F821 (a name the check looks for, never called here)

        return "predict", inner

    assert borrowed_names(answer, ["evaluate", "predict", "floor", "sqrt"]) == ["evaluate", "floor"]
    assert borrowed_names(lambda x: x + 1, ["evaluate"]) == []
    assert borrowed_names(len, ["len"]) == []  # a built-in has no code to read
