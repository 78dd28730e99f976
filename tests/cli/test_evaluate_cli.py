"""`mira evaluate` as a user runs it: exact APs (table and JSON), pairing by key, errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mira.core import Annotation, Categories, ImageSource, Scene
from mira.core.image import encode_image
from mira.formats import SceneWriter

CATS = Categories(["dog", "cat", "bird", "fish"])
# A PNG cut after its header: its size is readable, its pixels are not, so a command that
# decoded it would fail.
HEADER_ONLY = encode_image(np.zeros((64, 64, 3), dtype=np.uint8), "png")[:40]


def box(name: str, x1: float, y1: float, x2: float, y2: float, score: float | None = None):
    return Annotation(CATS[name], x1, y1, x2, y2, score=score)


def write(path: Path, scenes: dict[str, list[Annotation]], categories=CATS) -> Path:
    with SceneWriter(path) as writer:
        for key, annotations in scenes.items():
            image = ImageSource.from_bytes(HEADER_ONLY, name=key, dimensions=(64, 64))
            writer.write(Scene(categories, image, annotations, key=key))
    return path


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    """The example of tests/metrics/test_detection.py: dog and cat AP 6/11, bird none,
    fish 0 (never predicted); the predictions file lists the scenes in another order."""
    truth = write(tmp_path / "gt.tar", {
        "a": [box("dog", 0, 0, 10, 10), box("dog", 20, 20, 30, 30), box("cat", 0, 0, 10, 10)],
        "b": [box("cat", 0, 0, 10, 10), box("fish", 40, 40, 50, 50)],
    })  # fmt: skip
    pred = write(tmp_path / "pred.tar", {
        "b": [box("cat", 0, 0, 10, 10, 0.95)],
        "a": [box("dog", 1, 1, 10, 10, 0.8), box("dog", 0, 0, 10, 10, 0.9),
              box("dog", 50, 50, 60, 60, 0.7), box("cat", 0, 0, 5, 5, 0.6)],
    })  # fmt: skip
    return pred, truth


def test_json_report(mira, files) -> None:
    result = mira("evaluate", *files, "--json")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    report = json.loads(result.stdout)
    assert report == {
        "iou_threshold": 0.5,
        "scenes": 2,
        "categories": [
            {"name": "dog", "ground_truth": 2, "predictions": 3, "ap": pytest.approx(6 / 11)},
            {"name": "cat", "ground_truth": 2, "predictions": 2, "ap": pytest.approx(6 / 11)},
            {"name": "bird", "ground_truth": 0, "predictions": 0, "ap": None},
            {"name": "fish", "ground_truth": 1, "predictions": 0, "ap": 0.0},
        ],
        "map": pytest.approx((6 / 11 + 6 / 11 + 0) / 3),
    }


def test_table_and_iou_threshold(mira, files) -> None:
    result = mira("evaluate", *files, "--iou-threshold", "0.2")
    assert result.returncode == 0, result.stderr
    # At IoU > 0.2 the small cat of scene a (IoU 0.25) finds its box: both cats found.
    assert result.stdout == (
        "2 scenes, IoU > 0.2\n"
        "category  ground truth  predictions      AP\n"
        "dog                  2            3  0.5455\n"
        "cat                  2            2       1\n"
        "bird                 0            0       -\n"
        "fish                 1            0       0\n"
        "mAP                  -            -  0.5152\n"
    )


def test_unpaired_scene_is_an_error(mira, files, tmp_path: Path) -> None:
    pred, truth = files
    extra = write(tmp_path / "extra.tar", {"a": [], "b": [], "c": []})
    result = mira("evaluate", extra, truth)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"error: scene c is in {extra} but not in {truth}\n"
    result = mira("evaluate", pred, extra)
    assert result.stderr == f"error: scene c is in {extra} but not in {pred}\n"


def test_prediction_without_score_or_unknown_category(mira, files, tmp_path: Path) -> None:
    _, truth = files
    unscored = write(tmp_path / "unscored.tar", {"a": [], "b": [box("cat", 0, 0, 1, 1)]})
    result = mira("evaluate", unscored, truth)
    assert result.returncode == 1
    assert result.stderr == f"error: {unscored}: scene b: prediction 0 has no score\n"
    other = Categories(["dog", "wolf"])
    wolves = write(
        tmp_path / "wolves.tar",
        {"a": [Annotation(other["wolf"], 0, 0, 1, 1, score=0.5)], "b": []},
        categories=other,
    )
    result = mira("evaluate", wolves, truth)
    assert result.stderr == (
        f"error: {wolves}: scene a: category 'wolf' is not in the ground truth's categories "
        "['dog', 'cat', 'bird', 'fish']\n"
    )


@pytest.mark.parametrize("value", ["1", "-0.1", "x"])
def test_bad_iou_threshold_is_a_usage_error(mira, files, value: str) -> None:
    result = mira("evaluate", *files, "--iou-threshold", value)
    assert result.returncode == 2 and "--iou-threshold" in result.stderr


def test_missing_input(mira, files, tmp_path: Path) -> None:
    result = mira("evaluate", tmp_path / "nope.tar", files[1])
    assert result.returncode == 1 and result.stderr.startswith("error: ")
    assert "nope.tar" in result.stderr
