"""summed_rate against torch's own cosine schedule, stepped by hand one fit call after another."""

from __future__ import annotations

import pytest
import torch

from segedu.analysis.summed_rate import cosine_rates, summed_learning_rate


def _torch_rates(calls: list[tuple[int, float]]) -> list[float]:
    """Brute force: one optimizer and CosineAnnealingLR (eta_min 0) per call, reading the rate before each step."""
    rates = []
    for steps, peak in calls:
        optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=peak)
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps, eta_min=0.0)
        for _ in range(steps):
            rates.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            schedule.step()
    return rates


@pytest.mark.parametrize("calls", [[(4000, 1.0)], [(2000, 1.0), (1000, 0.1), (1000, 0.1)], [(3000, 1.0), (1000, 0.1)],
                                   [(7, 0.5), (3, 2.0)]])
def test_rates_match_torch_cosine_annealing(calls) -> None:
    assert cosine_rates(calls) == pytest.approx(_torch_rates(calls), abs=1e-9)


def test_sums_match_a_hand_loop() -> None:
    calls = [(2000, 1.0), (1000, 0.1), (1000, 0.1)]
    rates = _torch_rates(calls)
    for first_step in (0, 1999, 2000, 3000, 3999):
        assert summed_learning_rate(calls, first_step=first_step) == pytest.approx(sum(rates[first_step:]), abs=1e-6)
    assert round(summed_learning_rate([(4000, 1.0)])) == 2000
    assert round(summed_learning_rate([(4000, 1.0)], first_step=3000)) == 50
    assert round(summed_learning_rate(calls)) == 1101


def test_bad_arguments_say_how_to_fix_them() -> None:
    with pytest.raises(ValueError, match="first_step must be in"):
        summed_learning_rate([(10, 1.0)], first_step=10)
    with pytest.raises(ValueError, match="steps >= 1"):
        cosine_rates([(0, 1.0)])
