"""`mira placeholder` as a user runs it: exact pixels and report, refusals, no leftovers."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from mira.core import Annotation, Categories, Scene
from mira.core.image import encode_image
from mira.formats import SceneWriter, iter_scenes

CATS = Categories(["dog", "cat"])


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "data.tar"
    image = encode_image(np.full((20, 30, 3), 77, dtype=np.uint8), "jpg")
    with SceneWriter(path) as writer:
        for i in range(3):
            anns = [
                Annotation(CATS["dog"], 1, 2, 6 + i, 8),
                Annotation(CATS["cat"], points=[[10, 0], [30, 0], [30, 20]]),
            ]
            writer.write(Scene(CATS, image, anns, key=f"s{i}", metadata={"i": i}))
    return path


@pytest.fixture
def colormap(tmp_path: Path) -> Path:
    path = tmp_path / "colors.yaml"
    path.write_text("dog: [255, 0, 0]\ncat: '#0000ff'\nhorse: [1, 1, 1]\n")
    return path


def test_placeholder_pixels_and_report(mira, data: Path, colormap: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.tar"
    result = mira("placeholder", data, "-o", out, "--colormap", colormap, "--json", "-j", "2")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "output": str(out),
        "scenes": 3,
        "annotations": 6,
        "background": "#ffffff",
        "colors": {"dog": "#ff0000", "cat": "#0000ff"},
        "encoded": {"png": 3},
    }
    scenes = list(iter_scenes(out))
    assert [(s.key, s.metadata["i"]) for s in scenes] == [("s0", 0), ("s1", 1), ("s2", 2)]
    assert all(s.image_source.extension == "png" for s in scenes)
    pixels = scenes[2].unmasked_image
    red = (pixels == (255, 0, 0)).all(axis=2)
    assert red.sum() == 7 * 6 and red[2:8, 1:8].all()  # box (1, 2, 8, 8)
    blue = (pixels == (0, 0, 255)).all(axis=2)
    rows, cols = np.indices((20, 30))
    assert np.array_equal(blue, cols - rows >= 10)  # triangle: centres on or right of x - y = 10
    assert ((pixels == 255).all(axis=2) == ~(red | blue)).all()


def test_rerun_is_byte_identical(mira, data: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "a.tar", tmp_path / "b.tar"
    assert mira("placeholder", data, "-o", first, "-j", "1").returncode == 0
    assert mira("placeholder", data, "-o", second, "-j", "2").returncode == 0
    assert first.read_bytes() == second.read_bytes()
    assert mira("placeholder", data, "-o", first, "--force").returncode == 0
    assert first.read_bytes() == second.read_bytes()


def test_background_and_table(mira, data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.tar"
    result = mira("placeholder", data, "-o", out, "--background", "0")
    assert result.returncode == 0, result.stderr
    assert "Wrote 3 scenes, 6 annotations" in result.stdout and "#e6194b" in result.stdout
    pixels = next(iter_scenes(out)).unmasked_image
    assert tuple(pixels[19, 0]) == (0, 0, 0)


def test_pipes(mira, data: Path) -> None:
    tarball = mira("placeholder", data, "-o", "-", binary=True)
    assert tarball.returncode == 0
    assert b"Wrote 3 scenes" in tarball.stderr
    stats = mira("stats", "-", "--json", input=tarball.stdout, binary=True)
    assert json.loads(stats.stdout)["annotations"] == 6


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("dog: [255, 0, 0]\n", "{map}: category 'cat' not in the colormap"),
        ("dog: [255, 0\n", "{map}: invalid YAML (line 2)"),
        ("dog: red\ncat: [0, 0, 0]\n", "{map}: category 'dog': expected '#rrggbb' or [r, g, b], got 'red'"),
        ("[dog, cat]\n", "{map}: expected a mapping of category → colour, got list"),
        (None, "{map}: cannot read colormap: No such file or directory"),
    ],
)  # fmt: skip
def test_bad_colormaps(mira, data: Path, tmp_path: Path, content, message) -> None:
    path = tmp_path / "map.yaml"
    if content is not None:
        path.write_text(content)
    before = sorted(os.listdir(tmp_path))
    result = mira("placeholder", data, "-o", tmp_path / "out.tar", "--colormap", path)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"error: {message.format(map=path)}\n"
    assert sorted(os.listdir(tmp_path)) == before


def test_output_rules(mira, data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.tar"
    out.write_bytes(b"precious")
    result = mira("placeholder", data, "-o", out)
    assert result.returncode == 1
    assert result.stderr == f"error: {out}: already exists (use --force to overwrite)\n"
    assert out.read_bytes() == b"precious"
    result = mira("placeholder", data, "-o", data, "--force")
    assert result.returncode == 1
    assert result.stderr == f"error: {data}: is also an input; refusing to overwrite it\n"


def test_truncated_input_leaves_nothing(mira, data: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.tar"
    cut.write_bytes(data.read_bytes()[:2500])
    before = sorted(os.listdir(tmp_path))
    result = mira("placeholder", cut, "-o", tmp_path / "out.tar")
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {cut}: ") and "truncated" in result.stderr
    assert sorted(os.listdir(tmp_path)) == before


def test_usage_errors(mira, data: Path, tmp_path: Path) -> None:
    result = mira("placeholder", data, "-o", tmp_path / "x.tar", "--background", "300")
    assert result.returncode == 2
    assert "background must be between 0 and 255, got 300" in result.stderr
    assert mira("placeholder", data).returncode == 2
    assert not (tmp_path / "x.tar").exists()


def test_colours_are_needed_only_for_what_is_drawn(mira, tmp_path: Path) -> None:
    """Image-level labels are not drawn: their categories need no colour."""
    from mira.core import Label

    cats = Categories(["dog", "cat", "sunny"])
    path = tmp_path / "labelled.tar"
    image = encode_image(np.full((20, 30, 3), 77, dtype=np.uint8), "png")
    with SceneWriter(path) as writer:
        anns = [Annotation(cats["dog"], 1, 2, 6, 8)]
        writer.write(Scene(cats, image, anns, labels=[Label(cats["sunny"])], key="s0"))
        writer.write(Scene(cats, image, [Annotation(cats["cat"], 0, 0, 5, 5)], key="s1"))
    colours = tmp_path / "colours.yaml"
    colours.write_text("dog: [255, 0, 0]\ncat: '#0000ff'\n")
    result = mira("placeholder", path, "-o", tmp_path / "out.tar", "--colormap", colours, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["colors"] == {"dog": "#ff0000", "cat": "#0000ff"}
    result = mira("render", path, "-o", tmp_path / "rendered", "--colormap", colours)
    assert result.returncode == 0, result.stderr
    colours.write_text("dog: [255, 0, 0]\nsunny: [0, 0, 0]\n")  # cat is drawn in s1
    result = mira("placeholder", path, "-o", tmp_path / "again.tar", "--colormap", colours)
    assert (result.returncode, result.stderr) == (
        1,
        f"error: {colours}: category 'cat' not in the colormap\n",
    )
    assert not (tmp_path / "again.tar").exists()
