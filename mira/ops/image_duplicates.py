"""Exact duplicate images in a stream, found without reading most of them.

Images are compared by their encoded bytes, in three steps that each read more: their
length (free for an image still in its tarball), then the 4 KiB in their middle, then their
sha256 — each only for images the step before could not tell apart. Most images are never
read; two images of the same length are usually told apart by 4 KiB (JPEG headers are alike,
entropy-coded data is not). An image left in its tarball is remembered by where it lies,
never by its bytes; bytes already in memory are hashed at once and dropped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from mira.core.file_range import FileRange
from mira.errors import FormatError

Encoded = bytes | FileRange
PROBE = 4096


def encoded_image(scene: Any) -> Encoded:
    """A scene's encoded image as the tracker takes it: its place in a tarball, or bytes."""
    source = scene.image_source
    return source.file_range if source.file_range is not None else source.encoded()


class _Image:
    """One image seen: its name, where it lies (None once its digests are known)."""

    __slots__ = ("name", "place", "where", "_probe", "_digest")

    def __init__(self, name: Any, image: Encoded, where: Callable[[Any], str]) -> None:
        self.name, self.where = name, where
        self._probe: bytes | None = None
        self._digest: bytes | None = None
        if isinstance(image, FileRange):  # a copy without the head it may carry
            self.place: FileRange | None = FileRange(image.file, image.offset, image.size)
        else:
            self.place = None
            self._probe, self._digest = _sha(_middle(image)), _sha(image)

    def probe(self) -> bytes:
        if self._probe is None:
            assert self.place is not None
            start, size = _window(self.place.size)
            part = FileRange(self.place.file, self.place.offset + start, size)
            self._probe = _sha(self._read(part))
        return self._probe

    def digest(self) -> bytes:
        if self._digest is None:
            assert self.place is not None
            self._digest = _sha(self._read(self.place))
            self.place = None
        return self._digest

    def _read(self, place: FileRange) -> bytes:
        try:
            return place.read()
        except (OSError, EOFError) as exc:
            raise FormatError(f"{self.where(self.name)}: cannot read it ({exc})") from None


class DuplicateImages:
    """Tells, image by image, whether its bytes equal those of an earlier one; `where(name)`
    says where an image is, for a read error (default: its name)."""

    def __init__(self, where: Callable[[Any], str] = str) -> None:
        self.where = where
        # length → the first image of that length, or every distinct one once two were seen
        self._by_length: dict[int, _Image | list[_Image]] = {}

    def add(self, name: Any, image: Encoded) -> Any:
        """Note `image` under `name`; returns the name of the first earlier image with the
        same bytes, or None."""
        length = image.size if isinstance(image, FileRange) else len(image)
        new = _Image(name, image, self.where)
        seen = self._by_length.get(length)
        if seen is None:
            self._by_length[length] = new
            return None
        earlier = [seen] if isinstance(seen, _Image) else seen
        for other in earlier:
            if other.probe() == new.probe() and other.digest() == new.digest():
                return other.name
        self._by_length[length] = [*earlier, new]
        return None


def _window(length: int) -> tuple[int, int]:
    """Start and size of the middle `PROBE` bytes of `length` (all of them when fewer)."""
    size = min(PROBE, length)
    return (length - size) // 2, size


def _middle(data: bytes) -> bytes:
    start, size = _window(len(data))
    return data[start : start + size]


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()
