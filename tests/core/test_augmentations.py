"""mira.core.augmentations: bbox-safe crops and annotation-aware dropout in Scene.augment."""

from __future__ import annotations

import numpy as np
import pytest

from mira.core import Annotation, Categories, Scene
from mira.core import augmentations as mca
from mira.core.experimental import find_acceptable_crops
from mira.errors import ValidationError
from mira.ops.augment_pipeline import reseed

CATS = Categories(["a", "b"])
ANNOTATIONS = [
    Annotation(CATS["a"], 10, 10, 40, 40),
    Annotation(CATS["b"], points=[[100, 50], [150, 50], [125, 90]]),
    Annotation(CATS["a"], 160, 5, 190, 30),
]
SCENE = Scene(CATS, np.full((100, 200, 3), 128, np.uint8), ANNOTATIONS)


def shapes(scene: Scene) -> list[tuple[str, list]]:
    return [(a.category.name, np.round(a.points, 6).tolist()) for a in scene.annotations]


def test_random_crop_bbox_safe_never_cuts_an_annotation() -> None:
    pipeline = mca.compose([mca.RandomCropBBoxSafe(width=80, height=80)])
    acceptable = find_acceptable_crops(
        np.array([[10, 10, 40, 40], [100, 50, 150, 90], [160, 5, 190, 30]]), 200, 100, None, 80, 80
    )
    seen = set()
    for seed in range(30):
        reseed(pipeline, seed)
        cropped, matrix = SCENE.augment(pipeline)
        dx, dy = -matrix[0, 2], -matrix[1, 2]
        height, width = cropped.image.shape[:2]
        seen.add((dx, dy, dx + width, dy + height))
        for ann in cropped.annotations:  # every one whole: some input moved by the crop
            moved = [
                (a.category.name, np.round(a.points - [dx, dy], 6).tolist()) for a in ANNOTATIONS
            ]
            assert (ann.category.name, np.round(ann.points, 6).tolist()) in moved
    assert seen == {tuple(c) for c in acceptable.tolist()}
    reseed(pipeline, 3)
    first = shapes(SCENE.augment(pipeline)[0])
    reseed(pipeline, 3)
    assert shapes(SCENE.augment(pipeline)[0]) == first


def test_random_crop_bbox_safe_options() -> None:
    holding = mca.compose([mca.RandomCropBBoxSafe(width=80, height=80, prob_box=1.0)])
    for seed in range(10):
        reseed(holding, seed)
        assert SCENE.augment(holding)[0].annotations
    wiggling = mca.compose([mca.RandomCropBBoxSafe(width=60, height=60, wiggle=True)])
    for seed in range(10):
        reseed(wiggling, seed)
        cropped, matrix = SCENE.augment(wiggling)
        assert cropped.image.shape[0] <= 60 and cropped.image.shape[1] <= 60
        assert all(a.area() in (900, 1000, 750) for a in cropped.annotations)
    whole = Scene(CATS, np.zeros((50, 50, 3), np.uint8), [Annotation(CATS["a"], 0, 0, 50, 50)])
    with pytest.raises(
        ValidationError, match="RandomCropBBoxSafe: no crop of at most 20x20 larger than 1 px"
    ):
        whole.augment(mca.compose([mca.RandomCropBBoxSafe(width=20, height=20)]))
    assert mca.RandomCropBBoxSafe(10, 10, always_apply=True, p=0.1).p == 1.0


def test_coarse_dropout_removes_what_it_covers() -> None:
    pipeline = mca.compose([mca.CoarseDropout(max_holes=4, max_height=30, max_width=30,
                                              min_holes=4, p=1.0)])  # fmt: skip
    removed = 0
    for seed in range(12):
        reseed(pipeline, seed)
        dropped, _ = SCENE.augment(pipeline)
        image = dropped.image
        assert (image == 0).any()
        for ann in dropped.annotations:  # kept ones are untouched
            x1, y1, x2, y2 = (int(v) for v in ann.x1y1x2y2())
            if ann.is_rect:
                assert (image[y1:y2, x1:x2] == 128).all()
            assert ann in ANNOTATIONS
        for ann in ANNOTATIONS:  # removed ones are wholly filled
            if ann not in dropped.annotations:
                removed += 1
                x, y = (int(v) for v in ann.points.mean(axis=0))
                assert image[y, x].tolist() == [0, 0, 0]
    assert removed > 0


def test_coarse_dropout_arguments_and_plain_pipelines() -> None:
    dropout = mca.CoarseDropout(max_holes=3, max_height=5, max_width=6, min_height=2, fill_value=9)
    assert dropout.num_holes_range == (3, 3) and dropout.hole_height_range == (2, 5)
    assert dropout.hole_width_range == (6, 6) and dropout.fill == 9 and dropout.p == 0.5
    A = mca.A
    plain = A.Compose(
        [mca.CoarseDropout(max_holes=8, max_height=40, max_width=40, min_holes=8, p=1.0)],
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]),
        seed=1,
    )
    result = plain(image=np.full((60, 60, 3), 128, np.uint8),
                   bboxes=[[0, 0, 10, 10], [40, 40, 50, 50]], labels=[1, 2])  # fmt: skip
    for box in result["bboxes"]:
        x1, y1, x2, y2 = (int(v) for v in box)
        assert (result["image"][y1:y2, x1:x2] == 128).all()


def test_wiggle_crop_stays_safe() -> None:
    include = np.array([[10, 10, 20, 20]])
    exclude = np.array([[30, 0, 40, 10]])
    for seed in range(10):
        crop = mca.wiggle_crop(np.array([0, 10, 25, 40]), include, exclude, 60, 60, 25, 30, seed)
        assert crop[0] <= 10 and crop[2] >= 20 and crop[1] <= 10 and crop[3] >= 20
        assert not (crop[0] < 40 and crop[2] > 30 and crop[1] < 10)
