"""Duplicate annotations: pairwise IoU between scenes and `drop_duplicates`, per scene and
over a stream of scenes (the `mira dedupe` command). Nothing here decodes an image."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from mira import geometry
from mira.errors import ValidationError
from mira.pipeline import moved_job
from mira.pipeline.stage import Stage, as_scene

if TYPE_CHECKING:
    from mira.core import Annotation, Scene
    from mira.pipeline.engine import Engine


def _boxes(annotations: Sequence[Annotation]) -> np.ndarray:
    return np.array([(a.x1, a.y1, a.x2, a.y2) for a in annotations], dtype=np.float64).reshape(
        -1, 4
    )


def annotation_iou(a: Sequence[Annotation], b: Sequence[Annotation]) -> np.ndarray:
    """(N, M) IoU of two annotation lists, negated where the category names differ.

    Box pairs use box IoU; any pair involving a polygon is computed exactly. A pair of
    different categories that does not overlap gives 0.0 (never -0.0).
    """
    out = geometry.box_iou(_boxes(a), _boxes(b))
    poly_a = np.array([not x.is_rect for x in a], dtype=bool)
    poly_b = np.array([not x.is_rect for x in b], dtype=bool)
    if poly_a.any() or poly_b.any():
        exact = geometry.shape_iou([x.points for x in a], [x.points for x in b])
        mixed = poly_a[:, None] | poly_b[None, :]
        out[mixed] = exact[mixed]
    names_a = np.array([x.category.name for x in a], dtype=object)
    names_b = np.array([x.category.name for x in b], dtype=object)
    differ = names_a[:, None] != names_b[None, :]
    out[differ] = -out[differ] + 0.0
    return out


def compute_iou(scene: Scene, other: Scene) -> np.ndarray:
    """`Scene.compute_iou`: (N, M) IoU of this scene's annotations with the other's."""
    return annotation_iou(scene.annotations, other.annotations)


def check_threshold(threshold: Any) -> float:
    """Thresholds are fractions in (0, 1]."""
    try:
        value = float(threshold)
    except (TypeError, ValueError):
        raise ValidationError(f"threshold must be a number, got {threshold!r}") from None
    if not (math.isfinite(value) and 0 < value <= 1):
        raise ValidationError(f"threshold must be in (0, 1], got {threshold!r}")
    return value


def duplicates(annotations: Sequence[Annotation], threshold: float, method: str) -> list[bool]:
    """True for each annotation `drop_duplicates` removes.

    The reference rule: within a category, an annotation is a duplicate when a
    larger-or-equal annotation of the same category overlaps it at or above `threshold`
    (IoU, or coverage = the share of its area inside the other). Ties in area are broken
    by position: of equal-area duplicates the last one is kept. Categories whose
    annotations are all boxes use box maths; any polygon makes the category exact.
    """
    members: dict[str, list[int]] = {}
    for i, a in enumerate(annotations):
        members.setdefault(a.category.name, []).append(i)
    boxes: list[int] = []  # category by category, each in its original order
    shapes: list[int] = []
    for indices in members.values():
        if len(indices) > 1:
            exact = not all(annotations[i].is_rect for i in indices)
            (shapes if exact else boxes).extend(indices)
    result = [False] * len(annotations)
    if boxes:
        hits = _dominated_boxes([annotations[i] for i in boxes], threshold, method)
        for i, hit in zip(boxes, hits, strict=True):
            result[i] = hit
    if shapes:
        hits = geometry.dominated_shapes(
            [annotations[i].point_pairs() for i in shapes],
            threshold,
            method,
            groups=[annotations[i].category.name for i in shapes],
        )
        for i, hit in zip(shapes, hits, strict=True):
            result[i] = hit
    return result


def _dominated_boxes(
    annotations: Sequence[Annotation], threshold: float, method: str
) -> list[bool]:
    """`duplicates` among boxes: ranked by area (ties keep their order), then matched in
    plain Python when few, where numpy's per-call overhead costs more than the maths."""
    names = [a.category.name for a in annotations]
    boxes = [(a.x1, a.y1, a.x2, a.y2) for a in annotations]
    areas = [(x2 - x1) * (y2 - y1) for x1, y1, x2, y2 in boxes]  # never inverted
    order = sorted(range(len(boxes)), key=areas.__getitem__)  # stable
    if len(boxes) <= 32:
        hits = geometry.dominated_boxes_small(
            [boxes[i] for i in order], threshold, method, [names[i] for i in order]
        )
    else:
        codes: dict[str, int] = {}
        groups = np.array([codes.setdefault(names[i], len(codes)) for i in order])
        b = np.array([boxes[i] for i in order], dtype=np.float64)
        hits = geometry.dominated_boxes(b, threshold, method, groups=groups).tolist()
    out = [False] * len(boxes)
    for i, hit in zip(order, hits, strict=True):
        out[i] = hit
    return out


