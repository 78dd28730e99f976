"""Augment scenes with an albumentations pipeline, annotations following the geometry.

The augmenter is called the way the original mira called it, with keyword arguments
``image``, ``bboxes`` (pascal_voc rows of the boxes), ``bbox_indices``, ``keypoints`` (xy)
and ``keypoint_indices``; the index arrays are labels the augmenter must hand back with the
rows it keeps (albumentations' ``label_fields``). mira passes the four image corners, every
polygon point and every box corner as keypoints, which gives:

* ``M``: the 3×3 transform mapping the source image corners to where they ended up (affine
  when they still form a parallelogram, perspective otherwise).
* Exact coordinates: albumentations computes in float32, and some of its transforms move
  keypoints as pixel indices (a flip maps x to ``W-1-x``) but boxes as continuous
  coordinates (``W-x``); `compose` shifts those transforms' keypoints by half a pixel so
  points and boxes agree. Every result that ``M`` explains to within a few thousandths
  of a pixel is then replaced by ``M`` applied in float64, so a flip gives ``x1' = W - x2``
  exactly for boxes and polygons alike. Results of non-projective transforms (elastic,
  grid distortion) are kept as albumentations returns them.
* Visibility for boxes and polygons alike: the share of an annotation's transformed area
  that lies inside the output image. Below ``min_visibility`` it is dropped; otherwise it
  is clipped to the image (a polygon may split into several pieces).

Scores, metadata, labels and scene metadata survive. Masks are **baked in**: the masked
image is augmented and the result has no mask regions (as in the original).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import numpy as np

from mira.errors import ValidationError
from mira.ops.augment_pipeline import (
    BBOX_LABEL,
    KEYPOINT_LABEL,
    PARTS_KEY,
    compose,
    continuous_keypoints,
    derive_seed,
    reseed,
    transform_problem,
)

_TOLERANCE = 2e-3  # pixels: how far albumentations' float32 may stray from M in float64


class Augmented(NamedTuple):
    """One augmentation: the new scene, its 3×3 matrix, and categories of dropped annotations."""

    scene: Any
    matrix: np.ndarray
    dropped: list[str]


def augment_scene(
    scene: Any,
    augmenter: Any = None,
    min_visibility: float | None = None,
    seed: int | np.random.SeedSequence | None = None,
) -> Augmented:
    """`Scene.augment` with the list of dropped categories (see module docstring).

    `min_visibility` None means the pipeline's own BboxParams.min_visibility (or 0).
    `seed` reseeds an albumentations pipeline first, for reproducible results.
    """
    if augmenter is None:
        return Augmented(scene, np.eye(3), [])
    augmenter = prepare(augmenter)
    visibility = _resolve_visibility(augmenter, min_visibility)
    if seed is not None:
        if not hasattr(augmenter, "set_random_state"):
            raise ValidationError("a seed needs an albumentations pipeline as augmenter")
        reseed(augmenter, seed)
    image = scene.image
    height, width = image.shape[:2]
    inputs = _Inputs(scene.annotations, width, height)
    # An albumentations pipeline also gets which keypoints make up which annotation, for
    # transforms that treat annotations whole (mira.core.augmentations); others ignore it.
    albumentations = type(augmenter).__module__.startswith("albumentations")
    extra = (
        {PARTS_KEY: np.array(inputs.parts, dtype=np.int64).reshape(-1, 3)} if albumentations else {}
    )
    result = augmenter(
        image=image,
        bboxes=inputs.boxes,
        bbox_indices=np.arange(len(inputs.boxes)),
        keypoints=inputs.points,
        keypoint_indices=np.arange(len(inputs.points)),
        **extra,
    )
    out = result["image"]
    if not isinstance(out, np.ndarray) or out.dtype != np.uint8 or out.ndim != 3:
        kind = getattr(out, "dtype", type(out).__name__)
        raise ValidationError(
            f"augmenter returned a {kind} image; mira needs HxWx3 uint8 "
            "(remove Normalize/ToFloat from the pipeline)"
        )
    out_h, out_w = out.shape[:2]
    points = np.full_like(inputs.points, np.nan)
    kp_rows = np.asarray(result.get("keypoints", np.zeros((0, 2))), dtype=np.float64)
    kp_index = np.asarray(result.get("keypoint_indices", []), dtype=np.int64)
    if len(np.unique(kp_index)) < len(kp_index):
        raise ValidationError(
            "augmenter returned several copies of the same keypoints (a reflecting border "
            "mirrors annotations); mira needs each point once"
        )
    if len(kp_index):
        points[kp_index] = kp_rows[:, :2]
    if not np.isfinite(points[:4]).all():
        raise ValidationError(
            "augmenter dropped the image-corner keypoints; use keypoint params with "
            "remove_invisible=False (mira.ops.augment.compose sets them)"
        )
    matrix = corner_matrix(width, height, _snap_to_integers(points[:4]))
    expected = transform_points(matrix, inputs.points)
    boxes_out: dict[int, np.ndarray] = {}
    box_rows = np.asarray(result.get("bboxes", np.zeros((0, 4))), dtype=np.float64)
    for row, index in zip(box_rows, result.get("bbox_indices", []), strict=True):
        boxes_out[inputs.box_owner[int(index)]] = row[:4]

    areas = np.zeros(len(scene.annotations))
    visible = np.zeros(len(scene.annotations))
    pieces: list[list[np.ndarray]] = [[] for _ in scene.annotations]
    quads: dict[int, np.ndarray] = {}
    for owner, start, end in inputs.parts:
        ring = _snapped(points[start:end], expected[start:end])
        kept, area, inside = _visible_pieces(ring, out_w, out_h)
        areas[owner] += area
        visible[owner] += inside
        pieces[owner].extend(kept)
        quads[owner] = expected[start:end]
    annotations, dropped = [], []
    for k, ann in enumerate(scene.annotations):
        new: list[Any] = []
        share = visible[k] / areas[k] if areas[k] > 0 else 0.0
        if share > 0 and share >= visibility:
            if not ann.is_rect:
                new = [ann.assign(points=piece) for piece in pieces[k]]
            elif k in boxes_out:
                new = _box_annotation(ann, boxes_out[k], quads[k], out_w, out_h)
        if new:
            annotations.extend(new)
        else:
            dropped.append(ann.category.name)
    augmented = scene.assign(image=out, annotations=annotations, masks=[])
    return Augmented(augmented, matrix, dropped)


def augment_collection(
    collection: Any,
    augmenter: Any,
    min_visibility: float | None = None,
    seed: int | None = None,
) -> tuple[Any, np.ndarray]:
    """`SceneCollection.augment`: every scene once; a `seed` gives scene i the seed the CLI
    uses for its first copy, so both produce the same pixels."""
    augmenter = prepare(augmenter)
    scenes, matrices = [], []
    for i, scene in enumerate(collection):
        s = None if seed is None else derive_seed(seed, i, 1)
        result = augment_scene(scene, augmenter, min_visibility=min_visibility, seed=s)
        scenes.append(result.scene)
        matrices.append(result.matrix)
    return collection.assign(scenes=scenes), np.array(matrices, dtype=np.float64).reshape(-1, 3, 3)


class _Inputs:
    """What mira feeds the augmenter: the boxes, and keypoints = the image corners, then the
    points of each annotation part (a box's 4 corners, a polygon's ring) in annotation order.

    Annotations are first clipped to the source image, so visibility measures what is left
    of the part that was visible to begin with; a polygon may give several parts.
    """

    def __init__(self, annotations: Sequence[Any], width: int, height: int) -> None:
        from mira.geometry import clip_polygon

        chunks = [np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float64)]
        self.parts: list[tuple[int, int, int]] = []  # (annotation, first point, end)
        self.box_owner: list[int] = []
        boxes = []
        start = 4
        for k, ann in enumerate(annotations):
            if ann.is_rect:
                x1, x2 = min(max(ann.x1, 0.0), width), min(max(ann.x2, 0.0), width)
                y1, y2 = min(max(ann.y1, 0.0), height), min(max(ann.y2, 0.0), height)
                if not (x2 > x1 and y2 > y1):
                    continue  # nothing of it is visible
                self.box_owner.append(k)
                boxes.append((x1, y1, x2, y2))
                rings = [np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]])]
            elif _inside(ann.points, width, height):
                rings = [np.asarray(ann.points, dtype=np.float64)]
            else:
                rings = clip_polygon(ann.points, 0.0, 0.0, float(width), float(height))
            for ring in rings:
                chunks.append(ring)
                self.parts.append((k, start, start + len(ring)))
                start += len(ring)
        self.points = np.concatenate(chunks)
        self.boxes = np.array(boxes, dtype=np.float64).reshape(-1, 4)


def _inside(ring: np.ndarray, width: float, height: float) -> bool:
    return bool(
        (ring[:, 0] >= 0).all()
        and (ring[:, 1] >= 0).all()
        and (ring[:, 0] <= width).all()
        and (ring[:, 1] <= height).all()
    )


_PREPARED: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def prepare(augmenter: Any) -> Any:
    """The augmenter itself, or, for an albumentations Compose whose box and point params are
    not mira's, an equivalent Compose that has them (made once per pipeline)."""
    if not type(augmenter).__module__.startswith("albumentations") or not hasattr(
        augmenter, "processors"
    ):
        return augmenter
    problem = transform_problem(augmenter.transforms)
    if problem is not None:
        raise ValidationError(problem)
    if _is_ready(augmenter):
        return continuous_keypoints(augmenter)
    try:
        return _PREPARED[augmenter]
    except (KeyError, TypeError):
        pass
    boxes = augmenter.processors.get("bboxes")
    options = boxes.params.to_dict_private() if boxes is not None else None
    ready = compose(augmenter.transforms, bbox_options=options, p=augmenter.p, seed=augmenter.seed)
    try:
        _PREPARED[augmenter] = ready
    except TypeError:
        pass
    return ready


