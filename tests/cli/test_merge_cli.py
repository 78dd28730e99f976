"""`mira merge` end to end: category union, key rules, records copied as stored, duplicate
images, byte-identical reruns, bad input."""

from __future__ import annotations

import io
import json
import os
import tarfile
from pathlib import Path

import pytest

from mira.core import Annotation, Categories, Label, Scene, SceneCollection
from mira.core.image import encode_image
from mira.formats import iter_scenes
from tests.conftest import make_image

CAM1 = Categories(["car", "person"])
CAM2 = Categories(["bike", "car"])


def jpeg(seed: int) -> bytes:
    return encode_image(make_image(40, 30, seed=seed), "jpg", 90)


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    """cam1.tar: 000000, 000001 (car, person); cam2.tar: 000000 (the same image as cam1's
    000001), 000001 (bike, car)."""
    cam1 = [
        Scene(CAM1, jpeg(1), [Annotation(CAM1["car"], 1, 2, 3, 4.5)], key="000000"),
        Scene(
            CAM1,
            jpeg(2),
            [Annotation(CAM1["person"], points=[[0, 0], [5, 0], [0, 5]])],
            labels=[Label(CAM1["car"], score=0.5)],
            metadata={"camera": 1},
            key="000001",
        ),
    ]
    cam2 = [
        Scene(CAM2, jpeg(2), [Annotation(CAM2["car"], 0, 0, 9, 9)], key="000000"),
        Scene(
            CAM2,
            encode_image(make_image(40, 30, seed=3), "png"),
            [Annotation(CAM2["bike"], 1, 1, 2, 2), Annotation(CAM2["bike"], 3, 3, 4, 4)],
            key="000001",
        ),
    ]
    paths = tmp_path / "cam1.tar", tmp_path / "cam2.tar"
    SceneCollection(cam1).save(paths[0])
    SceneCollection(cam2).save(paths[1])
    return paths


def members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]


def test_auto_prefixes_union_and_duplicate_images(mira, inputs, tmp_path: Path) -> None:
    cam1, cam2 = inputs
    out = tmp_path / "all.tar"
    result = mira("merge", cam1, cam2, "-o", out, "--prefix-keys", "auto", "--json")
    assert (result.returncode, result.stderr) == (0, "")
    assert json.loads(result.stdout) == {
        "inputs": [
            {"path": str(cam1), "prefix": "cam1-", "scenes": 2},
            {"path": str(cam2), "prefix": "cam2-", "scenes": 2},
        ],
        "output": str(out),
        "scenes": 4,
        "categories": {
            "car": {"annotations": 2, "inputs": [str(cam1), str(cam2)]},
            "person": {"annotations": 1, "inputs": [str(cam1)]},
            "bike": {"annotations": 2, "inputs": [str(cam2)]},
        },
        "records": {"copied": 0, "rewritten": 4},
        "duplicate_images": {
            "count": 1,
            "dropped": 0,
            "examples": [
                {
                    "key": "cam2-000000",
                    "input": str(cam2),
                    "same_as": "cam1-000001",
                    "same_as_input": str(cam1),
                }
            ],
        },
    }
    scenes = list(iter_scenes(out))
    assert [s.key for s in scenes] == ["cam1-000000", "cam1-000001", "cam2-000000", "cam2-000001"]
    assert all(s.categories.names == ["car", "person", "bike"] for s in scenes)
    assert [s.bboxes()[:, 4].tolist() for s in scenes] == [[0], [1], [0], [2, 2]]
    assert scenes[1].labels[0].score == 0.5 and scenes[1].metadata == {"camera": 1}
    assert scenes[1].annotations[0].points.tolist() == [[0, 0], [5, 0], [0, 5]]
    stored = members(out)
    assert list(stored)[:4] == [
        "cam1-000000.json", "cam1-000000.jpg", "cam1-000001.json", "cam1-000001.jpg"
    ]  # fmt: skip
    assert stored["cam2-000001.png"] == members(cam2)["000001.png"]  # images as they came
    assert stored["cam1-000000.jpg"] == members(cam1)["000000.jpg"]
    again = tmp_path / "again.tar"
    assert mira("merge", cam1, cam2, "-o", again, "--prefix-keys", "auto").returncode == 0
    assert again.read_bytes() == out.read_bytes()


