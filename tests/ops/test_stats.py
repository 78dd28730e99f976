"""Statistics: exact counts, sizes and problems, from in-memory scenes and from tarballs,
without ever decoding an image."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mira.core import Annotation, Categories, Label, Scene
from mira.core.image import ImageSource, encode_image
from mira.formats import SceneWriter, iter_scenes
from mira.ops.stats import StatsAccumulator, collect_stats, report_tables

CATS = Categories(["dog", "cat", "bird"])
TOP_KEYS = {
    "scenes",
    "annotations",
    "labels",
    "scenes_without_annotations",
    "shapes",
    "categories",
    "image_sizes",
    "annotation_sizes",
    "problems",
}


def png(width: int, height: int, value: int = 0) -> bytes:
    return encode_image(np.full((height, width, 3), value, dtype=np.uint8), "png")


def box(name: str, x1: float, y1: float, x2: float, y2: float, **kw) -> Annotation:
    return Annotation(CATS[name], x1, y1, x2, y2, **kw)


def scenes() -> list[Scene]:
    """Five scenes with known numbers (see the assertions)."""
    tri = Annotation(CATS["cat"], points=[[0, 0], [40, 0], [0, 40]])  # area 800: small
    return [
        Scene(CATS, png(100, 50), [box("dog", 0, 0, 10, 20), tri], key="a",
              metadata={"source": "s1"}),
        Scene(CATS, png(100, 50), [box("dog", 0, 0, 40, 40), box("dog", 5, 5, 5, 9)], key="b",
              metadata={"source": "s2"}, labels=[Label(CATS["bird"])]),
        Scene(CATS, png(100, 50, 9), [], key="c", metadata={"source": "s1"}),
        Scene(CATS, png(200, 80), [box("cat", 150, 60, 210, 90), box("dog", 0, 0, 100, 100)],
              key="d", metadata={}),
        Scene(CATS, png(100, 50), [], key="e", labels=[Label(CATS["cat"], score=0.5)],
              metadata={"source": "s2"}),
    ]  # fmt: skip


@pytest.fixture
def no_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("stats decoded an image")

    monkeypatch.setattr(ImageSource, "decode", refuse)
    monkeypatch.setattr("mira.core.image.decode_image", refuse)


def test_counts_sizes_and_problems_are_exact(no_decoding: None) -> None:
    report = collect_stats(scenes())
    assert set(report) == TOP_KEYS
    assert report["scenes"] == 5
    assert report["annotations"] == 6
    assert report["labels"] == 2
    assert report["scenes_without_annotations"] == 2
    assert report["shapes"] == {"boxes": 5, "polygons": 1}
    dog, cat, bird = report["categories"]
    assert (dog["category"], cat["category"], bird["category"]) == ("dog", "cat", "bird")
    assert dog | {"width": None, "height": None} == {
        "category": "dog", "annotations": 4, "labels": 0, "scenes": 3, "boxes": 4,
        "polygons": 0, "small": 2, "medium": 1, "large": 1, "width": None, "height": None,
    }  # fmt: skip
    # dog widths 10, 40, 0, 100 → sorted 0, 10, 40, 100
    assert dog["width"] == {"min": 0.0, "q25": 7.5, "median": 25.0, "q75": 55.0, "max": 100.0}
    assert dog["height"] == {"min": 4.0, "q25": 16.0, "median": 30.0, "q75": 55.0, "max": 100.0}
    assert (cat["annotations"], cat["labels"], cat["scenes"], cat["polygons"]) == (2, 1, 2, 1)
    assert (cat["small"], cat["medium"], cat["large"]) == (1, 1, 0)
    assert bird == {
        "category": "bird", "annotations": 0, "labels": 1, "scenes": 0, "boxes": 0,
        "polygons": 0, "small": 0, "medium": 0, "large": 0, "width": None, "height": None,
    }  # fmt: skip
    sizes = report["image_sizes"]
    assert sizes["width"] == {"min": 100, "median": 100.0, "max": 200}
    assert sizes["height"] == {"min": 50, "median": 50.0, "max": 80}
    assert sizes["distinct"] == [
        {"width": 100, "height": 50, "scenes": 4},
        {"width": 200, "height": 80, "scenes": 1},
    ]
    buckets = report["annotation_sizes"]
    assert (buckets["small"], buckets["medium"], buckets["large"]) == (3, 2, 1)
    problems = report["problems"]
    assert problems["zero_area"] == {
        "count": 1,
        "examples": [{"key": "b", "annotation": 1, "category": "dog"}],
    }
    assert problems["inverted"] == {"count": 0, "examples": []}
    assert problems["out_of_image"]["count"] == 2
    assert problems["out_of_image"]["examples"] == [
        {"key": "d", "annotation": 0, "category": "cat"},
        {"key": "d", "annotation": 1, "category": "dog"},
    ]
    # a, b and e share identical PNG bytes; c has other pixels, d another size
    duplicates = problems["duplicate_images"]
    assert duplicates["count"] == 2
    assert [g["keys"] for g in duplicates["groups"]] == [["a", "b", "e"]]
    assert len(duplicates["groups"][0]["sha256"]) == 64
    json.dumps(report, allow_nan=False)


def test_tarball_stream_is_never_decoded(tmp_path, no_decoding: None) -> None:
    path = tmp_path / "data.tar"
    with SceneWriter(path) as writer:
        for scene in scenes():
            writer.write(scene)
    assert collect_stats(iter_scenes(path)) == collect_stats(scenes())


def test_empty_stream_gives_zeros() -> None:
    report = collect_stats([])
    assert report["scenes"] == 0
    assert report["categories"] == []
    assert report["image_sizes"] == {"width": None, "height": None, "distinct": []}
    assert report["annotation_sizes"]["width"] is None
    assert report["problems"]["duplicate_images"] == {"count": 0, "groups": []}


def test_duplicates_need_equal_bytes_not_just_equal_length(tmp_path, monkeypatch) -> None:
    from mira.core.file_range import FileRange

    a, b = png(8, 8, 3), png(8, 8, 4)
    assert len(a) == len(b) and a != b
    images = {"x": a, "y": b, "z": a, "w": png(20, 9, 3), "v": png(30, 20, 4)}
    assert len({len(a), len(images["w"]), len(images["v"])}) == 3
    path = tmp_path / "d.tar"
    with SceneWriter(path) as writer:
        for key, data in images.items():
            writer.write(Scene(CATS, ImageSource.from_bytes(data), key=key))
    reads: list[int] = []
    original = FileRange.read

    def counted(self, limit=None):
        if limit is None:
            reads.append(self.size)
        return original(self, limit)

    monkeypatch.setattr(FileRange, "read", counted)
    duplicates = collect_stats(iter_scenes(path))["problems"]["duplicate_images"]
    assert [g["keys"] for g in duplicates["groups"]] == [["x", "z"]]
    assert duplicates["count"] == 1
    assert sorted(reads) == [len(a)] * 3  # images of a unique length are never read


def test_keys_default_to_stream_position() -> None:
    unnamed = [s.assign(key=None) for s in scenes()]
    report = collect_stats(unnamed)
    assert report["problems"]["duplicate_images"]["groups"][0]["keys"] == [
        "000000",
        "000001",
        "000004",
    ]


def test_by_metadata_groups_with_missing_first() -> None:
    report = collect_stats(scenes(), by="metadata.source")
    assert report["by"] == "metadata.source"
    groups = {g["group"]: g for g in report["groups"]}
    assert [g["group"] for g in report["groups"]] == [None, "s1", "s2"]
    assert {k: g["scenes"] for k, g in groups.items()} == {None: 1, "s1": 2, "s2": 2}
    assert {k: g["annotations"] for k, g in groups.items()} == {None: 2, "s1": 2, "s2": 2}
    assert groups["s2"]["labels"] == 2
    assert groups["s2"]["problems"]["duplicate_images"]["groups"][0]["keys"] == ["b", "e"]
    assert set(report["groups"][0]) == TOP_KEYS | {"group"}


def test_by_categories_counts_a_scene_in_each_of_its_groups() -> None:
    report = collect_stats(scenes(), by="categories")
    counts = {g["group"]: g["scenes"] for g in report["groups"]}
    # c has nothing; b has dog + the label bird; e has the label cat
    assert counts == {None: 1, "bird": 1, "cat": 3, "dog": 3}


def test_bad_key_fails_before_reading() -> None:
    def stream():
        raise AssertionError("read a scene")
        yield

    with pytest.raises(ValueError, match="unknown key 'source'"):
        collect_stats(stream(), by="source")


def test_report_tables_mirror_the_report() -> None:
    report = collect_stats(scenes(), by="metadata.source")
    tables = {t["title"].split(" (")[0]: t for t in report_tables(report)}
    assert ["scenes", 5] in [list(r) for r in tables["Summary"]["rows"]]
    categories = tables["Categories"]["rows"]
    assert categories[0][:6] == ["dog", 4, 3, 0, 4, 0]
    assert categories[-1][:3] == ["(all)", 6, 3]
    problems = {row[0]: row[1] for row in tables["Problems"]["rows"]}
    assert problems == {"zero_area": 1, "inverted": 0, "out_of_image": 2, "duplicate_images": 2}
    assert [row[0] for row in tables["By metadata.source"]["rows"]] == ["(missing)", "s1", "s2"]


def test_examples_are_capped_but_counts_exact() -> None:
    accumulator = StatsAccumulator(max_examples=2)
    for i in range(5):
        accumulator.add(Scene(CATS, png(10, 10), [box("dog", 0, 0, 20, 5)], key=f"k{i}"))
    out = accumulator.report()["problems"]["out_of_image"]
    assert out["count"] == 5
    assert [e["key"] for e in out["examples"]] == ["k0", "k1"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["dog", "cat", "bird"]),
            st.floats(-20, 120, allow_nan=False),
            st.floats(-20, 120, allow_nan=False),
            st.floats(0, 150, allow_nan=False),
            st.floats(0, 150, allow_nan=False),
        ),
        max_size=12,
    ),
    st.integers(1, 4),
)
def test_totals_are_consistent(boxes, n_scenes) -> None:
    anns = [box(name, x, y, x + w, y + h) for name, x, y, w, h in boxes]
    image = ImageSource.from_bytes(png(100, 100), dimensions=(100, 100))
    data = [Scene(CATS, image, anns[i::n_scenes], key=f"s{i}") for i in range(n_scenes)]
    report = collect_stats(data)
    cats = report["categories"]
    assert report["annotations"] == len(anns) == sum(c["annotations"] for c in cats)
    sizes = report["annotation_sizes"]
    assert sizes["small"] + sizes["medium"] + sizes["large"] == len(anns)
    assert report["shapes"]["boxes"] == len(anns)
    outside = sum(a.x1 < 0 or a.y1 < 0 or a.x2 > 100 or a.y2 > 100 for a in anns)
    assert report["problems"]["out_of_image"]["count"] == outside
    assert report["problems"]["zero_area"]["count"] == sum(a.area() == 0 for a in anns)
    assert report["problems"]["duplicate_images"]["count"] == n_scenes - 1
    for c in cats:
        assert c["scenes"] <= n_scenes
        if c["annotations"]:
            assert c["width"]["min"] <= c["width"]["median"] <= c["width"]["max"]


def numpy_spread(values: list[float]) -> dict[str, float]:
    names = ["min", "q25", "median", "q75", "max"]
    points = np.quantile(np.array(values, dtype=np.float64), [0, 0.25, 0.5, 0.75, 1])
    return {k: round(float(v), 3) for k, v in zip(names, points, strict=True)}


def widths_report(widths: list[float]) -> dict[str, Any]:
    image = ImageSource.from_bytes(png(8, 8), dimensions=(8, 8))
    scenes = [
        Scene(CATS, image, [box("dog", 0, 0, w, 1)], key=f"s{i}") for i, w in enumerate(widths)
    ]
    return collect_stats(scenes)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.floats(0, 5000, width=32), min_size=1, max_size=40))
def test_quantiles_are_numpys_exactly_for_float32_values(widths: list[float]) -> None:
    report = widths_report(widths)
    assert report["categories"][0]["width"] == numpy_spread(widths)
    assert report["annotation_sizes"]["width"] == numpy_spread(widths)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.floats(0, 8000, allow_nan=False), min_size=1, max_size=40))
def test_quantiles_of_any_value_are_off_by_a_thousandth_at_most(widths: list[float]) -> None:
    got, expected = widths_report(widths)["annotation_sizes"]["width"], numpy_spread(widths)
    assert (got["min"], got["max"]) == (expected["min"], expected["max"])  # exact
    for name in ("q25", "median", "q75"):
        assert abs(got[name] - expected[name]) <= 0.0011
        assert got["min"] <= got[name] <= got["max"]


def test_memory_per_scene_is_a_few_dozen_bytes() -> None:
    """What the accumulator keeps grows by its compact arrays only: key, image length and
    digest (images in memory) or position (in a tarball), and 8 bytes an annotation."""
    import tracemalloc

    image = ImageSource.from_bytes(png(8, 8), dimensions=(8, 8))
    anns = [box("dog", 0, 0, 3, 4), box("cat", 1, 1, 2, 2)]
    scene = Scene(CATS, image, anns)
    accumulator = StatsAccumulator()
    for i in range(2_000):
        accumulator.add(scene, key=f"{i:06d}")
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(2_000, 22_000):
            accumulator.add(scene, key=f"{i:06d}")
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown / 20_000 < 100  # 6 (key) + 8 + 4 + 8 + 32 (digest) + 2 × 8, and slack
    assert accumulator.report()["problems"]["duplicate_images"]["count"] == 21_999
