"""Label Studio: the hand-written JSON export in tests/data/labelstudio (rectangles, a
rotated rectangle, a polygon, a brush, choices, predictions, cancelled and unlabelled
tasks), where images are found, the export and bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from mira.core import Annotation, Categories, Label, Scene, SceneCollection
from mira.core.image import encode_image
from mira.errors import FormatError, ImageError, ValidationError
from mira.formats.labelstudio import iter_labelstudio
from mira.formats.labelstudio_regions import percent
from tests.conftest import make_image
from tests.formats.labelstudio_brush import brush

DATA = Path(__file__).resolve().parents[1] / "data" / "labelstudio"
EXPORT = DATA / "export.json"
MEDIA = DATA / "media"


def test_the_hand_written_export_reads_exactly():
    report: dict = {}
    kitchen, garden = iter_labelstudio(EXPORT, images_dir=MEDIA, report=report)
    assert kitchen.categories.names == [
        "bottle",
        "cup",
        "indoor",
        "outdoor",
        "plant",
        "spill",
        "table",
    ]
    cup, bottle, table, dot, spill = kitchen.annotations
    assert (cup.category.name, cup.x1y1x2y2(), cup.score) == ("cup", (5.0, 5.0, 15.0, 15.0), None)
    # turned 90 degrees clockwise about its top-left corner (30, 10)
    np.testing.assert_allclose(bottle.points, [[30, 10], [30, 15], [20, 15], [20, 10]], atol=1e-12)
    assert table.point_pairs() == [(0.0, 40.0), (10.0, 24.0), (40.0, 24.0), (50.0, 40.0)]
    assert [dot.category.name, spill.category.name] == ["spill", "spill"]
    assert dot.point_pairs() == [(30.0, 5.0), (31.0, 5.0), (31.0, 6.0), (30.0, 6.0)]
    assert spill.x1y1x2y2() == (10.0, 20.0, 14.0, 23.0) and spill.area() == 12
    assert kitchen.labels == [Label(kitchen.categories["indoor"])]
    assert kitchen.metadata == {
        "labelstudio": {"task": 1, "image": "/data/upload/1/6b1f1c2e-kitchen.jpg"}
    }
    assert kitchen.image_source.path == str(MEDIA / "upload/1/6b1f1c2e-kitchen.jpg")
    assert [(a.category.name, a.x1y1x2y2()) for a in garden.annotations] == [
        ("plant", (8.0, 6.0, 24.0, 18.0))
    ]
    assert [label.category.name for label in garden.labels] == ["outdoor"]
    assert report["skipped"] == {"unlabelled": 1, "cancelled": 1, "missing": 0}
    assert report["unsupported"] == {"keypointlabels": 1}
    assert (report["scenes"], report["annotations"], report["labels"]) == (2, 6, 2)


def test_predictions_are_read_with_their_scores():
    report: dict = {}
    (kitchen,) = iter_labelstudio(
        EXPORT, images_dir=MEDIA, pre_annotations="predictions", report=report
    )
    assert kitchen.categories.names == ["cup"]
    (cup,) = kitchen.annotations
    assert (cup.x1y1x2y2(), cup.score) == ((4.0, 4.0, 16.0, 16.0), 0.87)
    assert report["skipped"] == {"unlabelled": 3, "cancelled": 0, "missing": 0}
    with pytest.raises(
        ValidationError,
        match=r"pre_annotations must be one of annotations, predictions; got 'drafts'",
    ):
        iter_labelstudio(EXPORT, images_dir=MEDIA, pre_annotations="drafts")


def one_task(tmp_path, image: str, result=None, **task) -> Path:
    path = tmp_path / "export.json"
    region = {
        "original_width": 50,
        "original_height": 40,
        "image_rotation": 0,
        "value": {"x": 10, "y": 10, "width": 20, "height": 20, "rectanglelabels": ["cup"]},
        "id": "a",
        "from_name": "label",
        "to_name": "image",
        "type": "rectanglelabels",
    }
    entry = {"id": 5, "result": [region] if result is None else result, "was_cancelled": False}
    path.write_text(
        json.dumps([{"id": 7, "annotations": [entry], "data": {"image": image}, **task}])
    )
    return path


@pytest.mark.parametrize(
    ("reference", "where"),
    [
        ("/data/upload/1/6b1f1c2e-kitchen.jpg", "flat/6b1f1c2e-kitchen.jpg"),
        ("/data/local-files/?d=photos%2Fkitchen.jpg", "photos/kitchen.jpg"),
        ("s3://bucket/photos/kitchen.jpg", "photos/kitchen.jpg"),
        ("https://example.org/static/kitchen.jpg?sig=1", "flat/kitchen.jpg"),
    ],
)
def test_served_images_are_found_under_images_dir(tmp_path, reference, where):
    images = tmp_path / "images"
    (images / where).parent.mkdir(parents=True)
    shutil.copy(MEDIA / "upload/1/6b1f1c2e-kitchen.jpg", images / where)
    if where.startswith("flat/"):  # found by its file name alone
        shutil.move(images / where, images / Path(where).name)
        where = Path(where).name
    (scene,) = iter_labelstudio(one_task(tmp_path, reference), images_dir=images)
    assert scene.image_source.path == str(images / where)
    assert scene.annotations[0].x1y1x2y2() == (5.0, 4.0, 15.0, 12.0)


def test_a_relative_image_is_found_beside_the_export(tmp_path):
    shutil.copy(MEDIA / "upload/1/0d9e4a7b-garden.png", tmp_path / "garden.png")
    (scene,) = iter_labelstudio(one_task(tmp_path, "garden.png"))
    assert scene.image_source.path == str(tmp_path / "garden.png")


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        (
            "/data/upload/1/a.jpg",
            r"task 0 \(id 7\): image '/data/upload/1/a.jpg' is served by Label Studio or a storage; put a copy",
        ),
        (
            "/home/me/a.jpg",
            r"task 0 \(id 7\): image name '/home/me/a.jpg' would leave the image folder",
        ),
        ("../a.jpg", r"image name '../a.jpg' would leave the image folder"),
        ("data:image/png;base64,AAAA", r"images in data: URIs are not supported"),
    ],
)
def test_images_that_cannot_be_found_safely_are_errors(tmp_path, reference, message):
    with pytest.raises(FormatError, match=message):
        list(iter_labelstudio(one_task(tmp_path, reference)))


def test_a_missing_image_is_an_error_unless_skipped_and_counted(tmp_path):
    path = one_task(tmp_path, "nope.jpg")
    with pytest.raises(ImageError, match=r"task 0 \(id 7\): image file not found: .*nope.jpg"):
        list(iter_labelstudio(path))
    report: dict = {}
    assert list(iter_labelstudio(path, skip_missing=True, report=report)) == []
    assert report["skipped"]["missing"] == 1


def rectangle(**value):
    return {
        "original_width": 50,
        "original_height": 40,
        "value": {"x": 10, "y": 10, "width": 20, "height": 20, "rectanglelabels": ["cup"], **value},
        "type": "rectanglelabels",
    }


@pytest.mark.parametrize(
    ("result", "message"),
    [
        ([rectangle(x="10")], r"task 0 \(id 7\): result 0.value.x: expected a number, got '10'"),
        ([rectangle(width=-1)], r"result 0: a rectangle cannot have a negative width or height"),
        (
            [
                {
                    "type": "polygonlabels",
                    "value": {"points": [[0, 0], [1, 1]], "polygonlabels": ["cup"]},
                }
            ],
            r"result 0: a polygon needs at least 3 points, got 2",
        ),
        (
            [{"type": "polygonlabels", "value": {"points": [[0, 0, 1]], "polygonlabels": ["cup"]}}],
            r"result 0: value.points\[0\] must be \[x, y\]",
        ),
        (
            [
                {
                    "type": "brushlabels",
                    "original_width": 50,
                    "original_height": 40,
                    "value": {
                        "format": "rle",
                        "rle": [0, 0, 0, 4, 0, 0, 0, 0],
                        "brushlabels": ["cup"],
                    },
                }
            ],
            r"result 0: the brush RLE holds 4 values, but its canvas has 8000",
        ),
        (
            [
                {
                    "type": "brushlabels",
                    "value": {"format": "rle", "rle": [1], "brushlabels": ["cup"]},
                }
            ],
            r"result 0: a brush needs original_width and original_height",
        ),
        ([{"type": "choices", "value": "indoor"}], r"result 0: 'value' must be an object"),
        (["box"], r"result 0: a result must be an object"),
    ],
)
def test_bad_results_are_errors_naming_task_and_result(tmp_path, result, message):
    shutil.copy(MEDIA / "upload/1/6b1f1c2e-kitchen.jpg", tmp_path / "k.jpg")
    with pytest.raises(FormatError, match=message):
        list(iter_labelstudio(one_task(tmp_path, "k.jpg", result), categories=["cup"]))


def test_regions_mira_cannot_place_are_counted(tmp_path):
    shutil.copy(MEDIA / "upload/1/6b1f1c2e-kitchen.jpg", tmp_path / "k.jpg")
    results = [
        {**rectangle(), "image_rotation": 90},
        rectangle(rectanglelabels=[]),
        {"type": "relation", "from_id": "a", "to_id": "b"},
    ]
    report: dict = {}
    (scene,) = iter_labelstudio(
        one_task(tmp_path, "k.jpg", results), categories=["cup"], report=report
    )
    assert scene.annotations == []
    assert report["unsupported"] == {
        "region on a turned image": 1,
        "rectanglelabels without a label": 1,
        "relation": 1,
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"tasks": []}', r"not a Label Studio JSON export: the top level must be a list of tasks"),
        ('[{"data": {}}, 3]', r"task 1: a task must be an object"),
        (
            '[{"data": {"image": "a.jpg"}, "annotations": [{"result": []}]}, {"data": ',
            r"invalid JSON in task 1: parse error: premature EOF",
        ),
        ("[NaN]", r"invalid JSON in task 0: lexical error: invalid"),
        ("", r"invalid JSON in task 0: parse error: premature EOF"),
    ],
)
def test_bad_json_is_an_error_naming_the_task(tmp_path, text, message):
    path = tmp_path / "export.json"
    path.write_text(text)
    with pytest.raises(FormatError, match=message) as error:
        iter_labelstudio(path)
    assert str(error.value).startswith(str(path))


def test_a_task_without_its_image_key_is_named(tmp_path):
    path = one_task(tmp_path, "k.jpg")
    with pytest.raises(
        FormatError, match=r"task 0 \(id 7\): data has no image 'picture' \(keys: image\)"
    ):
        list(iter_labelstudio(path, image_key="picture"))


def test_the_export_is_label_studio_tasks_with_pre_annotations(tmp_path):
    categories = Categories(["cat", "indoor"])
    scene = Scene(
        categories,
        encode_image(make_image(20, 10), "png"),
        annotations=[
            Annotation(categories["cat"], 1, 2, 11, 7, score=0.75),
            Annotation(categories["cat"], points=[[0, 0], [5, 0], [5, 5]], metadata={"a": 1}),
        ],
        labels=[Label(categories["indoor"], score=0.5)],
        key="000003",
    )
    report = SceneCollection([scene]).to_labelstudio(
        tmp_path / "out", part="train", url_prefix="/data/local-files/?d=out/"
    )
    (task,) = json.loads((tmp_path / "out" / "train.json").read_text())
    assert task == {
        "data": {"image": "/data/local-files/?d=out/images/train/000003.png"},
        "predictions": [
            {
                "result": [
                    {
                        "id": "r0",
                        "type": "rectanglelabels",
                        "from_name": "label",
                        "to_name": "image",
                        "original_width": 20,
                        "original_height": 10,
                        "image_rotation": 0,
                        "value": {
                            "x": 5.0,
                            "y": 20.0,
                            "width": 50.0,
                            "height": 50.0,
                            "rotation": 0,
                            "rectanglelabels": ["cat"],
                        },
                        "score": 0.75,
                    },
                    {
                        "id": "r1",
                        "type": "polygonlabels",
                        "from_name": "polygon",
                        "to_name": "image",
                        "original_width": 20,
                        "original_height": 10,
                        "image_rotation": 0,
                        "value": {
                            "points": [[0.0, 0.0], [25.0, 0.0], [25.0, 50.0]],
                            "closed": True,
                            "polygonlabels": ["cat"],
                        },
                    },
                    {
                        "id": "r2",
                        "type": "choices",
                        "from_name": "choice",
                        "to_name": "image",
                        "value": {"choices": ["indoor"]},
                    },
                ]
            }
        ],
    }
    assert (
        (tmp_path / "out" / "labeling_config.xml").read_text()
        == """\
