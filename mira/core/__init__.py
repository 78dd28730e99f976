"""The scene model: categories, labels, annotations, scenes and collections."""

from mira.core.annotation import Annotation, Categories, Category, Label
from mira.core.collection import SceneCollection
from mira.core.encoding import Encoding
from mira.core.image import Dimensions, ImageSource
from mira.core.masks import MaskRegion
from mira.core.scene import Scene

__all__ = [
    "Annotation",
    "Categories",
    "Category",
    "Dimensions",
    "Encoding",
    "ImageSource",
    "Label",
    "MaskRegion",
    "Scene",
    "SceneCollection",
]


# The original's modules, imported on first use so `import mira.core` stays light:
# `mira.core.utils`, `mira.core.resizing`, ... work without importing them first.
_SUBMODULES = ("annotation", "augmentations", "experimental", "resizing", "scene", "utils")


def __getattr__(name: str) -> object:
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
