"""The original library's `mira.core.utils`: the helpers user code imports, as thin wrappers
over `mira.geometry`, `mira.ops.split` and the image codecs.

Where the original gave NaN for shapes without area (IoU, coverage) these give 0, splits
are exact (`mira.ops.split`), coordinates are floats, and errors are `MiraError`s naming
the file or value. The README's "Moving from the original mira" lists every difference.
"""

from __future__ import annotations

import itertools
import json
import os
import tempfile
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from typing import Any, BinaryIO, Literal, Protocol, TypedDict, TypeVar

import numpy as np

from mira import geometry
from mira.core.image import Dimensions
from mira.core.masks import MaskRegion, apply_masks, check_mask
from mira.errors import ImageError, ValidationError

__all__ = [
    "AugmentedResult",
    "AugmenterProtocol",
    "ContourList",
    "DeduplicationMethod",
    "Dimensions",
    "MaskRegion",
    "apply_mask",
    "box2pts",
    "DEFAULT_MAX_CONTOUR_MASK_SIZE",
    "compute_contour_binary_masks",
    "compute_contour_coverage",
    "compute_contour_iou",
    "compute_coverage",
    "compute_coverage_for_contour_pair",
    "compute_filtered_pairwise_contour_operation",
    "compute_iou",
    "compute_iou_for_contour_pair",
    "contour_to_box",
    "contours_to_boxes",
    "crop_polygon",
    "find_largest_unique_boxes",
    "find_largest_unique_contours",
    "flatten",
    "get_blank_image",
    "groupby_unsorted",
    "has_overlap",
    "image2bytes",
    "imshow",
    "load_json",
    "read",
    "save",
    "split",
    "split_apply_combine",
    "transform_bboxes",
    "transform_contour",
]

ContourList = list[np.ndarray]
DEFAULT_MAX_CONTOUR_MASK_SIZE = 100
DeduplicationMethod = Literal["iou", "coverage"]
T = TypeVar("T")
U = TypeVar("U")

#: How long `read` waits for an image URL (the original's value).
URL_TIMEOUT = 10


class AugmentedResult(TypedDict):
    image: np.ndarray
    bboxes: Any
    keypoints: Any
    bbox_indices: Any
    keypoint_indices: Any


class AugmenterProtocol(Protocol):
    """What `Scene.augment` calls: keyword arguments image, bboxes (pascal_voc rows),
    keypoints (xy rows), bbox_indices and keypoint_indices (labels handed back with the
    rows kept); it returns the same keys."""

    def __call__(
        self,
        image: np.ndarray,
        bboxes: Any,
        keypoints: Any,
        bbox_indices: Any,
        keypoint_indices: Any,
    ) -> AugmentedResult: ...


# ------------------------------------------------------------------ images
def read(filepath_or_buffer: str | os.PathLike[str] | BinaryIO | np.ndarray) -> np.ndarray:
    """An image as an RGB uint8 array (grey files give three equal channels): from a path,
    an http(s) URL, anything with `read()` (such as `io.BytesIO`), or an array (returned
    as it is)."""
    from mira.core.image import decode_image

    if isinstance(filepath_or_buffer, np.ndarray):
        return filepath_or_buffer
    if hasattr(filepath_or_buffer, "read"):
        name = getattr(filepath_or_buffer, "name", "buffer")
        return decode_image(filepath_or_buffer.read(), str(name)).copy()  # type: ignore[union-attr]
    path = os.fspath(filepath_or_buffer)  # type: ignore[arg-type]
    if path.lower().startswith(("http://", "https://")):
        return decode_image(_fetch(path), path).copy()
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise ImageError(f"{path}: image file not found") from None
    except OSError as exc:
        raise ImageError(f"{path}: cannot read image: {exc.strerror or exc}") from None
    return decode_image(data, path).copy()


