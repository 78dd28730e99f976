"""Dataset statistics from a stream of scenes, without decoding a single image.

`StatsAccumulator` takes scenes one at a time and keeps only numbers: per annotation its
width and height (float32, 8 bytes; `mira.ops.quantiles`), per scene its key and where its
image is (about 30 bytes; `mira.ops.image_bytes`), plus counters. Both tables keep a block
in memory and spill the rest to an unnamed temporary file, so memory stays flat however
many scenes there are.
Image sizes come from the scene's recorded dimensions (the tarball record's width/height,
or the file header) and duplicates are found by comparing the *encoded* bytes (length,
then sha256), so no pixel is ever decoded.

Conventions:
- Annotation sizes use COCO's buckets on the annotation's area (a polygon's own area, not
  its bounding box): small < 32², medium < 96², large otherwise.
- Counts, and the min and max of every width and height, are exact. The other quantiles
  (q25, median, q75) are numpy's default (linear) quantiles of the widths and heights
  stored as float32 (computed by exact radix selection beyond 2¹⁸ values, with the same
  result): exact for those values, which are within 2⁻²⁴ (6e-8) of the true
  ones relatively (0.0003 px at 4096 px), so a reported quantile is off by at most one in
  its last (third) decimal, and only for a true value next to a rounding boundary. Floats
  in the report are rounded to 3 decimals (a thousandth of a pixel).
- Problems: `zero_area` (area 0, e.g. a flat box or a collinear polygon), `inverted`
  (x2 < x1 or y2 < y1; the reader already refuses such boxes, so this stays 0 for data
  read from a tarball), `out_of_image` (any part beyond [0, width] × [0, height]) and
  `duplicate_images` (groups of scene keys whose image bytes are identical). Each annotation
  problem reports its exact count and the first `max_examples` cases.
- A scene's key is its `key`, or its position in the stream as the writer would number it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from mira.ops.image_bytes import ImageBytes, ImageIdentity
from mira.ops.quantiles import ValueSet, ValueSets, quantiles

if TYPE_CHECKING:
    from mira.ops.image_index import ImageIndex

#: COCO's area thresholds (pixels²).
SMALL_AREA = 32**2
MEDIUM_AREA = 96**2
QUANTILES = {"min": 0.0, "q25": 0.25, "median": 0.5, "q75": 0.75, "max": 1.0}
PROBLEMS = ("zero_area", "inverted", "out_of_image")


def _round(value: float) -> float:
    return round(float(value), 3)


def _quantiles(sets: list[ValueSet]) -> dict[str, float] | None:
    """min/q25/median/q75/max of the values of all `sets`, or None when there are none."""
    points = quantiles(sets, list(QUANTILES.values()))
    if points is None:
        return None
    return {name: _round(v) for name, v in zip(QUANTILES, points, strict=True)}


class _CategoryStats:
    """Counters for one category, and its annotations' widths and heights."""

    __slots__ = ("annotations", "labels", "scenes", "boxes", "polygons", "buckets", "w", "h")

    def __init__(self, values: ValueSets) -> None:
        self.annotations = self.labels = self.scenes = self.boxes = self.polygons = 0
        self.buckets = [0, 0, 0]
        self.w = values.new()
        self.h = values.new()

    def report(self, name: str) -> dict[str, Any]:
        small, medium, large = self.buckets
        return {
            "category": name,
            "annotations": self.annotations,
            "labels": self.labels,
            "scenes": self.scenes,
            "boxes": self.boxes,
            "polygons": self.polygons,
            "small": small,
            "medium": medium,
            "large": large,
            "width": _quantiles([self.w]),
            "height": _quantiles([self.h]),
        }


