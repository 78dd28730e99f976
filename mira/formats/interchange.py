"""The formats `mira import` reads and `mira export` writes, one module each.

An import format's module has ``read(source, *, images_dir=None, skip_missing=False,
report=None, **options) -> Iterator[Scene]``: it checks its input at once (a clear error
naming the file before anything is written), then yields scenes keyed ``000000``, ...
while filling `report` (counts, and everything it skipped or could not represent). It
reads its input as a stream: memory holds one item and the category index, however many
items there are (`mira.formats.json_stream` walks a big JSON document member by member).
An export format's module has ``Exporter``, a `mira.formats.layout.DatasetFolder`.
Format-specific options are keyword arguments; `OPTIONS` says which format takes which.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import Any

from mira.errors import ValidationError

#: format name → module in mira.formats, for `mira import`.
IMPORTS: dict[str, str] = {
    "qsl": "qsl",
    "coco": "coco",
    "yolo": "yolo",
    "voc": "voc",
    "cvat": "cvat",
    "labelstudio": "labelstudio",
}
#: format name → module in mira.formats, for `mira export`.
EXPORTS: dict[str, str] = {
    "coco": "coco",
    "yolo": "yolo",
    "voc": "voc",
    "cvat": "cvat",
    "labelstudio": "labelstudio",
}
#: (direction, format) → the format-specific options it takes (beyond the common ones).
OPTIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("import", "qsl"): ("label_key",),
    ("import", "coco"): ("results",),
    ("import", "yolo"): ("part",),
    ("import", "voc"): ("image_set", "categories"),
    ("import", "labelstudio"): ("pre_annotations", "image_key", "categories"),
    ("export", "yolo"): ("task",),
    ("export", "labelstudio"): ("pre_annotations", "url_prefix"),
}


def _module(table: dict[str, str], direction: str, name: str) -> Any:
    if name not in table:
        known = ", ".join(sorted(table)) or "none yet"
        raise ValidationError(f"cannot {direction} format {name!r}; formats: {known}")
    return importlib.import_module(f"mira.formats.{table[name]}")


def check_options(direction: str, name: str, options: dict[str, Any]) -> dict[str, Any]:
    """The options that were given (not None), each one that `name` takes."""
    given = {key: value for key, value in options.items() if value is not None}
    allowed = OPTIONS.get((direction, name), ())
    for key in given:
        if key not in allowed:
            flag = "--" + key.replace("_", "-")
            takers = sorted(
                f for (d, f), names in OPTIONS.items() if d == direction and key in names
            )
            raise ValidationError(f"{flag} applies to {direction} {' / '.join(takers)} only")
    return given


def importer(name: str) -> Callable[..., Iterator[Any]]:
    return _module(IMPORTS, "import", name).read


def exporter(name: str) -> type:
    return _module(EXPORTS, "export", name).Exporter


def load(name: str, source: Any, **options: Any) -> tuple[Any, dict[str, Any]]:
    """(SceneCollection, report) of a whole import: the `SceneCollection.from_...` twins."""
    from mira.core import Categories, SceneCollection

    report: dict[str, Any] = {}
    scenes = list(importer(name)(source, report=report, **options))
    return SceneCollection(scenes, categories=Categories(list(report["categories"]))), report
