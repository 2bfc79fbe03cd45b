"""Each lesson-12 check accepts right answers and prints a specific hint for wrong ones."""

from __future__ import annotations

import pytest

from segedu.course.exercises.lesson12 import (
    AUGMENTATION_OUTCOMES,
    AUGMENTATIONS,
    RATE_OUTCOMES,
    TAMPER_OUTCOMES,
    check_augmentation_prediction,
    check_rate_prediction,
    check_safe_augmentations,
    check_tamper_prediction,
    classify_augmentation_effect,
    classify_rate_run,
    paired_t_interval,
)


def test_tamper_prediction_right_and_wrong(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_tamper_prediction("loads with changed weights", "loads with changed weights")
    out = capsys.readouterr().out
    assert "expected_sha256" in out and "CRC-32" in out and "does not verify" in out
    assert "without any check" not in out
    assert not check_tamper_prediction("refused", "loads with changed weights")
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and "you predicted 'refused'" in out and "hash" in out


@pytest.mark.parametrize("prediction", [..., None, "crashes"])
def test_tamper_prediction_must_be_recorded_first(prediction, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_tamper_prediction(prediction, "refused")
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and all(repr(choice) in out for choice in TAMPER_OUTCOMES)


def test_tamper_check_refuses_an_unknown_outcome(capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_tamper_prediction("refused", "exploded")
    assert "measured outcome" in capsys.readouterr().out


@pytest.mark.parametrize("answer", [{"c", "e"}, "ce", ["e", "C"]])
def test_safe_augmentations_right(answer, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_safe_augmentations(answer)
    out = capsys.readouterr().out
    assert out.startswith("Correct!") and "implausible" in out and "false labels" in out
    assert "6 into a 9" in out and "bilinearly" in out  # each unsafe item named with its reason


def test_safe_augmentations_wrong_answers_say_why(capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_safe_augmentations({"a", "b", "c", "d", "e"})
    out = capsys.readouterr().out
    assert "a is not safe" in out and "d is not safe" in out and "6 into a 9" in out
    assert "no longer plausible" in out  # a mirror keeps the labels correct; the scene is what breaks
    assert "b is not safe" in out and "classes 1 to 9" in out and "nearest neighbour" in out  # section 2's control
    assert not check_safe_augmentations({"e"})
    out = capsys.readouterr().out
    assert "c is safe" in out and "0.05" in out and "untouched" in out  # the generator's own noise
    assert "e is" not in out  # e is not among the misses here
    assert not check_safe_augmentations({"c"})
    out = capsys.readouterr().out
    assert "e is safe" in out and "clipped to 1" in AUGMENTATIONS["e"] and "clipping at 1" in out
    assert "0.9 and 1.1" in AUGMENTATIONS["e"] and "0.33" in out and "0.63" in out  # ranges from digits.py
    assert not check_safe_augmentations({"b", "c", "e"})  # the old answer: a bilinear mask is not safe
    out = capsys.readouterr().out
    assert "b is not safe" in out and "labels become false" in out


@pytest.mark.parametrize("answer", [..., None, {"z"}, 3])
def test_safe_augmentations_unreadable_answers(answer, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_safe_augmentations(answer)
    assert capsys.readouterr().out.startswith("Not yet:")
    assert set(AUGMENTATIONS) == {"a", "b", "c", "d", "e"}
    assert "section 2" not in AUGMENTATIONS["b"]  # the item does not name its own flaw


def test_classify_rate_run_names_each_outcome() -> None:
    flat = [1.2] * 9
    assert classify_rate_run([1.29, 19.27, 6.88, 9.21, 2.1, 2.5, 1.92, 1.64, 2.53], [1.29] * 9) == "blows up"
    assert classify_rate_run([1.2, 1.1, 1.0, 0.95, 0.9, 0.9, 0.88], flat[:7]) == "learns"
    assert classify_rate_run([1.2, 1.25, 1.18, 1.22, 1.21, 1.19, 1.2], flat[:7]) == "stalls"
    assert classify_rate_run([1.0, 9.0, 5.0, 0.5, 0.4, 0.4, 0.4, 0.4], [1.0] * 8) == "learns"  # recovered
    # a spike above 3 times the start that comes back down to 0.95-1.0 of it: neither "learns" nor "blows up"
    assert classify_rate_run([1.0, 5.0, 2.0, 1.0, 0.98, 1.0, 0.99, 0.97], [1.0] * 8) == "stalls"
    with pytest.raises(ValueError, match="at least 6"):
        classify_rate_run([1.0, 2.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="same 7 batches"):
        classify_rate_run([1.2] * 7, [1.2] * 6)


def test_classify_rate_run_compares_the_same_batches() -> None:
    """The stored study's seed 2 at 0.3: an easy first batch (1.228) made it look stalled against its first loss."""
    run = [1.228, 1.325, 1.248, 1.291, 1.285, 1.327, 1.242, 1.264, 1.336, 1.33, 1.135, 1.271, 1.329, 1.24, 1.24,
           1.208, 1.24, 1.29, 1.147, 1.091]
    start = [1.228, 1.336, 1.322, 1.343, 1.35, 1.361, 1.289, 1.301, 1.408, 1.426, 1.167, 1.352, 1.462, 1.399, 1.414,
             1.331, 1.419, 1.501, 1.319, 1.242]  # the untrained network on the same batches
    assert sum(run[-5:]) / 5 > 0.95 * run[0]  # against the first loss alone it would look stalled
    assert classify_rate_run(run, start) == "learns"
    assert classify_rate_run(start, start) == "stalls"  # no update at all
    # the lesson's constant rate of 0.3 over 20 steps (seed 0), against the untrained network on its batches
    assert classify_rate_run(
        [1.286, 1.3, 1.166, 1.243, 1.05, 1.125, 1.12, 1.101, 1.012, 1.133, 1.174, 1.129, 1.153, 1.049, 1.142,
         1.045, 1.017, 1.086, 1.013, 1.095],
        [1.286, 1.252, 1.258, 1.272, 1.179, 1.214, 1.183, 1.275, 1.246, 1.259, 1.282, 1.273, 1.266, 1.21, 1.316,
         1.195, 1.195, 1.293, 1.219, 1.308]) == "learns"


def test_rate_prediction_right_and_wrong(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_rate_prediction("learns", "learns")
    out = capsys.readouterr().out
    assert out.startswith("Correct!") and "Adam" in out and "batch norm" in out and "without batch norm" in out
    assert "only that the training loss fell" in out and "same batches" in out
    assert "stall" not in out  # no seed of the stored study stalls at 0.3 on the same-batch measure
    assert not check_rate_prediction("blows up", "learns")
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and "you predicted 'blows up'" in out and "not the same as too large" in out
    assert "length of their weights" in out  # the reason, not only the verdict
    assert not check_rate_prediction("learns", "blows up")
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and "overshot" in out
    assert not check_rate_prediction("learns", "stalls")
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and "0.95 times the starting network's loss" in out
    assert "neither learned" in out and "nor blew up" in out  # "stalls" is what is neither of the others: no gap


@pytest.mark.parametrize("prediction", [..., None, "diverges"])
def test_rate_prediction_must_be_recorded_first(prediction, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_rate_prediction(prediction, "blows up")
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and all(repr(choice) in out for choice in RATE_OUTCOMES)


def test_paired_t_interval_matches_the_lesson() -> None:
    """Section 3's stored differences, augmented minus plain, per seed: the interval printed in the lesson."""
    low, high = paired_t_interval([0.033, 0.028, -0.052])
    assert low == pytest.approx(-0.115, abs=0.003) and high == pytest.approx(0.121, abs=0.003)
    assert paired_t_interval([1.0, 1.0, 1.0]) == (1.0, 1.0)
    with pytest.raises(ValueError, match="2 to 10"):
        paired_t_interval([0.1])


def test_classify_augmentation_effect_names_each_outcome() -> None:
    plain = [0.278, 0.250, 0.312]
    assert classify_augmentation_effect(plain, [0.310, 0.279, 0.261]) == "no detectable effect"  # the stored study
    assert classify_augmentation_effect(plain, [0.378, 0.355, 0.410]) == "a rise"
    assert classify_augmentation_effect(plain, [0.178, 0.145, 0.214]) == "a fall"
    with pytest.raises(ValueError, match="one score per seed"):
        classify_augmentation_effect(plain, [0.3, 0.3])


def test_augmentation_prediction_right_and_wrong(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_augmentation_prediction("no detectable effect", "no detectable effect")
    out = capsys.readouterr().out
    assert out.startswith("Correct!") and "holds 0" in out and "lowers the training score" in out
    assert "No detectable effect is not no effect" in out and "three seeds" in out
    assert "4.3 standard errors" in out and "half-width" in out  # how large an effect three seeds could detect
    assert not check_augmentation_prediction("a rise", "no detectable effect")
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and "you predicted 'a rise'" in out
    assert "the study found no detectable effect" in out and "by heart" in out  # the reason, not only the verdict
    assert not check_augmentation_prediction("no detectable effect", "a fall")
    assert "lies below 0" in capsys.readouterr().out


@pytest.mark.parametrize("prediction", [..., None, "helps"])
def test_augmentation_prediction_must_be_recorded_first(prediction, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_augmentation_prediction(prediction, "no detectable effect")
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and all(repr(choice) in out for choice in AUGMENTATION_OUTCOMES)
