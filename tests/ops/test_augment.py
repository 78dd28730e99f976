"""Augmentation: exact geometry, visibility, pipelines from files, seeds and the stream."""

from __future__ import annotations

import json
from pathlib import Path

import albumentations as A
import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mira.core import Annotation, Categories, Label, Scene, SceneCollection
from mira.core.image import encode_image
from mira.errors import ConfigError, ValidationError
from mira.ops.augment import augment_scene, corner_matrix, transform_points
from mira.ops.augment_pipeline import compose, derive_seed, load_pipeline
from mira.ops.augment_stream import augment_scenes, new_report

CATS = Categories(["dog", "cat"])
W, H = 64, 48


def image(width: int = W, height: int = H, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, size=(height, width, 3), dtype=np.uint8)


def make_scene(annotations: list[Annotation], **kw: object) -> Scene:
    return Scene(CATS, kw.pop("pixels", image()), annotations, **kw)  # type: ignore[arg-type]


# --- flips: exact mirroring -------------------------------------------------------------

unit = st.floats(0, 1, allow_nan=False).map(lambda f: round(f, 6))


@st.composite
def boxes(draw: st.DrawFn) -> tuple[float, float, float, float]:
    """Boxes inside the image, at least half a pixel wide and high, arbitrary decimals."""
    x1, y1 = draw(unit) * (W - 1), draw(unit) * (H - 1)
    x2 = x1 + 0.5 + draw(unit) * (W - x1 - 0.5)
    y2 = y1 + 0.5 + draw(unit) * (H - y1 - 0.5)
    return x1, y1, min(x2, W), min(y2, H)


@settings(max_examples=60, deadline=None)
@given(box=boxes(), angle=st.floats(0, 2 * np.pi), radius=st.floats(2, 10))
def test_horizontal_flip_mirrors_boxes_and_polygons_exactly(box, angle, radius):
    x1, y1, x2, y2 = box
    centre = np.array([W / 2, H / 2])
    turns = angle + np.array([0, 2.1, 4.2])
    triangle = centre + radius * np.column_stack([np.cos(turns), np.sin(turns)])
    scene = make_scene(
        [
            Annotation(CATS["dog"], x1, y1, x2, y2, score=0.75, metadata={"id": 1}),
            Annotation(CATS["cat"], points=triangle, score=None, metadata={"id": 2}),
        ]
    )
    result = augment_scene(scene, compose([A.HorizontalFlip(p=1)]))
    box_out, polygon_out = result.scene.annotations
    assert box_out.is_rect and not polygon_out.is_rect
    assert box_out.x1y1x2y2() == (W - x2, y1, W - x1, y2)
    expected = np.column_stack([W - triangle[:, 0], triangle[:, 1]])
    assert np.array_equal(polygon_out.points, expected)
    assert (box_out.score, box_out.metadata) == (0.75, {"id": 1})
    assert (polygon_out.score, polygon_out.metadata) == (None, {"id": 2})
    assert np.array_equal(result.matrix, [[-1, 0, W], [0, 1, 0], [0, 0, 1]])
    assert result.dropped == []


def test_vertical_flip_is_exact_and_box_agrees_with_same_polygon():
    corners = [[3.25, 4.5], [20.75, 4.5], [20.75, 30.125], [3.25, 30.125]]
    scene = make_scene(
        [
            Annotation(CATS["dog"], 3.25, 4.5, 20.75, 30.125),
            Annotation(CATS["dog"], points=corners),
        ]
    )
    out, matrix = scene.augment(compose([A.VerticalFlip(p=1)]))
    box, polygon = out.annotations
    assert box.x1y1x2y2() == (3.25, H - 30.125, 20.75, H - 4.5)
    assert (polygon.x1, polygon.y1, polygon.x2, polygon.y2) == box.x1y1x2y2()
    assert np.array_equal(matrix, [[1, 0, 0], [0, -1, H], [0, 0, 1]])


