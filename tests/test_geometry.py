"""Geometry: exact values on hand-made shapes, properties on generated ones."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mira import geometry
from mira.errors import ValidationError

# Quarter-pixel coordinates keep every sum and product exact in float64.
coord = st.integers(0, 400).map(lambda v: v / 4)


@st.composite
def boxes(draw: st.DrawFn, min_size: int = 0, max_size: int = 12) -> np.ndarray:
    rows = draw(
        st.lists(st.tuples(coord, coord, coord, coord), min_size=min_size, max_size=max_size)
    )
    out = [(min(a, c), min(b, d), max(a, c), max(b, d)) for a, b, c, d in rows]
    return np.array(out, dtype=np.float64).reshape(-1, 4)


@st.composite
def polygons(draw: st.DrawFn) -> np.ndarray:
    """Star-shaped (hence simple) polygons: sorted angles, random radii around a centre."""
    k = draw(st.integers(3, 8))
    cx, cy = draw(coord), draw(coord)
    angles = sorted(draw(st.lists(st.integers(0, 359), min_size=k, max_size=k, unique=True)))
    radii = draw(st.lists(st.integers(1, 40), min_size=k, max_size=k))
    return np.array(
        [
            [cx + r * np.cos(np.radians(a)), cy + r * np.sin(np.radians(a))]
            for a, r in zip(angles, radii, strict=True)
        ]
    )


def test_box_areas_and_intersections_exact() -> None:
    a = np.array([[0, 0, 10, 10], [5, 5, 15, 25], [3, 3, 3, 9]], dtype=float)
    assert geometry.box_areas(a).tolist() == [100, 200, 0]
    assert geometry.box_intersections(a, a).tolist() == [
        [100, 25, 0],
        [25, 200, 0],
        [0, 0, 0],
    ]
    assert geometry.box_iou(a[:1], a[1:2]).tolist() == [[25 / 275]]
    assert geometry.box_coverage(a[:2], a[:2]).tolist() == [[1, 0.25], [0.125, 1]]


def test_zero_area_boxes_give_zero_not_nan() -> None:
    point = np.array([[4, 4, 4, 4]], dtype=float)
    assert geometry.box_iou(point, point).tolist() == [[0.0]]
    assert geometry.box_coverage(point, np.array([[0, 0, 10, 10]], dtype=float)).tolist() == [[0.0]]
    assert geometry.box_iou(np.zeros((0, 4)), point).shape == (0, 1)


def test_bad_box_shape_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"boxes must have shape \(N, 4\), got \(2, 3\)"):
        geometry.box_areas(np.zeros((2, 3)))


@settings(max_examples=80, deadline=None)
@given(boxes(), boxes())
def test_iou_symmetric_bounded(a: np.ndarray, b: np.ndarray) -> None:
    iou = geometry.box_iou(a, b)
    assert iou.shape == (len(a), len(b))
    assert np.array_equal(iou, geometry.box_iou(b, a).T)
    assert np.all((iou >= 0) & (iou <= 1))
    cov = geometry.box_coverage(a, b)
    assert np.all((cov >= 0) & (cov <= 1))
    positive = geometry.box_areas(a) > 0
    assert np.all(np.diag(geometry.box_iou(a, a))[positive] == 1)


@settings(max_examples=80, deadline=None)
@given(boxes(min_size=1, max_size=1), st.tuples(coord, coord, coord, coord))
def test_coverage_is_one_inside_a_container(a: np.ndarray, grow: tuple) -> None:
    container = a + np.array([[-grow[0], -grow[1], grow[2], grow[3]]])
    cov = geometry.box_coverage(a, container)[0, 0]
    assert cov == (1.0 if geometry.box_areas(a)[0] > 0 else 0.0)


def brute_dominated(b: np.ndarray, t: float, method: str, groups: np.ndarray) -> list[bool]:
    areas = geometry.box_areas(b)
    inter = geometry.box_intersections(b, b)
    out = []
    for i in range(len(b)):
        hit = False
        for j in range(i + 1, len(b)):
            bound = t * (areas[i] + areas[j] - inter[i, j] if method == "iou" else areas[i])
            if groups[i] == groups[j] and inter[i, j] > 0 and inter[i, j] >= bound:
                hit = True
        out.append(hit)
    return out


@settings(max_examples=60, deadline=None)
@given(
    boxes(max_size=20),
    st.sampled_from([1.0, 0.75, 0.5, 0.1]),
    st.sampled_from(["iou", "coverage"]),
    st.randoms(use_true_random=False),
)
def test_dominated_boxes_matches_brute_force(b, t, method, rnd) -> None:
    groups = np.array([rnd.randint(0, 1) for _ in range(len(b))])
    expected = brute_dominated(b, t, method, groups)
    assert geometry.dominated_boxes(b, t, method, groups=groups).tolist() == expected
    small = geometry.dominated_boxes_small(b.tolist(), t, method, groups.tolist())
    assert small == expected


@pytest.mark.parametrize("method", ["iou", "coverage"])
@pytest.mark.parametrize("t", [1.0, 0.5])
def test_dominated_boxes_blocked_path_matches_brute_force(method: str, t: float) -> None:
    rng = np.random.default_rng(7)
    n = 700  # beyond one dense block
    xy = rng.integers(0, 200, size=(n, 2)) / 2
    wh = rng.integers(1, 30, size=(n, 2)) / 2
    b = np.column_stack([xy, xy + wh])
    b[300:350] = b[100:150]  # exact duplicates
    groups = rng.integers(0, 3, size=n)
    expected = brute_dominated(b, t, method, groups)
    assert geometry.dominated_boxes(b, t, method, groups=groups).tolist() == expected
    assert sum(expected) > 0


def test_dominated_boxes_unknown_method() -> None:
    with pytest.raises(ValidationError, match="method must be 'iou' or 'coverage', got 'area'"):
        geometry.dominated_boxes(np.zeros((2, 4)), 1.0, "area")


def test_polygon_iou_and_coverage_exact() -> None:
    square = geometry.box_to_polygon((0, 0, 10, 10))
    triangle = np.array([[0, 0], [10, 0], [0, 10]], dtype=float)
    assert geometry.polygon_iou(square, triangle) == 0.5
    assert geometry.polygon_coverage(triangle, square) == 1.0
    assert geometry.polygon_coverage(square, triangle) == 0.5
    line = np.array([[0, 0], [5, 5], [10, 10]], dtype=float)
    assert geometry.polygon_iou(line, line) == 0.0
    assert geometry.polygon_coverage(line, square) == 0.0
    bowtie = np.array([[0, 0], [10, 10], [10, 0], [0, 10]], dtype=float)
    assert geometry.polygon_area(bowtie) == 50.0  # repaired, both lobes kept


@settings(max_examples=60, deadline=None)
@given(st.lists(polygons(), min_size=1, max_size=4), st.lists(polygons(), min_size=1, max_size=4))
def test_polygon_iou_symmetric_bounded(a: list, b: list) -> None:
    iou = geometry.shape_iou(a, b)
    assert np.allclose(iou, geometry.shape_iou(b, a).T, rtol=0, atol=1e-12)
    assert np.all((iou >= 0) & (iou <= 1 + 1e-12))
    cov = geometry.shape_coverage(a, b)
    assert np.all((cov >= 0) & (cov <= 1 + 1e-12))


@settings(max_examples=60, deadline=None)
@given(boxes(max_size=6), boxes(max_size=6))
def test_shape_iou_of_boxes_equals_box_iou(a: np.ndarray, b: np.ndarray) -> None:
    pa = [geometry.box_to_polygon(r) for r in a]
    pb = [geometry.box_to_polygon(r) for r in b]
    assert np.allclose(geometry.shape_iou(pa, pb), geometry.box_iou(a, b), rtol=0, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(boxes(max_size=8), st.sampled_from([1.0, 0.5]), st.sampled_from(["iou", "coverage"]))
def test_dominated_shapes_agree_with_boxes(b: np.ndarray, t: float, method: str) -> None:
    shapes = [geometry.box_to_polygon(r) for r in b]
    order = np.argsort(geometry.box_areas(b), kind="stable")  # dominated_shapes ranks by area
    expected = np.zeros(len(b), dtype=bool)
    expected[order] = geometry.dominated_boxes(b[order], t, method)
    assert geometry.dominated_shapes(shapes, t, method) == expected.tolist()


def brute_dominated_shapes(shapes: list, t: float, method: str, groups: list) -> list[bool]:
    """The rule spelled out: every pair exact via shapely; j ranks above i by area, ties
    by position; the intersection is taken lower-ranked first, as `dominated_shapes` does."""
    geoms = [geometry.to_geometry(s) for s in shapes]
    areas = [g.area for g in geoms]
    out = []
    for i in range(len(shapes)):
        hit = False
        for j in range(len(shapes)):
            above = areas[j] > areas[i] or (areas[j] == areas[i] and j > i)
            if groups[i] == groups[j] and above:
                inter = geoms[i].intersection(geoms[j]).area
                bound = t * (areas[i] + areas[j] - inter if method == "iou" else areas[i])
                hit = hit or (inter > 0 and inter >= bound)
        out.append(hit)
    return out


@st.composite
def rings(draw: st.DrawFn) -> np.ndarray:
    """Boxes, triangles, star-shaped (simple, mostly concave) and arbitrary rings (often
    self-intersecting), on a quarter-pixel grid or off it (so areas are inexact)."""
    kind = draw(st.sampled_from(["box", "triangle", "star", "any"]))
    offset = draw(st.sampled_from([0.0, 1000.1]))
    if kind == "box":
        (box,) = draw(boxes(min_size=1, max_size=1))
        return geometry.box_to_polygon(box) + offset
    if kind == "star":
        return draw(polygons()) + offset
    k = 3 if kind == "triangle" else draw(st.integers(4, 7))
    return np.array(draw(st.lists(st.tuples(coord, coord), min_size=k, max_size=k))) + offset


@st.composite
def ring_lists(draw: st.DrawFn) -> list[np.ndarray]:
    """A few rings, some of them copies of others: moved, stretched, or started elsewhere,
    so that overlaps near every threshold (and exact ties in area) are common."""
    shapes = draw(st.lists(rings(), min_size=1, max_size=6))
    for _ in range(draw(st.integers(0, 4))):
        source = shapes[draw(st.integers(0, len(shapes) - 1))]
        move = draw(st.sampled_from([0.0, 1e-9, 0.25, 1.0, 3.0]))
        copy = source + np.array([move, -move]) * draw(st.integers(-1, 1))
        copy = copy * draw(st.sampled_from([1.0, 1.0, 1.01]))
        shapes.append(np.roll(copy, draw(st.integers(0, 3)), axis=0))
    return shapes


def thresholds_near(shapes: list[np.ndarray]) -> list[float]:
    """Thresholds on and just beside the exact overlaps of some pairs and their bounds."""
    geoms = [geometry.to_geometry(s) for s in shapes]
    values = []
    for i, j in zip(range(len(shapes)), range(1, len(shapes)), strict=False):
        a, b = geoms[i].area, geoms[j].area
        inter = geoms[i].intersection(geoms[j]).area
        x1, y1 = np.maximum(shapes[i].min(axis=0), shapes[j].min(axis=0))
        x2, y2 = np.minimum(shapes[i].max(axis=0), shapes[j].max(axis=0))
        bound = min(max(x2 - x1, 0) * max(y2 - y1, 0), a, b)
        for top, bottom in ((inter, a + b - inter), (inter, min(a, b)), (bound, a + b - bound)):
            if bottom > 0:
                v = top / bottom
                values += [v, np.nextafter(v, 0), np.nextafter(v, 2), v * (1 - 1e-12)]
    return [float(v) for v in values if 0 < v <= 1]


@settings(max_examples=300, deadline=None)
@given(ring_lists(), st.sampled_from(["iou", "coverage"]), st.data())
def test_dominated_shapes_matches_brute_force(shapes: list, method: str, data) -> None:
    t = data.draw(st.sampled_from([1.0, 0.9, 0.5, 0.1, *thresholds_near(shapes)]))
    groups = data.draw(st.lists(st.integers(0, 1), min_size=len(shapes), max_size=len(shapes)))
    expected = brute_dominated_shapes(shapes, t, method, groups)
    assert geometry.dominated_shapes(shapes, t, method, groups=groups) == expected


@pytest.mark.parametrize("method", ["iou", "coverage"])
def test_dominated_shapes_many_matches_brute_force(method: str) -> None:
    # Beyond 64 shapes the overlapping pairs come from a sweep over the bounding boxes.
    rng = np.random.default_rng(5)
    shapes = [rng.uniform(0, 20, size=(3, 2)) + rng.uniform(0, 200, size=2) for _ in range(150)]
    shapes += [geometry.box_to_polygon(b) for b in rng.integers(0, 200, size=(50, 4))]
    angles = np.linspace(0, 2 * np.pi, 80, endpoint=False)  # rings too long for plain Python
    shapes += [np.c_[np.cos(angles), np.sin(angles)] * 9 + c for c in rng.uniform(0, 200, (9, 2))]
    shapes += [s + rng.choice([0.0, 0.5], size=2) for s in shapes[::3]]  # near copies
    groups = rng.integers(0, 2, size=len(shapes)).tolist()
    expected = brute_dominated_shapes(shapes, 0.6, method, groups)
    assert sum(expected) > 0
    assert geometry.dominated_shapes(shapes, 0.6, method, groups=groups) == expected


def test_dominated_shapes_of_awkward_rings() -> None:
    # A bow-tie's shoelace area is 0, its repaired area 50: only shapely gets these right.
    bowtie = np.array([[0, 0], [10, 10], [10, 0], [0, 10]], dtype=float)
    assert geometry.dominated_shapes([bowtie, bowtie.copy()], 1.0) == [True, False]
    square = geometry.box_to_polygon((0, 0, 10, 10))
    assert geometry.dominated_shapes([bowtie, square], 0.5) == [True, False]
    assert geometry.dominated_shapes([bowtie, square], 1.0, "coverage") == [True, False]
    # A ring that doubles back along its base always turns left, yet is no convex clip.
    folded = np.array([[0, 0], [4, 0], [2, 0], [6, 0], [6, 4], [3, 6], [0, 4]], dtype=float)
    inside = np.array([[1, 1], [5, 1], [5, 2], [2, 2], [2, 3], [1, 3]], dtype=float)
    assert geometry.dominated_shapes([inside, folded], 0.9, "coverage") == [True, False]


@settings(max_examples=60, deadline=None)
@given(st.lists(rings(), max_size=5))
def test_geometries_built_at_once_are_those_of_to_geometry(shapes: list) -> None:
    wkb = [g.wkb for g in geometry._geometries(shapes)]
    assert wkb == [geometry.to_geometry(s).wkb for s in shapes]


def test_clip_polygon_keeps_every_piece() -> None:
    # A U shape: clipping off its base leaves two separate arms.
    u = np.array([[0, 0], [30, 0], [30, 30], [20, 30], [20, 10], [10, 10], [10, 30], [0, 30]])
    pieces = geometry.clip_polygon(u, 0, 15, 30, 30)
    assert len(pieces) == 2
    assert sorted(geometry.polygon_area(p) for p in pieces) == [150.0, 150.0]
    boxes_ = sorted(tuple(p.min(axis=0)) + tuple(p.max(axis=0)) for p in pieces)
    assert boxes_ == [(0, 15, 10, 30), (20, 15, 30, 30)]


def test_clip_polygon_touching_or_outside_gives_nothing() -> None:
    square = geometry.box_to_polygon((0, 0, 10, 10))
    assert geometry.clip_polygon(square, 10, 0, 20, 10) == []
    assert geometry.clip_polygon(square, 50, 50, 60, 60) == []


def test_clip_polygon_splits_holes_away() -> None:
    # A square with a square hole, drawn as one ring with a zero-width bridge.
    ring = np.array(
        [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0], [3, 3], [3, 7], [7, 7], [7, 3], [3, 3]],
        dtype=float,
    )
    pieces = geometry.clip_polygon(ring, -1, -1, 11, 11)
    assert len(pieces) >= 2
    assert sum(geometry.polygon_area(p) for p in pieces) == 84.0


@settings(max_examples=80, deadline=None)
@given(polygons(), st.tuples(coord, coord, coord, coord))
def test_clip_polygon_area_and_bounds(points: np.ndarray, rect: tuple) -> None:
    import shapely

    x1, x2 = sorted(rect[::2])
    y1, y2 = sorted(rect[1::2])
    pieces = geometry.clip_polygon(points, x1, y1, x2, y2)
    expected = geometry.to_geometry(points).intersection(shapely.box(x1, y1, x2, y2)).area
    assert sum(geometry.polygon_area(p) for p in pieces) == pytest.approx(expected, abs=1e-9)
    for p in pieces:
        assert len(p) >= 3
        assert np.all((p >= [x1, y1]) & (p <= [x2, y2]))


def test_clip_boxes() -> None:
    b = np.array([[-5, 2, 8, 30], [50, 50, 60, 60]], dtype=float)
    assert geometry.clip_boxes(b, 0, 0, 20, 20).tolist() == [[0, 2, 8, 20], [20, 20, 20, 20]]
