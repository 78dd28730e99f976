"""The original's `mira.datasets`: readers of VOC and COCO files, synthetic shapes, the
well-known category lists, and the datasets it downloaded, read here from local folders."""

from mira.datasets.categories import (
    COCOCategories,
    COCOCategories90,
    ShapeAnnotationConfig,
    VOCCategories,
)
from mira.datasets.coco import load_coco
from mira.datasets.local import load_oxfordiiitpets, load_random_images, load_voc2012
from mira.datasets.shapes import load_shapes, make_shape_scene
from mira.datasets.voc import load_voc

__all__ = [
    "COCOCategories",
    "COCOCategories90",
    "ShapeAnnotationConfig",
    "VOCCategories",
    "load_coco",
    "load_oxfordiiitpets",
    "load_random_images",
    "load_shapes",
    "load_voc",
    "load_voc2012",
    "make_shape_scene",
]
