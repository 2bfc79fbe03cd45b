"""Layer 5: measuring models: the hook recorder, costs, receptive fields, probes and the analyses the lessons run.

May import ``core``, ``datasets``, ``models`` and ``training``.
"""
