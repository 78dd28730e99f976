"""ResizeConfig methods: sizes, scales, padding colour, and scenes scaled consistently."""

from __future__ import annotations

import numpy as np
import pytest

from mira.core import Annotation, Categories, Scene
from mira.core.image import encode_image
from mira.errors import ValidationError
from mira.ops.resize import resize

CATS = Categories(["a"])


def image(width: int, height: int) -> np.ndarray:
    return np.full((height, width, 3), 200, dtype=np.uint8)


def test_fit_pads_with_cval() -> None:
    batch, scales, sizes = resize(
        [image(100, 50)], {"method": "fit", "width": 40, "height": 40, "cval": [1, 2, 3]}
    )
    assert batch.shape == (1, 40, 40, 3)
    assert sizes.tolist() == [[20, 40]]
    assert scales.tolist() == [[0.4, 0.4]]
    assert batch[0, :20].min() == 200
    assert batch[0, 20:].reshape(-1, 3).tolist() == [[1, 2, 3]] * (20 * 40)


def test_fit_truncates_exactly_and_reports_true_scales() -> None:
    _, scales, sizes = resize([image(3, 7)], {"method": "fit", "width": 10, "height": 10})
    assert sizes.tolist() == [[10, 4]]  # 3 * 10 / 7 = 4.28 -> 4
    assert scales.tolist() == [[10 / 7, 4 / 3]]


def test_fit_same_size_is_unchanged() -> None:
    img = np.random.default_rng(0).integers(0, 255, (30, 20, 3), dtype=np.uint8)
    batch, scales, _ = resize([img], {"method": "fit", "width": 20, "height": 30})
    assert np.array_equal(batch[0], img) and scales.tolist() == [[1.0, 1.0]]


def test_force_pad_none() -> None:
    batch, scales, sizes = resize([image(10, 20)], {"method": "force", "width": 30, "height": 10})
    assert batch.shape == (1, 10, 30, 3) and scales.tolist() == [[0.5, 3.0]]
    batch, scales, sizes = resize(
        [image(10, 20)], {"method": "pad", "width": 30, "height": 25, "cval": 9}
    )
    assert batch.shape == (1, 25, 30, 3) and scales.tolist() == [[1, 1]]
    assert sizes.tolist() == [[20, 10]] and batch[0, 24, 29].tolist() == [9, 9, 9]
    with pytest.raises(
        ValidationError, match="resize pad: image 10x20 is larger than the target 5x5"
    ):
        resize([image(10, 20)], {"method": "pad", "width": 5, "height": 5})
    batch, _, sizes = resize([image(10, 20), image(15, 5)], {"method": "none", "cval": 7})
    assert batch.shape == (2, 20, 15, 3) and sizes.tolist() == [[20, 10], [5, 15]]
    assert batch[1, 19, 0].tolist() == [7, 7, 7]


def test_pad_to_multiple() -> None:
    batch, scales, sizes = resize([image(33, 20)], {"method": "pad_to_multiple", "base": 16})
    assert batch.shape == (1, 32, 48, 3) and sizes.tolist() == [[20, 33]]
    config = {"method": "pad_to_multiple", "base": 16, "max": 32, "cval": 5}
    batch, scales, sizes = resize([image(64, 40)], config)
    assert batch.shape == (1, 32, 32, 3) and sizes.tolist() == [[20, 32]]
    assert scales.tolist() == [[0.5, 0.5]]
    assert batch[0, 31, 0].tolist() == [5, 5, 5]  # the downscale path honours cval too


def test_fit_side() -> None:
    base = {"method": "fit_side", "target": 50, "upsample": False}
    _, scales, sizes = resize([image(200, 100)], {**base, "side": "longest"})
    assert sizes.tolist() == [[25, 50]] and scales.tolist() == [[0.25, 0.25]]
    _, _, sizes = resize([image(200, 100)], {**base, "side": "shortest"})
    assert sizes.tolist() == [[50, 100]]
    _, _, sizes = resize([image(20, 10)], {**base, "side": "longest"})
    assert sizes.tolist() == [[10, 20]]  # no upsampling
    _, _, sizes = resize([image(20, 10)], {**base, "side": "longest", "upsample": True})
    assert sizes.tolist() == [[25, 50]]
    _, _, sizes = resize([image(30, 7)], {**base, "side": "longest", "upsample": True})
    assert sizes.tolist() == [[12, 50]]  # 7 * 50 / 30 = 11.67 -> 12


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"method": "shrink"}, r"method must be one of \('fit', 'pad', 'force', 'none'"),
        ({"method": "fit", "width": 10}, r"method 'fit' needs \['height'\]"),
        ({"method": "force", "width": 1, "height": 1, "cval": 0}, r"does not use \['cval'\]"),
        ({"method": "fit", "width": 0, "height": 1}, "width must be a positive integer, got 0"),
        ({"method": "none", "cval": 300}, "cval must be one value or three values in 0-255"),
        ({"method": "pad_to_multiple", "base": 16, "max": 40}, r"max \(40\) must be a multiple"),
        (
            {"method": "fit_side", "target": 5, "side": "long", "upsample": True},
            "side must be 'longest' or 'shortest', got 'long'",
        ),
        ({}, "resize config must be a dict with a 'method'"),
    ],
)
def test_bad_configs(config: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        resize([image(4, 4)], config)


def test_scene_resize_scales_boxes_polygons_and_masks_alike() -> None:
    corners = [[3, 3], [7, 3], [7, 7], [3, 7]]
    scene = Scene(
        CATS,
        encode_image(image(100, 50), "jpg"),
        [Annotation(CATS["a"], 3, 3, 7, 7), Annotation(CATS["a"], points=corners)],
        masks=[{"visible": False, "name": "m", "contour": corners}],
        metadata={"k": 1},
        key="000001",
    )
    out = scene.resize({"method": "fit", "width": 40, "height": 40, "cval": 0})
    box, polygon = out.annotations
    assert box.x1y1x2y2() == (
        1.2000000000000002,
        1.2000000000000002,
        2.8000000000000003,
        2.8000000000000003,
    )
    assert polygon.points.tolist() == box.points.tolist()
    assert out.masks[0]["contour"].tolist() == box.points.tolist()
    assert out.dimensions == (40, 40)
    assert out.image_source.extension == "jpg"
    assert (out.metadata, out.key) == ({"k": 1}, "000001")


def test_scene_resize_without_change_keeps_the_bytes() -> None:
    scene = Scene(CATS, encode_image(image(20, 10), "png"), [])
    assert scene.resize({"method": "none"}) is scene
