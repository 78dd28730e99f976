"""The original's `mira.core.experimental`: finding crops that never split a box, and
merging several labellers' boxes.

`find_acceptable_crops` gives the same crops as the original (its greedy sweep: take
the highest unfinished point of the image, grow the largest rectangle from it that splits
no `include` box and touches no `exclude` box, then grow that rectangle back up and left
as far as it can); the search for each rectangle's width jumps over the boxes it would
split instead of trying every width, so it takes time per box rather than per pixel.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mira import geometry

__all__ = [
    "collapse_boxes",
    "find_acceptable_crops",
    "find_consensus_regions",
    "search",
    "visualize_crops",
]


def _boxes(boxes: Any) -> np.ndarray:
    return np.asarray(boxes).reshape(-1, 4)


def _widest(limit: float, floor: int, x: float, spans: np.ndarray) -> int | None:
    """The largest whole width w, floor < w <= limit, whose right edge x + w splits none of
    `spans` ((K, 2) x1, x2), or None."""
    w = int(limit)
    while w > floor:
        split = spans[(spans[:, 0] < x + w) & (x + w < spans[:, 1])]
        if len(split) == 0:
            return w
        w = min(w - 1, math.floor(split[:, 0].min() - x))
    return None


def search(
    x: float,
    y: float,
    exclude: np.ndarray,
    include: np.ndarray,
    max_height: float,
    max_width: float,
    min_height: int = 1,
    min_width: int = 1,
) -> tuple[float, float, bool]:
    """The largest rectangle with its top-left corner at (x, y), at most max_width x
    max_height, that holds each `include` box wholly or not at all and overlaps no
    `exclude` box → (width, height, found). When (x, y) lies in a box, (1, the distance to
    that box's bottom, False) says how far down to look next."""
    exclude, include = _boxes(exclude), _boxes(include)
    x1, y1, x2, y2 = exclude.T
    blocked = exclude[(x1 <= x) & (x < x2) & (y1 <= y) & (y < y2)]
    x1, y1, x2, y2 = include.T
    inside = np.concatenate([blocked, include[(x1 < x) & (x < x2) & (y1 < y) & (y < y2)]])
    if len(inside):
        return 1, inside[:, 3].max() - y, False
    ex = exclude[(exclude[:, 2] > x) & (exclude[:, 3] > y)]  # not wholly left or above
    inc = include[(include[:, 2] > x) & (include[:, 3] > y)]
    # Downwards: until a box crossing the left edge, or an excluded box, starts.
    tallest = int(min([max_height, *(inc[inc[:, 0] < x, 1] - y), *(ex[ex[:, 0] <= x, 1] - y)]))
    best_w, best_h = 0, 0
    for h in range(int(min_height), tallest + 1):
        bottom = y + h
        # Rightwards: until an excluded box in the band, or a box crossing the top or the
        # bottom edge, starts.
        limit = min(
            [
                max_width,
                *(ex[(ex[:, 1] < bottom) & (ex[:, 0] != x), 0] - x),
                *(inc[((inc[:, 1] < bottom) & (inc[:, 3] > bottom)) | (inc[:, 1] < y), 0] - x),
            ]
        )
        w = _widest(limit, max(min_width - 1, 0), x, inc[inc[:, 1] < bottom][:, [0, 2]])
        if w is not None and w * h >= best_w * best_h:
            best_w, best_h = w, h
    return best_w, best_h, best_w > 0 and best_h > 0


def _mirrored(boxes: np.ndarray, width: float, height: float) -> np.ndarray:
    """Boxes in the frame of the image turned by 180 degrees."""
    return np.array([width, height, width, height]) - boxes[:, [2, 3, 0, 1]]


def _cache_key(include: np.ndarray, exclude: np.ndarray, *sizes: Any) -> tuple:
    return (include.dtype.str, include.tobytes(), exclude.dtype.str, exclude.tobytes(), *sizes)


def find_acceptable_crops(
    include: np.ndarray,
    width: int,
    height: int,
    exclude: np.ndarray | None = None,
    max_width: int | None = None,
    max_height: int | None = None,
    cache: Any = None,
) -> np.ndarray:
    """(K, 4) int32 crops x1, y1, x2, y2 of a width x height image, each at most max_width
    x max_height, that hold every `include` box wholly or not at all and overlap no
    `exclude` box; together they cover what they can of the image. `cache` (a dict-like)
    keeps results by argument values."""
    include = _boxes(include)
    exclude = np.empty((0, 4)) if exclude is None else _boxes(exclude)
    max_width = width if max_width is None else max_width
    max_height = height if max_height is None else max_height
    key = None
    if cache is not None:
        key = _cache_key(include, exclude, width, height, max_width, max_height)
        found = cache.get(key)
        if found is not None:
            return found
    turned_include = _mirrored(include, width, height)
    turned_exclude = _mirrored(exclude, width, height)
    crops = []
    frontier = np.zeros(width, dtype=np.int32)  # per column, how far down crops reach
    while True:
        x1 = int(frontier.argmin())
        y1 = frontier[x1]
        dx, dy, found = search(
            x1, y1, exclude, include, min(max_height, height - y1), min(max_width, width - x1)
        )
        x2, y2 = x1 + dx, y1 + dy
        if (frontier[x1:x2] == y2).all():
            break  # no progress
        frontier[x1:x2] = frontier[x1:x2].clip(min=y2)
        if not found:
            continue
        # Grow back towards the top left: the same search in the turned image.
        back_w, back_h, grown = search(
            width - x2,
            height - y2,
            turned_exclude,
            turned_include,
            min(max_height, y2),
            min(max_width, x2),
            min_height=dy,
            min_width=dx,
        )
        if grown:
            x1, y1 = x2 - back_w, y2 - back_h
            frontier[x1:x2] = frontier[x1:x2].clip(min=y2)
        crops.append([x1, y1, x2, y2])
    result = np.array(crops, dtype=np.float64).reshape(-1, 4).round().astype(np.int32)
    if cache is not None:
        cache[key] = result
    return result


def collapse_boxes(boxes: np.ndarray, threshold: float = 0.5, mode: str = "smallest") -> np.ndarray:
    """Boxes linked by IoU > threshold (directly or through others) merged into one each:
    their common area ("smallest"; the smallest box when they share none) or their
    bounds ("largest"). Groups come in order of their first box."""
    if mode not in ("smallest", "largest"):
        raise ValueError(f"mode must be 'smallest' or 'largest', got {mode!r}")
    boxes = _boxes(boxes)
    linked = geometry.box_iou(boxes, boxes) > threshold
    group = np.full(len(boxes), -1)
    count = 0
    for start in range(len(boxes)):
        if group[start] >= 0:
            continue
        group[start], todo = count, [start]
        while todo:
            for j in np.flatnonzero(linked[todo.pop()] & (group < 0)):
                group[j] = count
                todo.append(int(j))
        count += 1
    merged = []
    for g in range(count):
        members = boxes[group == g]
        lower, upper = members[:, :2], members[:, 2:]
        if mode == "largest":
            merged.append([*lower.min(axis=0), *upper.max(axis=0)])
        elif ((upper.min(axis=0) - lower.max(axis=0)) > 0).all():
            merged.append([*lower.max(axis=0), *upper.min(axis=0)])
        else:
            merged.append(list(members[np.prod(upper - lower, axis=1).argmin()]))
    return np.array(merged).reshape(-1, 4)


def find_consensus_regions(
    bbox_groups: list[np.ndarray], iou_threshold: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """Several labellers' boxes of one image ((N, 5) arrays: x1, y1, x2, y2, class) →
    (include, exclude): the boxes some pair of labellers agrees on (IoU > threshold, same
    class; unique rows, sorted) and those a labeller drew that another did not match."""
    groups = [np.asarray(g).reshape(-1, 5) for g in bbox_groups]
    classes = int(max((g[:, -1].max() if len(g) else 0) for g in groups)) + 1 if groups else 0
    excluded = []
    for i, first in enumerate(groups):
        for second in groups[i + 1 :]:
            for c in range(classes):
                a, b = first[first[:, -1] == c, :-1], second[second[:, -1] == c, :-1]
                if len(a) and len(b):
                    iou = geometry.box_iou(a, b)
                    excluded.extend(a[~(iou.max(axis=1) > iou_threshold)])
                    excluded.extend(b[~(iou.max(axis=0) > iou_threshold)])
                else:
                    excluded.extend(a if len(a) else b)
    exclude = np.array(excluded).reshape(-1, 4) if excluded else np.empty((0, 4), np.int64)
    include = np.concatenate([g[:, :-1] for g in groups]) if groups else np.empty((0, 4))
    if len(include) and len(exclude):
        include = include[geometry.box_iou(include, exclude).max(axis=1) == 0]
    return (np.unique(include, axis=0) if len(include) else include), exclude


def visualize_crops(
    include: np.ndarray,
    crops: np.ndarray,
    width: int,
    height: int,
    exclude: np.ndarray | None = None,
    canvas: np.ndarray | None = None,
) -> np.ndarray:
    """An RGBA picture of crops (outlined in yellow; filled blue on a black canvas),
    include boxes (green) and exclude boxes (red)."""
    import cv2

    visual = canvas if canvas is not None else np.zeros((height, width, 4), np.uint8)
    if canvas is None:
        visual[..., 3] = 255
        for x1, y1, x2, y2 in _boxes(crops).astype(int).tolist():
            cv2.rectangle(visual, (x1, y1), (x2, y2), (0, 0, 255, 120), -1)
    for x1, y1, x2, y2 in _boxes(crops).astype(int).tolist():
        cv2.rectangle(visual, (x1, y1), (x2, y2), (255, 255, 0, 255), 2)
    for color, boxes in (((0, 255, 0, 255), include), ((255, 0, 0, 255), exclude)):
        for x1, y1, x2, y2 in _boxes(boxes if boxes is not None else []).astype(int).tolist():
            visual[y1:y2, x1:x2] = color
    return visual
