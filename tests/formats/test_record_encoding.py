"""The scene record is written by msgspec when that gives json's bytes, by json otherwise:
either way the bytes are exactly those of json.JSONEncoder(ensure_ascii=False,
separators=(",", ":"), allow_nan=False), and what json refuses is still refused."""

import datetime
import decimal
import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mira.core import Annotation, Categories, Label, Scene
from mira.core.fingerprint import Fingerprint
from mira.core.image import ImageSource
from mira.errors import ValidationError
from mira.formats import tar_native
from mira.formats.tar_native import _fast_dump, _plain, encode_record


def json_bytes(value):
    return tar_native._ENCODER.encode(value).encode("utf-8")


#: Floats around every place where json and msgspec format them differently.
floats = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-1e-3, max_value=1e-3),
    st.floats(min_value=1e15, max_value=1e17),
    st.sampled_from([0.0, -0.0, 1e-4, 1e-5, 9.999e-5, 1e16, 9999999999999998.0, 5e-324]),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    floats,
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8")),
    st.sampled_from(["0.00001", ":1e5", "1e-5", 'é\u2028\x00\x1f\x7f"\\/😀']),
)
odd = st.sampled_from(
    [
        datetime.date(2020, 1, 2),
        decimal.Decimal("1.5"),
        {1, 2},
        b"ab",
        np.float32(0.5),
        np.int64(3),
        np.array([1.0, 2.0]),
        (1, 2),
    ]
)
values = st.recursive(
    st.one_of(scalars, odd),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=5), inner, max_size=4),
        st.dictionaries(st.integers(), inner, max_size=2),
    ),
    max_leaves=12,
)


@given(values)
@settings(max_examples=1500, deadline=None)
def test_fast_encoding_is_json_or_declines(value):
    fast = _fast_dump({"metadata": value}, _plain(value))
    try:
        expected = json_bytes({"metadata": value})
    except (TypeError, ValueError, UnicodeEncodeError):
        assert fast is None  # json refuses it: the record must go to json, which says so
        return
    assert fast is None or fast == expected


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=50))
@settings(max_examples=800, deadline=None)
def test_every_float_is_json_or_declined(numbers):
    fast = _fast_dump({"polygon": numbers}, True)
    assert fast is None or fast == json_bytes({"polygon": numbers})
    tiny_or_huge = any(x != 0 and not 1e-4 <= abs(x) < 1e16 for x in numbers)
    assert (fast is None) == tiny_or_huge  # numbers are found exactly


def test_plain_values_use_msgspec_and_others_do_not():
    assert (
        _fast_dump({"a": [1, 2.5, None, True, "é"]}, True) == b'{"a":[1,2.5,null,true,"\xc3\xa9"]}'
    )
    for value in (math.nan, math.inf, np.float64(1.0), np.int64(1), {1: 2}, (1, {2}), Label):
        assert not _plain(value), value
    assert _plain({"a": [(1.0, 2.0), {"b": None}]})
    assert _fast_dump({"x": 1e-5}, True) is None
    text = {"x": "file 1e5 and x0.00001"}  # candidates in a string, which the pattern clears
    assert _fast_dump(text, True) == json_bytes(text)
    assert _fast_dump({"x": "a,1e5"}, True) is None  # a number to the pattern: json writes it


scene_floats = st.floats(min_value=-1e17, max_value=1e17).filter(lambda v: abs(v) <= 2.0**53)


@given(
    st.lists(st.tuples(scene_floats, scene_floats), min_size=3, max_size=8),
    st.tuples(scene_floats, scene_floats, scene_floats, scene_floats),
    st.one_of(st.none(), scene_floats),
    values,
)
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_encode_record_gives_json_bytes(ring, box, score, metadata):
    categories = Categories(["dög", "cat"])
    x1, x2 = sorted(box[::2])
    y1, y2 = sorted(box[1::2])
    try:
        polygon = Annotation(categories["dög"], points=ring, score=score)
    except ValidationError:
        polygon = Annotation(categories["dög"], x1, y1, x2, y2)
    box_annotation = Annotation(categories["cat"], x1, y1, x2, y2, metadata={"m": metadata})
    label = Label(categories["cat"], score=score)
    source = ImageSource.from_bytes(b"", "x", (64, 48)).with_fingerprint(
        Fingerprint("a" * 64, "1e" * 32, 2**63)
    )
    scene = Scene(
        categories,
        source,
        [polygon, box_annotation],
        labels=[label],
        masks=[{"visible": True, "name": "m", "contour": np.array([[0.5, 1e-5], [2, 3], [4, 1]])}],
        metadata={"scene": metadata},
        key="000007",
    )
    expected = {
        "format": "mira-scene",
        "version": 1,
        "key": "000007",
        "image": "000007.jpg",
        "width": 64,
        "height": 48,
        "categories": ["dög", "cat"],
        "annotations": [
            {
                "category": "dög",
                **(
                    {"box": [x1, y1, x2, y2]}
                    if polygon.is_rect
                    else {"polygon": polygon.point_pairs()}
                ),
                "score": polygon.score,
                "metadata": {},
            },
            {
                "category": "cat",
                "box": [x1, y1, x2, y2],
                "score": None,
                "metadata": {"m": metadata},
            },
        ],
        "labels": [{"category": "cat", "score": label.score, "metadata": {}}],
        "masks": [{"visible": True, "name": "m", "contour": [[0.5, 1e-5], [2.0, 3.0], [4.0, 1.0]]}],
        "metadata": {"scene": metadata},
        "fingerprint": {"sha256": "a" * 64, "pixels": "1e" * 32, "phash": "8000000000000000"},
    }
    try:
        want = tar_native.dump_record(expected)
    except ValidationError as exc:  # NaN, a set...: the same error either way
        with pytest.raises(ValidationError) as raised:
            encode_record(scene, "000007", "000007.jpg")
        assert str(raised.value) == str(exc)
        return
    assert encode_record(scene, "000007", "000007.jpg") == want
    assert json.loads(want)["key"] == "000007"
