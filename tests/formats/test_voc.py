"""Pascal VOC: the hand-written dataset in tests/data/voc (VOC2007 and VOC2008+ element
orders, parts, an image set), the coordinate convention, exports and bad input."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mira.core import Annotation, Categories, Label, Scene, SceneCollection
from mira.core.image import encode_image
from mira.errors import FormatError, ImageError, OutputError, ValidationError
from mira.formats.voc import iter_voc, scene_from_voc_file
from tests.conftest import make_image

DATA = Path(__file__).resolve().parents[1] / "data" / "voc"
SOURCE_2008 = {
    "annotation": "PASCAL VOC2008",
    "database": "The VOC2008 Database",
    "image": "flickr",
}


@pytest.fixture
def dataset(tmp_path):
    """A writable copy of tests/data/voc."""
    return Path(shutil.copytree(DATA, tmp_path / "voc"))


def test_the_hand_written_dataset_reads_exactly():
    report: dict = {}
    scenes = list(iter_voc(DATA, report=report))
    assert [s.key for s in scenes] == ["000000", "000001", "000002"]
    assert scenes[0].categories.names == ["aeroplane", "bottle", "diningtable", "horse", "person"]
    planes = scenes[0]
    assert [(a.category.name, a.x1y1x2y2()) for a in planes.annotations] == [
        ("aeroplane", (13.0, 10.0, 48.0, 24.0)),
        ("aeroplane", (2.0, 30.0, 9.0, 34.0)),
        ("person", (26.0, 31.0, 29.0, 44.0)),
    ]
    assert planes.annotations[2].metadata == {"pose": "Rear", "truncated": 1, "difficult": 0}
    assert planes.metadata == {
        "voc": {
            "filename": "2007_000032.jpg",
            "source": {
                "database": "The VOC2007 Database",
                "annotation": "PASCAL VOC2007",
                "image": "flickr",
            },
            "segmented": "1",
        }
    }
    assert planes.dimensions == (64, 48)
    assert planes.image_source.path == str(DATA / "JPEGImages" / "2007_000032.jpg")
    person = scenes[1].annotations[1]
    assert person.x1y1x2y2() == (18.0, 2.0, 30.0, 30.0)
    assert person.metadata == {
        "difficult": 0,
        "occluded": 0,
        "part": [
            {"name": "head", "bndbox": {"xmax": "27", "xmin": "21", "ymax": "8", "ymin": "2"}},
            {"name": "hand", "bndbox": {"xmax": "30", "xmin": "27", "ymax": "18", "ymin": "15"}},
        ],
        "pose": "Unspecified",
        "truncated": 1,
    }
    assert scenes[1].metadata["voc"] == {
        "filename": "2008_000008.jpg",
        "segmented": "0",
        "source": SOURCE_2008,
    }
    assert report["scenes"] == 3 and report["annotations"] == 7
    assert report["categories"]["aeroplane"] == {"annotations": 2, "labels": 0}
    assert report["skipped"] == {"missing": 0} and report["unsupported"] == {}


def test_voc_numbers_are_read_as_they_stand_as_the_original_load_voc_did():
    """VOC is 1-based and inclusive: a box over the whole 40x30 image is 1,1,40,30. mira
    (like the original library, which read int(float(text)) of each number) keeps those
    numbers: x1=xmin ... y2=ymax, without shifting the origin."""
    scene = scene_from_voc_file(DATA / "Annotations" / "2008_000015.xml", ["bottle", "diningtable"])
    table = scene.annotations[1]
    assert scene.dimensions == (40, 30)
    assert table.x1y1x2y2() == (1.0, 1.0, 40.0, 30.0)
    for path in sorted((DATA / "Annotations").glob("*.xml")):
        root = ET.parse(path).getroot()
        original = [
            tuple(
                int(float(o.find("bndbox").find(k).text)) for k in ("xmin", "ymin", "xmax", "ymax")
            )
            for o in root.findall("object")
        ]
        ours = scene_from_voc_file(path, ["aeroplane", "bottle", "diningtable", "horse", "person"])
        assert [a.x1y1x2y2() for a in ours.annotations] == original


def test_an_image_set_gives_its_ids_in_order_and_the_whole_folders_categories():
    train = list(iter_voc(DATA, image_set="train"))
    assert [s.metadata["voc"]["filename"] for s in train] == ["2007_000032.jpg", "2008_000015.jpg"]
    (val,) = iter_voc(DATA, image_set="val")
    assert val.categories == train[0].categories
    with pytest.raises(
        ValidationError,
        match=r"image set 'test' not found; sets: aeroplane_trainval, train, trainval, val",
    ):
        iter_voc(DATA, image_set="test")
    with pytest.raises(ValidationError, match=r"image set '../x' is not a file name"):
        iter_voc(DATA, image_set="../x")


def test_class_image_set_files_give_their_ids():
    assert len(list(iter_voc(DATA, image_set="aeroplane_trainval"))) == 3


def test_given_categories_are_used_and_any_other_name_is_an_error():
    names = ["person", "horse", "aeroplane", "bottle", "diningtable", "cat"]
    scenes = list(iter_voc(DATA, categories=names))
    assert scenes[0].categories.names == names
    with pytest.raises(
        FormatError,
        match=r"2007_000032.xml: object 1 \(line 15\): category 'aeroplane' is not one of \['person'\]",
    ):
        list(iter_voc(DATA, categories=["person"]))


def test_the_export_writes_the_voc_layout_and_reads_back_the_same(tmp_path):
    collection = SceneCollection.from_voc(DATA)
    report = collection.to_voc(tmp_path / "out", part="trainval")
    out = tmp_path / "out"
    assert sorted(p.name for p in (out / "Annotations").iterdir()) == [
        "2007_000032.xml",
        "2008_000008.xml",
        "2008_000015.xml",
    ]
    assert (out / "ImageSets" / "Main" / "trainval.txt").read_text() == (
        "2007_000032\n2008_000008\n2008_000015\n"
    )
    for name in ("2007_000032.jpg", "2008_000015.jpg"):
        assert (out / "JPEGImages" / name).read_bytes() == (DATA / "JPEGImages" / name).read_bytes()
    again = SceneCollection.from_voc(out)
    assert again.categories == collection.categories
    for first, second in zip(collection, again, strict=True):
        assert second.annotations == first.annotations
        assert second.metadata == first.metadata
    assert report["parts"] == {"trainval": 3}
    assert report["images"]["renamed"] == 0


def test_an_exported_file_is_voc_shaped(tmp_path):
    SceneCollection.from_voc(DATA).to_voc(tmp_path / "out")
    text = (tmp_path / "out" / "Annotations" / "2008_000015.xml").read_text()
    expected = """\
