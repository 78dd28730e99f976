"""Resizing images and scenes with a ResizeConfig (the reference's six methods).

Fixes over the reference: `fit` and the downscale path of `pad_to_multiple` pad with
`cval`; the returned scales are the exact ratios between output and input pixels per
axis, and a scene's boxes, polygons and masks are all scaled by them as floats.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np

from mira.errors import ValidationError

if TYPE_CHECKING:
    from mira.core import Scene

METHODS = ("fit", "pad", "force", "none", "pad_to_multiple", "fit_side")


class ResizeConfig(TypedDict, total=False):
    """Which keys each method reads (others are refused):

    fit, force: width, height (cval for fit) · pad: width, height, cval · none: cval ·
    pad_to_multiple: base, max (a multiple of base), cval ·
    fit_side: target, side ("longest" | "shortest"), upsample (bool).
    `cval` is the padding colour: one value 0-255 or three (R, G, B); default 0.
    """

    method: str
    width: int
    height: int
    cval: int | Sequence[int]
    base: int
    max: int
    target: int
    side: str
    upsample: bool


_KEYS = {
    "fit": ({"width", "height"}, {"cval"}),
    "force": ({"width", "height"}, set()),
    "pad": ({"width", "height"}, {"cval"}),
    "none": (set(), {"cval"}),
    "pad_to_multiple": ({"base"}, {"max", "cval"}),
    "fit_side": ({"target", "side", "upsample"}, set()),
}


def _positive_int(config: Mapping[str, Any], key: str) -> int:
    value = config[key]
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValidationError(f"resize config: {key} must be a positive integer, got {value!r}")
    return int(value)


def _cval(config: Mapping[str, Any]) -> np.ndarray:
    value = config.get("cval", 0)
    array = np.array(value).reshape(-1)
    ok = array.dtype.kind in "iuf" and len(array) in (1, 3)
    if not ok or not np.all((array >= 0) & (array <= 255) & (array == np.round(array))):
        raise ValidationError(
            f"resize config: cval must be one value or three values in 0-255, got {value!r}"
        )
    return np.broadcast_to(array.astype(np.uint8), (3,))


def check_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a ResizeConfig: known method, required keys present, no stray keys."""
    if not isinstance(config, Mapping) or "method" not in config:
        raise ValidationError("resize config must be a dict with a 'method'")
    config = {k: v for k, v in config.items() if v is not None}  # None means "not given"
    method = config["method"]
    if method not in METHODS:
        raise ValidationError(f"resize config: method must be one of {METHODS}, got {method!r}")
    required, optional = _KEYS[method]
    given = set(config) - {"method"}
    missing, stray = required - given, given - required - optional
    if missing:
        raise ValidationError(f"resize config: method {method!r} needs {sorted(missing)}")
    if stray:
        raise ValidationError(f"resize config: method {method!r} does not use {sorted(stray)}")
    out: dict[str, Any] = {"method": method}
    for key in ("width", "height", "base", "max", "target"):
        if key in config:
            out[key] = _positive_int(config, key)
    if method in ("fit", "pad", "none", "pad_to_multiple"):
        out["cval"] = _cval(config)
    if "max" in out and out["max"] % out["base"]:
        raise ValidationError(
            f"resize config: max ({out['max']}) must be a multiple of base ({out['base']})"
        )
    if method == "fit_side":
        if config["side"] not in ("longest", "shortest"):
            raise ValidationError(
                f"resize config: side must be 'longest' or 'shortest', got {config['side']!r}"
            )
        if not isinstance(config["upsample"], bool):
            raise ValidationError(
                f"resize config: upsample must be true or false, got {config['upsample']!r}"
            )
        out["side"], out["upsample"] = config["side"], config["upsample"]
    return out


def _scale(image: np.ndarray, width: int, height: int) -> np.ndarray:
    import cv2

    if image.shape[1] == width and image.shape[0] == height:
        return image
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)


def _pad(image: np.ndarray, width: int, height: int, cval: np.ndarray) -> np.ndarray:
    """Pad at the bottom and right to width x height."""
    h, w = image.shape[:2]
    if (h, w) == (height, width):
        return image
    out = np.empty((height, width, 3), dtype=np.uint8)
    out[...] = cval
    out[:h, :w] = image
    return out


