"""Valid inputs for the fuzzer to damage: small, but using every feature each reader knows
(boxes, polygons, scores, labels, masks, metadata; JPEG and PNG; every tarball layout)."""

from __future__ import annotations

import base64
import functools
import io
import json
import tempfile
from pathlib import Path

import numpy as np

from mira.core import Annotation, Categories, Label, Scene, SceneCollection
from mira.core.image import encode_image

DATA = Path(__file__).resolve().parents[1] / "data"
CATS = Categories(["dog", "cat", "sunny"])


def _image(width: int, height: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (height, width, 3), dtype=np.uint8)


def _scenes() -> list[Scene]:
    return [
        Scene(
            CATS,
            encode_image(_image(16, 12, 0), "jpg", 90),
            annotations=[
                Annotation(CATS["dog"], 1.5, 2.25, 10.125, 11.0, metadata={"id": 1}),
                Annotation(CATS["cat"], points=[[0, 0], [8.5, 0], [5, 5]], score=0.25),
                Annotation(CATS["dog"], 1.5, 2.25, 10.0, 11.0),
            ],
            labels=[Label(CATS["sunny"], score=0.9)],
            masks=[{"visible": False, "name": "m", "contour": [[0, 0], [6, 0], [6, 6]]}],
            metadata={"source": "camera-1", "nested": {"a": [1, 2]}, "é": "ü"},
            key="000000",
        ),
        Scene(
            CATS,
            encode_image(_image(20, 10, 1), "png"),
            annotations=[Annotation(CATS["cat"], 0, 0, 20, 10, score=1.0)],
            key="000001",
        ),
        Scene(CATS, encode_image(_image(8, 8, 2), "png"), key="000002"),
    ]


def _saved(format: str) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "seed.tar"
        SceneCollection(_scenes(), CATS).save(path, format=format)
        return path.read_bytes()


@functools.cache
def native_tarballs() -> list[bytes]:
    """The native layout, plain and with every record's image fingerprint."""
    return [_saved("native"), _fingerprinted(_saved("native"))]


def _fingerprinted(tarball: bytes) -> bytes:
    from mira.pipeline.jobs import fingerprint_file

    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder) / "seed.tar", Path(folder) / "fingerprinted.tar"
        source.write_bytes(tarball)
        fingerprint_file(source, target, jobs=1)
        return target.read_bytes()


@functools.cache
def legacy_tarballs() -> list[bytes]:
    """The ≥0.9.27 layout as mira writes it, and the original library's own tarballs (the
    ≤0.9.26 layout with the image inside the protobuf, and 0.9.36's)."""
    originals = ["mira-0.9.26.tar", "mira-0.9.36.tar"]
    return [_saved("legacy"), *((DATA / "legacy" / name).read_bytes() for name in originals)]


def qsl_project() -> dict[str, bytes]:
    """A QSL project (first) and its images: boxes, polygons, an RLE mask, image labels,
    a data: URI image, and ignored, unlabelled and non-image items."""
    png = encode_image(_image(20, 10, 3), "png")
    jpg = encode_image(_image(16, 12, 4), "jpg", 90)
    uri = "data:image/png;base64," + base64.b64encode(encode_image(_image(4, 4, 5), "png")).decode()
    project = {
        "config": {
            "image": [
                {"name": "Weather", "multiple": False, "options": [{"name": "sunny"}]},
                {"name": "Note", "freeform": True, "options": []},
            ],
            "regions": [
                {"name": "category", "multiple": True,
                 "options": [{"name": "dog"}, {"name": "cat"}]},
            ],
        },
        "items": [
            {
                "target": "img/a.png",
                "metadata": {"source": "camera-1"},
                "labels": {
                    "image": {"Weather": ["sunny"], "Note": ["free text"]},
                    "boxes": [{"pt1": {"x": 0.1, "y": 0.2}, "pt2": {"x": 0.5, "y": 0.6},
                               "labels": {"category": ["dog", "cat"]}}],
                    "polygons": [{"points": [{"x": 0.0, "y": 0.0}, {"x": 0.5, "y": 0.0},
                                             {"x": 0.5, "y": 0.5}],
                                  "labels": {"category": "cat"}, "metadata": {"id": 3}}],
                    "masks": [{"map": {"counts": [0, 1, 2, 2, 2, 1],
                                       "dimensions": {"width": 4, "height": 2}},
                               "labels": {"category": ["dog"]}}],
                },
            },
            {"target": "img/b.jpg", "labels": {"boxes": [
                {"pt1": {"x": 0.0, "y": 0.0}, "pt2": {"x": 1.0, "y": 1.0},
                 "labels": {"category": ["cat"]}}]}},
            {"target": uri, "labels": {"image": {"Weather": "sunny"}}},
            {"target": "img/b.jpg", "ignore": True},
            {"target": "img/c.jpg"},
            {"target": "clips/v.mp4", "type": "video", "labels": []},
        ],
    }  # fmt: skip
    text = io.StringIO()
    json.dump(project, text, indent=1)
    return {"project.json": text.getvalue().encode(), "img/a.png": png, "img/b.jpg": jpg}


def coco_file() -> dict[str, bytes]:
    """A COCO instances file (first) and its images: boxes of two categories, an image
    without annotations, ids out of order."""
    coco = {
        "images": [{"id": 7, "file_name": "b.jpg", "width": 16, "height": 12},
                   {"id": 3, "file_name": "a.png", "width": 20, "height": 10},
                   {"id": 9, "file_name": "a.png", "width": 20, "height": 10}],
        "annotations": [{"id": 1, "image_id": 3, "category_id": 2, "bbox": [1.5, 2, 8, 6.25]},
                        {"id": 2, "image_id": 3, "category_id": 1, "bbox": [0, 0, 20, 10]},
                        {"id": 3, "image_id": 7, "category_id": 2, "bbox": [4, 4, 1, 1]}],
        "categories": [{"id": 2, "name": "cat"}, {"id": 1, "name": "dog"}],
    }  # fmt: skip
    return {
        "instances.json": json.dumps(coco, indent=1).encode(),
        "a.png": encode_image(_image(20, 10, 6), "png"),
        "b.jpg": encode_image(_image(16, 12, 7), "jpg", 90),
    }


def voc_file() -> dict[str, bytes]:
    """A PASCAL VOC annotation (first) and its image in the `<folder>` it names."""
    xml = b"""<annotation>
  <folder>JPEGImages</folder>
  <filename>a.jpg</filename>
  <size><width>16</width><height>12</height><depth>3</depth></size>
  <object><name>dog</name><difficult>0</difficult>
    <bndbox><xmin>1</xmin><ymin>2.5</ymin><xmax>10</xmax><ymax>11</ymax></bndbox></object>
  <object><name>cat</name>
    <bndbox><xmin>0</xmin><ymin>0</ymin><xmax>16</xmax><ymax>12</ymax></bndbox></object>
</annotation>
"""
    return {"a.xml": xml, "JPEGImages/a.jpg": encode_image(_image(16, 12, 8), "jpg", 90)}


DATA = Path(__file__).resolve().parents[1] / "data"


def data_folder(folder: str, first: str) -> dict[str, bytes]:
    """Every file of tests/data/`folder` (files in the exact shape each tool writes), by
    relative name, `first` first."""
    root = DATA / folder
    names = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    names.remove(first)
    return {name: (root / name).read_bytes() for name in [first, *names]}
