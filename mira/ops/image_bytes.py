"""Which images of a stream have identical bytes, found without keeping the images: per
scene a key, a byte length and where the bytes lie (about 30 bytes a scene, in columns
that spill to a temporary file, so memory stays flat however long the stream).

An image left in its tarball is remembered as a range of that file and read (and hashed)
only when another image has the same length, so most images are never read twice; an
image that was in memory is hashed at once and only its sha256 is kept.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from mira.core.file_range import FileRange, OpenFile
from mira.core.spill import SpilledColumn, SpilledText
from mira.errors import FormatError

#: Byte lengths compared in memory at once when looking for shared ones.
BUCKET = 1 << 17


class ImageIdentity:
    """A scene's image for finding duplicates: its byte length, and where its bytes lie (a
    range of a tarball), or their sha256 when it is known or they were in memory. Made once
    per scene and
    shared when one scene is added to several tables."""

    __slots__ = ("size", "file", "offset", "digest")

    def __init__(self, scene: Any, digest: bytes | None = None) -> None:
        source = scene.image_source
        self.file: OpenFile | None = None
        self.offset = 0
        self.digest = digest  # when known already (a stored fingerprint's sha256)
        if digest is not None:
            self.size = (
                source.file_range.size if source.file_range is not None else len(source.encoded())
            )
        elif source.file_range is not None:
            self.size = source.file_range.size
            self.file, self.offset = source.file_range.file, source.file_range.offset
        else:
            data = source.encoded()
            self.size = len(data)
            self.digest = hashlib.sha256(data).digest()


class ImageBytes:
    """Each scene's key and image identity, in stream order, in spilled columns."""

    def __init__(self) -> None:
        self.keys = SpilledText()
        self.sizes = SpilledColumn("q")
        self._files = SpilledColumn("i")  # index into `_opened`, or -1: a digest is stored
        self._offsets = SpilledColumn("q")  # where the bytes start, or the digest's index
        self._opened: list[OpenFile] = []
        self._file_numbers: dict[int, int] = {}
        self._digests = SpilledColumn("B")

    def __len__(self) -> int:
        return len(self.sizes)

    def add(self, key: str, image: ImageIdentity) -> None:
        self.keys.append(key)
        self.sizes.append(image.size)
        if image.file is None:
            assert image.digest is not None
            self._files.append(-1)
            self._offsets.append(len(self._digests) // 32)
            self._digests.extend(image.digest)
            return
        number = self._file_numbers.get(id(image.file))
        if number is None:
            number = self._file_numbers[id(image.file)] = len(self._opened)
            self._opened.append(image.file)  # kept open (and its id unique) until the end
        self._files.append(number)
        self._offsets.append(image.offset)

    def digest(self, index: int) -> bytes:
        """The sha256 of scene `index`'s image bytes (read from its file if needed)."""
        number, offset = self._files[index], self._offsets[index]
        if number < 0:
            return self._digests[32 * offset : 32 * offset + 32].tobytes()
        file = self._opened[number]
        try:
            data = FileRange(file, offset, self.sizes[index]).read()
        except (OSError, EOFError) as exc:
            raise FormatError(
                f"{file.path}: cannot read the image of scene {self.keys[index]}: {exc}"
            ) from None
        return hashlib.sha256(data).digest()

    def shared_lengths(self) -> Iterator[np.ndarray]:
        """The scene indices of each byte length that two or more images have, in stream
        order within a group: only these can be duplicates. Lengths are taken a bucket
        (length modulo the bucket count) at a time, so at most about `BUCKET` lengths are
        in memory at once."""
        buckets = max(1, -(-len(self) // BUCKET))
        for bucket in range(buckets):
            indices, sizes, start = [], [], 0
            for chunk in self.sizes.chunks():
                chosen = np.flatnonzero(chunk % buckets == bucket)
                indices.append(chosen + start)
                sizes.append(chunk[chosen])
                start += len(chunk)
            if not indices:
                return
            members, lengths = np.concatenate(indices), np.concatenate(sizes)
            order = np.argsort(lengths, kind="stable")
            ordered = lengths[order]
            starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
            ends = np.r_[starts[1:], len(ordered)]
            for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
                if e - s > 1:
                    yield members[order[s:e]]

    def duplicates(self) -> list[dict[str, Any]]:
        """Groups of keys whose images are byte-identical (``sha256``, ``keys``), by first
        key."""
        groups: list[dict[str, Any]] = []
        for candidates in self.shared_lengths():
            by_digest: dict[bytes, list[str]] = {}
            for index in candidates.tolist():
                by_digest.setdefault(self.digest(index), []).append(self.keys[index])
            groups.extend(
                {"sha256": digest.hex(), "keys": keys}
                for digest, keys in by_digest.items()
                if len(keys) > 1
            )
        return sorted(groups, key=lambda group: group["keys"][0])
