"""Precision, recall and F1 of image-level labels, as the original `classification_metrics`."""

from __future__ import annotations

from typing import Any

import numpy as np

from mira.errors import ValidationError


def classification_metrics(true_collection: Any, pred_collection: Any) -> dict[str, dict]:
    """Per category name, {"precision", "recall", "f1"} of the predicted labels.

    A scene's true categories are all its labels; its prediction is the one category with
    the highest label score (a label without a score counts as 1; of equal scores, the
    first category). A predicted scene without labels predicts nothing (the original
    counted it as predicting the first category). 0/0 gives NaN.
    """
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
    true = true_collection.onehot() == 1
    scores = pred_collection.onehot(binary=False)
    labelled = np.array([len(s.labels) > 0 for s in pred_collection], dtype=bool)
    predicted = np.where(labelled, scores.argmax(axis=1), -1)
    metrics = {}
    for c, category in enumerate(true_collection.categories):
        positive, chosen = true[:, c], predicted == c
        tp = int((positive & chosen).sum())
        fp = int((~positive & chosen).sum())
        fn = int((positive & ~chosen).sum())
        precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
        metrics[category.name] = {
            "precision": precision,
            "recall": recall,
            "f1": _ratio(2 * precision * recall, precision + recall),
        }
    return metrics


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b else float("nan")
