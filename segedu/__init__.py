"""segedu: semantic segmentation from first principles.

The package behind the course notebooks, in eight layers that import only downwards (checked by
import-linter, see ``[tool.importlinter]`` in pyproject.toml):

1. ``segedu.core``: paths, seeding, device choice, the label encoding;
2. ``segedu.datasets``: the offline scenes and the photo adapters;
3. ``segedu.models``: the networks (torch only);
4. ``segedu.training``: losses, metrics, the training loop, recipes and checkpoints;
5. ``segedu.analysis``: the hook recorder, costs, receptive fields and the lessons' measurements;
6. ``segedu.plots``: mask colours and diagrams;
7. ``segedu.widgets``: the ipywidgets panels;
8. ``segedu.course``: the lesson table, exercises, glossary, student edition and command line.

Importing ``segedu`` does nothing but define ``__version__``; import the layer you need.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
