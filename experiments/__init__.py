"""Experiments too long for a lesson: each module trains and measures, then stores its record with
:func:`segedu.course.experiments.save_experiment`; the lesson loads it. Run ``python -m experiments.NAME``."""
