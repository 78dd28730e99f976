"""`mira import-qsl` as a user runs it: exact reports, annotations, messages, exit codes."""

from __future__ import annotations

import io
import json
import re
import shutil
import tarfile
from pathlib import Path

import pytest

from mira.formats import iter_scenes

MINIMAL = Path(__file__).parent.parent / "data" / "qsl" / "minimal"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the reference project (§5.7) in a fresh folder."""
    shutil.copytree(MINIMAL, tmp_path / "labels")
    return tmp_path / "labels" / "project.json"


def edit(path: Path, change) -> Path:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))
    return path


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_reference_project(mira, project: Path, tmp_path: Path) -> None:
    out = tmp_path / "data.tar"
    result = mira("import-qsl", project, "-o", out, "--json", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    assert json.loads(result.stdout) == {
        "project": str(project),
        "output": str(out),
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
    with tarfile.open(out) as tar:
        assert tar.getnames() == ["000000.json", "000000.png"]
        record = json.loads(tar.extractfile("000000.json").read())
        image = tar.extractfile("000000.png").read()
    assert image == (MINIMAL / "img" / "a.png").read_bytes()
    assert record["width"] == 200 and record["height"] == 100
    assert record["categories"] == ["Dog", "Cat", "Indoor", "Outdoor"]
    assert [(a["category"], a.get("box"), a.get("polygon")) for a in record["annotations"]] == [
        ("Dog", [20.0, 20.0, 100.0, 60.0], None),
        ("Dog", None, [[50.0, 0.0], [150.0, 0.0], [150.0, 100.0], [50.0, 100.0]]),
        ("Cat", None, [[0.0, 0.0], [100.0, 0.0], [100.0, 50.0]]),
    ]
    assert [(label["category"], label["metadata"]) for label in record["labels"]] == [
        ("Indoor", {"config": "Scene"})
    ]
    assert record["metadata"] == {"source": "camera-1", "target": "img/a.png"}
    (scene,) = iter_scenes(out)
    assert scene.annotations[1].area() == 100 * 100


def test_table_output(mira, project: Path, tmp_path: Path) -> None:
    result = mira("import-qsl", project, "-o", tmp_path / "data.tar")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "Imported 1 of 4 items (label key 'Type')"
    titles = ("Imported", "Skipped", "category", "what")  # table titles and headers
    rows = [re.split(r"  +", line) for line in lines if line and not line.startswith(titles)]
    assert rows == [
        ["Dog", "2", "0"],
        ["Cat", "1", "0"],
        ["Indoor", "0", "1"],
        ["Outdoor", "0", "0"],
        ["total", "3", "1"],
        ["ignored", "1"],
        ["unlabelled", "1"],
        ["non-image", "1"],
        ["missing", "0"],
        ["regions without a label", "0"],
        ["empty masks", "0"],
    ]


def test_reruns_are_byte_identical(mira, project: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "a.tar", tmp_path / "b.tar"
    assert mira("import-qsl", project, "-o", first).returncode == 0
    assert mira("import-qsl", project, "-o", second, cwd=project.parent).returncode == 0
    assert first.read_bytes() == second.read_bytes()
    assert mira("import-qsl", project, "-o", first, "--force").returncode == 0
    assert first.read_bytes() == second.read_bytes()


def test_output_to_stdout(mira, project: Path) -> None:
    result = mira("import-qsl", project, "-o", "-", "--json", binary=True)
    assert result.returncode == 0
    assert json.loads(result.stderr)["scenes"] == 1  # the report leaves stdout to the tarball
    with tarfile.open(fileobj=io.BytesIO(result.stdout)) as tar:
        assert tar.getnames() == ["000000.json", "000000.png"]


def test_missing_project_file(mira, tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    result = mira("import-qsl", missing, "-o", tmp_path / "out.tar")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"error: {missing}: project file not found\n"
    assert listing(tmp_path) == []


def test_invalid_json(mira, tmp_path: Path) -> None:
    bad = tmp_path / "project.json"
    bad.write_text('{"items": [\n  {"target": "a.png",}\n]}')
    result = mira("import-qsl", bad, "-o", tmp_path / "out.tar")
    assert result.returncode == 1
    assert result.stderr == (
        f"error: {bad}: invalid JSON at line 2 column 22: Expecting property name enclosed in "
        "double quotes\n"
    )
    assert listing(tmp_path) == ["project.json"]


def test_missing_image(mira, project: Path, tmp_path: Path) -> None:
    (project.parent / "img" / "a.png").rename(project.parent / "img" / "moved.png")
    out = tmp_path / "out.tar"
    result = mira("import-qsl", project, "-o", out)
    assert result.returncode == 1
    assert result.stderr == (
        f"error: {project}: items[0] (img/a.png): image file not found: "
        f"{project.parent / 'img' / 'a.png'}\n"
    )
    assert not out.exists() and listing(tmp_path) == ["labels"]
    result = mira("import-qsl", project, "-o", out, "--skip-missing", "--json")
    assert result.returncode == 0
    report = json.loads(result.stdout)
    assert (report["scenes"], report["skipped"]["missing"]) == (0, 1)
    with tarfile.open(out) as tar:
        assert tar.getnames() == []


def test_unknown_label(mira, project: Path, tmp_path: Path) -> None:
    def horse(data):
        data["items"][0]["labels"]["polygons"][0]["labels"]["Type"] = ["Cat", "Horse"]

    edit(project, horse)
    out = tmp_path / "out.tar"
    result = mira("import-qsl", project, "-o", out)
    assert result.returncode == 1
    assert result.stderr == (
        f"error: {project}: items[0] (img/a.png): polygons[0]: label 'Horse' for 'Type' is not "
        "in the region configuration (Dog, Cat)\n"
    )
    assert not out.exists()


def test_label_key_choice(mira, project: Path, tmp_path: Path) -> None:
    def second_region(data):
        data["config"]["regions"].append({"name": "Size", "options": [{"name": "big"}]})

    edit(project, second_region)
    out = tmp_path / "out.tar"
    result = mira("import-qsl", project, "-o", out)
    assert result.returncode == 1
    assert result.stderr == (
        f"error: {project}: the project has 2 region configurations; choose one with "
        "label_key (--label-key): Type, Size\n"
    )
    assert not out.exists()
    result = mira("import-qsl", project, "-o", out, "--label-key", "Type", "--json")
    assert result.returncode == 0 and json.loads(result.stdout)["annotations"] == 3


def test_base_dir(mira, project: Path, tmp_path: Path) -> None:
    moved = tmp_path / "elsewhere.json"
    project.rename(moved)
    out = tmp_path / "out.tar"
    assert mira("import-qsl", moved, "-o", out).returncode == 1
    result = mira("import-qsl", moved, "-o", out, "--base-dir", project.parent, "--json")
    assert result.returncode == 0 and json.loads(result.stdout)["scenes"] == 1
    absent = tmp_path / "absent"
    result = mira("import-qsl", moved, "-o", tmp_path / "x.tar", "--base-dir", absent)
    assert result.returncode == 1
    assert result.stderr == f"error: {absent}: base directory does not exist\n"


def test_existing_output_needs_force(mira, project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.tar"
    out.write_bytes(b"keep me")
    result = mira("import-qsl", project, "-o", out)
    assert result.returncode == 1
    assert result.stderr == f"error: {out}: already exists (use --force to overwrite)\n"
    assert out.read_bytes() == b"keep me"
    assert mira("import-qsl", project, "-o", out, "--force").returncode == 0
    assert out.read_bytes()[:11] == b"000000.json"


def test_output_equal_to_input_is_refused(mira, project: Path) -> None:
    before = project.read_bytes()
    result = mira("import-qsl", project, "-o", project, "--force")
    assert result.returncode == 1
    assert result.stderr == f"error: {project}: is also an input; refusing to overwrite it\n"
    assert project.read_bytes() == before
    assert listing(project.parent) == ["img", "project.json"]


def test_usage_errors(mira, project: Path) -> None:
    result = mira("import-qsl", project)
    assert result.returncode == 2 and "Missing option '--output'" in result.stderr
    result = mira("import-qsl", "-o", "x.tar")
    assert result.returncode == 2 and "Missing argument 'PROJECT.json'" in result.stderr


def test_a_box_without_pt2_is_an_error_naming_the_item(mira, project: Path, tmp_path: Path):
    """It silently became a zero-area box (exit 0)."""

    def drop_pt2(data):
        del data["items"][0]["labels"]["boxes"][0]["pt2"]

    edit(project, drop_pt2)
    out = tmp_path / "data.tar"
    result = mira("import-qsl", project, "-o", out, cwd=tmp_path)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        f"error: {project}: items[0] (img/a.png): boxes[0]: a box needs pt1 and pt2 (no pt2)\n"
    )
    assert listing(tmp_path) == ["labels"]


def test_key_prefix_goes_in_front_of_every_key(mira, project: Path, tmp_path: Path) -> None:
    plain, prefixed = tmp_path / "plain.tar", tmp_path / "cam1.tar"
    assert mira("import-qsl", project, "-o", plain).returncode == 0
    result = mira("import-qsl", project, "-o", prefixed, "--key-prefix", "cam1-")
    assert (result.returncode, result.stderr) == (0, "")
    with tarfile.open(prefixed) as tar:
        assert tar.getnames() == ["cam1-000000.json", "cam1-000000.png"]
    [scene], [before] = list(iter_scenes(prefixed)), list(iter_scenes(plain))
    assert scene.key == "cam1-000000"
    assert scene.annotations == before.annotations and scene.metadata == before.metadata


@pytest.mark.parametrize("prefix", ["a.b", "-a", "a/b"])
def test_a_key_prefix_that_is_not_a_safe_name_is_a_usage_error(mira, project, tmp_path, prefix):
    out = tmp_path / "x.tar"
    result = mira("import-qsl", project, "-o", out, "--key-prefix", prefix)
    assert result.returncode == 2
    assert f"key prefix '{prefix}' must be letters, digits, '_' or '-'" in result.stderr
    assert not out.exists()
