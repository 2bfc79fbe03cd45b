"""Each lesson-10 check accepts right answers and prints a specific hint for wrong ones."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch


# --- the controlled study: which shortcut gains least in the band -----------------------------

_GAINS = {"add": [0.05, 0.07, 0.06], "indices": [0.02, -0.01, 0.03], "concat": [0.10, 0.12, 0.09]}
_RECORDED = {"add": [0.102, 0.097, 0.154, 0.098, 0.124], "indices": [0.010, 0.003, 0.028, -0.085, 0.036],
             "concat": [0.126, 0.121, 0.140, 0.126, 0.103]}  # the study's band gains
_REASON = "only the feature shortcuts carry the encoder's edge values across"


def test_shortcut_band_prediction_is_recorded_not_graded(capsys: pytest.CaptureFixture[str]) -> None:
    from segedu.course.exercises.lesson11 import SHORTCUT_CHOICES, record_shortcut_band_prediction

    for choice in SHORTCUT_CHOICES:  # every honest prediction passes: it is printed beside the record
        assert record_shortcut_band_prediction(choice, _RECORDED, reason=_REASON)
        printed = capsys.readouterr().out
        assert printed.startswith(f"Recorded: {choice!r} (not graded), because {_REASON!r}.")
        assert "indices -0.002" in printed
        assert "behind both others in every seed" in printed and "mind the seeds" not in printed
        assert ("The record agrees" in printed) == (choice == "indices")
    record_shortcut_band_prediction("add", _RECORDED, reason=_REASON)
    assert "The record differs: 'indices' gains least" in capsys.readouterr().out


def test_shortcut_band_prediction_record_names_the_least_of_other_gains(capsys: pytest.CaptureFixture[str]) -> None:
    from segedu.course.exercises.lesson11 import record_shortcut_band_prediction

    assert record_shortcut_band_prediction("indices", _GAINS, reason=_REASON)
    assert "The record agrees" in capsys.readouterr().out
    swapped = {"add": _GAINS["indices"], "indices": _GAINS["add"], "concat": _GAINS["concat"]}
    assert record_shortcut_band_prediction("indices", swapped, reason=_REASON)
    assert "The record differs: 'add' gains least" in capsys.readouterr().out


def test_shortcut_band_prediction_warns_when_the_seeds_disagree(capsys: pytest.CaptureFixture[str]) -> None:
    from segedu.course.exercises.lesson11 import record_shortcut_band_prediction

    mixed = {"add": [0.10, 0.04], "indices": [0.0, 0.06], "concat": [0.05, 0.08]}
    assert record_shortcut_band_prediction("indices", mixed, reason=_REASON)
    assert "mind the seeds" in capsys.readouterr().out


@pytest.mark.parametrize(("prediction", "gains", "reason", "hint"), [
    (..., _GAINS, _REASON, "record your prediction first"),
    ("none", _GAINS, _REASON, "must be one of"),
    ("add", {"add": [0.1]}, _REASON, "pass one list"),
    ("add", _GAINS, ..., "add your reason"),
    ("add", _GAINS, "edges", "at least 6 words"),
])
def test_shortcut_band_prediction_hints(prediction, gains, reason, hint, capsys: pytest.CaptureFixture[str]) -> None:
    from segedu.course.exercises.lesson11 import record_shortcut_band_prediction

    assert not record_shortcut_band_prediction(prediction, gains, reason=reason)
    printed = capsys.readouterr().out
    assert printed.startswith("Not yet") and hint in printed


# --- the merge of a decoder level ---------------------------------------------------------------

from segedu.course.exercises.lesson11 import (  # noqa: E402
    check_merge,
    check_unpool,
)


def _merge(level, up, skip):
    if level.shortcut == "add":
        return up + level.project(skip)
    if level.shortcut == "concat":
        return torch.cat([skip, up], dim=1)
    return up


def _merge_stub(level, up, skip):  # the notebook's stub
    if level.shortcut == "add":
        return ...
    if level.shortcut == "concat":
        return ...
    return up


def _merge_written_out(level, up, skip):  # the same merge, by hand: a 1x1 convolution is a matrix product
    if level.shortcut == "add":
        weight, bias = level.project.weight[:, :, 0, 0], level.project.bias  # (C, C), (C,)
        return up + torch.einsum("oc,bchw->bohw", weight, skip) + bias[None, :, None, None]
    if level.shortcut == "concat":
        merged = torch.empty(up.shape[0], 2 * up.shape[1], *up.shape[2:])
        merged[:, : up.shape[1]], merged[:, up.shape[1]:] = skip, up
        return merged
    return up


def test_merge_accepts_the_package_merge(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_merge(_merge)
    printed = capsys.readouterr().out
    assert printed.startswith("Correct!") and "torch.allclose" in printed and "2C" in printed


def test_merge_accepts_either_concatenation_order_and_names_segedus(capsys: pytest.CaptureFixture[str]) -> None:
    def decoder_first(level, up, skip):
        return torch.cat([up, skip], 1) if level.shortcut == "concat" else _merge(level, up, skip)

    assert check_merge(decoder_first)
    printed = capsys.readouterr().out
    assert printed.startswith("Correct!") and "puts the decoder's channels first" in printed and "[skip, up]" in printed
    assert check_merge(_merge)
    printed = capsys.readouterr().out
    assert "segedu's convention puts the encoder's channels first" in printed
    assert "decoder's channels first" not in printed


def test_merge_accepts_a_merge_written_out_by_hand(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_merge(_merge_written_out)  # another summation order: equal up to float rounding
    assert capsys.readouterr().out.startswith("Correct!")


def test_merge_names_other_values_of_the_right_shape(capsys: pytest.CaptureFixture[str]) -> None:
    def doubled(level, up, skip):
        return 2 * _merge(level, up, skip) if level.shortcut == "add" else _merge(level, up, skip)

    assert not check_merge(doubled)
    assert "with other values" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (_merge_stub, "returns nothing yet"),
        (lambda level, up, skip: up, "unchanged: the encoder map has to cross too"),
        (lambda level, up, skip: up + skip if level.shortcut == "add" else _merge(level, up, skip), "level.project"),
        (lambda level, up, skip: level.project(skip) if level.shortcut == "add" else _merge(level, up, skip),
         "keeps the decoder's own map"),
        (lambda level, up, skip: torch.cat([skip, up], 0) if level.shortcut == "concat" else _merge(level, up, skip),
         "dim 0 is the batch"),
        (lambda level, up, skip: up + skip if level.shortcut == "none" else _merge(level, up, skip),
         "return `up` unchanged"),
        (lambda level, up, skip: "merged", "return a tensor"),
    ],
)
def test_merge_hints(answer: Callable, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_merge(answer)
    printed = capsys.readouterr().out
    assert printed.startswith("Not yet:") and hint in printed


# --- Exercise 1's prediction: what each merge costs ---------------------------------------------


def test_parameter_prediction_accepts_the_measured_ranges(capsys: pytest.CaptureFixture[str]) -> None:
    from segedu.course.exercises.lesson11 import check_parameter_prediction

    assert check_parameter_prediction("b", "c")
    printed = capsys.readouterr().out
    assert printed.startswith("Correct!") and "'add' 62,332 (+2%)" in printed and "'concat' 73,028 (+20%)" in printed


@pytest.mark.parametrize(
    ("add", "concat", "hint"),
    [
        (..., "c", "for 'add': record your prediction first"),
        ("b", "e", "for 'concat': your prediction must be one of"),
        ("a", "c", "removes none"),
        ("d", "c", "small beside the 3x3 convolutions"),
        ("b", "b", "wider inputs need more weights"),
        ("b", "d", "does not double"),
    ],
)
def test_parameter_prediction_rejects_other_ranges(add, concat, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    from segedu.course.exercises.lesson11 import check_parameter_prediction

    assert not check_parameter_prediction(add, concat)
    printed = capsys.readouterr().out
    assert printed.startswith("Not yet:") and hint in printed
    assert "60,932" not in printed and "%" not in printed  # the reason only: the counts wait for the right ranges


def test_parameter_prediction_leaves_the_random_stream_alone() -> None:
    from segedu.course.exercises.lesson11 import check_parameter_prediction

    torch.manual_seed(3)
    expected = torch.rand(2)
    torch.manual_seed(3)
    check_parameter_prediction("b", "c")
    assert torch.equal(torch.rand(2), expected)


# --- the unpooling of "indices" and its control ---------------------------------------------------

def _unpool(shortcut, x, indices):
    if shortcut == "fixed_unpool":
        height, width = x.shape[-2:]
        top_left = 2 * torch.arange(height)[:, None] * 2 * width + 2 * torch.arange(width)  # (h, w)
        indices = top_left.expand_as(x)
    return torch.nn.functional.max_unpool2d(x, indices, 2)


def _unpool_by_hand(shortcut, x, indices):  # the same by a scatter into a zero map
    batch, channels, height, width = x.shape
    if shortcut == "fixed_unpool":
        out = torch.zeros(batch, channels, 2 * height, 2 * width)
        out[..., ::2, ::2] = x
        return out
    out = torch.zeros(batch, channels, 4 * height * width)
    out.scatter_(2, indices.flatten(2), x.flatten(2))
    return out.view(batch, channels, 2 * height, 2 * width)


def test_unpool_accepts_max_unpool2d_and_a_scatter(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_unpool(_unpool)
    assert capsys.readouterr().out.startswith("Correct!")
    assert check_unpool(_unpool_by_hand)
    assert capsys.readouterr().out.startswith("Correct!")


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (lambda shortcut, x, indices: ..., "returns nothing yet"),
        (lambda shortcut, x, indices: torch.nn.functional.max_unpool2d(x, indices, 2), "builds its own index"),
        (lambda shortcut, x, indices: torch.nn.functional.interpolate(x, scale_factor=2.0), "nearest-neighbour"),
        (lambda shortcut, x, indices: x, "doubles the height and width"),
        (lambda shortcut, x, indices: _unpool("fixed_unpool", x, indices), "where the encoder's maximum was"),
        (lambda shortcut, x, indices: "map", "return a tensor"),
    ],
)
def test_unpool_hints(answer: Callable, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_unpool(answer)
    printed = capsys.readouterr().out
    assert printed.startswith("Not yet:") and hint in printed


@pytest.mark.parametrize("check, answer", [(check_merge, _merge), (check_unpool, _unpool)],
                         ids=["merge", "unpool"])
def test_the_checks_leave_the_random_stream_alone(check: Callable, answer: Callable) -> None:
    torch.manual_seed(3)
    expected = torch.rand(2)
    torch.manual_seed(3)
    check(answer)
    assert torch.equal(torch.rand(2), expected)


# --- Exercise 3: what the two-test rule makes of nine seeds above and one far below ---------------

_CONCAT_ALL = [0.109, 0.022, 0.081, 0.077, 0.073, -0.101, 0.061, 0.043, 0.050, 0.044]  # the study's concat - none, all pixels
_ONE_FAR_BELOW = [0.147, 0.120, 0.147, 0.116, 0.133, 0.141, 0.143, -0.231]  # t interval across 0
_ONLY_SIGN_FLIP = [0.011, 0.020, 0.015, 0.008, -0.005, 0.021]  # t interval [+0.002, +0.022], sign-flip p 0.0625


def test_one_below_verdict_accepts_ahead_and_prints_the_exact_sign_flip_p(capsys: pytest.CaptureFixture[str]) -> None:
    from segedu.course.exercises.lesson11 import check_one_below_verdict

    assert check_one_below_verdict("c", _CONCAT_ALL)
    printed = capsys.readouterr().out
    assert printed.startswith("Correct!") and "[+0.005, +0.087]" in printed and "2 x 19/2^10 = 0.0371" in printed


@pytest.mark.parametrize(("answer", "hint"), [
    (..., "record your prediction first"),
    ("g", "must be one of"),
    ("a", "no clause about single seeds"),
    ("b", "how small can p be?"),
    ("d", "misreads the 95 % t interval"),
    ("e", "Work out the sign-flip p"),
    ("f", "is it below 0?"),
])
def test_one_below_verdict_rejects_the_others_and_says_why(answer, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    from segedu.course.exercises.lesson11 import check_one_below_verdict

    assert not check_one_below_verdict(answer, _CONCAT_ALL)
    printed = capsys.readouterr().out
    assert printed.startswith("Not yet") and hint in printed and "[+0.005" not in printed and "0.0371" not in printed
    if answer == "d":  # the t interval hint names no side of 0
        assert "leaves out 0" not in printed and "reaches across 0" not in printed


@pytest.mark.parametrize(("values", "right"), [
    (_ONE_FAR_BELOW, "d"), (_ONLY_SIGN_FLIP, "e"), ([-value for value in _CONCAT_ALL], "f")])
def test_one_below_verdict_follows_the_measured_verdict(values, right: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The right letter is computed from the values: other differences make another option right."""
    from segedu.course.exercises.lesson11 import check_one_below_verdict

    assert check_one_below_verdict(right, values)
    assert capsys.readouterr().out.startswith("Correct!")
    assert not check_one_below_verdict("c", values)
    assert capsys.readouterr().out.startswith("Not yet")
