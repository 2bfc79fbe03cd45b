"""Lesson 07's exercise checks accept right answers and give a specific hint for wrong ones."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from segedu.course.exercises import lesson07


def _not_written(*arguments: object) -> None:
    raise NotImplementedError


def _verdict(capsys: pytest.CaptureFixture[str]) -> str:
    return capsys.readouterr().out


def _conv_from(linear: nn.Linear, weight: torch.Tensor, *, padding: int = 0, bias: bool = True) -> nn.Conv2d:
    """A convolution with fc1's sizes holding ``weight`` (and fc1's bias unless ``bias`` is False)."""
    conv = nn.Conv2d(weight.shape[1], weight.shape[0], kernel_size=tuple(weight.shape[2:]), padding=padding)
    with torch.no_grad():
        conv.weight.copy_(weight)
        if bias:
            conv.bias.copy_(linear.bias)
    return conv


def _fc_as_conv(linear: nn.Linear, channels: int, side: int) -> nn.Conv2d:
    """The right answer: row k, read in the channels-last (row, column, channel) order, permuted to a filter."""
    rows = linear.weight.detach()
    return _conv_from(linear, rows.reshape(linear.out_features, side, side, channels).permute(0, 3, 1, 2))


def test_fc_as_conv_is_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson07.check_fc_as_conv(165, _fc_as_conv) is True
    out = _verdict(capsys)
    assert out.startswith("Column 165 is right") and "(1 x 3 + 2) x 32 + 5 = 165" in out
    assert "Correct!" in out and "your filters (128, 32, 3, 3) equal each row reshaped" in out
    assert "your filters (48, 16, 4, 4) equal each row reshaped" in out and "10 x 10 map" in out


def test_the_fc_as_conv_cases_leave_the_global_random_state_alone() -> None:
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    lesson07.check_fc_as_conv(165, _fc_as_conv)
    assert torch.equal(torch.rand(3), expected)


def test_the_ground_truth_computes_the_channels_last_layer() -> None:
    """The private _channels_last_filters, as a convolution, equals the layer run on a channels-last flattened block."""
    linear = lesson07._fc_case(channels=16, side=4, out_features=48, seed=1)
    block = torch.randn(2, 16, 4, 4)
    by_conv = torch.nn.functional.conv2d(block, lesson07._channels_last_filters(linear, 16, 4), linear.bias)
    torch.testing.assert_close(by_conv.flatten(1), linear(lesson07.flatten_channels_last(block)))
    assert not torch.allclose(by_conv.flatten(1), linear(block.flatten(1)))  # the order matters


def test_the_checks_own_conversion_is_not_public() -> None:
    """Exercise 2's answer is one reshape and permute: it stays out of the module's public names."""
    assert "channels_last_filters" not in lesson07.__all__ and not hasattr(lesson07, "channels_last_filters")
    assert "_channels_last_filters" in lesson07.FC_AS_CONV_BORROWED
    assert "feature_column" not in lesson07.__all__ and not hasattr(lesson07, "feature_column")  # exercise 2's answer


def _channels_first(linear: nn.Linear, channels: int, side: int) -> nn.Conv2d:
    """The naive reshape (convolutionalize's layout), right for nn.Flatten's order but not here."""
    return _conv_from(linear, linear.weight.detach().reshape(linear.out_features, channels, side, side))


def _rows_and_columns_swapped(linear: nn.Linear, channels: int, side: int) -> nn.Conv2d:
    return _conv_from(linear, _fc_as_conv(linear, channels, side).weight.detach().transpose(2, 3))


def _transposed_matrix(linear: nn.Linear, channels: int, side: int) -> nn.Conv2d:
    return _conv_from(linear, linear.weight.detach().t().reshape(linear.out_features, channels, side, side))


def _padded(linear: nn.Linear, channels: int, side: int) -> nn.Conv2d:
    return _conv_from(linear, _fc_as_conv(linear, channels, side).weight.detach(), padding=side // 2)


def _without_bias(linear: nn.Linear, channels: int, side: int) -> nn.Conv2d:
    return _conv_from(linear, _fc_as_conv(linear, channels, side).weight.detach(), bias=False)


def _not_copied(linear: nn.Linear, channels: int, side: int) -> nn.Conv2d:
    return nn.Conv2d(channels, linear.out_features, kernel_size=side)


def _section_one_sizes(linear: nn.Linear, channels: int, side: int) -> nn.Conv2d:
    conv = nn.Conv2d(32, 128, kernel_size=3)  # section 1's numbers, not the arguments
    if tuple(linear.weight.shape) == (128, 288):
        with torch.no_grad():
            conv.weight.copy_(linear.weight.reshape(128, 3, 3, 32).permute(0, 3, 1, 2))
            conv.bias.copy_(linear.bias)
    return conv


def _pointwise(linear: nn.Linear, channels: int, side: int) -> nn.Conv2d:
    return nn.Conv2d(channels, linear.out_features, kernel_size=1)


def _borrowed(linear: nn.Linear, channels: int, side: int) -> nn.Conv2d:
    from segedu.models import convolutionalize

    return convolutionalize(linear).fc1


def _returns_nothing(linear: nn.Linear, channels: int, side: int) -> None:
    ...


def _uses_the_checks_answer(linear: nn.Linear, channels: int, side: int) -> nn.Conv2d:
    return _conv_from(linear, lesson07._channels_last_filters(linear, channels, side))


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (_channels_first, "channel slowest"),
        (_rows_and_columns_swapped, "rows and columns swapped"),
        (_transposed_matrix, "you reshaped the transposed matrix"),
        (_padded, "your convolution pads its input"),
        (_without_bias, "now the bias"),
        (_not_copied, "your filters are not the layer's weights"),
        (_section_one_sizes, "Build it from the arguments"),
        (_pointwise, "each filter must cover all of it"),
        (lambda linear, channels, side: linear, "return an nn.Conv2d"),
        (_borrowed, "`convolutionalize`"),
        (_uses_the_checks_answer, "the check's own conversion"),
        (_returns_nothing, "returns nothing yet"),
        (_not_written, "NotImplementedError"),
    ],
)
def test_wrong_fc_as_conv_gets_a_hint(answer, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson07.check_fc_as_conv(165, answer) is False
    column_line, out = _verdict(capsys).split("\n", 1)
    assert column_line.startswith("Column 165 is right")  # the recorded column is judged first
    assert out.startswith("Not yet:") and out.count("\n") == 1 and hint in out
    assert "permute(0, 3, 1, 2)" not in out and "equal each row reshaped" not in out  # a hint, never the answer


def test_the_feature_column_is_read_off_the_layers_flatten() -> None:
    """Feature (channel 5, row 1, column 2) of a 32 x 3 x 3 block, flattened channels-last, lands in column 165."""
    assert lesson07.FC_QUESTION == {"channels": 32, "side": 3, "feature": (5, 1, 2)}
    assert lesson07._feature_column(32, 3, (5, 1, 2)) == (1 * 3 + 2) * 32 + 5 == 165
    assert lesson07._feature_column(32, 3, (5, 1, 2)) != 5 * 9 + 1 * 3 + 2  # nn.Flatten's (channels-first) column
    linear = lesson07._fc_case(channels=32, side=3, out_features=4, seed=0)
    block = torch.zeros(1, 32, 3, 3)
    block[0, 5, 1, 2] = 1.0  # only that feature is on: the output is that column of W, plus the bias
    torch.testing.assert_close(linear(lesson07.flatten_channels_last(block))[0] - linear.bias,
                               linear.weight[:, 165].detach())


def test_the_right_column_spells_out_no_filter_code(capsys: pytest.CaptureFixture[str]) -> None:
    """The column line explains the flatten order; turning rows into filters is left to the learner's function."""
    lesson07.check_fc_as_conv(165, _not_written)
    column_line = _verdict(capsys).split("\n", 1)[0]
    assert column_line.startswith("Column 165 is right")
    assert "reshape" not in column_line and "permute(0, 3, 1, 2)" not in column_line


@pytest.mark.parametrize(("column", "hint"), [
    (50, "nn.Flatten would put the feature"), (229, "you swapped the row and the column"),
    (113, "the column changes fastest"), (166, "columns count from 0"), (7, "count positions as flatten(1) does"),
    (52, "count positions as flatten(1) does"), (300, "numbered 0 to 287"), (-1, "numbered 0 to 287"),
    (..., "record your prediction first"), (165.0, "whole number"), ("165", "whole number"), (True, "whole number"),
])
def test_a_wrong_or_missing_column_gets_a_question_first(column, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson07.check_fc_as_conv(column, _fc_as_conv) is False  # even with a right function
    out = _verdict(capsys)
    assert out.startswith("Not yet:") and out.count("\n") == 1 and hint in out
    assert "is right" not in out and "165" not in out.replace(repr(column), "")  # never the right column


# Seven objects, median size 100 pixels: FCN-32s misses two of the three small ones (67 %) and one of the four large
# ones (25 %); FCN-8s one small one (33 %) and no large one
SIZES = [20, 40, 60, 100, 300, 500, 700]
VERDICTS = {"32s": ["missed", "missed", "named", "missed", "named", "another shape", "named"],
            "8s": ["named", "missed", "named", "named", "named", "named", "named"]}


def test_the_right_miss_rate_band_is_explained(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson07.check_missed_sizes("over 60%", SIZES, VERDICTS) is True
    out = _verdict(capsys)
    assert out.startswith("Correct! FCN-32s misses 67% of the objects under 100 pixels (over 60%), 25% of the larger")
    assert "fills 10% of one 32 x 32 quarter" in out and "one cell per quarter" in out
    assert "it misses 33% of the small objects, 0% of the larger ones" in out and out.count("\n") == 1


def test_a_wrong_miss_rate_band_is_not_yet_and_says_why(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson07.check_missed_sizes("40-60%", SIZES, VERDICTS) is False
    out = _verdict(capsys)
    assert out.startswith("Not yet: you predicted '40-60%', but FCN-32s misses 67% of the objects under 100 pixels")
    assert "one cell per quarter" in out and "Correct!" not in out


def test_the_miss_rate_is_read_from_the_counts(capsys: pytest.CaptureFixture[str]) -> None:
    one_small_missed = {"32s": ["named", "missed", "named", "missed", "missed", "named", "named"]}  # 1 of 3: 33 %
    assert lesson07.check_missed_sizes("20-40%", SIZES, one_small_missed) is True
    out = _verdict(capsys)
    assert "Correct! FCN-32s misses 33% of the objects under 100 pixels (20-40%), 50% of the larger" in out
    assert "FCN-8s" not in out  # no FCN-8s answers passed: no FCN-8s shares
    for band in ("under 20%", "40-60%", "over 60%"):
        assert lesson07.check_missed_sizes(band, SIZES, one_small_missed) is False


def test_a_share_on_a_band_boundary_accepts_both_bands(capsys: pytest.CaptureFixture[str]) -> None:
    sizes = [10, 20, 30, 40, 50, 100, 200, 300, 400, 500, 600]  # median 100: five small objects
    answers = {"32s": ["missed", "missed", "named", "named", "named"] + ["named"] * 6}  # 2 of 5 small: 40 %
    assert lesson07.check_missed_sizes("20-40%", sizes, answers) is True
    assert "(20-40% or 40-60%)" in _verdict(capsys)
    assert lesson07.check_missed_sizes("40-60%", sizes, answers) is True
    assert lesson07.check_missed_sizes("under 20%", sizes, answers) is False


def test_the_right_reason_is_explained(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson07.check_missed_sizes("over 60%", SIZES, VERDICTS, reason="b") is True
    out = _verdict(capsys)
    assert out.startswith("Correct! FCN-32s misses 67%") and "your reason 'b' is right" in out
    assert "one learned kernel stamped at four cells" in out


@pytest.mark.parametrize(("reason", "why"), [("a", "wider than the whole 64-pixel scene"),
                                             ("c", "FCN-8s is trained with the same loss")])
def test_a_wrong_reason_is_not_yet_and_says_why(reason: str, why: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson07.check_missed_sizes("over 60%", SIZES, VERDICTS, reason=reason) is False
    out = _verdict(capsys)
    assert out.startswith("Not yet: your band is right") and f"your reason {reason!r} does not hold" in out and why in out


def test_a_missing_reason_is_not_yet(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson07.check_missed_sizes("over 60%", SIZES, VERDICTS, reason=...) is False
    out = _verdict(capsys)
    assert "record your reason first" in out and "Correct!" not in out
    assert set(lesson07.MISS_REASONS) == {"a", "b", "c"}


@pytest.mark.parametrize(("prediction", "verdicts", "hint"), [
    (..., VERDICTS, "record your prediction first"), ("small", VERDICTS, "must be one of 'under 20%', '20-40%'"),
    (0.53, VERDICTS, "must be one of"), (["40-60%"], VERDICTS, "must be one of"),
    ("over 60%", {"8s": VERDICTS["8s"]}, "pass section 4's `object_size` and `verdicts`"),
    ("over 60%", {"32s": VERDICTS["32s"][:3]}, "pass section 4's `object_size` and `verdicts`"),
])
def test_missed_sizes_without_a_usable_answer_is_not_yet(prediction, verdicts, hint: str,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson07.check_missed_sizes(prediction, SIZES, verdicts) is False
    out = _verdict(capsys)
    assert out.startswith("Not yet:") and out.count("\n") == 1 and hint in out
    assert "%) of" not in out and "misses" not in out  # no share before a usable answer


def test_skip_start_prediction_is_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson07.check_skip_start("not zero", {"a", "b"}) is True
    out = _verdict(capsys)
    assert "zero start 0.0000" in out and "to pool4 0.0000" in out and "Correct!" in out
    # only a right answer explains every statement
    assert all(f"{letter} is {verdict}:" in out
               for letter, verdict in (("a", "true"), ("b", "true"), ("c", "false"), ("d", "false")))
    # statement a holds for the 1/32 scores only: the output passes through new 2x and 16x upsamplers
    assert "1/32 scores" in lesson07.SKIP_START_STATEMENTS["a"]
    # and it says when the branch starts to add something (a step that moves its parameters), not that every step
    # lowers the loss, which a gradient step need not do
    assert "until its weights and bias move" in lesson07.SKIP_START_STATEMENTS["a"]
    assert "lowers the loss" not in lesson07.SKIP_START_STATEMENTS["a"] and "lowers the loss" not in out
    assert "do not reproduce FCN-32s's 32x kernel" in out


def test_the_skip_start_statements_give_nothing_away_by_their_form() -> None:
    """True and false statements alike: similar length, no absolutes that only the false ones carry."""
    lengths = {letter: len(text) for letter, text in lesson07.SKIP_START_STATEMENTS.items()}
    assert sorted(lengths) == ["a", "b", "c", "d"] and max(lengths.values()) < 1.2 * min(lengths.values())
    assert max(lengths[letter] for letter in lesson07._SKIP_START_KEY) < max(lengths.values())
    for text in lesson07.SKIP_START_STATEMENTS.values():
        assert "never" not in text and "only ever" not in text and "(its output" not in text


def test_skip_start_gradients_are_measured(capsys: pytest.CaptureFixture[str]) -> None:
    lesson07.check_skip_start("not zero", "ab")
    out = _verdict(capsys)
    assert "weights 0.0000" not in out and "convolutions 0.0000" not in out
    gradients = lesson07._first_step_gradients()
    assert gradients["score_pool4"] > 0 and gradients["stage4"] > 0
    assert gradients["score_pool4_bias"] > 0  # statement c: the zero bias still gets a gradient
    assert gradients["through_skip"] == 0  # the zero weights pass nothing down
    assert gradients["filters_apart"] > 0  # each class's filter gets its own gradient: no symmetry to break
    assert "the two closest differ by 0.0000" not in out


QUESTIONS = ("weight_gradient: write the gradient of a 1 x 1 convolution's weight", "a: write the new FCN-16s's 1/16 sum",
             "b: write the gradient a convolution passes down", "c: write the gradient of a convolution's bias",
             "d: write the gradient of the filter that scores class k")


def test_skip_start_hints_ask_for_reasoning_not_verdicts() -> None:
    """Each hint asks the learner to write a gradient or an output out, never a yes/no question with its answer."""
    for question in lesson07._SKIP_START_HINTS.values():
        assert question.startswith("write ")
        assert "which of the two is zero" not in question and "is any weight a factor" not in question
        assert "does the loss send every class the same" not in question


@pytest.mark.parametrize(
    ("gradient", "answer", "misses"),
    [
        ("zero", {"a", "c", "d"}, "4 of your 5 answers are wrong"),
        ("not zero", {"a", "b", "d"}, "1 of your 5 answers is wrong"),
        ("zero", {"a", "b"}, "1 of your 5 answers is wrong"),
        ("not zero", {"b"}, "1 of your 5 answers is wrong"),
        ("not zero", set(), "2 of your 5 answers are wrong"),
        ("zero", {"c", "d"}, "5 of your 5 answers are wrong"),
    ],
)
def test_a_missed_skip_start_counts_the_misses_but_names_none(
        gradient, answer, misses: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson07.check_skip_start(gradient, answer) is False
    out = _verdict(capsys)
    assert out.startswith("Not yet:") and out.count("\n") == 1  # one line: no measured numbers printed first
    assert misses in out
    assert all(question in out for question in QUESTIONS)  # every answer is asked about, the right ones too
    assert "gradient norm" not in out and "0.0000" not in out  # no measurements
    assert " is true" not in out and " is false" not in out and "is not zero" not in out  # no verdicts


def test_two_misses_with_different_letters_read_the_same(capsys: pytest.CaptureFixture[str]) -> None:
    """Only the count differs between misses: the text never points at the wrong answer."""
    lesson07.check_skip_start("not zero", {"a", "b", "c"})
    wrong_c = _verdict(capsys)
    lesson07.check_skip_start("zero", {"a", "b"})
    wrong_prediction = _verdict(capsys)
    assert wrong_c == wrong_prediction


@pytest.mark.parametrize(
    ("gradient", "answer", "hint"),
    [
        (..., {"a", "b"}, "record your prediction first"),
        ("small", {"a", "b"}, "must be one of"),
        ("zero", {"a", "b"}, "1 of your 5 answers is wrong"),
        ("not zero", ..., "record your answer"),
        ("not zero", {"a", "b", "c"}, "1 of your 5 answers is wrong"),
        ("not zero", "a", "1 of your 5 answers is wrong"),
        ("not zero", {"identical"}, "are not among the statements"),
        ("not zero", 3, "record a set of letters"),
    ],
)
def test_wrong_skip_start_gets_a_hint(gradient, answer, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson07.check_skip_start(gradient, answer) is False
    out = _verdict(capsys)
    assert "Not yet:" in out and hint in out and "Correct!" not in out
