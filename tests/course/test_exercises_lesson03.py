"""Lesson 03 checks accept right answers and give the matching hint for typical mistakes."""

from __future__ import annotations

import pytest
import torch

from segedu.course.exercises import lesson03
from segedu.models import TinyClassifier


def _verdict(capsys: pytest.CaptureFixture[str]) -> str:
    return capsys.readouterr().out


def _probe_data(count: int, seed: int) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """Features from which the centre can be read linearly: a 4x4 grid of bumps around it, plus noise."""
    generator = torch.Generator().manual_seed(seed)
    centres = torch.rand(count, 2, generator=generator) * 24 + 4  # (N, 2) in [4, 28]
    cells = (torch.arange(4) + 0.5) * 8  # (4,) cell centres
    rows = torch.exp(-((centres[:, :1] - cells) ** 2) / 50)  # (N, 4)
    columns = torch.exp(-((centres[:, 1:] - cells) ** 2) / 50)  # (N, 4)
    grid = rows[:, :, None] * columns[:, None, :]  # (N, 4, 4)
    features = torch.cat([grid[:, None], grid[:, None] ** 2], dim=1)  # (N, 2, 4, 4)
    features = features + 0.01 * torch.randn(features.shape, generator=generator)
    return {"stage3": features}, centres


def test_shuffled_probe(capsys: pytest.CaptureFixture[str]) -> None:
    activations, centres = {}, {}
    for split, count, seed in (("train", 200, 0), ("validation", 80, 1), ("test", 120, 2)):
        activations[split], centres[split] = _probe_data(count, seed)
    assert lesson03.check_shuffled_probe(("same", "larger"), activations, centres) is True
    output = _verdict(capsys)
    assert output.startswith("Correct!") and "measured on stage3" in output and "matches both" in output
    verdict, question = output.split("\nWhy?", 1)  # the question on why comes only after the measurement
    assert "weight" not in verdict  # the explanation is left to check_shuffle_reason
    assert all(f"  {letter} - " in question for letter in "abcd") and "answer_reason" in question
    assert "listed in that order too" not in output  # check_shuffle_reason's explanation is not given away
    cases = [  # a prediction that cannot be read says Not yet; a recorded miss passes and says what differs
        ((..., ...), "pair of words", False),
        (("same", "bigger"), "pair of words", False),
        (("larger", "larger"), 'one fixed shuffle you predicted "larger", and the error came out the same', True),
        (("same", "same"), 'a new shuffle per image you predicted "same", and the error came out larger', True),
    ]
    for answer, hint, asked in cases:
        assert lesson03.check_shuffled_probe(answer, activations, centres) is asked
        output = _verdict(capsys)
        start = "Recorded; the result differs:" if asked else "Not yet:"
        assert output.startswith(start) and hint in output, (answer, output)
        # The question on why appears only once a prediction has been recorded (it would hint at it before).
        assert ("\nWhy?" in output) is asked, (answer, output)
        verdict = output.split("\nWhy?", 1)[0]
        assert "weight" not in verdict  # a wrong prediction is not told the answer to the question on why


def test_vanishing_pools_hint_names_only_the_boundary_it_crosses(capsys: pytest.CaptureFixture[str]) -> None:
    """The square at 13-18 crosses 16 (a boundary of every grid of cells up to 16 pixels) but not 12."""
    square = lesson03._square_mask(13)[0]  # (64, 64)
    rows = square.any(dim=1).nonzero().flatten()
    assert int(rows.min()) == 13 and int(rows.max()) == 18  # starts after 12, ends after 16
    assert lesson03.check_vanishing_pools((3, 3)) is False
    output = _verdict(capsys)
    assert "16" in output and "12" not in output
    assert "different" not in output  # the hint must not say that the two answers differ


def test_accepted_size(capsys: pytest.CaptureFixture[str]) -> None:
    model = TinyClassifier(3, 3, base_channels=4, image_size=64)  # 16 channels, fc1 takes 16 x 8 x 8 = 1024
    # 65 -> 32 -> 16 -> 8: the smallest side above 64 that still ends at 8 x 8
    assert lesson03.check_accepted_size(65, model) is True
    output = _verdict(capsys)
    assert "take 65 to 8 x 8" in output and "fc1's 1024 inputs" in output
    cases = [
        (..., "one whole number"),
        ((1600, 65), "one whole number"),
        (True, "one whole number"),
        (64, "larger than 64"),
        (72, "take 72 to 9 x 9, so flatten gives 1296 numbers, not fc1's 1024"),
        (128, "take 128 to 16 x 16"),
        (70, "fc1 does accept 70"),  # 70 -> 35 -> 17 -> 8: accepted, but 65 is smaller
    ]
    for answer, hint in cases:
        assert lesson03.check_accepted_size(answer, model) is False
        output = _verdict(capsys)
        assert output.startswith("Not yet:") and hint in output, (answer, output)
        assert "?." not in output and output.rstrip().endswith(("?", "."))


def test_accepted_size_lesson_model(capsys: pytest.CaptureFixture[str]) -> None:
    model = TinyClassifier(3, 3, base_channels=8, image_size=32, hidden_features=64)  # the lesson's layout
    assert lesson03.check_accepted_size(33, model) is True
    assert "take 33 to 4 x 4" in _verdict(capsys)
    for answer in (32, 34, 39, 64):  # 34-39 are accepted but not the smallest; 64 ends at 8 x 8
        assert lesson03.check_accepted_size(answer, model) is False
        assert _verdict(capsys).startswith("Not yet:")
    # 40 is not accepted (40 -> 20 -> 10 -> 5): the hint must not suggest that it is
    assert lesson03.check_accepted_size(40, model) is False
    output = _verdict(capsys)
    assert "take 40 to 5 x 5" in output and "not fc1's 512" in output and "does accept" not in output


def test_vanishing_pools(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson03.check_vanishing_pools((4, 3)) is True
    assert "vanishes earlier" in _verdict(capsys)
    cases = [
        ((..., ...), "pair of whole numbers"),
        ((3, 3), "straddles row and column 16"),
        ((4, 2), "square at 13-18 you said 2"),
        ((5, 3), "square at 8-13 you said 5"),
    ]
    for answer, hint in cases:
        assert lesson03.check_vanishing_pools(answer) is False
        output = _verdict(capsys)
        assert output.startswith("Not yet:") and hint in output


def test_shuffle_reason(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson03.check_shuffle_reason("b") is True
    assert lesson03.check_shuffle_reason(" B ") is True
    output = _verdict(capsys)
    assert output.count("Correct!") == 2 and "same cell and channel in every image" in output
    assert "cell (0, 0) is next to cell (0, 1)" in output  # the lesson for fc1
    cases = [
        (..., "record your prediction first"),
        ("e", "must be one of"),
        (2, "must be one of"),
        ("a", "no notion of neighbours"),
        ("c", "set of values"),
        ("d", "sum of the squared weights"),
    ]
    for answer, hint in cases:
        assert lesson03.check_shuffle_reason(answer) is False
        output = _verdict(capsys)
        assert output.startswith("Not yet:") and hint in output, (answer, output)
        assert "?." not in output, output


def test_shuffle_reason_options_are_alike_in_length() -> None:
    """No option stands out by its length (the right one must not be the longest by far)."""
    options = [line.split(" - ", 1)[1] for line in lesson03.SHUFFLE_REASON_QUESTION.splitlines() if " - " in line]
    assert len(options) == 4
    assert max(map(len, options)) - min(map(len, options)) <= 12, options
