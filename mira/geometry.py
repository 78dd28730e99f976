"""Pure, vectorised box and polygon maths.

Boxes are float arrays of shape (N, 4) with columns x1, y1, x2, y2 (x2 and y2 exclusive,
as in `Annotation.area`). Polygons are float arrays of shape (K, 2), open rings. Nothing
here mutates its inputs or rounds coordinates.

Degenerate shapes have defined results: a shape of zero area has IoU 0 and coverage 0
with everything (there is no area to overlap), so no NaN ever leaks out. shapely is
imported lazily because the CLI imports this module at start-up, and `dominated_shapes`
(deduplication) asks it only about the pairs that float maths cannot settle: a dataset of
boxes and simple polygons with no near-ties never imports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mira.errors import ValidationError
from mira.ring_overlaps import Ring, settle, touching_pairs

METHODS = ("iou", "coverage")

# Largest number of pair cells computed at once (8 bytes each): bounds peak memory to a
# few tens of MB whatever the number of boxes.
_BLOCK_CELLS = 1 << 20


def as_boxes(boxes: Any) -> np.ndarray:
    """Return `boxes` as a float64 (N, 4) array (a view when already one)."""
    array = np.asarray(boxes, dtype=np.float64)
    if array.size == 0:
        return array.reshape(0, 4)
    if array.ndim != 2 or array.shape[1] != 4:
        raise ValidationError(f"boxes must have shape (N, 4), got {array.shape}")
    return array


def check_method(method: str) -> str:
    """Validate an overlap method name ("iou" or "coverage")."""
    if method not in METHODS:
        raise ValidationError(f"method must be 'iou' or 'coverage', got {method!r}")
    return method


def box_areas(boxes: Any) -> np.ndarray:
    """(N,) areas of (N, 4) boxes; inverted extents count as 0."""
    b = as_boxes(boxes)
    w = b[:, 2] - b[:, 0]
    h = b[:, 3] - b[:, 1]
    return np.maximum(w, 0, out=w) * np.maximum(h, 0, out=h)


def box_intersections(a: Any, b: Any) -> np.ndarray:
    """(N, M) intersection areas of (N, 4) boxes `a` with (M, 4) boxes `b`."""
    a, b = as_boxes(a), as_boxes(b)
    w = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    h = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    np.maximum(w, 0, out=w)
    np.maximum(h, 0, out=h)
    return np.multiply(w, h, out=w)


def boxes_overlap(a: Any, b: Any) -> np.ndarray:
    """(N, M) bool: True where boxes a[i] and b[j] overlap with positive width and height."""
    a, b = as_boxes(a), as_boxes(b)
    w = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    h = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    return (w > 0) & (h > 0)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, 0 where the denominator is 0 (no NaN, no warning)."""
    out = np.zeros(np.broadcast(numerator, denominator).shape, dtype=np.float64)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def _metric(inter: np.ndarray, area_a: np.ndarray, area_b: np.ndarray, method: str) -> np.ndarray:
    if method == "iou":
        return _ratio(inter, area_a[:, None] + area_b[None, :] - inter)
    return _ratio(inter, np.broadcast_to(area_a[:, None], inter.shape))


def box_iou(a: Any, b: Any) -> np.ndarray:
    """(N, M) intersection over union of boxes; 0 where the union is empty."""
    inter = box_intersections(a, b)
    return _metric(inter, box_areas(a), box_areas(b), "iou")


def box_coverage(a: Any, b: Any) -> np.ndarray:
    """(N, M) fraction of the area of a[i] inside b[j]; 0 when a[i] has no area."""
    inter = box_intersections(a, b)
    return _metric(inter, box_areas(a), box_areas(b), "coverage")


