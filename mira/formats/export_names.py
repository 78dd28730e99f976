"""File names for the images of an export: a scene's own name when it has one, else its key.

An export of an imported dataset keeps its file names, so files can be traced across
tools: every importer records each image's name in the scene's metadata (`RECORDED`),
and every exporter looks there, its own format first. A trainer pairs an image with its
label file by the name without extension, hence unique stems. A name is used only
when it is free: names are unique by stem, case-insensitively (``a.jpg`` and ``A.png``
clash, as ``Annotations/a.xml`` would in VOC and on case-insensitive file systems); a
scene whose name is taken, or that has none, is named by its key (``000123.jpg``), and
each such rename of a named scene is counted. A recorded name that would leave the folder
is refused. The extension always follows the bytes (a PNG is never called ``.jpg``).
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from mira.formats.layout import check_relative

__all__ = ["RECORDED", "ExportNames", "recorded_name", "stem_of"]

_SAME = {"jpeg": "jpg", "tiff": "tif"}
#: metadata namespace → the fields, one inside the other, where its importer records the
#: image's name.
RECORDED: dict[str, tuple[str, ...]] = {
    "coco": ("image", "file_name"),
    "yolo": ("file",),
    "voc": ("filename",),
    "cvat": ("name",),
    "labelstudio": ("image",),
}


def _recorded(metadata: Any, fields: tuple[str, ...]) -> Any:
    value = metadata
    for field in fields:
        value = value.get(field) if isinstance(value, dict) else None
    return value


def recorded_name(scene: Any, prefer: str, flat: bool = False) -> str | None:
    """The image name an importer recorded for `scene` (the `prefer` format's first),
    as a relative path, or only its file name with `flat`; None when there is none."""
    for namespace in (prefer, *(n for n in RECORDED if n != prefer)):
        value = _recorded(scene.metadata, (namespace, *RECORDED[namespace]))
        if not isinstance(value, str) or not value:
            continue
        if namespace == "labelstudio":  # a reference: a path, or a URL ending in one
            from mira.formats.labelstudio import file_name

            value = file_name(value)
        name = PurePosixPath(value).name if flat else value
        if name:
            return name
    return None


class ExportNames:
    """Hands out unique image file names (relative POSIX paths) for one export folder."""

    def __init__(self, where: str, counts: dict[str, int]) -> None:
        """`counts` (an export report's ``images``) gets each rename under ``renamed``."""
        self.where = where
        self.counts = counts
        self._taken: set[str] = set()
        self._count = 0

    def pick(self, scene: Any, wanted: str | None) -> str:
        """A free name for the scene's image: `wanted` (extension fixed to the bytes'),
        else ``KEY.EXT`` (``KEY-1.EXT``, ... if even that is taken)."""
        index, self._count = self._count, self._count + 1
        extension = scene.image_source.extension
        if wanted:
            path = check_relative(wanted, f"{self.where}: scene {scene.key or index}")
            suffix = path.suffix[1:].lower()
            if _SAME.get(suffix, suffix) != extension:
                stem = path.stem if suffix else path.name
                path = path.with_name(f"{stem}.{extension}")
            if self._take(path):
                return str(path)
            self.counts["renamed"] = self.counts.get("renamed", 0) + 1
        key = scene.key or f"{index:06d}"
        path = PurePosixPath(f"{key}.{extension}")
        number = 0
        while not self._take(path):
            number += 1
            path = PurePosixPath(f"{key}-{number}.{extension}")
        return str(path)

    def _take(self, path: PurePosixPath) -> bool:
        stem = str(path.with_suffix("")).casefold()
        if stem in self._taken:
            return False
        self._taken.add(stem)
        return True


def stem_of(name: str) -> str:
    """``dir/a.jpg`` → ``dir/a``, as Ultralytics finds a label file (the last dot of the
    file name; a name without one is its own stem)."""
    head, _, tail = name.rpartition("/")
    base = tail.rpartition(".")[0] or tail
    return f"{head}/{base}" if head else base
