"""mira.core.augmentations against the original's (its albumentations 1.x, ours 2.0): the
same candidate crops, and dropout that never leaves an annotation half hidden."""

from __future__ import annotations

import numpy as np

from mira.core import Annotation, Categories, Scene
from mira.core import augmentations as mca
from mira.ops.augment_pipeline import reseed

BOXES = [[10, 10, 40, 40], [160, 5, 190, 30]]
TRIANGLE = [[100, 50], [150, 50], [125, 90]]

THEIRS = """
import random
from mira.core import Annotation, Categories, Scene
from mira.core import augmentations as mca
cats = Categories(["a", "b"])
scene = Scene(cats, np.full((100, 200, 3), 128, np.uint8),
              [Annotation(cats["a"], *b) for b in boxes]
              + [Annotation(cats["b"], points=triangle)])
crop = mca.compose([mca.RandomCropBBoxSafe(width=80, height=80)])
windows, whole = set(), True
for seed in range(40):
    random.seed(seed)
    out, M = scene.augment(crop)
    dx, dy = -M[0, 2], -M[1, 2]
    h, w = out.image.shape[:2]
    windows.add((round(dx), round(dy), round(dx) + w, round(dy) + h))
    whole &= all(a.area() in (900, 750, scene.annotations[2].area()) for a in out.annotations)
dropout = mca.compose([mca.CoarseDropout(max_holes=4, max_height=30, max_width=30,
                                         min_holes=4, p=1.0)])
half_hidden = 0
for seed in range(12):
    random.seed(seed)
    np.random.seed(seed)
    out, _ = scene.augment(dropout)
    for a in out.annotations:
        if a.is_rect:
            half_hidden += int((out.image[a.y1:a.y2, a.x1:a.x2] == 0).any())
result = {"windows": sorted(windows), "whole": whole, "half_hidden": half_hidden}
"""


def test_same_crops_and_whole_annotations(original) -> None:
    theirs = original(THEIRS, boxes=BOXES, triangle=TRIANGLE)
    cats = Categories(["a", "b"])
    scene = Scene(
        cats,
        np.full((100, 200, 3), 128, np.uint8),
        [Annotation(cats["a"], *b) for b in BOXES] + [Annotation(cats["b"], points=TRIANGLE)],
    )
    pipeline = mca.compose([mca.RandomCropBBoxSafe(width=80, height=80)])
    windows = set()
    for seed in range(40):
        reseed(pipeline, seed)
        out, matrix = scene.augment(pipeline)
        dx, dy = round(-matrix[0, 2]), round(-matrix[1, 2])
        height, width = out.image.shape[:2]
        windows.add((dx, dy, dx + width, dy + height))
        assert all(a.area() in (900, 750, 1000) for a in out.annotations)
    assert theirs["whole"] is True
    assert sorted(windows) == [tuple(w) for w in theirs["windows"]]
    assert theirs["half_hidden"] == 0
    dropout = mca.compose([mca.CoarseDropout(max_holes=4, max_height=30, max_width=30,
                                             min_holes=4, p=1.0)])  # fmt: skip
    for seed in range(12):
        reseed(dropout, seed)
        out, _ = scene.augment(dropout)
        for a in out.annotations:
            if a.is_rect:
                x1, y1, x2, y2 = (int(v) for v in a.x1y1x2y2())
                assert not (out.image[y1:y2, x1:x2] == 0).any()
