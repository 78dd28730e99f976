"""Scene.crop: bounds, clipped annotations (every polygon piece), masks in the new frame."""

from __future__ import annotations

import numpy as np
import pytest

from mira.core import Annotation, Categories, Label, Scene
from mira.core.image import encode_image
from mira.errors import ValidationError

CATS = Categories(["a", "b"])


def pixels(width: int = 60, height: int = 40) -> np.ndarray:
    rng = np.random.default_rng(1)
    return rng.integers(0, 255, size=(height, width, 3), dtype=np.uint8)


def make_scene(annotations: list[Annotation], fmt: str = "png", masks: list | None = None) -> Scene:
    return Scene(
        CATS,
        encode_image(pixels(), fmt),
        annotations,
        metadata={"camera": 3},
        labels=[Label(CATS["b"], score=0.5)],
        masks=masks,
        key="000004",
    )


def test_crop_pixels_annotations_masks() -> None:
    u = [[0, 0], [30, 0], [30, 30], [20, 30], [20, 10], [10, 10], [10, 30], [0, 30]]
    scene = make_scene(
        [
            Annotation(CATS["a"], 5.5, 12.25, 50.0, 39.0, score=0.7, metadata={"id": 1}),
            Annotation(CATS["b"], points=u, metadata={"id": 2}),
            Annotation(CATS["a"], 0, 0, 4, 4, metadata={"id": 3}),
        ],
        masks=[{"visible": False, "name": "m", "contour": [[10, 20], [20, 20], [20, 30]]}],
    )
    crop = scene.crop(5, 15, 45, 40)
    assert crop.key is None
    assert crop.dimensions == (40, 25)
    assert np.array_equal(crop.unmasked_image, pixels()[15:40, 5:45])
    assert crop.image_source.extension == "png"
    assert crop.metadata == {"camera": 3}
    assert crop.labels == scene.labels
    box, left, right = crop.annotations
    assert box.x1y1x2y2() == (0.5, 0.0, 40.0, 24.0)
    assert (box.score, box.metadata) == (0.7, {"id": 1})
    assert sorted((p.x1, p.y1, p.x2, p.y2) for p in (left, right)) == [
        (0.0, 0.0, 5.0, 15.0),
        (15.0, 0.0, 25.0, 15.0),
    ]
    assert left.metadata == right.metadata == {"id": 2}
    assert crop.masks[0]["contour"].tolist() == [[5, 5], [15, 5], [15, 15]]
    # the masks still hide the same source pixels
    assert np.array_equal(crop.image, scene.image[15:40, 5:45])


def test_contained_annotations_are_shifted_exactly() -> None:
    points = [[10.1, 10.3], [20.7, 11.0], [15.2, 19.9], [11.0, 17.0]]
    scene = make_scene([Annotation(CATS["a"], points=points)])
    (moved,) = scene.crop(10, 10, 30, 30).annotations
    assert moved.points.tolist() == (np.array(points) - 10).tolist()


def test_zero_area_annotations() -> None:
    scene = make_scene([Annotation(CATS["a"], 12, 12, 12, 18), Annotation(CATS["a"], 2, 2, 2, 2)])
    (kept,) = scene.crop(10, 10, 20, 20).annotations
    assert kept.x1y1x2y2() == (2.0, 2.0, 2.0, 8.0)


def test_jpeg_sources_give_jpeg_crops() -> None:
    crop = make_scene([], fmt="jpg").crop(0, 0, 8, 8)
    assert crop.image_source.extension == "jpg"
    assert crop.image_source.encoded()[:3] == b"\xff\xd8\xff"


@pytest.mark.parametrize(
    ("window", "message"),
    [
        ((-1, 0, 10, 10), r"crop \(-1, 0, 10, 10\) is outside the 60x40 image"),
        ((0, 0, 61, 10), r"crop \(0, 0, 61, 10\) is outside the 60x40 image"),
        ((5, 0, 5, 10), r"crop \(5, 0, 5, 10\) is empty: need x1 < x2 and y1 < y2"),
        ((0, 0, 10.5, 10), r"crop coordinates must be whole pixels, got \(0, 0, 10.5, 10\)"),
    ],
)
def test_crop_bounds_are_checked(window: tuple, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        make_scene([]).crop(*window)
