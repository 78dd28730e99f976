"""mira.core.resizing against the original's, config by config, value by value."""

from __future__ import annotations

import numpy as np
import pytest

from mira.core import resizing

# (image sizes as (h, w), config): one batch each; fit pads with cval only in ours.
CASES = [
    ([(50, 100)], {"method": "fit", "width": 40, "height": 40}),
    ([(7, 3), (30, 20)], {"method": "fit", "width": 10, "height": 10}),
    ([(30, 20)], {"method": "fit", "width": 20, "height": 30}),
    ([(20, 10), (5, 15)], {"method": "force", "width": 30, "height": 10}),
    ([(20, 10)], {"method": "pad", "width": 30, "height": 25, "cval": 9}),
    ([(20, 10), (5, 15)], {"method": "none", "cval": 7}),
    ([(20, 10), (5, 33)], {"method": "pad_to_multiple", "base": 16}),
    ([(20, 10), (5, 33)], {"method": "pad_to_multiple", "base": 16, "max": None, "cval": 3}),
    ([(300, 200), (50, 50)], {"method": "pad_to_multiple", "base": 32, "max": 128}),
    ([(40, 100)], {"method": "fit_side", "target": 50, "side": "longest", "upsample": False}),
    ([(40, 100)], {"method": "fit_side", "target": 50, "side": "shortest", "upsample": True}),
    ([(40, 100)], {"method": "fit_side", "target": 500, "side": "longest", "upsample": False}),
]


def images(shapes: list[tuple[int, int]]) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.integers(0, 255, (h, w, 3), dtype=np.uint8) for h, w in shapes]


def test_resize_matches_the_original(original) -> None:
    theirs = original(
        """
        from mira.core import resizing
        result = []
        for shapes, config in cases:
            rng = np.random.default_rng(0)
            x = [rng.integers(0, 255, (h, w, 3), dtype=np.uint8) for h, w in shapes]
            batch, scales, sizes = resizing.resize(x=x, resize_config=config)
            result.append([batch, scales, sizes])
        """,
        cases=CASES,
    )
    for (shapes, config), (batch, scales, sizes) in zip(CASES, theirs, strict=True):
        ours = resizing.resize(x=images(shapes), resize_config=config)
        assert ours[1].dtype == scales.dtype, config
        np.testing.assert_array_equal(ours[1], scales, err_msg=str(config))
        np.testing.assert_array_equal(ours[2], sizes, err_msg=str(config))
        assert ours[0].shape == batch.shape, config
        # Bilinear pixels agree to a grey level (OpenCV versions differ); padding with
        # cval is ours, the original pads fit with 0 whatever cval says.
        difference = np.abs(ours[0].astype(int) - batch.astype(int))
        assert difference.max() <= 1, config


def test_fit_and_fit_side_match_the_original(original) -> None:
    theirs = original(
        """
        from mira.core import resizing
        rng = np.random.default_rng(0)
        image = rng.integers(0, 255, (40, 100, 3), dtype=np.uint8)
        result = [
            resizing.fit(image, height=30, width=30, force=False)[1:],
            resizing.fit(image, height=30, width=30, force=True)[1:],
            resizing.fit_side(image, target_length=50, side="longest", upsample=False)[1:],
            resizing.fit_side(image, target_length=80, side="shortest", upsample=True)[1:],
        ]
        """
    )
    image = images([(40, 100)])[0]
    ours = [
        resizing.fit(image, height=30, width=30, force=False)[1:],
        resizing.fit(image, height=30, width=30, force=True)[1:],
        resizing.fit_side(image, target_length=50, side="longest", upsample=False)[1:],
        resizing.fit_side(image, target_length=80, side="shortest", upsample=True)[1:],
    ]
    for (scale, size), (their_scale, their_size) in zip(ours, theirs, strict=True):
        assert list(scale) == pytest.approx(their_scale) and list(size) == their_size


def test_fit_pads_with_cval_where_the_original_used_zero(original) -> None:
    config = {"method": "fit", "width": 40, "height": 40, "cval": 5}
    theirs = original(
        """
        from mira.core import resizing
        result = resizing.resize([np.full((50, 100, 3), 200, np.uint8)], config)[0]
        """,
        config=config,
    )
    ours = resizing.resize([np.full((50, 100, 3), 200, np.uint8)], config)[0]
    assert theirs[0, 30, 0].tolist() == [0, 0, 0]
    assert ours[0, 30, 0].tolist() == [5, 5, 5]
    assert (ours[0, :20] == theirs[0, :20]).all()


def test_pad_to_multiple_sizes_are_the_content_where_the_original_rounded(original) -> None:
    """300 x 100 into max 128: the pixels are 128 x 42 in both; the original says 43."""
    config = {"method": "pad_to_multiple", "base": 32, "max": 128}
    theirs = original(
        """
        from mira.core import resizing
        batch, scales, sizes = resizing.resize([np.full((100, 300, 3), 200, np.uint8)], config)
        result = [sizes, int((batch[0, :, 0, 0] == 200).sum())]
        """,
        config=config,
    )
    batch, _, sizes = resizing.resize([np.full((100, 300, 3), 200, np.uint8)], config)
    assert theirs[0].tolist() == [[43, 128]] and theirs[1] == 42
    assert sizes.tolist() == [[42, 128]] and int((batch[0, :, 0, 0] == 200).sum()) == 42