def _fetch(url: str) -> bytes:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=URL_TIMEOUT) as response:
            return response.read()
    except urllib.error.HTTPError as exc:
        raise ImageError(f"{url}: cannot download image: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise ImageError(f"{url}: cannot download image: {reason}") from None


def get_blank_image(width: int, height: int, n_channels: int, cval: int = 255) -> np.ndarray:
    """A uint8 image filled with `cval`: (height, width, n_channels), or (height, width)
    when n_channels is 0."""
    shape = (height, width) if n_channels == 0 else (height, width, n_channels)
    return np.full(shape, cval, dtype=np.uint8)


def image2bytes(image: np.ndarray, extension: str = ".png") -> bytes:
    """An RGB(A) or grey image encoded by OpenCV in the format of `extension`."""
    import cv2

    array = np.asarray(image)
    if array.ndim == 3 and array.shape[2] in (3, 4):
        code = cv2.COLOR_RGB2BGR if array.shape[2] == 3 else cv2.COLOR_RGBA2BGRA
        array = cv2.cvtColor(array, code)
    try:
        ok, buffer = cv2.imencode(extension, array)
    except cv2.error:
        ok = False
    if not ok:
        raise ImageError(f"cannot encode a {array.shape} {array.dtype} image as {extension!r}")
    return buffer.tobytes()


def save(
    image: np.ndarray,
    filepath_or_buffer: str | os.PathLike[str] | BinaryIO,
    extension: str = ".png",
) -> None:
    """Write `image` (RGB) to a file, atomically, or to anything with `write()`. A file is
    encoded in the format its name says; `extension` is for buffers."""
    if hasattr(filepath_or_buffer, "write"):
        filepath_or_buffer.write(image2bytes(image, extension))  # type: ignore[union-attr]
        return
    path = os.fspath(filepath_or_buffer)  # type: ignore[arg-type]
    data = image2bytes(image, os.path.splitext(path)[1] or extension)
    fd, temp = tempfile.mkstemp(prefix=".mira-", dir=os.path.dirname(path) or ".")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def imshow(image: np.ndarray, ax: Any = None) -> Any:
    """Show an image with matplotlib (the optional `plot` extra) on `ax` or the current axes."""
    from mira.ops.render import pyplot

    array = np.asarray(image)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    elif array.ndim != 2 and not (array.ndim == 3 and array.shape[2] >= 3):
        raise ValidationError(f"cannot show an image of shape {array.shape}")
    return (ax if ax is not None else pyplot()).imshow(array)


def apply_mask(image: np.ndarray, masks: Sequence[Any]) -> None:
    """Set the pixels `masks` hide to 0, in place (hidden wins over visible)."""
    if masks:
        image[...] = apply_masks(image, [check_mask(m) for m in masks])


def load_json(filepath: str | os.PathLike[str]) -> Any:
    with open(filepath, encoding="utf8") as f:
        return json.load(f)


# ------------------------------------------------------------------ boxes and contours
def box2pts(x1: float, y1: float, x2: float, y2: float) -> np.ndarray:
    """(4, 2) corners TL, TR, BR, BL of a box."""
    return np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]])


def compute_iou(boxesA: np.ndarray, boxesB: np.ndarray) -> np.ndarray:
    """(NA, NB) IoU of x1, y1, x2, y2 boxes; 0 where the union has no area."""
    return geometry.box_iou(boxesA, boxesB)


def compute_coverage(boxesA: np.ndarray, boxesB: np.ndarray) -> np.ndarray:
    """(NA, NB) share of the area of boxesA[i] inside boxesB[j]; 0 for a box without area."""
    return geometry.box_coverage(boxesA, boxesB)


def has_overlap(boxesA: np.ndarray, boxesB: np.ndarray) -> np.ndarray:
    """(NA, NB) bool: the pair overlaps with positive width and height."""
    return geometry.boxes_overlap(boxesA, boxesB)


def compute_iou_for_contour_pair(contour1: np.ndarray, contour2: np.ndarray) -> float:
    """Exact IoU of two polygons (self-intersections repaired)."""
    return geometry.polygon_iou(contour1, contour2)


def compute_coverage_for_contour_pair(
    contour1: np.ndarray, contour2: np.ndarray, max_size: int = 100
) -> float:
    """Exact share of the area of contour1 inside contour2 (`max_size` is unused, as in the
    original since it moved to exact geometry)."""
    return geometry.polygon_coverage(contour1, contour2)


