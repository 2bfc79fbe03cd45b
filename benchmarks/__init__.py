"""Benchmarks of the course on the current machine (``make bench``; not part of ``make test``).

Each module measures one thing and returns plain dataclasses; :mod:`benchmarks.report`
turns them into ``docs/benchmarks.md``, ``docs/benchmarks.png`` and ``docs/benchmarks.json``:

- :mod:`~benchmarks.machine`: which machine the numbers come from;
- :mod:`~benchmarks.timing`: repeated timings, medians and 95th percentiles;
- :mod:`~benchmarks.notebooks`: each lesson's run time and peak memory;
- :mod:`~benchmarks.levers`: what each speed lever of the three-minute recipe buys, with and without it;
- :mod:`~benchmarks.training`: the three-minute recipe for every model and a reference library's U-Net:
  quality reached in the budget and time to a target mean IoU, over several seeds;
- :mod:`~benchmarks.inference`: time per image and activation memory at several sizes;
- :mod:`~benchmarks.widgets`: how long each lesson widget takes to update.

Run everything with ``python -m benchmarks`` (see ``--help``).
"""

__all__: list[str] = []