class StatsAccumulator:
    """Streaming statistics: call `add(scene)` for each scene, then `report()`."""

    def __init__(
        self,
        max_examples: int = 50,
        values: ValueSets | None = None,
        images: ImageBytes | None = None,
    ) -> None:
        """`values` and `images` may be shared: the value spill of several accumulators,
        and an image table that its owner fills (then `add` leaves it alone)."""
        self.max_examples = max_examples
        self.values = ValueSets() if values is None else values
        self.scenes = 0
        self.without_annotations = 0
        self.labels = 0
        self.categories: dict[str, _CategoryStats] = {}
        self.sizes: Counter[tuple[int, int]] = Counter()
        self._own_images = images is None
        self.images = ImageBytes() if images is None else images
        self.problem_counts = dict.fromkeys(PROBLEMS, 0)
        self.problem_examples: dict[str, list[dict[str, Any]]] = {p: [] for p in PROBLEMS}

    def _category(self, name: str) -> _CategoryStats:
        stats = self.categories.get(name)
        if stats is None:
            stats = self.categories[name] = _CategoryStats(self.values)
        return stats

    def _problem(self, kind: str, key: str, index: int, name: str) -> None:
        self.problem_counts[kind] += 1
        examples = self.problem_examples[kind]
        if len(examples) < self.max_examples:
            examples.append({"key": key, "annotation": index, "category": name})

    def add(self, scene: Any, key: str | None = None, image: ImageIdentity | None = None) -> None:
        """Count one scene. `key` defaults to the scene's key, else its stream position;
        `image` (shared when one scene is added to several accumulators) is made when not
        given."""
        if key is None:
            key = scene.key if scene.key is not None else f"{self.scenes:06d}"
        self.scenes += 1
        for category in scene.categories:
            self._category(category.name)
        width, height = (int(v) for v in scene.dimensions)
        self.sizes[(width, height)] += 1
        if self._own_images:
            self.images.add(key, ImageIdentity(scene) if image is None else image)

        for label in scene.labels:
            self._category(label.category.name).labels += 1
            self.labels += 1
        if not scene.annotations:
            self.without_annotations += 1
        present: set[str] = set()
        for index, ann in enumerate(scene.annotations):
            name = ann.category.name
            stats = self._category(name)
            present.add(name)
            stats.annotations += 1
            if ann.is_rect:
                stats.boxes += 1
            else:
                stats.polygons += 1
            w, h = ann.x2 - ann.x1, ann.y2 - ann.y1
            stats.w.add(w)
            stats.h.add(h)
            area = ann.area()
            stats.buckets[0 if area < SMALL_AREA else 1 if area < MEDIUM_AREA else 2] += 1
            if w < 0 or h < 0:
                self._problem("inverted", key, index, name)
            elif area == 0:
                self._problem("zero_area", key, index, name)
            if ann.x1 < 0 or ann.y1 < 0 or ann.x2 > width or ann.y2 > height:
                self._problem("out_of_image", key, index, name)
        for name in present:
            self.categories[name].scenes += 1

    def report(self) -> dict[str, Any]:
        """A JSON-ready dict with stable keys (see the module docstring)."""
        categories = [stats.report(name) for name, stats in self.categories.items()]
        everything = self.categories.values()
        widths = _quantiles([s.w for s in everything])
        heights = _quantiles([s.h for s in everything])
        buckets = [sum(s.buckets[i] for s in everything) for i in range(3)]
        duplicates = self.images.duplicates()
        problems: dict[str, Any] = {
            kind: {"count": self.problem_counts[kind], "examples": self.problem_examples[kind]}
            for kind in PROBLEMS
        }
        problems["duplicate_images"] = {
            "count": sum(len(g["keys"]) - 1 for g in duplicates),
            "groups": duplicates,
        }
        return {
            "scenes": self.scenes,
            "annotations": sum(c["annotations"] for c in categories),
            "labels": self.labels,
            "scenes_without_annotations": self.without_annotations,
            "shapes": {
                "boxes": sum(c["boxes"] for c in categories),
                "polygons": sum(c["polygons"] for c in categories),
            },
            "categories": categories,
            "image_sizes": self._image_sizes(),
            "annotation_sizes": {
                "small": buckets[0],
                "medium": buckets[1],
                "large": buckets[2],
                "width": widths,
                "height": heights,
            },
            "problems": problems,
        }

    def _image_sizes(self) -> dict[str, Any]:
        sizes = sorted(self.sizes.items(), key=lambda item: (-item[1], item[0]))
        counts = np.array([n for _, n in sizes], dtype=np.int64)
        summary: dict[str, Any] = {}
        for axis, name in enumerate(("width", "height")):
            values = np.repeat(np.array([s[axis] for s, _ in sizes], dtype=np.float64), counts)
            summary[name] = (
                None
                if len(values) == 0
                else {
                    "min": int(values.min()),
                    "median": _round(np.median(values)),
                    "max": int(values.max()),
                }
            )
        summary["distinct"] = [{"width": w, "height": h, "scenes": n} for (w, h), n in sizes]
        return summary


def collect_stats(
    scenes: Iterable[Any], by: str | None = None, image_index: ImageIndex | None = None
) -> dict[str, Any]:
    """Statistics of a scene stream (see the module docstring), optionally per group.

    With `by` (``metadata.PATH`` or ``categories``, see `mira.ops.keys`), the report also
    holds ``"by": KEY`` and ``"groups": [{"group": VALUE, ...the same keys...}]``, sorted by
    value. A scene without the metadata value falls in group ``null``. With ``categories``
    a scene counts in the group of each category it contains (so groups can overlap), and a
    scene with none falls in group ``null``.
    """
    key_spec = None
    if by is not None:
        from mira.ops.keys import parse_key

        key_spec = parse_key(by)
    values = ValueSets()
    total = StatsAccumulator(
        values=values, images=None if image_index is None else image_index.images
    )
    groups: dict[Any, StatsAccumulator] = {}
    for index, scene in enumerate(scenes):
        key = scene.key if scene.key is not None else f"{index:06d}"
        image = ImageIdentity(scene)
        total.add(scene, key=key, image=image)
        if image_index is not None:
            image_index.add(scene, image)
        if key_spec is not None:
            for value in key_spec.labels(scene, missing=None, name=key) or [None]:
                group = groups.get(value)
                if group is None:
                    group = groups[value] = StatsAccumulator(values=values)
                group.add(scene, key=key, image=image)
    report = total.report()
    if key_spec is not None:
        report["by"] = key_spec.text
        report["groups"] = [
            {"group": _json_value(value), **groups[value].report()}
            for value in sorted(groups, key=_group_order)
        ]
    return report


