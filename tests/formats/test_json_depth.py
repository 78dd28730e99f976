"""The nesting guard of the streaming JSON readers: exact depths, whatever the chunks."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mira.errors import FormatError
from mira.formats.json_depth import DepthGuard

#: Pieces of JSON text: brackets, and strings holding brackets, quotes and backslashes.
PIECES = ["[", "]", "{", "}", ",", '"a"', '"\\\\"', '"\\"[{"', '"]\\\\\\""', '"\\\\\\\\\\""']


def reference(text: str) -> tuple[int, int]:
    """(deepest, final) nesting of `text`, one character at a time."""
    depth = deepest = 0
    inside = escaped = False
    for char in text:
        if inside:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                inside = False
        elif char == '"':
            inside = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest, depth


def read_all(text: str, limit: int, sizes: list[int]) -> DepthGuard:
    guard = DepthGuard(io.BytesIO(text.encode()), "x.json", limit=limit)
    index = 0
    while guard.read(sizes[index % len(sizes)]):
        index += 1
    return guard


@given(st.lists(st.sampled_from(PIECES), max_size=60), st.lists(st.integers(1, 9), min_size=1))
def test_depth_is_exact_across_any_chunks(pieces, sizes):
    text = "".join(pieces)
    deepest, final = reference(text)
    assert read_all(text, deepest, sizes).depth == final
    if deepest > 0:
        with pytest.raises(FormatError) as info:
            read_all(text, deepest - 1, sizes)
        assert str(info.value) == f"x.json: invalid JSON: nested deeper than {deepest - 1} levels"


def test_brackets_in_strings_do_not_count():
    text = '{"a": "[[[[[[", "b": "\\"[[[[", "c": [1]}'
    assert read_all(text, 2, [4]).depth == 0
