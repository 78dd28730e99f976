"""The original library's tarball scenes (reference §4): a protobuf `Scene` per member.

Two layouts exist, told apart per scene:

* ≥0.9.27: member `N.png` holds the unmasked image with true colours, member `N` the
  protobuf, whose own `image` field is only a 1×1 placeholder.
* ≤0.9.26: member `N` alone, with the (masked) image inside the protobuf, encoded by
  OpenCV from an RGB array without conversion, i.e. with R and B swapped on disk.

We write only the ≥0.9.27 layout. The format stores int32 coordinates, so this is the one
place where coordinates are rounded (half to even, as the original did), and proto3 cannot
tell score 0.0 from "no score": both read back as None.
"""

from __future__ import annotations

import json
import os
import struct
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from mira.core.annotation import Annotation, Categories, Label
from mira.core.image import ImageSource, decode_image, encode_image
from mira.core.masks import MaskRegion, check_mask
from mira.core.scene import Scene
from mira.errors import FormatError, ImageError, MiraError, ValidationError
from mira.formats.legacy_proto import messages
from mira.formats.tar_native import json_default

#: The 1×1 PNG (pixel 1, 1, 1) that the original puts in `Scene.image` beside `N.png`.
PLACEHOLDER_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944415408"
    "1d636064640400000a0004f552e2840000000049454e44ae426082"
)
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_INT32 = (-(2**31), 2**31 - 1)

ImageInput = bytes | str | os.PathLike[str] | None


# ---------------------------------------------------------------------------------- reading
def decode_legacy_scene(
    proto: bytes, image: ImageInput = None, where: str = "scene", key: str | None = None
) -> Scene:
    """A Scene from a legacy protobuf and, for the ≥0.9.27 layout, its image.

    `image` is the `N.png` member's bytes (or a path); None means the ≤0.9.26 layout, whose
    image is inside the protobuf. `where` prefixes every error (e.g. "data.tar: member 3").
    """
    from google.protobuf.message import DecodeError

    try:
        message = messages().Scene.FromString(proto)
    except DecodeError:
        raise FormatError(f"{where}: not a legacy scene protobuf (corrupt or truncated)") from None
    _check_no_unknown_fields(message, where)
    try:
        categories = Categories(message.categories.categories)
    except MiraError as exc:
        raise FormatError(f"{where}: categories: {exc}") from None
    annotations = [
        _annotation(item, categories, f"{where}: annotation {i}")
        for i, item in enumerate(message.annotations)
    ]
    labels = [
        _label(item, categories, f"{where}: label {i}") for i, item in enumerate(message.labels)
    ]
    masks = [_mask(m, f"{where}: mask {i}") for i, m in enumerate(message.masks)]
    metadata = _metadata(message.metadata, f"{where}: scene metadata")
    source = _image_source(message.image, image, where)
    try:
        return Scene(
            categories,
            source,
            annotations=annotations,
            metadata=metadata,
            masks=masks,
            labels=labels,
            key=key,
        )
    except MiraError as exc:
        raise FormatError(f"{where}: {exc}") from None


def _image_source(embedded: bytes, image: ImageInput, where: str) -> ImageSource:
    if isinstance(image, (bytes, bytearray, memoryview)):
        return ImageSource.from_bytes(bytes(image), f"{where}.png")
    if image is not None:
        return ImageSource.from_path(image)
    if not embedded or _is_placeholder(embedded):
        raise FormatError(
            f"{where}: image missing (no .png member beside this protobuf, "
            "and it holds only the 1×1 placeholder)"
        )
    # ≤0.9.26 stored OpenCV's encoding of an RGB array: undo the R/B swap once, here.
    try:
        swapped = decode_image(embedded, f"{where}: embedded image")
    except ImageError as exc:
        raise FormatError(str(exc)) from None
    return ImageSource.from_array(np.ascontiguousarray(swapped[:, :, ::-1]))


def _is_placeholder(data: bytes) -> bool:
    """True for a 1×1 PNG: what ≥0.9.27 writers leave in `Scene.image`."""
    if not data.startswith(_PNG_SIGNATURE) or data[12:16] != b"IHDR" or len(data) < 24:
        return False
    return struct.unpack(">II", data[16:24]) == (1, 1)


