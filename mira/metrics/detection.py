"""Average precision of detections against ground truth, as the original mira scored it.

Per category, predictions are taken in order of decreasing score within each scene; a
prediction is a true positive when it brings a not-yet-found ground-truth box of its
category to IoU > `iou_threshold`, a false positive when it overlaps no ground-truth box
that much (a second detection of a box already found is neither), and AP is the VOC 2007
11-point interpolated precision (a recall reaching a level exactly counts for it). A
category with ground truth but no predictions has AP 0 (the original gave NaN, which then
fell out of a mean); one without ground truth has no AP (NaN).

`precision_recall_curve`, `mAP` and `crop_error_examples` take two SceneCollections paired
by position; `evaluate_files` (`mira evaluate`) pairs two tarballs' scenes by key and never
decodes an image.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import numpy as np

from mira import geometry
from mira.errors import FormatError, ValidationError

__all__ = [
    "DEFAULT_IOU_THRESHOLD",
    "average_precision",
    "crop_error_examples",
    "evaluate_files",
    "mAP",
    "precision_recall_curve",
]

#: The original's default for mAP and precision_recall_curve.
DEFAULT_IOU_THRESHOLD = 0.5


class Boxes(NamedTuple):
    """One scene's annotations as arrays: (N, 4) bounds, (N,) category index, (N,) score."""

    boxes: np.ndarray
    classes: np.ndarray
    scores: np.ndarray | None


def _records(
    pairs: Iterable[tuple[Boxes, Boxes]], n_classes: int, iou_threshold: float
) -> tuple[list[list[np.ndarray]], np.ndarray]:
    """Per category, the (tp, fp, score) changes each prediction makes, and the number of
    ground-truth boxes."""
    found: list[list[np.ndarray]] = [[] for _ in range(n_classes)]
    positives = np.zeros(n_classes, dtype=np.int64)
    for truth, pred in pairs:
        assert pred.scores is not None
        for c in range(n_classes):
            true_boxes = truth.boxes[truth.classes == c]
            mine = pred.classes == c
            boxes, scores = pred.boxes[mine], pred.scores[mine]
            positives[c] += len(true_boxes)
            if len(boxes) == 0:
                continue
            order = np.argsort(-scores, kind="stable")
            boxes, scores = boxes[order], scores[order]
            hits = geometry.box_iou(boxes, true_boxes) > iou_threshold
            found_so_far = np.logical_or.accumulate(hits, axis=0).sum(axis=1)
            matching = np.cumsum(hits.any(axis=1))
            wrong = np.arange(1, len(boxes) + 1) - matching
            tp = np.diff(found_so_far, prepend=0)
            fp = np.diff(wrong, prepend=0)
            found[c].append(np.column_stack([tp, fp, scores]).astype(np.float64))
    return found, positives


def _curves(found: list[list[np.ndarray]], positives: np.ndarray) -> list[np.ndarray]:
    curves = []
    for changes, total in zip(found, positives, strict=True):
        rows = np.concatenate(changes) if changes else np.zeros((0, 3))
        rows = rows[np.argsort(-rows[:, 2], kind="stable")]
        tp, fp = np.cumsum(rows[:, 0]), np.cumsum(rows[:, 1])
        with np.errstate(divide="ignore", invalid="ignore"):
            precision = tp / (tp + fp)
            recall = tp / total
        curves.append(np.column_stack([precision, recall, rows[:, 2]]))
    return curves


def average_precision(curve: np.ndarray, positives: int) -> float:
    """VOC 2007 11-point AP of one category's (N, 3) precision, recall, score curve."""
    if positives == 0:
        return float("nan")
    precision, recall = curve[:, 0], curve[:, 1]
    # Levels 0, 0.1, ..., 1 compared with a margin for rounding, so that a recall of
    # exactly 7/10 reaches the 0.7 level.
    points = [precision[recall >= i / 10 - 1e-9].max(initial=0.0) for i in range(11)]
    return float(np.mean(points))


def _scene_boxes(scene: Any, categories: Any, where: str, scored: bool) -> Boxes:
    rows = categories.bboxes_from_group(scene.annotations)
    scores = None
    if scored:
        values = [a.score for a in scene.annotations]
        missing = [i for i, s in enumerate(values) if s is None]
        if missing:
            raise ValidationError(f"{where}: prediction {missing[0]} has no score")
        scores = np.array(values, dtype=np.float64)
    return Boxes(rows[:, :4], rows[:, 4].astype(np.int64), scores)


def _paired(true_collection: Any, pred_collection: Any) -> list[tuple[Boxes, Boxes]]:
    if true_collection.categories != pred_collection.categories:
        raise ValidationError(
            f"the collections have different categories: {true_collection.categories.names} "
            f"and {pred_collection.categories.names}"
        )
    if len(true_collection) != len(pred_collection):
        raise ValidationError(
            f"the collections must hold the same scenes: {len(true_collection)} true and "
            f"{len(pred_collection)} predicted"
        )
    categories = true_collection.categories
    return [
        (
            _scene_boxes(truth, categories, f"true scene {i}", scored=False),
            _scene_boxes(pred, categories, f"predicted scene {i}", scored=True),
        )
        for i, (truth, pred) in enumerate(zip(true_collection, pred_collection, strict=True))
    ]


