"""File names for exported images: the name a scene came with, else its key; never twice.

Trainers pair an image with its label file by the name without extension
(``a.jpg`` → ``a.txt``), so two images of one part never share that stem either.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any


def safe_relative(name: Any) -> bool:
    """True for a non-empty relative POSIX path that stays inside its folder."""
    if not isinstance(name, str) or not name or "\\" in name:
        return False
    path = PurePosixPath(name)
    return not path.is_absolute() and ".." not in path.parts and "." not in path.parts


class ImageNames:
    """The names given so far in one folder (one part of an export)."""

    def __init__(self) -> None:
        self._stems: set[str] = set()

    def claim(self, scene: Any, wanted: Any = None) -> str:
        """`wanted` (a name kept from the source format) when it is safe and free, else
        ``<key>.<ext>``, with ``-1``, ``-2``, ... until free."""
        if safe_relative(wanted) and self._take(wanted):
            return str(wanted)
        stem = scene.key or "image"
        extension = scene.image_source.extension
        name, number = f"{stem}.{extension}", 0
        while not self._take(name):
            number += 1
            name = f"{stem}-{number}.{extension}"
        return name

    def _take(self, name: str) -> bool:
        stem = stem_of(name)
        if stem in self._stems:
            return False
        self._stems.add(stem)
        return True


def stem_of(name: str) -> str:
    """``dir/a.jpg`` → ``dir/a``, as Ultralytics finds a label file (the last dot of the
    file name; a name without one is its own stem)."""
    head, _, tail = name.rpartition("/")
    base = tail.rpartition(".")[0] or tail
    return f"{head}/{base}" if head else base