def drop_duplicates(scene: Scene, threshold: float = 1, method: str = "iou") -> Scene:
    """`Scene.drop_duplicates`: the scene without duplicate annotations, survivors in
    their original order (see `duplicates` for the rule)."""
    threshold = check_threshold(threshold)
    geometry.check_method(method)
    dropped = duplicates(scene.annotations, threshold, method)
    if not any(dropped):
        return scene
    kept = [a for a, gone in zip(scene.annotations, dropped, strict=True) if not gone]
    return scene.assign(annotations=kept)


def dedupe_scenes(
    scenes: Iterable[Scene],
    threshold: float = 1.0,
    method: str = "iou",
    report: dict[str, Any] | None = None,
) -> Iterator[Scene]:
    """Drop duplicates scene by scene, as a stream; `report` (filled while iterating)
    gets scene and per-category counts of annotations before, removed and after.
    Arguments are checked at once, before the first scene is read."""
    return map(DedupeStage(threshold, method, report).drop, scenes)


class DedupeStage(Stage):
    """`drop_duplicates` over a stream of scenes, counting into a report as it goes; a
    scene that loses nothing passes on as it came (a stored scene stays stored)."""

    def __init__(
        self, threshold: float = 1.0, method: str = "iou", report: dict[str, Any] | None = None
    ) -> None:
        self.threshold = check_threshold(threshold)
        self.method = geometry.check_method(method)
        self.categories: dict[str, dict[str, int]] = {}
        self.totals = {"before": 0, "removed": 0, "after": 0}
        self.report = {} if report is None else report
        self.report.update(
            scenes=0,
            threshold=self.threshold,
            method=method,
            annotations=self.totals,
            categories=self.categories,
        )

    def __call__(self, items: Iterable[Any], engine: Engine) -> Iterator[Any]:
        for item in items:
            scene = as_scene(item)
            kept = self.drop(scene)
            yield item if kept is scene else kept

    def drop(self, scene: Scene) -> Scene:
        """The scene without its duplicates: the same object when it has none."""
        annotations = scene.annotations
        dropped = duplicates(annotations, self.threshold, self.method)
        for name in scene.categories.names:
            if name not in self.categories:
                self.categories[name] = {"before": 0, "removed": 0, "after": 0}
        for annotation in annotations:
            counts = self.categories[annotation.category.name]
            counts["before"] += 1
            counts["after"] += 1
        removed = [a for a, gone in zip(annotations, dropped, strict=True) if gone]
        for annotation in removed:
            counts = self.categories[annotation.category.name]
            counts["removed"] += 1
            counts["after"] -= 1
        self.totals["before"] += len(annotations)
        self.totals["removed"] += len(removed)
        self.totals["after"] += len(annotations) - len(removed)
        self.report["scenes"] += 1
        if not removed:
            return scene
        kept = [a for a, gone in zip(annotations, dropped, strict=True) if not gone]
        return scene.assign(annotations=kept)


def __getattr__(name: str) -> Any:
    """`dedupe_file` moved to `mira.pipeline.jobs`; it stays importable from here."""
    return moved_job(__name__, name)
