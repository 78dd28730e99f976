"""Small VOC and COCO files on disk, shared by the dataset tests and their differential twins."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from mira.core.image import encode_image

VOC_XML = """<annotation>
  <folder>{folder}</folder>
  <filename>{filename}</filename>
  <size><width>64</width><height>48</height><depth>3</depth></size>
  {objects}
</annotation>"""
VOC_OBJECT = """<object><name>{name}</name><pose>Left</pose><difficult>0</difficult>
  <bndbox><xmin>{x1}</xmin><ymin>{y1}</ymin><xmax>{x2}</xmax><ymax>{y2}</ymax></bndbox></object>"""


def write_image(path: Path, width: int = 64, height: int = 48) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode_image(np.full((height, width, 3), 80, np.uint8), "png"))
    return path


def write_voc(path: Path, filename: str, objects: list[tuple], folder: str = "") -> Path:
    body = "\n".join(
        VOC_OBJECT.format(name=n, x1=x1, y1=y1, x2=x2, y2=y2) for n, x1, y1, x2, y2 in objects
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(VOC_XML.format(folder=folder, filename=filename, objects=body))
    return path


def write_coco(path: Path) -> Path:
    """Two categories (ids 3 and 1, listed out of order), three images (one unlabelled)."""
    data = {
        "images": [
            {"id": 7, "file_name": "b.png", "width": 64, "height": 48},
            {"id": 2, "file_name": "a.png", "width": 64, "height": 48},
            {"id": 9, "file_name": "c.png", "width": 64, "height": 48},
        ],
        "categories": [{"id": 3, "name": "cat"}, {"id": 1, "name": "dog"}],
        "annotations": [
            {"id": 1, "image_id": 7, "category_id": 3, "bbox": [1, 2, 10, 20]},
            {"id": 2, "image_id": 2, "category_id": 1, "bbox": [5, 5, 4, 4]},
            {"id": 3, "image_id": 7, "category_id": 1, "bbox": [0, 0, 64, 48]},
        ],
    }
    path.write_text(json.dumps(data))
    return path
