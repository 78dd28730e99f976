"""Polygon overlap tests settled without shapely, for deduplication.

A duplicate test compares an exact intersection area with a threshold. For most pairs of
rings that answer is certain from cheap numbers alone: bounding boxes, shoelace areas, and
the area of one ring clipped to another when one is convex. `settle` gives the answer when
it lies outside a band some 1e7 times wider than float rounding (so it is the answer
shapely would give) and None otherwise; `geometry.dominated_shapes` asks shapely about
the rest.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

# Largest number of pair cells computed at once (8 bytes each), as in `geometry`.
_BLOCK_CELLS = 1 << 20

# Width of the band around a decision in which float maths here and shapely's could
# disagree, relative to the areas and the coordinates' size (rounding is about 1e-16 of
# them): outside the band, a decision taken without shapely is the one shapely takes.
_SLACK = 1e-9
# Integer coordinates up to this size make every shoelace sum exact, so the area equals
# shapely's to the last bit (for rings of up to _SHORT points).
_EXACT = 2.0**20
# Pairs with a longer ring are left to shapely: working them out in Python costs more.
_SHORT = 64
# Most (clip edge, point) steps a clip in Python may take; GEOS is quicker beyond.
_CLIP_MAX = 128


class Ring:
    """One ring as the shapely-free tests see it: bounds, and once `measured`, shoelace
    area, convexity and the size of its rounding errors."""

    __slots__ = (
        "pairs",
        "points",
        "x1",
        "y1",
        "x2",
        "y2",
        "twice",
        "area",
        "size",
        "convex",
        "_simple",
    )

    def __init__(self, pairs: list) -> None:
        """`pairs`: the ring's K >= 3 points, each an (x, y) of numbers."""
        self.pairs = pairs
        self.points = pairs
        xs = [p[0] for p in pairs]
        ys = [p[1] for p in pairs]
        self.x1, self.y1, self.x2, self.y2 = min(xs), min(ys), max(xs), max(ys)
        self.twice: float | None = None

    @property
    def ring(self) -> np.ndarray:
        """The ring as a (K, 2) float array (for shapely)."""
        return np.array(self.pairs, dtype=np.float64)

    def measured(self) -> Ring:
        """Self, with the rest worked out (once: most rings never need it)."""
        if self.twice is not None:
            return self
        pts = self.points
        # Consecutive repeats add nothing to the area and would hide a fold from `convex`.
        self.points = [p for k, p in enumerate(pts) if p != pts[k - 1]] or pts[:1]
        self.twice = _twice_area(self.points)
        self.area = abs(self.twice) / 2
        # Points x box half-perimeter x largest coordinate: some 1e7 times the rounding
        # error of any area worked out from this ring and another, ours or shapely's.
        scale = max(-self.x1, -self.y1, self.x2, self.y2)
        self.size = len(pts) * (self.x2 - self.x1 + self.y2 - self.y1) * scale
        if len(self.points) > 3:
            self.convex = _turns_once(self.points)
        else:  # a triangle, or less
            self.convex = self.twice != 0
        self._simple = True if self.convex or len(self.points) <= 3 else None
        return self

    @property
    def simple(self) -> bool:
        """True only when the ring certainly does not cross or touch itself, so that its
        shoelace area is its area (shapely's repair of a crossing ring changes the area)."""
        if self._simple is None:
            self._simple = _no_crossings(self)
        return self._simple


def _twice_area(points: list) -> float:
    """Signed shoelace sum (twice the area) of a ring, about its first point for accuracy."""
    if len(points) < 3:
        return 0.0
    x0, y0 = points[0]
    total = 0.0
    px, py = points[-1][0] - x0, points[-1][1] - y0
    for x, y in points:
        x -= x0
        y -= y0
        total += px * y - x * py
        px, py = x, y
    return total


