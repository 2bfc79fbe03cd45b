"""Lesson 03's control: is fc1 hard to read because of its training or because of its width?

A linear probe reads a shape's position from fc1 (64 numbers) much less well than from the stage-3 map
(512 numbers) it is computed from. Two things could cause that: fc1 is narrower, and fc1 is trained. For
each seed the control probes fc1 in three networks that share the seed's initial weights:

- ``untrained``: every layer at its initial weights;
- ``trained``: every layer trained;
- ``trained stages, initial head``: the trained stages with fc1, fc2 and the classifier put back to their
  initial weights. Its fc1 is a random ReLU projection of the trained stage-3 map to 64 numbers: the width
  of the trained fc1, with nothing learned.

The control needs exactly the networks that ``lesson03_classifier_probes`` trains, so that study computes
it and writes this record in the same run; this module is the same command under the control's name
(same options: ``--seeds``, ``--directory``, ``--merge``).

    python -m experiments.lesson03_head_control        # = python -m experiments.lesson03_classifier_probes
"""

from __future__ import annotations

from experiments.lesson03_classifier_probes import CONTROL, main

NAME = CONTROL

if __name__ == "__main__":
    main()
