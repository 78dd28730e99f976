"""Scene keys that stay unique when collections are combined: prefixes and derived keys.

A key names a scene's members in a tarball (``KEY.json``, ``KEY.jpg``), so it must be a
safe member name: letters, digits, '_' and '-' (`mira.core.scene.check_key`). The rules:

- Importers number scenes ``000000``, ``000001``, ... in the source's order; a prefix
  (``--key-prefix cam1-``) keeps the keys of two imports apart: ``cam1-000000``.
- A scene without a key is named by its position in the stream it came in, six digits
  (``000003``), as a writer would number it (`stream_key`).
- Derived scenes derive their key from their source's: a tile is
  ``<key>-<x>-<y>`` with its offset zero-padded to five digits (``000012-00512-00000``,
  `mira.ops.tiling.tile_key`), an augmented copy ``<key>-aug<NN>`` (``000012-aug01``,
  `mira.ops.augment_stream.copy_key`). So the outputs of tile, augment and import can be
  merged without clashes, and keys of one source sort together.
- `mira merge` puts a prefix per input in front (``--prefix-keys auto``: the file stem
  and '-').
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from mira.errors import ValidationError
from mira.pipeline.stage import Stage, as_scene

_PREFIX = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


def check_key_prefix(prefix: str | None) -> str:
    """A prefix made of letters, digits, '_' and '-' (starting with a letter or digit),
    so prefixed keys stay safe member names; "" or None means no prefix."""
    if not prefix:
        return ""
    if not isinstance(prefix, str) or not _PREFIX.fullmatch(prefix):
        raise ValidationError(
            f"key prefix {prefix!r} must be letters, digits, '_' or '-', "
            "starting with a letter or digit"
        )
    return prefix


def stream_key(key: str | None, index: int) -> str:
    """A scene's key, or for a scene without one its position in the stream (``000003``)."""
    return key if key is not None else f"{index:06d}"


def prefixed_key(prefix: str, key: str | None, index: int) -> str:
    """The key a scene gets with `prefix` in front (``cam1-000003``); `index` is its
    position in its stream, which names a scene without a key."""
    return f"{prefix}{stream_key(key, index)}"


def rekey(item: Any, key: str, categories: list[str] | None = None) -> Any:
    """A stream item under another key (and `categories`, when given: annotations and
    labels keep their category names). A native stored scene gets its record edited (key,
    image member name), its image still copied as stored; anything else becomes a new
    `Scene`. The one way keys are changed, by `PrefixKeys` and `mira merge`."""
    record = getattr(item, "record", None)
    if record is not None:
        image = f"{key}.{record['image'].partition('.')[2]}"
        edited = {**record, "key": key, "image": image}
        if categories is not None:
            edited["categories"] = categories
        return item.with_record(edited)
    scene = as_scene(item)
    return (
        scene.assign(key=key)
        if categories is None
        else scene.assign(categories=categories, key=key)
    )


class PrefixKeys(Stage):
    """Every scene's key with `prefix` in front (records change, images are copied)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = check_key_prefix(prefix)

    def __call__(self, items: Iterable[Any], engine: Any) -> Iterator[Any]:
        for index, item in enumerate(items):
            scene = as_scene(item)  # checks a stored scene's record
            yield rekey(item, prefixed_key(self.prefix, scene.key, index))
