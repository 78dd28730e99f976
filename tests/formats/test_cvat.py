"""CVAT for images 1.1: the hand-written task export in tests/data/cvat (boxes with
attributes, a rotated box, a polygon, a mask, a tag, shapes mira cannot hold), the
export, streaming and bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from mira.core import Annotation, Categories, Label, Scene, SceneCollection
from mira.core.image import encode_image
from mira.errors import FormatError, ImageError
from mira.formats.cvat import iter_cvat
from mira.formats.cvat_rle import decode_mask, parse_counts
from tests.conftest import make_image

DATA = Path(__file__).resolve().parents[1] / "data" / "cvat"


@pytest.fixture
def task(tmp_path):
    """A writable copy of tests/data/cvat."""
    return Path(shutil.copytree(DATA, tmp_path / "cvat"))


def test_the_hand_written_task_reads_exactly():
    report: dict = {}
    first, second = iter_cvat(DATA, report=report)
    assert first.categories.names == ["car", "road", "lane", "puddle", "night", "walker"]
    car, turned, road, puddle = first.annotations
    assert car.x1y1x2y2() == (4.5, 10.25, 30.0, 28.75)
    assert car.metadata == {
        "occluded": 0,
        "z_order": 1,
        "source": "manual",
        "attributes": {"color": "blue", "parked": "true"},
    }
    assert not turned.is_rect  # turned 90 degrees about its centre (44, 25)
    np.testing.assert_allclose(turned.points, [[49, 15], [49, 35], [39, 35], [39, 15]], atol=1e-12)
    assert turned.metadata["occluded"] == 1 and turned.metadata["source"] == "auto"
    assert road.point_pairs() == [(0.0, 48.0), (20.5, 30.0), (43.5, 30.0), (64.0, 48.0)]
    assert road.metadata == {"occluded": 0, "z_order": 0, "source": "manual"}
    assert puddle.category.name == "puddle" and puddle.area() == 11
    assert puddle.x1y1x2y2() == (40.0, 8.0, 44.0, 12.0)
    assert first.labels == [Label(first.categories["night"], metadata={"source": "manual"})]
    assert first.metadata == {"cvat": {"name": "street_000.png"}}
    assert first.image_source.path == str(DATA / "images" / "street_000.png")
    assert (second.annotations, second.labels, second.dimensions) == ([], [], (48, 32))
    assert report["unsupported"] == {"polyline": 1, "skeleton": 1}
    assert (report["scenes"], report["annotations"], report["labels"]) == (2, 4, 1)
    assert report["categories"]["night"] == {"annotations": 0, "labels": 1}


def test_a_mask_is_its_pixels_placed_at_left_top():
    counts = parse_counts("1, 2, 2, 4, 1, 4, 3, 1, 2", "m")
    mask = decode_mask(counts, 5, 4, "m")
    assert mask.astype(int).tolist() == [
        [0, 1, 1, 0, 0],
        [1, 1, 1, 1, 0],
        [1, 1, 1, 1, 0],
        [0, 0, 1, 0, 0],
    ]
    with pytest.raises(FormatError, match=r"m: rle covers 19 pixels, but a 5x4 mask has 20"):
        decode_mask(counts[:-1] + [1], 5, 4, "m")
    with pytest.raises(FormatError, match=r"m: rle must be integers separated by commas"):
        parse_counts("1, 2, x", "m")


def test_the_export_round_trips_and_is_cvat_shaped(tmp_path):
    collection = SceneCollection.from_cvat(DATA)
    report = collection.to_cvat(tmp_path / "out", part="train")
    again = SceneCollection.from_cvat(tmp_path / "out")
    for before, after in zip(collection, again, strict=True):
        assert after.annotations == before.annotations
        assert after.labels == before.labels
        assert after.metadata == before.metadata
    assert (tmp_path / "out" / "images" / "train" / "street_001.jpg").read_bytes() == (
        DATA / "images" / "street_001.jpg"
    ).read_bytes()
    assert report["not_written"] == {"scores": 0, "masks": 0, "metadata": 0}
    text = (tmp_path / "out" / "annotations.xml").read_text()
    assert '<image id="1" name="street_001.jpg" subset="train" width="48" height="32" />' in text
    assert (
        '<box label="car" source="manual" occluded="0" xtl="4.5" ytl="10.25" xbr="30" '
        'ybr="28.75" z_order="1">\n      <attribute name="color">blue</attribute>'
    ) in text


def test_an_exported_file_is_exactly_this(tmp_path):
    categories = Categories(["cat", "indoor"])
    scene = Scene(
        categories,
        encode_image(make_image(16, 12), "png"),
        annotations=[
            Annotation(
                categories["cat"], 1.5, 2, 10, 11.25, metadata={"occluded": 1, "pose": "up"}
            ),
            Annotation(categories["cat"], points=[[0, 0], [4, 0.5], [2, 3]], score=0.5),
        ],
        labels=[Label(categories["indoor"])],
        key="000004",
    )
    report = SceneCollection([scene]).to_cvat(tmp_path / "out", part="val")
    assert report["not_written"] == {"scores": 1, "masks": 0, "metadata": 0}
    assert (
        (tmp_path / "out" / "annotations.xml").read_text()
        == """\
