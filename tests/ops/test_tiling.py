"""Sub-crops and grid tiles: windows (properties), scenes (exact values), the stream."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mira import geometry
from mira.core import Annotation, Categories, Scene
from mira.core.image import encode_image
from mira.errors import ValidationError
from mira.ops.tiling import grid_windows, split_scene, subcrop_windows, tile_scenes

CATS = Categories(["a", "b"])


def pixels(width: int, height: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, size=(height, width, 3), dtype=np.uint8)


def make_scene(
    width: int, height: int, annotations: list, fmt: str = "png", key: str = "000009"
) -> Scene:
    return Scene(
        CATS, encode_image(pixels(width, height), fmt), annotations, metadata={"m": 1}, key=key
    )


# --- grid ---------------------------------------------------------------------------------


def test_grid_windows_exact() -> None:
    assert grid_windows(250, 100, 100, 0.2) == [
        (0, 0, 100, 100),
        (80, 0, 180, 100),
        (150, 0, 250, 100),
    ]
    assert grid_windows(50, 30, 100, 0.5) == [(0, 0, 50, 30)]
    assert grid_windows(200, 200, 100, 0.0) == [
        (0, 0, 100, 100),
        (100, 0, 200, 100),
        (0, 100, 100, 200),
        (100, 100, 200, 200),
    ]


@settings(max_examples=80, deadline=None)
@given(
    st.integers(1, 300),
    st.integers(1, 300),
    st.integers(6, 120),
    st.sampled_from([0.0, 0.2, 0.5, 0.9, 0.99]),
)
def test_grid_windows_cover_every_pixel(width: int, height: int, size: int, overlap: float) -> None:
    windows = grid_windows(width, height, size, overlap)
    covered = np.zeros((height, width), dtype=bool)
    for x1, y1, x2, y2 in windows:
        assert 0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height
        assert (x2 - x1, y2 - y1) == (min(size, width), min(size, height))
        covered[y1:y2, x1:x2] = True
    assert covered.all()
    assert max(w[2] for w in windows) == width and max(w[3] for w in windows) == height
    assert len(set(windows)) == len(windows)


quarter = st.integers(0, 800).map(lambda v: v / 4)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(quarter, quarter, st.integers(1, 120), st.integers(1, 120)), max_size=8),
    st.sampled_from([64, 100]),
    st.sampled_from([0.0, 0.3]),
)
def test_tiles_map_back_to_clipped_sources(rows: list, size: int, overlap: float) -> None:
    annotations = [
        Annotation(CATS["a"], x, y, x + w / 4, y + h / 4, metadata={"i": i})
        for i, (x, y, w, h) in enumerate(rows)
    ]
    scene = make_scene(220, 180, annotations)
    tiles, counts = split_scene(scene, size, "grid", overlap, 0.0)
    windows = grid_windows(220, 180, size, overlap)
    assert [(t.metadata["tile"]["x"], t.metadata["tile"]["y"]) for t in tiles] == [
        w[:2] for w in windows
    ]
    for tile, (x1, y1, x2, y2) in zip(tiles, windows, strict=True):
        source = np.array([a.x1y1x2y2() for a in annotations]).reshape(-1, 4)
        clipped = geometry.clip_boxes(source, x1, y1, x2, y2)
        expected = [i for i, c in enumerate(clipped) if geometry.box_areas(c[None])[0] > 0]
        expected += [
            i
            for i, a in enumerate(annotations)
            if a.area() == 0 and x1 <= a.x1 and a.x2 <= x2 and y1 <= a.y1 and a.y2 <= y2
        ]
        assert sorted(a.metadata["i"] for a in tile.annotations) == sorted(expected)
        for a in tile.annotations:
            back = (a.x1 + x1, a.y1 + y1, a.x2 + x1, a.y2 + y1)
            assert back == tuple(clipped[a.metadata["i"]])
    assert counts["annotations_out"] == sum(len(t.annotations) for t in tiles)


def test_grid_min_visibility_drops_and_counts() -> None:
    scene = make_scene(
        100,
        50,
        [
            Annotation(CATS["a"], 40, 10, 60, 20),  # half in each of two tiles
            Annotation(CATS["b"], points=[[45, 30], [70, 30], [70, 40], [45, 40]]),  # 1/5 | 4/5
        ],
    )
    tiles, counts = split_scene(scene, 50, "grid", 0.0, 0.5)
    assert [len(t.annotations) for t in tiles] == [1, 2]
    assert tiles[0].annotations[0].x1y1x2y2() == (40.0, 10.0, 50.0, 20.0)
    assert tiles[1].annotations[1].x1y1x2y2() == (0.0, 30.0, 20.0, 40.0)
    assert counts == {
        "tiles": 2,
        "annotations_in": 2,
        "annotations_out": 3,
        "dropped_visibility": 1,
        "encoding": "png",
    }


def test_tile_pixels_and_metadata() -> None:
    scene = make_scene(90, 60, [])
    tiles = scene.tile(50, overlap=0.2, min_visibility=0.0)
    assert [t.metadata for t in tiles] == [
        {"m": 1, "tile": {"source": "000009", "x": x, "y": y}} for y in (0, 10) for x in (0, 40)
    ]
    assert np.array_equal(tiles[3].unmasked_image, pixels(90, 60)[10:60, 40:90])
    # keyed <source key>-<x>-<y>, offsets zero-padded to five digits (mira.ops.tiling.tile_key)
    assert [t.key for t in tiles] == [
        "000009-00000-00000", "000009-00040-00000", "000009-00000-00010", "000009-00040-00010"
    ]  # fmt: skip
    keyless = make_scene(90, 60, [], key=None).tile(50)
    assert [t.key for t in keyless] == [None] * 4


# --- sub-crops ----------------------------------------------------------------------------


@st.composite
def layouts(draw: st.DrawFn) -> tuple[np.ndarray, int, int, int]:
    width, height = draw(st.integers(20, 200)), draw(st.integers(20, 200))
    max_size = draw(st.integers(8, 120))
    rows = draw(
        st.lists(
            st.tuples(
                st.integers(-20, 200), st.integers(-20, 200), st.integers(0, 60), st.integers(0, 60)
            ),
            max_size=10,
        )
    )
    boxes = np.array([(x / 2, y / 2, x / 2 + w / 2, y / 2 + h / 2) for x, y, w, h in rows]).reshape(
        -1, 4
    )
    return boxes, width, height, max_size


def check_windows(
    boxes: np.ndarray, width: int, height: int, windows: list, limit: int | None
) -> None:
    clipped = geometry.clip_boxes(boxes, 0, 0, width, height)
    contained = np.zeros(len(boxes), dtype=bool)
    for x1, y1, x2, y2 in windows:
        assert 0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height
        if limit is not None:
            assert x2 - x1 <= limit and y2 - y1 <= limit
        inside = (
            (clipped[:, 0] >= x1)
            & (clipped[:, 1] >= y1)
            & (clipped[:, 2] <= x2)
            & (clipped[:, 3] <= y2)
        )
        touches = (
            (clipped[:, 0] < x2)
            & (clipped[:, 2] > x1)
            & (clipped[:, 1] < y2)
            & (clipped[:, 3] > y1)
        )
        assert not (touches & ~inside).any(), "a window cuts an annotation"
        contained |= inside
    assert contained.all(), "an annotation is in no window"


@settings(max_examples=150, deadline=None)
@given(layouts())
def test_subcrops_never_cut_and_cover_everything(layout: tuple) -> None:
    boxes, width, height, max_size = layout
    try:
        windows = subcrop_windows(boxes, width, height, max_size)
    except ValidationError as exc:
        assert "use oversized='crop'" in str(exc)
    else:
        check_windows(boxes, width, height, windows, max_size)
    check_windows(
        boxes, width, height, subcrop_windows(boxes, width, height, max_size, "crop"), None
    )


def test_subcrops_small_image_and_empty_scene() -> None:
    assert subcrop_windows(np.array([[1, 1, 5, 5.0]]), 50, 50, 64) == [(0, 0, 50, 50)]
    assert subcrop_windows(np.zeros((0, 4)), 100, 60, 64) == grid_windows(100, 60, 64, 0.0)


def test_subcrops_scene_exact() -> None:
    scene = make_scene(
        200,
        100,
        [
            Annotation(CATS["a"], 10.5, 20, 40, 50.25, metadata={"id": 0}),
            Annotation(CATS["b"], points=[[150, 60], [190, 60], [170, 95]], metadata={"id": 1}),
            Annotation(CATS["a"], 30, 30, 35, 35, metadata={"id": 2}),
        ],
        fmt="jpg",
    )
    crops = scene.to_subcrops(64)
    assert [c.metadata["tile"] for c in crops] == [
        {"source": "000009", "x": 0, "y": 3},
        {"source": "000009", "x": 136, "y": 36},
    ]
    assert [[a.metadata["id"] for a in c.annotations] for c in crops] == [[0, 2], [1]]
    assert crops[0].annotations[0].x1y1x2y2() == (10.5, 17.0, 40.0, 47.25)
    assert crops[1].annotations[0].points.tolist() == [[14, 24], [54, 24], [34, 59]]
    assert all(c.dimensions == (64, 64) for c in crops)
    assert all(c.image_source.extension == "jpg" for c in crops)


def test_subcrops_oversized_annotation() -> None:
    scene = make_scene(300, 100, [Annotation(CATS["b"], 10, 10, 150.5, 20)])
    with pytest.raises(ValidationError) as info:
        scene.to_subcrops(64)
    assert str(info.value) == (
        "scene 000009: annotation 0 ('b' at (10, 10, 150.5, 20)) spans 141x10 px, more than "
        "the max size 64; use oversized='crop' (--oversized crop) to give it a larger crop of "
        "its own"
    )
    (crop,) = scene.to_subcrops(64, oversized="crop")
    assert crop.metadata["tile"] == {"source": "000009", "x": 10, "y": 10}
    assert crop.dimensions == (141, 10)
    assert crop.annotations[0].x1y1x2y2() == (0.0, 0.0, 140.5, 10.0)


# --- stream -------------------------------------------------------------------------------


def test_tile_scenes_is_the_same_for_any_jobs() -> None:
    scenes = [
        make_scene(130, 70, [Annotation(CATS["a"], 5, 5, 30, 30)], fmt=fmt, key=f"{i:06d}")
        for i, fmt in enumerate(["jpg", "png", "jpg"])
    ]
    runs = []
    for jobs in (1, 2):
        report: dict = {}
        out = list(tile_scenes(scenes, 64, mode="grid", overlap=0.0, jobs=jobs, report=report))
        runs.append(([s.image_source.encoded() for s in out], [s.metadata for s in out], report))
    assert runs[0] == runs[1]
    data, metadata, report = runs[0]
    # x starts 0, 64 and 66 (flush with the right edge), y starts 0 and 6
    assert len(data) == 18 and data[0][:3] == b"\xff\xd8\xff" and data[6][:4] == b"\x89PNG"
    assert metadata[7] == {"m": 1, "tile": {"source": "000001", "x": 64, "y": 0}}
    assert metadata[11] == {"m": 1, "tile": {"source": "000001", "x": 66, "y": 6}}
    assert report == {
        "max_size": 64,
        "mode": "grid",
        "overlap": 0.0,
        "min_visibility": 0.0,
        "oversized": "error",
        "image_format": "keep",
        "quality": None,
        "scenes": {"in": 3, "out": 18},
        "annotations": {"in": 3, "out": 6, "dropped_visibility": 0},
        "encoded": {"jpg q95": 12, "png": 6},
    }


def test_tiles_of_a_scene_without_a_key_are_keyed_by_its_position() -> None:
    scenes = [make_scene(90, 60, [], key="cam-7"), make_scene(90, 60, [], key=None)]
    out = list(tile_scenes(scenes, 50, mode="grid", overlap=0.0, jobs=1))
    assert [t.key for t in out] == [
        "cam-7-00000-00000", "cam-7-00040-00000", "cam-7-00000-00010", "cam-7-00040-00010",
        "000001-00000-00000", "000001-00040-00000", "000001-00000-00010", "000001-00040-00010",
    ]  # fmt: skip
    assert out[4].metadata["tile"] == {"source": "000001", "x": 0, "y": 0}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_size": 0}, "max size must be a positive number of pixels, got 0"),
        ({"max_size": 64, "overlap": 1.0}, r"overlap must be in \[0, 1\), got 1.0"),
        ({"max_size": 64, "min_visibility": -0.1}, r"min visibility must be in \[0, 1\], got -0.1"),
        ({"max_size": 64, "mode": "mosaic"}, "mode must be one of subcrops, grid; got 'mosaic'"),
    ],
)
def test_tile_scenes_bad_options(options: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        tile_scenes([], **options)
