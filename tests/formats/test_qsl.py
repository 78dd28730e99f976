"""QSL projects → scenes: exact annotations, categories, labels, metadata, counts, errors."""

from __future__ import annotations

import base64
import json
import shutil
import struct
import tarfile
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mira.core.image as image_module
from mira.core import Annotation, Categories, Label, Scene, SceneCollection
from mira.errors import FormatError, ImageError, OutputError, ValidationError
from mira.formats import iter_scenes
from mira.formats.qsl import import_qsl, iter_qsl, load_qsl, scene_from_qsl
from mira.formats.qsl_rle import encode_rle

MINIMAL = Path(__file__).parent.parent / "data" / "qsl" / "minimal"

REGIONS = [{"name": "Type", "options": [{"name": "Dog"}, {"name": "Cat"}]}]


def write_image(path: Path, width: int, height: int, ext: str = ".png") -> bytes:
    image = np.zeros((height, width, 3), np.uint8)
    image[: height // 2, : width // 3] = (10, 200, 30)
    ok, buffer = cv2.imencode(ext, image)
    assert ok
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.tobytes())
    return buffer.tobytes()


def write_project(
    folder: Path, items: list[dict[str, Any]], regions=None, image=None, name="project.json"
) -> Path:
    config = {"regions": REGIONS if regions is None else regions, "image": image or []}
    path = folder / name
    path.write_text(json.dumps({"config": config, "items": items}, indent=4))
    return path


