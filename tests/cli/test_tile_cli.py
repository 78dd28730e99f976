"""`mira tile` end to end: exact crops, offsets and counts, any --jobs, bad input."""

from __future__ import annotations

import io
import json
import os
import tarfile
from pathlib import Path

import numpy as np
import pytest

from mira.core import Annotation, Categories, Scene, SceneCollection
from mira.core.image import decode_image, encode_image
from mira.formats import iter_scenes
from tests.conftest import make_image

CATS = Categories(["a", "b"])


@pytest.fixture
def data(tmp_path: Path) -> Path:
    scenes = [
        Scene(
            CATS,
            encode_image(make_image(200, 100, seed=1), "jpg", 90),
            [
                Annotation(CATS["a"], 10.5, 20, 40, 50.25, metadata={"id": 0}),
                Annotation(CATS["b"], points=[[150, 60], [190, 60], [170, 95]], metadata={"id": 1}),
                Annotation(CATS["a"], 30, 30, 35, 35, score=0.25, metadata={"id": 2}),
            ],
            metadata={"camera": "left"},
            key="000000",
        ),
        Scene(CATS, encode_image(make_image(50, 40, seed=2), "png"), [], key="000001"),
        Scene(CATS, encode_image(make_image(150, 70, seed=3), "png"), [], key="000002"),
    ]
    path = tmp_path / "data.tar"
    SceneCollection(scenes).save(path)
    return path


@pytest.fixture
def straddling(tmp_path: Path) -> Path:
    scene = Scene(
        CATS,
        encode_image(make_image(100, 50, seed=4), "png"),
        [
            Annotation(CATS["a"], 40, 10, 60, 20),
            Annotation(CATS["b"], points=[[45, 30], [70, 30], [70, 40], [45, 40]]),
        ],
        key="000000",
    )
    path = tmp_path / "straddling.tar"
    SceneCollection([scene]).save(path)
    return path


