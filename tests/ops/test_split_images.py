"""Split with duplicate images: invariants as properties, and the sanity of the parts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mira.core import Categories, Scene
from mira.core.fingerprint import Fingerprint
from mira.core.image import ImageSource
from mira.ops._partition import largest_remainder
from mira.ops.split import part_of, plan_split
from mira.ops.split_safety import EmptyPart

CATEGORIES = Categories(["a"])


def scene(index: int, image: int, group: int, phash: int | None = None) -> Scene:
    """A scene whose image bytes are `image`'s (so equal values are exact duplicates)."""
    source = ImageSource.from_bytes(f"image-{image:04d}".encode(), dimensions=(4, 4))
    if phash is not None:
        digest = f"{image:064x}"
        source = source.with_fingerprint(Fingerprint(digest, digest, phash))
    return Scene(CATEGORIES, source, metadata={"g": group}, key=f"s{index:03d}")


@st.composite
def collections(draw: st.DrawFn) -> tuple[list[int], list[int]]:
    n = draw(st.integers(4, 40))
    images = draw(st.lists(st.integers(0, n), min_size=n, max_size=n))
    groups = draw(st.lists(st.integers(0, 5), min_size=n, max_size=n))
    return images, groups


@settings(max_examples=40, deadline=None)
@given(collections(), st.sampled_from([[0.5, 0.5], [0.7, 0.15, 0.15], [0.6, 0.4]]), st.booleans())
def test_duplicates_and_groups_never_cross_parts(data, sizes, use_group) -> None:
    images, groups = data
    scenes = [
        scene(i, image, group) for i, (image, group) in enumerate(zip(images, groups, strict=True))
    ]
    names = [f"p{i}" for i in range(len(sizes))]
    parts, values = plan_split(
        scenes, sizes, names, 7, group="metadata.g" if use_group else None, allow_empty=True
    )
    where = part_of(parts)
    assert sorted(i for part in parts for i in part) == list(range(len(scenes)))
    for i in range(len(scenes)):
        for j in range(i):
            if images[i] == images[j] or (use_group and groups[i] == groups[j]):
                assert where[i] == where[j]
    sanity = values["sanity"]
    assert sanity["empty"] == [n for n, p in zip(names, parts, strict=True) if len(p) == 0]
    targets = largest_remainder(sizes, len(scenes))
    assert sanity["off_target"] == [
        n
        for n, p, t in zip(names, parts, targets, strict=True)
        if abs(len(p) - t) > sanity["tolerance"]
    ]
    assert sanity["ok"] == (not sanity["empty"] and not sanity["off_target"])
    exact = values["images"]["exact"]
    assert exact["groups"] == sum(1 for v in set(images) if images.count(v) > 1)
    assert exact["scenes"] == sum(images.count(v) for v in set(images) if images.count(v) > 1)


def test_pairs_kept_together_are_those_the_plain_split_would_cut() -> None:
    scenes = [scene(i, i % 10, 0) for i in range(20)]  # ten images, each twice
    plain = [scene(i, i, 0) for i in range(20)]
    baseline = part_of(plan_split(plain, [0.5, 0.5], ["a", "b"], 3)[0])
    expected = sum(1 for i in range(10) if baseline[i] != baseline[i + 10])
    parts, values = plan_split(scenes, [0.5, 0.5], ["a", "b"], 3)
    assert values["images"]["exact"] == {
        "groups": 10,
        "scenes": 20,
        "pairs_kept_together": expected,
    }
    assert expected > 0
    assert [len(p) for p in parts] == [10, 10]
    assert values["sanity"] == {"empty": [], "off_target": [], "tolerance": 1, "ok": True}


def test_near_duplicates_join_groups_only_when_asked() -> None:
    # pairs 3 and 2 bits apart; every other pair at least 16 bits apart
    hashes = [0, 0b111, 0xFFFF << 40, (0xFFFF << 40) | 0b11, 2**64 - 1, 0x5555555555555555]
    scenes = [scene(i, i, 0, phash) for i, phash in enumerate(hashes)]
    plain, values = plan_split(scenes, [0.5, 0.5], ["a", "b"], 1)
    assert values["images"]["similar"] is None
    baseline = part_of(plain)
    cut = (baseline[0] != baseline[1]) + (baseline[2] != baseline[3])
    assert cut == 2  # seed 1 without near-duplicate groups cuts both pairs
    parts, values = plan_split(scenes, [0.5, 0.5], ["a", "b"], 1, similar=3)
    where = part_of(parts)
    assert where[0] == where[1] and where[2] == where[3]
    assert values["images"]["similar"] == {
        "distance": 3,
        "groups": 2,
        "scenes": 4,
        "pairs_kept_together": cut,
    }
    assert values["images"]["exact"]["groups"] == 0
    parts, values = plan_split(scenes, [0.5, 0.5], ["a", "b"], 1, similar=2)
    assert values["images"]["similar"]["groups"] == 1  # only the pair 2 bits apart


def test_similar_without_fingerprints_names_the_fix() -> None:
    scenes = [scene(0, 0, 0, 5), scene(1, 1, 0)]
    with pytest.raises(Exception) as error:
        plan_split(scenes, [0.5, 0.5], ["a", "b"], 1, similar=3)
    assert str(error.value) == (
        "1 of 2 scenes have no fingerprint (the first is scene s001); "
        "add them with: mira fingerprint IN.tar -o OUT.tar"
    )


def test_an_empty_part_is_an_error_unless_allowed() -> None:
    groups = [0] * 5 + [1] * 7 + [2] * 2  # the bundled sample's origins after import
    scenes = [scene(i, i, g) for i, g in enumerate(groups)]
    names = ["train", "val", "test"]
    with pytest.raises(EmptyPart) as error:
        plan_split(scenes, [0.7, 0.15, 0.15], names, 42, group="metadata.g")
    assert str(error.value) == (
        "part val would be empty (train 12, val 0, test 2 scenes; the largest group has 7); "
        "change --sizes or --group, or pass --allow-empty"
    )
    parts, values = plan_split(
        scenes, [0.7, 0.15, 0.15], names, 42, group="metadata.g", allow_empty=True
    )
    assert [len(p) for p in parts] == [12, 0, 2]
    assert values["sanity"] == {"empty": ["val"], "off_target": [], "tolerance": 6, "ok": False}


def test_preserved_scenes_can_put_a_part_off_target() -> None:
    scenes = [
        Scene(
            CATEGORIES,
            ImageSource.from_bytes(f"i{i}".encode(), dimensions=(4, 4)),
            metadata={"split": "test"} if i < 6 else {},
            key=f"k{i}",
        )
        for i in range(10)
    ]
    parts, values = plan_split(scenes, [0.8, 0.2], ["train", "test"], 0, preserve="metadata.split")
    assert [len(p) for p in parts] == [4, 6]
    assert values["sanity"]["off_target"] == ["train", "test"]
    assert values["sanity"]["tolerance"] == 0