def test_scene_fields_survive_and_masks_are_baked_in():
    mask = {"visible": False, "name": "m", "contour": [[0, 0], [9, 0], [9, 9], [0, 9]]}
    scene = make_scene(
        [Annotation(CATS["dog"], 1, 2, 30, 40, score=0.5)],
        labels=[Label(CATS["cat"], score=0.25, metadata={"l": 1})],
        metadata={"source": "cam"},
        masks=[mask],
        key="k7",
    )
    out, _ = scene.augment(compose([A.HorizontalFlip(p=1)]))
    assert out.masks == []
    assert np.array_equal(out.image, scene.image[:, ::-1])
    assert out.labels == scene.labels and out.metadata == {"source": "cam"}
    assert out.key == "k7" and out.categories == CATS


def test_no_augmenter_returns_the_scene_and_identity():
    scene = make_scene([Annotation(CATS["dog"], 1, 2, 3, 4)])
    out, matrix = scene.augment()
    assert out is scene and np.array_equal(matrix, np.eye(3))


# --- visibility: crops and partial annotations ------------------------------------------


@pytest.mark.parametrize("min_visibility, kept", [(0.6, False), (0.5, True), (0.4, True)])
def test_crop_clips_or_drops_boxes_and_polygons_by_visibility(min_visibility, kept):
    # Both annotations are exactly half inside the 50 x 50 crop.
    scene = make_scene(
        [
            Annotation(CATS["dog"], 40, 10, 60, 20, score=0.5),
            Annotation(CATS["cat"], points=[[40, 30], [60, 30], [60, 40], [40, 40]]),
            Annotation(CATS["dog"], 55, 0, 60, 5),  # entirely outside: always dropped
        ],
        pixels=image(100, 80),
    )
    result = augment_scene(scene, compose([A.Crop(0, 0, 50, 50, p=1)]), min_visibility)
    assert result.scene.image.shape == (50, 50, 3)
    if kept:
        box, polygon = result.scene.annotations
        assert box.x1y1x2y2() == (40, 10, 50, 20) and box.score == 0.5
        assert not polygon.is_rect
        assert sorted(map(tuple, polygon.points.tolist())) == [
            (40, 30),
            (40, 40),
            (50, 30),
            (50, 40),
        ]
        assert result.dropped == ["dog"]
    else:
        assert result.scene.annotations == []
        assert result.dropped == ["dog", "cat", "dog"]
    assert np.array_equal(result.matrix, np.eye(3))


def test_a_polygon_cut_in_two_by_a_crop_gives_two_polygons():
    u_shape = [[0, 0], [30, 0], [30, 30], [20, 30], [20, 10], [10, 10], [10, 30], [0, 30]]
    scene = make_scene([Annotation(CATS["cat"], points=u_shape, score=0.2, metadata={"u": 1})])
    result = augment_scene(scene, compose([A.Crop(0, 20, 60, 40, p=1)]), min_visibility=0.2)
    pieces = sorted(sorted(map(tuple, a.points.tolist())) for a in result.scene.annotations)
    assert pieces == [
        [(0, 0), (0, 10), (10, 0), (10, 10)],
        [(20, 0), (20, 10), (30, 0), (30, 10)],
    ]
    assert all((a.score, a.metadata) == (0.2, {"u": 1}) for a in result.scene.annotations)
    # 200 of 700 square pixels remain: 0.29 < 0.3
    assert augment_scene(scene, compose([A.Crop(0, 20, 60, 40, p=1)]), 0.3).dropped == ["cat"]


def test_visibility_counts_only_the_part_inside_the_source_image():
    # A box sticking out of the source keeps its visible part whole under a pixel-only op.
    scene = make_scene([Annotation(CATS["dog"], 50, 10, 80, 20)])
    out, _ = scene.augment(compose([A.RandomBrightnessContrast(p=1)]), min_visibility=0.9)
    assert [a.x1y1x2y2() for a in out.annotations] == [(50, 10, W, 20)]