def _check_no_unknown_fields(message: Any, where: str) -> None:
    """Random bytes can parse as a protobuf; the original never writes unknown fields."""
    if _unknown_field_count(message):
        raise FormatError(f"{where}: not a legacy scene protobuf (unknown fields)")
    for descriptor, value in message.ListFields():
        if descriptor.message_type is None:
            continue
        items = value if _is_repeated(descriptor) else [value]
        for item in items:
            _check_no_unknown_fields(item, where)


def _is_repeated(descriptor: Any) -> bool:
    repeated = getattr(descriptor, "is_repeated", None)  # protobuf >= 5.29; `label` is gone in 7
    if repeated is None:
        return descriptor.label == descriptor.LABEL_REPEATED
    return bool(repeated)


def _unknown_field_count(message: Any) -> int:
    try:
        from google.protobuf.unknown_fields import UnknownFieldSet
    except ImportError:  # protobuf < 4.24
        return len(message.UnknownFields())
    return len(UnknownFieldSet(message))


def _category(index: int, categories: Categories, where: str) -> Any:
    if not 0 <= index < len(categories):
        raise FormatError(
            f"{where}: category index {index} is out of range for {len(categories)} categories"
        )
    return categories[index]


def _score(value: float) -> float | None:
    """proto3 has no presence for floats: the original wrote None as unset, i.e. 0.0."""
    return None if value == 0.0 else float(value)


