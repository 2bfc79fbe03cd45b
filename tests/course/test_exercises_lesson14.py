"""Each lesson-14 check accepts right answers and prints a specific hint for wrong ones.

The two letter-set checks keep the key back: a first try with several letters misjudged gets only their count and
the principle; per-letter feedback comes once a later try has a single letter off.
"""

from __future__ import annotations

import re

import pytest
import torch

from segedu.course.exercises.lesson14 import (
    AUGMENTATIONS,
    EXPLANATIONS,
    GAP_OUTCOMES,
    arm_settings,
    check_apply_field,
    check_gap_prediction,
    check_ruled_out_explanations,
    check_safe_augmentations,
    classify_gap_narrowing,
    field_test_case,
    final_scores,
    learning_curves,
    paired_t_interval,
    record_line,
    run_cpu_seconds,
    sweep_scores,
)


# --- exercise 1: which augmentations keep a digit scene a digit scene -------------------------------

@pytest.mark.parametrize("answer", [{"b", "c", "e", "f"}, "bcef", ["e", "C", "F", "b"]])
def test_safe_augmentations_right(answer, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_safe_augmentations(answer)
    out = capsys.readouterr().out
    assert out.startswith("Correct!") and "implausible" in out and "false labels" in out
    assert "6 into a 9" in out and "small rotation" in out  # each unsafe item named with its reason
    assert "zoom of 0.8 to 1.2" in out and "warp" not in out  # the study's zoom; the warp is not an item
    assert "no counted pixel changes class" in out and "class boundary moves by at most one pixel" in out  # b's edges
    assert "one-pixel edge of the strokes" not in out  # the old, looser wording
    assert "black corners are a separate" in out and "labels and plausible digits" in out  # b's fill is not the question
    assert "cuts at the border still counts" in out and "Safe is not free" in out  # f's cut digits; safe is not free
    assert "help" not in out and "training" not in out and "validation" not in out  # no hint at which score moves


def test_safe_augmentations_first_wrong_try_names_no_letter(capsys: pytest.CaptureFixture[str]) -> None:
    """Several letters misjudged: how many, and the two tests to apply; no letter named, no reason given away."""
    assert not check_safe_augmentations({"a", "b", "c", "d", "e", "f"})  # a and d misjudged
    out = capsys.readouterr().out
    assert out.startswith("Not yet: 2 of the 6 letters are judged wrongly") and "could a person have written" in out
    assert "change class, other than where a class boundary moves by at most one pixel" in out
    assert "became another digit" in out  # the labelling test covers a digit turned into another
    assert "cut at the picture's edge keeps its label" in out  # ... and not a digit cut at the border (item f)
    assert "Once only one letter is off" in out
    assert not any(re.search(rf"\b{letter} is\b", out) for letter in AUGMENTATIONS) and "6 into a 9" not in out
    assert not check_safe_augmentations({"a"})  # a chosen, b, c, e and f left out
    out = capsys.readouterr().out
    assert "5 of the 6 letters are judged wrongly" in out and "safe" not in out
    assert not check_safe_augmentations({"b", "c"})  # the brightness change and the zoom left out
    out = capsys.readouterr().out
    assert "2 of the 6 letters are judged wrongly" in out and "f is" not in out and "e is" not in out


def test_safe_augmentations_later_try_one_letter_off_says_why(capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_safe_augmentations({"a", "b", "c", "e", "f"})  # only a is off
    out = capsys.readouterr().out
    assert out.startswith("Not yet: a is not safe") and "no longer plausible" in out  # the mirror breaks the scene
    assert "judged wrongly" not in out and "b is" not in out
    assert not check_safe_augmentations({"c", "e", "f"})  # a small rotation is safe too
    out = capsys.readouterr().out
    assert "b is safe" in out and "10 degrees" in out and "nearest neighbour" in out and "255" in out
    assert "half-turn" in out  # set against item d
    assert "only where a class boundary moves by at most one pixel" in out and "appendix" not in out  # edges
    assert "every pixel keeps the class" not in out
    assert "separate choice" in out and "labels and whether the digits stay plausible" in out  # the fill, set apart
    assert not check_safe_augmentations({"b", "e", "f"})
    out = capsys.readouterr().out
    assert "c is safe" in out and "0.05" in out and "untouched" in out  # the generator's own noise
    assert "e is" not in out  # e is not among the misses here
    assert not check_safe_augmentations({"b", "c", "f"})
    out = capsys.readouterr().out
    assert "e is safe" in out and "clipped to 1" in AUGMENTATIONS["e"] and "clipping at 1" in out
    assert "0.9 and 1.1" in AUGMENTATIONS["e"] and "0.33" in out and "0.63" in out  # ranges from digits.py
    assert not check_safe_augmentations({"b", "c", "d", "e", "f"})
    out = capsys.readouterr().out
    assert "d is not safe" in out and "label becomes false" in out and "reads as a 9" in out  # a class change
    assert not check_safe_augmentations({"b", "c", "e"})  # the zoom left out
    out = capsys.readouterr().out
    assert out.startswith("Not yet: f is safe") and "nearest neighbour" in out and "255" in out
    assert "0.8 and 1.2" in AUGMENTATIONS["f"] and "only where a class boundary moves by at most one pixel" in out
    assert "cut a digit at the border" in AUGMENTATIONS["f"] and "crop of a page" in out  # a cut digit still counts


@pytest.mark.parametrize("answer", [..., None, {"z"}, 3])
def test_safe_augmentations_unreadable_answers(answer, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_safe_augmentations(answer)
    assert capsys.readouterr().out.startswith("Not yet:")
    assert set(AUGMENTATIONS) == {"a", "b", "c", "d", "e", "f"}  # no warp: it is judged before any picture of it
    assert not check_safe_augmentations({"b", "c", "e", "f", "g"})  # g is no longer an item
    assert "not among the augmentations" in capsys.readouterr().out
    assert "10 degrees" in AUGMENTATIONS["b"] and "nearest neighbour" in AUGMENTATIONS["b"]


# --- exercise 1b: apply the warp's field with grid_sample, checked against segedu's warp ---------------

_IDENTITY = torch.nn.functional.affine_grid(torch.eye(2, 3)[None], (1, 1, 64, 64), align_corners=False)


def _apply(image, mask, field, *, image_mode="bilinear", mask_mode="nearest", swap=False, corners=False,
           mask_fill=255, blend=False):
    """The lesson's answer, or one of its known mistakes (``blend``: torchvision's extra darkening at the border)."""
    where = (_IDENTITY if not corners else torch.nn.functional.affine_grid(
        torch.eye(2, 3)[None], (1, 1, 64, 64), align_corners=True)) + (field.flip(-1) if swap else field)
    sample = torch.nn.functional.grid_sample
    ones = torch.ones(1, 1, 64, 64)
    new_image = sample(image[None], where, mode=image_mode, align_corners=corners)[0]
    if blend:  # torchvision multiplies by the share read from inside once more: allowed, not asked for
        new_image = new_image * sample(ones, where, mode="bilinear", align_corners=corners)[0]
    new_mask = sample(mask[None, None].float(), where, mode=mask_mode, align_corners=corners)[0, 0]
    outside = sample(ones, where, mode="nearest", align_corners=corners)[0, 0] < 0.5
    return new_image, new_mask.round().long().masked_fill(outside, mask_fill)


@pytest.mark.parametrize("seed", [0, 1, 5])
@pytest.mark.parametrize("blend", [False, True])
def test_apply_field_right(seed, blend, capsys: pytest.CaptureFixture[str]) -> None:
    """The answer the prompt asks for passes; so does torchvision's own, darker at the border."""
    assert check_apply_field(lambda image, mask, field: _apply(image, mask, field, blend=blend), seed)
    out = capsys.readouterr().out
    assert out.startswith("Correct! your warp equals segedu's") and "nearest neighbour" in out
    assert "pixels whose read stays inside the image" in out and "exactly on all 4,096" in out
    assert "carry 255 (ignored)" in out


def test_apply_field_pulled_in_pixels_labelled_0_say_why(capsys: pytest.CaptureFixture[str]) -> None:
    """The wrong answer that fills what the warp pulls in with 0 (background) in the mask."""
    assert not check_apply_field(lambda image, mask, field: _apply(image, mask, field, mask_fill=0))
    out = capsys.readouterr().out
    assert out.startswith("Not yet: the image and the labels inside are right") and "carry [0], not 255" in out
    assert "false label" in out and "mode='nearest'" in out
    case = field_test_case(0)
    assert int((case["warped_mask"] == 255).sum()) > 0  # the field does pull pixels in: the test can fail


def test_apply_field_compares_the_image_only_where_its_read_stays_inside(
        capsys: pytest.CaptureFixture[str]) -> None:
    """The plain grid_sample read differs from torchvision's warp only near the border, which the check leaves out."""
    case = field_test_case(0)
    plain = _apply(case["image"], case["mask"], case["field"])[0]
    assert not torch.allclose(plain, case["warped_image"], atol=1e-5, rtol=0)  # the border does differ
    darker = lambda image, mask, field: (0.9 * _apply(image, mask, field)[0],  # noqa: E731 - wrong inside too
                                         _apply(image, mask, field)[1])
    assert not check_apply_field(darker)
    out = capsys.readouterr().out
    assert out.startswith("Not yet: the image differs from segedu's warp") and "read stays inside" in out
    assert "picture of ones" not in out and "mode='bilinear'" in out


def test_apply_field_reference_is_segedus_warp_and_leaves_the_random_state() -> None:
    state = torch.get_rng_state()
    case = field_test_case(0)
    assert torch.equal(torch.get_rng_state(), state)  # the lesson's own draws are not disturbed
    assert case["field"].shape == (1, 64, 64, 2) and case["warped_mask"].shape == (64, 64)
    assert set(case["warped_mask"].unique().tolist()) <= set(case["mask"].unique().tolist()) | {255}


def test_apply_field_bilinear_mask_says_why(capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_apply_field(lambda image, mask, field: _apply(image, mask, field, mask_mode="bilinear"))
    out = capsys.readouterr().out
    assert out.startswith("Not yet: the image is right, but the mask was read bilinearly")
    assert "labels the scene does not hold" in out and "class indices, not grey levels" in out and "nearest" in out
    fractions = lambda image, mask, field: (_apply(image, mask, field)[0],  # noqa: E731
                                            torch.nn.functional.grid_sample(mask[None, None].float(), _IDENTITY + field,
                                                                            align_corners=False)[0, 0])
    assert not check_apply_field(fractions)
    assert "fractions between class indices" in capsys.readouterr().out


def test_apply_field_swapped_x_and_y_says_why(capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_apply_field(lambda image, mask, field: _apply(image, mask, field, swap=True))
    out = capsys.readouterr().out
    assert out.startswith("Not yet: the image moved along the wrong axes") and "(x, y)" in out and "column" in out


def test_apply_field_other_mistakes_say_why(capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_apply_field(lambda image, mask, field: _apply(image, mask, field, image_mode="nearest"))
    assert "the image was read by nearest neighbour" in capsys.readouterr().out
    assert not check_apply_field(lambda image, mask, field: (_apply(image, mask, field)[0], mask))
    assert "the mask was left where it was" in capsys.readouterr().out
    assert not check_apply_field(lambda image, mask, field: _apply(image, mask, field, corners=True))
    assert "align_corners=False" in capsys.readouterr().out


@pytest.mark.parametrize("answer", [..., None, 3, lambda image, mask, field: None,
                                    lambda image, mask, field: 1 / 0, lambda image, mask, field: (image,),
                                    lambda image, mask, field: (image[0], mask)])
def test_apply_field_unreadable_answers(answer, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_apply_field(answer)
    assert capsys.readouterr().out.startswith("Not yet:")


# --- exercise 2: predict, then run: which final score augmentation moves --------------------------

def test_paired_t_interval_matches_the_lesson() -> None:
    """Section 2's stored differences, augmented minus plain, per seed (0-9): the interval printed in the lesson."""
    low, high = paired_t_interval([0.057, 0.041, 0.034, 0.035, 0.037, 0.026, -0.020, 0.070, 0.060, 0.052])
    assert low == pytest.approx(0.0214, abs=0.001) and high == pytest.approx(0.0570, abs=0.001)
    low, high = paired_t_interval([0.057, 0.041, 0.034])  # seeds 0-2 only: 4.3 standard errors either side
    assert low == pytest.approx(0.0147, abs=0.001) and high == pytest.approx(0.0733, abs=0.001)
    assert paired_t_interval([1.0, 1.0, 1.0]) == (1.0, 1.0)
    with pytest.raises(ValueError, match="2 to 12"):
        paired_t_interval([0.1])


def test_paired_t_interval_uses_the_t_distributions_95_percent_points() -> None:
    """Each t point holds 95% of Student's t density between -t and t (integrated numerically with torch)."""
    from segedu.course.experiments import _T_975

    for degrees, point in _T_975.items():
        density = torch.distributions.StudentT(torch.tensor(float(degrees), dtype=torch.float64))
        grid = torch.linspace(-point, point, 200_001, dtype=torch.float64)
        assert torch.trapezoid(density.log_prob(grid).exp(), grid).item() == pytest.approx(0.95, abs=1e-4)
    differences = torch.tensor([0.10, -0.02, 0.05, 0.07], dtype=torch.float64)
    half_width = _T_975[3] * differences.std() / 2  # std with ddof=1, sqrt(4) = 2
    low, high = paired_t_interval(differences.tolist())
    assert (low, high) == pytest.approx(((differences.mean() - half_width).item(), (differences.mean() + half_width).item()))


def test_classify_gap_narrowing_reads_the_two_test_rule() -> None:
    """Section 2's ten seeds (final scores, rounded); the two-test rule needs the sign-flip p as well as the interval."""
    plain_train = [0.963, 0.944, 0.955, 0.950, 0.941, 0.889, 0.950, 0.960, 0.940, 0.950]
    augmented_train = [0.934, 0.857, 0.855, 0.884, 0.881, 0.852, 0.876, 0.905, 0.899, 0.875]
    plain_val = [0.257, 0.240, 0.298, 0.300, 0.280, 0.290, 0.340, 0.221, 0.270, 0.320]
    augmented_val = [0.314, 0.281, 0.332, 0.335, 0.317, 0.316, 0.320, 0.291, 0.330, 0.372]
    assert classify_gap_narrowing(plain_train, augmented_train, plain_val, augmented_val) == "both"
    assert classify_gap_narrowing(plain_train, augmented_train, plain_val, plain_val) == "by lowering training"
    assert classify_gap_narrowing(plain_train, plain_train, plain_val, augmented_val) == "by raising validation"
    assert classify_gap_narrowing(plain_train, plain_train, plain_val, plain_val) == "neither"
    # three seeds, every one lower and higher: the intervals leave out 0, but the sign-flip p is 0.25 at best
    three = ([0.95, 0.94, 0.96], [0.88, 0.87, 0.89], [0.25, 0.26, 0.27], [0.30, 0.31, 0.32])
    assert classify_gap_narrowing(*three) == "neither"
    with pytest.raises(ValueError, match="one score per seed"):
        classify_gap_narrowing(plain_train, augmented_train, plain_val, [0.3, 0.3])


MEASURED = {"train": (-0.062, -0.079, -0.046), "val": (0.039, 0.022, 0.057)}  # section 2's printed differences


def test_gap_prediction_right_and_wrong(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_gap_prediction("both", "both", **MEASURED)
    out = capsys.readouterr().out
    assert out.startswith("Correct! at the one learning rate tested (0.003, chosen without augmentation), the measured outcome is both")
    assert "from both sides" in out and "by heart" in out and "not measured here" in out
    assert "two-test rule" in out and "sign-flip p is at most 0.05" in out
    assert "never gives a scene back" not in out  # no cause is asserted: exercise 3 asks why
    assert "training -0.062 (95% t-interval -0.079 to -0.046)" in out and "validation +0.039 (+0.022 to +0.057)" in out
    assert "exercise 3's question" in out  # the cause of the fall is left to exercise 3
    assert check_gap_prediction("by lowering training", "both", **MEASURED)
    out = capsys.readouterr().out
    assert out.startswith("Recorded; the result differs:") and "you predicted 'by lowering training'" in out
    assert "the measured outcome is both" in out and "+0.039" in out
    assert check_gap_prediction("neither", "by lowering training")
    out = capsys.readouterr().out
    assert "training side only" in out and "not by itself a better model" in out and "Measured" not in out


@pytest.mark.parametrize("prediction", [..., None, "helps"])
def test_gap_prediction_must_be_recorded_first(prediction, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_gap_prediction(prediction, "both")
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and all(repr(choice) in out for choice in GAP_OUTCOMES)


def test_gap_prediction_without_an_outcome_only_records(capsys: pytest.CaptureFixture[str]) -> None:
    """The lesson records the prediction before it measures anything: no outcome, no verdict, nothing given away."""
    assert check_gap_prediction("neither")
    out = capsys.readouterr().out
    assert out.startswith("Recorded: 'neither'.") and "Correct!" not in out and "differs" not in out
    assert all(choice not in out for choice in GAP_OUTCOMES if choice != "neither")
    assert not check_gap_prediction(...)
    assert capsys.readouterr().out.startswith("Not yet: record your prediction first")
    assert not check_gap_prediction("narrows")
    assert "must be one of" in capsys.readouterr().out


# --- exercise 3: which explanations of the training score's fall the outputs before the controls rule out ---

@pytest.mark.parametrize("answer", [{"a", "b"}, "ab", ["B", "a"]])
def test_ruled_out_explanations_right(answer, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_ruled_out_explanations(answer)
    out = capsys.readouterr().out
    assert out.startswith("Correct!") and "invented no label" in out  # a: the count on the training scenes
    assert "the cell just after exercise 1b ran the study's own chain" in out and "only copies labels" in out  # a: why it rules a out
    assert "validation score is higher than plain's" in out and "t-interval above 0" in out  # b: exercise 2's outcome
    assert "not a general loss of skill" in out  # b: what the validation rise rules out
    assert "c, d, e and f are not" in out and "hypothesis" not in out
    assert "usual account" in out and "never gives a scene back unchanged" in out and "stays open" in out  # d: open
    assert "one fixed processed copy of each scene" in out and "without fresh variety" in out  # f: the control
    assert "never on the copies it trained on" in out and "cannot separate d from f" in out  # as section 3 says
    assert "validation rise does not rule it out" in out  # f: why the rise that rules out b leaves f open
    assert "0.595" not in out and "-0.349" not in out and "-0.047" not in out  # ... whose results are not given away
    assert "puts pixel noise back" in out and "After this exercise, section 3" in out  # c: a stored control, read later
    assert "back to plain's" in out and "0.882" not in out  # ... whose result is not given away
    assert "4,000 steps" in out and "lower ceiling" in out and "whether the training gap closes" in out  # e: the runs
    assert "still be climbing" not in out and "a description rather than a test" in out  # e: three seeds decide nothing
    assert "-0.088" not in out and "0.901" not in out  # e: read next, not answered here
    assert "-0.063" not in out and "-0.000" not in out  # no result of the later cells is given away


def test_ruled_out_explanations_first_wrong_try_names_no_letter(capsys: pytest.CaptureFixture[str]) -> None:
    """Several letters misjudged: how many, and what "ruled out" means; no letter named, no evidence given away."""
    assert not check_ruled_out_explanations({"c", "d", "e"})  # five of the six misjudged
    out = capsys.readouterr().out
    assert out.startswith("Not yet: 5 of the 6 letters are judged wrongly") and "contradicts it" in out
    assert "stays open" in out and "Once only one letter is off" in out
    assert not any(re.search(rf"\b{letter} is\b", out) for letter in EXPLANATIONS) and "invented no label" not in out
    assert not check_ruled_out_explanations(set())  # "none is ruled out": a and b misjudged
    out = capsys.readouterr().out
    assert "2 of the 6 letters are judged wrongly" in out and "ruled out:" not in out and "validation score" not in out


def test_ruled_out_explanations_later_try_one_letter_off_says_why(capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_ruled_out_explanations({"a", "b", "c"})  # c is tested only after the exercise
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and "c is not ruled out" in out and "if losing the noise caused the fall" in out
    assert "measures the noise or what losing it does" in out  # nothing before the exercise measures it
    assert "nothing printed before this exercise measures" in out and "nothing rules it out" in out
    assert "a is" not in out and "b is" not in out  # right choices are not among the misses
    assert not check_ruled_out_explanations({"a", "b", "d"})
    out = capsys.readouterr().out
    assert "d is not ruled out" in out and "usual account" in out and "never gives a scene back unchanged" in out
    assert "nothing here confirms it either" in out and "renoised" not in out and "copy" not in out  # no control
    assert not check_ruled_out_explanations({"a"})
    out = capsys.readouterr().out
    assert "b is ruled out" in out and "validation score is higher" in out and "a is" not in out
    assert not check_ruled_out_explanations({"b"})
    out = capsys.readouterr().out
    assert "a is ruled out" in out and "invented no label" in out and "160 times" in out
    assert not check_ruled_out_explanations({"a", "b", "e"})
    out = capsys.readouterr().out
    assert "e is not ruled out" in out and "slower climb from a lower ceiling" in out and "4,000 steps" in out
    assert not check_ruled_out_explanations({"a", "b", "f"})
    out = capsys.readouterr().out
    assert "f is not ruled out" in out and "validation rise does not rule it out" in out and "0.595" not in out


@pytest.mark.parametrize("answer", [..., None, {"g"}, {"d1"}, "abg", 2])  # g and d1 are not among the six
def test_ruled_out_explanations_unreadable_answers(answer, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_ruled_out_explanations(answer)
    assert capsys.readouterr().out.startswith("Not yet:")
    assert set(EXPLANATIONS) == {"a", "b", "c", "d", "e", "f"}
    assert "untransformed scenes" in EXPLANATIONS["f"] and "black padding" in EXPLANATIONS["f"]
    assert "new variant" in EXPLANATIONS["d"] and "fresh variety" in EXPLANATIONS["d"]  # d: the variety itself ...
    assert "never trains on the exact" not in EXPLANATIONS["d"]  # ... not f's "only processed images" again
    assert "differ from the originals" in EXPLANATIONS["f"]
    assert "whole fall" not in EXPLANATIONS["c"]  # c is a fair hypothesis, not a strawman: the control tests it
    assert "less well" in EXPLANATIONS["c"] and "smooths the scenes' pixel noise" in EXPLANATIONS["c"]
    assert "weaker segmenter overall" in EXPLANATIONS["b"] and "seen or new" in EXPLANATIONS["b"]
    assert "invents classes" in EXPLANATIONS["a"] and "false labels" in EXPLANATIONS["a"]


# --- section 1.1: the aligned zoom step the lesson writes out ------------------------------------

def test_the_lessons_aligned_mask_resize_is_nearest_exact() -> None:
    """Section 1.1's zoom step: segedu resizes masks itself with nearest-exact, whatever torchvision's kernel does."""
    import torch.nn.functional as F
    from torchvision import tv_tensors

    from segedu.datasets.transforms import AlignedScaleJitter, _resize_mask

    mask = tv_tensors.Mask(torch.randint(0, 11, (64, 64), generator=torch.Generator().manual_seed(0)))
    mask[:4] = 255
    for size in ((77, 77), (51, 51), (70, 58)):
        exact = F.interpolate(mask[None, None].float(), size=size, mode="nearest-exact")[0, 0].long()
        assert torch.equal(_resize_mask(mask, size), exact)
    step = AlignedScaleJitter(target_size=(64, 64), scale_range=(0.8, 1.2), antialias=True)
    image = tv_tensors.Image(torch.rand(1, 64, 64))
    torch.manual_seed(3)
    zoomed_image, zoomed_mask = step(image, mask)
    exact = F.interpolate(mask[None, None].float(), size=tuple(zoomed_image.shape[-2:]), mode="nearest-exact")
    assert torch.equal(zoomed_mask, exact[0, 0].long())  # the mask follows the image's drawn size, nearest-exact


# --- the record readers: the lesson's cells show the experiment, these read the JSON --------------

def _record() -> dict:
    """A stored record in miniature: two seeds, one arm run, another arm's transform kept in the settings."""
    steps, loss = [0, 100, 200, 300], [1.0, 1.0, 1.0, 1.0]
    run = {"steps": steps, "train": [0.1, 0.5, 0.7, 0.9], "val": [0.1, 0.2, 0.3, 0.4], "loss": loss}
    other = {"steps": list(steps), "train": [0.1, 0.4, 0.6, 0.8], "val": [0.1, 0.3, 0.2, 0.1], "loss": loss}
    return {
        "seeds": [3, 7],
        "settings": {"augmentation": {"steps": 300, "transform": "chain", "fixed_copy_transform": "once",
                                      "zoom_in_transform": "zoom", "arms": ["fixed_copy"]},
                     "learning_rate": {"learning_rates": [0.001, 0.03]}},
        "results": {"augmentation": {"3": {"fixed_copy": run}, "7": {"fixed_copy": other}},
                    "learning_rate": {"3": {"0.001": {"val": [0.1, 0.2]}, "0.03": {"val": [0.1, 0.4]}},
                                      "7": {"0.001": {"val": [0.1, 0.4]}, "0.03": {"val": [0.1, 0.2]}}},
                    "cpu_seconds_per_run": {"augmentation fixed_copy seed 3": 60.0, "learning_rate 0.03 seed 3": 5.0,
                                            "augmentation fixed_copy seed 7": 90.0},
                    "reproduce": "python -m experiments.augmentation_study --arm fixed_copy"},
        "ran_on": "a CPU", "date": "2026-12-04",
    }


def test_learning_curves_and_final_scores_read_every_seed_in_order() -> None:
    steps, scores = learning_curves(_record(), "fixed_copy", "train")
    assert steps.tolist() == [0, 100, 200, 300] and scores.shape == (2, 4)
    assert scores[1].tolist() == [0.1, 0.4, 0.6, 0.8]  # seed 7, the record's second seed
    assert final_scores(_record(), "fixed_copy", "train") == pytest.approx([0.7, 0.6])  # the last three scorings
    assert final_scores(_record(), "fixed_copy", "val", until_step=200, last=2) == pytest.approx([0.25, 0.25])
    assert final_scores(_record(), "fixed_copy", "val", last=1) == pytest.approx([0.4, 0.1])
    with pytest.raises(ValueError, match="step 250 was not scored"):
        final_scores(_record(), "fixed_copy", "val", until_step=250)
    with pytest.raises(ValueError, match="last must be 1 to 2"):
        final_scores(_record(), "fixed_copy", "val", until_step=100, last=3)  # only two scorings up to step 100
    record = _record()
    record["results"]["augmentation"]["7"]["fixed_copy"]["steps"] = [0, 100, 200, 400]
    with pytest.raises(ValueError, match="different steps"):
        learning_curves(record, "fixed_copy", "train")


def test_arm_settings_drop_only_the_transforms_of_arms_not_run() -> None:
    assert arm_settings(_record()) == {"steps": 300, "transform": "chain", "fixed_copy_transform": "once",
                                       "arms": ["fixed_copy"]}
    record = _record()
    del record["settings"]["augmentation"]["arms"]  # no arms named: the plain and augmented arms
    assert "fixed_copy_transform" not in arm_settings(record) and "transform" in arm_settings(record)


def test_sweep_scores_cpu_seconds_and_record_line() -> None:
    assert sweep_scores(_record()) == pytest.approx({0.001: 0.3, 0.03: 0.3})  # last validation score, mean of seeds
    assert run_cpu_seconds(_record()) == [60.0, 90.0]  # the sweep's run is left out
    assert record_line(_record()) == "python -m experiments.augmentation_study --arm fixed_copy\n(a CPU, 2026-12-04)"


def test_the_readers_give_the_lessons_numbers_from_the_stored_study() -> None:
    from segedu.course.experiments import load_experiment

    study = load_experiment("augmentation_study")
    assert f"{final_scores(study, 'plain', 'train').mean():.3f}" == "0.944"  # section 2's table
    assert f"{final_scores(study, 'plain', 'val').mean():.3f}" == "0.282"
    long_study = load_experiment("augmentation_study_long")
    change = final_scores(long_study, "augmented", "train") - final_scores(long_study, "plain", "train")
    assert f"{change.mean():+.3f}" == "-0.088"  # section 3's control at 4,000 steps
    assert "zoom_in_transform" not in arm_settings(study) and len(run_cpu_seconds(study)) == 20
