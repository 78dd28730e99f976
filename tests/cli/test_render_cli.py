"""`mira render` as a user runs it: file names, identical reruns, refusals, no leftovers."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from mira.core import Annotation, Categories, Scene
from mira.core.image import decode_image, encode_image
from mira.formats import SceneWriter

CATS = Categories(["dog", "cat"])


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "data.tar"
    with SceneWriter(path) as writer:
        for i in range(5):
            image = np.full((30, 40 + 4 * i, 3), 60 + 10 * i, dtype=np.uint8)
            anns = [
                Annotation(CATS["dog"], 2.5, 3.25, 20, 25),
                Annotation(CATS["cat"], points=[[22, 2], [38, 4], [30, 28]], score=0.75),
            ]
            writer.write(Scene(CATS, encode_image(image, "png"), anns, key=f"img{i}"))
    return path


def listing(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in sorted(os.listdir(folder))}


def test_render_writes_images_and_sheet(mira, data: Path, tmp_path: Path) -> None:
    out = tmp_path / "renders"
    result = mira("render", data, "-o", out, "--json", "--jobs", "2")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "output": str(out),
        "scenes": 5,
        "format": "jpg",
        "quality": None,
        "encoded": {"jpg q95": 5},  # PNG sources: nothing to copy a quality from
        "contact_sheet": "contact-sheet.jpg",
        "contact_sheet_scenes": 5,
    }
    files = listing(out)
    assert list(files) == ["contact-sheet.jpg"] + [f"img{i}.jpg" for i in range(5)]
    assert decode_image(files["img3.jpg"], "img3").shape == (30, 52, 3)
    assert sorted(os.listdir(tmp_path)) == ["data.tar", "renders"]  # no staging left


def test_rerun_is_byte_identical_whatever_the_jobs(mira, data: Path, tmp_path: Path) -> None:
    assert mira("render", data, "-o", tmp_path / "a", "-j", "1").returncode == 0
    assert mira("render", data, "-o", tmp_path / "b", "-j", "2").returncode == 0
    assert listing(tmp_path / "a") == listing(tmp_path / "b")
    assert mira("render", data, "-o", tmp_path / "a", "--force").returncode == 0
    assert listing(tmp_path / "a") == listing(tmp_path / "b")


def test_options(mira, data: Path, tmp_path: Path) -> None:
    out = tmp_path / "png"
    args = ("--limit", "2", "--no-labels", "--opaque", "--format", "png", "-j", "1")
    result = mira("render", data, "-o", out, *args)
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(out)) == ["contact-sheet.jpg", "img0.png", "img1.png"]
    pixels = decode_image((out / "img0.png").read_bytes(), "img0")
    assert tuple(pixels[10, 10]) == (230, 25, 75)  # dog filled in its default colour
    assert tuple(pixels[29, 0]) == (60, 60, 60)
    colormap = tmp_path / "map.yaml"
    colormap.write_text("dog: '#00ff00'\ncat: [0, 0, 255]\n")
    mira("render", data, "-o", tmp_path / "mapped", "--colormap", colormap, "--opaque",
         "--format", "png", "--limit", "1")  # fmt: skip
    pixels = decode_image((tmp_path / "mapped" / "img0.png").read_bytes(), "img0")
    assert tuple(pixels[20, 10]) == (0, 255, 0)


def test_existing_output_is_refused(mira, data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = mira("render", data, "-o", out)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"error: {out}: already exists (use --force to replace it)\n"
    assert listing(out) == {"keep.txt": b"mine"}


def test_output_holding_the_input_is_refused(mira, data: Path, tmp_path: Path) -> None:
    result = mira("render", data, "-o", tmp_path, "--force")
    assert result.returncode == 1
    assert result.stderr == (
        f"error: {tmp_path}: holds or is an input ({data}); refusing to replace it\n"
    )
    assert data.exists()


@pytest.mark.parametrize("case", ["truncated", "colormap", "missing-category"])
def test_failures_leave_no_output(mira, data: Path, tmp_path: Path, case: str) -> None:
    source, extra = data, []
    if case == "truncated":
        source = tmp_path / "cut.tar"
        source.write_bytes(data.read_bytes()[:3000])
        expected = f"error: {source}: "
    else:
        colormap = tmp_path / "map.yaml"
        colormap.write_text("dog: [1, 2, 3]\n" if case == "missing-category" else "dog: [1, 2\n")
        extra = ["--colormap", colormap]
        expected = (
            f"error: {colormap}: category 'cat' not in the colormap"
            if case == "missing-category"
            else f"error: {colormap}: invalid YAML"
        )
    before = sorted(os.listdir(tmp_path))
    result = mira("render", source, "-o", tmp_path / "out", *extra)
    assert result.returncode == 1
    assert result.stderr.startswith(expected), result.stderr
    assert result.stderr.count("\n") == 1
    if case == "truncated":
        assert "truncated" in result.stderr
    assert sorted(os.listdir(tmp_path)) == before


def test_usage_errors(mira, data: Path) -> None:
    assert mira("render", data, "-o", "-").returncode == 2
    assert mira("render", data, "-o", "x", "--limit", "0").returncode == 2
    assert mira("render", data, "-o", "x", "--format", "gif").returncode == 2
    assert mira("render", data).returncode == 2
