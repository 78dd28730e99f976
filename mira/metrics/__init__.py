"""Scoring predictions against ground truth: the original's `mira.metrics`, plus
`evaluate_files` for `mira evaluate`."""

from mira.metrics.classification import classification_metrics
from mira.metrics.detection import (
    DEFAULT_IOU_THRESHOLD,
    crop_error_examples,
    evaluate_files,
    mAP,
    precision_recall_curve,
)
from mira.metrics.segmentation import mIOU

__all__ = [
    "DEFAULT_IOU_THRESHOLD",
    "classification_metrics",
    "crop_error_examples",
    "evaluate_files",
    "mAP",
    "mIOU",
    "precision_recall_curve",
]
