"""`mira filter` end to end: exact counts per category, scenes copied as stored, exact
reproducible samples, usage errors that leave nothing behind."""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from mira.core import Annotation, Categories, Label, Scene, SceneCollection
from mira.core.image import encode_image
from mira.formats import iter_scenes
from tests.cli.conftest import MIRA
from tests.conftest import make_image

CATS = Categories(["car", "person", "day"])


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """Ten scenes 000000..000009: scene i has i % 3 cars (10x10) and a 2x2 person; even
    scenes are labelled day; site "a" for 0-5, "b" for 6-9; scene 3 has year 2020."""
    scenes = []
    for i in range(10):
        annotations = [Annotation(CATS["car"], j, j, j + 10, j + 10) for j in range(i % 3)]
        annotations.append(Annotation(CATS["person"], points=[[0, 0], [2, 0], [2, 2], [0, 2]]))
        metadata: dict = {"site": "a" if i < 6 else "b"}
        if i == 3:
            metadata["year"] = 2020
        scenes.append(
            Scene(
                CATS,
                encode_image(make_image(32, 24, seed=i), "jpg", 90),
                annotations,
                labels=[Label(CATS["day"])] if i % 2 == 0 else [],
                metadata=metadata,
                key=f"{i:06d}",
            )
        )
    path = tmp_path / "data.tar"
    SceneCollection(scenes).save(path)
    return path


def keys(path: Path) -> list[str]:
    return [s.key for s in iter_scenes(path)]  # type: ignore[misc]


def members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]


def test_drop_categories_and_min_annotations(mira, data: Path, tmp_path: Path) -> None:
    out = tmp_path / "cars.tar"
    result = mira(
        "filter", data, "-o", out, "--drop-categories", "person", "--min-annotations", "1",
        "--json",
    )  # fmt: skip
    assert (result.returncode, result.stderr) == (0, "")
    tally = lambda before, kept: {"before": before, "kept": kept, "dropped": before - kept}  # noqa: E731
    assert json.loads(result.stdout) == {
        "inputs": [str(data)],
        "output": str(out),
        "options": {
            "categories": None,
            "drop_categories": ["person"],
            "where": [],
            "min_annotations": 1,
            "min_area": None,
            "with_labels": None,
            "sample": None,
            "seed": 42,
        },
        "scenes": tally(10, 6),
        "dropped_scenes": {"where": 0, "with_labels": 0, "min_annotations": 4, "sample": 0},
        "annotations": tally(19, 9),
        "labels": tally(5, 3),
        "categories": {
            "car": {"scenes": tally(6, 6), "annotations": tally(9, 9), "labels": tally(0, 0)},
            "person": {
                "scenes": tally(10, 0), "annotations": tally(10, 0), "labels": tally(0, 0),
            },
            "day": {"scenes": tally(5, 3), "annotations": tally(0, 0), "labels": tally(5, 3)},
        },
    }  # fmt: skip
    scenes = list(iter_scenes(out))
    assert [s.key for s in scenes] == ["000001", "000002", "000004", "000005", "000007", "000008"]
    assert all(s.categories.names == ["car", "day"] for s in scenes)
    assert [len(s.annotations) for s in scenes] == [1, 2, 1, 2, 1, 2]
    assert scenes[1].annotations[1].x1y1x2y2() == (1.0, 1.0, 11.0, 11.0)
    assert members(out)["000002.jpg"] == members(data)["000002.jpg"]


def test_scenes_left_as_they_are_are_copied_as_stored(mira, data: Path, tmp_path: Path) -> None:
    out = tmp_path / "a.tar"
    result = mira("filter", data, "-o", out, "--where", "metadata.site=a", "--min-area", "4")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "Kept 6 of 10 scenes (dropped 4 by where)"
    expected = {k: v for k, v in members(data).items() if k < "000006"}
    assert members(out) == expected  # records and images byte for byte


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--where", "metadata.site!=a"], ["000006", "000007", "000008", "000009"]),
        (["--where", "metadata.year=2020"], ["000003"]),
        (["--where", "metadata.year!=2020", "--where", "metadata.site=a"],
         ["000000", "000001", "000002", "000004", "000005"]),
        (["--with-labels", "day", "--categories", "car,day"],
         ["000000", "000002", "000004", "000006", "000008"]),
        (["--min-area", "5", "--min-annotations", "2"], ["000002", "000005", "000008"]),
    ],
)  # fmt: skip
def test_scene_selection(mira, data: Path, tmp_path: Path, args, expected) -> None:
    out = tmp_path / "out.tar"
    result = mira("filter", data, "-o", out, *args)
    assert result.returncode == 0, result.stderr
    assert keys(out) == expected


