"""Lesson 10's longer skip ablation: :mod:`experiments.unet_skip_ablation` with 1000 steps per model.

Writes the record ``unet_skip_ablation_1000`` (same seeds, scenes and settings as the 200-step record,
no 50-step rows). Other options pass through, e.g. seeds in separate processes, then merged with
:func:`experiments.unet_skip_ablation.merge_records`::

    python -m experiments.unet_skip_ablation_1000       # about 10 minutes of CPU on one thread
    python -m experiments.unet_skip_ablation_1000 --seeds 0 1 2 --directory /tmp/part_a
"""

from __future__ import annotations

import sys

from experiments.unet_skip_ablation import LONGER_STEPS, main

if __name__ == "__main__":
    main(["--steps", str(LONGER_STEPS), *sys.argv[1:]])
