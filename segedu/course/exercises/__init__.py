"""Automatic checks for the lessons' exercises, one module per lesson (``lesson01``, ...).

Every check prints a short verdict — what is right, or a specific hint about what is wrong —
and returns ``True`` or ``False``; it never raises on a wrong answer, so a notebook keeps
running. Solutions live in hidden cells tagged ``solution`` right after each exercise.
"""

from segedu.course.exercises._verdict import verdict

__all__ = ["verdict"]
