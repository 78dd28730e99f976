"""mira.metrics against the original's on the same collections, value by value."""

from __future__ import annotations

import numpy as np
import pytest

from mira.core import Annotation, Categories, Label, Scene, SceneCollection
from mira.metrics import (
    classification_metrics,
    crop_error_examples,
    mAP,
    mIOU,
    precision_recall_curve,
)

NAMES = ["dog", "cat", "bird"]
# Per scene pair: true boxes and predicted (box, score) rows: [x1, y1, x2, y2, class(, score)].
TRUE = [
    [[0, 0, 10, 10, 0], [20, 20, 30, 30, 0], [0, 0, 10, 10, 1], [33, 3, 60, 20, 1]],
    [[0, 0, 10, 10, 1], [5, 30, 25, 50, 0]],
    [[10, 10, 40, 40, 0]],
]
PRED = [
    [[1, 1, 10, 10, 0, 0.8], [0, 0, 10, 10, 0, 0.9], [50, 50, 60, 60, 0, 0.7],
     [0, 0, 5, 5, 1, 0.6], [30, 0, 60, 20, 1, 0.55]],
    [[0, 0, 10, 10, 1, 0.95], [6, 31, 26, 49, 0, 0.3], [0, 0, 9, 9, 2, 0.4]],
    [[12, 8, 41, 39, 0, 0.65], [10, 10, 20, 20, 0, 0.2]],
]  # fmt: skip
LABELS = [[[0, None]], [[1, None], [2, None]], [[2, None]]]
PRED_LABELS = [[[0, 0.9], [1, 0.2]], [[2, 0.7]], [[1, 0.8]]]

THEIRS = """
from mira.core import Annotation, Categories, Label, Scene, SceneCollection
from mira import metrics
cats = Categories(names)
image = np.zeros((64, 64, 3), np.uint8)
def collection(rows, labels):
    return SceneCollection([
        Scene(cats, image, annotations=[
            Annotation(cats[int(r[4])], *r[:4], score=(r[5] if len(r) > 5 else None))
            for r in scene_rows
        ], labels=[Label(cats[int(c)], score=s) for c, s in scene_labels])
        for scene_rows, scene_labels in zip(rows, labels)
    ])
truth, pred = collection(true, labels), collection(predicted, pred_labels)
examples = metrics.crop_error_examples(truth, pred, threshold=0.5, iou_threshold=0.3)
result = {
    "map": {k: float(v) for k, v in metrics.mAP(truth, pred).items()},
    "map_07": {k: float(v) for k, v in metrics.mAP(truth, pred, iou_threshold=0.7).items()},
    "curves": metrics.precision_recall_curve(truth, pred),
    "miou": {k: float(v) for k, v in metrics.mIOU(truth, pred).items()},
    "classification": {
        k: {m: float(x) for m, x in v.items()}
        for k, v in metrics.classification_metrics(truth, pred).items()
    },
    "examples": [
        {kind: [[a.category.name, *a.x1y1x2y2(), a.score] for a in anns]
         for kind, anns in example.items()}
        for example in examples
    ],
}
"""


def collection(rows, labels) -> SceneCollection:
    cats = Categories(NAMES)
    image = np.zeros((64, 64, 3), np.uint8)
    return SceneCollection(
        [
            Scene(
                cats,
                image,
                [
                    Annotation(cats[int(r[4])], *r[:4], score=r[5] if len(r) > 5 else None)
                    for r in scene_rows
                ],
                labels=[Label(cats[int(c)], score=s) for c, s in scene_labels],
            )
            for scene_rows, scene_labels in zip(rows, labels, strict=True)
        ]
    )


@pytest.fixture(scope="module")
def pair() -> tuple[SceneCollection, SceneCollection]:
    return collection(TRUE, LABELS), collection(PRED, PRED_LABELS)


def test_detection_metrics_match_the_original(original, pair) -> None:
    theirs = original(THEIRS, names=NAMES, true=TRUE, predicted=PRED, labels=LABELS,
                      pred_labels=PRED_LABELS)  # fmt: skip
    truth, pred = pair
    assert mAP(truth, pred) == pytest.approx(theirs["map"], nan_ok=True)
    assert mAP(truth, pred, iou_threshold=0.7) == pytest.approx(theirs["map_07"], nan_ok=True)
    ours = precision_recall_curve(truth, pred)
    assert list(ours) == list(theirs["curves"])
    for name, curve in ours.items():
        np.testing.assert_allclose(curve, theirs["curves"][name].reshape(-1, 3))
    examples = crop_error_examples(truth, pred, threshold=0.5, iou_threshold=0.3)
    assert [
        {kind: [[a.category.name, *a.x1y1x2y2(), a.score] for a in anns]
         for kind, anns in example.items()}
        for example in examples
    ] == theirs["examples"]  # fmt: skip


def test_segmentation_and_classification_metrics(original, pair) -> None:
    """mIOU agrees where the shapes are whole pixels wide: the original's fills include the
    right and bottom edges, ours stop at them, so each box covers one row and column less."""
    theirs = original(THEIRS, names=NAMES, true=TRUE, predicted=PRED, labels=LABELS,
                      pred_labels=PRED_LABELS)  # fmt: skip
    truth, pred = pair
    ours = classification_metrics(truth, pred)
    assert list(ours) == list(theirs["classification"])
    for name, values in ours.items():
        assert values == pytest.approx(theirs["classification"][name], nan_ok=True)
    miou = mIOU(truth, pred)
    assert list(miou) == list(theirs["miou"])
    # One true dog (0, 0, 10, 10) and the predicted one at (1, 1, 10, 10): 81 of 100
    # pixels here, 100 of 121 with the original's inclusive edges.
    one = collection([[[0, 0, 10, 10, 0]]], [[]]), collection([[[1, 1, 10, 10, 0, 1.0]]], [[]])
    assert mIOU(*one)["dog"] == 81 / 100
    single = original(
        THEIRS + "result = float(metrics.mIOU(truth, pred)['dog'])",
        names=NAMES, true=[[[0, 0, 10, 10, 0]]], predicted=[[[1, 1, 10, 10, 0, 1.0]]],
        labels=[[]], pred_labels=[[]],
    )  # fmt: skip
    assert single == 100 / 121