def _morton_order(boxes: np.ndarray) -> np.ndarray:
    """Indices of boxes along a Z-order curve of their centres, so that consecutive
    boxes are close in both x and y."""
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    low, span = centre.min(axis=0), np.ptp(centre, axis=0)
    span[span == 0] = 1
    q = ((centre - low) / span * 65535).astype(np.uint64)
    for shift, mask in ((8, 0x00FF00FF), (4, 0x0F0F0F0F), (2, 0x33333333), (1, 0x55555555)):
        q = (q | (q << np.uint64(shift))) & np.uint64(mask)
    return np.argsort(q[:, 0] | (q[:, 1] << np.uint64(1)), kind="stable")


def dominated_boxes(
    boxes: Any, threshold: float, method: str = "iou", groups: Any = None
) -> np.ndarray:
    """(N,) bool: True where some *later* box overlaps box i at or above `threshold`.

    With `groups` ((N,) ints, e.g. category indices) only boxes of the same group match.

    "Later" means a higher row index, so callers sort by rank (e.g. by area) first. The
    test is `inter > 0 and inter >= threshold * union` for "iou" and `inter > 0 and
    inter >= threshold * area_i` for "coverage" (the share of box i inside the later box),
    so zero-area boxes never match. Works in bounded memory and fast: rows are taken in
    spatially compact blocks, compared only with later boxes that can overlap the block
    (and, for IoU, whose area is within the ratio the threshold allows), largest first,
    and rows stop being compared once matched.
    """
    check_method(method)
    b = as_boxes(boxes)
    n = len(b)
    if n < 2:
        return np.zeros(n, dtype=bool)
    threshold = float(threshold)
    areas = box_areas(b)
    g = None if groups is None else np.asarray(groups).reshape(n)
    if n <= 256:  # one dense block: cheapest for the common small scene
        return _dense_matches(b, areas, g, threshold, method)
    result = np.zeros(n, dtype=bool)
    x1, y1, x2, y2 = b.T
    for rows in np.array_split(_morton_order(b), n // 256):
        candidates = (
            (x1 < x2[rows].max())
            & (x2 > x1[rows].min())
            & (y1 < y2[rows].max())
            & (y2 > y1[rows].min())
        )
        candidates[: rows.min() + 1] = False
        if method == "iou" and threshold > 0:  # IoU <= min(area) / max(area)
            ra = areas[rows]
            candidates &= (areas >= threshold * ra.min()) & (areas * threshold <= ra.max())
        cols = np.flatnonzero(candidates)[::-1]  # largest rank first: most likely to match
        step = max(64, _BLOCK_CELLS // 4 // len(rows))
        for c0 in range(0, len(cols), step):
            rows = rows[~result[rows]]
            if len(rows) == 0:
                break
            result[rows] = _matches(b, areas, g, rows, cols[c0 : c0 + step], threshold, method)
    return result


def dominated_boxes_small(
    boxes: Sequence[Sequence[float]], threshold: float, method: str, groups: Sequence[Any]
) -> list[bool]:
    """`dominated_boxes` in plain Python for a few dozen boxes, where numpy's per-call
    overhead costs more than the arithmetic. Same rule and the same float operations in
    the same order, so the results are identical."""
    check_method(method)
    iou = method == "iou"
    areas = [max(0.0, x2 - x1) * max(0.0, y2 - y1) for x1, y1, x2, y2 in boxes]
    members: dict[Any, list[int]] = {}
    for i, group in enumerate(groups):
        members.setdefault(group, []).append(i)
    out = [False] * len(boxes)
    for indices in members.values():
        for k, i in enumerate(indices):
            ax1, ay1, ax2, ay2 = boxes[i]
            for j in indices[k + 1 :]:
                bx1, by1, bx2, by2 = boxes[j]
                # min() and max() as expressions: the calls cost more than the maths
                w = (ax2 if ax2 < bx2 else bx2) - (ax1 if ax1 > bx1 else bx1)
                h = (ay2 if ay2 < by2 else by2) - (ay1 if ay1 > by1 else by1)
                if w <= 0 or h <= 0:
                    continue
                inter = w * h
                bound = threshold * (areas[i] + areas[j] - inter if iou else areas[i])
                if inter >= bound:
                    out[i] = True
                    break
    return out


def _dense_matches(
    b: np.ndarray, areas: np.ndarray, groups: np.ndarray | None, t: float, method: str
) -> np.ndarray:
    """`_matches` of every box against every box, with as few numpy calls as possible."""
    x1, y1, x2, y2 = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    inter = np.minimum.outer(x2, x2)
    inter -= np.maximum.outer(x1, x1)
    h = np.minimum.outer(y2, y2)
    h -= np.maximum.outer(y1, y1)
    np.maximum(inter, 0, out=inter)
    np.maximum(h, 0, out=h)
    inter *= h
    if method == "iou":
        bound = np.add.outer(areas, areas)
        bound -= inter
        bound *= t
    else:
        bound = (t * areas)[:, None]
    hit = inter >= bound
    hit &= inter > 0
    if groups is not None:
        hit &= np.equal.outer(groups, groups)
    return np.triu(hit, 1).any(axis=1)


def _matches(
    b: np.ndarray,
    areas: np.ndarray,
    groups: np.ndarray | None,
    rows: np.ndarray,
    cols: np.ndarray,
    t: float,
    method: str,
) -> np.ndarray:
    """(len(rows),) bool: row box i is matched by some column box j > i."""
    inter = box_intersections(b[rows], b[cols])
    if method == "iou":
        bound = t * (areas[rows, None] + areas[None, cols] - inter)
    else:
        bound = t * areas[rows, None]
    hit = (inter > 0) & (inter >= bound) & (cols[None, :] > rows[:, None])
    if groups is not None:
        hit &= groups[rows, None] == groups[None, cols]
    return hit.any(axis=1)


# --- polygons (exact, via shapely) ----------------------------------------------------


def _shapely() -> Any:
    import shapely

    return shapely


def _ring(points: Any) -> np.ndarray:
    """`points` as a (K, 2) float array, K >= 3."""
    ring = np.asarray(points, dtype=np.float64)
    if ring.ndim != 2 or ring.shape[1] != 2 or len(ring) < 3:
        raise ValidationError(f"a polygon needs shape (K, 2) with K >= 3, got {ring.shape}")
    return ring


def _pairs(points: Any) -> list[tuple[float, float]]:
    """A shape as the (x, y) pairs `Ring` works on: a list of pairs (such as
    `Annotation.point_pairs` gives) as it is, anything else through `_ring`."""
    if type(points) is list:
        if len(points) < 3 or any(len(p) != 2 for p in points):
            raise ValidationError(f"a polygon needs K >= 3 (x, y) points, got {points!r}")
        return points
    return _ring(points).tolist()


def to_geometry(points: Any) -> Any:
    """A valid shapely geometry for a (K, 2) ring; self-intersections are repaired
    with `make_valid`, which keeps all of the enclosed area."""
    shapely = _shapely()
    geom = shapely.Polygon(_ring(points))
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    return geom


def polygon_area(points: Any) -> float:
    """Area of a polygon ring (self-intersections repaired, so a bow-tie has area)."""
    return float(_shapely().area(to_geometry(points)))


def box_to_polygon(box: Sequence[float]) -> np.ndarray:
    """(4, 2) corners TL, TR, BR, BL of an x1, y1, x2, y2 box."""
    x1, y1, x2, y2 = (float(v) for v in box)
    return np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]])