def test_zero_area_annotations_are_dropped_and_reported():
    scene = make_scene([Annotation(CATS["cat"], 5, 5, 5, 9), Annotation(CATS["dog"], 1, 1, 9, 9)])
    result = augment_scene(scene, compose([A.HorizontalFlip(p=1)]))
    assert [a.category.name for a in result.scene.annotations] == ["dog"]
    assert result.dropped == ["cat"]


def test_min_visibility_defaults_to_the_pipelines_and_is_checked():
    scene = make_scene([Annotation(CATS["dog"], 40, 10, 60, 20)], pixels=image(100, 80))
    crop = [A.Crop(0, 0, 50, 50, p=1)]
    assert scene.augment(compose(crop, bbox_options={"min_visibility": 0.6}))[0].annotations == []
    assert len(scene.augment(compose(crop))[0].annotations) == 1
    with pytest.raises(ValidationError, match="min_visibility must be between 0 and 1, got 1.5"):
        scene.augment(compose(crop), min_visibility=1.5)


# --- other geometry ---------------------------------------------------------------------


def test_rotation_keeps_polygons_as_polygons_and_follows_the_matrix():
    ring = np.array([[20, 14], [40, 16], [36, 30], [24, 32], [18, 24]], dtype=float)
    scene = make_scene(
        [Annotation(CATS["cat"], points=ring), Annotation(CATS["dog"], 28, 20, 36, 28)]
    )
    pipeline = compose([A.Affine(rotate=(30, 30), p=1)])
    out, matrix = scene.augment(pipeline)
    polygon, box = out.annotations
    assert not polygon.is_rect and box.is_rect
    assert polygon.points.shape == (5, 2)
    np.testing.assert_allclose(polygon.points, transform_points(matrix, ring), atol=1e-9)
    angle = np.degrees(np.arctan2(matrix[1, 0], matrix[0, 0]))
    assert angle == pytest.approx(-30, abs=1e-3)  # image y points down: counter-clockwise
    corners = transform_points(matrix, np.array([[28, 20], [36, 20], [36, 28], [28, 28]], float))
    assert box.x1y1x2y2() == pytest.approx((*corners.min(axis=0), *corners.max(axis=0)), abs=1e-6)


def test_resize_scales_exactly_and_the_matrix_maps_corners():
    scene = make_scene([Annotation(CATS["dog"], 10, 8, 30, 24)])
    out, matrix = scene.augment(compose([A.Resize(24, 32, p=1)]))
    assert out.annotations[0].x1y1x2y2() == (5, 4, 15, 12)
    assert np.array_equal(matrix, [[0.5, 0, 0], [0, 0.5, 0], [0, 0, 1]])
    corners = np.array([[0, 0], [W, 0], [W, H], [0, H]], dtype=float)
    assert np.array_equal(transform_points(matrix, corners), [[0, 0], [32, 0], [32, 24], [0, 24]])


def test_corner_matrix_handles_perspective():
    corners = np.array([[1, 2], [60, 0], [64, 48], [0, 40]], dtype=float)
    matrix = corner_matrix(W, H, corners)
    source = np.array([[0, 0], [W, 0], [W, H], [0, H]], dtype=float)
    np.testing.assert_allclose(transform_points(matrix, source), corners, atol=1e-9)


# --- the augmenter protocol -------------------------------------------------------------


def test_a_plain_callable_gets_the_original_keyword_protocol():
    seen = {}

    def shift_right(image, bboxes, bbox_indices, keypoints, keypoint_indices):
        seen.update(bboxes=np.array(bboxes), keypoints=np.array(keypoints))
        moved = np.zeros_like(image)
        moved[:, 4:] = image[:, :-4]
        boxes = np.array(bboxes) + [4, 0, 4, 0]
        return {
            "image": moved,
            "bboxes": boxes,
            "bbox_indices": bbox_indices,
            "keypoints": np.array(keypoints) + [4, 0],
            "keypoint_indices": keypoint_indices,
        }

    scene = make_scene(
        [
            Annotation(CATS["dog"], 1, 2, 10, 12),
            Annotation(CATS["cat"], points=[[5, 5], [9, 5], [9, 9]]),
        ]
    )
    out, matrix = scene.augment(shift_right)
    assert seen["bboxes"].tolist() == [[1, 2, 10, 12]]
    assert len(seen["keypoints"]) == 4 + 4 + 3  # image corners, box corners, polygon
    assert out.annotations[0].x1y1x2y2() == (5, 2, 14, 12)
    assert out.annotations[1].points.tolist() == [[9, 5], [13, 5], [13, 9]]
    assert np.array_equal(matrix, [[1, 0, 4], [0, 1, 0], [0, 0, 1]])