def _turns_once(points: list) -> bool:
    """True when a ring of four or more points is convex: it turns one way only, never
    doubles back, and its direction goes round once (so dy changes sign twice)."""
    left = right = False
    ups = []  # for each edge that is not level, whether it goes up
    (ax, ay), (bx, by) = points[-2], points[-1]
    ex, ey = bx - ax, by - ay
    for x, y in points:
        dx, dy = x - bx, y - by
        turn = ex * dy - ey * dx
        back = ex * dx + ey * dy < 0
        if back and abs(turn) <= _SLACK * (abs(ex) + abs(ey)) * (abs(dx) + abs(dy)):
            return False  # doubles back, or too nearly for the sign of the turn to be sure
        left = left or turn > 0
        right = right or turn < 0
        if dy:
            ups.append(dy > 0)
        ex, ey, bx, by = dx, dy, x, y
    changes = sum(up != ups[k - 1] for k, up in enumerate(ups))
    return not (left and right) and changes == 2


def _no_crossings(r: Ring) -> bool:
    """True when no two non-adjacent edges of the ring meet: for each pair, one edge lies
    strictly on one side of the other's line, by more than rounding."""
    ring = np.array(r.points)
    k = len(ring)
    if k < 4:
        return True
    edge = np.diff(ring, axis=0, append=ring[:1])
    rel = ring[None, :, :] - ring[:, None, :]
    side = edge[:, None, 0] * rel[..., 1] - edge[:, None, 1] * rel[..., 0]  # point j, edge i
    end = np.concatenate((side[:, 1:], side[:, :1]), axis=1)  # the end of edge j
    scale = max(-r.x1, -r.y1, r.x2, r.y2)
    tol = (_SLACK * scale * (np.abs(edge).sum(axis=1) + (r.x2 - r.x1 + r.y2 - r.y1)))[:, None]
    apart = ((side > tol) & (end > tol)) | ((side < -tol) & (end < -tol))
    meet = np.triu(~(apart | apart.T), 2)
    meet[0, k - 1] = False  # the last edge and the first are adjacent
    return not meet.any()


def settle(i: int, a: Ring, j: int, b: Ring, t: float, iou: bool) -> int | None:
    """Which of shapes i < j a match drops (-1: neither), or None when only shapely can
    tell. Their bounding boxes overlap with positive area.

    A match needs `inter * grow >= need` in shapely's numbers. The intersection lies
    between the box overlap less both rings' unfilled box area and min(box overlap,
    areas); where those bounds, or the intersection of a convex ring with a simple one,
    settle that test by more than the rounding band, the answer is shapely's.
    """
    if len(a.pairs) > _SHORT or len(b.pairs) > _SHORT:
        return None
    a, b = a.measured(), b.measured()
    band = _SLACK * (a.area + b.area + a.size + b.size)
    if abs(a.area - b.area) > band or (_exact(a) and _exact(b)):
        lower: int | None = i if a.area <= b.area else j
    else:
        lower = None  # which of them shapely ranks higher is down to rounding
    if iou:
        grow, need = 1 + t, t * (a.area + b.area)
    else:  # the coverage of the lower-ranked one, which is the smaller
        grow, need = 1.0, t * min(a.area, b.area)
    overlap = (min(a.x2, b.x2) - max(a.x1, b.x1)) * (min(a.y2, b.y2) - max(a.y1, b.y1))
    unfilled = (a.x2 - a.x1) * (a.y2 - a.y1) - a.area + (b.x2 - b.x1) * (b.y2 - b.y1) - b.area
    miss = min(overlap, a.area, b.area) * grow - need < -band
    hit = lower is not None and (overlap - unfilled) * grow - need > band
    convex_a = a.convex and (not b.convex or len(a.points) <= len(b.points))
    clip, subject = (a, b) if convex_a else (b, a)
    clippable = clip.convex and len(clip.points) * len(subject.points) <= _CLIP_MAX
    if not (miss or hit or clippable):
        return None  # knowing that the rings are simple would not help
    # Checked only now, as it costs the most: all the above holds for simple rings only.
    if not (a.simple and b.simple):
        return None
    if miss:
        return -1
    if hit:
        return lower
    inter = _clipped_area(subject.points, clip)
    if inter * grow - need < -band:
        return -1
    if lower is not None and inter * grow - need > band:
        return lower
    return None


