"""Automatic checks for the lessons' exercises, one module per lesson (``lesson01``, ...).

Part of layer 8 (``segedu.course``): may import every other layer.

Every check prints a short verdict — ``Correct! <what it means>`` or ``Not yet: <a specific
hint>`` — and returns ``True`` or ``False``; it never raises on a wrong answer, so a notebook keeps
running. Most checks are one call of :func:`check_cases` (run the learner's function on each case,
stop at the first hint; unfinished stubs get the same words in every lesson). Solutions live in
hidden cells tagged ``solution`` right after each exercise.
"""

from segedu.course.exercises._verdict import check_cases, right, verdict, wrong

__all__ = ["check_cases", "right", "verdict", "wrong"]