def test_subcrops_exact(mira, data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.tar"
    result = mira("tile", data, "-o", out, "--max-size", "64", "--json")
    assert (result.returncode, result.stderr) == (0, "")
    assert json.loads(result.stdout) == {
        "output": str(out),
        "max_size": 64,
        "mode": "subcrops",
        "overlap": 0.2,
        "min_visibility": 0.0,
        "oversized": "error",
        "image_format": "keep",
        "quality": None,
        "scenes": {"in": 3, "out": 9},
        "annotations": {"in": 3, "out": 3, "dropped_visibility": 0},
        "encoded": {"jpg q90": 2, "png": 7},
    }
    tiles = list(iter_scenes(out))
    assert [t.metadata.get("tile") for t in tiles] == [
        {"source": "000000", "x": 0, "y": 3},
        {"source": "000000", "x": 136, "y": 36},
        {"source": "000001", "x": 0, "y": 0},  # smaller than max size: the whole image
        {"source": "000002", "x": 0, "y": 0},  # no annotations: the grid, no overlap
        {"source": "000002", "x": 64, "y": 0},
        {"source": "000002", "x": 86, "y": 0},
        {"source": "000002", "x": 0, "y": 6},
        {"source": "000002", "x": 64, "y": 6},
        {"source": "000002", "x": 86, "y": 6},
    ]
    # each tile is keyed <source key>-<x>-<y> (five-digit offsets), so tiles can be merged
    assert [t.key for t in tiles] == [
        "{source}-{x:05d}-{y:05d}".format(**t.metadata["tile"]) for t in tiles
    ]
    assert tiles[1].key == "000000-00136-00036"
    assert tiles[0].metadata["camera"] == "left"
    first, second = tiles[0].annotations, tiles[1].annotations
    assert [a.x1y1x2y2() for a in first] == [(10.5, 17.0, 40.0, 47.25), (30.0, 27.0, 35.0, 32.0)]
    assert [a.metadata["id"] for a in first] == [0, 2] and first[1].score == 0.25
    assert second[0].points.tolist() == [[14, 24], [54, 24], [34, 59]]
    assert [tuple(t.dimensions) for t in tiles[:3]] == [(64, 64), (64, 64), (50, 40)]
    with tarfile.open(out) as tar:
        names = tar.getnames()
        assert names[:6] == [
            "000000-00000-00003.json", "000000-00000-00003.jpg",
            "000000-00136-00036.json", "000000-00136-00036.jpg",
            "000001-00000-00000.json", "000001-00000-00000.png",
        ]  # fmt: skip
        png = tar.extractfile("000002-00064-00000.png").read()  # type: ignore[union-attr]
    source = make_image(150, 70, seed=3)
    assert np.array_equal(decode_image(png, "png"), source[0:64, 64:128])  # PNG stays lossless


def test_grid_visibility_exact(mira, straddling: Path, tmp_path: Path) -> None:
    out = tmp_path / "grid.tar"
    result = mira(
        "tile", straddling, "-o", out, "--max-size", "50", "--mode", "grid",
        "--overlap", "0", "--min-visibility", "0.5", "--json",
    )  # fmt: skip
    assert result.returncode == 0
    report = json.loads(result.stdout)
    assert report["scenes"] == {"in": 1, "out": 2}
    assert report["annotations"] == {"in": 2, "out": 3, "dropped_visibility": 1}
    left, right = iter_scenes(out)
    assert [a.x1y1x2y2() for a in left.annotations] == [(40.0, 10.0, 50.0, 20.0)]
    assert [a.x1y1x2y2() for a in right.annotations] == [
        (0.0, 10.0, 10.0, 20.0),
        (0.0, 30.0, 20.0, 40.0),
    ]
    assert right.metadata == {"tile": {"source": "000000", "x": 50, "y": 0}}


def test_table_output(mira, straddling: Path, tmp_path: Path) -> None:
    out = tmp_path / "t.tar"
    result = mira(
        "tile", straddling, "-o", out, "--max-size", "50", "--mode", "grid", "--overlap", "0"
    )
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "Tiled 1 scenes into 2 (grid, max 50 px)"
    assert lines[1:] == [
        "             in  out  dropped (visibility)",
        "scenes        1    2                     -",
        "annotations   2    4                     0",
        "",
        "Images written",
        "encoding  images",
        "png            2",
    ]


def test_same_bytes_for_any_jobs_and_reruns(mira, data: Path, tmp_path: Path) -> None:
    outputs = []
    for name, jobs in (("j1.tar", "1"), ("j2.tar", "2"), ("again.tar", "2")):
        path = tmp_path / name
        result = mira(
            "tile", data, "-o", path, "--max-size", "48", "--mode", "grid", "--jobs", jobs
        )
        assert result.returncode == 0
        outputs.append(path.read_bytes())
    assert outputs[0] == outputs[1] == outputs[2]


def test_pipes(mira, data: Path) -> None:
    result = mira(
        "tile", "-", "-o", "-", "--max-size", "64", "--json", input=data.read_bytes(), binary=True
    )
    assert result.returncode == 0
    assert json.loads(result.stderr)["scenes"] == {"in": 3, "out": 9}
    with tarfile.open(fileobj=io.BytesIO(result.stdout)) as tar:
        assert len(tar.getnames()) == 18


def test_oversized_annotation(mira, tmp_path: Path) -> None:
    scene = Scene(
        CATS,
        encode_image(make_image(300, 100), "png"),
        [Annotation(CATS["b"], 10, 10, 150.5, 20)],
        key="000007",
    )
    data = tmp_path / "wide.tar"
    SceneCollection([scene]).save(data)
    out = tmp_path / "out.tar"
    result = mira("tile", data, "-o", out, "--max-size", "64")
    assert result.returncode == 1
    assert result.stderr == (
        "error: scene 000007: annotation 0 ('b' at (10, 10, 150.5, 20)) spans 141x10 px, "
        "more than the max size 64; use oversized='crop' (--oversized crop) to give it a "
        "larger crop of its own\n"
    )
    assert not out.exists()
    result = mira("tile", data, "-o", out, "--max-size", "64", "--oversized", "crop", "--json")
    assert result.returncode == 0
    (crop,) = iter_scenes(out)
    assert crop.metadata["tile"] == {"source": "000007", "x": 10, "y": 10}
    assert crop.annotations[0].x1y1x2y2() == (0.0, 0.0, 140.5, 10.0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--max-size", "0"], "Invalid value for '--max-size': 0 is not a positive number of pixels."),
        (["--max-size", "-5"], "Invalid value for '--max-size': -5 is not a positive number of pixels."),
        (["--max-size", "64", "--overlap", "1"], "Invalid value for '--overlap': 1.0 is not in the range 0<=x<1."),
        (["--max-size", "64", "--overlap", "-0.1"], "Invalid value for '--overlap': -0.1 is not in the range 0<=x<1."),
        (["--max-size", "64", "--mode", "mosaic"], "Invalid value for '--mode'"),
        (["--max-size", "64", "--min-visibility", "2"], "Invalid value for '--min-visibility'"),
        (["--max-size", "64", "--jobs", "0"], "Invalid value for '--jobs'"),
        ([], "Missing option '--max-size'"),
    ],
)  # fmt: skip
def test_bad_options_are_usage_errors(mira, data: Path, tmp_path: Path, args, message) -> None:
    result = mira("tile", data, "-o", tmp_path / "out.tar", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""
    assert sorted(os.listdir(tmp_path)) == ["data.tar"]


def test_undecodable_image_is_an_error_naming_it(mira, data: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.tar"
    with tarfile.open(data) as src, tarfile.open(broken, "w", format=tarfile.USTAR_FORMAT) as dst:
        for member in src.getmembers():
            payload = src.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == "000001.png":
                payload = b"\x89PNG\r\n\x1a\n" + b"broken" * 5
            member.size = len(payload)
            dst.addfile(member, io.BytesIO(payload))
    out = tmp_path / "out.tar"
    result = mira("tile", broken, "-o", out, "--max-size", "64")
    assert result.returncode == 1
    assert result.stderr == f"error: {broken}: member 000001.png: cannot decode image (38 bytes)\n"
    assert sorted(os.listdir(tmp_path)) == ["broken.tar", "data.tar"]
