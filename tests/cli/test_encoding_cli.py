"""--image-format and --quality on every command that encodes pixels: what they write, and
bad values as usage errors (exit 2) that leave nothing behind."""

from __future__ import annotations

import json
import os
import tarfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from mira.core import Annotation, Categories, Scene
from mira.core.jpeg_quality import jpeg_quality
from mira.formats import SceneWriter
from tests.conftest import make_image

CATS = Categories(["dog"])
FLIP = """transform:
  __class_fullname__: Compose
  bbox_params: null
  transforms:
  - {__class_fullname__: HorizontalFlip, p: 1.0}
"""


def bgr_bytes(ext: str, image: np.ndarray, *params: int) -> bytes:
    ok, data = cv2.imencode(ext, image, list(params))
    assert ok
    return data.tobytes()


def write_tar(path: Path, images: dict[str, bytes]) -> Path:
    with SceneWriter(path) as writer:
        for key, data in images.items():
            box = Annotation(CATS["dog"], 2, 3, 20, 25)
            writer.write(Scene(CATS, data, [box], key=key))
    return path


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A JPEG of quality 83 and a PNG, 64x48 each."""
    return write_tar(
        tmp_path / "data.tar",
        {
            "j": bgr_bytes(".jpg", make_image(seed=1), cv2.IMWRITE_JPEG_QUALITY, 83),
            "p": bgr_bytes(".png", make_image(seed=2)),
        },
    )


@pytest.fixture
def alpha(tmp_path: Path) -> Path:
    rgba = np.dstack([make_image(seed=3), np.full((48, 64), 128, np.uint8)])
    return write_tar(tmp_path / "alpha.tar", {"a": bgr_bytes(".png", rgba)})


def command(name: str, source: Path, out: Path, config: Path) -> list[object]:
    return {
        "tile": ["tile", source, "-o", out, "--max-size", "40", "--mode", "grid"],
        "augment": ["augment", source, "-o", out, "--config", config],
        "placeholder": ["placeholder", source, "-o", out],
        "render": ["render", source, "-o", out],
    }[name]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "flip.yaml"
    path.write_text(FLIP)
    return path


def members(path: Path) -> dict[str, bytes]:
    """Image members of a tarball (or files of a folder) by name."""
    if path.is_dir():
        return {p.name: p.read_bytes() for p in sorted(path.iterdir())}
    with tarfile.open(path) as tar:
        return {
            m.name: tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in tar.getmembers()
            if not m.name.endswith(".json")
        }


COMMANDS = ["tile", "augment", "placeholder", "render"]
BAD = [
    (("--quality", "0"), "quality must be a whole number from 1 to 100, got 0"),
    (("--image-format", "gif"), "'gif' is not one of 'keep', 'jpg', 'png', 'webp'"),
    (("--image-format", "png", "--quality", "80"), "quality 80 has no meaning for png"),
]


@pytest.mark.parametrize("name", COMMANDS)
@pytest.mark.parametrize(("args", "message"), BAD, ids=["quality", "format", "png-quality"])
def test_bad_values_are_usage_errors(mira, data, config, tmp_path, name, args, message) -> None:
    before = sorted(os.listdir(tmp_path))
    result = mira(*command(name, data, tmp_path / "out.tar", config), *args)
    assert (result.returncode, result.stdout) == (2, "")
    assert message in result.stderr
    assert sorted(os.listdir(tmp_path)) == before


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("101", "quality must be a whole number from 1 to 100, got 101"),
        ("high", "quality must be a whole number from 1 to 100, got 'high'"),
    ],
)
def test_more_bad_qualities(mira, data, config, tmp_path, value, message) -> None:
    result = mira(*command("tile", data, tmp_path / "out.tar", config), "--quality", value)
    assert result.returncode == 2 and message in result.stderr
    assert not (tmp_path / "out.tar").exists()


@pytest.mark.parametrize("name", COMMANDS)
def test_alpha_to_jpeg_is_a_usage_error_naming_the_scene(
    mira, alpha, config, tmp_path, name
) -> None:
    before = sorted(os.listdir(tmp_path))
    out = tmp_path / "out"
    result = mira(*command(name, alpha, out, config), "--image-format", "jpg", "-j", "2")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "error: scene a: image format jpg cannot hold the alpha channel of this PNG image; "
        "choose png, webp or keep\n"
    )
    assert sorted(os.listdir(tmp_path)) == before


def test_tile_keeps_formats_and_copies_the_jpeg_quality(mira, data, config, tmp_path) -> None:
    out = tmp_path / "out.tar"
    result = mira(*command("tile", data, out, config), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["image_format"], report["quality"]) == ("keep", None)
    assert report["encoded"] == {"jpg q83": 4, "png": 4}
    images = members(out)
    jpegs = [d for n, d in images.items() if n.endswith(".jpg")]
    assert len(jpegs) == 4 and {jpeg_quality(d) for d in jpegs} == {83}
    assert sum(n.endswith(".png") for n in images) == 4


@pytest.mark.parametrize(
    ("args", "encoded", "kinds"),
    [
        (("--quality", "60"), {"jpg q60": 4, "png": 4}, {".jpg": {60}, ".png": None}),
        (("--image-format", "jpg"), {"jpg q83": 4, "jpg q95": 4}, {".jpg": {83, 95}}),
        (("--image-format", "webp"), {"webp q83": 4, "webp lossless": 4}, {".webp": None}),
        (("--image-format", "png"), {"png": 8}, {".png": None}),
    ],
)
def test_tile_writes_the_asked_encoding(mira, data, config, tmp_path, args, encoded, kinds) -> None:
    out = tmp_path / "out.tar"
    result = mira(*command("tile", data, out, config), *args, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["encoded"] == encoded
    images = members(out)
    assert {os.path.splitext(n)[1] for n in images} == set(kinds)
    for ext, qualities in kinds.items():
        if qualities is not None:
            found = {jpeg_quality(d) for n, d in images.items() if n.endswith(ext)}
            assert found == qualities


def test_augment_placeholder_and_render_encode_as_asked(mira, data, config, tmp_path) -> None:
    augmented = tmp_path / "aug.tar"
    result = mira(*command("augment", data, augmented, config), "--json")
    assert json.loads(result.stdout)["encoded"] == {"jpg q83": 1, "png": 1}
    assert jpeg_quality(members(augmented)["j-aug01.jpg"]) == 83
    result = mira(*command("augment", data, augmented, config), "--quality", "50", "--force")
    assert result.returncode == 0 and "jpg q50" in result.stdout
    assert jpeg_quality(members(augmented)["j-aug01.jpg"]) == 50

    placeholders = tmp_path / "placeholders.tar"
    result = mira(*command("placeholder", data, placeholders, config), "--json")
    assert json.loads(result.stdout)["encoded"] == {"png": 2}
    args = ("--image-format", "keep", "--force", "--json")
    result = mira(*command("placeholder", data, placeholders, config), *args)
    assert json.loads(result.stdout)["encoded"] == {"jpg q83": 1, "png": 1}
    assert sorted(members(placeholders)) == ["j.jpg", "p.png"]

    renders = tmp_path / "renders"
    result = mira(*command("render", data, renders, config), "--format", "png")
    assert result.returncode == 0, result.stderr
    assert sorted(members(renders)) == ["contact-sheet.jpg", "j.png", "p.png"]
    args = ("--image-format", "webp", "--quality", "70", "--force", "--json")
    result = mira(*command("render", data, renders, config), *args)
    report = json.loads(result.stdout)
    assert (report["format"], report["quality"], report["encoded"]) == (
        "webp", 70, {"webp q70": 2}
    )  # fmt: skip
    files = members(renders)
    assert sorted(files) == ["contact-sheet.jpg", "j.webp", "p.webp"]
    assert jpeg_quality(files["contact-sheet.jpg"]) == 70
    result = mira(*command("render", data, renders, config), "--image-format", "keep", "--force")
    assert sorted(members(renders)) == ["contact-sheet.jpg", "j.jpg", "p.png"]
    assert jpeg_quality(members(renders)["j.jpg"]) == 83
