"""The original library's `mira.core.resizing`, over `mira.ops.resize`.

`resize(x, resize_config)` returns `(batch, scales, sizes)` with the original's values and
dtypes: `scales` are the factors the method applied, (y, x) per image, and `sizes` the
(h, w) of each image inside its padding. Differences (see the README): `fit` and the
downscaling of `pad_to_multiple` pad with `cval` (the original always used 0), `sizes`
are the true content sizes (the original's `pad_to_multiple` rounded them where it
truncated the pixels), a key whose value is None counts as absent everywhere, and a key
the method does not use is an error. numpy arrays only (no torch tensors).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypedDict

import numpy as np

from mira.errors import ValidationError
from mira.ops.resize import METHODS, check_config, content_size, padded_size
from mira.ops.resize import resize as _resize

__all__ = [
    "AspectPreservingConfig",
    "FixedSizeConfig",
    "ResizeConfig",
    "SideOptions",
    "VariableSizeConfig",
    "call_resize",
    "check_resize_method",
    "compute_resize_dimensions",
    "fit",
    "fit_side",
    "resize",
]

SideOptions = Literal["longest", "shortest"]


class FixedSizeConfig(TypedDict, total=False):
    method: Literal["fit", "pad", "force"]
    width: int
    height: int
    cval: int


class VariableSizeConfig(TypedDict, total=False):
    method: Literal["pad_to_multiple"]
    base: int
    max: int | None
    cval: int


class AspectPreservingConfig(TypedDict, total=False):
    method: Literal["fit_side"]
    target: int
    side: SideOptions
    upsample: bool


ResizeConfig = FixedSizeConfig | VariableSizeConfig | AspectPreservingConfig


def check_resize_method(method: str) -> None:
    if method not in METHODS:
        raise ValidationError(f"resize config: method must be one of {METHODS}, got {method!r}")


def _factor(h: int, w: int, cfg: dict[str, Any]) -> tuple[float, float]:
    """The (y, x) factors the original reports for an h x w image."""
    method = cfg["method"]
    if method == "force":
        return cfg["height"] / h, cfg["width"] / w
    if method == "fit":
        if (w, h) == (cfg["width"], cfg["height"]):
            return 1.0, 1.0
        s = min(cfg["width"] / w, cfg["height"] / h)
        return s, s
    if method == "pad_to_multiple" and "max" in cfg and (w > cfg["max"] or h > cfg["max"]):
        s = min(cfg["max"] / h, cfg["max"] / w)
        return s, s
    if method == "fit_side" and content_size(w, h, cfg) != (w, h):
        s = cfg["target"] / (max(w, h) if cfg["side"] == "longest" else min(w, h))
        return s, s
    return 1.0, 1.0


_FLOAT32_SCALES = ("pad", "none", "pad_to_multiple")


def _scales(shapes: Sequence[tuple[int, int]], cfg: dict[str, Any]) -> np.ndarray:
    dtype = np.float32 if cfg["method"] in _FLOAT32_SCALES else np.float64
    return np.array([_factor(h, w, cfg) for h, w in shapes], dtype=dtype).reshape(-1, 2)


def resize(
    x: Sequence[np.ndarray] | np.ndarray, resize_config: Mapping[str, Any]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Resize a list of (H, W, C) arrays (or an (N, H, W, C) array) → (batch, scales, sizes).

    fit: scale into width x height keeping the aspect, pad bottom/right with cval. force:
    stretch. pad: pad only. none: pad to the largest image. pad_to_multiple: shrink what
    exceeds max, pad to a multiple of base. fit_side: scale the longest or shortest side
    to target (one image at a time).
    """
    cfg = check_config(resize_config)
    images = list(x)
    if cfg["method"] == "fit_side" and len(images) != 1:
        raise ValidationError("resize fit_side takes one image at a time")
    batch, _, sizes = _resize(images, cfg)
    shapes = [image.shape[:2] for image in images]
    if cfg["method"] == "pad_to_multiple":
        sizes = sizes.astype(np.int32)
    return batch, _scales(shapes, cfg), sizes


def compute_resize_dimensions(
    shapes: np.ndarray, resize_config: Mapping[str, Any]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What `resize` would give for images of `shapes` ((N, 2) of h, w), without pixels:
    the padded (w, h) of each, its (y, x) scales and its (h, w) content size."""
    cfg = check_config(resize_config)
    hw = [(int(h), int(w)) for h, w in np.asarray(shapes).reshape(-1, 2)]
    content = [content_size(w, h, cfg) for h, w in hw]
    target = padded_size(content, cfg)
    dims = [target if target is not None else size for size in content]
    return (
        np.array(dims, dtype=np.int64).reshape(-1, 2),
        _scales(hw, cfg),
        np.array([[h, w] for w, h in content], dtype=np.int64).reshape(-1, 2),
    )


def fit(
    image: np.ndarray,
    height: int,
    width: int,
    force: bool,
    cval: int = 0,
    interpolation: Any = None,
) -> tuple[np.ndarray, tuple[float, float], tuple[int, int]]:
    """One image scaled into height x width (stretched when `force`, else keeping the
    aspect and padded with cval) → (image, (y, x) scales, (h, w) content size)."""
    config: dict[str, Any] = {"method": "force" if force else "fit"}
    config.update(width=width, height=height)
    if not force:
        config["cval"] = cval
    batch, scales, sizes = resize([_interpolation_ok(image, interpolation)], config)
    return batch[0], _pair(scales[0]), _pair(sizes[0], int)


def fit_side(
    image: np.ndarray,
    target_length: int,
    side: SideOptions,
    upsample: bool,
    interpolation: Any = None,
) -> tuple[np.ndarray, tuple[float, float], tuple[int, int]]:
    """One image with its longest or shortest side scaled to target_length (never enlarged
    unless `upsample`) → (image, (y, x) scales, (h, w) size)."""
    config = {"method": "fit_side", "target": target_length, "side": side, "upsample": upsample}
    batch, scales, sizes = resize([_interpolation_ok(image, interpolation)], config)
    return batch[0], _pair(scales[0]), _pair(sizes[0], int)


def call_resize(
    image: np.ndarray, target_height: int, target_width: int, interpolation: Any = None
) -> np.ndarray:
    """`image` stretched to target_height x target_width (bilinear unless `interpolation`
    names another OpenCV flag)."""
    import cv2

    flag = cv2.INTER_LINEAR if interpolation is None else interpolation
    return cv2.resize(image, (target_width, target_height), interpolation=flag)


def _interpolation_ok(image: np.ndarray, interpolation: Any) -> np.ndarray:
    import cv2

    if interpolation not in (None, cv2.INTER_LINEAR):
        raise ValidationError("fit and fit_side interpolate bilinearly; use call_resize for others")
    return image


def _pair(values: np.ndarray, kind: type = float) -> tuple[Any, Any]:
    return kind(values[0]), kind(values[1])
