"""Scene keys that stay unique when collections are combined: prefixes and derived keys.

A key names a scene's members in a tarball (``KEY.json``, ``KEY.jpg``), so it must be a
safe member name. Importers number scenes ``000000``, ``000001``, ...; a prefix (``--key-
prefix cam1-``) keeps the keys of two imports apart.
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


class PrefixKeys(Stage):
    """Every scene's key with `prefix` in front (records change, images are copied)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = check_key_prefix(prefix)

    def __call__(self, items: Iterable[Any], engine: Any) -> Iterator[Any]:
        for index, item in enumerate(items):
            scene = as_scene(item)
            key = scene.key if scene.key is not None else f"{index:06d}"
            yield scene.assign(key=f"{self.prefix}{key}")
