"""Each lesson-10 check accepts right answers and prints a specific hint for wrong ones."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from segedu.course.exercises.lesson10 import (
    ERROR_KINDS,
    check_band_lead_prediction,
    check_band_mean_iou,
    check_far_error_prediction,
    check_input_scaling_prediction,
)
from segedu.training.metrics import boundary_band, confusion_matrix, iou_per_class, mean_iou


def _run(check: Callable, answer: Callable, capsys: pytest.CaptureFixture[str]) -> tuple[bool, str]:
    result = check(answer)
    return result, capsys.readouterr().out


def _stub(*arguments: object) -> object:
    raise NotImplementedError


def _placeholder(*arguments: object) -> object:
    return ...


def _empty(*arguments: object) -> None:
    ...  # the notebook's stub: its body is `...`, so it returns None


# --- band mean IoU ----------------------------------------------------------------------------


def _band_by_matrix(pred: torch.Tensor, target: torch.Tensor, width: int, num_classes: int) -> float:
    return mean_iou(confusion_matrix(pred, target, num_classes, 255, boundary_band(target, width)))


def _band_by_loops(pred: torch.Tensor, target: torch.Tensor, width: int, num_classes: int) -> float:
    keep = boundary_band(target, width) & (target != 255)
    values = []
    for label in range(num_classes):
        hit, true = (pred == label) & keep, (target == label) & keep
        union = int((hit | true).sum())
        if union:
            values.append(int((hit & true).sum()) / union)
    return sum(values) / len(values)


@pytest.mark.parametrize("answer", [_band_by_matrix, _band_by_loops])
def test_band_mean_iou_accepts_right_answers(answer: Callable, capsys: pytest.CaptureFixture[str]) -> None:
    correct, printed = _run(check_band_mean_iou, answer, capsys)
    assert correct and printed.startswith("Correct!")


def _everywhere(pred, target, width, num_classes):
    return mean_iou(confusion_matrix(pred, target, num_classes, 255))


def _interior(pred, target, width, num_classes):
    return mean_iou(confusion_matrix(pred, target, num_classes, 255, ~boundary_band(target, width)))


def _zeros_for_absent(pred, target, width, num_classes):
    matrix = confusion_matrix(pred, target, num_classes, 255, boundary_band(target, width))
    return float(iou_per_class(matrix).nan_to_num(0.0).mean())


def _ignored_counted(pred, target, width, num_classes):
    band = boundary_band(target, width)
    values = []
    for label in range(num_classes):
        hit, true = (pred == label) & band, (target == label) & band
        if int((hit | true).sum()):
            values.append(int((hit & true).sum()) / int((hit | true).sum()))
    return sum(values) / len(values)


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (_stub, "NotImplementedError"),
        (_placeholder, "returns nothing yet"),
        (_empty, "returns nothing yet"),
        (_everywhere, "mean IoU of all pixels"),
        (_interior, "interior"),
        (_zeros_for_absent, "nanmean"),
        (_ignored_counted, "255"),
        (lambda pred, target, width, num_classes: 0.5, "the band's mean IoU is"),
        (lambda pred, target, width, num_classes: "high", "return one number"),
    ],
)
def test_band_mean_iou_hints(answer: Callable, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    correct, printed = _run(check_band_mean_iou, answer, capsys)
    assert not correct and printed.startswith("Not yet:") and hint in printed


# --- far-from-boundary error prediction ------------------------------------------------------

_COUNTS = {"wrong": 1030, "bg -> object": 26, "object -> bg": 259, "object -> other shape": 745}


def test_far_error_prediction_accepts_the_largest_kind(capsys: pytest.CaptureFixture[str]) -> None:
    correct = check_far_error_prediction("object -> other shape", _COUNTS)
    printed = capsys.readouterr().out
    assert correct and printed.startswith("Correct!") and "72%" in printed and "full resolution" in printed


def test_far_error_prediction_follows_the_counts(capsys: pytest.CaptureFixture[str]) -> None:
    counts = {"bg -> object": 1750, "object -> bg": 7017, "object -> other shape": 6924}
    assert check_far_error_prediction("object -> bg", counts)
    assert not check_far_error_prediction("object -> other shape", counts)
    assert "'object -> bg'" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("prediction", "counts", "hint"),
    [
        (..., _COUNTS, "record your prediction first"),
        (None, _COUNTS, "record your prediction first"),
        ("clutter", _COUNTS, "must be one of"),
        ("bg -> object", _COUNTS, "the largest kind is 'object -> other shape'"),
        ("object -> bg", _COUNTS, "you predicted 'object -> bg' (25%"),
        ("object -> bg", {"wrong": 3}, "pass the counts"),
        ("object -> bg", dict.fromkeys(ERROR_KINDS, 0), "no wrong pixel"),
    ],
)
def test_far_error_prediction_hints(prediction, counts, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_far_error_prediction(prediction, counts)
    printed = capsys.readouterr().out
    assert printed.startswith("Not yet:") and hint in printed


# --- input size scaling prediction ------------------------------------------------------------

_RATIOS = {"parameters": 1.0, "MACs": 3.998, "kept for backward": 4.0}  # U-Net at 128 x 128 against 64 x 64


def test_input_scaling_prediction_accepts_the_nearest_factors(capsys: pytest.CaptureFixture[str]) -> None:
    correct = check_input_scaling_prediction({"parameters": 1, "MACs": 4, "kept for backward": 4}, _RATIOS)
    printed = capsys.readouterr().out
    assert correct and printed.startswith("Correct!") and "about 1x" in printed and "any input size" in printed
    assert "every output pixel" in printed  # says why, not only what


@pytest.mark.parametrize(
    ("prediction", "measured", "hint"),
    [
        (..., _RATIOS, "record your prediction first"),
        (4, _RATIOS, "record a dict"),
        ({"parameters": 1, "MACs": 4}, _RATIOS, "record a dict"),
        ({"parameters": 3, "MACs": 4, "kept for backward": 4}, _RATIOS, "must be one of"),
        ({"parameters": 4, "MACs": 4, "kept for backward": 4}, _RATIOS, "not by the image"),
        ({"parameters": 1, "MACs": 2, "kept for backward": 4}, _RATIOS, "you said 2x"),
        ({"parameters": 1, "MACs": 4, "kept for backward": 2}, _RATIOS, "twice the height and twice the width"),
        ({"parameters": 1, "MACs": 4, "kept for backward": 4}, {"parameters": 1.0}, "pass the measured ratios"),
    ],
)
def test_input_scaling_prediction_hints(prediction, measured, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_input_scaling_prediction(prediction, measured)
    printed = capsys.readouterr().out
    assert printed.startswith("Not yet:") and hint in printed


# --- band lead prediction ---------------------------------------------------------------------

_LEADS = {1: 0.151, 2: 0.087, 3: 0.061, 4: 0.048, 6: 0.038}  # U-Net minus FCN-8s on the shapes


def test_band_lead_prediction_accepts_what_happened(capsys: pytest.CaptureFixture[str]) -> None:
    correct = check_band_lead_prediction("shrinks", _LEADS)
    printed = capsys.readouterr().out
    assert correct and printed.startswith("Correct!") and "+0.151" in printed and "edge" in printed


def test_band_lead_prediction_says_when_the_trend_is_within_the_noise(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_band_lead_prediction("shrinks", _LEADS, yardstick=0.632)
    assert "Mind the noise" in capsys.readouterr().out
    assert not check_band_lead_prediction("changes sign", _LEADS, yardstick=0.632)
    assert "another seed could change the trend, even the sign" in capsys.readouterr().out
    assert check_band_lead_prediction("shrinks", _LEADS, yardstick=0.05) is True
    printed = capsys.readouterr().out
    assert "the leads at 4 px, 6 px are below the two models' seed range (0.050)" in printed  # 0.048, 0.038
    assert "even the sign" not in printed
    assert check_band_lead_prediction("shrinks", _LEADS, yardstick=0.03) is True
    assert "Mind the noise" not in capsys.readouterr().out  # every lead clears 0.03


def test_band_lead_prediction_follows_the_leads(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_band_lead_prediction("grows", {1: 0.01, 4: 0.05})
    assert check_band_lead_prediction("changes sign", {1: 0.05, 4: -0.02})
    assert not check_band_lead_prediction("shrinks", {1: 0.05, 4: -0.02})
    assert "it changes sign" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("prediction", "leads", "hint"),
    [
        (..., _LEADS, "record your prediction first"),
        ("smaller", _LEADS, "must be one of"),
        ("grows", _LEADS, "but it shrinks"),
        ("changes sign", _LEADS, "but it shrinks"),
        ("shrinks", {2: 0.1}, "two band widths"),
    ],
)
def test_band_lead_prediction_hints(prediction, leads, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_band_lead_prediction(prediction, leads)
    printed = capsys.readouterr().out
    assert printed.startswith("Not yet:") and hint in printed


_GAINS = {"add": [0.05, 0.07, 0.06], "indices": [0.02, -0.01, 0.03], "concat": [0.10, 0.12, 0.09]}


def test_shortcut_band_prediction_accepts_the_largest_gain(capsys: pytest.CaptureFixture[str]) -> None:
    from segedu.course.exercises.lesson10 import check_shortcut_band_prediction

    assert check_shortcut_band_prediction("concat", _GAINS)
    printed = capsys.readouterr().out
    assert printed.startswith("Correct!") and "concat +0.103" in printed and "Mind the seeds" not in printed


def test_shortcut_band_prediction_rejects_another_and_says_why(capsys: pytest.CaptureFixture[str]) -> None:
    from segedu.course.exercises.lesson10 import check_shortcut_band_prediction

    assert not check_shortcut_band_prediction("indices", _GAINS)
    printed = capsys.readouterr().out
    assert printed.startswith("Not yet") and "you predicted 'indices'" in printed and "only positions" in printed


def test_shortcut_band_prediction_warns_when_the_seeds_disagree(capsys: pytest.CaptureFixture[str]) -> None:
    from segedu.course.exercises.lesson10 import check_shortcut_band_prediction

    mixed = {"add": [0.10, 0.04], "indices": [0.0, 0.0], "concat": [0.05, 0.08]}
    assert check_shortcut_band_prediction("add", mixed)
    assert "not separated" in capsys.readouterr().out
    assert check_shortcut_band_prediction("concat", mixed)  # ahead in one seed: not separated from the top
    assert "both answers hold" in capsys.readouterr().out
    assert not check_shortcut_band_prediction("indices", mixed)  # behind 'add' in every seed


def test_shortcut_band_prediction_says_add_and_concat_both_carry_features(capsys: pytest.CaptureFixture[str]) -> None:
    from segedu.course.exercises.lesson10 import check_shortcut_band_prediction

    recorded = {"add": [0.047, 0.039, 0.134], "indices": [-0.045, -0.008, 0.030], "concat": [0.087, 0.034, 0.066]}
    assert check_shortcut_band_prediction("add", recorded)
    printed = capsys.readouterr().out
    assert "both carry the encoder's features" in printed and "order here is noise" in printed
    assert "2 of 3 seeds" in printed and "comes from one seed alone" in printed and "cannot tell" not in printed
    assert check_shortcut_band_prediction("concat", recorded)  # ahead of 'add' in seed 0: not separated
    assert not check_shortcut_band_prediction("indices", recorded)
    assert "both carry" in capsys.readouterr().out


def test_shortcut_band_prediction_names_each_shortcut_once(capsys: pytest.CaptureFixture[str]) -> None:
    from segedu.course.exercises.lesson10 import check_shortcut_band_prediction

    recorded = {"add": [0.102, 0.097, 0.154, 0.098, 0.124], "indices": [0.010, 0.003, 0.028, -0.085, 0.036],
                "concat": [0.126, 0.121, 0.140, 0.126, 0.103]}  # the study's band gains
    assert check_shortcut_band_prediction("add", recorded)  # not separated from 'concat'
    printed = capsys.readouterr().out
    assert printed.count("With 'add'") == 1 and "both answers hold" in printed
    assert not check_shortcut_band_prediction("indices", recorded)
    assert capsys.readouterr().out.count("With 'indices'") == 1


@pytest.mark.parametrize(("prediction", "gains", "hint"), [
    (..., _GAINS, "record your prediction first"),
    ("none", _GAINS, "must be one of"),
    ("add", {"add": [0.1]}, "pass one list"),
])
def test_shortcut_band_prediction_hints(prediction, gains, hint, capsys: pytest.CaptureFixture[str]) -> None:
    from segedu.course.exercises.lesson10 import check_shortcut_band_prediction

    assert not check_shortcut_band_prediction(prediction, gains)
    assert hint in capsys.readouterr().out


# --- the merge of a decoder level ---------------------------------------------------------------

from segedu.course.exercises.lesson10 import (  # noqa: E402
    INDICES_WHY_CHOICES,
    check_indices_why,
    check_merge,
    check_merge_channels_prediction,
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


def test_merge_check_leaves_the_random_stream_alone() -> None:
    torch.manual_seed(3)
    expected = torch.rand(2)
    torch.manual_seed(3)
    check_merge(_merge)
    assert torch.equal(torch.rand(2), expected)


def test_merge_channels_prediction_accepts_the_measured_channels(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_merge_channels_prediction({"none": 16, "add": 16, "indices": 16, "concat": 32})
    printed = capsys.readouterr().out
    assert printed.startswith("Correct!") and "concat 32" in printed and "twice the input weights" in printed


@pytest.mark.parametrize(
    ("prediction", "hint"),
    [
        (..., "record your prediction first"),
        (32, "record a dict"),
        ({"none": 16, "add": 16, "concat": 32}, "record a dict"),
        ({"none": 16, "add": 16, "indices": 16, "concat": "many"}, "whole number"),
        ({"none": 16, "add": 32, "indices": 16, "concat": 32}, "add 16 (you said 32): level.project"),
        ({"none": 16, "add": 16, "indices": 32, "concat": 32}, "adds no channel"),
        ({"none": 16, "add": 16, "indices": 16, "concat": 16}, "concat 32 (you said 16)"),
    ],
)
def test_merge_channels_prediction_hints(prediction, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_merge_channels_prediction(prediction)
    printed = capsys.readouterr().out
    assert printed.startswith("Not yet:") and hint in printed


# --- why indices cannot carry what a sum or a concatenation carries -----------------------------


def test_indices_why_accepts_nothing_when_the_line_loses_and_the_decoder_value_when_it_wins(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert check_indices_why("b")
    printed = capsys.readouterr().out
    assert printed.startswith("Correct!") and "says only *where*" in printed and "mixes two changes" in printed
    assert "SegNet's argument" in printed and "nothing of it reaches the decoder" in printed
    # measured on segedu's DecoderLevel, not stated: the loser's window, then the winner's
    assert "[[0.0, 0.0], [0.0, 0.4]]" in printed and "[[0.4, 0.0], [0.0, 0.0]]" in printed


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (..., "record your prediction first"),
        ("f", "must be one of"),
        ("a", "`skip` is not used"),
        ("c", "nearest-neighbour"),
        ("d", "neither the 0.9 nor the line's 0.6"),
        ("e", "its *position* crosses but not its 0.6"),
    ],
)
def test_indices_why_rejects_the_others_and_says_why(answer, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_indices_why(answer)
    printed = capsys.readouterr().out
    assert printed.startswith("Not yet:") and hint in printed
    if answer in INDICES_WHY_CHOICES:
        assert "where each value in the unpooled window comes from" in printed and "[[0.4, 0.0], [0.0, 0.0]]" in printed
    else:
        assert "[[0." not in printed  # nothing measured is shown before a valid answer


def test_indices_why_choices_carry_no_explanation() -> None:
    assert all("because" not in text and ":" in text and len(text) < 30 for text in INDICES_WHY_CHOICES.values())


def test_indices_why_check_leaves_the_random_stream_alone() -> None:
    torch.manual_seed(3)
    expected = torch.rand(2)
    torch.manual_seed(3)
    check_indices_why("b")
    assert torch.equal(torch.rand(2), expected)


def test_indices_why_choices_do_not_give_the_answer_away_by_length() -> None:
    lengths = [len(text) for text in INDICES_WHY_CHOICES.values()]
    assert max(lengths) - min(lengths) < 15
