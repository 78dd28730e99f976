import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mira.core import Annotation, Categories, Category, Label
from mira.errors import ValidationError

CATS = Categories(["dog", "cat"])
coord = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


def test_categories_lookup_and_membership():
    assert CATS["dog"] is CATS[0] and CATS[np.int32(1)].name == "cat"
    assert "dog" in CATS and Category("cat") in CATS and 3 not in CATS and "Dog" not in CATS
    assert CATS.index(Category("cat")) == 1
    with pytest.warns(UserWarning, match="category 'DOG' not found, using 'dog' instead"):
        assert CATS["DOG"].name == "dog"
    assert Categories(["dog", "cat"]) == CATS and CATS != ["dog", "cat"]
    assert Category("dog") != "dog"


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (2, "category index 2 is out of range for 2 categories"),
        (-1, "category index -1 is out of range for 2 categories"),
        ("bird", "category 'bird' is not one of ['dog', 'cat']"),
        (1.0, "category key must be an int or str, got 1.0"),
    ],
)
def test_categories_bad_keys(key, message):
    with pytest.raises(ValidationError, match=f"^{__import__('re').escape(message)}$"):
        CATS[key]


def test_categories_unique_case_insensitive():
    with pytest.raises(ValidationError, match=r"unique \(case-insensitive\): 'dog' and 'DOG'"):
        Categories(["dog", "DOG"])


def test_box_keeps_float_coordinates_and_none_score():
    a = Annotation(CATS["dog"], 0.5, 1.25, 2.5, 3.75)
    assert (a.x1, a.y1, a.x2, a.y2) == (0.5, 1.25, 2.5, 3.75)
    assert a.score is None and a.metadata == {} and a.is_rect
    assert a.area() == 2.0 * 2.5
    assert a.points.tolist() == [[0.5, 1.25], [2.5, 1.25], [2.5, 3.75], [0.5, 3.75]]
    assert a.xywh() == (0.5, 1.25, 2.0, 2.5)


def test_polygon_is_stored_open_and_bounded():
    a = Annotation(CATS["cat"], points=[[0, 0], [4, 0], [4, 3], [0, 0]])
    assert a.points.tolist() == [[0, 0], [4, 0], [4, 3]]
    assert not a.is_rect and a.x1y1x2y2() == (0.0, 0.0, 4.0, 3.0)
    assert a.area() == 6.0
    with pytest.raises(ValueError):
        a.points[0, 0] = 5  # read-only


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"x1": 2, "y1": 0, "x2": 1, "y2": 1}, "box is inverted"),
        ({"x1": 0, "y1": 0, "x2": float("nan"), "y2": 1}, "box coordinates must be finite"),
        ({"x1": 0, "y1": 0, "x2": 1}, "a box needs all of x1, y1, x2, y2"),
        ({"points": [[0, 0], [1, 1]]}, "a polygon needs at least 3 points, got 2"),
        ({"points": [[0, 0], [1, 1], [0, 0]]}, "a polygon needs at least 3 points, got 2"),
        ({"points": [[0, 0], [1, float("inf")], [2, 0]]}, "polygon points must be finite"),
        ({"points": [1, 2, 3]}, r"polygon points must have shape \(K, 2\)"),
        ({"x1": 0, "y1": 0, "x2": 1, "y2": 1, "points": [[0, 0]] * 3}, "not both"),
        ({"x1": 0, "y1": 0, "x2": 1, "y2": 1, "score": float("nan")}, "score must be finite"),
    ],
)
def test_annotation_validation(kwargs, message):
    with pytest.raises(ValidationError, match=f"^annotation dog: .*{message}"):
        Annotation(CATS["dog"], **kwargs)


def test_assign_and_convert():
    a = Annotation(CATS["dog"], 0, 0, 2, 2, score=0.5, metadata={"k": 1})
    b = a.assign(x1=1.0)
    assert b.x1y1x2y2() == (1.0, 0.0, 2.0, 2.0) and b.score == 0.5 and b.metadata == {"k": 1}
    p = a.assign(points=[[0, 0], [1, 0], [1, 1]])
    assert not p.is_rect and p.score == 0.5
    other = Categories(["cat", "dog"])
    assert a.convert(other).category is other["dog"]
    with pytest.raises(ValidationError, match="category 'dog' is not in the new categories"):
        a.convert(Categories(["cat"]))


def test_equality_includes_score_and_kind():
    box = Annotation(CATS["dog"], 0, 0, 1, 1)
    assert box == Annotation(CATS["dog"], 0, 0, 1, 1)
    assert box != box.assign(score=0.1)
    assert box != Annotation(CATS["dog"], points=[[0, 0], [1, 0], [1, 1], [0, 1]])
    assert Label(CATS["cat"], 0.5) == Label(CATS["cat"], 0.5) != Label(CATS["cat"])


