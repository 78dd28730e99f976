"""`mira dedupe` end to end: exact survivors and counts, bytes copied through, bad input."""

from __future__ import annotations

import io
import json
import os
import tarfile
from pathlib import Path

import pytest

from mira.core import Annotation, Categories, Scene, SceneCollection
from mira.core.image import encode_image
from mira.formats import iter_scenes
from tests.conftest import make_image

CATS = Categories(["foo", "bar"])


def box(name: str, x1: float, y1: float, x2: float, y2: float, tag: str) -> Annotation:
    return Annotation(CATS[name], x1, y1, x2, y2, metadata={"tag": tag})


@pytest.fixture
def data(tmp_path: Path) -> Path:
    scenes = [
        Scene(
            CATS,
            encode_image(make_image(60, 40, seed=1), "jpg", 90),
            [
                box("foo", 0, 0, 10, 10, "A"),
                box("foo", 0, 0, 20, 20, "B"),
                box("foo", 0, 0, 20, 20, "C"),
                box("bar", 0, 0, 10, 10, "D"),
            ],
            key="000000",
        ),
        Scene(
            CATS,
            encode_image(make_image(60, 40, seed=2), "png"),
            [
                box("foo", 5, 5, 15, 15, "E"),
                Annotation(CATS["foo"], points=[[5, 5], [15, 5], [5, 15]], metadata={"tag": "F"}),
                box("bar", 30, 30, 40.5, 40, "G"),
                Annotation(CATS["bar"], 30, 30, 40.5, 40, score=0.5, metadata={"tag": "H"}),
            ],
            metadata={"site": "x"},
            key="000001",
        ),
    ]
    path = tmp_path / "data.tar"
    SceneCollection(scenes).save(path)
    return path


def tags(path: Path) -> list[list[str]]:
    return [[a.metadata["tag"] for a in s.annotations] for s in iter_scenes(path)]


def test_iou_keeps_reference_survivors_and_copies_images(mira, data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.tar"
    result = mira("dedupe", data, "-o", out, "--json")
    assert (result.returncode, result.stderr) == (0, "")
    assert json.loads(result.stdout) == {
        "output": str(out),
        "scenes": 2,
        "threshold": 1.0,
        "method": "iou",
        "annotations": {"before": 8, "removed": 2, "after": 6},
        "categories": {
            "foo": {"before": 5, "removed": 1, "after": 4},
            "bar": {"before": 3, "removed": 1, "after": 2},
        },
    }
    assert tags(out) == [["A", "C", "D"], ["E", "F", "H"]]
    before, after = list(iter_scenes(data)), list(iter_scenes(out))
    assert [s.key for s in after] == ["000000", "000001"]
    assert [s.image_source.encoded() for s in after] == [s.image_source.encoded() for s in before]
    assert after[1].annotations[2].x1y1x2y2() == (30.0, 30.0, 40.5, 40.0)
    assert after[1].annotations[2].score == 0.5
    assert after[1].metadata == {"site": "x"}


def test_coverage_and_threshold(mira, data: Path, tmp_path: Path) -> None:
    out = tmp_path / "cov.tar"
    result = mira("dedupe", data, "-o", out, "--method", "coverage", "--json")
    assert result.returncode == 0
    assert json.loads(result.stdout)["categories"] == {
        "foo": {"before": 5, "removed": 3, "after": 2},
        "bar": {"before": 3, "removed": 1, "after": 2},
    }
    assert tags(out) == [["C", "D"], ["E", "H"]]
    half = tmp_path / "half.tar"
    assert mira("dedupe", data, "-o", half, "--threshold", "0.5").returncode == 0
    assert tags(half) == [["A", "C", "D"], ["E", "H"]]  # IoU(F, E) = 0.5: the smaller F goes


def test_table_and_identical_reruns(mira, data: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "a.tar", tmp_path / "b.tar"
    result = mira("dedupe", data, "-o", first)
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "Removed 2 of 8 annotations in 2 scenes"
    assert lines[1:] == [
        "category  before  removed  after",
        "foo            5        1      4",
        "bar            3        1      2",
        "total          8        2      6",
    ]
    assert mira("-q", "dedupe", data, "-o", second).stdout == ""
    assert first.read_bytes() == second.read_bytes()


def test_pipes(mira, data: Path) -> None:
    result = mira("dedupe", "-", "-o", "-", "--json", input=data.read_bytes(), binary=True)
    assert result.returncode == 0
    assert json.loads(result.stderr)["annotations"]["removed"] == 2
    with tarfile.open(fileobj=io.BytesIO(result.stdout)) as tar:
        assert tar.getnames() == ["000000.json", "000000.jpg", "000001.json", "000001.png"]


def test_undecodable_images_are_copied_untouched(mira, data: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.tar"
    garbage = b"\xff\xd8\xff" + b"not really a jpeg" * 4
    with tarfile.open(data) as src, tarfile.open(broken, "w", format=tarfile.USTAR_FORMAT) as dst:
        for member in src.getmembers():
            payload = src.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == "000000.jpg":
                payload = garbage
            member.size = len(payload)
            dst.addfile(member, io.BytesIO(payload))
    out = tmp_path / "out.tar"
    assert mira("dedupe", broken, "-o", out).returncode == 0
    with tarfile.open(out) as tar:
        assert tar.extractfile("000000.jpg").read() == garbage  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--method", "area"], "Invalid value for '--method'"),
        (["--threshold", "0"], "Invalid value for '--threshold': 0.0 is not in the range 0<x<=1."),
        (
            ["--threshold", "1.5"],
            "Invalid value for '--threshold': 1.5 is not in the range 0<x<=1.",
        ),
    ],
)
def test_bad_options_are_usage_errors(mira, data: Path, tmp_path: Path, args, message) -> None:
    result = mira("dedupe", data, "-o", tmp_path / "out.tar", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""
    assert sorted(os.listdir(tmp_path)) == ["data.tar"]


def test_truncated_input_leaves_no_output(mira, data: Path, tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.tar"
    truncated.write_bytes(data.read_bytes()[:1500])
    result = mira("dedupe", truncated, "-o", tmp_path / "out.tar")
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {truncated}")
    assert sorted(os.listdir(tmp_path)) == ["data.tar", "truncated.tar"]
