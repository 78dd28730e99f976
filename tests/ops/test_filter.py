"""Filtering: --where conditions, the order of the steps, exact samples, exact counts."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mira.core import Annotation, Categories, Label, Scene, SceneCollection
from mira.errors import OptionError, ValidationError
from mira.ops.filter import SceneFilter, filter_collection, parse_where, sample_mask

CATS = Categories(["car", "person", "day", "night"])


def scene(key: str, boxes: list, labels: list[str] = (), **metadata) -> Scene:  # type: ignore[assignment]
    annotations = [Annotation(CATS[name], x1, y1, x2, y2) for name, x1, y1, x2, y2 in boxes]
    return Scene(
        CATS,
        b"\x89PNG\r\n\x1a\n",
        annotations,
        labels=[Label(CATS[name]) for name in labels],
        metadata=metadata,
        key=key,
    )


# --- where ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "equal", "value"),
    [
        ("metadata.camera=left", True, "left"),
        ("metadata.camera!=left", False, "left"),
        ("metadata.year=2020", True, 2020),
        ("metadata.flag=true", True, True),
        ('metadata.id="007"', True, "007"),
        ("metadata.id=007", True, "007"),  # not JSON: text
        ("metadata.a.b.0=x=y", True, "x=y"),  # the first '=' splits
        ("metadata.note=", True, ""),
    ],
)
def test_where_forms(text: str, equal: bool, value: object) -> None:
    condition = parse_where(text)
    assert (condition.equal, condition.value, condition.text) == (equal, value, text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("metadata.camera", "--where 'metadata.camera' must be metadata.PATH=VALUE or"),
        ("camera=left", "--where 'camera=left': 'camera' is not metadata.PATH (e.g. metadata."),
        ("categories=car", "--where 'categories=car': 'categories' is not metadata.PATH"),
        ("metadata.=x", "--where 'metadata.=x': 'metadata.' is not metadata.PATH"),
        ("metadata.a..b=x", "--where 'metadata.a..b=x': 'metadata.a..b' is not metadata.PATH"),
    ],
)
def test_malformed_where(text: str, message: str) -> None:
    with pytest.raises(ValidationError) as error:
        parse_where(text)
    assert str(error.value).startswith(message)


def test_where_matching() -> None:
    def holds(text: str, **metadata: object) -> bool:
        return parse_where(text).holds(scene("k", [], **metadata))

    assert holds("metadata.year=2020", year=2020) and holds("metadata.year=2020", year="2020")
    assert holds("metadata.year=2020", year=2020.0)
    assert not holds("metadata.year=2020", year=2021)
    assert holds("metadata.flag=true", flag=True) and not holds("metadata.flag=1", flag=True)
    assert not holds("metadata.n=1", n=True) and holds("metadata.flag=true", flag="true")
    assert holds("metadata.src.cam=left", src={"cam": "left"})
    assert holds("metadata.tags.1=b", tags=["a", "b"])
    assert holds("metadata.tags=[1, 2]", tags=[1, 2]) and not holds(
        "metadata.tags=[1]", tags=[1, 2]
    )
    # absent (or null, as for KEYs) never equals, so != keeps such scenes
    assert not holds("metadata.camera=left") and holds("metadata.camera!=left")
    assert holds("metadata.camera!=left", camera=None)
    assert not holds("metadata.camera!=left", camera="left")


# --- the steps --------------------------------------------------------------------------


def test_categories_keep_annotations_labels_and_the_category_list() -> None:
    before = scene("k", [("car", 0, 0, 10, 10), ("person", 0, 0, 2, 2)], ["day"], site="a")
    after, reason = SceneFilter(categories="car,day").apply(before)
    assert reason is None
    assert after.categories.names == ["car", "day"]
    assert [(a.category.name, a.x1y1x2y2()) for a in after.annotations] == [
        ("car", (0.0, 0.0, 10.0, 10.0))
    ]
    assert after.labels == [Label(after.categories["day"])]
    assert (after.key, after.metadata) == ("k", {"site": "a"})
    dropped, _ = SceneFilter(drop_categories=["person", "night"]).apply(before)
    assert dropped.categories.names == ["car", "day"] and len(dropped.annotations) == 1


def test_an_unchanged_scene_is_the_same_object() -> None:
    before = scene("k", [("car", 0, 0, 10, 10)], site="a")
    after, reason = SceneFilter(where=["metadata.site=a"], min_area=100).apply(before)
    assert after is before and reason is None


def test_min_area_uses_a_polygons_own_area() -> None:
    triangle = Annotation(CATS["car"], points=[[0, 0], [10, 0], [0, 10]])  # area 50, box 100
    before = Scene(CATS, b"", [triangle, Annotation(CATS["car"], 0, 0, 10, 10)], key="k")
    after, _ = SceneFilter(min_area=60).apply(before)
    assert [a.is_rect for a in after.annotations] == [True]
    assert SceneFilter(min_area=50).apply(before)[0] is before


def test_scene_criteria_judge_what_is_left_and_the_first_failing_one_counts() -> None:
    two_people = scene("k", [("person", 0, 0, 1, 1), ("person", 0, 0, 1, 1)], ["night"], x=1)
    assert SceneFilter(min_annotations=2).apply(two_people)[1] is None
    assert SceneFilter(min_annotations=2, categories="car,night").apply(two_people)[1] == (
        "min_annotations"
    )
    everything = SceneFilter(where=["metadata.x=2"], with_labels="day", min_annotations=3)
    assert everything.apply(two_people)[1] == "where"
    assert SceneFilter(with_labels="day", min_annotations=3).apply(two_people)[1] == "with_labels"
    assert SceneFilter(with_labels="day,night").apply(two_people)[1] is None


def test_option_values_are_checked_when_built() -> None:
    with pytest.raises(ValidationError, match="^give categories to keep or categories to drop"):
        SceneFilter(categories="car", drop_categories="person")
    with pytest.raises(ValidationError, match="^min annotations must be at least 0, got -1$"):
        SceneFilter(min_annotations=-1)
    with pytest.raises(ValidationError, match="^categories must be category names, got 'car,'$"):
        SceneFilter(categories="car,")


def test_unknown_categories_are_option_errors() -> None:
    with pytest.raises(OptionError) as error:
        SceneFilter(drop_categories="dog,car,cat").apply(scene("k", []))
    assert error.value.option == "drop_categories"
    assert str(error.value) == (
        "categories 'dog', 'cat' not in the input's categories ['car', 'person', 'day', 'night']"
    )
    with pytest.raises(OptionError) as error:
        SceneFilter(with_labels="dusk").apply(scene("k", []))
    assert error.value.option == "with_labels"
    assert str(error.value).startswith("category 'dusk' not in the input's categories")


# --- samples ----------------------------------------------------------------------------


@given(left=st.integers(0, 60), data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_a_sample_is_exact_and_reproducible(left: int, data: st.DataObject, seed: int) -> None:
    size = data.draw(st.integers(0, left))
    mask = sample_mask(left, size, seed)
    assert mask.shape == (left,) and int(mask.sum()) == size
    assert np.array_equal(mask, sample_mask(left, size, seed))


def test_a_sample_larger_than_what_is_left() -> None:
    with pytest.raises(OptionError) as error:
        sample_mask(3, 4, 0)
    assert (error.value.option, str(error.value)) == (
        "sample",
        "cannot sample 4 scenes: 3 are left after filtering",
    )


def test_filter_collection_counts_every_step() -> None:
    scenes = [
        scene(f"{i:02d}", [("car", 0, 0, 10, 10)] * (i % 3) + [("person", 0, 0, 1, 1)],
              ["day" if i % 2 else "night"], site="a" if i < 6 else "b")
        for i in range(10)
    ]  # fmt: skip
    collection = SceneCollection(scenes, CATS)
    report: dict = {}
    kept = filter_collection(
        collection,
        drop_categories="person",
        where=["metadata.site=a"],
        min_annotations=1,
        sample=2,
        seed=3,
        report=report,
    )
    # site a: 00-05; with a car: 01, 02, 04, 05; two of them drawn by seed 3
    again = filter_collection(
        collection, drop_categories="person", where=["metadata.site=a"], min_annotations=1,
        sample=2, seed=3,
    )  # fmt: skip
    assert [s.key for s in kept] == [s.key for s in again]
    assert len(kept) == 2 and {s.key for s in kept} <= {"01", "02", "04", "05"}
    assert kept.categories.names == ["car", "day", "night"]
    assert report["scenes"] == {"before": 10, "kept": 2, "dropped": 8}
    assert report["dropped_scenes"] == {
        "where": 4, "with_labels": 0, "min_annotations": 2, "sample": 2,
    }  # fmt: skip
    cars = sum(len(s.annotations) for s in kept)
    assert report["annotations"] == {"before": 19, "kept": cars, "dropped": 19 - cars}
    assert report["categories"]["person"]["annotations"] == {
        "before": 10, "kept": 0, "dropped": 10,
    }  # fmt: skip
    assert report["categories"]["person"]["scenes"] == {"before": 10, "kept": 0, "dropped": 10}
    assert report["labels"] == {"before": 10, "kept": 2, "dropped": 8}
