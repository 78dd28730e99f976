"""Cropping a scene: pixels, annotations (clipped, every polygon piece kept) and masks
(moved into the new frame). Shared by `Scene.crop`, sub-crops and grid tiles."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from mira import geometry
from mira.core.encoding import Encoding
from mira.errors import ValidationError

if TYPE_CHECKING:
    from mira.core import Annotation, Scene

Window = tuple[int, int, int, int]


def check_window(window: Sequence[Any], width: int, height: int) -> Window:
    """Integer x1, y1, x2, y2 with 0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height."""
    values = []
    for v in window:
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or int(v) != v:
            raise ValidationError(f"crop coordinates must be whole pixels, got {tuple(window)}")
        values.append(int(v))
    x1, y1, x2, y2 = values
    if not (x1 < x2 and y1 < y2):
        raise ValidationError(f"crop ({x1}, {y1}, {x2}, {y2}) is empty: need x1 < x2 and y1 < y2")
    if x1 < 0 or y1 < 0 or x2 > width or y2 > height:
        raise ValidationError(
            f"crop ({x1}, {y1}, {x2}, {y2}) is outside the {width}x{height} image"
        )
    return x1, y1, x2, y2


def _inside(a: Annotation, x1: float, y1: float, x2: float, y2: float) -> bool:
    return a.x1 >= x1 and a.y1 >= y1 and a.x2 <= x2 and a.y2 <= y2


def shift(a: Annotation, dx: float, dy: float) -> Annotation:
    """The annotation moved by (dx, dy)."""
    if a.is_rect:
        return a.assign(x1=a.x1 + dx, y1=a.y1 + dy, x2=a.x2 + dx, y2=a.y2 + dy)
    return a.assign(points=a.points + np.array([dx, dy]))


def clip_annotation(a: Annotation, window: Window) -> tuple[list[Annotation], float]:
    """The pieces of `a` inside `window`, in the window's frame, and the visible share of
    its area (1.0 when it lies wholly inside; a zero-area annotation is either wholly
    inside, share 1.0, or left out, share 0.0)."""
    x1, y1, x2, y2 = window
    if _inside(a, x1, y1, x2, y2):
        return [shift(a, -x1, -y1)], 1.0
    if a.is_rect:
        box = geometry.clip_boxes([[a.x1, a.y1, a.x2, a.y2]], x1, y1, x2, y2)[0]
        area, visible = a.area(), float(geometry.box_areas(box[None])[0])
        if visible <= 0:
            return [], 0.0
        clipped = a.assign(x1=box[0] - x1, y1=box[1] - y1, x2=box[2] - x1, y2=box[3] - y1)
        return [clipped], visible / area
    if a.x2 <= x1 or a.x1 >= x2 or a.y2 <= y1 or a.y1 >= y2:
        return [], 0.0
    area = geometry.polygon_area(a.points)
    if area <= 0:
        return [], 0.0
    pieces = geometry.clip_polygon(a.points, x1, y1, x2, y2)
    visible = sum(geometry.polygon_area(p) for p in pieces)
    offset = np.array([x1, y1], dtype=np.float64)
    return [a.assign(points=p - offset) for p in pieces], min(1.0, visible / area)


def crop_annotations(
    annotations: Sequence[Annotation], window: Window, min_visibility: float = 0.0
) -> tuple[list[Annotation], int]:
    """Annotations clipped to `window` (window frame, original order, pieces in place),
    and how many that reached into the window were dropped for showing less than
    `min_visibility` of their area."""
    kept: list[Annotation] = []
    dropped = 0
    for a in annotations:
        pieces, share = clip_annotation(a, window)
        if not pieces:
            continue
        if share < min_visibility:
            dropped += 1
            continue
        kept.extend(pieces)
    return kept, dropped


def shift_masks(masks: Sequence[dict[str, Any]], dx: float, dy: float) -> list[dict[str, Any]]:
    """Masks moved by (dx, dy); all are kept, since a visible mask outside still hides."""
    offset = np.array([dx, dy], dtype=np.float64)
    return [{**m, "contour": m["contour"] + offset} for m in masks]


def crop_pixels(
    scene: Scene,
    pixels: np.ndarray,
    window: Window,
    min_visibility: float = 0.0,
    metadata: dict[str, Any] | None = None,
    encoding: Encoding | None = None,
    key: str | None = None,
) -> tuple[Scene, int]:
    """A crop of `scene` whose unmasked pixels are already decoded (`pixels`); returns the
    new scene (keyed `key`, its image to be encoded by `encoding`, already resolved for the
    scene's image: default `keep`'s) and the visibility drop count."""
    x1, y1, x2, y2 = window
    annotations, dropped = crop_annotations(scene.annotations, window, min_visibility)
    if encoding is None:
        encoding = Encoding().for_source(scene.image_source)
    name = f"{scene.image_source.name} at ({x1}, {y1})"
    image = encoding.image(pixels[y1:y2, x1:x2], name=name)
    new = scene.assign(
        image=image,
        annotations=annotations,
        masks=shift_masks(scene.masks, -x1, -y1),
        metadata=scene.metadata if metadata is None else metadata,
        key=key,
    )
    return new, dropped


def crop(scene: Scene, x1: int, y1: int, x2: int, y2: int) -> Scene:
    """`Scene.crop`: pixels [x1, x2) x [y1, y2) (whole pixels, inside the image), the
    annotations clipped to them and the masks moved into the new frame."""
    pixels = scene.image_source.decode(keep=scene.cache)
    window = check_window((x1, y1, x2, y2), pixels.shape[1], pixels.shape[0])
    return crop_pixels(scene, pixels, window)[0]
