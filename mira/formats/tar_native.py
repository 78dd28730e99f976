"""The native scene record: `{key}.json` beside `{key}.{ext}` (the WebDataset layout).

The JSON record is self-contained (categories, annotations with float coordinates, labels,
masks, metadata, image name and size), so any tool can read one scene without the others.
A record's size must be whole pixels between 1 and 2**31 - 1 (OpenCV's coordinates), as a
writer stores it; anything else is an error naming the member.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

import msgspec
import numpy as np

from mira.core.annotation import Annotation, Categories, Label
from mira.core.fingerprint import Fingerprint
from mira.core.image import ImageSource
from mira.core.scene import Scene
from mira.errors import FormatError, MiraError, ValidationError
from mira.formats.tario import MemberGroup

FORMAT_NAME = "mira-scene"
FORMAT_VERSION = 1
RECORD_EXTENSION = "json"


def json_default(value: Any) -> Any:
    """Let numpy scalars and arrays in metadata be written as plain JSON values."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


_ENCODER = json.JSONEncoder(  # one for all records: dumps() would make one per call
    ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=json_default
)


def _dump(record: dict[str, Any], where: str) -> bytes:
    try:
        text = _ENCODER.encode(record)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{where}: metadata cannot be written as JSON: {exc}") from None
    return text.encode("utf-8")


#: msgspec writes a record in a fraction of json's time, and the same bytes for the plain
#: values `_plain` accepts, but for floats below 1e-4 or from 1e16 on (``1e-05`` is its
#: ``0.00001``, ``1e+16`` its ``1e16``): a record with a number written like one of those
#: goes to json instead. Such a number has four zeros after ``0.`` or an exponent (a digit,
#: ``e``, a digit or ``-``: ``1e1`` once digits and ``-`` are mapped to ``1``). Substring
#: searches find candidates quickly (strings may hold them too), and the pattern then
#: tells numbers from strings.
_FAST = msgspec.json.Encoder()
_EXPONENT = bytes.maketrans(b"0123456789-", b"11111111111")
_UNLIKE = re.compile(rb"[:,\[]-?(?:0\.0000|[0-9]+(?:\.[0-9]+)?e)")
_SCALARS = frozenset((str, int, bool, type(None)))


def _plain(value: Any) -> bool:
    """Whether `value` is made only of what json and msgspec write alike: str, int, bool,
    None, finite floats, lists and tuples of them, and dicts with str keys (no numpy, NaN,
    datetime, set..., which one of them writes or refuses and the other does not)."""
    kind = type(value)
    if kind in _SCALARS:
        return True
    if kind is float:
        return value - value == 0.0  # NaN and infinities give NaN
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or (type(item) not in _SCALARS and not _plain(item)):
                return False
        return True
    if kind is list or kind is tuple:
        for item in value:
            if type(item) not in _SCALARS and not _plain(item):
                return False
        return True
    return False


def _fast_dump(record: dict[str, Any], plain: bool) -> bytes | None:
    """The record's bytes by msgspec, when `plain` (what `encode_record` checked) and no
    number needs json's float format; else None."""
    if not plain:
        return None
    try:
        data = _FAST.encode(record)
    except (TypeError, ValueError, OverflowError, RecursionError):  # e.g. a lone surrogate
        return None
    if b"0.0000" in data or b"1e1" in data.translate(_EXPONENT):
        return None if _UNLIKE.search(data) else data
    return data


def dump_record(record: dict[str, Any]) -> bytes:
    """The bytes of a record given as a dict (e.g. a parsed one, edited): by msgspec when
    that gives json's bytes (see `_fast_dump`), as merge, filter, remap and dedupe write
    the records they edit."""
    fast = _fast_dump(record, _plain(record))
    return fast if fast is not None else _dump(record, f"scene {record.get('key')}")


def _points(array: np.ndarray) -> list[list[float]]:
    return [[float(x), float(y)] for x, y in array]


def encode_record(scene: Scene, key: str, image_name: str) -> bytes:
    """The JSON record of `scene`, stored under `key`, pointing at member `image_name`."""
    width, height = scene.dimensions
    annotations = []
    checked = []  # what `_plain` must accept for msgspec to write the record
    for a in scene.annotations:
        score, metadata = a.score, a.metadata
        if a.is_rect:
            box = [a.x1, a.y1, a.x2, a.y2]
            checked += (box, score, metadata)
            item = {"category": a.category.name, "box": box, "score": score, "metadata": metadata}
        else:  # the ring's floats were checked finite when it was made
            checked += (score, metadata)
            item = {
                "category": a.category.name,
                "polygon": a.point_pairs(),
                "score": score,
                "metadata": metadata,
            }
        annotations.append(item)
    record = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "key": key,
        "image": image_name,
        "width": int(width),
        "height": int(height),
        "categories": scene.categories.names,
        "annotations": annotations,
        "labels": [
            {"category": lb.category.name, "score": lb.score, "metadata": lb.metadata}
            for lb in scene.labels
        ],
        "masks": [
            {"visible": m["visible"], "name": m["name"], "contour": _points(m["contour"])}
            for m in scene.masks
        ],
        "metadata": scene.metadata,
    }
    fingerprint = scene.image_source.fingerprint
    if fingerprint is not None:  # optional: records without one stay as they were
        record["fingerprint"] = fingerprint.to_record()
    checked += (record["labels"], record["masks"], scene.metadata, record.get("fingerprint"))
    plain = _plain(checked) and type(key) is str and type(image_name) is str
    fast = _fast_dump(record, plain)
    return fast if fast is not None else _dump(record, f"scene {key}")


