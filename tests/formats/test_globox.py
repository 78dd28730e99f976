"""globox, an independent reader, finds the same boxes in our VOC and CVAT exports."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from globox import AnnotationSet

from mira.core import Annotation, Categories, Scene, SceneCollection
from mira.core.image import encode_image
from tests.conftest import make_image

DATA = Path(__file__).resolve().parents[1] / "data"


def generated() -> SceneCollection:
    """Scenes with sub-pixel boxes and polygons, from a seeded generator."""
    rng = np.random.default_rng(7)
    categories = Categories(["cat", "dog", "traffic light"])
    scenes = []
    for index in range(6):
        width, height = int(rng.integers(20, 90)), int(rng.integers(20, 90))
        annotations = []
        for _ in range(int(rng.integers(0, 7))):
            category = categories[int(rng.integers(0, 3))]
            xs = np.sort(rng.uniform(0, width, 2))
            ys = np.sort(rng.uniform(0, height, 2))
            if rng.random() < 0.3:
                points = np.stack([rng.uniform(0, width, 4), rng.uniform(0, height, 4)], axis=1)
                annotations.append(Annotation(category, points=points))
            else:
                annotations.append(Annotation(category, xs[0], ys[0], xs[1], ys[1]))
        image = encode_image(make_image(width, height, seed=index), "png")
        scenes.append(Scene(categories, image, annotations, key=f"{index:06d}"))
    return SceneCollection(scenes)


COLLECTIONS = {
    "generated": generated,
    "voc": lambda: SceneCollection.from_voc(DATA / "voc"),
    "cvat": lambda: SceneCollection.from_cvat(DATA / "cvat"),
    "labelstudio": lambda: SceneCollection.from_labelstudio(
        DATA / "labelstudio" / "export.json", images_dir=DATA / "labelstudio" / "media"
    ),
}


def ours(collection: SceneCollection, names: list[str], boxes_only: bool) -> dict:
    """image file name → sorted (label, x1, y1, x2, y2) of what the export holds."""
    found = {}
    for name, scene in zip(names, collection, strict=True):
        found[name] = sorted(
            (a.category.name, *a.x1y1x2y2())
            for a in scene.annotations
            if a.is_rect or not boxes_only
        )
    return found


def theirs(annotations: AnnotationSet) -> dict:
    return {a.image_id: sorted((b.label, *b.ltrb) for b in a.boxes) for a in annotations}


def assert_same(expected: dict, actual: dict) -> None:
    assert sorted(actual) == sorted(expected)
    for name, boxes in expected.items():
        assert [b[0] for b in actual[name]] == [b[0] for b in boxes]
        np.testing.assert_allclose(
            np.array([b[1:] for b in actual[name]]).reshape(-1, 4),
            np.array([b[1:] for b in boxes]).reshape(-1, 4),
            rtol=1e-6,
            atol=0,
        )


@pytest.mark.parametrize("source", sorted(COLLECTIONS))
def test_globox_reads_our_voc_export(tmp_path, source):
    collection = COLLECTIONS[source]()
    collection.to_voc(tmp_path / "voc", images="none")
    stems = (tmp_path / "voc" / "ImageSets" / "Main" / "default.txt").read_text().split()
    names = [
        ET.parse(tmp_path / "voc" / "Annotations" / f"{stem}.xml").getroot().findtext("filename")
        for stem in stems
    ]
    read = AnnotationSet.from_pascal_voc(tmp_path / "voc" / "Annotations")
    assert_same(ours(collection, names, boxes_only=False), theirs(read))


@pytest.mark.parametrize("source", sorted(COLLECTIONS))
def test_globox_reads_our_cvat_export(tmp_path, source):
    collection = COLLECTIONS[source]()
    collection.to_cvat(tmp_path / "cvat", images="none")
    path = tmp_path / "cvat" / "annotations.xml"
    names = [image.get("name") for image in ET.parse(path).getroot().iter("image")]
    read = AnnotationSet.from_cvat(path)
    assert_same(ours(collection, names, boxes_only=True), theirs(read))
