"""mira.core.resizing, the original's interface over mira.ops.resize: exact values."""

from __future__ import annotations

import numpy as np
import pytest

from mira.core import resizing
from mira.errors import ValidationError


def image(width: int, height: int, value: int = 200) -> np.ndarray:
    return np.full((height, width, 3), value, dtype=np.uint8)


def test_fit_reports_the_factor_applied() -> None:
    batch, scales, sizes = resizing.resize(
        x=[image(3, 7)], resize_config={"method": "fit", "width": 10, "height": 10}
    )
    assert batch.shape == (1, 10, 10, 3)
    assert scales.dtype == np.float64 and scales.tolist() == [[10 / 7, 10 / 7]]
    assert sizes.tolist() == [[10, 4]]  # the pixels: 3 * 10 / 7 = 4.28 -> 4 columns
    assert (batch[0, :, 4:] == 0).all() and (batch[0, :, :4] == 200).all()
    same = resizing.resize([image(10, 10)], {"method": "fit", "width": 10, "height": 10})
    assert same[1].tolist() == [[1.0, 1.0]]


def test_methods_and_dtypes() -> None:
    _, scales, sizes = resizing.resize(
        [image(10, 20)], {"method": "force", "width": 30, "height": 10}
    )
    assert scales.tolist() == [[0.5, 3.0]] and sizes.tolist() == [[10, 30]]
    batch, scales, sizes = resizing.resize(
        [image(10, 20), image(15, 5)], {"method": "none", "cval": 7}
    )
    assert batch.shape == (2, 20, 15, 3) and scales.dtype == np.float32
    assert scales.tolist() == [[1, 1], [1, 1]] and sizes.tolist() == [[20, 10], [5, 15]]
    batch, scales, sizes = resizing.resize(
        [image(300, 100)], {"method": "pad_to_multiple", "base": 32, "max": 128}
    )
    assert batch.shape == (1, 64, 128, 3) and sizes.dtype == np.int32  # 42 rows, padded to 64
    assert scales.dtype == np.float32 and scales[0].tolist() == pytest.approx([128 / 300] * 2)
    assert sizes.tolist() == [[42, 128]]
    # None counts as absent, as in the original: no maximum here.
    batch, scales, _ = resizing.resize(
        [image(33, 5)], {"method": "pad_to_multiple", "base": 16, "max": None, "cval": 3}
    )
    assert batch.shape == (1, 16, 48, 3) and batch[0, 15, 47].tolist() == [3, 3, 3]
    assert scales.tolist() == [[1, 1]]
    _, scales, sizes = resizing.resize(
        np.stack([image(100, 40)]),
        {"method": "fit_side", "target": 50, "side": "longest", "upsample": False},
    )
    assert scales.tolist() == [[0.5, 0.5]] and sizes.tolist() == [[20, 50]]


def test_errors() -> None:
    with pytest.raises(ValidationError, match="method must be one of"):
        resizing.resize([image(4, 4)], {"method": "stretch"})
    with pytest.raises(ValidationError, match="fit_side takes one image at a time"):
        resizing.resize(
            [image(4, 4)] * 2,
            {"method": "fit_side", "target": 2, "side": "longest", "upsample": True},
        )
    with pytest.raises(ValidationError, match=r"method 'force' does not use \['cval'\]"):
        resizing.resize([image(4, 4)], {"method": "force", "width": 2, "height": 2, "cval": 0})
    with pytest.raises(ValidationError, match="method must be one of"):
        resizing.check_resize_method("stretch")
    resizing.check_resize_method("fit")


def test_helpers() -> None:
    resized, scale, size = resizing.fit(image(100, 40), height=30, width=30, force=False, cval=9)
    assert resized.shape == (30, 30, 3) and scale == (0.3, 0.3) and size == (12, 30)
    assert resized[20, 0].tolist() == [9, 9, 9]
    resized, scale, size = resizing.fit(image(100, 40), height=30, width=30, force=True)
    assert scale == (0.75, 0.3) and size == (30, 30)
    resized, scale, size = resizing.fit_side(image(100, 40), 80, "shortest", upsample=True)
    assert resized.shape == (80, 200, 3) and scale == (2.0, 2.0) and size == (80, 200)
    assert resizing.call_resize(image(10, 4), 8, 20).shape == (8, 20, 3)
    dims, scales, sizes = resizing.compute_resize_dimensions(
        np.array([[40, 100], [10, 10]]), {"method": "fit", "width": 50, "height": 50}
    )
    assert dims.tolist() == [[50, 50], [50, 50]]
    assert scales.tolist() == [[0.5, 0.5], [5, 5]] and sizes.tolist() == [[20, 50], [50, 50]]
    dims, _, sizes = resizing.compute_resize_dimensions(
        np.array([[20, 10], [5, 33]]), {"method": "pad_to_multiple", "base": 16}
    )
    assert dims.tolist() == [[48, 32], [48, 32]] and sizes.tolist() == [[20, 10], [5, 33]]
