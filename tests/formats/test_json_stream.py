"""The JSON stream reader against `json.loads`: the same values, and for bad JSON the same
message at the same line and column, whatever the window size."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mira.formats.json_stream import JsonStream, JsonStreamError

values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**25), 10**25)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(codec="utf-8"), max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=12,
)
SPELLINGS = [
    {},
    {"indent": 1},
    {"indent": "\r\n"},
    {"ensure_ascii": False},
    {"separators": (",", ":")},
]
NOISE = list('{}[],:" \n\t\\0123456789.e-+tfnu\x01é')


def streamed(text: str, chunk: int) -> Any:
    """What the stream reads from `text`: the top-level value, with an object's "items"
    member read element by element and its "skipped" member skipped."""
    stream = JsonStream(io.StringIO(text, newline=""), chunk=chunk)
    if not stream.start_object():
        return stream.whole()
    result: dict[str, Any] = {}
    while (key := stream.next_key()) is not None:
        if key == "items" and stream.peek() == "[":
            result[key] = list(stream.elements())
        elif key == "skipped":
            stream.skip()
            result[key] = "(skipped)"
        else:
            result[key] = stream.value()
    stream.end()
    return result


def loaded(text: str) -> Any:
    value = json.loads(text)
    if isinstance(value, dict) and "skipped" in value:
        value["skipped"] = "(skipped)"
    return value


def outcome(read: Any, text: str) -> Any:
    try:
        return ("value", read(text))
    except (json.JSONDecodeError, JsonStreamError) as exc:
        return ("error", exc.msg, exc.lineno, exc.colno)


documents = (
    st.builds(
        lambda first, items, skipped, last: {
            "a": first,
            "items": items,
            "skipped": skipped,
            "z": last,
        },
        values,
        st.lists(values, max_size=6),
        values,
        values,
    )
    | values
)


@settings(max_examples=300, deadline=None)
@given(
    documents,
    st.sampled_from(SPELLINGS),
    st.lists(st.tuples(st.floats(0, 1), st.sampled_from(["drop", "cut", *NOISE])), max_size=2),
    st.sampled_from([1, 2, 3, 7, 64, 4096]),
)
def test_same_values_and_errors_as_json_loads(document, spelling, edits, chunk) -> None:
    text = json.dumps(document, **spelling)
    for where, edit in edits:
        at = int(where * len(text))
        if edit == "drop":
            text = text[:at] + text[at + 1 :]
        elif edit == "cut":
            text = text[:at]
        else:
            text = text[:at] + edit + text[at:]
    expected = outcome(loaded, text)
    assert outcome(lambda t: streamed(t, chunk), text) == expected


def test_an_element_bigger_than_the_window_is_read_whole() -> None:
    big = {"points": [[i * 0.5, -i] for i in range(5000)], "name": "é" * 3000}
    text = json.dumps({"items": [1, big, 2.5e-8, "x"]})
    assert streamed(text, chunk=16) == {"items": [1, big, 2.5e-8, "x"]}


@pytest.mark.parametrize(
    "text,message",
    [
        ("", ("Expecting value", 1, 1)),
        ('{"items": [1, 2,]}', ("Expecting value", 1, 17)),
        ('{"items": [1 2]}', ("Expecting ',' delimiter", 1, 14)),
        ('{"a": 1,}', ("Expecting property name enclosed in double quotes", 1, 9)),
        ('{"a" 1}', ("Expecting ':' delimiter", 1, 6)),
        ('{"a": 1} x', ("Extra data", 1, 10)),
        ('{\n  "items": [\n    {"b": tru}\n  ]\n}', ("Expecting value", 3, 11)),
    ],
)
def test_error_positions_count_from_the_start_of_the_file(text: str, message) -> None:
    with pytest.raises(JsonStreamError) as info:
        streamed(text, chunk=2)
    assert (info.value.msg, info.value.lineno, info.value.colno) == message
    assert outcome(loaded, text) == ("error", *message)