def _fit_size(w: int, h: int, width: int, height: int) -> tuple[int, int]:
    """Largest size with w:h's aspect (rounded down, exactly) inside width x height."""
    if width * h <= height * w:  # width is the limit
        return width, max(1, h * width // w)
    return max(1, w * height // h), height


def _round(value: float) -> int:
    return max(1, math.floor(value + 0.5))


def content_size(w: int, h: int, cfg: dict[str, Any]) -> tuple[int, int]:
    """The size (w, h) a w x h image is scaled to by a checked config, before any padding."""
    method = cfg["method"]
    if method == "fit":
        return _fit_size(w, h, cfg["width"], cfg["height"])
    if method == "force":
        return cfg["width"], cfg["height"]
    if method == "pad" and (w > cfg["width"] or h > cfg["height"]):
        raise ValidationError(
            f"resize pad: image {w}x{h} is larger than the target "
            f"{cfg['width']}x{cfg['height']}; use 'fit' to shrink it"
        )
    if method == "pad_to_multiple" and "max" in cfg and (w > cfg["max"] or h > cfg["max"]):
        return _fit_size(w, h, cfg["max"], cfg["max"])
    if method == "fit_side":
        reference = max(w, h) if cfg["side"] == "longest" else min(w, h)
        s = cfg["target"] / reference
        if s == 1 or (s > 1 and not cfg["upsample"]):
            return w, h
        if reference == w:
            return cfg["target"], _round(s * h)
        return _round(s * w), cfg["target"]
    return w, h  # pad, none and pad_to_multiple: padded below


def padded_size(sizes: Sequence[tuple[int, int]], cfg: dict[str, Any]) -> tuple[int, int] | None:
    """The (w, h) every content of the batch is padded to, or None when not padded."""
    method = cfg["method"]
    if method in ("fit", "pad"):
        return cfg["width"], cfg["height"]
    if method in ("none", "pad_to_multiple"):
        width, height = max(w for w, _ in sizes), max(h for _, h in sizes)
        if method == "pad_to_multiple":
            base = cfg["base"]
            width, height = (max(base, math.ceil(v / base) * base) for v in (width, height))
        return width, height
    return None


def resize(
    images: Sequence[np.ndarray], resize_config: Mapping[str, Any]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Resize a batch of RGB images → `(batch, scales, sizes)`, as in the reference.

    `batch` is (N, H, W, 3) uint8; `scales` (N, 2) float64 in (y, x) order, the ratio of
    content pixels to input pixels; `sizes` (N, 2) int64 (h, w) of the content (the image
    inside any padding, which is always at the bottom and right). Bilinear interpolation.
    """
    cfg = check_config(resize_config)
    if len(images) == 0:
        raise ValidationError("resize needs at least one image")
    content = [content_size(image.shape[1], image.shape[0], cfg) for image in images]
    sizes = np.array([[h, w] for w, h in content], dtype=np.int64)
    raw = np.array([image.shape[:2] for image in images], dtype=np.float64)
    scales = sizes / raw
    pixels = [_scale(image, w, h) for image, (w, h) in zip(images, content, strict=True)]
    target = padded_size(content, cfg)
    if target is not None:
        pixels = [_pad(p, *target, cfg["cval"]) for p in pixels]
    shapes = {p.shape for p in pixels}
    if len(shapes) > 1:
        raise ValidationError(
            f"resize {cfg['method']}: images of different sizes give outputs of different "
            "sizes that cannot form one batch; resize them one at a time"
        )
    return np.stack(pixels), scales, sizes


def resize_scene(scene: Scene, resize_config: Mapping[str, Any]) -> Scene:
    """`Scene.resize`: pixels resized; boxes, polygons and mask contours scaled by the
    same per-axis factors (as floats); labels and metadata kept."""
    from mira.core.encoding import Encoding

    pixels = scene.image_source.decode(keep=scene.cache)
    batch, scales, _ = resize([pixels], resize_config)
    if batch.shape[1:] == pixels.shape and np.all(scales == 1):
        return scene  # nothing changed: keep the encoded bytes as they are
    sy, sx = (float(v) for v in scales[0])
    factor = np.array([sx, sy])
    annotations = [
        a.assign(x1=a.x1 * sx, y1=a.y1 * sy, x2=a.x2 * sx, y2=a.y2 * sy)
        if a.is_rect
        else a.assign(points=a.points * factor)
        for a in scene.annotations
    ]
    masks = [{**m, "contour": m["contour"] * factor} for m in scene.masks]
    image = Encoding().for_source(scene.image_source).image(batch[0])
    return scene.assign(image=image, annotations=annotations, masks=masks)
