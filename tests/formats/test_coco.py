"""COCO: the hand-written file in COCO's own shape, exports read back by pycocotools and
globox, and import → export → import round trips."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mira.core import Annotation, Categories, Label, Scene, SceneCollection
from mira.core.image import encode_image
from mira.errors import FormatError, ImageError
from mira.formats.coco_rle import rasterize
from mira.formats.interchange import load
from tests.conftest import make_image

DATA = Path(__file__).resolve().parents[1] / "data" / "coco"
INSTANCES = DATA / "annotations" / "instances_val2017.json"
RESULTS = DATA / "annotations" / "results_val2017.json"


def export(collection: SceneCollection, out: Path, part: str = "val", **options) -> dict:
    return collection.to_coco(out, part=part, **options)


def test_the_hand_written_file_in_cocos_shape():
    collection, report = load("coco", INSTANCES)
    assert collection.categories.names == ["person", "dog", "bed"]
    assert [s.key for s in collection] == ["000000", "000001", "000002"]
    assert [s.dimensions for s in collection] == [(40, 30), (30, 40), (40, 30)]
    first, crowd, empty = collection
    assert Path(first.image_source.path) == DATA / "val2017" / "000000000139.jpg"
    dog_rings = [a for a in first.annotations if a.category.name == "dog"]
    assert [a.points.tolist() for a in dog_rings] == [
        [[10.5, 4.25], [20.0, 4.25], [20.0, 12.75], [10.5, 12.75]],
        [[24.0, 20.0], [30.5, 20.0], [27.25, 26.5]],
    ]
    assert dog_rings[0].metadata == {"coco": {"iscrowd": 0, "id": 1768}}
    # The crowd RLE: a 12x16 block with a 3x3 hole (a keyhole) and a 5x4 block, 203 pixels.
    parts = [a for a in crowd.annotations if a.category.name == "person"]
    assert [a.x1y1x2y2() for a in parts] == [(4.0, 5.0, 16.0, 21.0), (20.0, 30.0, 25.0, 34.0)]
    assert [a.area() for a in parts] == [183.0, 20.0]
    assert parts[0].metadata == {"coco": {"iscrowd": 1, "id": 900100285, "rle": "counts"}}
    assert empty.annotations == []
    assert first.metadata["coco"]["image"]["coco_url"].endswith("000000000139.jpg")
    assert first.metadata["coco"]["license"]["name"] == "Attribution License"
    assert first.metadata["coco"]["info"]["year"] == 2017
    assert first.metadata["coco"]["categories"] == {
        "dog": {"supercategory": "animal", "id": 18},
        "person": {"supercategory": "person", "id": 1},
        "bed": {"supercategory": "furniture", "id": 65},  # no annotation uses it
    }
    assert (report["scenes"], report["objects"], report["annotations"]) == (3, 4, 6)
    assert report["categories"]["dog"] == {"annotations": 3, "labels": 0}
    assert report["skipped"] == {"missing": 0, "short_ring": 0, "empty_mask": 0, "no_geometry": 0}


def test_a_results_file_gives_scored_annotations_on_the_same_images():
    collection, report = load("coco", INSTANCES, results=RESULTS)
    boxes = [(a.category.name, a.x1y1x2y2(), a.score) for a in collection[0].annotations]
    assert boxes == [
        ("dog", (10.25, 4.5, 29.75, 12.5), 0.912),
        ("person", (1.0, 1.5, 8.25, 9.0), 0.5),
    ]
    (mask,) = collection[1].annotations  # a compressed RLE string: a 9x7 block
    assert (mask.x1y1x2y2(), mask.area(), mask.score) == ((3.0, 2.0, 12.0, 9.0), 63.0, 0.75)
    assert mask.metadata == {"coco": {"rle": "compressed"}}
    assert report["objects"] == 3


def test_export_gives_the_same_ids_and_fields_back(tmp_path):
    report = export(SceneCollection.from_coco(INSTANCES), tmp_path / "out")
    written = json.loads((tmp_path / "out" / "annotations" / "instances_val.json").read_text())
    original = json.loads(INSTANCES.read_text())
    assert written["info"] == original["info"]
    assert sorted(written["licenses"], key=lambda e: e["id"]) == original["licenses"]
    assert written["categories"] == [
        {"id": c["id"], "name": c["name"], "supercategory": c["supercategory"]}
        for c in original["categories"]
    ]
    assert written["images"] == original["images"]  # every field, the same order of images
    by_id = {a["id"]: a for a in original["annotations"]}
    assert sorted(a["id"] for a in written["annotations"]) == sorted(by_id)
    for annotation in written["annotations"]:
        source = by_id[annotation["id"]]
        same = ("image_id", "category_id", "iscrowd", "segmentation")
        assert {k: annotation[k] for k in same} == {k: source[k] for k in same}
    boxes = {a["id"]: a["bbox"] for a in written["annotations"]}
    assert boxes[1768] == [10.5, 4.25, 20.0, 22.25] and boxes[900100285] == [4, 5, 21, 29]
    areas = {a["id"]: a["area"] for a in written["annotations"]}
    assert areas == {1768: 80.75 + 21.125, 900100285: 203, 453991: 56.0, 2011: 40.375}
    assert report["ids_changed"] == {"images": 0, "annotations": 0, "categories": 0}
    assert sorted(p.name for p in (tmp_path / "out" / "images" / "val").iterdir()) == [
        "000000000139.jpg",
        "000000000285.jpg",
        "000000000632.jpg",
    ]
    image = tmp_path / "out" / "images" / "val" / "000000000139.jpg"
    assert image.read_bytes() == (DATA / "val2017" / "000000000139.jpg").read_bytes()


def test_pycocotools_loads_the_export_and_its_mask_areas_are_ours(tmp_path):
    from pycocotools.coco import COCO

    export(SceneCollection.from_coco(INSTANCES), tmp_path / "out")
    coco = COCO(str(tmp_path / "out" / "annotations" / "instances_val.json"))
    assert sorted(coco.getImgIds()) == [139, 285, 632]
    assert [c["name"] for c in coco.loadCats(coco.getCatIds())] == ["person", "dog", "bed"]
    crowd = coco.loadAnns([900100285])[0]
    assert coco.annToMask(crowd).sum() == crowd["area"] == 203  # RLE: exactly the same pixels
    for annotation in coco.loadAnns(coco.getAnnIds()):
        # pycocotools rasterises float polygons its own way: they differ by at most the
        # pixels the outline crosses (here by 0 to 2 pixels)
        _, _, w, h = annotation["bbox"]
        assert abs(coco.annToMask(annotation).sum() - annotation["area"]) <= 2 * (w + h)


def test_pycocotools_masks_of_pixel_edge_polygons_are_exactly_ours(tmp_path):
    """Polygons along pixel edges (every RLE read) rasterise to the same pixels in both."""
    from pycocotools.coco import COCO

    categories = Categories(["blob"])
    ring = [[2, 2], [12, 2], [12, 6], [8, 6], [8, 10], [2, 10]]
    annotation = Annotation(categories["blob"], points=ring)
    scene = Scene(categories, encode_image(make_image(16, 12), "png"), [annotation], key="000000")
    export(SceneCollection([scene]), tmp_path / "out")
    coco = COCO(str(tmp_path / "out" / "annotations" / "instances_val.json"))
    (written,) = coco.loadAnns(coco.getAnnIds())
    expected = rasterize([annotation.points], 12, 16)
    assert written["area"] == annotation.area() == expected.sum() == 64
    assert (coco.annToMask(written).astype(bool) == expected).all()


def test_globox_reads_the_same_boxes(tmp_path):
    import globox

    collection = SceneCollection.from_coco(INSTANCES)
    export(collection, tmp_path / "out")
    read = globox.AnnotationSet.from_coco(tmp_path / "out" / "annotations" / "instances_val.json")
    theirs = {
        Path(a.image_id).name: sorted((b.label, b.xmin, b.ymin, b.xmax, b.ymax) for b in a.boxes)
        for a in read
    }
    for scene in collection:
        groups: dict[int, list[Annotation]] = {}
        for a in scene.annotations:
            groups.setdefault(a.metadata["coco"]["id"], []).append(a)
        ours = sorted(
            (
                g[0].category.name,
                min(a.x1 for a in g),
                min(a.y1 for a in g),
                max(a.x2 for a in g),
                max(a.y2 for a in g),
            )
            for g in groups.values()
        )
        name = scene.metadata["coco"]["image"]["file_name"]
        assert len(theirs[name]) == len(ours)
        for mine, other in zip(ours, theirs[name], strict=True):
            assert mine[0] == other[0]
            assert np.allclose(mine[1:], other[1:], rtol=1e-6, atol=0)


def test_scenes_from_elsewhere_get_ids_names_and_only_detection_classes(tmp_path, scene):
    """A scene without COCO metadata: ids from 1 in class order, image named by key; a
    category used only by labels is no COCO category; labels and masks are counted."""
    categories = Categories(["sunny", "dog", "cat"])
    moved = scene.assign(categories=categories, labels=[Label(categories["sunny"])])
    report = export(SceneCollection([moved]), tmp_path / "out")
    written = json.loads((tmp_path / "out" / "annotations" / "instances_val.json").read_text())
    assert written["categories"] == [{"id": 1, "name": "dog"}, {"id": 2, "name": "cat"}]
    assert written["images"] == [{"id": 1, "file_name": "000000.jpg", "width": 64, "height": 48}]
    assert [(a["id"], a["category_id"], a["bbox"]) for a in written["annotations"]] == [
        (1, 1, [1.5, 2.25, 8.625, 17.75]),
        (2, 2, [0.0, 0.0, 5.5, 5.0]),
    ]
    assert written["annotations"][0]["segmentation"] == []  # a box has no mask
    assert written["annotations"][1]["score"] == 0.25
    assert "é" not in written["annotations"][1]  # only the metadata under "coco" is written
    assert report["not_written"] == {"labels": 1, "masks": 1}


def test_taken_ids_and_names_are_never_reused(tmp_path):
    collection = SceneCollection.from_coco(INSTANCES)
    twice = SceneCollection([*collection, *(s.assign(key=f"1{s.key}") for s in collection)])
    report = export(twice, tmp_path / "out")
    written = json.loads((tmp_path / "out" / "annotations" / "instances_val.json").read_text())
    image_ids = [i["id"] for i in written["images"]]
    assert image_ids == [139, 285, 632, 1, 2, 3]
    assert [i["file_name"] for i in written["images"]][3:] == [
        "1000000.jpg",
        "1000001.jpg",
        "1000002.jpg",
    ]
    assert len({a["id"] for a in written["annotations"]}) == 8
    assert report["ids_changed"] == {"images": 3, "annotations": 4, "categories": 0}


def test_missing_images_are_an_error_or_counted(tmp_path):
    shutil.copytree(DATA, tmp_path / "coco")
    (tmp_path / "coco" / "val2017" / "000000000285.jpg").unlink()
    path = tmp_path / "coco" / "annotations" / "instances_val2017.json"
    with pytest.raises(ImageError, match=r"images\[1\] \(000000000285.jpg\): image file not found"):
        load("coco", path)
    collection, report = load("coco", path, skip_missing=True)
    assert [len(s.annotations) for s in collection] == [3, 0]
    assert report["skipped"]["missing"] == 1


def _with(tmp_path: Path, change) -> Path:
    data = json.loads(INSTANCES.read_text())
    change(data)
    path = tmp_path / "instances_val2017.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["annotations"][2].update(category_id=7),
            r"annotations\[2\]: category_id 7 is not a category",
        ),
        (
            lambda d: d["annotations"][3].update(image_id=5),
            r"annotations\[3\]: image_id 5 is not an image of",
        ),
        (
            lambda d: d["annotations"][0].update(image_id="139"),
            r"annotations\[0\]: image_id must be an integer, got '139'",
        ),
        (
            lambda d: d["annotations"][0]["segmentation"][0].__setitem__(2, "x"),
            r"annotations\[0\]: segmentation ring 0 must be a list of numbers",
        ),
        (
            lambda d: d["annotations"][0]["segmentation"][1].pop(),
            r"annotations\[0\]: segmentation ring 1 has 5 numbers, not x, y pairs",
        ),
        (
            lambda d: d["annotations"][1]["segmentation"].update(size=[30, 40]),
            r"annotations\[1\]: RLE size \[30, 40\] is not the image's",
        ),
        (
            lambda d: d["annotations"][1]["segmentation"]["counts"].append(3),
            r"annotations\[1\]: RLE counts add up to 1203 pixels",
        ),
        (
            lambda d: d["images"][2].update(file_name="../x.jpg"),
            r"images\[2\]: image name '../x.jpg' would leave the image folder",
        ),
        (lambda d: d["images"][1].update(id=139), r"images\[1\]: image id 139 is given twice"),
        (
            lambda d: d["categories"][1].update(name="Person"),
            r"categories: category names must be unique",
        ),
        (lambda d: d.pop("categories"), r"not a COCO instances file: has no 'categories'"),
    ],
)
def test_bad_input_names_the_file_and_the_item(tmp_path, change, message):
    path = _with(tmp_path, change)
    with pytest.raises(FormatError, match=message):
        load("coco", path, images_dir=DATA / "val2017")


def test_invalid_json_is_one_line_naming_the_file(tmp_path):
    path = tmp_path / "cut.json"
    path.write_bytes(INSTANCES.read_bytes()[:2000])
    with pytest.raises(FormatError) as error:
        load("coco", path, images_dir=DATA / "val2017")
    assert str(error.value) == f"{path}: invalid JSON: parse error: premature EOF"
    path.write_text("[1, 2]")
    with pytest.raises(FormatError, match="the top level must be an object, got array"):
        load("coco", path)


@pytest.mark.parametrize(
    "order",
    [
        ("categories", "info", "licenses", "images", "annotations"),  # mira's order
        ("info", "licenses", "images", "categories", "annotations"),
        ("info", "licenses", "images", "annotations", "categories"),  # COCO's order
        ("annotations", "categories", "images", "info", "licenses"),  # images after
    ],
)
def test_members_are_found_in_any_order(tmp_path, order):
    data = json.loads(INSTANCES.read_text())
    path = tmp_path / "instances.json"
    path.write_text(json.dumps({k: data[k] for k in order}))
    collection, report = load("coco", path, images_dir=DATA / "val2017")
    assert collection.categories.names == ["person", "dog", "bed"]
    assert [len(s.annotations) for s in collection] == [3, 3, 0]
    assert report["annotations"] == 6
    assert ("info" in collection[0].metadata["coco"]) == (order.index("info") < 3)


# -- round trips ---------------------------------------------------------------------------

coordinate = st.floats(0, 60, allow_nan=False)


@st.composite
def objects(draw, categories):
    category = categories[draw(st.integers(0, len(categories) - 1))]
    if draw(st.booleans()):
        x1, y1 = draw(coordinate), draw(coordinate)
        return [Annotation(category, x1, y1, x1 + draw(coordinate), y1 + draw(coordinate))]
    rings = draw(
        st.lists(
            st.lists(st.tuples(coordinate, coordinate), min_size=3, max_size=6, unique=True),
            min_size=1,
            max_size=3,
        )
    )
    return [Annotation(category, points=ring) for ring in rings]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_import_export_import_is_the_same(tmp_path_factory, data):
    categories = Categories(["a", "b", "c"])
    image = encode_image(make_image(64, 64), "png")
    scenes = []
    for index in range(data.draw(st.integers(1, 3))):
        groups = data.draw(st.lists(objects(categories), max_size=4))
        annotations = [a for group in groups for a in group]
        scenes.append(Scene(categories, image, annotations, key=f"{index:06d}"))
    folder = tmp_path_factory.mktemp("roundtrip")
    export(SceneCollection(scenes), folder / "one", part="p")
    first = SceneCollection.from_coco(folder / "one" / "annotations" / "instances_p.json")
    export(first, folder / "two", part="p")
    second = SceneCollection.from_coco(folder / "two" / "annotations" / "instances_p.json")
    assert (folder / "one" / "annotations" / "instances_p.json").read_bytes() == (
        folder / "two" / "annotations" / "instances_p.json"
    ).read_bytes()
    for mine, back, original in zip(first, second, scenes, strict=True):
        assert mine.annotations == back.annotations
        assert mine.metadata == back.metadata
        assert len(mine.annotations) == len(original.annotations)
        for got, want in zip(mine.annotations, original.annotations, strict=True):
            assert got.category == want.category and got.is_rect == want.is_rect
            assert np.allclose(got.points, want.points, rtol=1e-12, atol=1e-12)
