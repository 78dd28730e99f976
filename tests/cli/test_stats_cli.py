"""`mira stats` as a user runs it: exact JSON, tables, exit codes and messages."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from mira.core import Annotation, Categories, ImageSource, Label, Scene
from mira.core.image import encode_image
from mira.formats import SceneWriter

CATS = Categories(["dog", "cat"])


def write(path: Path, scenes: list[Scene]) -> Path:
    with SceneWriter(path) as writer:
        for scene in scenes:
            writer.write(scene)
    return path


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """Four scenes: 5 annotations (1 polygon, 1 out of the image, 1 flat), 1 label, 1 empty
    scene; 000000/000002 and 000001/000003 share their image bytes."""
    same = encode_image(np.zeros((40, 60, 3), dtype=np.uint8), "png")
    other = encode_image(np.full((30, 60, 3), 90, dtype=np.uint8), "jpg")
    return write(
        tmp_path / "data.tar",
        [
            Scene(CATS, same, [Annotation(CATS["dog"], 0, 0, 10, 10)], metadata={"src": "a"}),
            Scene(CATS, other,
                  [Annotation(CATS["cat"], points=[[0, 0], [50, 0], [0, 25]]),
                   Annotation(CATS["dog"], 50, 20, 70, 25)],
                  labels=[Label(CATS["cat"])], metadata={"src": "b"}),
            Scene(CATS, same, [Annotation(CATS["dog"], 5, 5, 5, 15),
                               Annotation(CATS["dog"], 1, 1, 40, 39)], metadata={"src": "a"}),
            Scene(CATS, other, [], metadata={"src": "b"}),
        ],
    )  # fmt: skip


def test_json_report(mira, data: Path) -> None:
    result = mira("stats", data, "--json")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    report = json.loads(result.stdout)
    assert list(report) == [
        "scenes",
        "annotations",
        "labels",
        "scenes_without_annotations",
        "shapes",
        "categories",
        "image_sizes",
        "annotation_sizes",
        "problems",
        "fingerprints",
    ]
    assert report["fingerprints"] == 0  # scenes with a stored fingerprint
    assert (report["scenes"], report["annotations"], report["labels"]) == (4, 5, 1)
    assert report["scenes_without_annotations"] == 1
    assert report["shapes"] == {"boxes": 4, "polygons": 1}
    dog, cat = report["categories"]
    assert (dog["category"], dog["annotations"], dog["scenes"], dog["labels"]) == ("dog", 4, 3, 0)
    assert (cat["category"], cat["annotations"], cat["scenes"], cat["labels"]) == ("cat", 1, 1, 1)
    assert (dog["small"], dog["medium"], dog["large"]) == (3, 1, 0)
    assert cat["width"] == {"min": 50.0, "q25": 50.0, "median": 50.0, "q75": 50.0, "max": 50.0}
    assert report["image_sizes"]["distinct"] == [
        {"width": 60, "height": 30, "scenes": 2},
        {"width": 60, "height": 40, "scenes": 2},
    ]
    assert report["image_sizes"]["height"] == {"min": 30, "median": 35.0, "max": 40}
    problems = report["problems"]
    assert problems["zero_area"]["examples"] == [
        {"key": "000002", "annotation": 0, "category": "dog"}
    ]
    assert problems["out_of_image"]["examples"] == [
        {"key": "000001", "annotation": 1, "category": "dog"}
    ]
    assert [g["keys"] for g in problems["duplicate_images"]["groups"]] == [
        ["000000", "000002"],
        ["000001", "000003"],
    ]
    assert problems["duplicate_images"]["count"] == 2


def test_tables(mira, data: Path) -> None:
    result = mira("stats", data)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for title in ("Summary", "Categories", "Image sizes", "Problems"):
        assert title in out
    assert "duplicate_images" in out and "000000 = 000002" in out
    summary_lines = out.split("\n\n")[0].splitlines()[2:]  # after the title and the header
    summary = dict(re.split(r"  +", line) for line in summary_lines)
    assert summary["scenes"] == "4"
    assert summary["boxes / polygons"] == "4 / 1"


def test_by_metadata(mira, data: Path) -> None:
    report = json.loads(mira("stats", data, "--json", "--by", "metadata.src").stdout)
    assert report["by"] == "metadata.src"
    groups = [(g["group"], g["scenes"], g["annotations"]) for g in report["groups"]]
    assert groups == [("a", 2, 3), ("b", 2, 2)]
    tables = mira("stats", data, "--by", "metadata.src").stdout
    assert "By metadata.src" in tables


def test_same_input_same_output_and_stdin(mira, data: Path) -> None:
    first = mira("stats", data, "--json").stdout
    assert mira("stats", data, "--json").stdout == first
    piped = mira("stats", "-", "--json", input=data.read_bytes(), binary=True)
    assert piped.returncode == 0
    assert piped.stdout.decode() == first


def test_images_are_never_decoded(mira, tmp_path: Path) -> None:
    broken = ImageSource.from_bytes(b"\x89PNG\r\n\x1a\nnot really", dimensions=(8, 6))
    path = write(tmp_path / "broken.tar", [Scene(CATS, broken, [])])
    result = mira("stats", path, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["image_sizes"]["distinct"] == [
        {"width": 8, "height": 6, "scenes": 1}
    ]


def test_empty_tarball(mira, tmp_path: Path) -> None:
    report = json.loads(mira("stats", write(tmp_path / "empty.tar", []), "--json").stdout)
    assert (report["scenes"], report["annotations"], report["categories"]) == (0, 0, [])


def test_bad_inputs(mira, data: Path, tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.tar"
    truncated.write_bytes(data.read_bytes()[:1500])
    result = mira("stats", truncated)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: {truncated}: ")
    assert "truncated" in result.stderr and result.stderr.count("\n") == 1

    result = mira("stats", tmp_path / "missing.tar")
    assert (result.returncode, result.stderr) == (
        1,
        f"error: {tmp_path / 'missing.tar'}: no such file\n",
    )

    result = mira("stats", data, "--by", "source")
    assert result.returncode == 2
    assert "unknown key 'source'" in result.stderr
