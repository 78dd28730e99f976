"""The rest of the original's scene-model API: Annotation.crop/draw/extract/expand/resize,
labels2onehot, Categories(names=), field assignment, segmentation_map, to_qsl,
scene_writer, images of 1 to 4 channels, and the modules reachable from mira.core."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import mira.core
from mira.core import Annotation, Categories, ImageSource, Label, Scene
from mira.core.annotation import labels2onehot
from mira.core.image import encode_image
from mira.errors import ValidationError

CATS = Categories(names=["dog", "cat"])
DOG, CAT = CATS["dog"], CATS["cat"]
# A PNG cut after its header: its size is known, its pixels are not.
HEADER_ONLY = encode_image(np.zeros((8, 10, 3), np.uint8), "png")[:40]


def header_only_scene(annotations) -> Scene:
    return Scene(CATS, ImageSource.from_bytes(HEADER_ONLY, dimensions=(10, 8)), annotations)


def test_categories_names_keyword_and_labels2onehot() -> None:
    assert CATS.names == ["dog", "cat"]
    labels = [Label(CAT, score=0.25), Label(CAT, score=0.5), Label(DOG)]
    assert labels2onehot(labels, CATS, binary=True).tolist() == [1.0, 1.0]
    assert labels2onehot(labels, CATS, binary=False).tolist() == [1.0, 0.5]
    assert labels2onehot([], CATS, binary=True).dtype == np.float32


def test_annotation_crop() -> None:
    box = Annotation(DOG, 5, 5, 15, 25, score=0.5, metadata={"k": 1})
    (piece,) = box.crop(width=10, height=10, xoffset=10, yoffset=10)
    assert piece.x1y1x2y2() == (0.0, 0.0, 5.0, 10.0)
    assert (piece.score, piece.metadata, piece.is_rect) == (0.5, {"k": 1}, True)
    assert box.crop(width=10, height=10, xoffset=100) == []
    u_shape = Annotation(CAT, points=[[0, 0], [30, 0], [30, 10], [20, 10], [20, 5], [10, 5],
                                      [10, 10], [0, 10]])  # fmt: skip
    pieces = u_shape.crop(width=30, height=3, yoffset=7)  # the two legs
    assert sorted(p.x1y1x2y2() for p in pieces) == [(0, 0, 10, 3), (20, 0, 30, 3)]
    assert all(not p.is_rect and p.category == CAT for p in pieces)


def test_annotation_draw_in_place() -> None:
    image = np.zeros((6, 6, 3), np.uint8)
    assert Annotation(DOG, 1, 1, 3, 4).draw(image, (9, 8, 7), opaque=True) is None
    # The pixels whose centres are inside: columns 1-2, rows 1-3.
    assert (image[:, :, 0] > 0).astype(int).tolist() == [
        [0, 0, 0, 0, 0, 0],
        [0, 1, 1, 0, 0, 0],
        [0, 1, 1, 0, 0, 0],
        [0, 1, 1, 0, 0, 0],
        [0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0],
    ]
    assert image[2, 2].tolist() == [9, 8, 7]
    plane = np.zeros((20, 20), np.uint8)
    Annotation(CAT, points=[[2, 2], [17, 2], [17, 17]]).draw(plane, 255, thickness=1)
    assert plane[2, 9] > 0 and plane[10, 3] == 0  # on the edge, not inside


def test_annotation_extract_expand_resize() -> None:
    image = np.arange(100).reshape(10, 10)
    box = Annotation(DOG, 2.5, 3, 5, 6.2)
    assert box.extract(image).tolist() == image[3:7, 2:5].tolist()
    assert box.extract(image, pad=4).tolist() == image[0:10, 0:9].tolist()
    grown = box.expand(3, (8, 9))
    assert grown.x1y1x2y2() == (0.0, 0.0, 8.0, 9.0) and grown.is_rect
    with pytest.warns(UserWarning, match="expanding a polygon gives its bounding box"):
        expanded = Annotation(CAT, points=[[1, 1], [4, 1], [1, 4]], score=0.3).expand(1, (100, 100))
    assert expanded.is_rect and expanded.x1y1x2y2() == (0, 0, 5, 5) and expanded.score == 0.3
    assert Annotation(DOG, 3, 3, 7, 7).resize(0.5).x1y1x2y2() == (1.5, 1.5, 3.5, 3.5)
    assert Annotation(DOG, 3, 3, 7, 7).resize(np.array([2, 0.5])).x1y1x2y2() == (6, 1.5, 14, 3.5)
    polygon = Annotation(CAT, points=[[3, 3], [7, 3], [7, 7]]).resize(0.5)
    assert polygon.points.tolist() == [[1.5, 1.5], [3.5, 1.5], [3.5, 3.5]]


def test_scene_fields_can_be_assigned_and_are_checked() -> None:
    scene = Scene(CATS, np.zeros((4, 4, 3), np.uint8), key="k")
    scene.annotations = [Annotation(DOG, 0, 0, 1, 1)]
    scene.labels = [Label(CAT)]
    scene.metadata = {"a": 1}
    scene.masks = [{"visible": False, "name": "m", "contour": [[0, 0], [2, 0], [2, 2]]}]
    assert [a.category.name for a in scene.annotations] == ["dog"]
    assert (scene.labels[0].category.name, scene.metadata) == ("cat", {"a": 1})
    assert scene.image[0, 0].tolist() == [0, 0, 0] and len(scene.masks) == 1
    other = Categories(["bird"])
    with pytest.raises(ValidationError, match=r"^scene k: annotation 0: category 'bird' is not"):
        scene.annotations = [Annotation(other["bird"], 0, 0, 1, 1)]
    with pytest.raises(ValidationError, match=r"^scene k: label 0 is not a Label$"):
        scene.labels = ["cat"]
    with pytest.raises(ValidationError, match=r"^scene k: metadata must be a dict, got list$"):
        scene.metadata = [1]
    assert [a.category.name for a in scene.annotations] == ["dog"]  # unchanged by failures
    scene.annotations = None
    assert scene.annotations == []


def test_segmentation_map_needs_no_pixels() -> None:
    scene = header_only_scene(
        [
            Annotation(DOG, 0, 0, 4, 2, score=0.9),
            Annotation(DOG, 2, 0, 6, 1, score=0.3),  # below the threshold
            Annotation(CAT, points=[[6, 4], [10, 4], [10, 8], [6, 8]], score=None),
        ]
    )
    planes = scene.segmentation_map(binary=True)
    assert planes.shape == (2, 8, 10) and planes.dtype == np.float64
    assert planes[0, :2, :4].sum() == 8 and planes[0].sum() == 8
    assert planes[1, 4:, 6:].sum() == 16 and planes[1].sum() == 16
    scores = scene.segmentation_map(binary=False, threshold=0.1)
    assert scores[0, 0].tolist() == [0.9, 0.9, 0.3, 0.3, 0.3, 0.3, 0, 0, 0, 0]  # later wins
    assert scores[0, 1, :4].tolist() == [0.9] * 4 and scores[1].max() == 1.0


def test_to_qsl_and_back(tmp_path: Path) -> None:
    path = tmp_path / "img.png"
    path.write_bytes(encode_image(np.zeros((50, 100, 3), np.uint8), "png"))
    scene = Scene(
        CATS,
        str(path),
        [
            Annotation(DOG, 10, 5, 30, 25, metadata={"m": 1}),
            Annotation(CAT, points=[[0, 0], [50, 0], [50, 50]]),
        ],
        metadata={"source": "cam", "target": "img.png"},
    )
    item = scene.to_qsl("some/folder/img.png", category_name="Type")
    assert item == {
        "target": "img.png",
        "metadata": {"source": "cam"},
        "labels": {
            "polygons": [
                {
                    "points": [
                        {"x": 0.1, "y": 0.1},
                        {"x": 0.3, "y": 0.1},
                        {"x": 0.3, "y": 0.5},
                        {"x": 0.1, "y": 0.5},
                    ],  # fmt: skip
                    "metadata": {"m": 1},
                    "labels": {"Type": ["dog"]},
                },
                {
                    "points": [{"x": 0.0, "y": 0.0}, {"x": 0.5, "y": 0.0}, {"x": 0.5, "y": 1.0}],
                    "metadata": {},
                    "labels": {"Type": ["cat"]},
                },
            ]
        },
    }
    back = Scene.from_qsl(item, "Type", CATS, base_dir=tmp_path)
    assert back.metadata == {"source": "cam", "target": "img.png"}
    assert [a.points.tolist() for a in back.annotations] == [
        [[10, 5], [30, 5], [30, 25], [10, 25]],
        [[0, 0], [50, 0], [50, 50]],
    ]


def test_scene_writer_and_imports(tmp_path: Path) -> None:
    from mira.core.collection import SceneCollection as Collection
    from mira.core.scene import SceneCollection, scene_writer

    assert SceneCollection is Collection
    path = tmp_path / "out.tar"
    with scene_writer(path) as add_scene:
        assert add_scene(Scene(CATS, np.zeros((2, 2, 3), np.uint8))) == "000000"
        add_scene(Scene(CATS, np.zeros((2, 2, 3), np.uint8), [Annotation(DOG, 0, 0, 1, 1)]))
    loaded = SceneCollection.load(path)
    assert [len(s.annotations) for s in loaded] == [0, 1]
    # mira.core.utils and the others are reachable without importing them first, and
    # importing mira.core does not import them.
    code = (
        "import sys, mira.core; assert 'mira.core.utils' not in sys.modules; "
        "print(mira.core.utils.compute_iou.__module__, mira.core.resizing.__name__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["mira.core.utils", "mira.core.resizing"]
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        mira.core.nothing  # noqa: B018


@pytest.mark.parametrize(
    ("shape", "pixel"),
    [((2, 3), [5, 5, 5]), ((2, 3, 1), [5, 5, 5]), ((2, 3, 2), [5, 5, 5]),
     ((2, 3, 3), [5, 6, 7]), ((2, 3, 4), [5, 6, 7])],
)  # fmt: skip
def test_images_of_one_to_four_channels(shape, pixel) -> None:
    array = np.zeros(shape, np.uint8)
    array[...] = np.array([5, 6, 7, 8][: shape[2]] if len(shape) == 3 else 5, np.uint8)
    scene = Scene(CATS, array)
    assert scene.image.shape == (2, 3, 3) and scene.image[1, 2].tolist() == pixel
    assert scene.dimensions == (3, 2)