def precision_recall_curve(
    true_collection: Any, pred_collection: Any, iou_threshold: float = DEFAULT_IOU_THRESHOLD
) -> dict[str, np.ndarray]:
    """Per category name, an (N, 3) array of precision, recall and score after each
    prediction, in order of decreasing score."""
    pairs = _paired(true_collection, pred_collection)
    found, positives = _records(pairs, len(true_collection.categories), iou_threshold)
    names = true_collection.categories.names
    return dict(zip(names, _curves(found, positives), strict=True))


def mAP(
    true_collection: Any, pred_collection: Any, iou_threshold: float = DEFAULT_IOU_THRESHOLD
) -> dict[str, float]:
    """Per category name, the average precision (NaN for a category without ground truth)."""
    pairs = _paired(true_collection, pred_collection)
    found, positives = _records(pairs, len(true_collection.categories), iou_threshold)
    curves = _curves(found, positives)
    names = true_collection.categories.names
    return {
        name: average_precision(curve, int(total))
        for name, curve, total in zip(names, curves, positives, strict=True)
    }


def crop_error_examples(
    true_collection: Any,
    pred_collection: Any,
    threshold: float = 0.3,
    iou_threshold: float = 0.1,
) -> list[dict[str, list[Any]]]:
    """Per scene pair, the true positives ("tps": true annotations some prediction scoring
    above `threshold` overlaps at IoU > iou_threshold, with that best prediction's score),
    false positives ("fps": predictions overlapping no true annotation that much) and
    false negatives ("fns"), whatever the categories."""
    examples = []
    for truth, pred in zip(true_collection, pred_collection, strict=True):
        preds = [a for a in pred.annotations if a.score is None or a.score > threshold]
        trues = truth.annotations
        iou = geometry.box_iou(
            [a.x1y1x2y2() for a in preds], [a.x1y1x2y2() for a in trues]
        ).reshape(len(preds), len(trues))
        best_pred = iou.max(axis=0, initial=-1.0)
        best_true = iou.max(axis=1, initial=-1.0)
        tps = [
            a.assign(score=preds[int(iou[:, j].argmax())].score)
            for j, a in enumerate(trues)
            if best_pred[j] > iou_threshold
        ]
        examples.append(
            {
                "tps": tps,
                "fps": [a for i, a in enumerate(preds) if best_true[i] < iou_threshold],
                "fns": [a for j, a in enumerate(trues) if best_pred[j] < iou_threshold],
            }
        )
    return examples


# ------------------------------------------------------------------ tarballs
def _read_boxes(paths: Any, names: list[str] | None, scored: bool, label: str) -> Any:
    """key → Boxes for every scene of `paths` (categories mapped onto `names`), and the
    category names used."""
    from mira.core.annotation import Categories
    from mira.pipeline import TarSource

    out: dict[str, Boxes] = {}
    categories = None if names is None else Categories(names)
    for scene in TarSource(paths):
        key = str(scene.key)
        if key in out:
            raise FormatError(f"{label}: scene {key} appears twice")
        if categories is None:
            categories = scene.categories
        unknown = sorted({a.category.name for a in scene.annotations} - set(categories.names))
        if unknown:
            raise FormatError(
                f"{label}: scene {key}: category {unknown[0]!r} is not in the ground truth's "
                f"categories {categories.names}"
            )
        out[key] = _scene_boxes(scene, categories, f"{label}: scene {key}", scored)
    return out, (categories.names if categories is not None else [])


def evaluate_files(
    predictions: Any, ground_truth: Any, iou_threshold: float = DEFAULT_IOU_THRESHOLD
) -> dict[str, Any]:
    """`mira evaluate`: per-category AP and mAP of the predictions (tarballs or shards)
    against the ground truth, scenes paired by key and categories by name (those of the
    ground truth). A key in one input and not the other is an error, and so is a
    prediction without a score. mAP is the mean of the APs that exist (None if none)."""
    threshold = float(iou_threshold)
    if not 0.0 <= threshold < 1.0:
        raise ValidationError(f"iou_threshold must be in [0, 1), got {iou_threshold!r}")
    truth, names = _read_boxes(ground_truth, None, scored=False, label=_label(ground_truth))
    preds, _ = _read_boxes(predictions, names, scored=True, label=_label(predictions))
    for key in preds:
        if key not in truth:
            raise FormatError(f"scene {key} is in {_label(predictions)} but not in "
                              f"{_label(ground_truth)}")  # fmt: skip
    for key in truth:
        if key not in preds:
            raise FormatError(f"scene {key} is in {_label(ground_truth)} but not in "
                              f"{_label(predictions)}")  # fmt: skip
    pairs = [(truth[key], preds[key]) for key in truth]
    found, positives = _records(pairs, len(names), threshold)
    curves = _curves(found, positives)
    rows = []
    for c, (name, curve) in enumerate(zip(names, curves, strict=True)):
        ap = average_precision(curve, int(positives[c]))
        rows.append(
            {
                "name": name,
                "ground_truth": int(positives[c]),
                "predictions": int(sum(int((p.classes == c).sum()) for _, p in pairs)),
                "ap": None if np.isnan(ap) else ap,
            }
        )
    defined = [r["ap"] for r in rows if r["ap"] is not None]
    return {
        "iou_threshold": threshold,
        "scenes": len(pairs),
        "categories": rows,
        "map": float(np.mean(defined)) if defined else None,
    }


def _label(paths: Any) -> str:
    if isinstance(paths, (str, bytes)) or not isinstance(paths, Sequence):
        return str(paths)
    return " ".join(str(p) for p in paths)