def compute_contour_iou(contoursA: ContourList, contoursB: ContourList) -> np.ndarray:
    """(NA, NB) exact IoU of two lists of polygons."""
    return geometry.shape_iou(contoursA, contoursB)


def compute_contour_coverage(
    contoursA: ContourList, contoursB: ContourList, max_size: int = 100
) -> np.ndarray:
    """(NA, NB) exact share of the area of contoursA[i] inside contoursB[j]."""
    return geometry.shape_coverage(contoursA, contoursB)


def contour_to_box(contour: np.ndarray) -> np.ndarray:
    """x1, y1, x2, y2 bounds of a (K, 2) contour."""
    points = np.asarray(contour)
    return np.concatenate([points.min(axis=0), points.max(axis=0)])


def contours_to_boxes(contours: ContourList) -> np.ndarray:
    return np.array([contour_to_box(c) for c in contours]).reshape(-1, 4)


def compute_contour_binary_masks(
    contour1: np.ndarray, contour2: np.ndarray, max_size: int = DEFAULT_MAX_CONTOUR_MASK_SIZE
) -> tuple[np.ndarray, np.ndarray]:
    """Two boolean masks of the contours drawn in their common bounds, shrunk so that the
    shorter side is at most `max_size` pixels (pixels whose centres are inside)."""
    from mira.ops.render import polygon_mask

    a, b = (np.asarray(c, dtype=np.float64).reshape(-1, 2) for c in (contour1, contour2))
    origin = np.concatenate([a, b]).min(axis=0)
    a, b = a - origin, b - origin
    extent = np.concatenate([a, b]).max(axis=0)
    scale = min(max_size / extent.min(), 1) if extent.min() > 0 else 1
    a, b, extent = a * scale, b * scale, extent * scale
    width, height = (int(v) for v in extent)
    return polygon_mask(a, height, width), polygon_mask(b, height, width)


def compute_filtered_pairwise_contour_operation(
    contoursA: ContourList,
    contoursB: ContourList,
    callback: Callable[[np.ndarray, np.ndarray], float],
) -> np.ndarray:
    """(NA, NB) float32 of `callback(a, b)`, called only for pairs whose bounds overlap."""
    out = np.zeros((len(contoursA), len(contoursB)), dtype=np.float32)
    if len(contoursA) and len(contoursB):
        relevant = has_overlap(contours_to_boxes(contoursA), contours_to_boxes(contoursB))
        for i, j in zip(*np.nonzero(relevant), strict=True):
            out[i, j] = callback(contoursA[i], contoursB[j])
    return out


def crop_polygon(points: np.ndarray, x1: float, y1: float, x2: float, y2: float) -> list:
    """The pieces of a polygon inside the rectangle, as open (K, 2) rings in the same frame;
    [] for fewer than 3 points or nothing inside."""
    if len(points) < 3:
        return []
    return geometry.clip_polygon(points, x1, y1, x2, y2)


def _largest_unique(areas: Sequence[float], dominated: Sequence[bool]) -> np.ndarray:
    order = sorted(range(len(areas)), key=lambda i: areas[i])  # stable: ties keep their order
    return np.array([i for i in order if not dominated[i]], dtype=np.int64)


def find_largest_unique_boxes(
    bboxes: np.ndarray, threshold: float = 1, method: DeduplicationMethod = "iou"
) -> np.ndarray:
    """Indices of the boxes no larger-or-equal box overlaps at >= threshold (by IoU or by
    coverage), in ascending order of area; of equal-area duplicates the last is kept."""
    boxes = geometry.as_boxes(bboxes)
    geometry.check_method(method)
    areas = geometry.box_areas(boxes)
    order = np.argsort(areas, kind="stable")
    hits = geometry.dominated_boxes(boxes[order], threshold, method)
    dominated = np.zeros(len(boxes), dtype=bool)
    dominated[order] = hits
    return _largest_unique(areas.tolist(), dominated.tolist())


