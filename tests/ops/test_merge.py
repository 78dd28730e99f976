"""Merging: prefixes per input, duplicate images by bytes, collections in memory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mira.core import Annotation, Categories, Label, Scene, SceneCollection
from mira.core.file_range import FileRange, OpenFile
from mira.core.image import encode_image
from mira.errors import FormatError, ValidationError
from mira.ops.image_duplicates import PROBE, DuplicateImages
from mira.ops.merge import input_prefixes
from tests.conftest import make_image

# --- prefixes ---------------------------------------------------------------------------


def test_no_prefixes() -> None:
    assert input_prefixes(["a.tar", "b.tar"], None) == ["", ""]
    assert input_prefixes(["a.tar", "b.tar"], "none") == ["", ""]
    assert input_prefixes(["a.tar", "b.tar"], ["none"]) == ["", ""]


def test_auto_prefixes_are_file_stems() -> None:
    names = ["data/cam1.tar", "/x/cam-2.tar.gz", "-", "shards-*.tar"[:6] + ".tar"]
    assert input_prefixes(names, "auto") == ["cam1-", "cam-2-", "stdin-", "shards-"]
    assert input_prefixes(["a.tar"], ["auto"]) == ["a-"]


def test_auto_prefix_of_a_stem_that_is_no_safe_key() -> None:
    with pytest.raises(ValidationError) as error:
        input_prefixes(["my data.tar"], "auto")
    assert str(error.value) == (
        "--prefix-keys auto: key prefix 'my data-' must be letters, digits, '_' or '-', "
        "starting with a letter or digit; give one prefix per input instead"
    )


def test_one_prefix_per_input() -> None:
    assert input_prefixes(["a.tar", "b.tar"], ["p1-", "p2_"]) == ["p1-", "p2_"]
    with pytest.raises(ValidationError, match="^3 key prefixes given for 2 inputs; give one"):
        input_prefixes(["a.tar", "b.tar"], ["x", "y", "z"])
    with pytest.raises(ValidationError, match="key prefix 'a.b' must be"):
        input_prefixes(["a.tar", "b.tar"], ["x", "a.b"])


# --- duplicate images -------------------------------------------------------------------


@pytest.fixture
def blob(tmp_path: Path) -> OpenFile:
    """An open file holding 'AAAA' 'BBBB' 'AAAA' 'CC' (a duplicate at offset 8)."""
    path = tmp_path / "blob"
    path.write_bytes(b"AAAABBBBAAAACC")
    return OpenFile(os.open(path, os.O_RDONLY), str(path))


def test_duplicates_by_bytes_not_by_length(blob: OpenFile) -> None:
    images = DuplicateImages()
    assert images.add("a", FileRange(blob, 0, 4)) is None
    assert images.add("b", FileRange(blob, 4, 4)) is None  # same length, other bytes
    assert images.add("c", FileRange(blob, 8, 4)) == "a"
    assert images.add("d", b"BBBB") == "b"  # bytes in memory compare with ranges
    assert images.add("e", b"CC") is None
    assert images.add("f", FileRange(blob, 12, 2)) == "e"
    assert images.add("g", b"AAAA") == "a"  # always the first of its kind


def test_an_image_of_a_length_seen_once_is_never_read(blob: OpenFile) -> None:
    images = DuplicateImages(where=lambda name: f"{name}.jpg")
    # ranges past the end of the file: reading either would fail
    assert images.add("x", FileRange(blob, 100, 7)) is None
    assert images.add("y", FileRange(blob, 200, 9)) is None
    with pytest.raises(FormatError, match="^x.jpg: cannot read it"):
        images.add("z", b"1234567")  # the same length as x: now x is read


def test_images_with_other_middles_are_never_hashed_whole(tmp_path: Path) -> None:
    """Same length, different middle 4 KiB: told apart without reading the rest, so a
    range whose ends lie past the file's end is never read whole."""
    path = tmp_path / "big"
    size = 3 * PROBE
    path.write_bytes(b"a" * size + b"b" * size + b"c" * PROBE)
    file = OpenFile(os.open(path, os.O_RDONLY), str(path))
    images = DuplicateImages()
    assert images.add("a", FileRange(file, 0, size)) is None
    assert images.add("b", FileRange(file, size, size)) is None
    # 'c' reaches past the end: its middle (the c's) is readable, its whole is not
    assert images.add("c", FileRange(file, 2 * size - PROBE, size)) is None
    same = b"b" * size
    assert images.add("d", same) == "b"


# --- collections in memory --------------------------------------------------------------

A = Categories(["car", "person"])
B = Categories(["bike", "car"])


def image(seed: int) -> bytes:
    return encode_image(make_image(16, 12, seed=seed), "png")


def test_merge_unions_categories_by_name_in_first_appearance_order() -> None:
    first = SceneCollection(
        [Scene(A, image(1), [Annotation(A["person"], 1, 1, 5, 5)], key="k1")], A
    )
    second = SceneCollection(
        [
            Scene(
                B,
                image(2),
                [Annotation(B["bike"], 0, 0, 2, 2), Annotation(B["car"], 1, 1, 3, 3)],
                labels=[Label(B["car"], score=0.5)],
                key="k2",
            )
        ],
        B,
    )
    merged = first.merge(second)
    assert merged.categories.names == ["car", "person", "bike"]
    assert [s.key for s in merged] == ["k1", "k2"]
    assert all(s.categories.names == ["car", "person", "bike"] for s in merged)
    assert merged[1].bboxes().tolist() == [[0, 0, 2, 2, 2], [1, 1, 3, 3, 0]]
    assert merged[1].labels == [Label(merged.categories["car"], score=0.5)]
    assert merged[1].image_source.encoded() == image(2)
    assert first.merge(first.assign(scenes=[]))[0] is first[0]  # nothing to change: as it was


def test_merge_refuses_shared_keys_unless_prefixed() -> None:
    one = SceneCollection([Scene(A, image(1), key="000000"), Scene(A, image(2))], A)
    two = SceneCollection([Scene(A, image(3), key="000000")], A)
    with pytest.raises(ValidationError) as error:
        one.merge(two)
    assert str(error.value) == (
        "scene key '000000' is in both collection 0 and collection 1; keep keys apart with "
        "prefixes (prefix_keys=[...])"
    )
    merged = one.merge(two, prefix_keys=["a-", "b-"])
    assert [s.key for s in merged] == ["a-000000", "a-000001", "b-000000"]
    assert [s.key for s in one.merge(one.assign(scenes=[]))] == ["000000", None]
    with pytest.raises(ValidationError, match=r"one prefix per collection \(or None\)$"):
        one.merge(two, prefix_keys="auto")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"one prefix per collection \(or None\)$"):
        one.merge(prefix_keys=["auto"])


@given(st.lists(st.lists(st.sampled_from("abcdef"), unique=True, max_size=6), max_size=5))
def test_the_union_is_every_name_once_in_first_appearance_order(lists: list[list[str]]) -> None:
    collections = [
        SceneCollection(
            [Scene(names, image(0), [Annotation(Categories(names)[n], 0, 0, 1, 1) for n in names])],
            names,
        )
        for names in lists
    ]
    if not collections:
        return
    merged = collections[0].merge(
        *collections[1:], prefix_keys=[f"c{i}-" for i in range(len(lists))]
    )
    expected = list(dict.fromkeys(name for names in lists for name in names))
    assert merged.categories.names == expected
    assert [[a.category.name for a in s.annotations] for s in merged] == lists
    assert [s.key for s in merged] == [f"c{i}-000000" for i in range(len(lists))]
