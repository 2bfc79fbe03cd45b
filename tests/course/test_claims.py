import numpy as np
import pytest
import torch

from segedu.course.claims import ClaimFailed, claim


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