def test_a_sample_is_exact_reproducible_and_in_input_order(mira, data: Path, tmp_path) -> None:
    runs = []
    for name, seed in (("a", "7"), ("b", "7"), ("c", "8")):
        out = tmp_path / f"{name}.tar"
        result = mira("filter", data, "-o", out, "--sample", "4", "--seed", seed, "--json")
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        assert report["scenes"] == {"before": 10, "kept": 4, "dropped": 6}
        assert report["dropped_scenes"]["sample"] == 6
        runs.append(out)
    assert runs[0].read_bytes() == runs[1].read_bytes()
    assert keys(runs[0]) == sorted(keys(runs[0])) and len(set(keys(runs[0]))) == 4
    assert keys(runs[0]) != keys(runs[2])
    # the sample is drawn from what the other options leave
    out = tmp_path / "site-b.tar"
    result = mira("filter", data, "-o", out, "--where", "metadata.site=b", "--sample", "4")
    assert result.returncode == 0, result.stderr
    assert keys(out) == ["000006", "000007", "000008", "000009"]


def test_standard_input_to_standard_output(mira, data: Path, tmp_path: Path) -> None:
    expected = tmp_path / "expected.tar"
    args = ["--sample", "3", "--seed", "1", "--categories", "person"]
    assert mira("filter", data, "-o", expected, *args).returncode == 0
    result = mira("filter", "-", "-o", "-", *args, input=data.read_bytes(), binary=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected.read_bytes()


def test_legacy_format_and_shards(mira, data: Path, tmp_path: Path) -> None:
    legacy = tmp_path / "legacy.tar"
    result = mira("filter", data, "-o", legacy, "--categories", "car", "--format", "legacy")
    assert result.returncode == 0, result.stderr
    assert [len(s.annotations) for s in SceneCollection.load(legacy)] == [0, 1, 2] * 3 + [0]
    result = mira("filter", data, "-o", tmp_path / "s.tar", "--shard-size", "4")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.glob("s-*.tar")) == [
        "s-000000.tar", "s-000001.tar", "s-000002.tar"
    ]  # fmt: skip


def test_a_full_disk_is_a_one_line_error(data: Path) -> None:
    with open("/dev/full", "wb") as full:
        result = subprocess.run(
            [MIRA, "filter", str(data), "-o", "-", "--categories", "car"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
        )
    assert (result.returncode, result.stderr) == (1, "error: No space left on device\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--categories", "car,dog"],
         "Invalid value for '--categories': category 'dog' not in the input's categories "
         "['car', 'person', 'day']"),
        (["--drop-categories", "cat,dog"],
         "Invalid value for '--drop-categories': categories 'cat', 'dog' not in the input's"),
        (["--with-labels", "night"], "Invalid value for '--with-labels': category 'night'"),
        (["--where", "site=a"],
         "Invalid value for '--where': --where 'site=a': 'site' is not metadata.PATH"),
        (["--where", "metadata.site"],
         "--where 'metadata.site' must be metadata.PATH=VALUE or metadata.PATH!=VALUE"),
        (["--sample", "11"],
         "Invalid value for '--sample': cannot sample 11 scenes: 10 are left after filtering"),
        (["--sample", "3", "--where", "metadata.year=2020"], "cannot sample 3 scenes: 1 is left"),
        (["--categories", "car", "--drop-categories", "day"],
         "give categories to keep or categories to drop, not both"),
        (["--min-area", "-1"], "Invalid value for '--min-area': Input should be greater than"),
    ],
)  # fmt: skip
def test_usage_errors_write_nothing(mira, data: Path, tmp_path: Path, args, message) -> None:
    result = mira("filter", data, "-o", tmp_path / "out.tar", *args)
    assert result.returncode == 2
    assert message in " ".join(result.stderr.replace("│", " ").split())
    assert result.stdout == ""
    assert sorted(os.listdir(tmp_path)) == ["data.tar"]


def test_an_empty_input_gives_an_empty_output(mira, tmp_path: Path) -> None:
    empty, out = tmp_path / "empty.tar", tmp_path / "out.tar"
    SceneCollection([], CATS).save(empty)
    result = mira("filter", empty, "-o", out, "--categories", "anything", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["scenes"] == {"before": 0, "kept": 0, "dropped": 0}
    assert keys(out) == []
