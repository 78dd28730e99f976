"""Key rules: safe prefixes, keys of scenes without one, and prefixing a stream."""

from __future__ import annotations

import pytest

from mira.core import Scene
from mira.errors import ValidationError
from mira.ops.augment_stream import copy_key
from mira.ops.scene_keys import PrefixKeys, check_key_prefix, stream_key
from mira.ops.tiling import tile_key
from mira.pipeline.engine import SerialEngine


@pytest.mark.parametrize("prefix", ["cam1-", "a", "A_b-9", "2024_"])
def test_safe_prefixes_are_kept(prefix: str) -> None:
    assert check_key_prefix(prefix) == prefix


@pytest.mark.parametrize("prefix", ["a.b", "-a", "_a", "a/b", "../up", "a b", "é"])
def test_prefixes_that_would_make_unsafe_member_names_are_refused(prefix: str) -> None:
    with pytest.raises(ValidationError, match=r"key prefix .* must be letters, digits, '_'"):
        check_key_prefix(prefix)


def test_no_prefix() -> None:
    assert check_key_prefix(None) == check_key_prefix("") == ""


def test_derived_keys_are_sortable_valid_keys() -> None:
    assert stream_key("abc", 7) == "abc" and stream_key(None, 7) == "000007"
    assert tile_key("000012", 512, 0) == "000012-00512-00000"
    assert copy_key("000012", 1) == "000012-aug01"
    tiles = [tile_key("k", x, y) for x in (0, 40, 512, 1024) for y in (0, 96)]
    assert sorted(tiles) == tiles
    for key in (*tiles, copy_key("k", 3)):
        Scene(["a"], b"", key=key)  # a valid key: no error


def test_prefix_keys_stage_numbers_keyless_scenes_by_position() -> None:
    scenes = [Scene(["a"], b"", key="x"), Scene(["a"], b""), Scene(["a"], b"", key="y")]
    keys = [s.key for s in PrefixKeys("p-")(scenes, SerialEngine())]
    assert keys == ["p-x", "p-000001", "p-y"]
