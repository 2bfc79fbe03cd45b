import numpy as np
import pytest
import torch

from segedu.course.claims import ClaimFailed, SectionClaims, claim, rounding_gap


@pytest.mark.parametrize("condition", [True, np.bool_(True), torch.tensor(True), np.array([1.0]) > 0, 3 > 2])
def test_true_claim_prints_the_statement(condition, capsys):
    claim("FCN-8s beats FCN-32s", condition)
    assert capsys.readouterr().out == "verified: FCN-8s beats FCN-32s\n"


@pytest.mark.parametrize("condition", [False, np.bool_(False), torch.tensor(False), 0.2 > 0.5])
def test_false_claim_raises_and_names_the_statement(condition, capsys):
    with pytest.raises(ClaimFailed, match="FCN-8s beats FCN-32s"):
        claim("FCN-8s beats FCN-32s", condition)
    assert capsys.readouterr().out == ""  # nothing printed as verified


def test_a_failed_claim_is_an_assertion_error():
    assert issubclass(ClaimFailed, AssertionError)  # nbval and pytest report it as a failure


@pytest.mark.parametrize("condition", [torch.tensor([True, False]), np.array([True, True])])
def test_many_truth_values_are_refused(condition):
    with pytest.raises(ValueError, match=r"Reduce them first.*\.all\(\)"):
        claim("all good", condition)


@pytest.mark.parametrize("statement", ["", "   ", None])
def test_empty_statement_is_refused(statement):
    with pytest.raises(ValueError, match="non-empty sentence"):
        claim(statement, True)


def test_section_claims_check_every_kept_sentence_in_order(capsys):
    claims = SectionClaims()
    claims.claim("U-Net beats FCN-32s", np.float64(0.8) > 0.2)
    claims.claim("the band is harder", torch.tensor(0.5) < 0.7)
    assert capsys.readouterr().out == ""  # nothing is printed until the section's end
    claims.check("Section 2")
    assert capsys.readouterr().out.splitlines() == [
        "Section 2: 2 sentences of the text, each checked against the numbers printed above",
        "verified: U-Net beats FCN-32s",
        "verified: the band is harder",
    ]
    with pytest.raises(ValueError, match="Section 3: no sentence was kept"):
        claims.check("Section 3")  # the first check emptied the list


def test_section_claims_keep_the_value_the_condition_had_when_added(capsys):
    claims = SectionClaims()
    holds = np.array([True])
    claims.claim("the score is high", holds)
    holds[0] = False  # changing the array afterwards cannot change what was stated beside it
    claims.check("Section 1")  # would raise ClaimFailed had it read the array now
    assert capsys.readouterr().out.splitlines()[-1] == "verified: the score is high"


def test_section_claims_raise_at_the_false_sentence(capsys):
    claims = SectionClaims()
    claims.claim("first holds", True)
    claims.claim("second holds", 1 > 2)
    with pytest.raises(ClaimFailed, match="second holds"):
        claims.check("Part A")
    assert "verified: first holds" in capsys.readouterr().out


def test_section_claims_can_print_one_line_and_still_raise_at_the_false_sentence(capsys):
    claims = SectionClaims()
    claims.claim("first holds", True)
    claims.claim("second holds", 2 > 1)
    claims.check("Section 3", list_sentences=False)
    assert capsys.readouterr().out.splitlines() == [
        "Section 3: all 2 claims checked in code "
        "(each is written out in a claims.claim(...) call in this cell)"]
    claims.claim("first holds", True)
    claims.claim("third holds", 1 > 2)
    with pytest.raises(ClaimFailed, match="third holds"):
        claims.check("Section 4", list_sentences=False)
    assert capsys.readouterr().out == ""  # no count line for a section that failed


@pytest.mark.parametrize(("statement", "condition", "message"),
                         [("", True, "non-empty sentence"), ("all good", np.array([True, False]), "Reduce them first")])
def test_section_claims_refuse_a_malformed_sentence_when_it_is_added(statement, condition, message):
    with pytest.raises(ValueError, match=message):
        SectionClaims().claim(statement, condition)


def test_rounding_gap_prints_the_same_text_for_any_gap_below_the_tolerance():
    first = torch.tensor([1.0, 2.0, 3.0]) / 3
    second = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64) / 3
    gap = (first.double() - second).abs().max().item()  # a real float32 rounding gap, not zero
    assert 0 < gap < 1e-6
    assert rounding_gap(gap) == rounding_gap(0.0) == "below 1e-05 (float32 rounding)"
    assert rounding_gap(gap, tolerance=1e-8) == f"{gap:.1e}"


def test_rounding_gap_prints_a_gap_at_or_above_the_tolerance_as_its_number():
    assert rounding_gap(1e-5) == "1.0e-05"
    assert rounding_gap(torch.tensor(0.032)) == "3.2e-02"


@pytest.mark.parametrize("difference", [-1e-6, float("nan")])
def test_rounding_gap_refuses_a_negative_or_missing_gap(difference):
    with pytest.raises(ValueError, match="non-negative"):
        rounding_gap(difference)