def rotate_points(points: Any, degrees: float, origin: Sequence[float]) -> np.ndarray:
    """(K, 2) points turned by `degrees` about `origin`; positive angles turn clockwise on
    screen (x right, y down), as labelling tools measure box rotations."""
    ring = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    angle = np.radians(float(degrees))
    cos, sin = np.cos(angle), np.sin(angle)
    offset = ring - np.asarray(origin, dtype=np.float64)
    turned = np.stack(
        [offset[:, 0] * cos - offset[:, 1] * sin, offset[:, 0] * sin + offset[:, 1] * cos], axis=1
    )
    return turned + np.asarray(origin, dtype=np.float64)


def _geometries(shapes: Sequence[Any]) -> np.ndarray:
    """`to_geometry` of every ring, with one shapely call per step instead of per ring."""
    shapely = _shapely()
    rings = [_ring(s) for s in shapes]
    if not rings:
        return np.empty(0, dtype=object)
    owner = np.repeat(np.arange(len(rings)), [len(r) for r in rings])
    geoms = shapely.polygons(shapely.linearrings(np.concatenate(rings), indices=owner))
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        geoms[invalid] = shapely.make_valid(geoms[invalid])
    return geoms


def shape_intersections(a: Sequence[Any], b: Sequence[Any]) -> np.ndarray:
    """(N, M) exact intersection areas of polygon rings `a` and `b` (lists of (K, 2)).

    Only pairs whose bounds overlap with positive width and height are intersected.
    """
    shapely = _shapely()
    ga, gb = _geometries(a), _geometries(b)
    out = np.zeros((len(ga), len(gb)), dtype=np.float64)
    if len(ga) == 0 or len(gb) == 0:
        return out
    ba, bb = shapely.bounds(ga), shapely.bounds(gb)
    i, j = np.nonzero(
        (ba[:, None, 0] < bb[None, :, 2])
        & (ba[:, None, 2] > bb[None, :, 0])
        & (ba[:, None, 1] < bb[None, :, 3])
        & (ba[:, None, 3] > bb[None, :, 1])
    )
    if len(i):
        out[i, j] = shapely.area(shapely.intersection(ga[i], gb[j]))
    return out


