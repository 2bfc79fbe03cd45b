"""Layer 6: pictures: mask colours, shared drawing primitives and the architecture diagrams.

May import every layer below (``core`` ... ``analysis``); never ``widgets`` or ``course``.
"""
