"""mira.core.utils against the original's, function by function on the same inputs."""

from __future__ import annotations

import numpy as np

from mira.core import utils

RNG = np.random.default_rng(7)
XY = RNG.integers(0, 50, size=(12, 2))
BOXES = np.concatenate([XY, XY + RNG.integers(1, 30, size=(12, 2))], axis=1)
A, B = BOXES[:7], BOXES[7:]
TRIANGLES = [
    np.array([[0, 0], [20, 0], [0, 20]]),
    np.array([[5, 5], [30, 5], [5, 30]]),
    np.array([[40, 40], [60, 40], [50, 60]]),
    np.array([[0, 0], [20, 0], [0, 20]]),
]
SQUARES = [utils.box2pts(*b) for b in BOXES[:5]]
AFFINE = np.array([[-1.0, 0.0, 80.0], [0.0, 1.0, 3.0]])

THEIRS = """
from mira.core import utils
boxes = a, b
result = {
    "iou": utils.compute_iou(a, b),
    "coverage": utils.compute_coverage(a, b),
    "overlap": utils.has_overlap(a, b),
    "box2pts": utils.box2pts(1, 2, 3, 4),
    "pair_iou": [utils.compute_iou_for_contour_pair(p, q) for p in triangles for q in triangles],
    "pair_coverage": [
        utils.compute_coverage_for_contour_pair(p, q) for p in triangles for q in triangles
    ],
    "contour_iou": utils.compute_contour_iou(triangles, squares),
    "contour_coverage": utils.compute_contour_coverage(squares, triangles),
    "contour_to_box": utils.contour_to_box(triangles[1]),
    "contours_to_boxes": utils.contours_to_boxes(triangles),
    "crop_polygon": [
        sorted(map(tuple, p.tolist())) for p in utils.crop_polygon(triangles[1], 0, 0, 10, 25)
    ],
    "unique_boxes": [
        utils.find_largest_unique_boxes(np.concatenate([a, a[:3]]), t, m).tolist()
        for t in (1, 0.5, 0.1) for m in ("iou", "coverage")
    ],
    "unique_contours": [
        utils.find_largest_unique_contours(triangles + squares, t, m).tolist()
        for t in (1, 0.5, 0.1) for m in ("iou", "coverage")
    ],
    "transform_bboxes": utils.transform_bboxes(a, affine, width=70, height=60),
    "transform_contour": utils.transform_contour(triangles[1], affine),
    "flatten": utils.flatten([[1, 2], [], [3]]),
    "groupby": [[k, list(v)] for k, v in utils.groupby_unsorted([3, 1, 4, 1, 5], lambda v: v % 2)],
    "split_apply_combine": utils.split_apply_combine(
        ["b1", "a1", "b2", "a2", "c1"], lambda s: s[0], lambda items: [i * 2 for i in items]
    ),
    "blank": [utils.get_blank_image(3, 2, n, cval=7) for n in (1, 2, 3, 4)],
}
"""


def test_same_values_as_the_original(original) -> None:
    theirs = original(THEIRS, a=A, b=B, triangles=TRIANGLES, squares=SQUARES, affine=AFFINE)
    ours = {
        "iou": utils.compute_iou(A, B),
        "coverage": utils.compute_coverage(A, B),
        "overlap": utils.has_overlap(A, B),
        "box2pts": utils.box2pts(1, 2, 3, 4),
        "pair_iou": [
            utils.compute_iou_for_contour_pair(p, q) for p in TRIANGLES for q in TRIANGLES
        ],
        "pair_coverage": [
            utils.compute_coverage_for_contour_pair(p, q) for p in TRIANGLES for q in TRIANGLES
        ],
        "contour_iou": utils.compute_contour_iou(TRIANGLES, SQUARES),
        "contour_coverage": utils.compute_contour_coverage(SQUARES, TRIANGLES),
        "contour_to_box": utils.contour_to_box(TRIANGLES[1]),
        "contours_to_boxes": utils.contours_to_boxes(TRIANGLES),
        "transform_bboxes": utils.transform_bboxes(A, AFFINE, width=70, height=60),
        "transform_contour": utils.transform_contour(TRIANGLES[1], AFFINE),
    }
    for name, value in ours.items():
        np.testing.assert_allclose(np.asarray(value, float), np.asarray(theirs[name], float),
                                   rtol=1e-6, atol=1e-6, err_msg=name)  # fmt: skip
    pieces = [
        sorted(map(tuple, p.tolist())) for p in utils.crop_polygon(TRIANGLES[1], 0, 0, 10, 25)
    ]
    assert pieces == [[tuple(v) for v in piece] for piece in theirs["crop_polygon"]]
    unique_boxes = [
        utils.find_largest_unique_boxes(np.concatenate([A, A[:3]]), t, m).tolist()
        for t in (1, 0.5, 0.1)
        for m in ("iou", "coverage")
    ]
    assert unique_boxes == theirs["unique_boxes"]
    unique_contours = [
        utils.find_largest_unique_contours(TRIANGLES + SQUARES, t, m).tolist()
        for t in (1, 0.5, 0.1)
        for m in ("iou", "coverage")
    ]
    assert unique_contours == theirs["unique_contours"]
    assert utils.flatten([[1, 2], [], [3]]) == theirs["flatten"]
    groups = [[k, list(v)] for k, v in utils.groupby_unsorted([3, 1, 4, 1, 5], lambda v: v % 2)]
    assert groups == theirs["groupby"]
    combined = utils.split_apply_combine(
        ["b1", "a1", "b2", "a2", "c1"], lambda s: s[0], lambda items: [i * 2 for i in items]
    )
    assert combined == theirs["split_apply_combine"]
    for n, blank in zip((1, 2, 3, 4), theirs["blank"], strict=True):
        ours_blank = utils.get_blank_image(3, 2, n, cval=7)
        assert ours_blank.dtype == blank.dtype and np.array_equal(ours_blank, blank), n


def test_documented_differences(original) -> None:
    """Shapes without area give 0 here (NaN there); a grey blank image takes cval; split
    gives exact sizes (the original drew each item's part at random)."""
    theirs = original(
        """
        from mira.core import utils
        flat = np.array([[3, 3, 3, 3]])
        result = {
            "iou": float(utils.compute_iou(flat, flat)[0, 0]),
            "coverage": float(utils.compute_coverage(flat, flat)[0, 0]),
            "grey": utils.get_blank_image(2, 2, 0, cval=0),
            "split": [len(p) for p in utils.split(list(range(20)), [0.7, 0.3])],
        }
        """
    )
    flat = np.array([[3, 3, 3, 3]])
    assert np.isnan(theirs["iou"]) and np.isnan(theirs["coverage"])
    assert (
        utils.compute_iou(flat, flat)[0, 0] == 0 and utils.compute_coverage(flat, flat)[0, 0] == 0
    )
    assert theirs["grey"].tolist() == [[255, 255], [255, 255]]
    assert utils.get_blank_image(2, 2, 0, cval=0).tolist() == [[0, 0], [0, 0]]
    assert sum(theirs["split"]) == 20 and theirs["split"] != [14, 6]  # 13 / 7 with seed 42
    assert [len(p) for p in utils.split(list(range(20)), [0.7, 0.3])] == [14, 6]