#: One for all records. msgspec reads a record in about half the time `json` takes and gives
#: the same values, integers of any size included (orjson, nearly as fast, turns an integer
#: past 64 bits into a float); NaN and Infinity are not JSON to it either.
_DECODER = msgspec.json.Decoder()


#: The largest width or height: OpenCV's pixel coordinates are 32-bit integers.
MAX_SIDE = 2**31 - 1


def _pixels(record: dict[str, Any], field: str, where: str) -> int:
    """A record's width or height: a whole number of pixels an image can have."""
    value = record[field]
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SIDE:
        text = repr(value) if len(repr(value)) <= 40 else f"{repr(value)[:37]}..."
        raise FormatError(f"{where}: field {field!r} must be a whole number of pixels, got {text}")
    return value


def _number(value: Any) -> float:
    if type(value) is float and math.isfinite(value):  # nearly every value: checked first
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"expected a number, got {value!r}")
    try:
        number = float(value)
    except OverflowError:  # an integer written with hundreds of digits
        raise ValueError("number too large to be a coordinate") from None
    if not math.isfinite(number):
        raise ValueError(f"expected a number, got {value!r}")
    return number


def parse_record(data: bytes, where: str) -> dict[str, Any]:
    """The JSON record as a dict, with its format and version checked."""
    try:
        record = _DECODER.decode(data)
    except msgspec.DecodeError as exc:  # malformed, not UTF-8, or a number out of range
        raise FormatError(f"{where}: invalid JSON ({exc})") from None
    except RecursionError:
        raise FormatError(f"{where}: invalid JSON (nested too deeply)") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT_NAME:
        raise FormatError(f"{where}: not a mira scene record (missing format {FORMAT_NAME!r})")
    if record.get("version") != FORMAT_VERSION:
        raise FormatError(
            f"{where}: unknown format version {record.get('version')!r} "
            f"(this mira reads version {FORMAT_VERSION})"
        )
    if not isinstance(record.get("image"), str) or "." not in record["image"]:
        raise FormatError(f"{where}: field 'image' must name the image member")
    return record


def decode_record(group: MemberGroup, record: dict[str, Any] | None = None) -> Scene:
    """Build a Scene from a native member group; the image stays encoded and its width and
    height come from the record (`record`, when the caller has parsed it already)."""
    where = group.where(RECORD_EXTENSION)
    if record is None:
        record = parse_record(group.data(RECORD_EXTENSION), where)
    extension = record["image"].partition(".")[2]
    if extension not in group.members or extension == RECORD_EXTENSION:
        raise FormatError(f"{where}: record without its image member {record['image']!r}")
    extra = sorted(set(group.members) - {RECORD_EXTENSION, extension})
    if extra:
        raise FormatError(f"{group.where(extra[0])}: is not part of any scene")
    return scene_from_record(record, lambda size: _image(group, extension, size), where)


def _image(group: MemberGroup, extension: str, size: tuple[int, int]) -> ImageSource:
    member, where = group.members[extension], group.where(extension)
    if isinstance(member, bytes):
        return ImageSource.from_bytes(member, where, size)
    return ImageSource.from_range(member, where, size)


def scene_from_record(
    record: dict[str, Any], image: Callable[[tuple[int, int]], ImageSource], where: str
) -> Scene:
    """A Scene from a parsed record; `image(size)` makes its image source."""
    try:
        categories = Categories(record["categories"])
        by_name = {c.name: c for c in categories}

        def category(name: str) -> Any:
            # one dict lookup for a known name; anything else gets the Categories checks
            if isinstance(name, str) and name in by_name:
                return by_name[name]
            if name not in categories:
                raise ValidationError(
                    f"category {name!r} is not in the scene's categories {categories.names}"
                )
            return categories[name]

        annotations = []
        for i, item in enumerate(record["annotations"]):
            try:
                cat = category(item["category"])
                if "box" in item:
                    x1, y1, x2, y2 = map(_number, item["box"])
                    annotation = Annotation(
                        cat, x1, y1, x2, y2, score=item["score"], metadata=item["metadata"]
                    )
                else:
                    points = [[_number(x), _number(y)] for x, y in item["polygon"]]
                    annotation = Annotation(
                        cat, points=points, score=item["score"], metadata=item["metadata"]
                    )
                annotations.append(annotation)
            except (MiraError, KeyError, TypeError, ValueError) as exc:
                raise FormatError(f"{where}: annotation {i}: {_reason(exc)}") from None
        labels = []
        for i, item in enumerate(record["labels"]):
            try:
                labels.append(
                    Label(
                        category(item["category"]), score=item["score"], metadata=item["metadata"]
                    )
                )
            except (MiraError, KeyError, TypeError, ValueError) as exc:
                raise FormatError(f"{where}: label {i}: {_reason(exc)}") from None
        source = image((_pixels(record, "width", where), _pixels(record, "height", where)))
        if "fingerprint" in record:
            source = source.with_fingerprint(Fingerprint.from_record(record["fingerprint"], where))
        return Scene(
            categories,
            source,
            annotations=annotations,
            metadata=record["metadata"],
            masks=record["masks"],
            labels=labels,
            key=record["key"],
        )
    except FormatError:
        raise
    except (MiraError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise FormatError(f"{where}: {_reason(exc)}") from None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}"
    text = str(exc)
    return text.split(": ", 1)[1] if text.startswith("annotation ") and ": " in text else text
