"""YOLO: hand-written datasets in Ultralytics' layout, exports read back by globox, and
import → export → import round trips."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mira.core import Annotation, Categories, Label, Scene, SceneCollection
from mira.core.image import encode_image
from mira.errors import FormatError, ImageError, ValidationError
from mira.formats.interchange import load
from mira.formats.yolo import label_path
from tests.conftest import make_image

DATA = Path(__file__).resolve().parents[1] / "data" / "yolo"


def test_the_hand_written_detect_dataset():
    collection, report = load("yolo", DATA / "detect" / "data.yaml")
    assert collection.categories.names == ["person", "bicycle", "car"]
    assert [s.metadata["yolo"] for s in collection] == [
        {"part": "train", "file": "000000000009.jpg"},
        {"part": "train", "file": "000000000025.jpg"},
        {"part": "val", "file": "000000000030.jpg"},
        {"part": "val", "file": "000000000034.jpg"},
    ]
    first, second, empty, unlabelled = collection
    car = first.annotations[1]
    assert (car.category.name, car.is_rect) == ("car", True)
    assert np.allclose(car.x1y1x2y2(), (12.0, 10.000008, 20.0, 19.999992), rtol=0, atol=1e-12)
    assert second.annotations[0].x1y1x2y2() == (18.0, 26.0, 30.0, 38.0)  # 48x64 image
    assert empty.annotations == [] and unlabelled.annotations == []
    assert report["parts"] == {"train": 2, "val": 2}
    assert report["label_files"] == {"missing": 1, "empty": 1}
    assert report["categories"]["person"] == {"annotations": 2, "labels": 0}


def test_the_hand_written_segment_dataset_and_a_names_list():
    collection, report = load("yolo", DATA / "segment", part="train")
    assert collection.categories.names == ["person", "car"]
    pentagon = collection[1].annotations[0]  # 50x40 PNG
    assert pentagon.points.tolist() == [
        [10.0, 10.0],
        [30.0, 10.0],
        [30.0, 30.0],
        [10.0, 30.0],
        [5.0, 20.0],
    ]
    assert report["parts"] == {"train": 2}


def test_the_label_path_rule_is_ultralytics():
    assert label_path("/d/images/train/a.b.jpg") == "/d/labels/train/a.b.txt"
    assert label_path("/images/x/images/y/c.png") == "/images/x/labels/y/c.txt"
    assert label_path("/d/pictures/c.png") == "/d/pictures/c.txt"


def test_txt_lists_a_validation_key_and_missing_images(tmp_path):
    root = tmp_path / "ds"
    shutil.copytree(DATA / "detect", root)
    (root / "val.txt").write_text("./images/val/000000000030.jpg\n./images/val/gone.jpg\n")
    (root / "data.yaml").write_text("train: images/train\nvalidation: val.txt\nnames: [a, b, c]\n")
    with pytest.raises(ImageError, match=r"val.txt: line 2: image file not found: .*gone.jpg"):
        list(load("yolo", root)[0])
    collection, report = load("yolo", root, part="val", skip_missing=True)
    assert [s.metadata["yolo"] for s in collection] == [{"part": "val", "file": "000000000030.jpg"}]
    assert report["skipped"]["missing"] == 1


def test_pose_rows_give_boxes_and_count_keypoints(tmp_path):
    root = tmp_path / "pose"
    shutil.copytree(DATA / "detect", root)
    (root / "data.yaml").write_text(
        "train: images/train\nkpt_shape: [2, 3]\nnames: [person, b, c]\n"
    )
    (root / "labels" / "train" / "000000000025.txt").write_text(
        "0 0.5 0.5 0.25 0.25 0.1 0.2 2 0.3 0.4 1\n"
    )
    (root / "labels" / "train" / "000000000009.txt").write_text("")
    collection, report = load("yolo", root)
    assert collection[1].annotations[0].x1y1x2y2() == (18.0, 24.0, 30.0, 40.0)
    assert report["unsupported"] == {"keypoints": 2}


def _dataset_with_row(tmp_path: Path, row: str, names: str = "[a, b, c]") -> Path:
    root = tmp_path / "bad"
    shutil.copytree(DATA / "detect", root)
    (root / "data.yaml").write_text(f"train: images/train\nnames: {names}\n")
    (root / "labels" / "train" / "000000000009.txt").write_text(f"0 0.5 0.5 0.1 0.1\n\n{row}\n")
    return root


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("3 0.5 0.5 0.1 0.1", "line 3: class 3 is not one of the 3 classes"),
        ("x 0.5 0.5 0.1 0.1", "line 3: the class must be an integer, got 'x'"),
        ("1 0.5 zero 0.1 0.1", "line 3: coordinates must be numbers: '1 0.5 zero 0.1 0.1'"),
        ("1 0.5 0.5 nan 0.1", "line 3: coordinates must be finite numbers"),
        ("1 0.5 0.5 -0.1 0.1", "line 3: box width and height must not be negative"),
        (
            "1 0.5 0.5 0.1",
            "line 3: expected 'class cx cy w h' or a class and at least 3 x y pairs, got 4 values",
        ),
        (
            "1 0.1 0.1 0.2 0.2 0.3",
            "line 3: expected 'class cx cy w h' or a class and at least 3 x y pairs, got 6 values",
        ),
    ],
)
def test_a_bad_row_names_the_label_file_and_line(tmp_path, row, message):
    root = _dataset_with_row(tmp_path, row)
    label = root / "labels" / "train" / "000000000009.txt"
    with pytest.raises(FormatError) as error:
        load("yolo", root)
    assert str(error.value) == f"{label}: {message}"


@pytest.mark.parametrize(
    ("yaml", "error", "message"),
    [
        (
            "train: images/train\nnames: {0: a, 2: b}\n",
            FormatError,
            r"names must be numbered 0 to 1",
        ),
        (
            "train: images/train\nnames: [a, b]\nnc: 3\n",
            FormatError,
            r"nc is 3 but names has 2 entries",
        ),
        ("train: images/train\n", FormatError, r"needs 'names' \(or 'nc'"),
        ("train: images/nowhere\nnames: [a]\n", FormatError, r"train: images/nowhere not found"),
        ("names: [a]\n", FormatError, r"names no part \(train, val or test\)"),
        ("train: [images/train\n", FormatError, r"invalid YAML"),
    ],
)
def test_a_bad_data_yaml_is_one_clear_error(tmp_path, yaml, error, message):
    root = tmp_path / "ds"
    shutil.copytree(DATA / "detect", root)
    (root / "data.yaml").write_text(yaml)
    with pytest.raises(error, match=message):
        load("yolo", root / "data.yaml")


def test_an_unknown_part_is_a_validation_error():
    with pytest.raises(ValidationError, match="has no part 'test'"):
        load("yolo", DATA / "detect", part="test")


def test_export_detect_writes_what_ultralytics_reads(tmp_path):
    collection = SceneCollection.from_yolo(DATA / "detect")
    report = collection.to_yolo(tmp_path / "out", part="train")
    assert (tmp_path / "out" / "data.yaml").read_text() == (
        "# Written by mira. Without 'path', Ultralytics finds the parts beside this file.\n"
        "train: images/train\nnc: 3\nnames:\n  0: person\n  1: bicycle\n  2: car\n"
    )
    labels = tmp_path / "out" / "labels" / "train"
    assert sorted(p.name for p in labels.iterdir()) == [
        f"0000000000{n}.txt" for n in ("09", 25, 30, 34)
    ]
    assert (labels / "000000000025.txt").read_text() == "1 0.5 0.5 0.25 0.1875\n"
    assert (labels / "000000000034.txt").read_text() == ""  # a background image
    assert (tmp_path / "out" / "images" / "train" / "000000000025.jpg").read_bytes() == (
        DATA / "detect" / "images" / "train" / "000000000025.jpg"
    ).read_bytes()
    assert report["classes"] == ["person", "bicycle", "car"]
    assert report["parts"] == {"train": 4}


def test_export_segment_writes_polygons_and_boxes_as_four_corners(tmp_path, scene):
    SceneCollection([scene]).to_yolo(tmp_path / "out", task="segment", part="val")
    rows = (tmp_path / "out" / "labels" / "val" / "000000.txt").read_text().splitlines()
    assert rows == [
        "0 0.0234375 0.046875 0.158203125 0.046875 0.158203125 0.4166666666666667 0.0234375 0.4166666666666667",
        "1 0.0 0.0 0.0859375 0.0 0.078125 0.10416666666666667",
    ]


def test_label_only_categories_are_no_classes_and_classes_are_renumbered(tmp_path, scene):
    categories = Categories(["sunny", "dog", "cat"])
    moved = scene.assign(categories=categories, labels=[Label(categories["sunny"])])
    report = SceneCollection([moved]).to_yolo(tmp_path / "out", part="train")
    rows = (tmp_path / "out" / "labels" / "train" / "000000.txt").read_text().splitlines()
    assert [row.split()[0] for row in rows] == ["0", "1"]  # dog, cat
    assert "names:\n  0: dog\n  1: cat\n" in (tmp_path / "out" / "data.yaml").read_text()
    assert report["not_written"] == {"labels": 1, "masks": 1}


def test_globox_reads_the_same_boxes(tmp_path):
    import globox

    collection = SceneCollection.from_yolo(DATA / "detect", part="train")
    collection.to_yolo(tmp_path / "out", part="train")
    read = globox.AnnotationSet.from_yolo_v5(
        tmp_path / "out" / "labels" / "train", image_folder=tmp_path / "out" / "images" / "train"
    )
    for scene in collection:
        boxes = read[Path(scene.metadata["yolo"]["file"]).name].boxes
        theirs = [(int(b.label), b.xmin, b.ymin, b.xmax, b.ymax) for b in boxes]
        ours = [(collection.categories.index(a.category), *a.x1y1x2y2()) for a in scene.annotations]
        assert [t[0] for t in theirs] == [o[0] for o in ours]
        assert np.allclose([t[1:] for t in theirs], [o[1:] for o in ours], rtol=1e-6, atol=0)


coordinate = st.floats(0, 1, allow_nan=False)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), task=st.sampled_from(["detect", "segment"]))
def test_import_export_import_is_the_same(tmp_path_factory, data, task):
    categories = Categories(["a", "b"])
    scenes = []
    for index in range(data.draw(st.integers(1, 3))):
        annotations = []
        for _ in range(data.draw(st.integers(0, 3))):
            category = categories[data.draw(st.integers(0, 1))]
            if task == "detect":
                x1, y1 = data.draw(coordinate) * 40, data.draw(coordinate) * 30
                annotations.append(
                    Annotation(
                        category,
                        x1,
                        y1,
                        x1 + data.draw(coordinate) * 20,
                        y1 + data.draw(coordinate) * 10,
                    )
                )
            else:
                ring = data.draw(
                    st.lists(st.tuples(coordinate, coordinate), min_size=3, max_size=6, unique=True)
                )
                annotations.append(Annotation(category, points=[(x * 40, y * 30) for x, y in ring]))
        image = encode_image(make_image(40, 30, seed=index), "png")
        scenes.append(Scene(categories, image, annotations, key=f"{index:06d}"))
    folder = tmp_path_factory.mktemp("yolo")
    SceneCollection(scenes).to_yolo(folder / "one", part="train", task=task)
    first = SceneCollection.from_yolo(folder / "one")
    first.to_yolo(folder / "two", part="train", task=task)
    second = SceneCollection.from_yolo(folder / "two")
    for mine, back, original in zip(first, second, scenes, strict=True):
        assert (
            mine.metadata
            == back.metadata
            == {"yolo": {"part": "train", "file": f"{original.key}.png"}}
        )
        assert len(mine.annotations) == len(back.annotations) == len(original.annotations)
        for got, again, want in zip(
            mine.annotations, back.annotations, original.annotations, strict=True
        ):
            assert got.category == again.category == want.category
            # normalising divides and multiplies by the image size: equal to ~1 ulp
            assert np.allclose(got.points, want.points, rtol=1e-12, atol=1e-12)
            assert np.allclose(again.points, got.points, rtol=1e-12, atol=1e-12)
