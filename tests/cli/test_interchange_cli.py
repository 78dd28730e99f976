"""`mira import` and `mira export` for voc, cvat and labelstudio, as a user runs them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data"
LS = DATA / "labelstudio"
SOURCES = {
    "voc": [DATA / "voc"],
    "cvat": [DATA / "cvat" / "annotations.xml"],
    "labelstudio": [LS / "export.json", "--images-dir", LS / "media"],
}


@pytest.mark.parametrize("fmt", ["voc", "cvat"])
def test_import_export_import_gives_the_same_tarball(mira, tmp_path, fmt):
    first, second = tmp_path / "first.tar", tmp_path / "second.tar"
    assert mira("import", fmt, *SOURCES[fmt], "-o", first).returncode == 0
    result = mira("export", fmt, first, "-o", tmp_path / "out", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["parts"] == {"first": 3 if fmt == "voc" else 2}
    source = tmp_path / "out" if fmt == "voc" else tmp_path / "out" / "annotations.xml"
    assert mira("import", fmt, source, "-o", second).returncode == 0
    assert first.read_bytes() == second.read_bytes()


def test_an_import_reports_what_it_read_and_is_byte_identical_when_run_again(mira, tmp_path):
    outputs = [tmp_path / "a.tar", tmp_path / "b.tar"]
    for out in outputs:
        result = mira("import", "labelstudio", *SOURCES["labelstudio"], "-o", out, "--json")
        assert result.returncode == 0, result.stderr
    assert outputs[0].read_bytes() == outputs[1].read_bytes()
    report = json.loads(result.stdout)
    assert (report["format"], report["scenes"], report["annotations"], report["labels"]) == (
        "labelstudio",
        2,
        6,
        2,
    )
    assert report["skipped"] == {"unlabelled": 1, "cancelled": 1, "missing": 0}
    assert report["unsupported"] == {"keypointlabels": 1}
    table = mira("import", "labelstudio", *SOURCES["labelstudio"], "-o", tmp_path / "c.tar")
    assert "Unsupported" in table.stdout and "keypointlabels      1" in table.stdout


def test_parts_and_label_studio_options(mira, tmp_path):
    data = tmp_path / "data.tar"
    assert mira("import", "cvat", *SOURCES["cvat"], "-o", data).returncode == 0
    result = mira(
        "export",
        "labelstudio",
        data,
        data,
        "--parts",
        "train",
        "--parts",
        "val",
        "-o",
        tmp_path / "ls",
        "--pre-annotations",
        "annotations",
        "--url-prefix",
        "/data/local-files/?d=ls/",
        "--images",
        "none",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["parts"] == {"train": 2, "val": 2}
    assert report["images"]["renamed"] == 2  # val's images have train's names
    tasks = json.loads((tmp_path / "ls" / "val.json").read_text())
    assert tasks[0]["data"] == {"image": "/data/local-files/?d=ls/images/val/000000.png"}
    assert "annotations" in tasks[0] and "predictions" not in tasks[0]
    assert not (tmp_path / "ls" / "images").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["import", "cvat", "x.xml", "--image-set", "train"],
            "--image-set applies to import voc only",
        ),
        (
            ["import", "voc", "x", "--pre-annotations", "predictions"],
            "--pre-annotations applies to import labelstudio only",
        ),
        (
            ["export", "voc", "in.tar", "--url-prefix", "/x/"],
            "--url-prefix applies to export labelstudio only",
        ),
    ],
)
def test_an_option_of_another_format_is_a_usage_error(mira, tmp_path, args, message):
    result = mira(*args, "-o", tmp_path / "out")
    assert result.returncode == 2
    assert message in result.stderr
    assert list(tmp_path.iterdir()) == []


def broken_copy(tmp_path: Path, folder: str, name: str, old: str, new: str) -> Path:
    copy = Path(shutil.copytree(DATA / folder, tmp_path / folder))
    path = copy / name
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize(
    ("fmt", "folder", "name", "old", "new", "message"),
    [
        (
            "voc",
            "voc",
            "Annotations/2008_000008.xml",
            "<xmin>6</xmin>",
            "<xmin>six</xmin>",
            "2008_000008.xml: object 1 (line 4): <xmin> is not a number: 'six'",
        ),
        (
            "cvat",
            "cvat",
            "annotations.xml",
            'label="road"',
            'label="river"',
            "annotations.xml: line 111: <polygon>: label 'river' is not one of the <meta> labels",
        ),
        (
            "labelstudio",
            "labelstudio",
            "export.json",
            '"x": 25,',
            '"x": "25",',
            "export.json: task 1 (id 2): result 0.value.x: expected a number, got '25'",
        ),
    ],
)
def test_bad_input_is_one_line_naming_the_file_and_item_and_leaves_nothing(
    mira, tmp_path, fmt, folder, name, old, new, message
):
    path = broken_copy(tmp_path, folder, name, old, new)
    source = path.parent.parent if fmt == "voc" else path
    extra = ["--images-dir", path.parent / "media"] if fmt == "labelstudio" else []
    out = tmp_path / "out.tar"
    result = mira("import", fmt, source, "-o", out, *extra)
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert result.stderr.count("\n") == 1
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [folder]


def test_a_missing_image_fails_unless_skipped(mira, tmp_path):
    copy = Path(shutil.copytree(DATA / "cvat", tmp_path / "cvat"))
    (copy / "images" / "street_001.jpg").unlink()
    out = tmp_path / "out.tar"
    result = mira("import", "cvat", copy, "-o", out)
    assert result.returncode == 1
    assert "line 124: <image> 'street_001.jpg': image file not found" in result.stderr
    assert not out.exists()
    result = mira("import", "cvat", copy, "-o", out, "--skip-missing", "--json")
    assert result.returncode == 0
    assert json.loads(result.stdout)["skipped"] == {"missing": 1, "empty_mask": 0}


def test_an_export_that_fails_leaves_no_folder(mira, tmp_path):
    data = tmp_path / "data.tar"
    assert mira("import", "voc", DATA / "voc", "-o", data).returncode == 0
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep").write_text("mine")
    result = mira("export", "voc", data, "-o", tmp_path / "out")
    assert result.returncode == 1
    assert "already exists (use --force to replace it)" in result.stderr
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["keep"]
