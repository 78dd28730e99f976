"""Label Studio results ↔ annotations and labels, for one image.

Label Studio gives region coordinates in percent of the image size (0-100). mira turns a
percentage p of an image W pixels wide into ``p * W / 100`` pixels; writing, it picks
the float percentage that turns back into exactly the same pixels, so an export
re-imports to the same coordinates.

- ``rectanglelabels``: ``x, y, width, height`` and ``rotation`` (degrees, clockwise about
  the top-left corner ``x, y``, as Label Studio turns it); a rotated rectangle becomes a
  polygon.
- ``polygonlabels``: ``points`` ``[[x, y], ...]``.
- ``brushlabels``: Label Studio's RLE on an ``original_width`` × ``original_height`` canvas
  (`mira.formats.labelstudio_rle`) → one polygon per connected part along pixel edges,
  scaled to the image (an empty brush is skipped and counted).
- ``choices``: image-level labels.

A region with several labels gives one annotation per label; its ``score`` (predictions)
is the annotation's. Any other result type (keypoints, ellipses, text, relations, ...),
a region without a label, and a region drawn on an image the annotator turned
(``image_rotation``) are skipped and counted under ``unsupported``.
"""

from __future__ import annotations

import math
from typing import Any

from mira.core import Annotation, Categories, Label
from mira.errors import FormatError
from mira.formats.import_report import count

__all__ = [
    "LABEL_TYPES",
    "percent",
    "result_labels",
    "results_to_scene_parts",
    "scene_results",
]

#: result type → the value key holding its label names.
LABEL_TYPES = {
    "rectanglelabels": "rectanglelabels",
    "polygonlabels": "polygonlabels",
    "brushlabels": "brushlabels",
    "choices": "choices",
}

Size = tuple[int, int]


def result_labels(result: Any) -> list[str]:
    """The label names a result carries (none for a type mira does not read)."""
    if not isinstance(result, dict) or not isinstance(result.get("type"), str):
        return []
    if result["type"] not in LABEL_TYPES:
        return []
    value = result.get("value")
    names = value.get(LABEL_TYPES[result["type"]]) if isinstance(value, dict) else None
    return [n for n in names if isinstance(n, str)] if isinstance(names, list) else []


def results_to_scene_parts(
    results: list[Any], size: Size, categories: Categories, where: str, report: dict[str, Any]
) -> tuple[list[Annotation], list[Label]]:
    """(annotations, labels) of one annotation's (or prediction's) results."""
    annotations: list[Annotation] = []
    labels: list[Label] = []
    for index, result in enumerate(results):
        at = f"{where}: result {index}"
        if not isinstance(result, dict):
            raise FormatError(f"{at}: a result must be an object")
        kind = result.get("type")
        if not isinstance(kind, str) or kind not in LABEL_TYPES:
            count(report, "unsupported", str(kind))
            continue
        if not isinstance(result.get("value"), dict):
            raise FormatError(f"{at}: 'value' must be an object")
        found = [_category(categories, name, at) for name in result_labels(result)]
        if not found:
            count(report, "unsupported", f"{kind} without a label")
            continue
        if kind == "choices":
            labels.extend(Label(category) for category in found)
            continue
        if _number(result.get("image_rotation", 0), f"{at}.image_rotation") % 360:
            count(report, "unsupported", "region on a turned image")
            continue
        score = result.get("score")
        score = None if score is None else _number(score, f"{at}.score")
        shapes = _SHAPES[kind](result["value"], result, size, at)
        if not shapes:
            count(report, "skipped", "empty_mask")
        for category in found:
            annotations.extend(Annotation(category, **shape, score=score) for shape in shapes)
    return annotations, labels


def _category(categories: Categories, name: str, at: str) -> Any:
    if name not in categories:
        raise FormatError(f"{at}: label {name!r} is not one of {categories.names}")
    return categories[name]


