"""Layer 6: pictures: mask colours, image-to-picture conversion, shared drawing primitives and the
architecture diagrams.

``masks`` (class and instance colours, overlays), ``pictures`` (tensor -> displayable array ->
PNG bytes), ``tasks`` (one scene as the answers of the vision tasks), ``primitives`` (colours, boxes, arrows of every diagram), one module per diagram
(``diagrams``, ``fcn_diagram``, ``unet_diagram``, ``shortcut_diagram``).

May import every layer below (``core`` ... ``analysis``); never ``widgets`` or ``course``.
"""
