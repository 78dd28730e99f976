"""Mask regions: polygons that hide (or, when any is visible, exclusively show) image areas.

A mask is a dict ``{"visible": bool, "name": str, "contour": (N, 2) float array}``, kept
apart from the pixels and applied whenever pixels are read, so the stored image stays intact.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypedDict

import numpy as np

from mira.errors import ValidationError


class MaskRegion(TypedDict):
    visible: bool
    name: str
    contour: np.ndarray


#: Masks are drawn by OpenCV, whose pixel coordinates are 32-bit integers.
_LIMIT = 2**31 - 1


def check_mask(mask: Mapping[str, Any], where: str = "mask") -> MaskRegion:
    """Validate a mask dict and normalise its contour to a read-only float64 (N, 2) array."""
    if not isinstance(mask, Mapping) or "contour" not in mask:
        raise ValidationError(f"{where}: a mask must be a dict with 'visible', 'name', 'contour'")
    try:
        contour = np.array(mask["contour"], dtype=np.float64).reshape(-1, 2)
    except (TypeError, ValueError):
        raise ValidationError(f"{where}: contour must be (N, 2) numbers") from None
    if len(contour) < 3 or not np.isfinite(contour).all():
        raise ValidationError(f"{where}: contour needs at least 3 finite points")
    if np.abs(contour).max() > _LIMIT:
        raise ValidationError(f"{where}: contour points must lie within ±2**31 (OpenCV's pixels)")
    contour.setflags(write=False)
    return MaskRegion(
        visible=bool(mask.get("visible", False)), name=str(mask.get("name", "")), contour=contour
    )


def _fill(shape: tuple[int, int], contours: Iterable[np.ndarray]) -> np.ndarray:
    import cv2

    canvas = np.zeros(shape, dtype=np.uint8)
    polygons = [np.round(c).astype(np.int32) for c in contours]
    if polygons:
        cv2.fillPoly(canvas, polygons, 1)
    return canvas.astype(bool)


def apply_masks(image: np.ndarray, masks: Iterable[MaskRegion]) -> np.ndarray:
    """Return a copy of `image` with hidden pixels set to 0 (hidden wins over visible)."""
    masks = list(masks)
    if not masks:
        return image
    shape = image.shape[:2]
    visible = [m["contour"] for m in masks if m["visible"]]
    hidden = _fill(shape, (m["contour"] for m in masks if not m["visible"]))
    if visible:
        hidden |= ~_fill(shape, visible)
    out = image.copy()
    out[hidden] = 0
    return out
