"""One COCO annotation's geometry ↔ mira annotations, both ways.

COCO puts one object in one annotation: a box, several polygon rings, or an RLE mask. mira
has one shape per annotation, so an object becomes one annotation per ring (or per
connected part of its mask), all carrying the object's ``coco`` metadata; an export joins
consecutive annotations with the same ``coco.id`` into one object again.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence
from typing import Any

import numpy as np

from mira.core import Annotation, Category
from mira.core.annotation import LIMIT, checked_polygon
from mira.errors import FormatError


def _numbers(values: Any, what: str) -> array[float]:
    """`values`, a JSON list of numbers, as doubles (checked in C: strings, nulls, lists
    and numbers too big for a double are refused)."""
    try:
        if isinstance(values, list):
            return array("d", values)
    except (TypeError, OverflowError):
        pass
    raise FormatError(f"{what} must be a list of numbers, got {values!r:.80}")


def convert(
    raw: dict[str, Any],
    category: Category,
    metadata: dict[str, Any],
    size: tuple[int, int],
    skipped: dict[str, int],
) -> list[Annotation]:
    """The annotations of one COCO annotation `raw` on an image of `size` (width, height);
    rings and masks with nothing in them are counted in `skipped`."""
    segmentation = raw.get("segmentation")
    score = raw.get("score")
    meta = {"coco": metadata} if metadata else {}
    if isinstance(segmentation, dict):
        return _from_rle(segmentation, category, score, metadata, size, skipped)
    if segmentation:
        if not isinstance(segmentation, list):
            raise FormatError("segmentation must be a list of rings or an RLE object")
        found = []
        for number, ring in enumerate(segmentation):
            values = _numbers(ring, f"segmentation ring {number}")
            if len(values) % 2:
                raise FormatError(
                    f"segmentation ring {number} has {len(values)} numbers, not x, y pairs"
                )
            if len(values) < 6:
                skipped["short_ring"] += 1
                continue
            found.append(_ring(values, category, score, meta))
        return found
    bbox = raw.get("bbox")
    if bbox is None:
        skipped["no_geometry"] += 1
        return []
    x, y, w, h = _box(bbox)
    return [Annotation(category, x, y, x + w, y + h, score=score, metadata=meta)]


def _ring(values: array[float], category: Category, score: Any, meta: dict[str, Any]) -> Annotation:
    """One ring of at least 3 points as an annotation. The checks `Annotation` would make
    are made here on the doubles at once (a sum is finite only when every value is, and
    the corners bound the rest), then `checked_polygon` skips them: about 3x cheaper per
    ring. Anything unusual (a ring that closes to 2 points, NaN, out of range, a score that
    is not a float) goes through `Annotation`, which gives its message."""
    xs, ys = values[0::2], values[1::2]
    pairs = list(zip(xs, ys, strict=True))  # float pairs, as `Annotation` keeps them
    if pairs[-1] == pairs[0]:  # == on floats: -0.0 closes a ring at 0.0, as it does there
        pairs.pop()
    if (
        len(pairs) >= 3
        and math.isfinite(sum(values))
        and (score is None or (type(score) is float and math.isfinite(score)))
    ):
        lower, upper = [min(xs), min(ys)], [max(xs), max(ys)]
        if -LIMIT <= lower[0] and -LIMIT <= lower[1] and upper[0] <= LIMIT and upper[1] <= LIMIT:
            return checked_polygon(category, pairs, lower, upper, score, meta)
    return Annotation(category, points=list(zip(xs, ys, strict=True)), score=score, metadata=meta)


def _box(bbox: Any) -> tuple[float, float, float, float]:
    values = _numbers(bbox, "bbox")
    if len(values) != 4:
        raise FormatError(f"bbox must be [x, y, width, height], got {bbox!r}")
    if values[2] < 0 or values[3] < 0:
        raise FormatError(f"bbox width and height must not be negative, got {bbox!r}")
    return bbox[0], bbox[1], bbox[2], bbox[3]


def _from_rle(
    rle: dict[str, Any],
    category: Category,
    score: Any,
    metadata: dict[str, Any],
    size: tuple[int, int],
    skipped: dict[str, int],
) -> list[Annotation]:
    from mira.formats.coco_rle import decode_counts, rle_to_mask
    from mira.formats.qsl_rle import mask_to_polygons

    width, height = size
    if rle.get("size") != [height, width]:
        raise FormatError(
            f"RLE size {rle.get('size')!r} is not the image's [height, width] {[height, width]}"
        )
    counts = rle.get("counts")
    if isinstance(counts, str):
        form, runs = "compressed", decode_counts(counts)
    elif isinstance(counts, list):
        form, runs = "counts", counts
    else:
        raise FormatError(f"RLE counts must be a string or a list, got {counts!r:.60}")
    mask = rle_to_mask(runs, height, width)
    rows, columns = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if not len(rows):
        skipped["empty_mask"] += 1
        return []
    top, left = int(rows[0]), int(columns[0])
    crop = mask[top : int(rows[-1]) + 1, left : int(columns[-1]) + 1]  # tracing costs by area
    offset = np.array([left, top], dtype=np.float64)
    polygons = [polygon + offset for polygon in mask_to_polygons(crop)]
    meta = {"coco": {**metadata, "rle": form}}
    return [Annotation(category, points=p, score=score, metadata=meta) for p in polygons]


def to_coco(group: Sequence[Annotation], width: int, height: int) -> dict[str, Any]:
    """``segmentation``, ``area`` and ``bbox`` of one object made of `group`: a lone box
    is a box (an empty segmentation); an object read from an RLE is filled back into one
    (`mira.formats.coco_rle.rasterize`, exact for polygons along pixel edges) and keeps its
    form; anything else is polygon rings (boxes as their 4 corners)."""
    x1 = min(a.x1 for a in group)
    y1 = min(a.y1 for a in group)
    x2 = max(a.x2 for a in group)
    y2 = max(a.y2 for a in group)
    bbox = [x1, y1, x2 - x1, y2 - y1]
    form = group[0].metadata.get("coco", {}).get("rle")
    if form in ("compressed", "counts"):
        from mira.formats.coco_rle import encode_counts, mask_to_rle, rasterize

        mask = rasterize([a.points for a in group], height, width)
        runs = mask_to_rle(mask)
        counts: Any = encode_counts(runs) if form == "compressed" else runs
        segmentation: Any = {"size": [height, width], "counts": counts}
        return {"segmentation": segmentation, "area": int(mask.sum()), "bbox": bbox}
    if len(group) == 1 and group[0].is_rect:
        return {"segmentation": [], "area": group[0].area(), "bbox": bbox}
    rings = [[v for point in a.point_pairs() for v in point] for a in group]
    return {"segmentation": rings, "area": sum(a.area() for a in group), "bbox": bbox}
