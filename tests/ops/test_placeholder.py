"""Placeholders and colour maps: exact pixels, kept fields, strict colormaps, no decoding."""

from __future__ import annotations

import os

import numpy as np
import pytest

from mira.core import Annotation, Categories, ImageSource, Label, Scene, SceneCollection
from mira.core.image import encode_image
from mira.errors import ConfigError, OutputError, ValidationError
from mira.formats import iter_scenes
from mira.ops.colors import (
    ColorResolver,
    default_color,
    default_colors,
    load_colormap,
    parse_color,
    to_hex,
)
from mira.ops.placeholder import parse_background, save_placeholder, to_placeholder

CATS = Categories(["dog", "cat"])
MASK = {"visible": False, "name": "m", "contour": [[0, 0], [3, 0], [3, 3], [0, 3]]}


def scene(key: str = "k0") -> Scene:
    image = encode_image(np.full((12, 16, 3), 7, dtype=np.uint8), "jpg")
    return Scene(
        CATS,
        image,
        [
            Annotation(CATS["dog"], 1.0, 2.0, 5.0, 6.0, score=0.5),
            Annotation(CATS["cat"], points=[[8, 1], [15, 1], [15, 8]]),
        ],
        labels=[Label(CATS["cat"])],
        masks=[MASK],
        metadata={"source": "x"},
        key=key,
    )


def test_default_colours_are_distinct_and_stable() -> None:
    colors = [default_color(i) for i in range(200)]
    assert len(set(colors)) == 200
    assert all(c != (255, 255, 255) and all(0 <= v <= 255 for v in c) for c in colors)
    assert default_colors(["a", "b"]) == {"a": default_color(0), "b": default_color(1)}


@pytest.mark.parametrize(
    ("value", "expected"),
    [("#FF0010", (255, 0, 16)), ("00ff00", (0, 255, 0)), ([1, 2, 3], (1, 2, 3))],
)
def test_parse_color(value, expected) -> None:
    assert parse_color(value) == expected
    assert to_hex(expected) == "#" + "".join(f"{v:02x}" for v in expected)


@pytest.mark.parametrize("value", ["red", "#12345", [1, 2], [0, 0, 256], [1.5, 2, 3], [True, 0, 0]])
def test_bad_colours_are_config_errors(value) -> None:
    with pytest.raises(ConfigError, match=r"^map.yaml: category 'dog': (expected|colour)"):
        parse_color(value, where="map.yaml: category 'dog'")


def test_colormap_file_errors_name_the_file(tmp_path) -> None:
    path = tmp_path / "map.yaml"
    with pytest.raises(ConfigError, match=f"{path}: cannot read colormap"):
        load_colormap(path)
    path.write_text("dog: [1, 2\n")
    with pytest.raises(ConfigError, match=rf"{path}: invalid YAML \(line \d+\)"):
        load_colormap(path)
    path.write_text("- dog\n")
    with pytest.raises(ConfigError, match=f"{path}: expected a mapping"):
        load_colormap(path)
    path.write_text("dog: blue\n")
    with pytest.raises(ConfigError, match=f"{path}: category 'dog': expected"):
        load_colormap(path)
    path.write_text('{"dog": "#010203", "cat": [4, 5, 6], "unused": "#ffffff"}')
    assert load_colormap(path) == {"dog": (1, 2, 3), "cat": (4, 5, 6), "unused": (255, 255, 255)}


def test_a_category_missing_from_the_colormap_is_named(tmp_path) -> None:
    path = tmp_path / "map.yaml"
    path.write_text("dog: '#010203'\n")
    with pytest.raises(ConfigError, match=f"^{path}: category 'cat' not in the colormap$"):
        ColorResolver(path).colors_for(["dog", "cat"])
    with pytest.raises(ConfigError, match="categories 'a', 'b' not in the colormap"):
        ColorResolver({}).colors_for(["a", "b"])


def test_placeholder_pixels_are_exact_and_fields_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    source = scene()
    monkeypatch.setattr(ImageSource, "decode", lambda *a, **k: pytest.fail("decoded"))
    placeholder = to_placeholder(source, {"dog": [255, 0, 0], "cat": "#0000ff"})
    monkeypatch.undo()
    pixels = placeholder.unmasked_image
    expected = np.full((12, 16, 3), 255, dtype=np.uint8)
    expected[2:6, 1:5] = (255, 0, 0)
    rows, cols = np.indices((12, 16))
    # the triangle (8,1)-(15,1)-(15,8): centres on or right of its left edge x - y = 7
    inside = (cols - rows >= 7) & (cols < 15) & (rows >= 1) & (rows < 8)
    expected[inside] = (0, 0, 255)
    assert np.array_equal(pixels, expected)
    assert placeholder.image_source.extension == "png"
    assert placeholder.annotations == source.annotations
    assert placeholder.labels == source.labels
    assert placeholder.metadata == source.metadata and placeholder.key == "k0"
    assert len(placeholder.masks) == 1
    assert (placeholder.image[:3, :3] == 0).all()  # masks still apply when pixels are read


def test_placeholder_background_and_defaults() -> None:
    pixels = scene().to_placeholder(background=0).unmasked_image
    assert tuple(pixels[11, 0]) == (0, 0, 0)
    assert tuple(pixels[3, 2]) == default_color(0)
    assert parse_background("#102030") == (16, 32, 48)
    assert parse_background("12") == (12, 12, 12)
    for bad in (256, -1, "white"):
        with pytest.raises(ValidationError, match="background"):
            parse_background(bad)


def test_save_placeholder_streams_to_a_tarball(tmp_path) -> None:
    path = tmp_path / "out.tar"
    report = SceneCollection([scene("a"), scene("b")]).save_placeholder(
        path, {"dog": [1, 1, 1], "cat": [2, 2, 2]}
    )
    assert report == {
        "output": str(path),
        "scenes": 2,
        "annotations": 4,
        "background": "#ffffff",
        "colors": {"dog": "#010101", "cat": "#020202"},
        "encoded": {"png": 2},
    }
    read = list(iter_scenes(path))
    assert [s.key for s in read] == ["a", "b"]
    assert read[0].image_source.encoded().startswith(b"\x89PNG")
    assert tuple(read[1].unmasked_image[3, 2]) == (1, 1, 1)
    again = tmp_path / "again.tar"
    save_placeholder([scene("a"), scene("b")], again, {"dog": [1, 1, 1], "cat": [2, 2, 2]}, jobs=2)
    assert again.read_bytes() == path.read_bytes()


def test_save_placeholder_failures_leave_no_output(tmp_path) -> None:
    path = tmp_path / "out.tar"
    with pytest.raises(ConfigError, match="category 'cat' not in the colormap"):
        save_placeholder([scene()], path, {"dog": [1, 1, 1]})
    assert os.listdir(tmp_path) == []
    path.write_bytes(b"old")
    with pytest.raises(OutputError, match="already exists"):
        save_placeholder([scene()], path, force=False)
    assert path.read_bytes() == b"old"
