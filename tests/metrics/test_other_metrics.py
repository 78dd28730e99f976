"""classification_metrics and mIOU on constructed examples, exact values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mira.core import Annotation, Categories, ImageSource, Label, Scene, SceneCollection
from mira.core.image import encode_image
from mira.metrics import classification_metrics, mIOU

CATS = Categories(["dog", "cat", "bird"])
IMAGE = np.zeros((8, 8, 3), np.uint8)


def labelled(*names_and_scores) -> Scene:
    return Scene(CATS, IMAGE, labels=[Label(CATS[n], score=s) for n, s in names_and_scores])


def test_classification_metrics() -> None:
    truth = SceneCollection(
        [
            labelled(("dog", None)),
            labelled(("cat", None)),
            labelled(("cat", None), ("bird", None)),
            labelled(("bird", None)),
        ]
    )
    pred = SceneCollection(
        [
            labelled(("dog", 0.9), ("cat", 0.2)),
            labelled(("dog", 0.6)),
            labelled(("bird", 0.7)),
            labelled(),
        ]
    )  # the last predicts nothing
    metrics = classification_metrics(truth, pred)
    assert metrics["dog"] == {"precision": 0.5, "recall": 1.0, "f1": pytest.approx(2 / 3)}
    assert metrics["bird"] == {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3)}
    cat = metrics["cat"]
    assert math.isnan(cat["precision"]) and cat["recall"] == 0.0 and math.isnan(cat["f1"])


def test_miou_needs_no_pixels() -> None:
    header = encode_image(np.zeros((10, 10, 3), np.uint8), "png")[:40]

    def scene(*annotations) -> Scene:
        return Scene(CATS, ImageSource.from_bytes(header, dimensions=(10, 10)), list(annotations))

    truth = SceneCollection([scene(Annotation(CATS["dog"], 0, 0, 4, 4)), scene()])
    pred = SceneCollection([
        scene(Annotation(CATS["dog"], 2, 0, 6, 4, score=0.9), Annotation(CATS["cat"], 0, 0, 2, 2, score=0.4)),
        scene(Annotation(CATS["cat"], 5, 5, 7, 7, score=0.8)),
    ])  # fmt: skip
    result = mIOU(truth, pred)
    assert result["dog"] == 8 / 24  # 2 x 4 shared, 6 x 4 covered
    assert result["cat"] == 0.0  # the 0.4 one is below the threshold; the other is alone
    assert math.isnan(result["bird"])
    assert mIOU(truth, pred, threshold=0.3)["cat"] == 0.0