def _is_ready(augmenter: Any) -> bool:
    boxes = augmenter.processors.get("bboxes")
    points = augmenter.processors.get("keypoints")
    return (
        boxes is not None
        and points is not None
        and boxes.params.format == "pascal_voc"
        and list(boxes.params.label_fields or []) == [BBOX_LABEL]
        and points.params.format == "xy"
        and list(points.params.label_fields or []) == [KEYPOINT_LABEL]
        and not points.params.remove_invisible
    )


def _resolve_visibility(augmenter: Any, min_visibility: float | None) -> float:
    if min_visibility is None:
        processors = getattr(augmenter, "processors", None) or {}
        boxes = processors.get("bboxes") if isinstance(processors, dict) else None
        return float(boxes.params.min_visibility) if boxes is not None else 0.0
    value = float(min_visibility)
    if not 0.0 <= value <= 1.0:
        raise ValidationError(f"min_visibility must be between 0 and 1, got {min_visibility}")
    return value


# --- geometry ---------------------------------------------------------------------------


def corner_matrix(width: float, height: float, corners: np.ndarray) -> np.ndarray:
    """3×3 float64 matrix mapping (0,0), (W,0), (W,H), (0,H) to `corners` (4, 2).

    Affine, built directly from the corners, when they form a parallelogram (so a flip is
    exactly ``[[-1, 0, W], [0, 1, 0], [0, 0, 1]]``); a perspective transform otherwise.
    """
    c = np.asarray(corners, dtype=np.float64)
    if _close(c[0] + c[2], c[1] + c[3]):
        ex, ey = (c[1] - c[0]) / width, (c[3] - c[0]) / height
        return np.array([[ex[0], ey[0], c[0, 0]], [ex[1], ey[1], c[0, 1]], [0.0, 0.0, 1.0]])
    source = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float64)
    rows, rhs = [], []
    for (x, y), (u, v) in zip(source, c, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs.extend([u, v])
    h = np.linalg.lstsq(np.array(rows), np.array(rhs), rcond=None)[0]
    return np.append(h, 1.0).reshape(3, 3)


def transform_points(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(K, 2) points mapped by a 3×3 matrix, in float64 (x' = a·x + b·y + c, in that order,
    so a flip computes exactly W - x)."""
    x, y = points[:, 0], points[:, 1]
    u = matrix[0, 0] * x + matrix[0, 1] * y + matrix[0, 2]
    v = matrix[1, 0] * x + matrix[1, 1] * y + matrix[1, 2]
    if matrix[2, 0] != 0 or matrix[2, 1] != 0 or matrix[2, 2] != 1:
        w = matrix[2, 0] * x + matrix[2, 1] * y + matrix[2, 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            u, v = u / w, v / w
    return np.column_stack([u, v])


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.all(np.abs(a - b) <= _TOLERANCE + 1e-6 * np.abs(b)))


def _snap_to_integers(points: np.ndarray) -> np.ndarray:
    rounded = np.round(points)
    return np.where(np.abs(points - rounded) <= _TOLERANCE, rounded, points)


def _snapped(got: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """The exact float64 points when albumentations' result is M's, else what it returned."""
    got = got[np.isfinite(got).all(axis=1)]
    if len(got) == len(expected) and np.isfinite(expected).all() and _close(got, expected):
        return expected
    return got


def _visible_pieces(
    ring: np.ndarray, width: int, height: int
) -> tuple[list[np.ndarray], float, float]:
    """Pieces of `ring` inside the image, its area, and the area of those pieces."""
    from mira.geometry import clip_polygon, polygon_area

    if len(ring) < 3:
        return [], 0.0, 0.0
    area = polygon_area(ring)
    if area <= 0:
        return [], 0.0, 0.0
    if _inside(ring, width, height):
        return [ring], area, area
    pieces = clip_polygon(ring, 0.0, 0.0, float(width), float(height))
    return pieces, area, sum(polygon_area(p) for p in pieces)


def _box_annotation(
    ann: Any, box: np.ndarray, corners: np.ndarray, width: int, height: int
) -> list[Any]:
    """The box albumentations returned, replaced by M's exact one when they agree."""
    exact = np.array(
        [
            min(max(corners[:, 0].min(), 0.0), width),
            min(max(corners[:, 1].min(), 0.0), height),
            min(max(corners[:, 0].max(), 0.0), width),
            min(max(corners[:, 1].max(), 0.0), height),
        ]
    )
    if np.isfinite(exact).all() and _close(box, exact):
        box = exact
    x1, y1, x2, y2 = (float(v) for v in box)
    if not (x2 > x1 and y2 > y1):
        return []
    return [ann.assign(x1=x1, y1=y1, x2=x2, y2=y2)]


def count_dropped(dropped: Iterable[str], into: dict[str, int]) -> None:
    """Add category names to a per-category counter dict."""
    for name in dropped:
        into[name] = into.get(name, 0) + 1
