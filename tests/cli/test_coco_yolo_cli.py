"""`mira import coco|yolo` and `mira export coco|yolo` as a user runs them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data"
INSTANCES = DATA / "coco" / "annotations" / "instances_val2017.json"
YOLO = DATA / "yolo" / "detect"


def test_import_coco_then_export_coco_and_yolo(mira, tmp_path):
    tar = tmp_path / "val.tar"
    result = mira("import", "coco", INSTANCES, "-o", tar, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["format"], report["scenes"], report["objects"], report["annotations"]) == (
        "coco",
        3,
        4,
        6,
    )
    result = mira("export", "coco", tar, "-o", tmp_path / "coco", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["parts"] == {"val": 3}
    written = json.loads((tmp_path / "coco" / "annotations" / "instances_val.json").read_text())
    assert [i["id"] for i in written["images"]] == [139, 285, 632]
    result = mira(
        "export", "yolo", tar, "-o", tmp_path / "yolo", "--task", "segment", "--no-images"
    )
    assert result.returncode == 0, result.stderr
    assert "Exported to" in result.stdout and "Not written" in result.stdout
    assert sorted(p.name for p in (tmp_path / "yolo").iterdir()) == ["data.yaml", "labels"]


def test_the_same_import_twice_is_byte_identical(mira, tmp_path):
    first, second = tmp_path / "a.tar", tmp_path / "b.tar"
    for out in (first, second):
        assert mira("import", "yolo", YOLO, "-o", out).returncode == 0
    assert first.read_bytes() == second.read_bytes()
    for name in ("x", "y"):
        assert (
            mira("export", "coco", first, "-o", tmp_path / name, "--parts", "all").returncode == 0
        )
    a, b = (tmp_path / n / "annotations" / "instances_all.json" for n in ("x", "y"))
    assert a.read_bytes() == b.read_bytes()


def test_parts_take_their_names_after_one_flag(mira, tmp_path):
    tar = tmp_path / "data.tar"
    assert mira("import", "yolo", YOLO, "-o", tar).returncode == 0
    result = mira(
        "export", "yolo", tar, tar, "-o", tmp_path / "out", "--parts", "train", "val", "--link",
        "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    yaml = (tmp_path / "out" / "data.yaml").read_text()
    assert "train: images/train\nval: images/val\n" in yaml
    # images inside a tarball cannot be hard-linked: copied, and counted
    assert json.loads(result.stdout)["images"]["copied_not_linkable"] == 8


def test_two_image_modes_are_a_usage_error(mira, tmp_path):
    tar = tmp_path / "data.tar"
    assert mira("import", "yolo", YOLO, "-o", tar).returncode == 0
    result = mira("export", "coco", tar, "-o", tmp_path / "out", "--link", "--images", "none")
    assert result.returncode == 2
    assert "give one image mode, not link and none" in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["export", "coco", "IN", "-o", "OUT", "--task", "segment"],
            "--task applies to export yolo only",
        ),
        (
            ["import", "yolo", str(YOLO), "-o", "OUT", "--results", "r.json"],
            "--results applies to import coco only",
        ),
        (
            ["import", "coco", str(INSTANCES), "-o", "OUT", "--part", "val"],
            "--part applies to import yolo only",
        ),
    ],
)
def test_an_option_of_another_format_is_a_usage_error(mira, tmp_path, args, message):
    tar = tmp_path / "in.tar"
    assert mira("import", "yolo", YOLO, "-o", tar).returncode == 0
    argv = [str(tar) if a == "IN" else str(tmp_path / "out") if a == "OUT" else a for a in args]
    result = mira(*argv)
    assert result.returncode == 2
    assert message in result.stderr
    assert not (tmp_path / "out").exists()


def _coco_with(tmp_path: Path, change) -> Path:
    root = tmp_path / "coco"
    shutil.copytree(DATA / "coco", root)
    path = root / "annotations" / "instances_val2017.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["annotations"][2].update(category_id=7),
            "annotations[2]: category_id 7 is not a category",
        ),
        (
            lambda d: d["annotations"][3].update(image_id=5),
            "annotations[3]: image_id 5 is not an image of",
        ),
        (
            lambda d: d["annotations"][0].update(bbox=["a", 1, 2, 3], segmentation=[]),
            "annotations[0]: bbox must be a list of numbers",
        ),
        (
            lambda d: d["images"][1].update(file_name="nowhere.jpg"),
            "images[1] (nowhere.jpg): image file not found",
        ),
    ],
)
def test_bad_coco_input_is_one_line_exit_1_and_no_output(mira, tmp_path, change, message):
    path = _coco_with(tmp_path, change)
    out = tmp_path / "out.tar"
    result = mira("import", "coco", path, "-o", out)
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: {path}: ") and message in line
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["coco"]


def test_truncated_coco_json_is_one_line_and_no_output(mira, tmp_path):
    path = tmp_path / "cut.json"
    path.write_bytes(INSTANCES.read_bytes()[:1500])
    result = mira(
        "import",
        "coco",
        path,
        "-o",
        tmp_path / "out.tar",
        "--images-dir",
        DATA / "coco" / "val2017",
    )
    assert result.returncode == 1
    assert result.stderr == f"error: {path}: invalid JSON: parse error: premature EOF\n"
    assert [p.name for p in tmp_path.iterdir()] == ["cut.json"]


def test_skip_missing_counts_the_missing_image(mira, tmp_path):
    path = _coco_with(tmp_path, lambda d: d["images"][1].update(file_name="nowhere.jpg"))
    result = mira("import", "coco", path, "-o", tmp_path / "out.tar", "--skip-missing", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["scenes"], report["skipped"]["missing"]) == (2, 1)


def test_a_bad_yolo_row_is_one_line_exit_1_and_no_output(mira, tmp_path):
    root = tmp_path / "ds"
    shutil.copytree(YOLO, root)
    label = root / "labels" / "train" / "000000000025.txt"
    label.write_text("1 0.5 0.5 0.25 0.1875\n7 0.5 0.5 0.1 0.1\n")
    result = mira("import", "yolo", root, "-o", tmp_path / "out.tar")
    assert result.returncode == 1
    assert result.stderr == f"error: {label}: line 2: class 7 is not one of the 3 classes\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds"]


def test_an_existing_export_folder_needs_force(mira, tmp_path):
    tar = tmp_path / "data.tar"
    assert mira("import", "yolo", YOLO, "-o", tar).returncode == 0
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    result = mira("export", "yolo", tar, "-o", tmp_path / "out")
    assert result.returncode == 1
    assert "already exists (use --force to replace it)" in result.stderr
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["keep.txt"]
    assert mira("export", "yolo", tar, "-o", tmp_path / "out", "--force").returncode == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["data.yaml", "images", "labels"]
