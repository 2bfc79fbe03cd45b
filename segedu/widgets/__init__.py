"""Interactive widgets for the lessons (ipywidgets 8).

Every widget is built by one function that returns a :class:`WidgetPanel`: the container to
display plus its controls, images and last computed state by name, so tests (and curious
learners) can drive it from code without a browser. Import each widget from its module, e.g.
``from segedu.widgets.scene_browser import scene_browser``.
"""

from segedu.widgets._toolkit import WidgetPanel, array_to_png, image_to_hwc
from segedu.widgets.scene_browser import scene_browser

__all__ = ["WidgetPanel", "array_to_png", "image_to_hwc", "scene_browser"]