<?xml version="1.0" encoding="utf-8"?>
<annotations>
  <version>1.1</version>
  <meta>
    <project>
      <name>out</name>
      <labels>
        <label>
          <name>cat</name>
          <type>any</type>
          <attributes>
            <attribute>
              <name>pose</name>
              <mutable>False</mutable>
              <input_type>text</input_type>
              <default_value />
              <values />
            </attribute>
          </attributes>
        </label>
        <label>
          <name>indoor</name>
          <type>any</type>
          <attributes />
        </label>
      </labels>
      <subsets>val</subsets>
    </project>
  </meta>
  <image id="0" name="000004.png" subset="val" width="16" height="12">
    <box label="cat" occluded="1" xtl="1.5" ytl="2" xbr="10" ybr="11.25">
      <attribute name="pose">up</attribute>
    </box>
    <polygon label="cat" points="0,0;4,0.5;2,3" />
    <tag label="indoor" />
  </image>
</annotations>
"""
    )


def test_an_image_is_read_before_the_file_ends(task):
    """Streaming: the first scene comes out of a file whose tail is broken."""
    path = task / "annotations.xml"
    text = path.read_text()
    images = "".join(
        f'  <image id="{i}" name="street_001.jpg" width="48" height="32">\n  </image>\n'
        for i in range(2, 1500)
    )
    path.write_text(text.replace("</annotations>", images + "  <image>\n</annotations>"))
    scenes = iter_cvat(path)
    assert next(scenes).metadata == {"cvat": {"name": "street_000.png"}}
    with pytest.raises(
        FormatError,
        match=r"annotations.xml: line 3123 column 3: not well-formed XML: mismatched tag",
    ):
        list(scenes)


def edit(task: Path, old: str, new: str) -> Path:
    path = task / "annotations.xml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('xtl="4.50"', 'xtl="4,5"', r"line 103: <box>: xtl='4,5' is not a number"),
        ('xtl="4.50"', 'xtl="40.50"', r"line 103: <box>: the box is inverted"),
        ('xtl="4.50" ', "", r"line 103: <box>: attribute 'xtl' is missing"),
        (
            '<box label="car" source="manual"',
            '<box label="truck" source="manual"',
            r"line 103: <box>: label 'truck' is not one of the <meta> labels \['car', ",
        ),
        (
            'points="0.00,48.00;20.50,30.00;43.50,30.00;64.00,48.00"',
            'points="0,48;20,30"',
            r"line 111: <polygon>: a polygon needs at least 3 points, got 2",
        ),
        (
            'points="0.00,48.00;20.50,30.00;43.50,30.00;64.00,48.00"',
            'points="0 48;20 30"',
            r"line 111: <polygon>: points='0 48;20 30' is not 'x,y;x,y;...'",
        ),
        (
            'rle="1, 2, 2, 4, 1, 4, 3, 1, 2"',
            'rle="1, 2, 2, 4"',
            r"line 115: <mask>: rle covers 9 pixels, but a 5x4 mask has 20",
        ),
        (
            'width="64" height="48"',
            'width="64" height="47"',
            r"line 102: <image> 'street_000.png': the image is 64x48 but the annotations say 64x47",
        ),
        (
            'name="street_000.png"',
            'name="../street_000.png"',
            r"line 102: <image>: image name '../street_000.png' would leave the image folder",
        ),
        (
            '<image id="1" name="street_001.jpg" width="48" height="32">\n  </image>',
            '<track id="0" label="car">\n  </track>',
            r"line 124: <track>: tracks are CVAT for video; export the task as CVAT for images 1.1",
        ),
        (
            "<version>1.1</version>",
            "<version>2.0</version>",
            r"version '2.0'; mira reads CVAT for images 1.1",
        ),
        (
            "<annotations>",
            "<annotation>",
            r"the root element is <annotation>, expected <annotations>",
        ),
    ],
)
def test_bad_elements_are_errors_naming_file_line_and_element(task, old, new, message):
    path = edit(task, old, new)
    with pytest.raises(FormatError, match=message) as error:
        list(iter_cvat(path))
    assert str(error.value).startswith(str(path))


def test_a_file_without_meta_or_labels_is_named(task):
    path = task / "annotations.xml"
    path.write_text('<annotations>\n  <image id="0" name="a.png"/>\n</annotations>\n')
    with pytest.raises(
        FormatError, match=r"line 2: <image> comes before <meta>; not a CVAT for images 1.1 file"
    ):
        iter_cvat(path)
    path.write_text("<annotations><meta><task><labels/></task></meta></annotations>")
    with pytest.raises(FormatError, match=r"<meta> lists no labels"):
        iter_cvat(path)


def test_a_missing_image_is_an_error_unless_skipped_and_counted(task):
    (task / "images" / "street_001.jpg").unlink()
    with pytest.raises(
        ImageError, match=r"line 124: <image> 'street_001.jpg': image file not found"
    ):
        list(iter_cvat(task))
    report: dict = {}
    assert len(list(iter_cvat(task, skip_missing=True, report=report))) == 1
    assert report["skipped"] == {"missing": 1, "empty_mask": 0}


def test_images_dir_and_project_subsets_are_followed(tmp_path, task):
    images = tmp_path / "elsewhere"
    shutil.move(task / "images", images)
    assert [s.image_source.path for s in iter_cvat(task, images_dir=images)] == [
        str(images / "street_000.png"),
        str(images / "street_001.jpg"),
    ]
    (images / "train").mkdir()
    shutil.move(images / "street_001.jpg", images / "train" / "street_001.jpg")
    edit(task, 'name="street_001.jpg"', 'name="street_001.jpg" subset="train"')
    assert list(iter_cvat(task, images_dir=images))[1].image_source.path == str(
        images / "train" / "street_001.jpg"
    )