def shape_areas(shapes: Sequence[Any]) -> np.ndarray:
    """(N,) exact areas of polygon rings."""
    return np.asarray(_shapely().area(_geometries(shapes)), dtype=np.float64).reshape(-1)


def shape_iou(a: Sequence[Any], b: Sequence[Any]) -> np.ndarray:
    """(N, M) exact IoU of polygon rings; 0 where the union is empty."""
    return _metric(shape_intersections(a, b), shape_areas(a), shape_areas(b), "iou")


def shape_coverage(a: Sequence[Any], b: Sequence[Any]) -> np.ndarray:
    """(N, M) fraction of the area of a[i] inside b[j]; 0 when a[i] has no area."""
    return _metric(shape_intersections(a, b), shape_areas(a), shape_areas(b), "coverage")


def polygon_iou(p: Any, q: Any) -> float:
    """Exact IoU of two polygon rings."""
    return float(shape_iou([p], [q])[0, 0])


def polygon_coverage(p: Any, q: Any) -> float:
    """Exact fraction of the area of polygon `p` inside polygon `q`."""
    return float(shape_coverage([p], [q])[0, 0])


def dominated_shapes(
    shapes: Sequence[Any], threshold: float, method: str = "iou", groups: Any = None
) -> list[bool]:
    """True for each shape i that a shape ranking above it overlaps at or above
    `threshold`; with `groups` ((N,) keys, e.g. category names) only the same group counts.
    Shapes are (K, 2) arrays or lists of (x, y) pairs; lists need no numpy.

    Shapes rank by exact area, and of equal areas the later one ranks higher; the test is
    that of `dominated_boxes` on exact (shapely) areas and intersections. shapely is asked
    only about the pairs that plain float maths cannot settle beyond rounding error (see
    `ring_overlaps.settle`): near the threshold, near-equal areas, self-intersecting rings, or two
    non-convex ones. Most scenes never import it.
    """
    check_method(method)
    iou = method == "iou"
    threshold = float(threshold)
    rings = [Ring(_pairs(s)) for s in shapes]
    keys = [0] * len(rings) if groups is None else list(groups)
    if len(keys) != len(rings):
        raise ValidationError(f"groups must hold one key per shape, got {len(keys)}")
    dropped = [False] * len(rings)
    unsure = []
    for i, j in touching_pairs(rings, keys):
        if not (dropped[i] and dropped[j]):
            verdict = settle(i, rings[i], j, rings[j], threshold, iou)
            if verdict is None:
                unsure.append((i, j))
            elif verdict >= 0:
                dropped[verdict] = True
    unsure = [(i, j) for i, j in unsure if not (dropped[i] and dropped[j])]
    if unsure:
        for k in _shapely_drops([r.ring for r in rings], unsure, threshold, iou):
            dropped[k] = True
    return dropped


