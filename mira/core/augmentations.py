"""The original's `mira.core.augmentations` for albumentations 2.0: `compose` and two
transforms that treat annotations whole.

* `RandomCropBBoxSafe(width, height)` crops at most width x height without splitting
  any annotation (boxes and polygons), choosing among `find_acceptable_crops`.
* `CoarseDropout(max_holes, max_height, max_width, ...)` cuts random holes; a hole that
  touches an annotation grows to cover it (and whatever that then touches), and the
  annotations covered are removed, so none is left half hidden.

Inside `Scene.augment` they see every annotation part through the keypoints mira passes
(see `mira.ops.augment_pipeline.PARTS_KEY`); in another albumentations pipeline they see
its boxes only. Randomness comes from the pipeline's own generators, so a seeded pipeline
gives the same result every time. Importing this module imports albumentations.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, TypedDict

import numpy as np

from mira import geometry
from mira.core import experimental
from mira.errors import ValidationError
from mira.ops.augment_pipeline import PARTS_KEY, albumentations
from mira.ops.augment_pipeline import compose as _compose

A = albumentations()

from albumentations.augmentations.crops.transforms import BaseCrop  # noqa: E402

__all__ = [
    "A",
    "CoarseDropout",
    "CoarseDropoutExpansion",
    "RandomCropBBoxSafe",
    "compose",
    "expand_dropout",
    "wiggle_crop",
]

LOGGER = logging.getLogger(__name__)


def compose(transforms: Sequence[Any]) -> Any:
    """An `A.Compose` of `transforms` set up for `Scene.augment` (mira's box and keypoint
    parameters)."""
    return _compose(transforms)


def _parts(data: dict[str, Any]) -> list[tuple[int, np.ndarray]]:
    """(annotation, (K, 2) current ring) for each annotation part, skipping parts already
    removed (their points are NaN); [] outside `Scene.augment`."""
    table = data.get(PARTS_KEY)
    keypoints = data.get("keypoints")
    if table is None or keypoints is None:
        return []
    points = np.asarray(keypoints, dtype=np.float64)[:, :2]
    rings = [(int(k), points[start:end]) for k, start, end in np.asarray(table).reshape(-1, 3)]
    return [(k, ring) for k, ring in rings if len(ring) and np.isfinite(ring).all()]


def _current_boxes(params: dict[str, Any], data: dict[str, Any]) -> np.ndarray:
    """(N, 4) pixel bounds of every annotation part (in `Scene.augment`) or box (elsewhere)."""
    parts = _parts(data)
    if parts:
        return np.array([[*r.min(axis=0), *r.max(axis=0)] for _, r in parts]).reshape(-1, 4)
    rows = np.asarray(data.get("bboxes", []), dtype=np.float64)
    boxes = rows.reshape(len(rows), -1)[:, :4] if rows.size else np.zeros((0, 4))
    height, width = params["shape"][:2]
    return boxes * np.array([width, height, width, height])  # albumentations' are fractions


def _grown(boxes: np.ndarray) -> np.ndarray:
    """Boxes widened to whole pixels (floor the top left, ceil the bottom right)."""
    return np.column_stack([np.floor(boxes[:, :2]), np.ceil(boxes[:, 2:])]).astype(np.int64)


def wiggle_crop(
    crop: np.ndarray,
    include: np.ndarray,
    exclude: np.ndarray,
    img_w: int,
    img_h: int,
    width: int,
    height: int,
    random_state: Any = None,
) -> np.ndarray:
    """`crop` moved by a random amount right and down, then left and up, as far as it can
    go while it still holds `include` wholly and touches no `exclude` box."""
    rng = np.random.default_rng(random_state)
    crop = np.asarray(crop, dtype=np.int64)
    include, exclude = include.reshape(-1, 4), exclude.reshape(-1, 4)
    dx, dy, found = experimental.search(
        crop[0], crop[1], exclude, include, img_h - crop[1], img_w - crop[0]
    )
    if not found:
        raise ValidationError(f"wiggle_crop: crop {crop.tolist()} is not a safe crop")
    room = np.array([dx - width, dy - height]).clip(0)
    if len(include):
        room = np.minimum(room, include[:, :2].min(axis=0) - crop[:2])
    crop = crop + np.tile((rng.uniform(size=2) * room).round().astype(np.int64), 2)
    turned = np.array([img_w, img_h, img_w, img_h])
    dx, dy, found = experimental.search(
        img_w - crop[2],
        img_h - crop[3],
        turned - exclude[:, [2, 3, 0, 1]],
        turned - include[:, [2, 3, 0, 1]],
        crop[3],
        crop[2],
    )
    if not found:
        LOGGER.warning("wiggle_crop: no room to move crop %s back", crop.tolist())
        return crop
    room = np.array([dx - width, dy - height]).clip(0)
    if len(include):
        room = np.minimum(room, crop[2:] - include[:, 2:].max(axis=0))
    return crop - np.tile((rng.uniform(size=2) * room).round().astype(np.int64), 2)


class RandomCropBBoxSafe(BaseCrop):
    """Crop at most width x height without splitting an annotation.

    Args:
        width, height: the largest crop.
        prob_box: the probability of choosing among the crops that hold an annotation.
        min_size: crops must be wider and taller than this.
        wiggle: move the chosen crop randomly within the room it has.
        cache: a dict-like to keep `find_acceptable_crops` results in.
        always_apply: the original's flag; True means p=1.
    """

    def __init__(
        self,
        width: int,
        height: int,
        always_apply: bool | None = None,
        p: float = 1.0,
        prob_box: float = 0.0,
        min_size: int = 1,
        wiggle: bool = False,
        cache: Any = None,
    ) -> None:
        super().__init__(p=1.0 if always_apply else p)
        self.width, self.height = width, height
        self.prob_box, self.min_size, self.wiggle, self.cache = prob_box, min_size, wiggle, cache

    @property
    def targets_as_params(self) -> list[str]:
        return ["image"]

    def get_params_dependent_on_data(
        self, params: dict[str, Any], data: dict[str, Any]
    ) -> dict[str, Any]:
        img_h, img_w = params["shape"][:2]
        boxes = _grown(_current_boxes(params, data))
        crops = experimental.find_acceptable_crops(
            boxes, img_w, img_h, max_width=self.width, max_height=self.height, cache=self.cache
        )
        crops = crops[(crops[:, 2:] - crops[:, :2]).min(axis=1) > self.min_size]
        if len(crops) == 0:
            raise ValidationError(
                f"RandomCropBBoxSafe: no crop of at most {self.width}x{self.height} larger "
                f"than {self.min_size} px avoids splitting an annotation of this "
                f"{img_w}x{img_h} image"
            )
        coverage = geometry.box_coverage(boxes, crops)
        if len(boxes) and self.py_random.random() < self.prob_box:
            holding = coverage.max(axis=0) > 0
            if holding.any():
                crops, coverage = crops[holding], coverage[:, holding]
        index = round(self.py_random.random() * (len(crops) - 1))
        crop = crops[index]
        if self.wiggle:
            crop = wiggle_crop(
                crop,
                boxes[coverage[:, index] == 1],
                boxes[coverage[:, index] == 0],
                img_w,
                img_h,
                self.width,
                self.height,
                random_state=self.random_generator,
            )
        return {"crop_coords": tuple(int(v) for v in crop)}

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("width", "height", "prob_box", "min_size", "wiggle")


class CoarseDropoutExpansion(TypedDict):
    holes: list[np.ndarray]  # boxes x1, y1, x2, y2 to fill
    holes_cnt: list[np.ndarray]  # rings to fill
    holes_ids: set[int]  # the annotations covered


def expand_dropout(
    holes_bbox: Sequence[Any],
    bboxes_and_ids: Sequence[tuple[int, np.ndarray]],
    contours_and_ids: Sequence[tuple[int, np.ndarray]],
) -> CoarseDropoutExpansion:
    """Holes (x1, y1, x2, y2) grown over the boxes and contours (each with its annotation
    id) they touch, and over what those then touch, until nothing more is touched."""
    holes = [np.asarray(h) for h in holes_bbox]
    shapes = [(k, geometry.box_to_polygon(b), True) for k, b in bboxes_and_ids]
    shapes += [(k, np.asarray(c, dtype=np.float64), False) for k, c in contours_and_ids]
    rings = [ring for _, ring, _ in shapes]
    covered: set[int] = set()
    holes_cnt: list[np.ndarray] = []
    while holes + holes_cnt and rings:
        regions = [geometry.box_to_polygon(h) for h in holes] + holes_cnt
        touching = geometry.shape_intersections(rings, regions).max(axis=1) > 0
        new = {shapes[i][0] for i in np.flatnonzero(touching)} - covered
        if not new:
            break
        covered |= new
        for k, ring, is_box in shapes:
            if k in new:
                if is_box:
                    holes.append(np.concatenate([ring.min(axis=0), ring.max(axis=0)]))
                else:
                    holes_cnt.append(ring)
    return {"holes": holes, "holes_cnt": holes_cnt, "holes_ids": covered}


class CoarseDropout(A.CoarseDropout):
    """albumentations' CoarseDropout that keeps annotations whole: a hole touching an
    annotation covers all of it and the annotation is removed.

    Takes the original's arguments (max_holes, max_height, max_width, min_holes,
    min_height, min_width, fill_value, mask_fill_value, always_apply, p); sizes below 1
    are fractions of the image side.
    """

    def __init__(
        self,
        max_holes: int = 8,
        max_height: float = 8,
        max_width: float = 8,
        min_holes: int | None = None,
        min_height: float | None = None,
        min_width: float | None = None,
        fill_value: Any = 0,
        mask_fill_value: Any = None,
        always_apply: bool | None = None,
        p: float = 0.5,
    ) -> None:
        super().__init__(
            num_holes_range=(min_holes or max_holes, max_holes),
            hole_height_range=(min_height or max_height, max_height),
            hole_width_range=(min_width or max_width, max_width),
            fill=fill_value,
            fill_mask=mask_fill_value,
            p=1.0 if always_apply else p,
        )
        self.max_holes, self.min_holes = max_holes, min_holes
        self.max_height, self.min_height = max_height, min_height
        self.max_width, self.min_width = max_width, min_width
        self.fill_value, self.mask_fill_value = fill_value, mask_fill_value

    @property
    def targets_as_params(self) -> list[str]:
        return ["image"]

    def get_params_dependent_on_data(
        self, params: dict[str, Any], data: dict[str, Any]
    ) -> dict[str, Any]:
        chosen = super().get_params_dependent_on_data(params, data)
        parts = _parts(data)
        boxes = [] if parts else list(enumerate(_current_boxes(params, data)))  # not in mira
        expansion = expand_dropout(list(chosen["holes"]), boxes, parts)
        regions = [geometry.box_to_polygon(h) for h in expansion["holes"]]
        return {
            **chosen,
            "regions": regions + expansion["holes_cnt"],
            "covered": expansion["holes_ids"],
            "parts": data.get(PARTS_KEY),
        }

    def apply(self, img: np.ndarray, regions: list[np.ndarray], **params: Any) -> np.ndarray:
        from mira.ops.render import fill_polygon

        out = img.copy()
        for ring in regions:
            fill_polygon(out, ring, self.fill_value)
        return out

    def apply_to_mask(self, mask: np.ndarray, regions: list[np.ndarray], **params: Any) -> Any:
        if self.mask_fill_value is None:
            return mask
        from mira.ops.render import fill_polygon

        out = mask.copy()
        for ring in regions:
            fill_polygon(out, ring, self.mask_fill_value)
        return out

    def apply_to_keypoints(
        self, keypoints: np.ndarray, covered: set[int], parts: Any, **params: Any
    ) -> Any:
        """The covered annotations' points become NaN, which removes them in Scene.augment."""
        if parts is None or not covered:
            return keypoints
        out = np.array(keypoints, dtype=np.float64, copy=True)
        for k, start, end in np.asarray(parts).reshape(-1, 3):
            if int(k) in covered:
                out[start:end, :2] = np.nan
        return out

    def apply_to_bboxes(
        self, bboxes: np.ndarray, covered: set[int], parts: Any, **params: Any
    ) -> Any:
        if parts is not None or not covered:
            return bboxes  # in Scene.augment the keypoints say it
        keep = [i for i in range(len(bboxes)) if i not in covered]
        return np.asarray(bboxes)[keep]

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return (
            "max_holes", "max_height", "max_width", "min_holes", "min_height", "min_width",
            "fill_value", "mask_fill_value",
        )  # fmt: skip
