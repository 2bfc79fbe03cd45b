"""segedu: semantic segmentation from first principles.

The package behind the course notebooks. Importing it does nothing but define names;
the sub-modules (``segedu.datasets``, ``segedu.models``, ``segedu.training.metrics``, ...) are
imported on demand so that ``import segedu`` stays instant.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
