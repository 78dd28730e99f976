"""Label Studio's brush RLE: decoded exactly, whatever the block layout; bad streams named."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mira.errors import FormatError
from mira.formats.labelstudio_rle import brush_mask, decode
from tests.formats.labelstudio_brush import brush, encode


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from([0, 0, 0, 1, 255, 77]), min_size=1, max_size=400),
    st.booleans(),
    st.sampled_from([(3, 4, 8, 16), (1, 2, 3, 4), (8, 8, 12, 16)]),
)
def test_any_values_decode_to_themselves(values, group, sizes):
    assert decode(encode(values, sizes=sizes, group=group), "r").tolist() == values


def test_long_runs_and_wide_words_decode():
    values = [0] * 70_000 + [3] * 5 + [65535, 1, 2]
    assert decode(encode(values, word=16), "r").tolist() == values


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 12), st.integers(1, 12), st.data())
def test_a_brush_mask_is_the_alpha_channel(width, height, data):
    bits = data.draw(st.lists(st.booleans(), min_size=width * height, max_size=width * height))
    mask = np.array(bits, dtype=bool).reshape(height, width)
    assert (brush_mask(brush(mask), width, height, "r") == mask).all()


def test_only_alpha_decides():
    rgba = np.zeros((2, 2, 4), dtype=np.uint8)
    rgba[0, 0] = (255, 255, 255, 0)  # coloured but transparent: off
    rgba[1, 1] = (0, 0, 0, 1)  # black, barely opaque: on
    mask = brush_mask(encode(rgba.reshape(-1).tolist()), 2, 2, "r")
    assert mask.tolist() == [[False, False], [False, True]]


def test_bad_streams_are_named():
    with pytest.raises(FormatError, match=r"r: the brush RLE ends before its last value"):
        decode(encode([5] * 10)[:-2], "r")
    with pytest.raises(FormatError, match=r"r: a brush RLE is a list of byte values"):
        decode([1, 256], "r")
    with pytest.raises(
        FormatError, match=r"r: the brush RLE holds 4 values, but its canvas has 16"
    ):
        brush_mask(encode([0, 0, 0, 0]), 2, 2, "r")
