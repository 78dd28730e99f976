"""Remapping: map files, the output's category order, renames, merges and drops."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from mira.core import Annotation, Categories, Label, Scene, SceneCollection
from mira.errors import OptionError, ValidationError
from mira.ops.remap import Remapping, load_map, remap_collection, remap_scene

CATS = Categories(["car", "truck", "person", "dog"])


def scene(names: list[str], labels: list[str] = ()) -> Scene:  # type: ignore[assignment]
    annotations = [
        Annotation(CATS[name], i, i, i + 1, i + 2, metadata={"i": i})
        for i, name in enumerate(names)
    ]
    return Scene(CATS, b"", annotations, labels=[Label(CATS[n]) for n in labels], key="k")


def names(scene: Scene) -> list[tuple[str, int]]:
    return [(a.category.name, a.metadata["i"]) for a in scene.annotations]


@pytest.mark.parametrize(
    ("unmapped", "expected"),
    [
        ("keep", ["vehicle", "human", "dog"]),
        ("drop", ["vehicle", "human"]),
    ],
)
def test_categories_are_the_maps_names_in_its_order(unmapped: str, expected: list[str]) -> None:
    remapping = Remapping({"truck": "vehicle", "person": "human", "car": "vehicle"}, unmapped)
    assert remapping.categories(CATS.names) == expected


def test_an_unmapped_category_keeps_its_name_and_merges_into_a_map_name() -> None:
    remapping = Remapping({"car": "dog", "truck": None})
    assert remapping.categories(CATS.names) == ["dog", "person"]
    after = remapping.apply(scene(["car", "truck", "person", "dog"]))
    assert names(after) == [("dog", 0), ("person", 2), ("dog", 3)]


def test_rename_merge_and_drop_in_annotations_and_labels() -> None:
    before = scene(["car", "truck", "person", "dog", "car"], labels=["dog", "truck"])
    after = remap_scene(before, {"car": "vehicle", "truck": "vehicle", "dog": None})
    assert after.categories.names == ["vehicle", "person"]
    assert names(after) == [("vehicle", 0), ("vehicle", 1), ("person", 2), ("vehicle", 4)]
    assert after.annotations[1].x1y1x2y2() == (1.0, 1.0, 2.0, 3.0)
    assert after.labels == [Label(after.categories["vehicle"])]
    assert (after.key, after.image_source) == (before.key, before.image_source)


def test_a_map_that_changes_nothing_gives_the_same_scene() -> None:
    before = scene(["car"])
    assert remap_scene(before, {"car": "car"}) is before
    assert remap_scene(before, {"car": "car", "dog": "dog"}, "drop") is not before


def test_unmapped_error_names_the_categories() -> None:
    with pytest.raises(OptionError) as error:
        remap_scene(scene([]), {"car": "car", "truck": "car"}, "error")
    assert (error.value.option, str(error.value)) == (
        "map",
        "categories 'person', 'dog' of the input are not in the map; map them, or keep or "
        "drop unmapped categories",
    )


def test_a_map_naming_a_category_the_input_lacks() -> None:
    with pytest.raises(OptionError) as error:
        remap_scene(scene([]), {"cat": "animal", "dog": "animal"})
    assert str(error.value) == (
        "the map names 'cat', not in the input's categories ['car', 'truck', 'person', 'dog']"
    )


def test_drop_with_an_identity_map_is_assign_categories() -> None:
    scenes = [scene(["car", "dog", "person"], ["dog"]), scene(["truck"], ["person"])]
    collection = SceneCollection(scenes, CATS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assigned = collection.assign(categories=["person", "car"])
    remapped = remap_collection(collection, {"person": "person", "car": "car"}, "drop")
    assert remapped.categories == assigned.categories
    for a, b in zip(remapped, assigned, strict=True):
        assert (a.annotations, a.labels, a.categories) == (b.annotations, b.labels, b.categories)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- car\n- truck\n", "must be a mapping of category names to a name or null, got a list"),
        ("", "must be a mapping of category names to a name or null, got nothing"),
        ("{}\n", "is empty: map at least one category"),
        ("car: [a, b]\n", "'car' maps to ['a', 'b']; give a category name (quoted) or null"),
        ("1: car\n", "1 is not a category name (quote it)"),
        ("car: ''\n", "'car' maps to ''; give a category name (quoted) or null"),
        ("car: [\n", "not valid YAML (while parsing a flow node expected the node content"),
    ],
)
def test_bad_map_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "map.yaml"
    path.write_text(text)
    with pytest.raises(ValidationError) as error:
        load_map(path)
    assert str(error.value).startswith(f"{path}") and message in str(error.value)


def test_map_files_load_in_order(tmp_path: Path) -> None:
    path = tmp_path / "map.yaml"
    path.write_text("truck: vehicle\ncar: vehicle\ndog: null\n'1': one\n")
    assert list(load_map(path).items()) == [
        ("truck", "vehicle"), ("car", "vehicle"), ("dog", None), ("1", "one"),
    ]  # fmt: skip
    with pytest.raises(ValidationError, match="nope.yaml: no such file$"):
        load_map(tmp_path / "nope.yaml")