def _number(value: Any, at: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise FormatError(f"{at}: expected a number, got {value!r}")
    return float(value)


def _rectangle(value: dict[str, Any], result: Any, size: Size, at: str) -> list[dict[str, Any]]:
    from mira.geometry import box_to_polygon, rotate_points

    width, height = size
    x = _number(value.get("x"), f"{at}.value.x") * width / 100
    y = _number(value.get("y"), f"{at}.value.y") * height / 100
    w = _number(value.get("width"), f"{at}.value.width") * width / 100
    h = _number(value.get("height"), f"{at}.value.height") * height / 100
    if w < 0 or h < 0:
        raise FormatError(f"{at}: a rectangle cannot have a negative width or height")
    rotation = _number(value.get("rotation", 0), f"{at}.value.rotation")
    if rotation % 360 == 0:
        return [{"x1": x, "y1": y, "x2": x + w, "y2": y + h}]
    return [{"points": rotate_points(box_to_polygon((x, y, x + w, y + h)), rotation, (x, y))}]


def _polygon(value: dict[str, Any], result: Any, size: Size, at: str) -> list[dict[str, Any]]:
    points = value.get("points")
    if not isinstance(points, list):
        raise FormatError(f"{at}: a polygon needs value.points, a list of [x, y]")
    ring = []
    for i, point in enumerate(points):
        if not isinstance(point, list) or len(point) != 2:
            raise FormatError(f"{at}: value.points[{i}] must be [x, y]")
        ring.append(
            (
                _number(point[0], f"{at}.value.points[{i}]") * size[0] / 100,
                _number(point[1], f"{at}.value.points[{i}]") * size[1] / 100,
            )
        )
    if len(ring) > 1 and ring[0] == ring[-1]:
        ring.pop()
    if len(ring) < 3:
        raise FormatError(f"{at}: a polygon needs at least 3 points, got {len(ring)}")
    return [{"points": ring}]


def _brush(value: dict[str, Any], result: Any, size: Size, at: str) -> list[dict[str, Any]]:
    from mira.formats.labelstudio_rle import brush_mask
    from mira.formats.qsl_rle import mask_to_polygons

    if value.get("format", "rle") != "rle" or not isinstance(value.get("rle"), list):
        raise FormatError(f"{at}: a brush needs value.rle (format 'rle')")
    canvas = [result.get(k) for k in ("original_width", "original_height")]
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in canvas):
        raise FormatError(f"{at}: a brush needs original_width and original_height")
    mask = brush_mask(value["rle"], canvas[0], canvas[1], at)
    scale = (size[0] / canvas[0], size[1] / canvas[1])
    return [{"points": ring} for ring in mask_to_polygons(mask, scale=scale)]


_SHAPES = {"rectanglelabels": _rectangle, "polygonlabels": _polygon, "brushlabels": _brush}


def percent(pixels: float, size: int, start: float | None = None) -> float:
    """The percentage p of `size` for which ``start + p * size / 100`` is exactly `pixels`
    (the reader's sum), when one is within a few floats of the quotient; else the
    quotient. With ``start`` (a rectangle's left or top edge as the reader computes it) p
    is its width or height, never negative: when that edge rounds past `pixels` (a box of
    no width), p is 0."""
    offset = 0.0 if start is None else start
    guess = (pixels - offset) * 100 / size
    candidates = [guess]
    for direction in (math.inf, -math.inf):
        value = guess
        for _ in range(4):
            value = math.nextafter(value, direction)
            candidates.append(value)
    if start is not None:
        candidates = [p for p in candidates if p >= 0] or [0.0]
    return next((p for p in candidates if offset + p * size / 100 == pixels), candidates[0])


def scene_results(scene: Any, report: dict[str, Any]) -> list[dict[str, Any]]:
    """The results of one scene: rectangles, polygons and one ``choices`` result holding
    every image-level label (a label's score and any annotation metadata are counted
    under ``not_written``)."""
    width, height = scene.dimensions
    image = {"original_width": width, "original_height": height, "image_rotation": 0}
    results: list[dict[str, Any]] = []
    for annotation in scene.annotations:
        name = annotation.category.name
        if annotation.is_rect:
            x = percent(annotation.x1, width)
            y = percent(annotation.y1, height)
            value: dict[str, Any] = {
                "x": x,
                "y": y,
                "width": percent(annotation.x2, width, x * width / 100),
                "height": percent(annotation.y2, height, y * height / 100),
                "rotation": 0,
                "rectanglelabels": [name],
            }
            kind, control = "rectanglelabels", "label"
        else:
            points = [
                [percent(px, width), percent(py, height)] for px, py in annotation.point_pairs()
            ]
            value = {"points": points, "closed": True, "polygonlabels": [name]}
            kind, control = "polygonlabels", "polygon"
        result = {"id": f"r{len(results)}", "type": kind, "from_name": control}
        result.update({"to_name": "image", **image, "value": value})
        if annotation.score is not None:
            result["score"] = annotation.score
        results.append(result)
        report["not_written"]["metadata"] += bool(annotation.metadata)
    if scene.labels:
        choices = [label.category.name for label in scene.labels]
        results.append(
            {
                "id": f"r{len(results)}",
                "type": "choices",
                "from_name": "choice",
                "to_name": "image",
                "value": {"choices": choices},
            }
        )
        report["not_written"]["scores"] += sum(label.score is not None for label in scene.labels)
    return results
