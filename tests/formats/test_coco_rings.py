"""A COCO ring becomes the annotation `Annotation(points=...)` would make, through a path
that skips its checks only when they are already made: same ring, corners, score and
metadata, and the same error otherwise."""

from array import array

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mira.core import Annotation, Category
from mira.errors import ValidationError
from mira.formats.coco_geometry import _ring

CAT = Category("dog")
numbers = st.one_of(
    st.floats(),
    st.sampled_from([0.0, -0.0, 2.0**53, -(2.0**53), 2.0**53 + 2, 1e308, 3.0]),
)


def made(values, score, meta):
    pairs = list(zip(values[0::2], values[1::2], strict=True))
    try:
        return Annotation(CAT, points=pairs, score=score, metadata=meta)
    except ValidationError as exc:
        return str(exc)


@given(
    st.lists(numbers, min_size=3, max_size=12).map(lambda v: v + v[:2] if len(v) % 4 else v),
    st.one_of(st.none(), st.floats(), st.integers(-5, 5), st.sampled_from(["x", True])),
)
@settings(max_examples=1500, deadline=None)
def test_ring_is_what_the_constructor_makes(values, score):
    values = values[: len(values) // 2 * 2]
    if len(values) < 6:
        return
    meta = {"coco": {"id": 1}}
    expected = made(values, score, meta)
    try:
        got = _ring(array("d", values), CAT, score, meta)
    except ValidationError as exc:
        assert str(exc) == expected
        return
    assert not isinstance(expected, str), expected
    assert got == expected
    assert got.point_pairs() == expected.point_pairs()
    assert (got.x1, got.y1, got.x2, got.y2) == (expected.x1, expected.y1, expected.x2, expected.y2)
    assert type(got.score) is type(expected.score)
    assert got.metadata == meta and got.metadata is not meta


def test_a_ring_closed_twice_keeps_three_points():
    values = [0.0, 0.0, 4.0, 0.0, 0.0, 0.0, 0.0, 0.0]  # the last point repeats the first
    got = _ring(array("d", values), CAT, None, {})
    assert got.point_pairs() == [(0.0, 0.0), (4.0, 0.0), (0.0, 0.0)]
    with pytest.raises(ValidationError, match="at least 3 points, got 2"):
        _ring(array("d", values[:6]), CAT, None, {})