def box(x1, y1, x2=None, y2=None, *values, **extra) -> dict[str, Any]:
    region: dict[str, Any] = {"pt1": {"x": x1, "y": y1}, "labels": {"Type": list(values)}}
    if x2 is not None:
        region["pt2"] = {"x": x2, "y": y2}
    region.update(extra)
    return region


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A 200x100 PNG and a 64x48 JPEG under img/."""
    write_image(tmp_path / "img" / "a.png", 200, 100)
    write_image(tmp_path / "img" / "b.jpg", 64, 48, ".jpg")
    return tmp_path


@pytest.fixture
def no_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail if any image is decoded: import reads headers only."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("an image was decoded")

    monkeypatch.setattr(image_module, "decode_image", refuse)


# --------------------------------------------------------------------------- reference project


def test_reference_minimal_project(no_decoding: None, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # base_dir defaults to the project's folder, not the cwd
    collection, report = load_qsl(MINIMAL / "project.json")
    assert len(collection) == 1
    scene = collection[0]
    assert scene.key == "000000"
    assert collection.categories.names == ["Dog", "Cat", "Indoor", "Outdoor"]
    assert scene.categories == collection.categories
    dog, cat, indoor = (scene.categories[n] for n in ("Dog", "Cat", "Indoor"))
    assert scene.annotations == [
        Annotation(dog, 20.0, 20.0, 100.0, 60.0),  # box: 0.1*200, 0.2*100, 0.5*200, 0.6*100
        Annotation(dog, points=[[50, 0], [150, 0], [150, 100], [50, 100]]),  # mask, pixel edges
        Annotation(cat, points=[[0, 0], [100, 0], [100, 50]]),
    ]
    assert scene.labels == [Label(indoor, metadata={"config": "Scene"})]
    assert scene.metadata == {"source": "camera-1", "target": "img/a.png"}
    assert scene.dimensions == (200, 100)
    assert scene.image_source.encoded() == (MINIMAL / "img" / "a.png").read_bytes()
    assert report == {
        "project": str(MINIMAL / "project.json"),
        "label_key": "Type",
        "items": 4,
        "scenes": 1,
        "annotations": 3,
        "labels": 1,
        "categories": {
            "Dog": {"annotations": 2, "labels": 0},
            "Cat": {"annotations": 1, "labels": 0},
            "Indoor": {"annotations": 0, "labels": 1},
            "Outdoor": {"annotations": 0, "labels": 0},
        },
        "skipped": {"ignored": 1, "unlabelled": 1, "non_image": 1, "missing": 0},
        "regions_without_label": 0,
        "empty_masks": 0,
    }


def test_collection_and_scene_delegations(no_decoding: None) -> None:
    collection = SceneCollection.from_qsl(str(MINIMAL / "project.json"), "Type")
    assert len(collection) == 1
    item = json.loads((MINIMAL / "project.json").read_text())["items"][0]
    scene = Scene.from_qsl(item, "Type", collection.categories, base_dir=MINIMAL)
    assert scene.annotations == collection[0].annotations
    assert scene.labels == collection[0].labels
    inferred = Scene.from_qsl(item, "Type", base_dir=MINIMAL)  # sorted region values, then image
    assert inferred.categories.names == ["Cat", "Dog", "Indoor"]
    assert [a.category.name for a in inferred.annotations] == ["Dog", "Dog", "Cat"]


def test_scene_from_qsl_without_base_dir_uses_the_working_directory(monkeypatch) -> None:
    monkeypatch.chdir(MINIMAL)
    item = {"target": "img/a.png", "labels": {"boxes": [box(0, 0, 1, 1, "Dog")]}}
    scene = scene_from_qsl(item, "Type", ["Dog"])
    assert scene.annotations[0].x1y1x2y2() == (0, 0, 200, 100)


# --------------------------------------------------------------------------- label key


def test_label_key_defaults_to_the_only_region_config(project: Path) -> None:
    path = write_project(project, [{"target": "img/a.png", "labels": {}}])
    collection, report = load_qsl(path)
    assert report["label_key"] == "Type" and len(collection[0].annotations) == 0


def test_label_key_is_required_with_several_region_configs(project: Path) -> None:
    regions = [*REGIONS, {"name": "Colour", "options": [{"name": "red"}]}]
    path = write_project(project, [], regions=regions)
    with pytest.raises(ValidationError) as info:
        load_qsl(path)
    assert str(info.value) == (
        f"{path}: the project has 2 region configurations; choose one with "
        "label_key (--label-key): Type, Colour"
    )
    with pytest.raises(ValidationError) as info:
        load_qsl(path, label_key="Size")
    assert str(info.value) == (
        f"{path}: no region configuration named 'Size'; choose one of: Type, Colour"
    )
    collection, _ = load_qsl(path, label_key="Colour")
    assert collection.categories.names == ["red"]


def test_project_without_region_config(project: Path) -> None:
    path = write_project(project, [], regions=[])
    with pytest.raises(ValidationError, match="has no region configuration"):
        load_qsl(path)


def test_region_config_without_options(project: Path) -> None:
    path = write_project(project, [], regions=[{"name": "Type", "freeform": True}])
    with pytest.raises(ValidationError) as info:
        load_qsl(path)
    assert (
        str(info.value)
        == f"{path}: region configuration 'Type' has no options to use as categories"
    )


# --------------------------------------------------------------------------- regions


def test_boxes_keep_float_coordinates_and_are_ordered(project: Path) -> None:
    items = [
        {
            "target": "img/a.png",
            "labels": {
                "boxes": [
                    box(0.123, 0.4567, 0.5, 0.9, "Dog"),
                    box(0.5, 0.9, 0.25, 0.1, "Cat"),  # corners given the other way round
                    box(0.3, 0.3, 0.3, 0.3, "Dog"),  # a point, given as such
                ]
            },
        }
    ]
    collection, _ = load_qsl(write_project(project, items))
    a, b, c = collection[0].annotations
    assert a.x1y1x2y2() == (0.123 * 200, 0.4567 * 100, 0.5 * 200, 0.9 * 100)
    assert a.x1 == 24.6 and a.y1 == 45.67
    assert b.x1y1x2y2() == (0.25 * 200, 0.1 * 100, 0.5 * 200, 0.9 * 100)
    assert c.is_rect and c.x1y1x2y2() == (60.0, 30.0, 60.0, 30.0) and c.area() == 0


def test_multi_valued_labels_give_one_annotation_per_value(project: Path) -> None:
    polygon = {
        "points": [{"x": 0, "y": 0}, {"x": 1, "y": 0}, {"x": 1, "y": 1}],
        "labels": {"Type": ["Cat", "Dog", "Cat"]},
    }
    items = [{"target": "img/a.png", "labels": {"polygons": [polygon]}}]
    collection, report = load_qsl(write_project(project, items))
    assert [a.category.name for a in collection[0].annotations] == ["Cat", "Dog"]
    assert report["categories"] == {
        "Dog": {"annotations": 1, "labels": 0},
        "Cat": {"annotations": 1, "labels": 0},
    }


def test_annotation_order_and_metadata(project: Path) -> None:
    mask = {
        "map": {"counts": encode_rle(np.eye(2)), "dimensions": {"width": 2, "height": 2}},
        "labels": {"Type": ["Cat"], "Occluded": ["yes"]},
        "metadata": {"by": "ann"},
    }
    polygon = {
        "points": [{"x": 0, "y": 0}, {"x": 0.5, "y": 0}, {"x": 0.5, "y": 0.5}, {"x": 0, "y": 0}],
        "labels": {"Type": ["Dog"], "Occluded": []},
    }
    items = [
        {
            "target": "img/a.png",
            "labels": {"polygons": [polygon], "masks": [mask], "boxes": [box(0, 0, 1, 1, "Dog")]},
        }
    ]
    collection, _ = load_qsl(write_project(project, items))
    annotations = collection[0].annotations
    # boxes, then masks (two diagonal pixels: two parts), then polygons (closing point dropped)
    assert [(a.category.name, a.is_rect, len(a.points)) for a in annotations] == [
        ("Dog", True, 4),
        ("Cat", False, 4),
        ("Cat", False, 4),
        ("Dog", False, 3),
    ]
    assert annotations[1].points.tolist() == [[0, 0], [100, 0], [100, 50], [0, 50]]
    assert annotations[2].points.tolist() == [[100, 50], [200, 50], [200, 100], [100, 100]]
    assert annotations[1].metadata == {"by": "ann", "labels": {"Occluded": ["yes"]}}
    assert annotations[3].metadata == {}


def test_mask_with_a_hole_keeps_its_area(project: Path) -> None:
    canvas = np.ones((5, 10), np.uint8)
    canvas[2, 4:6] = 0
    mask = {
        "map": {"counts": encode_rle(canvas), "dimensions": {"width": 10, "height": 5}},
        "labels": {"Type": ["Dog"]},
    }
    collection, _ = load_qsl(
        write_project(project, [{"target": "img/a.png", "labels": {"masks": [mask]}}])
    )
    (annotation,) = collection[0].annotations
    assert annotation.area() == (50 - 2) * 20 * 20  # canvas pixels are 20x20 image pixels
    assert annotation.x1y1x2y2() == (0, 0, 200, 100)


def test_regions_without_a_label_and_empty_masks_are_counted(project: Path) -> None:
    empty_mask = {
        "map": {"counts": [0, 4], "dimensions": {"width": 2, "height": 2}},
        "labels": {"Type": ["Dog"]},
    }
    regions = {
        "boxes": [
            {"pt1": {"x": 0, "y": 0}, "pt2": {"x": 1, "y": 1}},
            {"pt1": {"x": 0, "y": 0}, "pt2": {"x": 1, "y": 1}, "labels": None},
            box(0, 0, 1, 1),
            box(0, 0, 1, 1, "Cat"),
        ],
        "masks": [empty_mask],
    }
    items = [{"target": "img/a.png", "labels": regions}]
    collection, report = load_qsl(write_project(project, items))
    assert [a.category.name for a in collection[0].annotations] == ["Cat"]
    assert report["regions_without_label"] == 3
    assert report["empty_masks"] == 1


def test_case_insensitive_label_match(project: Path) -> None:
    items = [{"target": "img/a.png", "labels": {"boxes": [box(0, 0, 1, 1, "dog")]}}]
    collection, _ = load_qsl(write_project(project, items))
    assert collection[0].annotations[0].category.name == "Dog"


def test_unknown_region_label_names_item_and_value(project: Path) -> None:
    items = [
        {"target": "img/a.png", "labels": {}},
        {
            "target": "img/b.jpg",
            "labels": {"boxes": [box(0, 0, 1, 1, "Dog"), box(0, 0, 1, 1, "Horse")]},
        },
    ]
    path = write_project(project, items)
    with pytest.raises(FormatError) as info:
        load_qsl(path)
    assert str(info.value) == (
        f"{path}: items[1] (img/b.jpg): boxes[1]: label 'Horse' for 'Type' is not in the "
        "region configuration (Dog, Cat)"
    )


@pytest.mark.parametrize(
    "region,kind,message",
    [
        (
            {"labels": {"Type": ["Dog"]}},
            "boxes",
            "boxes[0]: a box needs pt1 and pt2 (no pt1 and no pt2)",
        ),
        (box(0.3, 0.3, None, None, "Dog"), "boxes", "boxes[0]: a box needs pt1 and pt2 (no pt2)"),
        (
            {"pt1": {"x": 0.1, "y": 0.1}, "pt2": None, "labels": {"Type": ["Dog"]}},
            "boxes",
            "boxes[0]: a box needs pt1 and pt2 (no pt2)",
        ),
        (
            {"pt1": {"x": "0.5", "y": 0}, "pt2": {"x": 1, "y": 1}, "labels": {"Type": ["Dog"]}},
            "boxes",
            "boxes[0].pt1.x: expected a number, got '0.5'",
        ),
        (
            {"pt1": {"x": 10**400, "y": 0}, "pt2": {"x": 1, "y": 1}, "labels": {"Type": ["Dog"]}},
            "boxes",
            "boxes[0].pt1.x: expected a number, got 1000000000000000000000000000000000000...",
        ),
        (
            {"pt1": {"x": 1e308, "y": 0}, "pt2": {"x": 1, "y": 1}, "labels": {"Type": ["Dog"]}},
            "boxes",
            "boxes[0].pt1.x: expected a number, got 1e+308",  # times the width: not finite
        ),
        (
            {"points": [{"x": 0, "y": 0}, {"x": 1, "y": 1}], "labels": {"Type": ["Dog"]}},
            "polygons",
            "polygons[0]: a polygon needs at least 3 points, got 2",
        ),
        (
            {
                "map": {"counts": [1, 2], "dimensions": {"width": 2, "height": 2}},
                "labels": {"Type": ["Dog"]},
            },
            "masks",
            "masks[0]: mask counts add up to 3 pixels, but a 2x2 mask has 4",
        ),
        (
            {"labels": {"Type": ["Dog"]}},
            "masks",
            "masks[0]: a mask needs map.counts and map.dimensions",
        ),
    ],
)
def test_malformed_regions(project: Path, region, kind: str, message: str) -> None:
    path = write_project(project, [{"target": "img/a.png", "labels": {kind: [region]}}])
    with pytest.raises(FormatError) as info:
        load_qsl(path)
    assert str(info.value) == f"{path}: items[0] (img/a.png): {message}"


# --------------------------------------------------------------------------- image-level labels


IMAGE_CONFIGS = [
    {"name": "Scene", "options": [{"name": "Indoor"}, {"name": "Outdoor"}]},
    {"name": "Pets", "multiple": True, "options": [{"name": "dog"}, {"name": "Bird"}]},
    {"name": "Notes", "freeform": True},
]


def test_image_labels_become_labels_and_categories(project: Path) -> None:
    image = {"Scene": ["Outdoor"], "Pets": ["dog", "Bird"], "Notes": ["blurry", ""]}
    items = [{"target": "img/a.png", "metadata": {"n": 1}, "labels": {"image": image}}]
    collection, report = load_qsl(write_project(project, items, image=IMAGE_CONFIGS))
    # "dog" is the region option "Dog" already (names are case-insensitive)
    assert collection.categories.names == ["Dog", "Cat", "Indoor", "Outdoor", "Bird"]
    scene = collection[0]
    assert [(label.category.name, label.metadata) for label in scene.labels] == [
        ("Outdoor", {"config": "Scene"}),
        ("Dog", {"config": "Pets"}),
        ("Bird", {"config": "Pets"}),
    ]
    assert scene.metadata == {"n": 1, "target": "img/a.png", "labels": {"Notes": ["blurry"]}}
    assert report["labels"] == 3 and report["categories"]["Dog"] == {"annotations": 0, "labels": 1}


def test_image_label_not_an_option(project: Path) -> None:
    items = [{"target": "img/a.png", "labels": {"image": {"Scene": ["Kitchen"]}}}]
    path = write_project(project, items, image=IMAGE_CONFIGS)
    with pytest.raises(FormatError) as info:
        load_qsl(path)
    assert str(info.value) == (
        f"{path}: items[0] (img/a.png): image label 'Scene': value 'Kitchen' is not one of its "
        "options (Indoor, Outdoor)"
    )
    items = [{"target": "img/a.png", "labels": {"image": {"Weather": ["rain"]}}}]
    path = write_project(project, items, image=IMAGE_CONFIGS)
    with pytest.raises(FormatError, match="image label 'Weather' is not in the project's image"):
        load_qsl(path)


# --------------------------------------------------------------------------- items and images


def test_skipped_items_are_counted(project: Path, no_decoding: None) -> None:
    items = [
        {"target": "img/a.png", "labels": {}},
        {"target": "img/a.png", "ignore": True, "labels": {"boxes": []}},
        {"target": "img/a.png"},
        {"target": "img/a.png", "labels": None},
        {"target": {"video": "v.mp4"}, "type": "video", "labels": []},
        {"target": "img/b.jpg", "type": "image", "labels": {}},
    ]
    scenes = list(iter_qsl(write_project(project, items), report=(report := {})))
    assert [s.key for s in scenes] == ["000000", "000001"]
    assert [s.metadata["target"] for s in scenes] == ["img/a.png", "img/b.jpg"]
    assert report["skipped"] == {"ignored": 1, "unlabelled": 2, "non_image": 1, "missing": 0}
    assert report["items"] == 6 and report["scenes"] == 2


def test_missing_image_is_an_error_unless_skipped(project: Path) -> None:
    items = [
        {"target": "img/gone.png", "labels": {}},
        {"target": "img/b.jpg", "labels": {}},
    ]
    path = write_project(project, items)
    with pytest.raises(ImageError) as info:
        load_qsl(path)
    assert str(info.value) == (
        f"{path}: items[0] (img/gone.png): image file not found: {project / 'img' / 'gone.png'}"
    )
    collection, report = load_qsl(path, skip_missing=True)
    assert [s.key for s in collection] == ["000000"]
    assert collection[0].metadata["target"] == "img/b.jpg"
    assert report["skipped"]["missing"] == 1


def test_base_dir_and_absolute_targets(project: Path, tmp_path_factory) -> None:
    elsewhere = tmp_path_factory.mktemp("labels")
    items = [
        {"target": "img/a.png", "labels": {}},
        {"target": str(project / "img" / "b.jpg"), "labels": {}},
    ]
    path = write_project(elsewhere, items)
    with pytest.raises(ImageError, match="image file not found"):
        load_qsl(path)
    collection, _ = load_qsl(path, base_dir=project)
    assert [s.dimensions for s in collection] == [(200, 100), (64, 48)]


def test_exif_rotated_jpeg_uses_the_displayed_size(project: Path) -> None:
    ok, jpeg = cv2.imencode(".jpg", np.zeros((30, 50, 3), np.uint8))
    exif = (
        b"Exif\x00\x00MM" + struct.pack(">HIH", 42, 8, 1) + struct.pack(">HHIHH", 0x112, 3, 1, 6, 0)
    )
    exif += b"\x00" * 4
    data = jpeg.tobytes()
    data = data[:2] + b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif + data[2:]
    (project / "img" / "r.jpg").write_bytes(data)
    items = [{"target": "img/r.jpg", "labels": {"boxes": [box(0, 0, 1, 1, "Dog")]}}]
    collection, _ = load_qsl(write_project(project, items))
    assert collection[0].dimensions == (30, 50)
    assert collection[0].annotations[0].x1y1x2y2() == (0, 0, 30, 50)
    assert collection[0].image.shape == (50, 30, 3)


def test_size_falls_back_to_decoding(project: Path) -> None:
    write_image(project / "img" / "p.ppm", 21, 13, ".ppm")
    items = [{"target": "img/p.ppm", "labels": {"boxes": [box(0, 0, 1, 1, "Dog")]}}]
    collection, _ = load_qsl(write_project(project, items))
    assert collection[0].annotations[0].x1y1x2y2() == (0, 0, 21, 13)


def test_undecodable_image_names_the_file(project: Path) -> None:
    (project / "img" / "bad.jpg").write_bytes(b"not an image at all")
    items = [{"target": "img/bad.jpg", "labels": {}}]
    with pytest.raises(ImageError, match=r"bad\.jpg: cannot decode image \(19 bytes\)"):
        load_qsl(write_project(project, items))


def test_data_uri_target(project: Path) -> None:
    data = (project / "img" / "b.jpg").read_bytes()
    uri = "data:image/jpeg;base64," + base64.b64encode(data).decode()
    collection, _ = load_qsl(write_project(project, [{"target": uri, "labels": {}}]))
    assert collection[0].image_source.encoded() == data
    assert collection[0].dimensions == (64, 48)


def test_remote_target_is_an_error(project: Path) -> None:
    path = write_project(project, [{"target": "https://example.com/a.jpg", "labels": {}}])
    with pytest.raises(FormatError) as info:
        load_qsl(path)
    assert str(info.value) == (
        f"{path}: items[0] (https://example.com/a.jpg): remote targets cannot be imported; "
        "download the images"
    )


def test_no_usable_item_gives_an_empty_collection(project: Path) -> None:
    collection, report = load_qsl(write_project(project, [{"target": "x.png"}]))
    assert len(collection) == 0 and collection.categories.names == ["Dog", "Cat"]
    assert report["skipped"]["unlabelled"] == 1


# --------------------------------------------------------------------------- project file errors


@pytest.mark.parametrize(
    "content,message",
    [
        ('{"items": [', "invalid JSON at line 1 column 12: Expecting value"),
        ("[]", "not a QSL project: the top level must be an object"),
        ('{"config": {"regions": []}}', "not a QSL project: 'items' must be a list"),
        ('{"items": []}', "not a QSL project: 'config' must be an object"),
        (
            '{"items": [], "config": {"regions": [1]}}',
            "config.regions must be a list of objects with a name",
        ),
    ],
)
def test_bad_project_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "p.json"
    path.write_text(content)
    with pytest.raises(FormatError) as info:
        load_qsl(path)
    assert str(info.value) == f"{path}: {message}"


def test_missing_project_file(tmp_path: Path) -> None:
    with pytest.raises(FormatError) as info:
        load_qsl(tmp_path / "absent.json")
    assert str(info.value) == f"{tmp_path / 'absent.json'}: project file not found"


# --------------------------------------------------------------------------- writing


def test_import_writes_the_image_bytes_untouched(project: Path, no_decoding: None) -> None:
    items = [
        {"target": "img/b.jpg", "labels": {"boxes": [box(0.25, 0.5, 0.75, 1, "Cat")]}},
        {"target": "img/a.png", "labels": {}},
    ]
    path = write_project(project, items)
    out = project / "out.tar"
    report = import_qsl(path, out)
    assert report["output"] == str(out) and report["scenes"] == 2
    with tarfile.open(out) as tar:
        assert tar.getnames() == ["000000.json", "000000.jpg", "000001.json", "000001.png"]
        assert tar.extractfile("000000.jpg").read() == (project / "img" / "b.jpg").read_bytes()
    scenes = list(iter_scenes(out))
    assert scenes[0].annotations == [Annotation(scenes[0].categories["Cat"], 16, 24, 48, 48)]
    assert scenes[0].metadata == {"target": "img/b.jpg"}
    first = out.read_bytes()
    with pytest.raises(OutputError, match="already exists"):
        import_qsl(path, out)
    import_qsl(path, out, force=True)
    assert out.read_bytes() == first
    with pytest.raises(OutputError, match="is also an input"):
        import_qsl(path, path, force=True)


def test_failed_import_leaves_no_output(project: Path) -> None:
    items = [{"target": "img/a.png", "labels": {}}, {"target": "img/gone.png", "labels": {}}]
    path = write_project(project, items)
    with pytest.raises(ImageError):
        import_qsl(path, project / "out.tar")
    assert sorted(p.name for p in project.iterdir()) == ["img", "project.json"]


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(*[st.floats(0, 1, allow_nan=False)] * 4, st.sampled_from(["Dog", "Cat"])),
        max_size=5,
    )
)
def test_box_coordinates_are_fractions_times_size(tmp_path_factory, boxes) -> None:
    folder = tmp_path_factory.mktemp("p")
    shutil.copy(MINIMAL / "img" / "a.png", folder / "a.png")
    regions = [box(x1, y1, x2, y2, value) for x1, y1, x2, y2, value in boxes]
    collection, _ = load_qsl(
        write_project(folder, [{"target": "a.png", "labels": {"boxes": regions}}])
    )
    got = [(a.category.name, a.x1y1x2y2()) for a in collection[0].annotations]
    expected = [
        (v, (min(x1, x2) * 200, min(y1, y2) * 100, max(x1, x2) * 200, max(y1, y2) * 100))
        for x1, y1, x2, y2, v in boxes
    ]
    assert got == expected
    assert Categories(["Dog", "Cat"]) == collection.categories


def test_image_level_option_is_not_a_region_label(project: Path) -> None:
    items = [{"target": "img/a.png", "labels": {"boxes": [box(0, 0, 1, 1, "Outdoor")]}}]
    path = write_project(project, items, image=IMAGE_CONFIGS)
    with pytest.raises(FormatError) as info:
        load_qsl(path)
    assert str(info.value) == (
        f"{path}: items[0] (img/a.png): boxes[0]: label 'Outdoor' for 'Type' is not in the "
        "region configuration (Dog, Cat)"
    )


def test_project_with_byte_order_mark(project: Path) -> None:
    path = write_project(project, [{"target": "img/a.png", "labels": {}}])
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    collection, _ = load_qsl(path)
    assert len(collection) == 1


def test_project_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_bytes(b'{"items": "\xff"}')
    with pytest.raises(FormatError) as info:
        load_qsl(path)
    assert str(info.value) == f"{path}: not a QSL project: the file is not UTF-8 text"


# --------------------------------------------------------------------------- streaming


def test_config_after_the_items_reads_the_same(project: Path) -> None:
    items = [
        {"target": "img/a.png", "labels": {"boxes": [box(0.1, 0.2, 0.5, 0.6, "Cat")]}},
        {"target": "img/b.jpg", "ignore": True},
        {"target": "img/b.jpg", "labels": {"image": {"Scene": ["Outdoor"]}}},
    ]
    first = write_project(project, items, image=IMAGE_CONFIGS, name="first.json")
    config = json.loads(first.read_text())["config"]
    last = project / "last.json"
    last.write_text(json.dumps({"items": items, "extra": [1, {"x": 2}], "config": config}))
    (a, report_a), (b, report_b) = load_qsl(first), load_qsl(last)
    assert report_b == report_a | {"project": str(last)}
    assert a.categories == b.categories and len(b) == 2
    for x, y in zip(a, b, strict=True):
        assert (x.key, x.annotations, x.labels, x.metadata) == (
            y.key,
            y.annotations,
            y.labels,
            y.metadata,
        )


@pytest.mark.parametrize("key", ["items", "config"])
def test_a_member_given_twice_is_refused(project: Path, key: str) -> None:
    config = json.dumps({"regions": REGIONS})
    path = project / "p.json"
    path.write_text(
        f'{{"config": {config}, "items": [], "{key}": {"[]" if key == "items" else config}}}'
    )
    with pytest.raises(FormatError) as info:
        list(iter_qsl(path))
    assert str(info.value) == f"{path}: not a QSL project: {key!r} appears twice"


def test_bad_json_after_the_config_fails_the_import_and_leaves_no_output(project: Path) -> None:
    good = json.dumps({"target": "img/a.png", "labels": {}})
    path = project / "p.json"
    config = json.dumps({"regions": REGIONS})
    path.write_text(f'{{"config": {config},\n"items": [\n' + f"{good},\n" * 3 + '{"target": x}\n]}')
    scenes = iter_qsl(path)  # the config is checked at once; the items as they are read
    assert next(scenes).key == "000000"
    with pytest.raises(FormatError) as info:
        import_qsl(path, project / "out.tar")
    assert str(info.value) == f"{path}: invalid JSON at line 6 column 12: Expecting value"
    assert sorted(p.name for p in project.iterdir()) == ["img", "p.json"]


def test_items_are_read_one_at_a_time(project: Path) -> None:
    """Memory while importing holds one item, whatever the project's size: the peak of
    Python allocations over a 9 MB project stays a small fraction of the file."""
    import tracemalloc

    note = "x" * 800
    item = {
        "target": "img/b.jpg",
        "metadata": {"note": note},
        "labels": {"boxes": [box(0, 0, 1, 1, "Dog")]},
    }
    path = project / "big.json"
    with path.open("w") as f:  # config last: the stream also reads the file twice
        f.write('{"items": [' + ", ".join([json.dumps(item)] * 10_000))
        f.write('], "config": ' + json.dumps({"regions": REGIONS}) + "}")
    assert path.stat().st_size > 9_000_000
    tracemalloc.start()
    try:
        report: dict[str, Any] = {}
        count = sum(1 for _ in iter_qsl(path, report=report))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == report["scenes"] == 10_000
    assert peak < 2_000_000  # reading it whole into objects took 43 MB