def _exact(r: Ring) -> bool:
    """True when the ring's shoelace area is exact, and so equal to shapely's: integer
    coordinates small enough for every sum to fit a float's 53 bits."""
    return max(-r.x1, -r.y1, r.x2, r.y2) <= _EXACT and all(
        v.is_integer() for p in r.points for v in p
    )


def _clipped_area(subject: list, clip: Ring) -> float:
    """Area of the simple ring `subject` inside the convex ring `clip` (Sutherland-Hodgman:
    cut by the half-plane of each clip edge in turn)."""
    sign = 1.0 if clip.twice > 0 else -1.0
    out = subject
    cx, cy = clip.points[-1]
    for nx, ny in clip.points:
        ex, ey = (nx - cx) * sign, (ny - cy) * sign
        chain, out = out, []
        px, py = chain[-1]
        ps = ex * (py - cy) - ey * (px - cx)
        for qx, qy in chain:
            qs = ex * (qy - cy) - ey * (qx - cx)
            if (qs >= 0) != (ps >= 0):
                f = ps / (ps - qs)
                out.append([px + f * (qx - px), py + f * (qy - py)])
            if qs >= 0:
                out.append([qx, qy])
            px, py, ps = qx, qy, qs
        if not out:
            return 0.0
        cx, cy = nx, ny
    return abs(_twice_area(out)) / 2


def touching_pairs(rings: list[Ring], keys: list[Any]) -> Iterator[tuple[int, int]]:
    """Pairs i < j of the same group whose bounding boxes overlap with positive area (no
    other pair can have an intersection of positive area)."""
    if len(rings) > 64:  # beyond a few dozen, numpy is quicker than a loop in Python
        bounds = np.array([(r.x1, r.y1, r.x2, r.y2) for r in rings], dtype=np.float64)
        codes: dict[Any, int] = {}
        groups = np.array([codes.setdefault(k, len(codes)) for k in keys])
        yield from _overlapping_boxes(bounds, groups)
        return
    members: dict[Any, list[int]] = {}
    for k, key in enumerate(keys):
        members.setdefault(key, []).append(k)
    for indices in members.values():
        for m, i in enumerate(indices):
            a = rings[i]
            for j in indices[m + 1 :]:
                b = rings[j]
                if a.x1 < b.x2 and b.x1 < a.x2 and a.y1 < b.y2 and b.y1 < a.y2:
                    yield i, j


def _overlapping_boxes(b: np.ndarray, groups: np.ndarray) -> Iterator[tuple[int, int]]:
    """`touching_pairs` for many boxes: a sweep along x, in blocks of bounded size."""
    n = len(b)
    order = np.argsort(b[:, 0], kind="stable")
    stop = np.searchsorted(b[order, 0], b[order, 2], side="left")
    count = np.maximum(stop - np.arange(n) - 1, 0)  # later rows that start before this ends
    done = np.cumsum(count) - count
    first = 0
    while first < n:
        last = max(first + 1, int(np.searchsorted(done, done[first] + _BLOCK_CELLS)))
        c = count[first:last]
        p = np.repeat(np.arange(first, last), c)
        q = p + 1 + np.arange(len(p)) - np.repeat(done[first:last] - done[first], c)
        i, j = order[p], order[q]
        keep = (
            (b[j, 0] < b[i, 2])
            & (b[i, 0] < b[j, 2])
            & (b[j, 1] < b[i, 3])
            & (b[i, 1] < b[j, 3])
            & (groups[i] == groups[j])
        )
        i, j = i[keep], j[keep]
        yield from zip(np.minimum(i, j).tolist(), np.maximum(i, j).tolist(), strict=True)
        first = last