@given(coord, coord, coord, coord)
def test_box_never_rounds(a, b, c, d):
    x1, x2 = sorted((a, c))
    y1, y2 = sorted((b, d))
    ann = Annotation(CATS["dog"], x1, y1, x2, y2)
    assert ann.x1y1x2y2() == (x1, y1, x2, y2)


def test_bboxes_from_group():
    anns = [
        Annotation(CATS["cat"], 0.5, 1, 2, 3),
        Annotation(CATS["dog"], points=[[1, 1], [3, 1], [2, 4]]),
    ]
    assert CATS.bboxes_from_group(anns).tolist() == [[0.5, 1, 2, 3, 1], [1, 1, 3, 4, 0]]
    assert CATS.bboxes_from_group([]).shape == (0, 5)


def shoelace_with_roll(points):
    """The original polygon area formula, kept as the oracle for `Annotation.area`."""
    x, y = points[:, 0], points[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)


@given(st.lists(st.tuples(coord, coord), min_size=4, max_size=40))  # 4: a closing point may go
def test_polygon_area_is_bit_identical_to_the_roll_formula(points):
    ann = Annotation(CATS["dog"], points=points)
    assert ann.area() == shoelace_with_roll(ann.points)


@given(coord, coord, coord, coord)
def test_box_points_are_a_read_only_ring_made_on_demand(a, b, c, d):
    x1, x2 = sorted((a, c))
    y1, y2 = sorted((b, d))
    ann = Annotation(CATS["dog"], x1, y1, x2, y2)
    ring = np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], dtype=np.float64)
    assert ann.points.dtype == np.float64 and np.array_equal(ann.points, ring)
    assert ann.points is ann.points and not ann.points.flags.writeable
    with pytest.raises(ValueError):
        ann.points[0, 0] = 1.0


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: Annotation(CATS["dog"], "a", 0, 1, 1),
            "annotation dog: box coordinates must be numbers",
        ),
        (
            lambda: Annotation(CATS["dog"], 0, 0, float("inf"), 1),
            "annotation dog: box coordinates must be finite, got [0.0, 0.0, inf, 1.0]",
        ),
        (
            lambda: Annotation(CATS["dog"], 2, 0, 1, 1),
            "annotation dog: box is inverted (x1 > x2 or y1 > y2): [2.0, 0.0, 1.0, 1.0]",
        ),
        (
            lambda: Annotation(CATS["dog"], points=[[0, 0], [1, "x"], [2, 0]]),
            "annotation dog: polygon points must be numbers",
        ),
        (
            lambda: Annotation(CATS["dog"], points=[[0, 0], [1, 1, 1]]),
            "annotation dog: polygon points must be numbers",
        ),
        (
            lambda: Annotation(CATS["dog"], points=[[0, 0, 0]] * 3),
            "annotation dog: polygon points must have shape (K, 2), got (3, 3)",
        ),
        (
            lambda: Annotation(CATS["dog"], points=[[0, 0], [float("nan"), 1], [0, 0]]),
            "annotation dog: a polygon needs at least 3 points, got 2",
        ),
        (
            lambda: Annotation(CATS["dog"], points=[[0, 0], [1, float("nan")], [2, 0]]),
            "annotation dog: polygon points must be finite",
        ),
        (
            lambda: Annotation(CATS["dog"], points=[[0, 0], [1, -float("inf")], [2, 0]]),
            "annotation dog: polygon points must be finite",
        ),
        (
            lambda: Annotation("dog", 0, 0, 1, 1),
            "annotation dog: category must be a Category, got 'dog'",
        ),
        (
            lambda: Annotation(CATS["dog"], 0, 0, 1, 1, score="high"),
            "annotation dog: score must be a number or None, got 'high'",
        ),
        (
            lambda: Annotation(CATS["dog"], 0, 0, 1, 1, metadata=[1]),
            "annotation dog: metadata must be a dict, got list",
        ),
        (
            lambda: Label(CATS["cat"], score=float("nan")),
            "label cat: score must be finite, got nan",
        ),
        (lambda: Label(CATS["cat"], metadata="x"), "label cat: metadata must be a dict, got str"),
    ],
)
def test_validation_messages_are_exact(make, message):
    with pytest.raises(ValidationError) as info:
        make()
    assert str(info.value) == message


