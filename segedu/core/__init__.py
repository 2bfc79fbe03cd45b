"""Layer 1, the floor: paths, seeding, device choice and the label encoding.

Imports nothing of segedu outside ``segedu.core``.
"""