def test_unchanged_scenes_are_copied_as_stored(mira, inputs, tmp_path: Path) -> None:
    cam1, _ = inputs
    extra = tmp_path / "extra.tar"
    person = Scene(CAM1, jpeg(7), [Annotation(CAM1["person"], 0, 0, 1, 1)], key="x-000000")
    SceneCollection([person]).save(extra)
    out = tmp_path / "out.tar"
    result = mira("merge", cam1, extra, "-o", out, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["records"] == {"copied": 3, "rewritten": 0}
    merged, a, b = members(out), members(cam1), members(extra)
    assert list(merged.items()) == [*a.items(), *b.items()]  # records and images as stored


def test_explicit_prefixes_and_dropping_duplicate_images(mira, inputs, tmp_path: Path) -> None:
    cam1, cam2 = inputs
    out = tmp_path / "out.tar"
    result = mira(
        "merge", cam1, cam2, "-o", out, "--prefix-keys", "a_", "b_",
        "--duplicate-images", "drop", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [i["prefix"] for i in report["inputs"]] == ["a_", "b_"]
    assert report["scenes"] == 3
    assert report["duplicate_images"]["dropped"] == 1
    assert report["categories"]["car"]["annotations"] == 1  # the dropped scene's car is gone
    assert [s.key for s in iter_scenes(out)] == ["a_000000", "a_000001", "b_000001"]


def test_prefix_keys_after_the_inputs_or_before_them(mira, inputs, tmp_path: Path) -> None:
    cam1, cam2 = inputs
    out = tmp_path / "out.tar"
    result = mira("merge", "--prefix-keys", "p", "q", cam1, cam2, "-o", out)
    assert result.returncode == 0, result.stderr
    assert [s.key[:2] for s in iter_scenes(out)] == ["p0", "p0", "q0", "q0"]


def test_shared_keys_are_an_error_naming_both_files(mira, inputs, tmp_path: Path) -> None:
    cam1, cam2 = inputs
    out = tmp_path / "out.tar"
    result = mira("merge", cam1, cam2, "-o", out)
    assert result.returncode == 1
    assert result.stderr == (
        f"error: scene key '000000' is in both {cam1} and {cam2}; keep keys apart with "
        "prefixes (--prefix-keys auto, or one per input)\n"
    )
    assert not out.exists()
    result = mira("merge", cam1, cam1, "-o", out)  # the same file twice
    assert result.returncode == 1
    assert f"error: scene key '000000' is in both {cam1} (input 1) and input 2; " in result.stderr
    assert sorted(os.listdir(tmp_path)) == ["cam1.tar", "cam2.tar"]


def test_shared_keys_within_one_input_name_it(mira, inputs, tmp_path: Path) -> None:
    """A glob of two separate imports is one input whose keys clash inside it."""
    cam1, cam2 = inputs
    pattern, out = str(tmp_path / "cam*.tar"), tmp_path / "out.tar"
    result = mira("merge", pattern, "-o", out, "--prefix-keys", "cam-")
    assert result.returncode == 1
    assert result.stderr == (
        f"error: scene key 'cam-000000' is in both {cam1} and {cam2} (of {pattern}); keep "
        "keys apart with "
        "prefixes (--prefix-keys auto, or one per input)\n"
    )
    assert sorted(os.listdir(tmp_path)) == ["cam1.tar", "cam2.tar"]


def test_a_key_twice_in_one_file_names_it(mira, inputs, tmp_path: Path) -> None:
    cam1, _ = inputs
    both = tmp_path / "both.tar"
    with tarfile.open(cam1) as source, tarfile.open(both, "w", format=tarfile.PAX_FORMAT) as tar:
        for _ in range(2):
            for member in source.getmembers():
                tar.addfile(member, io.BytesIO(source.extractfile(member).read()))  # type: ignore[union-attr]
    result = mira("merge", both, cam1, "-o", tmp_path / "out.tar", "--prefix-keys", "a", "b")
    assert result.returncode == 1
    assert result.stderr == (
        f"error: scene key 'a000000' is twice in {both}; keep keys apart with prefixes "
        "(--prefix-keys auto, or one per input)\n"
    )
    assert not (tmp_path / "out.tar").exists()


def test_standard_input_is_one_of_the_inputs(mira, inputs, tmp_path: Path) -> None:
    cam1, cam2 = inputs
    out, expected = tmp_path / "out.tar", tmp_path / "expected.tar"
    assert mira("merge", cam1, cam2, "-o", expected, "--prefix-keys", "auto").returncode == 0
    result = mira(
        "merge", cam1, "-", "-o", out, "--prefix-keys", "cam1-", "cam2-",
        input=cam2.read_bytes(), binary=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == expected.read_bytes()
    assert not [p for p in os.listdir(tmp_path) if p.startswith("mira-stdin")]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--prefix-keys", "a"], "1 key prefixes given for 2 inputs; give one per input"),
        (["--prefix-keys", "a", "b", "c"], "3 key prefixes given for 2 inputs"),
        (["--duplicate-images", "fail"], "'fail' is not one of 'keep', 'drop'"),
    ],
)
def test_usage_errors(mira, inputs, tmp_path: Path, args: list[str], message: str) -> None:
    out = tmp_path / "out.tar"
    result = mira("merge", *inputs, "-o", out, *args)
    assert result.returncode == 2
    assert message in " ".join(result.stderr.replace("│", " ").split())
    assert not out.exists()


def test_an_output_that_is_an_input_is_refused(mira, inputs) -> None:
    cam1, cam2 = inputs
    before = cam2.read_bytes()
    result = mira("merge", cam1, cam2, "-o", cam2, "--force", "--prefix-keys", "auto")
    assert result.returncode == 1
    assert result.stderr == f"error: {cam2}: is also an input; refusing to overwrite it\n"
    assert cam2.read_bytes() == before


def test_a_broken_input_leaves_no_output(mira, inputs, tmp_path: Path) -> None:
    cam1, cam2 = inputs
    broken = tmp_path / "broken.tar"
    broken.write_bytes(cam2.read_bytes()[:1536])
    out = tmp_path / "out.tar"
    result = mira("merge", cam1, broken, "-o", out, "--prefix-keys", "auto")
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {broken}: ")
    assert not out.exists()


SAMPLE = Path(__file__).resolve().parents[2] / "sample" / "project.json"


def test_derived_keys_let_outputs_of_other_commands_merge(mira, tmp_path: Path) -> None:
    """Two imports with --key-prefix, and tiles of one of them, merge without a clash."""
    cam1, cam2, tiles = tmp_path / "cam1.tar", tmp_path / "cam2.tar", tmp_path / "tiles.tar"
    for path, prefix in ((cam1, "cam1-"), (cam2, "cam2-")):
        assert mira("import-qsl", SAMPLE, "-o", path, "--key-prefix", prefix).returncode == 0
    result = mira("tile", cam1, "-o", tiles, "--max-size", "200", "--mode", "grid")
    assert result.returncode == 0, result.stderr
    out = tmp_path / "all.tar"
    result = mira("merge", cam1, cam2, tiles, "-o", out, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [i["scenes"] for i in report["inputs"]] == [14, 14, 84]
    assert report["records"] == {"copied": 112, "rewritten": 0}
    assert report["duplicate_images"]["count"] == 14  # the same sample imported twice
    found = [s.key for s in iter_scenes(out)]
    assert len(found) == len(set(found)) == 112
    assert found[:2] == ["cam1-000000", "cam1-000001"] and found[28] == "cam1-000000-00000-00000"


def test_a_bad_record_is_found_while_merging_and_nothing_is_written(mira, inputs, tmp_path):
    cam1, _ = inputs
    bad = tmp_path / "bad.tar"
    with tarfile.open(cam1) as source, tarfile.open(bad, "w", format=tarfile.USTAR_FORMAT) as tar:
        for member in source.getmembers():
            data = source.extractfile(member).read()  # type: ignore[union-attr]
            if member.name.endswith(".json"):
                record = json.loads(data)
                record["key"], record["image"] = "x-" + record["key"], "x-" + record["image"]
                if member.name == "000001.json":
                    record["annotations"][0]["category"] = "ghost"
                data = json.dumps(record).encode()
            member.name = "x-" + member.name
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
    out = tmp_path / "out.tar"
    result = mira("merge", cam1, bad, "-o", out)
    assert result.returncode == 1
    assert result.stderr == (
        f"error: {bad}: member x-000001.json: annotation 0: category 'ghost' is not in the "
        "scene's categories ['car', 'person']\n"
    )
    assert not out.exists()
