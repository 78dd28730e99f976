"""`mira remap` end to end: category order from the map, renames, merges and drops in
annotations and labels, scenes copied as stored, bad maps."""

from __future__ import annotations

import json
import os
import tarfile
from pathlib import Path

import pytest

from mira.core import Annotation, Categories, Label, Scene, SceneCollection
from mira.core.image import encode_image
from mira.formats import iter_scenes
from tests.conftest import make_image

CATS = Categories(["car", "truck", "person", "sunny"])


@pytest.fixture
def data(tmp_path: Path) -> Path:
    scenes = [
        Scene(
            CATS,
            encode_image(make_image(32, 24, seed=1), "jpg", 90),
            [
                Annotation(CATS["car"], 1, 2, 3, 4, metadata={"id": 0}),
                Annotation(CATS["truck"], points=[[0, 0], [4, 0], [0, 3]], score=0.5),
                Annotation(CATS["person"], 5, 5, 6, 7.5),
            ],
            labels=[Label(CATS["sunny"], score=0.9)],
            metadata={"site": "a"},
            key="000000",
        ),
        Scene(
            CATS,
            encode_image(make_image(32, 24, seed=2), "png"),
            [Annotation(CATS["person"], 0, 0, 1, 1)],
            key="000001",
        ),
    ]
    path = tmp_path / "data.tar"
    SceneCollection(scenes).save(path)
    return path


def write_map(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "map.yaml"
    path.write_text(text)
    return path


def members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]


def test_rename_merge_and_drop(mira, data: Path, tmp_path: Path) -> None:
    mapping = write_map(tmp_path, "person: human\ntruck: vehicle\ncar: vehicle\nsunny: null\n")
    out = tmp_path / "out.tar"
    result = mira("remap", data, "-o", out, "--map", mapping, "--json")
    assert (result.returncode, result.stderr) == (0, "")
    assert json.loads(result.stdout) == {
        "inputs": [str(data)],
        "output": str(out),
        "unmapped": "keep",
        "scenes": {"in": 2, "copied": 0, "rewritten": 2},
        "annotations": {"in": 4, "out": 4, "dropped": 0},
        "labels": {"in": 1, "out": 0, "dropped": 1},
        "from": {
            "car": {"to": "vehicle", "annotations": 1, "labels": 0},
            "truck": {"to": "vehicle", "annotations": 1, "labels": 0},
            "person": {"to": "human", "annotations": 2, "labels": 0},
            "sunny": {"to": None, "annotations": 0, "labels": 1},
        },
        "categories": {
            "human": {"annotations": 2, "labels": 0},
            "vehicle": {"annotations": 2, "labels": 0},
        },
    }
    first, second = iter_scenes(out)
    assert first.categories.names == ["human", "vehicle"] == second.categories.names
    assert [(a.category.name, a.x1y1x2y2()) for a in first.annotations] == [
        ("vehicle", (1.0, 2.0, 3.0, 4.0)),
        ("vehicle", (0.0, 0.0, 4.0, 3.0)),
        ("human", (5.0, 5.0, 6.0, 7.5)),
    ]
    assert first.annotations[1].points.tolist() == [[0, 0], [4, 0], [0, 3]]
    assert (first.annotations[0].metadata, first.annotations[1].score) == ({"id": 0}, 0.5)
    assert (first.labels, first.metadata) == ([], {"site": "a"})
    assert members(out)["000001.png"] == members(data)["000001.png"]
    again = tmp_path / "again.tar"
    assert mira("remap", data, "-o", again, "--map", mapping).returncode == 0
    assert again.read_bytes() == out.read_bytes()


@pytest.mark.parametrize(
    ("unmapped", "categories"),
    [("keep", ["vehicle", "person", "sunny"]), ("drop", ["vehicle"])],
)
def test_unmapped_categories(mira, data, tmp_path, unmapped, categories) -> None:
    mapping = write_map(tmp_path, "truck: vehicle\ncar: vehicle\n")
    out = tmp_path / "out.tar"
    result = mira("remap", data, "-o", out, "--map", mapping, "--unmapped", unmapped)
    assert result.returncode == 0, result.stderr
    first, second = iter_scenes(out)
    assert first.categories.names == categories
    assert len(second.annotations) == (1 if unmapped == "keep" else 0)
    assert [lb.category.name for lb in first.labels] == (["sunny"] if unmapped == "keep" else [])


def test_a_map_that_changes_nothing_copies_scenes_as_stored(mira, data, tmp_path) -> None:
    mapping = write_map(tmp_path, "car: car\n")
    out = tmp_path / "out.tar"
    result = mira("remap", data, "-o", out, "--map", mapping)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Remapped 2 scenes (0 with new records)\n")
    assert out.read_bytes() == data.read_bytes()


@pytest.mark.parametrize(
    ("text", "args", "message"),
    [
        ("- car\n", [], "must be a mapping of category names to a name or null, got a list"),
        ("dog: animal\n", [],
         "Invalid value for '--map': the map names 'dog', not in the input's categories"),
        ("car: vehicle\n", ["--unmapped", "error"],
         "categories 'truck', 'person', 'sunny' of the input are not in the map"),
        ("car: [\n", [], "not valid YAML"),
    ],
)  # fmt: skip
def test_bad_maps_are_usage_errors(mira, data, tmp_path, text, args, message) -> None:
    mapping = write_map(tmp_path, text)
    result = mira("remap", data, "-o", tmp_path / "out.tar", "--map", mapping, *args)
    assert result.returncode == 2
    assert message in " ".join(result.stderr.replace("│", " ").split())
    assert sorted(os.listdir(tmp_path)) == ["data.tar", "map.yaml"]


def test_a_missing_map_is_a_usage_error(mira, data, tmp_path) -> None:
    result = mira("remap", data, "-o", tmp_path / "out.tar", "--map", tmp_path / "no.yaml")
    assert result.returncode == 2
    message = f"Invalid value for '--map': {tmp_path / 'no.yaml'}: no such file"
    assert message in " ".join(result.stderr.replace("│", " ").split())
    assert sorted(os.listdir(tmp_path)) == ["data.tar"]


def test_a_broken_input_leaves_no_output(mira, data: Path, tmp_path: Path) -> None:
    mapping = write_map(tmp_path, "car: vehicle\n")
    broken = tmp_path / "broken.tar"
    broken.write_bytes(data.read_bytes()[:2500])
    out = tmp_path / "out.tar"
    result = mira("remap", broken, "-o", out, "--map", mapping)
    assert result.returncode == 1
    assert result.stderr == f"error: {broken}: member '000000.jpg' is truncated\n"
    assert not out.exists()
