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


# Seven objects, median size 100 pixels: FCN-32s misses two of the three small ones (67 %) and one of the four large
# ones (25 %); FCN-8s one small one (33 %) and no large one
SIZES = [20, 40, 60, 100, 300, 500, 700]
VERDICTS = {"32s": ["missed", "missed", "named", "missed", "named", "another shape", "named"],
            "8s": ["named", "missed", "named", "named", "named", "named", "named"]}


def test_the_right_miss_rate_band_is_explained(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson07.check_missed_sizes("over 65%", SIZES, VERDICTS) is True
    out = _verdict(capsys)
    assert out.startswith("Correct! FCN-32s misses 67% of the objects under 100 pixels (over 65%), 25% of the larger")
    assert "fills 10% of the 32 x 32 pixels per cell" in out and "only 2 x 2 cells, 32 px apart" in out
    assert "it misses 33% of the small objects, 0% of the larger ones" in out and out.count("\n") == 1


def test_a_wrong_miss_rate_band_is_not_yet_and_says_why(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson07.check_missed_sizes("25-45%", SIZES, VERDICTS) is False
    out = _verdict(capsys)
    assert out.startswith("Not yet: you predicted '25-45%' for the small objects, but FCN-32s misses 67% of the "
                          "objects under 100 pixels")
    assert "only 2 x 2 cells, 32 px apart" in out and "Correct!" not in out


def test_the_miss_rate_is_read_from_the_counts(capsys: pytest.CaptureFixture[str]) -> None:
    one_small_missed = {"32s": ["named", "missed", "named", "missed", "missed", "named", "named"]}  # 1 of 3: 33 %
    assert lesson07.check_missed_sizes("25-45%", SIZES, one_small_missed) is True
    out = _verdict(capsys)
    assert "Correct! FCN-32s misses 33% of the objects under 100 pixels (25-45%), 50% of the larger" in out
    assert "FCN-8s" not in out  # no FCN-8s answers passed: no FCN-8s shares
    for band in ("under 10%", "10-25%", "45-65%", "over 65%"):
        assert lesson07.check_missed_sizes(band, SIZES, one_small_missed) is False


def test_a_share_on_a_band_boundary_accepts_both_bands(capsys: pytest.CaptureFixture[str]) -> None:
    sizes = list(range(1, 21)) + list(range(101, 122))  # median 101: twenty small objects
    answers = {"32s": ["missed"] * 9 + ["named"] * 11 + ["named"] * 21}  # 9 of 20 small: 45 %
    assert lesson07.check_missed_sizes("25-45%", sizes, answers) is True
    assert "(25-45% or 45-65%)" in _verdict(capsys)
    assert lesson07.check_missed_sizes("45-65%", sizes, answers) is True
    assert lesson07.check_missed_sizes("10-25%", sizes, answers) is False


def test_the_right_large_band_is_explained(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson07.check_missed_sizes("over 65%", SIZES, VERDICTS, large="10-25%") is True
    out = _verdict(capsys)
    assert out.startswith("Correct! FCN-32s misses 67% of the objects under 100 pixels (over 65%), 25% of the larger "
                          "ones (10-25% or 25-45%)")
    assert "A shape above the median fills more of a cell" in out and out.count("\n") == 1


def test_a_neighbouring_band_is_not_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    """The lesson's own case: 18 % of the large objects missed accepts "10-25%" only, neither neighbour."""
    sizes = list(range(1, 11)) + list(range(101, 112))  # median 101: ten small objects, eleven large
    answers = {"32s": ["missed"] * 5 + ["named"] * 5 + ["missed"] * 2 + ["named"] * 9}  # 50 % small, 2 of 11 large: 18 %
    for neighbour in ("under 10%", "25-45%"):
        assert lesson07.check_missed_sizes("45-65%", sizes, answers, large=neighbour) is False
        out = _verdict(capsys)
        assert out.startswith("Not yet: your band for the small objects is right, but you predicted "
                              f"{neighbour!r} for the larger ones, and FCN-32s misses 50% of the objects under 101 "
                              "pixels (45-65%), 18% of the larger ones (10-25%)")
    assert lesson07.check_missed_sizes("45-65%", sizes, answers, large="10-25%") is True
    assert "close enough" not in _verdict(capsys)
    assert lesson07.check_missed_sizes("45-65%", SIZES, VERDICTS) is False  # 67 %: 2 points off


@pytest.mark.parametrize("large", ["45-65%", "over 65%"])
def test_a_wrong_large_band_is_not_yet_and_says_why(large: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson07.check_missed_sizes("over 65%", SIZES, VERDICTS, large=large) is False
    out = _verdict(capsys)
    assert out.startswith("Not yet: your band for the small objects is right, but you predicted "
                          f"{large!r} for the larger ones")
    assert "25% of the larger ones (10-25% or 25-45%)" in out and "fills more of a cell" in out and "Correct!" not in out


def test_a_missing_large_band_is_not_yet_and_shows_no_share(capsys: pytest.CaptureFixture[str]) -> None:
    for large in (..., "large", 0.2):
        assert lesson07.check_missed_sizes("over 65%", SIZES, VERDICTS, large=large) is False
        out = _verdict(capsys)
        assert out.startswith("Not yet: the large objects:") and "misses" not in out and "Correct!" not in out
    assert not hasattr(lesson07, "MISS_REASONS")


def test_the_reason_must_be_recorded_before_any_share(capsys: pytest.CaptureFixture[str]) -> None:
    for why in (..., "e", 2):
        assert lesson07.check_missed_sizes("over 65%", SIZES, VERDICTS, large="10-25%", why=why) is False
        out = _verdict(capsys)
        assert out.startswith("Not yet: why the two differ:") and "misses" not in out


# Which objects lie across a border of FCN-32s's 2 x 2 cells: of the three small ones, the missed 40-pixel one only
# (FCN-32s misses 1 of the 2 small ones inside a cell, 50 %, and the 1 across a border, 100 %)
ACROSS = [False, True, False, False, True, False, True]


def test_the_right_reason_is_accepted_and_a_wrong_one_gets_its_evidence(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson07.check_missed_sizes("over 65%", SIZES, VERDICTS, large="10-25%", why="b", across=ACROSS) is True
    out = _verdict(capsys)
    assert out.startswith("Correct!") and "small shape, inside one cell (50% of those missed) or across a cell border (100%)" in out
    evidence = {"a": "same per-pixel loss on the same scenes, yet misses only 33% of the small objects",
                "c": "50% of the small objects that lie inside one of its four 32 x 32 cells and 100% of those across"}
    for why, shown in evidence.items():
        assert lesson07.check_missed_sizes("over 65%", SIZES, VERDICTS, large="10-25%", why=why, across=ACROSS) is False
        out = _verdict(capsys)
        assert out.startswith("Not yet: your bands are right") and shown in out and "Correct!" not in out
    # here more of the small objects are missed across a border, so the feedback does not say "wherever it lies"
    assert "cannot explain the misses inside one cell" in out and "wherever it lies" not in out
    inside_more = [False, False, True, False, True, False, True]  # the lesson's case: fewer missed across a border
    assert lesson07.check_missed_sizes("over 65%", SIZES, VERDICTS, large="10-25%", why="c", across=inside_more) is False
    assert "100% of the small objects that lie inside" in (out := _verdict(capsys)) and "wherever it lies" in out
    assert lesson07.check_missed_sizes("over 65%", SIZES, VERDICTS, large="10-25%", why="c") is False
    assert "pass `across`" in _verdict(capsys)  # without positions, no shares it cannot read
    lengths = [len(text) for text in lesson07.MISS_WHY_OPTIONS.values()]
    assert max(lengths) < 1.25 * min(lengths)  # the right one is not the longest by far


@pytest.mark.parametrize(("prediction", "verdicts", "hint"), [
    (..., VERDICTS, "record your prediction first"), ("small", VERDICTS, "must be one of 'under 10%', '10-25%'"),
    (0.53, VERDICTS, "must be one of"), (["45-65%"], VERDICTS, "must be one of"),
    ("45-65%", {"8s": VERDICTS["8s"]}, "pass section 3's `object_size` and `verdicts`"),
    ("45-65%", {"32s": VERDICTS["32s"][:3]}, "pass section 3's `object_size` and `verdicts`"),
])
def test_missed_sizes_without_a_usable_answer_is_not_yet(prediction, verdicts, hint: str,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson07.check_missed_sizes(prediction, SIZES, verdicts) is False
    out = _verdict(capsys)
    assert out.startswith("Not yet:") and out.count("\n") == 1 and hint in out
    assert "%) of" not in out and "misses" not in out  # no share before a usable answer


# Exercise 2: FCN-16s's forward pass from its parts, after two predicted shapes
RIGHT_SHAPES = ((2, 128, 6, 10), (2, 4, 6, 10))  # two 96 x 160 scenes


def _fcn16s_forward(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The right answer, written out step by step."""
    pool4 = model.stage4(model.stage3(model.stage2(model.stage1(x))))  # (B, 128, H/16, W/16)
    scores = model.score_fr(model.fc7(model.fc6(model.stage5(pool4))))  # (B, 4, H/32, W/32)
    return model.upscore16(model.upscore2(scores) + model.score_pool4(pool4))  # (B, 4, H, W)


def _without_skip(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    pool4 = model.stage4(model.stage3(model.stage2(model.stage1(x))))
    return model.upscore16(model.upscore2(model.score_fr(model.fc7(model.fc6(model.stage5(pool4))))))


def _skip_from_pool5(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """score_pool4 fed pool5 (same width at these sizes), upsampled to 1/16 by upscore2 to make the sum fit."""
    pool5 = model.stage5(model.stage4(model.stage3(model.stage2(model.stage1(x)))))
    scores = model.score_fr(model.fc7(model.fc6(pool5)))
    return model.upscore16(model.upscore2(scores + model.score_pool4(pool5)))


def _skip_from_pool3(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    pool3 = model.stage3(model.stage2(model.stage1(x)))
    pool4 = model.stage4(pool3)
    scores = model.score_fr(model.fc7(model.fc6(model.stage5(pool4))))
    return model.upscore16(model.upscore2(scores) + model.score_pool4(pool3))


def _softmax_at_the_end(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    return _fcn16s_forward(model, x).softmax(1)


def _whole_model(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    return model(x)


def _forward_method(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    return model.forward(x)


def test_fcn16s_forward_is_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson07.check_fcn16s_forward(*RIGHT_SHAPES, _fcn16s_forward) is True
    out = " ".join(_verdict(capsys).split())  # one space between words
    assert "Correct!" in out and "upscore16 gets (1, 4, 4, 4) 1/16" in out and "score_pool4 gets (1, 128, 4, 4)" in out
    assert "a forward pass that leaves the skip out would match model(x) too" in out  # the exercise's question answered
    assert "model(x) returns (1, 4, 64, 64)" in out and "Not yet" not in out
    assert "96 / 16 = 6 and 160 / 16 = 10" in out and "score_fr's 3 x 5 class scores" in out  # the predicted batch


def test_a_predicted_torch_size_is_read_as_a_tuple() -> None:
    assert lesson07.check_fcn16s_forward(torch.Size(RIGHT_SHAPES[0]), list(RIGHT_SHAPES[1]), _fcn16s_forward)


@pytest.mark.parametrize(("pool4_shape", "sum_shape", "expected"), [
    (..., RIGHT_SHAPES[1], "record your prediction first"),
    ("(2, 128, 6, 10)", RIGHT_SHAPES[1], "must be a tuple of four whole numbers"),
    ((2, 4, 6, 10), RIGHT_SHAPES[1], "pool4 holds encoder features, not class scores"),
    ((2, 64, 6, 10), RIGHT_SHAPES[1], "read stage 4's width"),
    ((2, 128, 3, 5), RIGHT_SHAPES[1], "1/32 of pool5 and score_fr"),
    ((2, 128, 12, 20), RIGHT_SHAPES[1], "pool3's 1/8"),
    ((2, 128, 10, 6), RIGHT_SHAPES[1], "halves both sides of the 96 x 160 scene (height first)"),
    ((1, 128, 6, 10), RIGHT_SHAPES[1], "No layer changes the batch size"),
    (RIGHT_SHAPES[0], ..., "`sum_shape` with a tuple"),
    (RIGHT_SHAPES[0], (2, 128, 6, 10), "what does score_pool4 turn pool4's channels into"),
    (RIGHT_SHAPES[0], (2, 4, 3, 5), "upscore2 upsamples score_fr's map 2x"),
    (RIGHT_SHAPES[0], (2, 4, 96, 160), "the scene's full size"),
    (RIGHT_SHAPES[0], (2, 21, 6, 10), "how many classes"),
])
def test_a_wrong_shape_gets_a_question_not_the_shape(capsys: pytest.CaptureFixture[str], pool4_shape: object,
                                                     sum_shape: object, expected: str) -> None:
    assert lesson07.check_fcn16s_forward(pool4_shape, sum_shape, _fcn16s_forward) is False
    out = _verdict(capsys)
    assert out.startswith("Not yet") and expected in out
    for right in RIGHT_SHAPES:  # the feedback never gives a right shape away
        assert str(right) not in out.replace(str(pool4_shape), "").replace(str(sum_shape), "")


@pytest.mark.parametrize(("function", "expected"), [
    (_not_written, "still raises NotImplementedError"),
    (lambda model, x: ..., "returns nothing yet"),
    (_without_skip, "never calls model.score_pool4, step 10 of 11"),
    (_skip_from_pool3, "the last layer it entered: model.score_pool4"),
    (_skip_from_pool5, "model.upscore2 (step 9 of 11) receives a tensor of the right shape"),
    (_softmax_at_the_end, "no softmax, no argmax"),
    (_whole_model, "calls model(x) itself"),
    (_forward_method, "uses `forward`"),
])
def test_a_wrong_forward_pass_gets_the_first_wrong_step(capsys: pytest.CaptureFixture[str], function: object,
                                                       expected: str) -> None:
    assert lesson07.check_fcn16s_forward(*RIGHT_SHAPES, function) is False
    out = _verdict(capsys)
    assert out.startswith("Not yet") and expected in out and "Correct" not in out


def test_a_forward_pass_with_sizes_written_in_fails_on_the_second_input(capsys: pytest.CaptureFixture[str]) -> None:
    def reshaped_to_64(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
        return _fcn16s_forward(model, x).reshape(1, 4, 64, 64)

    assert lesson07.check_fcn16s_forward(*RIGHT_SHAPES, reshaped_to_64) is False
    assert "for x of shape (2, 3, 96, 64)" in _verdict(capsys)


def test_the_random_skip_model_needs_the_skip_and_leaves_the_random_state_alone() -> None:
    torch.manual_seed(3)
    expected = torch.rand(3)
    torch.manual_seed(3)
    model = lesson07.fcn16s_random_skip({"in_channels": 3, "num_classes": 4, "base_channels": 4, "fc_channels": 16})
    assert torch.equal(torch.rand(3), expected)
    assert not model.training and bool((model.score_pool4.weight != 0).any())
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(_fcn16s_forward(model, x), model(x))
        assert not torch.allclose(_without_skip(model, x), model(x))


def test_the_fcn16s_check_leaves_the_random_state_alone() -> None:
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    lesson07.check_fcn16s_forward(*RIGHT_SHAPES, _fcn16s_forward)
    assert torch.equal(torch.rand(3), expected)


# Exercise 1: the classifier's fully connected layers as convolutions
def _small_classifier() -> nn.Module:
    from segedu.models import TinyClassifier

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return TinyClassifier(3, 3, base_channels=8, image_size=24).eval()


SCENE = torch.rand(1, 3, 100, 72, generator=torch.Generator().manual_seed(1))  # (1, 3, 100, 72), as in the lesson
RIGHT_MAP = (1, 3, 10, 7)  # pool3 is 12 x 9 (100 / 8 rounded down), and 12 - 3 + 1 = 10, 9 - 3 + 1 = 7


def _fc_as_convolutions(classifier: nn.Module, *, order: str = "view", bias: bool = True, relu: bool = True,
                        padding: int = 0) -> nn.Module:
    """The answer, or one of its usual mistakes (fc1's rows read channel last, no bias, no ReLU, a padded fc1)."""
    fc1 = nn.Conv2d(32, 128, 3, padding=padding, bias=bias)
    fc2, scores = nn.Conv2d(128, 128, 1, bias=bias), nn.Conv2d(128, 3, 1, bias=bias)
    with torch.no_grad():
        if order == "view":
            fc1.weight.copy_(classifier.fc1.weight.view(128, 32, 3, 3))
        else:  # each row read as (row, column, channel)
            fc1.weight.copy_(classifier.fc1.weight.view(128, 3, 3, 32).permute(0, 3, 1, 2))
        fc2.weight.copy_(classifier.fc2.weight.view(128, 128, 1, 1))
        scores.weight.copy_(classifier.classifier.weight.view(3, 128, 1, 1))
        if bias:
            for conv, linear in ((fc1, classifier.fc1), (fc2, classifier.fc2), (scores, classifier.classifier)):
                conv.bias.copy_(linear.bias)
    activation = nn.ReLU if relu else nn.Identity
    return nn.Sequential(classifier.stage1, classifier.stage2, classifier.stage3, fc1, activation(), fc2,
                         activation(), scores)


def test_the_fc_layers_as_convolutions_are_accepted_and_explained(capsys: pytest.CaptureFixture[str]) -> None:
    classifier = _small_classifier()
    before = {key: value.clone() for key, value in classifier.state_dict().items()}
    assert lesson07.check_fc_as_convolutions(RIGHT_MAP, _fc_as_convolutions, classifier, SCENE) is True
    out = _verdict(capsys)
    assert out.startswith("Correct! your module's scores equal convolutionalize(classifier)'s (exactly, torch.equal)")
    assert "12 - 3 + 1 = 10 by 9 - 3 + 1 = 7 positions" in out and "rounding down" in out
    assert "channel first" in out and out.count("\n") == 1
    assert all(torch.equal(before[key], value) for key, value in classifier.state_dict().items())


@pytest.mark.parametrize(("map_shape", "hint"), [
    (..., "record your prediction first"),
    ((1, 3, 12, 9), "12 x 9 is pool3's size"),
    ((1, 3, 1, 1), "a 1 x 1 map would be one window, but a 100 x 72 input"),
    ((1, 4, 10, 7), "how many scores does it give for each window"),
    ((2, 3, 10, 7), "No layer changes the batch size"),
    ((1, 3, 7, 10), "height (rows) before the width"),
    ((1, 3, 11, 7), "what does a pooling do with an odd number of rows"),
    ((1, 3, 6, 6), "three 2 x 2 poolings shrink each side"),
    ((1, 3, 10.5, 7), "a tuple of four whole numbers"),
])
def test_a_wrong_map_shape_gets_a_question_not_the_shape(map_shape: object, hint: str,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson07.check_fc_as_convolutions(map_shape, _fc_as_convolutions, _small_classifier(), SCENE) is False
    out = _verdict(capsys)
    assert out.startswith("Not yet:") and hint in out and "(1, 3, 10, 7)" not in out and "10 x 7" not in out


@pytest.mark.parametrize(("mistake", "hint"), [
    ({"order": "channel last"}, "right numbers in the wrong order"),
    ({"bias": False}, "has no bias"),
    ({"relu": False}, "a ReLU after fc1 and after fc2"),
    ({"padding": 1}, "needs no padding"),
])
def test_a_wrong_module_says_why(mistake: dict, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    def answer(classifier: nn.Module) -> nn.Module:
        return _fc_as_convolutions(classifier, **mistake)

    assert lesson07.check_fc_as_convolutions(RIGHT_MAP, answer, _small_classifier(), SCENE) is False
    out = _verdict(capsys)
    assert out.startswith("Not yet:") and hint in out and "Correct!" not in out


def test_bias_not_copied_and_segedu_s_own_answer_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    def fresh_bias(classifier: nn.Module) -> nn.Module:
        module = _fc_as_convolutions(classifier)
        with torch.no_grad():
            module[5].bias.add_(0.5)  # fc2's bias, not the trained one
        return module

    def borrowed(classifier: nn.Module) -> nn.Module:
        from segedu.models import convolutionalize

        return convolutionalize(classifier)

    assert lesson07.check_fc_as_convolutions(RIGHT_MAP, fresh_bias, _small_classifier(), SCENE) is False
    assert "fc2's Conv2d has the trained weights but not the trained bias" in _verdict(capsys)
    assert lesson07.check_fc_as_convolutions(RIGHT_MAP, borrowed, _small_classifier(), SCENE) is False
    assert "uses `convolutionalize`" in _verdict(capsys)
    assert lesson07.check_fc_as_convolutions(RIGHT_MAP, _not_written, _small_classifier(), SCENE) is False
    assert "NotImplementedError" in _verdict(capsys)