<annotation>
  <folder>JPEGImages</folder>
  <filename>2008_000015.jpg</filename>
  <segmented>0</segmented>
  <source>
    <annotation>PASCAL VOC2008</annotation>
    <database>The VOC2008 Database</database>
    <image>flickr</image>
  </source>
  <size>
    <width>40</width>
    <height>30</height>
    <depth>3</depth>
  </size>
  <object>
    <name>bottle</name>
    <difficult>1</difficult>
    <occluded>0</occluded>
    <pose>Unspecified</pose>
    <truncated>0</truncated>
    <bndbox>
      <xmin>9</xmin>
      <ymin>4</ymin>
      <xmax>12</xmax>
      <ymax>17</ymax>
    </bndbox>
  </object>
  <object>
    <name>diningtable</name>
    <difficult>0</difficult>
    <occluded>1</occluded>
    <pose>Unspecified</pose>
    <truncated>1</truncated>
    <bndbox>
      <xmin>1</xmin>
      <ymin>1</ymin>
      <xmax>40</xmax>
      <ymax>30</ymax>
    </bndbox>
  </object>
</annotation>
"""
    assert text == expected


def scene_with(categories, **kwargs):
    data = encode_image(make_image(32, 24), "png")
    return Scene(categories, data, **kwargs)


def test_what_voc_cannot_hold_is_counted_and_polygons_become_boxes(tmp_path):
    categories = Categories(["a", "b"])
    scene = scene_with(
        categories,
        annotations=[
            Annotation(categories["a"], 1.25, 2.5, 10.0, 12.75, score=0.5),
            Annotation(categories["b"], points=[[0, 0], [8, 1.5], [4, 9]], metadata={"bad key": 1}),
        ],
        labels=[Label(categories["b"])],
        masks=[{"visible": False, "name": "m", "contour": [[0, 0], [4, 0], [4, 4]]}],
        key="k",
    )
    report = SceneCollection([scene]).to_voc(tmp_path / "out")
    assert report["converted"] == {"polygons_to_boxes": 1}
    assert report["not_written"] == {"labels": 1, "scores": 1, "masks": 1, "metadata": 1}
    (back,) = SceneCollection.from_voc(tmp_path / "out")
    assert [a.x1y1x2y2() for a in back.annotations] == [
        (1.25, 2.5, 10.0, 12.75),
        (0.0, 0.0, 8.0, 9.0),
    ]
    assert back.metadata == {"voc": {"filename": "k.png"}}


def test_names_are_kept_when_free_and_the_rest_are_named_by_key(tmp_path):
    categories = Categories(["a"])
    recorded = {"voc": {"filename": "photo.jpg"}}
    scenes = [
        scene_with(categories, metadata=recorded, key="000007"),  # a PNG: photo.png
        scene_with(categories, metadata={"voc": {"filename": "Photo.png"}}, key="000008"),
        scene_with(categories, key="000009"),
    ]
    report = SceneCollection(scenes).to_voc(tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out" / "JPEGImages").iterdir()) == [
        "000008.png",
        "000009.png",
        "photo.png",
    ]
    assert report["images"]["renamed"] == 1


def test_a_recorded_name_that_leaves_the_folder_is_refused(tmp_path):
    scene = scene_with(Categories(["a"]), metadata={"cvat": {"name": "/etc/passwd"}}, key="k")
    with pytest.raises(OutputError, match=r"scene k: refusing to write '/etc/passwd' outside"):
        SceneCollection([scene]).to_cvat(tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_the_export_is_byte_identical_when_run_again(tmp_path):
    collection = SceneCollection.from_voc(DATA)
    for name in ("one", "two"):
        collection.to_voc(tmp_path / name, part="train")
    first = sorted((tmp_path / "one").rglob("*"))
    second = sorted((tmp_path / "two").rglob("*"))
    assert [p.relative_to(tmp_path / "one") for p in first] == [
        p.relative_to(tmp_path / "two") for p in second
    ]
    assert all(
        a.read_bytes() == b.read_bytes() for a, b in zip(first, second, strict=True) if a.is_file()
    )


def break_file(dataset: Path, old: str, new: str, name: str = "2008_000015.xml") -> Path:
    path = dataset / "Annotations" / name
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "<xmax>12</xmax>",
            "<xmax>twelve</xmax>",
            r"object 1 \(line 4\): <xmax> is not a number: 'twelve'",
        ),
        ("<xmax>12</xmax>", "", r"object 1 \(line 4\): <bndbox> has no <xmax>"),
        ("<xmax>12</xmax>", "<xmax>inf</xmax>", r"object 1 \(line 4\): <xmax> is not finite"),
        ("<xmax>12</xmax>", "<xmax>2</xmax>", r"object 1 \(line 4\): the box is inverted"),
        (
            "<name>bottle</name>",
            "<name></name>",
            r"object 1 \(line 4\): <name> is missing or empty",
        ),
        (
            "<width>40</width>",
            "<width>41</width>",
            r"2008_000015.xml: the image is 40x30 but the annotations say 41x30",
        ),
        ("<width>40</width>", "<width>4O</width>", r"<size> <width> is not an integer: '4O'"),
        (
            "<filename>2008_000015.jpg</filename>",
            "<filename>../2008_000015.jpg</filename>",
            r"<filename>: image name '../2008_000015.jpg' would leave the image folder",
        ),
        (
            "</source>\n</annotation>",
            "</source>\n</annotations>",
            r"line 41 column 3: not well-formed XML: mismatched tag",
        ),
    ],
)
def test_bad_files_are_errors_naming_the_file_and_object(dataset, old, new, message):
    path = break_file(dataset, old, new)
    with pytest.raises(FormatError, match=message) as error:
        list(iter_voc(dataset))
    assert str(error.value).startswith(str(path))


def test_a_bndbox_less_object_is_named(dataset):
    text = (dataset / "Annotations" / "2008_000015.xml").read_text()
    start, end = text.index("\t\t<bndbox>"), text.index("</bndbox>") + len("</bndbox>\n")
    (dataset / "Annotations" / "2008_000015.xml").write_text(text[:start] + text[end:])
    with pytest.raises(
        FormatError, match=r"2008_000015.xml: object 1 \(line 4\): <bndbox> is missing"
    ):
        list(iter_voc(dataset))


def test_errors_come_before_any_scene(dataset):
    """The first pass reads every file, so a bad last file fails the call itself."""
    break_file(dataset, "<xmax>12</xmax>", "<xmax>x</xmax>")
    with pytest.raises(FormatError):
        iter_voc(dataset)


def test_a_missing_image_is_an_error_unless_skipped_and_counted(dataset):
    (dataset / "JPEGImages" / "2008_000008.jpg").unlink()
    with pytest.raises(
        ImageError, match=r"2008_000008.xml: image file not found: .*2008_000008.jpg"
    ):
        list(iter_voc(dataset))
    report: dict = {}
    scenes = list(iter_voc(dataset, skip_missing=True, report=report))
    assert [s.key for s in scenes] == ["000000", "000001"]
    assert report["skipped"] == {"missing": 1} and report["scenes"] == 2


def test_a_folder_without_annotations_or_that_is_no_folder_is_named(tmp_path):
    with pytest.raises(FormatError, match=r"no VOC annotation files \(\*.xml\)"):
        iter_voc(tmp_path)
    with pytest.raises(FormatError, match=r"not a folder; a Pascal VOC dataset is a folder"):
        iter_voc(tmp_path / "nothing")


def test_an_image_set_id_without_a_file_is_named(dataset):
    (dataset / "ImageSets" / "Main" / "val.txt").write_text("2008_000008\n2009_000001\n")
    with pytest.raises(FormatError, match=r"val.txt: line 2: '2009_000001' has no annotation file"):
        iter_voc(dataset, image_set="val")


def test_flat_folders_with_images_beside_the_files_are_read(tmp_path):
    for path in (DATA / "Annotations").glob("2008*.xml"):
        shutil.copy(path, tmp_path)
    for path in (DATA / "JPEGImages").glob("2008*.jpg"):
        shutil.copy(path, tmp_path)
    scenes = list(iter_voc(tmp_path))
    assert [s.image_source.path for s in scenes] == [
        str(tmp_path / "2008_000008.jpg"),
        str(tmp_path / "2008_000015.jpg"),
    ]


ORIGINAL_PYTHON = Path(__file__).resolve().parents[2] / ".venv-mira-0.9.36" / "bin" / "python"
READ_WITH_ORIGINAL = r"""
import json, sys
from mira import core
from mira.datasets import load_voc
categories = core.Categories(json.loads(sys.argv[2]))
files = json.loads(sys.argv[1])
collection = load_voc(files, categories, image_dir=sys.argv[3])
print(json.dumps([
    [[a.category.name, a.x1, a.y1, a.x2, a.y2] for a in scene.annotations]
    for scene in collection.scenes
]))
"""


@pytest.mark.skipif(
    not ORIGINAL_PYTHON.exists(),
    reason="the original library's venv is absent (create it with tools/make_original_venv.sh)",
)
def test_the_original_load_voc_reads_the_data_and_our_export_as_we_do(tmp_path):
    import json
    import os
    import subprocess

    collection = SceneCollection.from_voc(DATA)
    collection.to_voc(tmp_path / "out")
    script = tmp_path / "read.py"
    script.write_text(READ_WITH_ORIGINAL)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    ours = [[[a.category.name, *a.x1y1x2y2()] for a in s.annotations] for s in collection]
    for root in (DATA, tmp_path / "out"):
        files = [str(p) for p in sorted((root / "Annotations").glob("*.xml"))]
        result = subprocess.run(
            [
                str(ORIGINAL_PYTHON),
                str(script),
                json.dumps(files),
                json.dumps(collection.categories.names),
                str(root / "JPEGImages"),
            ],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        assert json.loads(result.stdout) == ours
