"""COCO's RLE, checked against pycocotools; polygons along pixel edges fill back exactly."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from mira.errors import ValidationError
from mira.formats.coco_rle import decode_counts, encode_counts, mask_to_rle, rasterize, rle_to_mask
from mira.formats.qsl_rle import mask_to_polygons

masks = st.tuples(st.integers(1, 12), st.integers(1, 12)).flatmap(lambda shape: arrays(bool, shape))


@settings(max_examples=150, deadline=None)
@given(mask=masks)
def test_counts_and_strings_are_pycocotools(mask):
    from pycocotools import mask as coco_mask

    theirs = coco_mask.encode(np.asfortranarray(mask.astype(np.uint8)))
    counts = mask_to_rle(mask)
    assert encode_counts(counts) == theirs["counts"].decode()
    assert decode_counts(theirs["counts"].decode()) == counts
    assert (rle_to_mask(counts, *mask.shape) == mask).all()


@settings(max_examples=150, deadline=None)
@given(mask=masks)
def test_pixel_edge_polygons_fill_back_to_the_mask(mask):
    polygons = mask_to_polygons(mask)
    assert (rasterize(polygons, *mask.shape) == mask).all()


def test_large_counts_and_negative_differences_survive():
    counts = [0, 70000, 3, 1, 2, 69994]
    assert decode_counts(encode_counts(counts)) == counts


def test_bad_rle_is_a_clear_error():
    with pytest.raises(
        ValidationError, match="RLE counts add up to 5 pixels, but a 2x2 mask has 4"
    ):
        rle_to_mask([1, 4], 2, 2)
    with pytest.raises(ValidationError, match="outside COCO's alphabet"):
        decode_counts("ab~")
    with pytest.raises(ValidationError, match="ends in the middle of a count"):
        decode_counts("0o")


def test_rasterize_fills_centres_inside_float_polygons():
    triangle = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]])
    # the pixels whose centres (x + 0.5, y + 0.5) lie below the diagonal: x + y < 3
    expected = np.array([[1, 1, 1, 0], [1, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]], dtype=bool)
    assert (rasterize([triangle], 4, 4) == expected).all()
