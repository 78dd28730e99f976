"""KEY resolution shared by split and stats: `categories` and `metadata.PATH`."""

from __future__ import annotations

import numpy as np
import pytest

from mira.core import Annotation, Categories, Label, Scene
from mira.errors import ValidationError
from mira.ops.keys import REQUIRED, Key, hashable, parse_key, resolve_key


@pytest.fixture
def cats() -> Categories:
    return Categories(["dog", "cat", "bird"])


def make_scene(cats, metadata=None, annotations=(), labels=(), key="000007") -> Scene:
    return Scene(
        cats,
        np.zeros((4, 4, 3), dtype=np.uint8),
        annotations=[Annotation(cats[name], 0, 0, 1, 1) for name in annotations],
        labels=[Label(cats[name]) for name in labels],
        metadata=metadata or {},
        key=key,
    )


def test_parse_key_accepts_categories_and_metadata_paths():
    assert parse_key("categories") == Key("categories", "categories")
    assert parse_key("metadata.source.camera") == Key(
        "metadata.source.camera", "metadata", ("source", "camera")
    )
    assert parse_key("categories").is_multi
    assert not parse_key("metadata.video").is_multi
    key = parse_key("metadata.x")
    assert parse_key(key) is key


@pytest.mark.parametrize("text", ["foo", "metadata", "metadata.", "metadata..x", "Categories"])
def test_parse_key_rejects_unknown_keys(text):
    with pytest.raises(ValidationError) as caught:
        parse_key(text)
    assert str(caught.value) == (
        f"unknown key {text!r}: use 'categories' or 'metadata.PATH' (e.g. metadata.source.camera)"
    )


def test_parse_key_rejects_non_strings():
    with pytest.raises(ValidationError, match="a key must be a string, got int"):
        parse_key(3)


def test_categories_are_the_set_present_in_annotations_and_labels(cats):
    scene = make_scene(cats, annotations=["dog", "dog", "cat"], labels=["bird"])
    assert resolve_key(scene, "categories") == frozenset({"dog", "cat", "bird"})
    assert parse_key("categories").labels(scene) == ["bird", "cat", "dog"]
    assert resolve_key(make_scene(cats), "categories") == frozenset()
    assert parse_key("categories").labels(make_scene(cats)) == []


def test_metadata_paths_walk_dicts_and_list_indices(cats):
    scene = make_scene(cats, {"source": {"camera": "cam-2", "ids": [5, {"x": 1}]}, "n": 0})
    assert resolve_key(scene, "metadata.source.camera") == "cam-2"
    assert resolve_key(scene, "metadata.source.ids.0") == 5
    assert resolve_key(scene, "metadata.source.ids.1.x") == 1
    assert resolve_key(scene, "metadata.n") == 0  # a falsy value is still a value
    assert resolve_key(scene, "metadata.source.ids") == [5, {"x": 1}]
    assert parse_key("metadata.source.ids").labels(scene) == [(5, (("x", 1),))]


@pytest.mark.parametrize(
    "path", ["metadata.video", "metadata.source.lens", "metadata.source.camera.x", "metadata.z.9"]
)
def test_a_missing_value_is_an_error_naming_the_scene(cats, path):
    scene = make_scene(cats, {"source": {"camera": "cam-2"}, "z": [1], "video": None})
    with pytest.raises(ValidationError) as caught:
        resolve_key(scene, path)
    assert str(caught.value) == (
        f"scene 000007: no value for {path} (give a default with --missing VALUE)"
    )
    assert resolve_key(scene, path, missing="unknown") == "unknown"
    assert resolve_key(scene, path, missing=None) is None
    assert parse_key(path).labels(scene, missing=None) == [None]


def test_the_error_uses_the_given_name(cats):
    with pytest.raises(ValidationError, match=r"^scene #3: no value for metadata.a "):
        parse_key("metadata.a").value(make_scene(cats, key=None), name="#3")
    assert repr(REQUIRED) == "REQUIRED"


def test_hashable_turns_json_values_into_stable_keys():
    assert hashable([1, [2, 3]]) == (1, (2, 3))
    assert hashable({"b": 1, "a": [2]}) == (("a", (2,)), ("b", 1))
    assert hashable({"x", "y"}) == frozenset({"x", "y"})
    assert hashable("v") == "v"
    assert hash(hashable({"a": [1, {"b": 2}]})) == hash((("a", (1, (("b", 2),))),))