def test_a_compose_without_mira_params_is_completed():
    scene = make_scene([Annotation(CATS["dog"], 1, 2, 10, 12)])
    bare = A.Compose([A.HorizontalFlip(p=1)])
    coco = A.Compose(
        [A.HorizontalFlip(p=1)], bbox_params=A.BboxParams(format="coco", label_fields=["x"])
    )
    for pipeline in (bare, coco):
        out, _ = scene.augment(pipeline)
        assert out.annotations[0].x1y1x2y2() == (W - 10, 2, W - 1, 12)


def test_an_augmenter_that_loses_or_duplicates_corner_keypoints_is_an_error():
    def keep(rows):
        def augmenter(image, bboxes, bbox_indices, keypoints, keypoint_indices):
            points, labels = np.asarray(keypoints), np.asarray(keypoint_indices)
            return {
                "image": image,
                "bboxes": bboxes,
                "bbox_indices": bbox_indices,
                "keypoints": points[rows(len(points))],
                "keypoint_indices": labels[rows(len(points))],
            }

        return augmenter

    scene = make_scene([Annotation(CATS["dog"], 1, 2, 5, 6)])
    with pytest.raises(ValidationError, match="dropped the image-corner keypoints"):
        scene.augment(keep(lambda n: np.arange(1, n)))
    with pytest.raises(ValidationError, match="several copies of the same keypoints"):
        scene.augment(keep(lambda n: np.r_[np.arange(n), 0]))


def test_reflecting_borders_are_refused():
    with pytest.raises(ValidationError) as info:
        compose([A.Affine(rotate=(5, 5), border_mode=cv2.BORDER_REFLECT_101)])
    assert str(info.value) == (
        "transform 'Affine' uses a reflecting border_mode (4), which mirrors annotations into "
        "the padding; use border_mode 0 (constant) or 1 (replicate)"
    )
    with pytest.raises(ValidationError, match="'RandomCrop' uses a reflecting border_mode"):
        compose([A.RandomCrop(90, 90, pad_if_needed=True, border_mode=cv2.BORDER_REFLECT)])
    compose([A.Affine(rotate=(5, 5), border_mode=cv2.BORDER_REPLICATE)])  # fine


def test_compose_sets_mira_params_and_refuses_transforms_that_cannot_move_boxes():
    pipeline = compose([A.HorizontalFlip()], bbox_options={"min_area": 4})
    boxes, points = pipeline.processors["bboxes"].params, pipeline.processors["keypoints"].params
    assert (boxes.format, boxes.label_fields, boxes.min_area) == ("pascal_voc", ["bbox_indices"], 4)
    assert (points.format, points.label_fields, points.remove_invisible) == (
        "xy",
        ["keypoint_indices"],
        False,
    )
    with pytest.raises(ValidationError) as info:
        compose([A.OneOf([A.OverlayElements(p=1)])])
    assert str(info.value) == (
        "transform 'OverlayElements' cannot move bounding boxes and keypoints; every transform "
        "in a mira pipeline must support both (image-only transforms are fine)"
    )


# --- seeds ------------------------------------------------------------------------------


