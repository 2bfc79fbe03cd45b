"""Interactive widgets for the lessons (ipywidgets 8).

Layer 7: ipywidgets panels only; may import every layer below, never ``segedu.course``.

Every widget is built by one function that returns a :class:`WidgetPanel`: the container to
display plus its controls, images and last computed state by name, so tests (and curious
learners) can drive it from code without a browser. Images are PNG bytes updated in place.

Import each widget from its module (importing one does not load the others):

- ``scene_browser``: browse a dataset (lesson 00)
- ``task_views.task_views``: classification, detection, semantic, instance (lesson 01)
- ``score_explorer.score_explorer``: scores, softmax, argmax and loss at a pixel (lesson 02)
- ``shift_explorer.shift_explorer``: move a shape, watch each stage (lesson 03)
- ``cost_explorer.cost_explorer``: compute and memory of full resolution (lesson 04)
- ``aliasing_explorer.aliasing_explorer``: stripes downsampled five ways (lesson 05)
- ``transposed_conv_stepper`` and ``checkerboard_explorer``: upsampling (lesson 06)
- ``fcn_explorer.fcn_explorer``: FCN's fused score maps, skips switched off (lessons 07 and 08)
- ``unpooling_explorer.unpooling_explorer``: SegNet's switches and sparse maps (lesson 09)
- ``skip_explorer.skip_explorer``: switch U-Net skips off (lesson 10)
- ``model_comparison.model_comparison``: all models side by side (lesson 11)
- ``feature_maps.feature_map_explorer``: any layer of any model, pixel probe (lesson 12)
- ``augmentation_explorer.augmentation_explorer``: paired augmentation of image and mask (lesson 14)
- ``reweight_explorer.reweight_explorer``: tilt a trained model's answer by class weights (lesson 15)
- ``weight_map_explorer.weight_map_explorer``: U-Net's weight map with w0 and sigma (lesson 18)
- ``atrous_explorer.atrous_explorer``: which input pixels a stack of atrous convolutions reads (lesson 16)
"""

from segedu.widgets._toolkit import WidgetPanel, array_to_png, image_to_hwc
from segedu.widgets.feature_maps import feature_map_explorer
from segedu.widgets.scene_browser import scene_browser

__all__ = ["WidgetPanel", "array_to_png", "feature_map_explorer", "image_to_hwc", "scene_browser"]
