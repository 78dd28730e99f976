"""Pixel commands write images sized like their sources: a quality-Q JPEG gives quality-Q
pieces and copies, about as many bytes per pixel as the source (issue 19)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from mira.core import Annotation, Categories, Scene
from mira.core.encoding import Encoding
from mira.core.jpeg_quality import jpeg_quality
from mira.ops.augment import compose
from mira.ops.augment_stream import augment_scenes
from mira.ops.tiling import tile_scenes

CATS = Categories(["a"])
WIDTH, HEIGHT = 768, 512
#: Pieces may take this much more space per pixel than their source (re-encoding a decoded
#: JPEG at its own quality costs a few per cent; windows off the 8-pixel grid a little more).
BOUND = 1.2


def photo(seed: int = 0) -> np.ndarray:
    """BGR pixels like a photograph's: smooth gradients, sensor noise, solid objects."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    image = np.stack(
        [128 + 60 * np.sin(x / 37.0), 128 + 60 * np.cos(y / 23.0), (x + y) % 256 * 0.5 + 60],
        axis=2,
    )
    image = image + rng.normal(0, 8, image.shape)
    for _ in range(12):
        x0, y0 = (int(v) for v in rng.integers(0, [WIDTH - 80, HEIGHT - 80]))
        color = [float(v) for v in rng.integers(0, 255, 3)]
        cv2.rectangle(image, (x0, y0), (x0 + 60, y0 + 50), color, -1)
    return np.clip(image, 0, 255).astype(np.uint8)


def source(quality: int) -> Scene:
    ok, data = cv2.imencode(".jpg", photo(), [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return Scene(CATS, data.tobytes(), [Annotation(CATS["a"], 5, 5, 30, 30)], key="s")


def bytes_per_pixel(scenes: list[Scene]) -> float:
    size = sum(len(s.image_source.encoded()) for s in scenes)
    return size / sum(s.dimensions.width * s.dimensions.height for s in scenes)


def tiles(scene: Scene, encoding: Encoding | None = None) -> list[Scene]:
    """Grid tiles whose windows start off the 16-pixel grid (steps of 200 px)."""
    return list(tile_scenes([scene], 250, "grid", 0.2, jobs=1, encoding=encoding))


@pytest.mark.parametrize("quality", [60, 75, 90])
def test_tiles_of_a_jpeg_are_its_quality_and_size(quality: int) -> None:
    scene = source(quality)
    pieces = tiles(scene)
    assert len(pieces) == 12
    assert {jpeg_quality(p.image_source.encoded()) for p in pieces} == {quality}
    ratio = bytes_per_pixel(pieces) / bytes_per_pixel([scene])
    assert 1 / BOUND < ratio < BOUND


def test_the_bound_tells_copied_quality_from_a_fixed_95() -> None:
    """What mira did before: quality 95 for every JPEG piece, over 1.2x a q90 source's size."""
    scene = source(90)
    ratio = bytes_per_pixel(tiles(scene, Encoding("jpg", 95))) / bytes_per_pixel([scene])
    assert ratio > BOUND


def test_the_copied_quality_is_capped_at_95() -> None:
    scene = source(99)
    pieces = tiles(scene)
    assert {jpeg_quality(p.image_source.encoded()) for p in pieces} == {95}
    assert bytes_per_pixel(pieces) < bytes_per_pixel([scene]) / 1.2


def test_an_asked_quality_wins_and_lowers_the_size() -> None:
    scene = source(90)
    pieces = tiles(scene, Encoding("keep", 50))
    assert {jpeg_quality(p.image_source.encoded()) for p in pieces} == {50}
    assert bytes_per_pixel(pieces) < bytes_per_pixel([scene]) / 1.5


def test_augmented_copies_of_a_jpeg_are_its_quality_and_size() -> None:
    scene = source(85)
    copies = list(augment_scenes([scene], compose([]), copies=2, jobs=1))
    assert {jpeg_quality(c.image_source.encoded()) for c in copies} == {85}
    ratio = bytes_per_pixel(copies) / bytes_per_pixel([scene])
    assert 1 / BOUND < ratio < BOUND
