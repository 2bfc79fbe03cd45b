"""Tests of the verdict tables' layout: the numbers match segedu's paired statistics, the rule is the caller's."""

import numpy as np

from segedu.course.experiments import paired_t_interval, sign_flip_p, wins_ties_losses
from segedu.course.verdict_tables import length_table, two_test_verdict, verdict_table


def _rule(row: str, gap: np.ndarray) -> str:
    # a toy rule: both tests, as in lesson 15
    low, high = paired_t_interval(gap)
    side = "ahead" if low > 0 else "behind" if high < 0 else "not distinguishable"
    return side if sign_flip_p(gap) <= 0.05 else "not distinguishable"


ROWS = {"all above": np.array([0.1, 0.2, 0.15, 0.12, 0.18, 0.11]),
        "one below": np.array([-0.1, -0.12, 0.01, -0.11, -0.13, -0.09]),
        "mixed": np.array([0.05, -0.04, 0.02, -0.03, 0.01, -0.02])}
SEEDS = [str(seed) for seed in range(6)]


def test_each_row_prints_its_counts_interval_p_and_the_callers_verdict() -> None:
    lines = verdict_table("title", ROWS, SEEDS, _rule, tie=0.0).splitlines()
    assert lines[0] == "title"
    for label, gap in ROWS.items():
        (line,) = [line for line in lines if line.startswith(label + " ")]
        low, high = paired_t_interval(gap)
        assert wins_ties_losses(gap, 0.0) in line
        assert f"{gap.mean():+.3f} [{low:+.3f}, {high:+.3f}]" in line
        assert f"{sign_flip_p(gap):g}" in line
        assert line.endswith(_rule(label, gap))


def test_the_last_line_names_exactly_the_rows_whose_tests_disagree() -> None:
    last = verdict_table("title", ROWS, SEEDS, _rule).splitlines()[-1]
    # "one below": t-interval below 0 but one seed above, so sign-flip p 0.0625 and the rule says not distinguishable
    assert paired_t_interval(ROWS["one below"])[1] < 0 and sign_flip_p(ROWS["one below"]) == 0.0625
    assert last.endswith(": one below")
    agreeing = {label: gap for label, gap in ROWS.items() if label != "one below"}
    assert verdict_table("title", agreeing, SEEDS, _rule).splitlines()[-1].endswith(": none")


def test_seed_columns_only_for_the_rows_asked_and_the_note_names_the_reference() -> None:
    text = verdict_table("title", ROWS, SEEDS, _rule, by_seed=["mixed"], reference="plain cross-entropy")
    lines = text.splitlines()
    assert lines[1].split() == [word for seed in SEEDS for word in ("seed", seed)]
    assert lines[2].split() == ["mixed", "+0.050", "-0.040", "+0.020", "-0.030", "+0.010", "-0.020"]
    assert "of the 6 seeds are above / exactly at / below plain cross-entropy" in text
    assert "seed 0" not in verdict_table("title", ROWS, SEEDS, _rule)


def test_two_test_verdict_is_the_interval_and_the_sign_flip_p_written_out() -> None:
    rng = np.random.default_rng(0)
    for gap in [*ROWS.values(), *(rng.normal(loc, 0.05, size=6) for loc in np.linspace(-0.1, 0.1, 40))]:
        assert two_test_verdict(gap) == _rule("", gap)
        low, high = paired_t_interval(gap)
        expected = ("more" if low > 0 else "fewer" if high < 0 else "not distinguishable") \
            if sign_flip_p(gap) <= 0.05 else "not distinguishable"
        assert two_test_verdict(gap, ("more", "fewer")) == expected
    # one seed of the other sign: the t-interval leaves out 0 but the sign-flip p is 0.0625
    assert two_test_verdict(ROWS["one below"]) == "not distinguishable"
    assert two_test_verdict(ROWS["one below"], level=0.07) == "behind"


def test_the_default_rule_is_two_test_verdict_with_the_words_given() -> None:
    by_default = verdict_table("title", ROWS, SEEDS, words=("more", "fewer"))
    assert by_default == verdict_table("title", ROWS, SEEDS,
                                       lambda row, gap: two_test_verdict(gap, ("more", "fewer")))
    assert [line for line in by_default.splitlines() if line.startswith("all above ")][0].endswith("more")


def test_length_table_prints_mean_lowest_highest_and_verdicts_in_their_columns() -> None:
    scores = {400: {"ref": [0.1, 0.3, 0.2], "other": [0.4, 0.5, 0.6]}, 1600: {"ref": [0.7, 0.8], "other": [0.75, 0.85]}}
    text = length_table(scores, {400: ["0", "1", "2"], 1600: ["3", "4"]},
                        {400: {"other": "ahead"}, 1600: {"other": "untestable (2 seeds)"}}, column=20)
    lines = text.splitlines()
    assert lines[0].split() == ["steps", "seeds", "ref", "other"]
    assert lines[1].split() == ["400", "0-2", "0.20", "[0.10,", "0.30]", "0.50", "[0.40,", "0.60]"]
    assert lines[2].strip() == "ahead" and lines[2].index("ahead") == lines[0].index("other")
    assert lines[3].split()[:2] == ["1,600", "3-4"] and lines[4].strip() == "untestable (2 seeds)"


def test_a_further_line_names_the_rows_whose_tests_disagree_the_other_way() -> None:
    # seven seeds all below 0, one far below: every sign the same (p 2/2^7) but the t-interval reaches past 0
    skewed = np.array([-0.001, -0.002, -0.001, -0.003, -0.002, -0.001, -0.5])
    low, high = paired_t_interval(skewed)
    assert sign_flip_p(skewed) <= 0.05 and low < 0 < high
    rows = {"all above": np.append(ROWS["all above"], 0.13), "skewed": skewed}
    lines = verdict_table("title", rows, [str(seed) for seed in range(7)], _rule).splitlines()
    assert lines[-2].endswith(": none")
    assert lines[-1] == ("the two tests disagree the other way (sign-flip p at most 0.05, the t-interval holds 0): "
                         "skewed")
    assert not verdict_table("title", ROWS, SEEDS, _rule).splitlines()[-1].startswith("the two tests disagree the other")



def test_say_agreement_words_the_last_line_only_where_no_row_disagrees() -> None:
    agreeing = {label: gap for label, gap in ROWS.items() if label != "one below"}
    plain = verdict_table("title", agreeing, SEEDS, _rule).splitlines()
    worded = verdict_table("title", agreeing, SEEDS, _rule, say_agreement=True).splitlines()
    assert worded[:-1] == plain[:-1] and worded[-1] == "the two tests agree on every row"
    # where a row disagrees, the table is the same with or without the option
    assert verdict_table("title", ROWS, SEEDS, _rule, say_agreement=True) == verdict_table("title", ROWS, SEEDS, _rule)
