"""Developer tooling outside the package (not shipped, not imported by ``segedu``).

- :mod:`~tools.layer_picture`: the README's picture of the package's layers, drawn from the code.
"""

__all__: list[str] = []
