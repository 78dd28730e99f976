"""One QSL image item's regions and image-level labels → annotations and labels.

Split from `mira.formats.qsl` (project reading and streaming) to keep both short; the
rules are described in that module's docstring.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any

from mira.core import Annotation, Category, Label
from mira.errors import FormatError, ValidationError

Size = tuple[int, int]


def item_labels(image: Any, ctx: Any, where: str) -> tuple[list[Label], dict[str, list[Any]]]:
    """Image-level labels → (Labels, free-form values by configuration name)."""
    if image is None:
        return [], {}
    if not isinstance(image, dict):
        raise FormatError(f"{where}: labels.image must be an object")
    labels: list[Label] = []
    freeform: dict[str, list[Any]] = {}
    for name, raw in image.items():
        values = label_values({name: raw}, name)
        if not ctx.image_configs:  # a lone item (Scene.from_qsl): no configuration known
            for value in values:
                category = ctx.category(value)
                if category is None:
                    freeform.setdefault(name, []).append(value)
                else:
                    labels.append(Label(category, metadata={"config": name}))
            continue
        if name not in ctx.image_configs:
            raise FormatError(
                f"{where}: image label {name!r} is not in the project's image configuration"
            )
        options, is_freeform = ctx.image_configs[name]
        folded = {o.casefold() for o in options}
        for value in values:
            if isinstance(value, str) and value.casefold() in folded:
                labels.append(Label(ctx.category(value), metadata={"config": name}))
            elif is_freeform:
                freeform.setdefault(name, []).append(value)
            else:
                raise FormatError(
                    f"{where}: image label {name!r}: value {value!r} is not one of its "
                    f"options ({', '.join(options)})"
                )
    return labels, freeform


def item_annotations(labels: Mapping[str, Any], ctx: Any, size: Size, where: str) -> list[Any]:
    """Boxes, then masks, then polygons (the original's order); one per label value."""
    converters: dict[str, Callable[[Mapping[str, Any], Size, str], list[dict[str, Any]]]] = {
        "boxes": _box,
        "masks": _mask,
        "polygons": _polygon,
    }
    annotations: list[Annotation] = []
    for kind, convert in converters.items():
        regions = labels.get(kind)
        if regions is None:
            continue
        if not isinstance(regions, list):
            raise FormatError(f"{where}: labels.{kind} must be a list")
        for index, region in enumerate(regions):
            at = f"{where}: {kind}[{index}]"
            if not isinstance(region, dict):
                raise FormatError(f"{at}: a region must be an object")
            region_labels = region.get("labels")
            if region_labels is not None and not isinstance(region_labels, dict):
                raise FormatError(f"{at}: labels must be an object")
            values = label_values(region_labels, ctx.label_key)
            if not values:
                ctx.report["regions_without_label"] += 1
                continue
            categories = [_category(ctx, value, at) for value in values]
            shapes = convert(region, size, at)
            if not shapes:
                ctx.report["empty_masks"] += 1
                continue
            metadata = _region_metadata(region, region_labels or {}, ctx.label_key, at)
            for category in categories:
                for shape in shapes:
                    try:
                        annotation = Annotation(category, **shape, metadata=metadata)
                    except ValidationError as exc:
                        raise FormatError(f"{at}: {exc}") from None
                    annotations.append(annotation)
    return annotations


def _category(ctx: Any, value: Any, at: str) -> Category:
    category = ctx.category(value, region=True)
    if category is None:
        names = ctx.categories.names if ctx.region_names is None else ctx.region_names
        raise FormatError(
            f"{at}: label {value!r} for {ctx.label_key!r} is not in the region configuration "
            f"({', '.join(names)})"
        )
    return category


def _region_metadata(
    region: Mapping[str, Any], labels: Mapping[str, Any], label_key: str, at: str
) -> dict[str, Any]:
    metadata = region.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise FormatError(f"{at}: metadata must be an object")
    metadata = dict(metadata)
    other = {k: v for k, v in labels.items() if k != label_key and v not in (None, [], "")}
    if other and "labels" not in metadata:
        metadata["labels"] = other
    return json_metadata(metadata, at)


def json_metadata(metadata: dict[str, Any], at: str) -> dict[str, Any]:
    """`metadata`, if a tarball can hold it: JSON without NaN or infinity (which Python's
    parser accepts, and the writer would refuse later, without naming the item)."""
    try:
        json.dumps(metadata, allow_nan=False)
    except ValueError as exc:  # also a circular reference, which JSON cannot make
        raise FormatError(f"{at}: metadata cannot be written as JSON: {exc}") from None
    return metadata


def label_values(labels: Any, key: str) -> list[Any]:
    """The distinct non-empty values of one label key, in order (a bare value counts)."""
    if not isinstance(labels, dict):
        return []
    values = labels.get(key)
    if values is None:
        return []
    if not isinstance(values, list):
        values = [values]
    return list(dict.fromkeys(v for v in values if v != "" and not isinstance(v, (dict, list))))


def finite(value: Any, at: str, scale: float = 1.0) -> float:
    """A JSON number (times `scale`) as a finite float, or a FormatError naming the field."""
    if not isinstance(value, bool) and isinstance(value, (int, float)):
        try:
            number = float(value) * scale
        except OverflowError:  # an integer of hundreds of digits
            number = math.inf
        if math.isfinite(number):
            return number
    raise FormatError(f"{at}: expected a number, got {_short(value)}")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


def _point(point: Any, size: Size, at: str) -> tuple[float, float]:
    if not isinstance(point, dict):
        raise FormatError(f"{at}: expected a point {{x, y}}, got {_short(point)}")
    return finite(point.get("x"), f"{at}.x", size[0]), finite(point.get("y"), f"{at}.y", size[1])


def _box(region: Mapping[str, Any], size: Size, at: str) -> list[dict[str, Any]]:
    """Corners are fractions of the image size; both are needed (a box without pt2 is a
    labelling mistake, not a point)."""
    missing = [corner for corner in ("pt1", "pt2") if region.get(corner) is None]
    if missing:
        raise FormatError(f"{at}: a box needs pt1 and pt2 (no {' and no '.join(missing)})")
    ax, ay = _point(region["pt1"], size, f"{at}.pt1")
    bx, by = _point(region["pt2"], size, f"{at}.pt2")
    return [{"x1": min(ax, bx), "y1": min(ay, by), "x2": max(ax, bx), "y2": max(ay, by)}]


def _polygon(region: Mapping[str, Any], size: Size, at: str) -> list[dict[str, Any]]:
    points = region.get("points")
    if not isinstance(points, list):
        raise FormatError(f"{at}: a polygon needs a list of points")
    ring = [_point(p, size, f"{at}.points[{i}]") for i, p in enumerate(points)]
    if len(ring) > 1 and ring[0] == ring[-1]:
        ring.pop()
    if len(ring) < 3:
        raise FormatError(f"{at}: a polygon needs at least 3 points, got {len(ring)}")
    return [{"points": ring}]


def _mask(region: Mapping[str, Any], size: Size, at: str) -> list[dict[str, Any]]:
    """QSL RLE on the mask canvas → one polygon per connected part, scaled to the image."""
    from mira.formats.qsl_rle import rle_to_polygons

    rle = region.get("map", region)  # QSL's README shows counts on the region itself
    dimensions = rle.get("dimensions") if isinstance(rle, dict) else None
    if not isinstance(dimensions, dict) or "counts" not in rle:
        raise FormatError(f"{at}: a mask needs map.counts and map.dimensions")
    try:
        rings = rle_to_polygons(
            rle["counts"], (dimensions.get("width"), dimensions.get("height")), size
        )
    except ValidationError as exc:
        raise FormatError(f"{at}: {exc}") from None
    return [{"points": ring} for ring in rings]
