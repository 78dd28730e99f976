"""`mira split` as users type it: the real command in a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import tarfile

import numpy as np
import pytest

from mira.core import Annotation, Categories, Scene
from mira.core.image import encode_image
from mira.formats import SceneWriter

CATEGORIES = ["dog", "cat", "bird"]


def write_dataset(path, n=20, camera=True):
    """Scene i: video v{i // 4}, i % 4 annotations, an image of its own (copies would be
    kept in one part); scene 5 is marked for the test part."""
    cats = Categories(CATEGORIES)
    images = [encode_image(np.full((6, 8, 3), 5 * v, np.uint8), "png") for v in range(n)]
    with SceneWriter(path) as writer:
        for i in range(n):
            metadata = {"video": f"v{i // 4}", "source": {"camera": f"c{i % 2}"}}
            if i == 5:
                metadata["fixed"] = "test"
            if not camera and i == 3:
                del metadata["source"]
            anns = [Annotation(cats[(i + j) % 3], j, j, j + 2.5, j + 3) for j in range(i % 4)]
            writer.write(Scene(cats, images[i], annotations=anns, metadata=metadata,
                               key=f"{i:06d}"))  # fmt: skip
    return path


@pytest.fixture
def data(tmp_path):
    write_dataset(tmp_path / "data.tar")
    return tmp_path


def member_names(path):
    with tarfile.open(path) as archive:
        return archive.getnames()


def read_bytes(path):
    with open(path, "rb") as handle:
        return handle.read()


def test_split_with_three_sizes_after_one_flag(mira, data):
    result = mira("split", "data.tar", "--sizes", "0.7", "0.15", "0.15", "--json", cwd=data)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    report = json.loads(result.stdout)
    assert [p["name"] for p in report["parts"]] == ["train", "val", "test"]
    assert [p["path"] for p in report["parts"]] == [
        "data-train.tar",
        "data-val.tar",
        "data-test.tar",
    ]
    assert [p["scenes"] for p in report["parts"]] == [14, 3, 3]
    assert report["scenes"] == 20
    assert report["annotations"] == 30
    assert sorted(os.listdir(data)) == [
        "data-test.tar",
        "data-train.tar",
        "data-val.tar",
        "data.tar",
    ]
    names = [n for p in report["parts"] for n in member_names(data / p["path"])]
    assert sorted(names) == sorted(member_names(data / "data.tar"))
    assert len(member_names(data / "data-val.tar")) == 6  # 3 scenes: a record and an image each


def test_repeated_flags_and_default_names(mira, data):
    result = mira("split", "data.tar", "--sizes", "0.7", "--sizes", "0.3", "--json", cwd=data)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [(p["name"], p["scenes"]) for p in report["parts"]] == [("train", 14), ("test", 6)]
    (data / "out").mkdir()
    result = mira("split", "data.tar", "--sizes", *["0.25"] * 4, "--json", "--out-dir", "out",
                  cwd=data)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(data / "out")) == [f"data-part{i}.tar" for i in range(4)]
    assert [p["path"] for p in json.loads(result.stdout)["parts"]][0] == "out/data-part0.tar"


def test_custom_names_and_the_table(mira, data):
    result = mira("split", "data.tar", "--sizes", "0.5", "0.5", "--names", "fit", "holdout",
                  "--group", "metadata.video", cwd=data)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(data)) == ["data-fit.tar", "data-holdout.tar", "data.tar"]
    lines = result.stdout.splitlines()
    assert lines[0] == "Split 20 scenes (seed 42)"
    row = ["fit", "data-fit.tar", "0.5", "10", "12", "18", "ok"]  # 2 off, groups of 4 allow 3
    assert row in [line.split() for line in lines], result.stdout  # videos of 4: 12 + 8
    assert "ok: no group crosses parts" in result.stdout
    assert any(line.startswith("dog ") for line in lines)


def test_reruns_are_byte_identical_and_the_seed_matters(mira, data):
    other = data / "again"
    other.mkdir()
    shutil.copy(data / "data.tar", other / "data.tar")
    arguments = ["split", "data.tar", "--sizes", "0.6", "0.4", "--stratify", "categories"]
    assert mira(*arguments, cwd=data).returncode == 0
    assert mira(*arguments, cwd=other).returncode == 0
    for name in ("data-train.tar", "data-test.tar"):
        assert read_bytes(data / name) == read_bytes(other / name)
    first = read_bytes(data / "data-train.tar")
    assert mira(*arguments, "--force", cwd=data).returncode == 0
    assert read_bytes(data / "data-train.tar") == first
    assert mira(*arguments, "--force", "--seed", "7", cwd=data).returncode == 0
    assert read_bytes(data / "data-train.tar") != first


def test_standard_input_is_split_too(mira, data):
    (data / "out").mkdir()
    result = mira("split", "-", "--sizes", "0.5", "0.5", "--out-dir", "out", "--json",
                  input=read_bytes(data / "data.tar"), binary=True, cwd=data)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(data / "out")) == ["split-test.tar", "split-train.tar"]
    assert mira("split", "data.tar", "--sizes", "0.5", "0.5", cwd=data).returncode == 0
    assert read_bytes(data / "out" / "split-train.tar") == read_bytes(data / "data-train.tar")


def test_group_stratify_and_preserve(mira, data):
    result = mira("split", "data.tar", "--sizes", "0.7", "0.15", "0.15", "--group",
                  "metadata.video", "--stratify", "metadata.source.camera", "--preserve",
                  "metadata.fixed", "--json", cwd=data)  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["groups"] == {"key": "metadata.video", "count": 5, "crossing": 0, "ok": True}
    assert report["sanity"]["ok"] is True
    assert [p["preserved"] for p in report["parts"]] == [0, 0, 1]
    assert "000005.json" in member_names(data / "data-test.tar")
    assert "000004.json" in member_names(data / "data-test.tar")  # the rest of its video


def test_missing_metadata_can_be_given_a_value(mira, tmp_path):
    write_dataset(tmp_path / "data.tar", camera=False)
    result = mira("split", "data.tar", "--sizes", "0.5", "0.5", "--group",
                  "metadata.source.camera", cwd=tmp_path)  # fmt: skip
    assert result.returncode == 1
    assert result.stderr == (
        "error: scene 000003: no value for metadata.source.camera "
        "(give a default with --missing VALUE)\n"
    )
    assert os.listdir(tmp_path) == ["data.tar"]
    result = mira("split", "data.tar", "--sizes", "0.5", "0.5", "--group",
                  "metadata.source.camera", "--missing", "none", "--json", cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["groups"]["count"] == 3


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["--sizes", "0.5", "0.5", "--group", "metadata.camera"],
            "scene 000000: no value for metadata.camera (give a default with --missing VALUE)",
        ),
        (
            ["--sizes", "0.5", "0.5", "--preserve", "metadata.video"],
            "scene 000000: metadata.video is 'v0', which is not a part name (train, test)",
        ),
        (
            ["--sizes", "0.5", "0.5", "--out-dir", "data.tar"],
            "data.tar/data-train.tar: data.tar is not a folder",
        ),
        (
            ["--sizes", "0.5", "0.5", "--out-dir", "data.tar/parts"],
            "data.tar/parts/data-train.tar: cannot create folder data.tar/parts: "
            "data.tar is not a folder",
        ),
    ],
)
def test_bad_arguments_fail_cleanly(mira, data, arguments, message):
    result = mira("split", "data.tar", *arguments, cwd=data)
    assert (result.returncode, result.stderr, result.stdout) == (1, f"error: {message}\n", "")
    assert os.listdir(data) == ["data.tar"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["--sizes", "0.7", "0.2"],
            "Invalid value for '--sizes': sizes must sum to 1, got 0.9 (0.7 + 0.2)",
        ),
        (
            ["--sizes", "1.2", "-0.2"],
            "Invalid value for '--sizes': sizes must be positive, got -0.2",
        ),
        (
            ["--sizes", "0.5", "0.5", "0"],
            "Invalid value for '--sizes': sizes must be positive, got 0",
        ),
        (
            ["--sizes", "0.7", "0.15", "0.15", "--names", "a", "b"],
            "Invalid value for '--names': 2 names given for 3 sizes",
        ),
        (
            ["--sizes", "0.5", "0.5", "--names", "a", "a"],
            "Invalid value for '--names': part names must be unique, got a a",
        ),
        (
            ["--sizes", "0.5", "0.5", "--stratify", "camera"],
            "Invalid value for '--stratify': unknown key 'camera'",
        ),
        (
            ["--sizes", "0.5", "0.5", "--preserve", "categories"],
            "Invalid value for '--preserve': preserve needs a metadata.PATH key, got 'categories'",
        ),
        (["--sizes", "abc"], "Invalid value for '--sizes': Input should be a valid number"),
        ([], "Missing option '--sizes'."),
        (["--sizes"], "Option '--sizes' requires an argument."),
        (
            ["--sizes", "0.5", "0.5", "--seed", "x"],
            "Invalid value for '--seed': Input should be a valid integer",
        ),
    ],
)
def test_usage_errors_exit_2(mira, data, arguments, message):
    result = mira("split", "data.tar", *arguments, cwd=data)
    assert result.returncode == 2
    assert message in " ".join(result.stderr.replace("│", " ").split())
    assert result.stdout == ""
    assert os.listdir(data) == ["data.tar"]


def test_existing_outputs_need_force_and_bad_tarballs_leave_nothing(mira, data):
    (data / "data-test.tar").write_bytes(b"keep me")
    result = mira("split", "data.tar", "--sizes", "0.5", "0.5", cwd=data)
    assert (result.returncode, result.stderr) == (
        1,
        "error: data-test.tar: already exists (use --force to overwrite)\n",
    )
    assert sorted(os.listdir(data)) == ["data-test.tar", "data.tar"]
    assert read_bytes(data / "data-test.tar") == b"keep me"
    os.unlink(data / "data-test.tar")

    with tarfile.open(data / "data.tar") as archive:
        member = archive.getmembers()[21]  # an image in the middle of the tarball
    cut = member.offset_data + member.size // 2
    (data / "cut.tar").write_bytes(read_bytes(data / "data.tar")[:cut])
    result = mira("split", "cut.tar", "--sizes", "0.5", "0.5", cwd=data)
    assert result.returncode == 1
    assert result.stderr == f"error: cut.tar: member '{member.name}' is truncated\n"
    assert sorted(os.listdir(data)) == ["cut.tar", "data.tar"]

    with SceneWriter(data / "empty.tar"):
        pass
    result = mira("split", "empty.tar", "--sizes", "0.5", "0.5", cwd=data)
    assert (result.returncode, result.stderr) == (1, "error: empty.tar: no scenes to split\n")
    assert sorted(os.listdir(data)) == ["cut.tar", "data.tar", "empty.tar"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--sizes", "a", "b"], "Invalid value for '--sizes': Input should be a valid number, "
                                "unable to parse string as a number (got 'a')"),
        (["--sizes", "0.5", "0.5", "--seed", "x"], "Invalid value for '--seed': Input should "
                                                   "be a valid integer, unable to parse string "
                                                   "as an integer (got 'x')"),
        (["--sizes", "0.5", "0.5", "--shard-size", "0"], "Invalid value for '--shard-size': "
                                                         "Input should be greater than or "
                                                         "equal to 1 (got '0')"),
    ],
)  # fmt: skip
def test_a_bad_number_is_named(mira, data, arguments, message):
    result = mira("split", "data.tar", *arguments, cwd=data)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == f"Error: {message}"
    assert os.listdir(data) == ["data.tar"]