def test_valid_values_are_normalised_as_before():
    ann = Annotation(CATS["dog"], 0, 1, 2, 3, score=np.float32(0.5), metadata={"k": 1})
    assert type(ann.score) is float and ann.score == 0.5
    assert (ann.x1, ann.y1, ann.x2, ann.y2) == (0.0, 1.0, 2.0, 3.0)
    assert all(type(v) is float for v in ann.x1y1x2y2())
    metadata = {"k": 1}
    label = Label(CATS["cat"], score=1, metadata=metadata)
    assert label.score == 1.0 and type(label.score) is float
    assert label.metadata == metadata and label.metadata is not metadata


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"x1": 0, "y1": 0, "x2": 10**400, "y2": 1}, "box coordinates must be numbers"),
        ({"points": [[0, 0], [10**400, 0], [1, 1]]}, "polygon points must be numbers"),
        ({"x1": 0, "y1": 0, "x2": 1, "y2": 1, "score": 10**400}, "score must be a number"),
    ],
)
def test_integers_too_large_for_a_float_are_validation_errors(fields, message):
    with pytest.raises(ValidationError, match=message):
        Annotation(Categories(["dog"])["dog"], **fields)


plain_number = st.integers(-(10**6), 10**6) | coord
plain_points = st.lists(st.tuples(plain_number, plain_number), min_size=3, max_size=12)


@given(plain_points, st.booleans(), st.booleans())
def test_polygons_from_lists_match_polygons_from_arrays(points, closed, as_tuples):
    """Lists of numbers skip numpy until `points` is read; nothing else may differ."""
    given_points = [*points, points[0]] if closed else points
    given_points = [tuple(p) if as_tuples else list(p) for p in given_points]
    try:
        array = Annotation(CATS["dog"], points=np.array(given_points, dtype=np.float64))
    except ValidationError as exc:  # e.g. fewer than 3 points once closed
        with pytest.raises(ValidationError, match=re.escape(str(exc))):
            Annotation(CATS["dog"], points=given_points)
        return
    plain = Annotation(CATS["dog"], points=given_points)
    assert plain._points is None  # no array made yet
    assert (plain.x1, plain.y1, plain.x2, plain.y2) == (array.x1, array.y1, array.x2, array.y2)
    assert plain.point_pairs() == array.point_pairs()
    assert all(type(v) is float for pair in plain.point_pairs() for v in pair)
    assert np.array_equal(plain.points, array.points) and not plain.points.flags.writeable
    assert plain == array and plain.area() == array.area()


@pytest.mark.parametrize(
    ("points", "message"),
    [
        ([[0, 0], [1, 0], [0, float("nan")]], "polygon points must be finite"),
        ([[0, 0], [1, 0], [float("inf"), 1]], "polygon points must be finite"),
        ([[0, 0], [1, 0], [0, 0]], "a polygon needs at least 3 points, got 2"),
        ([[0, 0], [1, 0], [0, 10**400]], "polygon points must be numbers"),
        ([[0, 0], [1, 0], [0]], "polygon points must be numbers"),
        ([[0, 0, 0], [1, 0, 0], [0, 1, 0]], "polygon points must have shape (K, 2), got (3, 3)"),
    ],
)
def test_polygons_from_lists_keep_the_array_messages(points, message):
    with pytest.raises(ValidationError) as caught:
        Annotation(CATS["dog"], points=points)
    assert str(caught.value) == f"annotation dog: {message}"


def test_unusual_numbers_still_convert_as_numpy_does():
    odd = Annotation(CATS["dog"], points=[[True, "2.5"], [np.float32(3), 0], [0, 1]])
    assert odd.point_pairs() == [(1.0, 2.5), (3.0, 0.0), (0.0, 1.0)]
    near = Annotation(CATS["dog"], points=[[0, 0], [2.0**53, 0], [0, -(2.0**53)]])
    assert (near.x2, near.y1) == (2.0**53, -(2.0**53))


@pytest.mark.parametrize(
    "points",
    [
        [[0, 0], [1e308, 0], [0, 1e308]],  # their sums overflow (the plain path)
        [[0, 0], [np.float64(1e308), 0], [0, 1]],  # numpy's path
        [[0, 0], [2.0**53 + 2, 0], [0, 1]],
    ],
)
def test_coordinates_beyond_2_to_53_are_refused(points):
    """Found by the fuzzer: areas of such coordinates overflow (stats reported NaN)."""
    with pytest.raises(ValidationError, match="^annotation dog: polygon points must lie within"):
        Annotation(CATS["dog"], points=points)
    with pytest.raises(ValidationError) as info:
        Annotation(CATS["dog"], -1e300, 0, 1e300, 1)
    assert str(info.value) == (
        "annotation dog: box must lie within ±2**53, got [-1e+300, 0.0, 1e+300, 1.0]"
    )


def test_box_point_pairs_are_its_corners():
    box = Annotation(CATS["dog"], 1, 2, 3.5, 4)
    assert box.point_pairs() == [(1.0, 2.0), (3.5, 2.0), (3.5, 4.0), (1.0, 4.0)]
    assert box.points.tolist() == [list(p) for p in box.point_pairs()]