def find_largest_unique_contours(
    contours: ContourList, threshold: float = 1, method: DeduplicationMethod = "iou"
) -> np.ndarray:
    """`find_largest_unique_boxes` for polygons, with exact areas and overlaps."""
    geometry.check_method(method)
    dominated = geometry.dominated_shapes(contours, threshold, method)
    return _largest_unique(geometry.shape_areas(contours).tolist(), dominated)


def _as_3x3(M: np.ndarray) -> np.ndarray:
    matrix = np.asarray(M, dtype=np.float64)
    if matrix.shape == (2, 3):
        return np.vstack([matrix, [0.0, 0.0, 1.0]])
    if matrix.shape != (3, 3):
        raise ValidationError(f"a transform must be 2x3 or 3x3, got shape {matrix.shape}")
    return matrix


def transform_contour(contour: np.ndarray, M: np.ndarray) -> np.ndarray:
    """(K, 2) points moved by an affine 2x3 or projective 3x3 matrix."""
    from mira.ops.augment import transform_points

    return transform_points(_as_3x3(M), np.asarray(contour, dtype=np.float64).reshape(-1, 2))


def transform_bboxes(
    bboxes: np.ndarray,
    M: np.ndarray,
    width: int | None = None,
    height: int | None = None,
    clip: bool = True,
) -> np.ndarray:
    """(N, 4) bounds of the boxes' corners moved by M, clipped to width x height."""
    boxes = np.asarray(bboxes, dtype=np.float64)
    if len(boxes) == 0:
        return boxes
    if clip and (width is None or height is None):
        raise ValidationError("transform_bboxes needs width and height to clip")
    corners = np.stack([geometry.box_to_polygon(b) for b in boxes[:, :4]])
    moved = transform_contour(corners.reshape(-1, 2), M).reshape(-1, 4, 2)
    if clip:
        moved = moved.clip(0, [width, height])
    return np.concatenate([moved.min(axis=1), moved.max(axis=1)], axis=1)


# ------------------------------------------------------------------ lists
def flatten(t: Iterable[Iterable[T]]) -> list[T]:
    return list(itertools.chain.from_iterable(t))


def groupby_unsorted(
    seq: Sequence[T], key: Callable[[T], Hashable] = lambda x: x
) -> Iterator[tuple[Hashable, Iterator[T]]]:
    """(key, items) for each distinct key, in order of first appearance."""
    indexes: dict[Hashable, list[int]] = defaultdict(list)
    for i, item in enumerate(seq):
        indexes[key(item)].append(i)
    for k, idxs in indexes.items():
        yield k, (seq[i] for i in idxs)


def split(
    items: Sequence[T],
    sizes: Sequence[float],
    random_state: int = 42,
    stratify: Sequence[Hashable] | None = None,
    group: Sequence[Hashable] | None = None,
    preserve: Sequence[int | None] | None = None,
) -> list[list[T]]:
    """`items` in len(sizes) parts of exactly those proportions (largest-remainder
    rounding), groups whole, strata balanced, reproducible (see mira.ops.split)."""
    from mira.ops.split import split_indices

    parts = split_indices(len(items), sizes, random_state, stratify, group, preserve)
    return [[items[i] for i in part] for part in parts]


def split_apply_combine(
    items: Sequence[T], key: Callable[[T], Any], func: Callable[[list[T]], Sequence[U]]
) -> list[U]:
    """`func` applied to each group of items sharing a key (groups in sorted key order);
    the outputs come back in the order of the items they belong to."""
    groups: dict[Any, list[int]] = defaultdict(list)
    for i, item in enumerate(items):
        groups[key(item)].append(i)
    out: list[Any] = [None] * len(items)
    for k in sorted(groups):
        indices = groups[k]
        results = list(func([items[i] for i in indices]))
        if len(results) != len(indices):
            raise ValidationError(
                f"split_apply_combine: func returned {len(results)} results for the "
                f"{len(indices)} items of key {k!r}"
            )
        for i, result in zip(indices, results, strict=True):
            out[i] = result
    return out
