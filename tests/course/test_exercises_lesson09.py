"""Each lesson-09 check accepts right answers and prints a specific hint for wrong ones.

A graded question's wrong answer gets a hint that does not show the measurement (it is printed once the
answer is right); a prediction of a measured outcome (exercise 3's density) passes once recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import torch
import torch.nn.functional as F

from segedu.course.exercises.lesson09 import (
    check_collision_prediction,
    check_density_prediction,
    check_memory_prediction,
    check_max_unpool,
    check_quadrupled_share,
    check_unpooled_zero_fraction,
)
from segedu.analysis.upsampling import bed_of_nails, max_unpool, nearest_upsample


def _run(check: Callable, answer: Callable, capsys: pytest.CaptureFixture[str]) -> tuple[bool, str]:
    result = check(answer)
    return result, capsys.readouterr().out


def _stub(*arguments: object) -> object:
    raise NotImplementedError


def _placeholder(*arguments: object) -> object:
    return ...


def _empty(*arguments: object) -> None:
    ...  # the notebook's stub: its body is `...`, so it returns None


# --- zero fraction after unpooling -------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        lambda r: 0.75 + r / 4,
        lambda r: 1 - (1 - r) / 4,
        lambda r: torch.tensor(3 + r) / 4,  # a 0-d tensor is fine too
    ],
)
def test_unpooled_zero_fraction_accepts_right_answers(answer: Callable, capsys: pytest.CaptureFixture[str]) -> None:
    correct, printed = _run(check_unpooled_zero_fraction, answer, capsys)
    assert correct and printed.startswith("Correct!")


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (_stub, "NotImplementedError"),
        (_placeholder, "replace the `...`"),
        (_empty, "returns nothing yet"),
        (lambda r: 0.75, "already 0 before unpooling"),
        (lambda r: r, "4 times larger"),
        (lambda r: (1 - r) / 4, "nonzero entries"),
        (lambda r: 0.75 * r + 0.25, "one position in four"),
        (lambda r: 0.5, "the measured fraction of zeros"),
        (lambda r: "most", "return one number"),
    ],
)
def test_unpooled_zero_fraction_hints(answer: Callable, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    correct, printed = _run(check_unpooled_zero_fraction, answer, capsys)
    assert not correct and printed.startswith("Not yet:") and hint in printed


# --- index memory -----------------------------------------------------------------------------


_RIGHT_MEMORY = {"largest stage": "stage1", "stage 1's share": "over 50 %"}


def test_memory_prediction_accepts_the_right_answer(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_memory_prediction(dict(_RIGHT_MEMORY))
    printed = capsys.readouterr().out
    assert "stage1 512 KiB, stage2 256 KiB, stage3 128 KiB, stage4 64 KiB, stage5 16 KiB; stage 1 holds 52%" in printed
    assert "Correct!" in printed and "The next question asks why" in printed
    assert "quarters" not in printed  # the reason is the next question's answer


@pytest.mark.parametrize(
    ("change", "hint"),
    [
        ({"largest stage": "stage5"}, "count channels x windows for each stage"),
        ({"stage 1's share": "25 to 50 %"}, "at most how much do the other four count together?"),
        ({"stage 1's share": ...}, "record your prediction first"),
        ({"largest stage": "first"}, "must be one of"),
        ({"stage 1's share": "half"}, "'stage 1's share': your prediction must be one of"),
    ],
)
def test_memory_prediction_hints(change: dict, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_memory_prediction({**_RIGHT_MEMORY, **change})
    printed = capsys.readouterr().out
    assert "Not yet:" in printed and hint in printed


@pytest.mark.parametrize("change", [{"largest stage": "stage5"}, {"stage 1's share": "25 to 50 %"},
                                    {"largest stage": "stage2", "stage 1's share": "under 25 %"}])
def test_a_wrong_memory_answer_does_not_show_the_measurement(change: dict, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_memory_prediction({**_RIGHT_MEMORY, **change})
    printed = capsys.readouterr().out
    assert printed.startswith("Not yet:")
    assert "measured" not in printed and "KiB" not in printed and "52" not in printed and "over 50 %" not in printed


def test_memory_prediction_needs_its_keys(capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_memory_prediction({"largest stage": "stage1"})
    assert "record a dict with the keys" in capsys.readouterr().out
    assert not check_memory_prediction({**_RIGHT_MEMORY, "why": "b"})  # the old three-key form
    assert "record a dict with the keys" in capsys.readouterr().out


def test_quadrupled_share_accepts_the_right_answer(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_quadrupled_share("under 25 %")
    printed = capsys.readouterr().out
    assert "stage1 512 KiB, stage2 512 KiB, stage3 512 KiB, stage4 512 KiB, stage5 512 KiB; stage 1 holds 20%" in printed
    assert "Correct!" in printed and "cancel the pool's quartering" in printed


@pytest.mark.parametrize(
    ("prediction", "hint"),
    [
        ("over 50 %", "What happens to channels x pixels from one stage to the next"),
        ("25 to 50 %", "What happens to channels x pixels from one stage to the next"),
        (..., "record your prediction first"),
        ("a fifth", "your prediction must be one of"),
    ],
)
def test_quadrupled_share_hints(prediction: object, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_quadrupled_share(prediction)
    printed = capsys.readouterr().out
    assert "Not yet:" in printed and hint in printed


@pytest.mark.parametrize("prediction", ["over 50 %", "25 to 50 %"])
def test_a_wrong_quadrupled_share_does_not_show_the_measurement(prediction: str,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_quadrupled_share(prediction)
    printed = capsys.readouterr().out
    assert printed.startswith("Not yet:")
    assert "measured" not in printed and "KiB" not in printed and "20" not in printed and "fifth" not in printed
    assert "under 25 %" not in printed and "same bytes" not in printed


# --- density after the decoder's convolutions --------------------------------------------------


@pytest.fixture(scope="module")
def trained_segnet_and_scene() -> tuple[torch.nn.Module, torch.Tensor]:
    from segedu.training.recipes import offline_dataset
    from segedu.training.shipped import pretrained

    return pretrained("segnet", "shapes"), offline_dataset("shapes", "test")[3][0]  # the lesson's scene 3


def test_density_prediction_accepts_the_right_answer(
    trained_segnet_and_scene, capsys: pytest.CaptureFixture[str]
) -> None:
    assert check_density_prediction("between 25 and 75 %", *trained_segnet_and_scene)
    printed = capsys.readouterr().out
    assert "unpooled 80%, 87%, 87%, 89%; after the convolutions 48%, 50%, 58%, 45%" in printed
    assert "Correct!" in printed


@pytest.mark.parametrize(
    ("prediction", "explanation"),
    [
        ("at least 75 %", "only 45% to 58% zeros ('between 25 and 75 %')"),
        ("at least 75 %", "computes a value at every position, written or empty"),
        ("under 25 %", "followed by a ReLU"),
    ],
)
def test_a_wrong_density_prediction_is_recorded_and_explained(prediction: str, explanation: str,
                                                              trained_segnet_and_scene,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    # a prediction of a measurement passes once recorded, right or not: changing it afterwards gains nothing
    assert check_density_prediction(prediction, *trained_segnet_and_scene) is True
    printed = capsys.readouterr().out
    assert "Recorded; the result differs:" in printed and explanation in printed
    assert "Not yet" not in printed and "Correct!" not in printed


@pytest.mark.parametrize(
    ("prediction", "hint"),
    [
        (..., "record your prediction first"),
        ({"zeros": "between 25 and 75 %", "why": "a"}, "your prediction must be one of"),  # the old dict form
    ],
)
def test_density_prediction_hints(prediction: object, hint: str, trained_segnet_and_scene,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_density_prediction(prediction, *trained_segnet_and_scene)
    printed = capsys.readouterr().out
    assert "Not yet:" in printed and hint in printed and "measured" not in printed


# --- max unpool -------------------------------------------------------------------------------


def _scatter_unpool(x: torch.Tensor, indices: torch.Tensor, output_size: tuple[int, int]) -> torch.Tensor:
    batch, channels = x.shape[:2]
    out = x.new_zeros(batch, channels, output_size[0] * output_size[1])
    out.scatter_(2, indices.flatten(2), x.flatten(2))
    return out.view(batch, channels, *output_size)


def _indexed_unpool(x: torch.Tensor, indices: torch.Tensor, output_size: tuple[int, int]) -> torch.Tensor:
    out = x.new_zeros(*x.shape[:2], output_size[0] * output_size[1])
    for batch in range(x.shape[0]):
        for channel in range(x.shape[1]):
            out[batch, channel, indices[batch, channel].flatten()] = x[batch, channel].flatten()
    return out.view(*x.shape[:2], *output_size)


@pytest.mark.parametrize("answer", [_scatter_unpool, _indexed_unpool])
def test_max_unpool_accepts_right_answers(answer: Callable, capsys: pytest.CaptureFixture[str]) -> None:
    correct, printed = _run(check_max_unpool, answer, capsys)
    assert correct and printed.startswith("Correct!")


@pytest.mark.parametrize(
    ("answer", "name"),
    [
        (lambda x, indices, size: max_unpool(x, indices, size), "max_unpool"),
        (lambda x, indices, size: F.max_unpool2d(x, indices, 2, output_size=size), "max_unpool2d"),
        (lambda x, indices, size: torch.nn.MaxUnpool2d(2)(x, indices, output_size=size), "MaxUnpool2d"),
    ],
)
def test_max_unpool_refuses_a_library_call_that_would_copy_the_answer(
    answer: Callable, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    correct, printed = _run(check_max_unpool, answer, capsys)
    assert not correct and "Not yet:" in printed and f"calls {name}" in printed


def _transposed_positions(x: torch.Tensor, indices: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    # Reads the flat index as column * H + row: the right values, misplaced.
    height, width = size
    swapped = (indices % width) * height + indices // width
    batch, channels = x.shape[:2]
    out = x.new_zeros(batch, channels, height * width)
    out.scatter_(2, swapped.flatten(2), x.flatten(2))
    return out.view(batch, channels, height, width)


def _one_value_dropped(x: torch.Tensor, indices: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    # Right except that the first value of x is never written: no recipe may be printed for it.
    out = _scatter_unpool(x, indices, size)
    out.view(-1)[indices.view(-1)[0]] = 0.0
    return out


def test_max_unpool_hints_never_print_the_recipe(capsys: pytest.CaptureFixture[str]) -> None:
    for answer in (_one_value_dropped, lambda x, indices, size: torch.zeros(*x.shape[:2], *size)):
        correct, printed = _run(check_max_unpool, answer, capsys)
        assert not correct and printed.startswith("Not yet:")
        assert "scatter" not in printed and "flatten" not in printed


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (_stub, "NotImplementedError"),
        (_placeholder, "replace the `...`"),
        (_empty, "returns nothing yet"),
        (lambda x, indices, size: x.tolist(), "return a tensor"),
        (lambda x, indices, size: x, "should have shape"),
        (lambda x, indices, size: bed_of_nails(x, 2), "bed of nails"),
        (lambda x, indices, size: nearest_upsample(x, 2), "nearest upsampling"),
        (_transposed_positions, "in the wrong places"),
        (lambda x, indices, size: torch.zeros(*x.shape[:2], *size), "all zeros"),
        (lambda x, indices, size: _scatter_unpool(x, indices, size) + bed_of_nails(x, 2), "more positions hold a value"),
        (lambda x, indices, size: 2 * _scatter_unpool(x, indices, size), "the right positions, but not the right values"),
        (_one_value_dropped, "Which value of x has its index at"),
    ],
)
def test_max_unpool_hints(answer: Callable, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    correct, printed = _run(check_max_unpool, answer, capsys)
    assert not correct and printed.startswith("Not yet:") and hint in printed


# --- can two indices collide? -----------------------------------------------------------------


RIGHT_COLLISIONS = {"2x2 stride 2": False, "3x3 stride 2": True}


def test_collision_prediction_accepts_the_right_answer(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_collision_prediction(dict(RIGHT_COLLISIONS)) is True
    printed = capsys.readouterr().out
    assert printed.startswith("measured on random maps, 2x2 stride 2:") and "Correct!" in printed


def test_collision_prediction_measures_both_poolings(capsys: pytest.CaptureFixture[str]) -> None:
    check_collision_prediction(dict(RIGHT_COLLISIONS))
    printed = capsys.readouterr().out
    overlapping = printed.split("3x3 stride 2: ")[1]
    assert int(overlapping.split(" of ")[0]) > 0  # collisions really occur with 3x3 windows of stride 2
    assert "2x2 stride 2: 0 of" in printed  # and never with SegNet's tiling windows


@pytest.mark.parametrize(
    ("answer", "hint"),
    [({"2x2 stride 2": ..., "3x3 stride 2": ...}, "record your prediction first"),
     ({"2x2 stride 2": False, "3x3 stride 2": None}, "record your prediction first"),
     (True, "record a dict"), ({"3x3 stride 2": True}, "record a dict"),
     ({"2x2 stride 2": "no", "3x3 stride 2": True}, "True or False"),
     ({"2x2 stride 2": 0, "3x3 stride 2": 1}, "True or False"),
     ({"2x2 stride 2": False, "3x3 stride 2": False}, "Draw each pooling's windows on a 6x6 grid"),
     ({"2x2 stride 2": True, "3x3 stride 2": True}, "Draw each pooling's windows on a 6x6 grid"),
     ({"2x2 stride 2": True, "3x3 stride 2": False}, "Draw each pooling's windows on a 6x6 grid")],
)
def test_collision_prediction_hints(answer: object, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_collision_prediction(answer) is False
    printed = capsys.readouterr().out
    assert "Not yet:" in printed and hint in printed


def test_a_wrong_collision_answer_shows_neither_the_counts_nor_which_one_is_wrong(
    capsys: pytest.CaptureFixture[str],
) -> None:
    hints = set()
    for answer in ({"2x2 stride 2": False, "3x3 stride 2": False}, {"2x2 stride 2": True, "3x3 stride 2": True},
                   {"2x2 stride 2": True, "3x3 stride 2": False}):
        assert check_collision_prediction(answer) is False
        printed = capsys.readouterr().out
        assert printed.startswith("Not yet:") and "measured" not in printed and "repeat" not in printed
        assert " of 512 " not in printed and "stride 2:" not in printed
        hints.add(printed)
    assert len(hints) == 1  # the same hint whichever pooling is wrong


_VERDICTS = {("top-left", "band"): "indices ahead", ("nearest", "band"): "indices ahead",
             ("top-left", "all"): "not distinguishable", ("nearest", "all"): "not distinguishable"}


@pytest.fixture
def no_scratch_prediction() -> Iterator[None]:
    """Every scratch-prediction test starts, and leaves, with nothing recorded (the recorder keeps the first)."""
    from segedu.course.exercises import lesson09

    lesson09._RECORDED_SCRATCH.clear()
    yield
    lesson09._RECORDED_SCRATCH.clear()


def test_scratch_prediction_is_kept_and_compared_with_the_verdicts(no_scratch_prediction: None,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from segedu.course.exercises.lesson09 import compare_scratch_prediction, record_scratch_prediction

    assert not compare_scratch_prediction(_VERDICTS)  # nothing recorded yet
    assert "no prediction recorded yet" in capsys.readouterr().out
    # the study's answer, recorded before the table
    assert record_scratch_prediction({"band": "beats both", "all pixels": "beats neither"})
    assert capsys.readouterr().out.startswith("Recorded (not graded)")
    # a second prediction, made after seeing the table, does not replace the first
    assert record_scratch_prediction({"band": "beats only top-left", "all pixels": "beats neither"})
    assert "The first prediction is kept" in capsys.readouterr().out
    assert compare_scratch_prediction(_VERDICTS)
    printed = capsys.readouterr().out
    assert "band: SegNet with its indices 'beats both' (against top-left: indices ahead, against nearest: indices ahead; as you predicted)" in printed
    assert "all pixels: SegNet with its indices 'beats neither'" in printed
    assert not compare_scratch_prediction({("top-left", "band"): "indices ahead"})  # verdicts incomplete
    assert "pass the study's verdicts" in capsys.readouterr().out


def test_a_wrong_scratch_prediction_is_compared_not_failed(no_scratch_prediction: None,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    from segedu.course.exercises.lesson09 import compare_scratch_prediction, record_scratch_prediction

    assert record_scratch_prediction({"band": "beats only top-left", "all pixels": "beats neither"})
    assert compare_scratch_prediction(_VERDICTS)
    assert "you predicted 'beats only top-left'" in capsys.readouterr().out


@pytest.mark.parametrize(("prediction", "hint"), [
    ({"band": ..., "all pixels": ...}, "record your prediction first"),
    ({"band": "both"}, "record a dict with the keys"),
    ({"band": "both", "all pixels": "beats neither"}, "must be one of"),
])
def test_scratch_prediction_hints(prediction, hint, no_scratch_prediction: None,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    from segedu.course.exercises.lesson09 import compare_scratch_prediction, record_scratch_prediction

    assert not record_scratch_prediction(prediction)
    printed = capsys.readouterr().out
    assert printed.startswith("Not yet") and hint in printed
    assert not compare_scratch_prediction(_VERDICTS)  # nothing was recorded
