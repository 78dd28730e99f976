"""mira.datasets: VOC and COCO readers, shapes, category lists and local-folder datasets."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from mira import datasets
from mira.errors import FormatError, MissingDataError, ValidationError
from tests.datasets.conftest import write_coco, write_image, write_voc


def test_category_lists() -> None:
    assert len(datasets.COCOCategories) == 80 and datasets.COCOCategories[0].name == "person"
    assert datasets.COCOCategories[79].name == "toothbrush"
    names90 = datasets.COCOCategories90.names
    assert len(names90) == 90 and names90[11] == "placeholder_12" and names90[12] == "stop sign"
    assert names90[-1] == "toothbrush" and names90[82] == "placeholder_83"
    assert [n for n in names90 if not n.startswith("placeholder")] == datasets.COCOCategories.names
    assert len(datasets.VOCCategories) == 20 and datasets.VOCCategories[19].name == "tvmonitor"


def test_load_voc(tmp_path: Path) -> None:
    write_image(tmp_path / "JPEGImages" / "a.png")
    first = write_voc(tmp_path / "xml" / "a.xml", "a.png", [("dog", 1, 2, 30.5, 40)],
                      folder="../JPEGImages")  # fmt: skip
    second = write_voc(tmp_path / "xml" / "b.xml", "b.png", [("Cat", 0, 0, 5, 5)])
    cats = ["dog", "cat"]
    with pytest.warns(UserWarning, match="category 'Cat' not found, using 'cat' instead"):
        collection = datasets.load_voc([str(first), str(second)], cats)
    assert collection.categories.names == cats
    a, b = collection
    assert [(x.category.name, x.x1y1x2y2()) for x in a.annotations] == [("dog", (1, 2, 30.5, 40))]
    assert a.image_source.path == str(tmp_path / "xml" / "../JPEGImages" / "a.png")
    assert a.dimensions == (64, 48)
    assert b.image_source.path == str(tmp_path / "xml" / "b.png")
    with pytest.warns(UserWarning):
        other = datasets.load_voc([str(second)], cats, image_dir="/images")
    assert other[0].image_source.path == "/images/b.png"
    bad = write_voc(tmp_path / "bad.xml", "a.png", [("bird", 0, 0, 1, 1)])
    with pytest.raises(
        FormatError,
        match=re.escape(f"{bad}: object 0: category 'bird' is not one of ['dog', 'cat']"),
    ):
        datasets.load_voc([str(bad)], cats)
    broken = tmp_path / "broken.xml"
    broken.write_text(
        "<annotation><object><name>dog</name><bndbox><xmin>1</xmin></bndbox></object></annotation>"
    )
    with pytest.raises(
        FormatError, match=re.escape(f"{broken}: object 0: <bndbox/ymin> is missing")
    ):
        datasets.load_voc([str(broken)], cats)
    with pytest.raises(FormatError, match=r"missing\.xml: file not found$"):
        datasets.load_voc([str(tmp_path / "missing.xml")], cats)


def test_load_coco(tmp_path: Path) -> None:
    path = write_coco(tmp_path / "instances.json")
    collection = datasets.load_coco(str(path), None)
    assert collection.categories.names == ["dog", "cat"]  # by id
    assert [Path(s.image_source.path).name for s in collection] == ["a.png", "b.png", "c.png"]
    assert [[(a.category.name, a.x1y1x2y2()) for a in s.annotations] for s in collection] == [
        [("dog", (5, 5, 9, 9))],
        [("cat", (1, 2, 11, 22)), ("dog", (0, 0, 64, 48))],
        [],
    ]
    assert collection[0].image_source.path == str(tmp_path / "a.png")
    given = datasets.load_coco(str(path), "/data", categories=["cat", "dog"])
    assert given.categories.names == ["cat", "dog"] and given[0].image_source.path == "/data/a.png"
    with pytest.raises(
        FormatError,
        match=re.escape(
            "the file's categories ['dog', 'cat'] are not the categories given ['dog']"
        ),
    ):
        datasets.load_coco(str(path), None, categories=["dog"])
    (tmp_path / "bad.json").write_text('{"images": []}')
    with pytest.raises(
        FormatError, match="a COCO file needs 'images', 'annotations' and 'categories'"
    ):
        datasets.load_coco(str(tmp_path / "bad.json"), None)


def test_load_shapes_is_reproducible_and_draws_what_it_annotates() -> None:
    first = datasets.load_shapes(n_scenes=4, width=96, height=80)
    again = datasets.load_shapes(n_scenes=4, width=96, height=80)
    assert [[a.x1y1x2y2() for a in s.annotations] for s in first] == [
        [a.x1y1x2y2() for a in s.annotations] for s in again
    ]
    assert first.categories == datasets.ShapeAnnotationConfig
    colors = {"RED": [255, 0, 0], "BLUE": [0, 0, 255], "GREEN": [0, 255, 0]}
    for scene in first:
        image = scene.image
        assert image.shape == (80, 96, 3) and 1 <= len(scene.annotations) <= 7
        boxes = scene.bboxes()[:, :4]
        inter = np.minimum(boxes[:, None, 2:], boxes[None, :, 2:]) - np.maximum(
            boxes[:, None, :2], boxes[None, :, :2]
        )
        overlaps = (inter > 0).all(axis=2)
        assert overlaps.sum() == len(boxes)  # each box overlaps itself only
        for a in scene.annotations:
            x, y = int(a.x1 + a.x2) // 2, int(a.y1 + a.y2) // 2
            assert image[y, x].tolist() == colors[a.category.name.split()[0]]
    polygons = datasets.load_shapes(n_scenes=2, polygons=True)
    assert all(not a.is_rect for s in polygons for a in s.annotations)
    labelled = datasets.load_shapes(n_scenes=3, classification=True, width=32, height=40)
    for scene in labelled:
        (ann,) = scene.annotations
        assert ann.x2 - ann.x1 == 32 and [label.category for label in scene.labels] == [
            ann.category
        ]
    assert datasets.load_shapes(2, random_state=1)[0].annotations != first[0].annotations


def voc_devkit(root: Path) -> None:
    """A two-image VOC 2012 tree in lower case (as some extractions give it)."""
    base = root / "vocdevkit" / "voc2012"
    for name, box in (("2008_000001", ("dog", 1, 1, 9, 9)), ("2008_000002", ("cat", 2, 2, 8, 8))):
        write_image(base / "jpegimages" / f"{name}.jpg")
        write_voc(base / "annotations" / f"{name}.xml", f"{name}.jpg", [box])
    (base / "imagesets" / "main").mkdir(parents=True)
    (base / "imagesets" / "main" / "train.txt").write_text("2008_000001\n")
    (base / "imagesets" / "main" / "val.txt").write_text("2008_000002\n\n")


def test_load_voc2012_from_a_folder(tmp_path: Path, monkeypatch) -> None:
    voc_devkit(tmp_path)
    train = datasets.load_voc2012(directory=tmp_path)
    assert train.categories == datasets.VOCCategories
    assert [a.category.name for s in train for a in s.annotations] == ["dog"]
    both = datasets.load_voc2012("trainval", directory=tmp_path)
    assert [Path(s.image_source.path).name for s in both] == ["2008_000001.jpg", "2008_000002.jpg"]
    with pytest.raises(
        ValidationError, match="subset must be 'train', 'val' or 'trainval', got 'test'"
    ):
        datasets.load_voc2012("test", directory=tmp_path)
    # By default it looks where the original downloaded to.
    monkeypatch.setenv("MIRA_CACHE", str(tmp_path / "cache"))
    expected = tmp_path / "cache" / "datasets" / "voc2012" / "VOCtrainval_11-May-2012"
    with pytest.raises(
        MissingDataError,
        match=re.escape(f"PASCAL VOC 2012 not found in {expected} (expected VOCdevkit/VOC2012"),
    ):
        datasets.load_voc2012()
    voc_devkit(expected)
    assert len(datasets.load_voc2012("val")) == 1


def test_load_oxfordiiitpets_from_a_folder(tmp_path: Path) -> None:
    for name, kind in (("beagle_12", "dog"), ("Abyssinian_3", "cat"), ("beagle_4", "dog")):
        write_image(tmp_path / "images" / f"{name}.jpg")
        write_voc(
            tmp_path / "annotations" / "xmls" / f"{name}.xml", f"{name}.jpg", [(kind, 1, 1, 5, 5)]
        )
    breeds = datasets.load_oxfordiiitpets(directory=tmp_path)
    assert breeds.categories.names == ["Abyssinian", "beagle"]
    assert [s.annotations[0].category.name for s in breeds] == ["Abyssinian", "beagle", "beagle"]
    assert breeds[0].image_source.path == str(tmp_path / "images" / "Abyssinian_3.jpg")
    kinds = datasets.load_oxfordiiitpets(breed=False, directory=tmp_path)
    assert [s.annotations[0].category.name for s in kinds] == ["cat", "dog", "dog"]
    with pytest.raises(
        MissingDataError,
        match=re.escape(
            f"Oxford-IIIT Pet not found in {tmp_path / 'x'} (expected images/ and annotations/xmls/)"
        ),
    ):
        datasets.load_oxfordiiitpets(directory=tmp_path / "x")


def test_load_random_images_from_a_folder(tmp_path: Path) -> None:
    write_image(tmp_path / "b.png", 10, 8)
    write_image(tmp_path / "a.jpg.png", 4, 3)
    (tmp_path / "notes.txt").write_text("not an image")
    collection = datasets.load_random_images(directory=tmp_path)
    assert [s.dimensions for s in collection] == [(4, 3), (10, 8)]
    assert len(collection.categories) == 0 and all(not s.annotations for s in collection)
    with pytest.raises(
        MissingDataError, match=re.escape(f"{tmp_path / 'none'}: no such folder of images")
    ):
        datasets.load_random_images(directory=tmp_path / "none")