def _shapely_drops(
    rings: list[np.ndarray], pairs: list[tuple[int, int]], t: float, iou: bool
) -> list[int]:
    """The shapes dropped by exact matches among `pairs`, computed as shapely has it."""
    shapely = _shapely()
    used = sorted({k for pair in pairs for k in pair})
    where = {k: m for m, k in enumerate(used)}
    geoms = _geometries([rings[k] for k in used])
    areas = shapely.area(geoms)
    lower, upper = [], []
    for i, j in pairs:
        i, j = where[i], where[j]
        if areas[j] < areas[i]:
            i, j = j, i
        lower.append(i)
        upper.append(j)
    lo, hi = np.array(lower), np.array(upper)
    inter = shapely.area(shapely.intersection(geoms[lo], geoms[hi]))
    bound = t * (areas[lo] + areas[hi] - inter) if iou else t * areas[lo]
    return [used[k] for k in lo[(inter > 0) & (inter >= bound)]]


def _exterior_pieces(geom: Any) -> list[np.ndarray]:
    """Open exterior rings of every polygon with area in `geom`; holes are split away."""
    shapely = _shapely()
    kind = geom.geom_type
    if kind in ("MultiPolygon", "GeometryCollection"):
        return [ring for part in geom.geoms for ring in _exterior_pieces(part)]
    if kind != "Polygon" or geom.area <= 0:
        return []  # points and lines left by touching edges carry no area
    if len(geom.interiors):
        # A ring cannot hold a hole: cut through the first hole so each half is simply
        # connected (the cut opens the hole to the outside), then recurse.
        cut = shapely.Polygon(geom.interiors[0]).representative_point().x
        minx, miny, maxx, maxy = geom.bounds
        left = shapely.intersection(geom, shapely.box(minx, miny, cut, maxy))
        right = shapely.intersection(geom, shapely.box(cut, miny, maxx, maxy))
        return _exterior_pieces(left) + _exterior_pieces(right)
    return [np.asarray(geom.exterior.coords, dtype=np.float64)[:-1]]


def clip_polygon(points: Any, x1: float, y1: float, x2: float, y2: float) -> list[np.ndarray]:
    """Every piece of polygon `points` inside the rectangle, as open (K, 2) rings.

    Pieces of zero area (where the polygon only touches the rectangle) are left out; a
    clipped piece with a hole is split into hole-free pieces of the same total area.
    Coordinates stay in the input frame.
    """
    shapely = _shapely()
    geom = to_geometry(points)
    try:
        clipped = shapely.intersection(geom, shapely.box(x1, y1, x2, y2))
    except shapely.errors.GEOSException as exc:
        raise ValidationError(
            f"cannot clip polygon with {len(np.asarray(points))} points to "
            f"({x1}, {y1}, {x2}, {y2}): {exc}"
        ) from exc
    return _exterior_pieces(clipped)


def clip_boxes(boxes: Any, x1: float, y1: float, x2: float, y2: float) -> np.ndarray:
    """(N, 4) boxes clamped to the rectangle (a box outside it collapses to its edge)."""
    b = as_boxes(boxes)
    return np.column_stack(
        [
            np.clip(b[:, 0], x1, x2),
            np.clip(b[:, 1], y1, y2),
            np.clip(b[:, 2], x1, x2),
            np.clip(b[:, 3], y1, y2),
        ]
    )