def test_same_seed_same_result_and_collection_augment():
    pipeline = compose([A.Affine(rotate=(-20, 20), p=1), A.RandomBrightnessContrast(p=1)])
    scenes = [
        make_scene([Annotation(CATS["dog"], 5, 5, 30, 30)], pixels=image(seed=i)) for i in range(3)
    ]
    collection = SceneCollection(scenes, CATS)
    first, m1 = collection.augment(pipeline, seed=7)
    second, m2 = collection.augment(pipeline, seed=7)
    other, m3 = collection.augment(pipeline, seed=8)
    assert m1.shape == (3, 3, 3) and isinstance(first, SceneCollection)
    assert np.array_equal(m1, m2) and not np.array_equal(m1, m3)
    for a, b in zip(first, second, strict=True):
        assert np.array_equal(a.image, b.image) and a.annotations == b.annotations
    assert isinstance(first.scenes, list)
    single = augment_scene(scenes[1], pipeline, seed=derive_seed(7, 1, 1))
    assert np.array_equal(single.matrix, m1[1])


# --- pipeline files -------------------------------------------------------------------


def test_load_pipeline_reads_albumentations_yaml_and_json(tmp_path):
    original = A.Compose(
        [A.HorizontalFlip(p=0.25), A.OneOf([A.Blur(p=1), A.Affine(rotate=(-5, 5), p=1)])],
        bbox_params=A.BboxParams(format="coco", label_fields=["labels"], min_area=3),
    )
    for fmt in ("yaml", "json"):
        path = tmp_path / f"pipeline.{fmt}"
        A.save(original, str(path), data_format=fmt)
        loaded = load_pipeline(path)
        assert [type(t).__name__ for t in loaded.transforms] == ["HorizontalFlip", "OneOf"]
        assert loaded.transforms[0].p == 0.25
        params = loaded.processors["bboxes"].params
        assert (params.format, params.label_fields, params.min_area) == (
            "pascal_voc",
            ["bbox_indices"],
            3,
        )
    single = tmp_path / "single.yaml"
    A.save(A.HorizontalFlip(p=1), str(single), data_format="yaml")
    assert [type(t).__name__ for t in load_pipeline(single).transforms] == ["HorizontalFlip"]


BAD_CONFIGS = {
    "missing.yaml": (None, "pipeline file not found"),
    "broken.yaml": (
        "transform: [\n",
        "invalid YAML: expected the node content, but found '<stream end>' (line 2, column 1)",
    ),
    "broken.json": ('{"transform": ', "invalid JSON: Expecting value (line 1, column 15)"),
    "list.yaml": (
        "- HorizontalFlip\n",
        "not an albumentations pipeline: expected albumentations' serialised form (as written "
        "by albumentations.save): a mapping with a 'transform' entry whose '__class_fullname__' "
        "names a transform",
    ),
    "unknown.yaml": (
        "transform:\n  __class_fullname__: Compose\n  transforms:\n"
        "  - {__class_fullname__: HorizontalFlipp, p: 1}\n",
        "unknown transform 'HorizontalFlipp'; did you mean 'HorizontalFlip'?",
    ),
    "argument.yaml": (
        "transform: {__class_fullname__: HorizontalFlip, p: 1, probability: 1}\n",
        "transform 'HorizontalFlip': unknown argument(s) 'probability'",
    ),
    "value.yaml": (
        "transform: {__class_fullname__: HorizontalFlip, p: often}\n",
        "transform 'HorizontalFlip': invalid arguments: p: Input should be a valid number, "
        "unable to parse string as a number",
    ),
    "nobbox.yaml": (
        "transform:\n  __class_fullname__: Compose\n  transforms:\n"
        "  - {__class_fullname__: OverlayElements, p: 1}\n",
        "transform 'OverlayElements' cannot move bounding boxes and keypoints; every transform "
        "in a mira pipeline must support both (image-only transforms are fine)",
    ),
    "lambda.json": (
        json.dumps({"transform": {"__class_fullname__": "Lambda", "__name__": "f", "p": 1}}),
        "transform 'Lambda' cannot be loaded from a file",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_CONFIGS))
def test_bad_pipeline_files_give_exact_errors(tmp_path, name):
    text, message = BAD_CONFIGS[name]
    path = tmp_path / name
    if text is not None:
        path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_pipeline(path)
    assert str(info.value) == f"{path}: {message}"


