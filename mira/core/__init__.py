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
