"""mAP, precision/recall curves and error examples on a constructed example, exact values."""

from __future__ import annotations

import numpy as np
import pytest

from mira.core import Annotation, Categories, Scene, SceneCollection
from mira.errors import ValidationError
from mira.metrics import crop_error_examples, mAP, precision_recall_curve

CATS = Categories(["dog", "cat", "bird", "fish"])
IMAGE = np.zeros((64, 64, 3), dtype=np.uint8)


def box(name: str, x1: float, y1: float, x2: float, y2: float, score: float | None = None):
    return Annotation(CATS[name], x1, y1, x2, y2, score=score)


def collections() -> tuple[SceneCollection, SceneCollection]:
    """dog: 2 true boxes, found once (a second hit on the same box counts for nothing), one
    false positive; cat: 2 true boxes, one found, one weak overlap (IoU 0.25: a false
    positive); bird: nothing at all; fish: a true box never predicted."""
    truth = SceneCollection(
        [
            Scene(CATS, IMAGE, [box("dog", 0, 0, 10, 10), box("dog", 20, 20, 30, 30),
                                box("cat", 0, 0, 10, 10)]),
            Scene(CATS, IMAGE, [box("cat", 0, 0, 10, 10), box("fish", 40, 40, 50, 50)]),
        ]
    )  # fmt: skip
    pred = SceneCollection(
        [
            Scene(CATS, IMAGE, [box("dog", 1, 1, 10, 10, 0.8), box("dog", 0, 0, 10, 10, 0.9),
                                box("dog", 50, 50, 60, 60, 0.7), box("cat", 0, 0, 5, 5, 0.6)]),
            Scene(CATS, IMAGE, [box("cat", 0, 0, 10, 10, 0.95)]),
        ]
    )  # fmt: skip
    return truth, pred


def test_precision_recall_curve_exact() -> None:
    curves = precision_recall_curve(*collections())
    assert list(curves) == ["dog", "cat", "bird", "fish"]
    assert curves["dog"].tolist() == [[1.0, 0.5, 0.9], [1.0, 0.5, 0.8], [0.5, 0.5, 0.7]]
    assert curves["cat"].tolist() == [[1.0, 0.5, 0.95], [0.5, 0.5, 0.6]]
    assert curves["bird"].shape == (0, 3) and curves["fish"].shape == (0, 3)


def test_map_exact() -> None:
    aps = mAP(*collections())
    assert aps["dog"] == pytest.approx(6 / 11) and aps["cat"] == pytest.approx(6 / 11)
    assert np.isnan(aps["bird"])  # no ground truth: no AP
    assert aps["fish"] == 0.0  # ground truth never found
    # Above IoU 0.81 the second dog is a false positive; it ranks after the true one, so
    # the precision at recall 0.5 (hence AP) stays while the curve drops sooner.
    assert mAP(*collections(), iou_threshold=0.85)["dog"] == pytest.approx(6 / 11)
    curve = precision_recall_curve(*collections(), iou_threshold=0.85)["dog"]
    assert curve[:, 0].tolist() == pytest.approx([1.0, 0.5, 1 / 3])


def test_recall_reaching_a_level_exactly_counts_for_it() -> None:
    """10 true boxes, 7 found: recall 0.7 reaches the 0.7 level (8 of 11 levels at 1.0)."""
    truth = [box("dog", 10 * i, 0, 10 * i + 5, 5) for i in range(10)]
    preds = [box("dog", 10 * i, 0, 10 * i + 5, 5, score=1 - i / 100) for i in range(7)]
    aps = mAP(
        SceneCollection([Scene(CATS, IMAGE, truth)]), SceneCollection([Scene(CATS, IMAGE, preds)])
    )
    assert aps["dog"] == pytest.approx(8 / 11)


def test_mismatched_collections_and_missing_scores() -> None:
    truth, pred = collections()
    with pytest.raises(ValidationError, match=r"^the collections must hold the same scenes: "
                       r"2 true and 1 predicted$"):  # fmt: skip
        mAP(truth, SceneCollection(pred.scenes[:1]))
    other = Categories(["dog"])
    with pytest.raises(ValidationError, match=r"different categories: \['dog', 'cat', 'bird', "
                       r"'fish'\] and \['dog'\]"):  # fmt: skip
        mAP(truth, SceneCollection([Scene(other, IMAGE)] * 2))
    unscored = pred.assign(scenes=[pred[0], Scene(CATS, IMAGE, [box("cat", 0, 0, 1, 1)])])
    with pytest.raises(ValidationError, match=r"^predicted scene 1: prediction 0 has no score$"):
        mAP(truth, unscored)


def test_crop_error_examples() -> None:
    truth, pred = collections()
    first, second = crop_error_examples(truth, pred, threshold=0.65, iou_threshold=0.3)
    # Scene 0 keeps the dogs scoring 0.9, 0.8, 0.7 (the cat at 0.6 is below 0.65).
    assert [(a.category.name, a.x1y1x2y2(), a.score) for a in first["tps"]] == [
        ("dog", (0.0, 0.0, 10.0, 10.0), 0.9),
        ("cat", (0.0, 0.0, 10.0, 10.0), 0.9),  # matched by position, whatever the category
    ]
    assert [a.x1y1x2y2() for a in first["fps"]] == [(50.0, 50.0, 60.0, 60.0)]
    assert [a.x1y1x2y2() for a in first["fns"]] == [(20.0, 20.0, 30.0, 30.0)]
    assert [a.score for a in second["tps"]] == [0.95] and second["fps"] == []
    assert [a.category.name for a in second["fns"]] == ["fish"]
