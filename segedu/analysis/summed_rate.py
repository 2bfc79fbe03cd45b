"""How much learning rate a layer got: the rate of every step of consecutive cosine-scheduled fit calls, and its sum.

A run made of several :func:`segedu.training.loop.fit` calls (training in stages, or a restart) gives every call its
own ``"cosine"`` schedule: the rate starts at that call's peak and decays to 0 along half a cosine over the call's
steps. A layer that joins late (its score layer held at zero until ``first_step``) trains only on the steps from
there on. Lesson 08 compares the sums as a measure of how much each branch trained: only a rough one under Adam,
which scales each parameter's step by its own gradient history.

Example:
    >>> round(summed_learning_rate([(4000, 1.0)]))  # one call, 4,000 steps, peak lr: half the steps at lr
    2000
    >>> round(summed_learning_rate([(4000, 1.0)], first_step=3000))  # the same call's last 1,000 steps
    50
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["cosine_rates", "summed_learning_rate"]


def cosine_rates(calls: Sequence[tuple[int, float]]) -> list[float]:
    """The learning rate of every step of consecutive fit calls, each with its own cosine schedule.

    Step ``s`` of a call of ``n`` steps and peak ``p`` trains at ``p * 0.5 * (1 + cos(pi * s / n))``, as
    :func:`segedu.training.loop.fit` sets it before the step (``lr_schedule="cosine"``, ``max_steps=n``).

    Args:
        calls: ``[(steps, peak), ...]``, one pair per fit call in the order they ran; ``peak`` in units of
            the run's base lr (1.0 for lr, 0.1 for lr / 10).

    Returns:
        One rate per step, in units of lr: a list of ``sum(steps)`` floats.

    Shape:
        ``len(calls)`` pairs -> ``(sum of steps,)``.
    """
    rates = []
    for steps, peak in calls:
        if steps < 1 or peak < 0:
            raise ValueError(f"each call needs steps >= 1 and a peak rate >= 0; got ({steps}, {peak})")
        rates += [peak * 0.5 * (1 + math.cos(math.pi * step / steps)) for step in range(steps)]
    return rates


def summed_learning_rate(calls: Sequence[tuple[int, float]], *, first_step: int = 0) -> float:
    """The learning rate summed over every step from ``first_step`` on, in units of lr.

    Args:
        calls: ``[(steps, peak), ...]`` as for :func:`cosine_rates`.
        first_step: The step (counted over the whole run, from 0) at which the layer starts training: 0 for a
            layer trained from the start, 3000 for a score layer held at zero for the first 3,000 steps.

    Returns:
        ``sum(cosine_rates(calls)[first_step:])``.
    """
    rates = cosine_rates(calls)
    if not 0 <= first_step < len(rates):
        raise ValueError(f"first_step must be in [0, {len(rates)}) for a run of {len(rates)} steps; got {first_step}")
    return sum(rates[first_step:])