<View>
  <Image name="image" value="$image" />
  <RectangleLabels name="label" toName="image">
    <Label value="cat" />
  </RectangleLabels>
  <PolygonLabels name="polygon" toName="image">
    <Label value="cat" />
  </PolygonLabels>
  <Choices name="choice" toName="image" choice="multiple">
    <Choice value="indoor" />
  </Choices>
</View>
"""
    )
    assert report["not_written"] == {"scores": 1, "masks": 0, "metadata": 1}
    assert (tmp_path / "out" / "images" / "train" / "000003.png").exists()


def test_the_export_round_trips_to_the_same_scenes(tmp_path):
    collection = SceneCollection.from_labelstudio(EXPORT, images_dir=MEDIA)
    collection.to_labelstudio(tmp_path / "out", pre_annotations="annotations")
    again = SceneCollection.from_labelstudio(tmp_path / "out" / "default.json")
    assert again.categories == collection.categories
    for before, after in zip(collection, again, strict=True):
        assert after.annotations == before.annotations
        assert after.labels == before.labels
        assert after.metadata["labelstudio"]["image"] == (
            "images/default/" + Path(before.metadata["labelstudio"]["image"]).name
        )


def test_a_brush_scaled_from_a_smaller_canvas_lands_on_the_image(tmp_path):
    shutil.copy(MEDIA / "upload/1/6b1f1c2e-kitchen.jpg", tmp_path / "k.jpg")  # 50x40
    mask = np.zeros((4, 5), dtype=bool)
    mask[1:3, 1:4] = True
    result = {
        "type": "brushlabels",
        "original_width": 5,
        "original_height": 4,
        "value": {"format": "rle", "rle": brush(mask), "brushlabels": ["cup"]},
    }
    (scene,) = iter_labelstudio(one_task(tmp_path, "k.jpg", [result]), categories=["cup"])
    assert scene.annotations[0].x1y1x2y2() == (10.0, 10.0, 40.0, 30.0)


@pytest.mark.parametrize("share", [0.0, 1.0, 12.5, 13.37, 33.333333333333336, 99.99999999, 1e-9])
@pytest.mark.parametrize("size", [3, 50, 640, 4001])
def test_percentages_read_back_as_the_pixels_they_gave(share, size):
    pixels = share * size / 100
    assert percent(pixels, size) * size / 100 == pixels
    start = 0.1 * size
    end = start + share * size / 100
    assert start + percent(end, size, start) * size / 100 == end


@pytest.mark.parametrize("pixels", [1e-9, 31.41592653589793, 0.3])
def test_other_pixels_are_within_a_rounding(pixels):
    assert percent(pixels, 640) * 640 / 100 == pytest.approx(pixels, rel=1e-15)


def test_further_annotations_are_counted_and_a_lone_data_value_is_the_image(tmp_path):
    shutil.copy(MEDIA / "upload/1/6b1f1c2e-kitchen.jpg", tmp_path / "k.jpg")
    path = one_task(tmp_path, "k.jpg")
    tasks = json.loads(path.read_text())
    tasks[0]["annotations"].append(dict(tasks[0]["annotations"][0], id=6))
    tasks[0]["data"] = {"picture": "k.jpg"}
    path.write_text(json.dumps(tasks))
    report: dict = {}
    (scene,) = iter_labelstudio(path, report=report)
    assert report["unsupported"] == {"further annotations of a task": 1}
    assert scene.metadata == {"labelstudio": {"task": 7, "image": "k.jpg"}}


def test_a_malformed_task_fails_before_any_scene(tmp_path):
    path = one_task(tmp_path, "k.jpg", annotations={"result": []})
    with pytest.raises(FormatError, match=r"task 0 \(id 7\): 'annotations' must be a list"):
        iter_labelstudio(path)
    path = one_task(tmp_path, "k.jpg", predictions=[{"result": "none"}])
    with pytest.raises(
        FormatError, match=r"task 0 \(id 7\): predictions\[0\].result must be a list"
    ):
        iter_labelstudio(path, pre_annotations="predictions")


def test_a_box_of_no_height_whose_top_edge_rounds_up_exports_height_zero():
    # 5 px of 30 is 16.666...%, which reads back as 5.000000000000001: the height of the
    # box (5 to 5) would be a hair below zero, which the reader refuses
    y = percent(5.0, 30)
    assert y * 30 / 100 > 5.0
    assert percent(5.0, 30, y * 30 / 100) == 0.0
