"""Mean intersection over union of segmentation maps, as the original `mIOU`."""

from __future__ import annotations

from typing import Any

import numpy as np

from mira.errors import ValidationError


def mIOU(true_collection: Any, pred_collection: Any, threshold: float = 0.5) -> dict[str, float]:
    """Per category name, the pixels both collections' annotations cover over the pixels
    either covers, summed over the scene pairs (predictions scoring below `threshold` left
    out; see `Scene.segmentation_map`); NaN where neither covers any. No image is decoded."""
    if len(true_collection) != len(pred_collection):
        raise ValidationError(
            f"the collections must hold the same scenes: {len(true_collection)} true and "
            f"{len(pred_collection)} predicted"
        )
    categories = true_collection.categories
    intersection = np.zeros(len(categories), dtype=np.int64)
    union = np.zeros(len(categories), dtype=np.int64)
    for truth, pred in zip(true_collection, pred_collection, strict=True):
        a = truth.segmentation_map(binary=True, threshold=threshold) > 0
        b = pred.segmentation_map(binary=True, threshold=threshold) > 0
        intersection += (a & b).sum(axis=(1, 2))
        union += (a | b).sum(axis=(1, 2))
    return {
        name: float(i / u) if u else float("nan")
        for name, i, u in zip(categories.names, intersection, union, strict=True)
    }