# --- the stream -------------------------------------------------------------------------


def stream_scenes() -> list[Scene]:
    return [
        Scene(
            CATS,
            encode_image(image(seed=i), "jpg" if i != 1 else "png", 90),
            [
                Annotation(CATS["dog"], 5, 5, 30, 30),
                Annotation(CATS["cat"], points=[[40, 5], [60, 5], [50, 40]]),
            ],
            metadata={"i": i},
            key=None if i == 2 else f"s{i}",
        )
        for i in range(3)
    ]


def test_stream_keys_order_metadata_formats_and_report():
    report = new_report()
    pipeline = compose([A.HorizontalFlip(p=1)])
    out = list(
        augment_scenes(
            stream_scenes(), pipeline, copies=2, keep_original=True, seed=1, jobs=1, report=report
        )
    )
    assert [s.key for s in out] == [
        "s0", "s0-aug01", "s0-aug02", "s1", "s1-aug01", "s1-aug02",
        "000002", "000002-aug01", "000002-aug02",
    ]  # fmt: skip
    assert out[1].metadata == {"i": 0, "augment": {"source": "s0", "copy": 1}}
    assert out[7].metadata == {"i": 2, "augment": {"source": "000002", "copy": 1}}
    assert [s.image_source.extension for s in out[:6]] == ["jpg"] * 3 + ["png"] * 3
    assert out[4].annotations[0].x1y1x2y2() == (W - 30, 5, W - 5, 30)
    assert np.array_equal(out[4].image, out[3].image[:, ::-1])  # PNG: lossless
    assert report == {
        "scenes_in": 3,
        "scenes_out": 9,
        "annotations_in": 6,
        "annotations_out": 18,
        "dropped_by_visibility": {},
        "encoded": {"jpg q90": 4, "png": 2},
    }


def test_stream_is_identical_for_one_and_two_jobs():
    pipeline = load_pipeline(Path(__file__).resolve().parents[2] / "examples" / "augment.yaml")
    runs = []
    for jobs in (1, 2):
        out = list(augment_scenes(stream_scenes(), pipeline, copies=3, seed=11, jobs=jobs))
        runs.append([(s.key, s.image_source.encoded(), repr(s.annotations)) for s in out])
    assert runs[0] == runs[1]
    assert len({data for _, data, _ in runs[0]}) == 9  # every copy differs


def test_stream_takes_a_plain_callable_in_one_process():
    def identity(**data):
        return data

    scenes = stream_scenes()[:1]
    (copy,) = augment_scenes(scenes, identity, jobs=1)
    assert copy.key == "s0-aug01" and copy.annotations == scenes[0].annotations
    with pytest.raises(ValidationError, match="cannot be sent to worker processes"):
        augment_scenes(scenes, lambda **data: data, jobs=2)


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"copies": -1}, "copies must be at least 1 (or 0 with keep_original), got -1"),
        ({"copies": 0}, "copies must be at least 1 (or 0 with keep_original), got 0"),
        ({"min_visibility": 2.0}, "min_visibility must be between 0 and 1, got 2.0"),
    ],
)
def test_stream_checks_options_eagerly(kw, message):
    with pytest.raises(ValidationError) as info:
        augment_scenes([], compose([A.HorizontalFlip()]), **kw)
    assert str(info.value) == message


def test_albumentations_is_imported_without_asking_pypi_for_updates():
    """Its update check is a network call from every process; mira switches it off."""
    import os
    import subprocess
    import sys

    code = (
        "import os, socket, warnings\n"
        "def refuse(*args, **kwargs):\n"
        "    raise AssertionError('network call')\n"
        "socket.create_connection = refuse\n"
        "socket.socket.connect = refuse\n"
        "warnings.simplefilter('error')\n"
        "from mira.ops.augment_pipeline import albumentations\n"
        "albumentations()\n"
        "print(os.environ['NO_ALBUMENTATIONS_UPDATE'])\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "NO_ALBUMENTATIONS_UPDATE"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "1\n", "")