def _metadata(text: str, where: str) -> dict[str, Any]:
    if not text:  # other writers leave it empty; the original's reader crashed here
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise FormatError(f"{where}: invalid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise FormatError(f"{where}: expected a JSON object, got {type(value).__name__}")
    return value


def _points(points: Sequence[Any]) -> np.ndarray:
    return np.array([[p.x, p.y] for p in points], dtype=np.float64).reshape(-1, 2)


def _annotation(item: Any, categories: Categories, where: str) -> Annotation:
    category = _category(item.category, categories, where)
    common = {"score": _score(item.score), "metadata": _metadata(item.metadata, where)}
    points = _points(item.points)
    try:
        ring = points[:-1] if len(points) > 1 and (points[0] == points[-1]).all() else points
        if item.is_rect or 0 < len(ring) < 3:
            return Annotation(category, **_box_fields(item, points, where), **common)
        return Annotation(category, points=points, **common)
    except MiraError as exc:
        raise FormatError(f"{where}: {_strip_prefix(str(exc))}") from None


def _box_fields(item: Any, points: np.ndarray, where: str) -> dict[str, float]:
    """A box from a legacy annotation. The original accepted what our model refuses:
    inverted boxes and polygons of one or two distinct points (e.g. one-pixel QSL mask
    parts); they are kept as boxes over the same extent, with a warning, not dropped."""
    if item.is_rect:
        x1, x2, y1, y2 = item.x1, item.x2, item.y1, item.y2
    else:
        (x1, y1), (x2, y2) = points.min(axis=0).tolist(), points.max(axis=0).tolist()
        warnings.warn(f"{where}: a polygon of {len(points)} points is read as a box", stacklevel=4)
    if x1 > x2 or y1 > y2:
        warnings.warn(
            f"{where}: inverted box ({x1}, {y1}, {x2}, {y2}) is read in order", stacklevel=4
        )
        x1, x2, y1, y2 = min(x1, x2), max(x1, x2), min(y1, y2), max(y1, y2)
    return {"x1": x1, "y1": y1, "x2": x2, "y2": y2}


def _label(item: Any, categories: Categories, where: str) -> Label:
    category = _category(item.category, categories, where)
    try:
        return Label(category, score=_score(item.score), metadata=_metadata(item.metadata, where))
    except MiraError as exc:
        raise FormatError(f"{where}: {_strip_prefix(str(exc))}") from None


def _mask(item: Any, where: str) -> MaskRegion:
    mask = {"visible": item.visible, "name": item.name, "contour": _points(item.contour)}
    try:
        return check_mask(mask, where)
    except MiraError as exc:
        raise FormatError(str(exc)) from None


def _strip_prefix(text: str) -> str:
    """Core errors start with "annotation <category>: " or "label <category>: "; our prefix
    already says where."""
    if text.startswith(("annotation ", "label ")) and ": " in text:
        return text.split(": ", 1)[1]
    return text


# ---------------------------------------------------------------------------------- writing
def encode_legacy_scene(scene: Scene) -> tuple[bytes, bytes]:
    """`(png_bytes, protobuf_bytes)` for members `N.png` and `N` of the ≥0.9.27 layout.

    The PNG holds the unmasked pixels with true colours (PNG sources are copied as they
    are); coordinates are rounded half to even to int32, polygons written as closed rings.
    """
    source = scene.image_source
    png = source.encoded() if source.extension == "png" else encode_image(scene.unmasked_image)
    return png, encode_legacy_proto(scene)


def encode_legacy_proto(scene: Scene) -> bytes:
    """The protobuf member of `scene`, byte-compatible with the original's writer."""
    m = messages()
    where = f"scene {scene.key}" if scene.key else "scene"
    categories = scene.categories
    annotations = []
    for i, ann in enumerate(scene.annotations):
        at = f"{where}: annotation {i}"
        if ann.is_rect:
            x1, y1, x2, y2 = _ints([[ann.x1, ann.y1], [ann.x2, ann.y2]], at).ravel().tolist()
            ring = [(x1, y1), (x2, y1), (x2, y2), (x1, y2)]
        else:
            points = _ints(ann.points, at)
            (x1, y1), (x2, y2) = points.min(axis=0).tolist(), points.max(axis=0).tolist()
            ring = [tuple(p) for p in points.tolist()]
            ring.append(ring[0])  # closed, as the original stores polygons
        annotations.append(
            m.Annotation(
                category=categories.index(ann.category),
                x1=x1,
                y1=y1,
                x2=x2,
                y2=y2,
                is_rect=ann.is_rect,
                points=[m.Point(x=x, y=y) for x, y in ring],
                score=ann.score,
                metadata=_dumps(ann.metadata, at),
            )
        )
    labels = [
        m.Label(
            category=categories.index(label.category),
            score=label.score,
            metadata=_dumps(label.metadata, f"{where}: label {i}"),
        )
        for i, label in enumerate(scene.labels)
    ]
    masks = [
        m.Mask(
            visible=mask["visible"],
            name=mask["name"],
            contour=[
                m.Point(x=x, y=y) for x, y in _ints(mask["contour"], f"{where}: mask {i}").tolist()
            ],
        )
        for i, mask in enumerate(scene.masks)
    ]
    return m.Scene(
        categories=m.Categories(categories=categories.names),
        annotations=annotations,
        masks=masks,
        image=PLACEHOLDER_PNG,
        metadata=_dumps(scene.metadata, f"{where}: metadata"),
        labels=labels,
    ).SerializeToString()


def _ints(values: Any, where: str) -> np.ndarray:
    """Round half to even (like the original) and check the int32 range."""
    array = np.rint(np.asarray(values, dtype=np.float64))
    if array.size and (array.min() < _INT32[0] or array.max() > _INT32[1]):
        raise ValidationError(
            f"{where}: coordinates beyond the legacy format's int32 range "
            f"({array.min():.0f}..{array.max():.0f})"
        )
    return array.astype(np.int64)


def _dumps(metadata: dict[str, Any], where: str) -> str:
    """The original's `json.dumps` defaults (ASCII-escaped, ", " / ": " separators)."""
    try:
        return json.dumps(metadata or {}, default=json_default)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{where}: metadata cannot be written as JSON: {exc}") from None


# ------------------------------------------------------------ Scene.toString/fromString/load
def scene_to_string(scene: Scene) -> tuple[bytes, bytes]:
    """`Scene.toString()`: the original's order, `(protobuf_bytes, png_bytes)`."""
    png, proto = encode_legacy_scene(scene)
    return proto, png


def load_legacy_scene(filepath: str | os.PathLike[str], image: ImageInput = None) -> Scene:
    """`Scene.load()`: a scene from a protobuf file, with its image as bytes or a path."""
    path = os.fspath(filepath)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise FormatError(f"{path}: cannot read: {exc.strerror}") from None
    return decode_legacy_scene(data, image, path)
