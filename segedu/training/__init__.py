"""Layer 4: losses, metrics, the training loop, evaluation, checkpoints, recipes and the shipped weights.

May import ``segedu.core``, ``segedu.datasets`` and ``segedu.models``.
"""
