"""Annotation and Scene methods against the original's, and the three differences the
README decides: from_qsl's metadata["target"], annotated()'s size, and flips of polygons."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from mira.core import Annotation, Categories, Label, Scene
from mira.core.annotation import labels2onehot

ROOT = Path(__file__).resolve().parents[2]
QSL_IMAGE = ROOT / "tests" / "data" / "qsl" / "minimal" / "img" / "a.png"  # 200 x 100

BOXES = [[5, 5, 15, 25], [0, 0, 40, 40], [30, 2, 44, 9]]
POLYGONS = [
    [[0, 0], [30, 0], [30, 10], [20, 10], [20, 5], [10, 5], [10, 10], [0, 10]],
    [[12, 3], [40, 8], [25, 33]],
]
WINDOWS = [(10, 10, 10, 10), (0, 0, 20, 8), (25, 0, 30, 30), (0, 7, 30, 3)]

THEIRS = """
from mira.core import Annotation, Categories, Label
from mira.core.annotation import labels2onehot
from mira.core.utils import Dimensions
cats = Categories(names=["dog", "cat"])
anns = [Annotation(cats["dog"], *b, score=0.5) for b in boxes] + [
    Annotation(cats["cat"], points=p, metadata={"k": 1}) for p in polygons
]
image = np.arange(50 * 60 * 3, dtype=np.uint32).reshape(50, 60, 3)
result = {
    "crop": [
        [[c.category.name, c.is_rect, sorted(map(tuple, c.points[:-1].tolist())) if not c.is_rect
          else list(c.x1y1x2y2()), c.score, c.metadata] for c in a.crop(w, h, xo, yo)]
        for a in anns for xo, yo, w, h in windows
    ],
    "extract": [a.extract(image, pad).tolist() for a in anns for pad in (0, 3)],
    "expand": [list(a.expand(4, Dimensions(42, 30)).x1y1x2y2()) for a in anns],
    "resize": [list(a.resize(2).x1y1x2y2()) for a in anns],
    "onehot": [
        labels2onehot([Label(cats["cat"], score=0.25), Label(cats["cat"], score=0.5)], cats, b)
        for b in (True, False)
    ],
}
"""


def annotations() -> list[Annotation]:
    cats = Categories(names=["dog", "cat"])
    return [Annotation(cats["dog"], *b, score=0.5) for b in BOXES] + [
        Annotation(cats["cat"], points=p, metadata={"k": 1}) for p in POLYGONS
    ]


def test_annotation_methods_match_the_original(original) -> None:
    theirs = original(THEIRS, boxes=BOXES, polygons=POLYGONS, windows=WINDOWS)
    anns = annotations()
    # The same pieces; the original rounds the vertices a clip creates (half to even).
    crops = [
        [
            [c.category.name, c.is_rect,
             sorted(map(tuple, np.round(c.points).tolist())) if not c.is_rect
             else list(c.x1y1x2y2()),
             c.score, c.metadata]
            for c in a.crop(w, h, xo, yo)
        ]
        for a in anns
        for xo, yo, w, h in WINDOWS
    ]  # fmt: skip
    assert crops == [
        [[n, r, [tuple(map(float, p)) for p in pts] if not r else pts, s, m]
         for n, r, pts, s, m in case]
        for case in theirs["crop"]
    ]  # fmt: skip
    image = np.arange(50 * 60 * 3, dtype=np.uint32).reshape(50, 60, 3)
    assert [a.extract(image, pad).tolist() for a in anns for pad in (0, 3)] == theirs["extract"]
    with pytest.warns(UserWarning):
        expanded = [list(a.expand(4, (42, 30)).x1y1x2y2()) for a in anns]
    assert expanded == theirs["expand"]
    assert [list(a.resize(2).x1y1x2y2()) for a in anns] == theirs["resize"]
    cats = anns[0].category, anns[-1].category
    categories = Categories(names=["dog", "cat"])
    labels = [Label(cats[1], score=0.25), Label(cats[1], score=0.5)]
    for binary, row in zip((True, False), theirs["onehot"], strict=True):
        assert labels2onehot(labels, categories, binary).tolist() == row.tolist()


def test_rounding_differences(original) -> None:
    """The original rounds coordinates at construction and truncates box resizes; ours
    keep floats. A box drawn opaque covers its right and bottom edge pixels there."""
    theirs = original(
        """
        from mira.core import Annotation, Categories
        cats = Categories(["dog"])
        image = np.zeros((6, 6), np.uint8)
        Annotation(cats["dog"], 1, 1, 3, 4).draw(image, 1, opaque=True)
        result = {
            "resize": list(Annotation(cats["dog"], 3, 3, 7, 7).resize(0.5).x1y1x2y2()),
            "round": list(Annotation(cats["dog"], 2.5, 1.5, 4.4, 6.6).x1y1x2y2()),
            "drawn": int(image.sum()),
        }
        """
    )
    cats = Categories(["dog"])
    assert theirs["resize"] == [1, 1, 3, 3]
    assert Annotation(cats["dog"], 3, 3, 7, 7).resize(0.5).x1y1x2y2() == (1.5, 1.5, 3.5, 3.5)
    assert theirs["round"] == [2, 2, 4, 7]
    assert Annotation(cats["dog"], 2.5, 1.5, 4.4, 6.6).x1y1x2y2() == (2.5, 1.5, 4.4, 6.6)
    image = np.zeros((6, 6), np.uint8)
    Annotation(cats["dog"], 1, 1, 3, 4).draw(image, 1, opaque=True)
    assert (theirs["drawn"], int(image.sum())) == (12, 6)  # 3 x 4 pixels there, 2 x 3 here


def test_from_qsl_keeps_the_target_in_metadata(original, tmp_path: Path) -> None:
    """Decided: kept. Once images are copied into a tarball, metadata["target"] is what
    still says which file a scene came from."""
    (tmp_path / "img").mkdir()
    shutil.copy(QSL_IMAGE, tmp_path / "img" / "a.png")
    item = {
        "target": "img/a.png",
        "metadata": {"source": "camera-1"},
        "labels": {
            "boxes": [{"pt1": {"x": 0.1, "y": 0.2}, "pt2": {"x": 0.5, "y": 0.6},
                       "labels": {"Type": ["Dog"]}}],
            "polygons": [{"points": [{"x": 0.0, "y": 0.0}, {"x": 0.5, "y": 0.0},
                                     {"x": 0.5, "y": 0.5}], "labels": {"Type": ["Cat"]}}],
        },
    }  # fmt: skip
    theirs = original(
        """
        import sys, types
        sys.modules["qsl"] = types.ModuleType("qsl")  # imported, unused without masks
        from mira.core import Categories, Scene
        scene = Scene.from_qsl(item, "Type", Categories(["Dog", "Cat"]), base_dir=base_dir)
        result = {
            "metadata": scene.metadata,
            "boxes": scene.bboxes(),
            "to_qsl": scene.to_qsl("x/a.png", category_name="Type"),
        }
        """,
        item=item,
        base_dir=str(tmp_path),
    )
    ours = Scene.from_qsl(item, "Type", Categories(["Dog", "Cat"]), base_dir=tmp_path)
    assert theirs["metadata"] == {"source": "camera-1"}
    assert ours.metadata == {"source": "camera-1", "target": "img/a.png"}
    np.testing.assert_array_equal(ours.bboxes(), theirs["boxes"])
    mine = ours.to_qsl("x/a.png", category_name="Type")
    # to_qsl leaves the target out of the metadata again, so both write the same item,
    # except that the original repeats each polygon's first point at its end.
    theirs_qsl = theirs["to_qsl"]
    for polygon in theirs_qsl["labels"]["polygons"][1:]:
        assert polygon["points"][0] == polygon["points"][-1]
        polygon["points"] = polygon["points"][:-1]
    assert mine == theirs_qsl


def test_annotated_keeps_the_image_size(original) -> None:
    """Decided: ours is the image's size (drawn with OpenCV, no matplotlib); the original
    returned a matplotlib rendering of another size."""
    theirs = original(
        """
        from mira.core import Annotation, Categories, Scene
        cats = Categories(["dog"])
        scene = Scene(cats, np.zeros((60, 90, 3), np.uint8),
                      [Annotation(cats["dog"], 10, 10, 40, 30)])
        result = list(scene.annotated().shape)
        """
    )
    cats = Categories(["dog"])
    scene = Scene(cats, np.zeros((60, 90, 3), np.uint8), [Annotation(cats["dog"], 10, 10, 40, 30)])
    assert theirs != [60, 90, 3]
    assert scene.annotated().shape == (60, 90, 3)


def test_flips_move_boxes_and_polygons_alike(original) -> None:
    """Decided: x -> W - x for boxes and polygons alike (pixel edges); the original moved
    polygons to W - 1 - x, one pixel away from its boxes."""
    theirs = original(
        """
        from mira.core import Annotation, Categories, Scene
        from mira.core import augmentations as mca
        cats = Categories(["dog"])
        scene = Scene(cats, np.zeros((50, 200, 3), np.uint8), [
            Annotation(cats["dog"], 10, 5, 30, 20),
            Annotation(cats["dog"], points=[[10, 5], [30, 5], [30, 20], [10, 20]]),
        ])
        flipped, M = scene.augment(mca.compose([mca.A.HorizontalFlip(p=1)]))
        result = {"boxes": flipped.bboxes()[:, :4], "M": M}
        """
    )
    from mira.core import augmentations as mca

    cats = Categories(["dog"])
    scene = Scene(cats, np.zeros((50, 200, 3), np.uint8), [
        Annotation(cats["dog"], 10, 5, 30, 20),
        Annotation(cats["dog"], points=[[10, 5], [30, 5], [30, 20], [10, 20]]),
    ])  # fmt: skip
    flipped, matrix = scene.augment(mca.compose([mca.A.HorizontalFlip(p=1)]))
    assert theirs["boxes"].tolist() == [[170, 5, 190, 20], [169, 5, 189, 20]]
    assert theirs["M"][0].tolist() == pytest.approx([-1, 0, 199])
    assert flipped.bboxes()[:, :4].tolist() == [[170, 5, 190, 20], [170, 5, 190, 20]]
    assert matrix[0].tolist() == [-1, 0, 200]


def test_segmentation_map_differences(original) -> None:
    """Fills stop at the right and bottom edges, and scores are kept exactly (the original
    quantised them to 0.01)."""
    theirs = original(
        """
        from mira.core import Annotation, Categories, Scene
        cats = Categories(["dog"])
        scene = Scene(cats, np.zeros((6, 8, 3), np.uint8),
                      [Annotation(cats["dog"], 0, 0, 4, 2, score=0.337)])
        result = [scene.segmentation_map(binary=True), scene.segmentation_map(False, 0.1)]
        """
    )
    cats = Categories(["dog"])
    scene = Scene(
        cats, np.zeros((6, 8, 3), np.uint8), [Annotation(cats["dog"], 0, 0, 4, 2, score=0.337)]
    )
    binary, scores = scene.segmentation_map(binary=True), scene.segmentation_map(False, 0.1)
    assert theirs[0].sum() == 0 and binary.sum() == 0  # 0.337 is below the default 0.5
    assert (theirs[1] > 0).sum() == 15 and theirs[1].max() == 0.33  # 5 x 3 pixels
    assert (scores > 0).sum() == 8 and scores.max() == 0.337  # 4 x 2 pixels