def _group_order(value: Any) -> tuple[int, float, str]:
    """None first, then numbers by value, then everything else by its text."""
    if value is None:
        return (0, 0.0, "")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (1, float(value), "")
    return (2, 0.0, str(value))


def _json_value(value: Any) -> Any:
    """Undo `keys.hashable`: tuples back to lists (dicts stay as item lists)."""
    if isinstance(value, tuple):
        return [_json_value(v) for v in value]
    return value


def report_tables(report: dict[str, Any], top_sizes: int = 10) -> list[dict[str, Any]]:
    """The report as plain tables (``title``, ``columns``, ``rows``) for a terminal; the
    JSON report holds the same numbers (and every distinct size and problem example)."""

    def spread(q: dict[str, float] | None) -> str | None:
        return None if q is None else f"{q['min']:g} / {q['median']:g} / {q['max']:g}"

    sizes = report["image_sizes"]
    shapes = report["shapes"]
    summary = [
        ("scenes", report["scenes"]),
        ("annotations", report["annotations"]),
        ("labels", report["labels"]),
        ("scenes without annotations", report["scenes_without_annotations"]),
        ("boxes / polygons", f"{shapes['boxes']} / {shapes['polygons']}"),
        ("image width min / median / max", spread(sizes["width"])),
        ("image height min / median / max", spread(sizes["height"])),
        ("distinct image sizes", len(sizes["distinct"])),
    ]
    buckets = report["annotation_sizes"]
    categories = [
        [c["category"], c["annotations"], c["scenes"], c["labels"], c["boxes"], c["polygons"]]
        + [c["small"], c["medium"], c["large"], spread(c["width"]), spread(c["height"])]
        for c in report["categories"]
    ]
    categories.append(
        ["(all)", report["annotations"], report["scenes"] - report["scenes_without_annotations"]]
        + [report["labels"], shapes["boxes"], shapes["polygons"]]
        + [buckets["small"], buckets["medium"], buckets["large"]]
        + [spread(buckets["width"]), spread(buckets["height"])]
    )
    problems = report["problems"]
    problem_rows = [
        [
            kind,
            problems[kind]["count"],
            ", ".join(f"{e['key']}#{e['annotation']}" for e in problems[kind]["examples"][:5]),
        ]
        for kind in PROBLEMS
    ]
    duplicates = problems["duplicate_images"]
    problem_rows.append(
        [
            "duplicate_images",
            duplicates["count"],
            "; ".join(" = ".join(g["keys"]) for g in duplicates["groups"][:5]),
        ]
    )
    if "scenes_without_annotations" in problems:  # the checks of mira.ops.stats_checks
        from mira.ops.stats_checks import problem_rows as check_rows

        problem_rows += check_rows(report)
    tables = [
        {"title": "Summary", "columns": ["what", "value"], "rows": summary},
        {
            "title": "Categories (annotation width and height: min / median / max; area: "
            "small < 32² = 1024 px², medium < 96² = 9216 px², large >= 9216 px²)",
            "columns": ["category", "annotations", "scenes", "labels", "boxes", "polygons"]
            + ["small", "medium", "large", "width", "height"],
            "rows": categories,
        },
        {
            "title": f"Image sizes (most common {top_sizes})",
            "columns": ["width", "height", "scenes"],
            "rows": [[d["width"], d["height"], d["scenes"]] for d in sizes["distinct"][:top_sizes]],
        },
        {
            "title": "Problems (first examples: key#annotation)",
            "columns": ["problem", "count", "examples"],
            "rows": problem_rows,
        },
    ]
    if "groups" in report:
        tables.append(
            {
                "title": f"By {report['by']}",
                "columns": ["group", "scenes", "annotations", "labels", "without annotations"]
                + ["boxes", "polygons", "problems"],
                "rows": [_group_row(group) for group in report["groups"]],
            }
        )
        tables.append(
            {
                "title": f"Categories by {report['by']}",
                "columns": ["group", "category", "annotations", "scenes", "labels"],
                "rows": [
                    [
                        _group_name(g["group"]),
                        c["category"],
                        c["annotations"],
                        c["scenes"],
                        c["labels"],
                    ]
                    for g in report["groups"]
                    for c in g["categories"]
                    if c["annotations"] or c["labels"]
                ],
            }
        )
    return tables


def _group_name(value: Any) -> str:
    return "(missing)" if value is None else str(value)


def _group_row(group: dict[str, Any]) -> list[Any]:
    problems = group["problems"]
    count = sum(problems[kind]["count"] for kind in (*PROBLEMS, "duplicate_images"))
    return [
        _group_name(group["group"]),
        group["scenes"],
        group["annotations"],
        group["labels"],
        group["scenes_without_annotations"],
        group["shapes"]["boxes"],
        group["shapes"]["polygons"],
        count,
    ]
