"""Which scenes of a stream show the same picture: exact duplicates (identical bytes, or
identical decoded pixels when fingerprints are stored) and near-duplicate clusters
(perceptual hashes within a Hamming distance, see `mira.ops.near_duplicates`).

`ImageIndex` watches a stream once, keeping a few bytes per scene. Scenes without a
fingerprint are matched by their bytes alone: an image left in its tarball is hashed
only when another image has the same length, so most are never read.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from mira.errors import ValidationError
from mira.ops.near_duplicates import cluster, components

#: The default Hamming distance for near-duplicates, measured (docs/near-duplicates.md):
#: 99% of non-flipped copies found, no false pair; the first false pair came at 14 bits.
DEFAULT_DISTANCE = 10


class MissingFingerprints(ValidationError):
    """Near-duplicates need every scene's fingerprint."""


class _Bytes:
    """An image's sha256, taken when first asked for."""

    __slots__ = ("source", "digest")

    def __init__(self, source: Any) -> None:
        self.source, self.digest = source, None

    def sha256(self) -> str:
        if self.digest is None:
            self.digest = hashlib.sha256(self.source.encoded()).hexdigest()
            self.source = None
        return self.digest


def _byte_length(source: Any) -> int:
    return source.file_range.size if source.file_range is not None else len(source.encoded())


class ImageIndex:
    """Per scene, in stream order: its key and what identifies its image."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.phash: list[int | None] = []
        self._exact: list[tuple[str, str] | _Bytes] = []  # (sha256, pixels), or lazy bytes
        self._lengths: list[int] = []

    def add(self, scene: Any) -> None:
        index = len(self.keys)
        self.keys.append(scene.key if scene.key is not None else f"{index:06d}")
        source = scene.image_source
        fingerprint = source.fingerprint
        self._lengths.append(_byte_length(source))
        if fingerprint is None:
            self.phash.append(None)
            self._exact.append(_Bytes(source))
        else:
            self.phash.append(fingerprint.phash)
            self._exact.append((fingerprint.sha256, fingerprint.pixels))

    def watch(self, scenes: Iterable[Any]) -> Iterator[Any]:
        """The same stream, each scene added as it goes by."""
        for scene in scenes:
            self.add(scene)
            yield scene

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def missing(self) -> int:
        """Scenes without a stored fingerprint."""
        return sum(1 for value in self.phash if value is None)

    def exact(self) -> np.ndarray:
        """Each scene's exact-duplicate group (named by its first scene): the same bytes,
        or the same pixels where both have fingerprints."""
        shared = Counter(self._lengths)
        first: dict[tuple[str, str], int] = {}
        pairs = []
        for index, identity in enumerate(self._exact):
            if isinstance(identity, _Bytes):
                if shared[self._lengths[index]] == 1:
                    continue  # no other image has this length: never read
                names = [("bytes", identity.sha256())]
            else:
                names = [("bytes", identity[0]), ("pixels", identity[1])]
            for name in names:
                earlier = first.setdefault(name, index)
                if earlier != index:
                    pairs.append((earlier, index))
        return components(len(self), pairs)

    def similar(self, distance: int) -> np.ndarray:
        """Each scene's near-duplicate cluster (exact duplicates included)."""
        if self.missing:
            first = next(self.keys[i] for i, value in enumerate(self.phash) if value is None)
            raise MissingFingerprints(
                f"{self.missing} of {len(self)} scenes have no fingerprint (the first is scene "
                f"{first}); add them with: mira fingerprint IN.tar -o OUT.tar"
            )
        near = cluster(np.array(self.phash, dtype=np.uint64), distance)
        exact = self.exact()
        pairs = [(label, i) for labels in (near, exact) for i, label in enumerate(labels.tolist())]
        return components(len(self), pairs)


def groups(labels: Sequence[int] | np.ndarray) -> list[list[int]]:
    """The members of every label shared by two or more items, by first member."""
    members: dict[int, list[int]] = {}
    for index, label in enumerate(np.asarray(labels).tolist()):
        members.setdefault(label, []).append(index)
    return [group for group in members.values() if len(group) > 1]


def crossing_pairs(labels: Sequence[int] | np.ndarray, part_of: Sequence[int]) -> int:
    """Pairs of items with one label that lie in different parts."""
    per_label: dict[int, dict[int, int]] = {}
    for label, part in zip(np.asarray(labels).tolist(), part_of, strict=True):
        counts = per_label.setdefault(label, {})
        counts[part] = counts.get(part, 0) + 1
    total = 0
    for counts in per_label.values():
        size = sum(counts.values())
        total += size * (size - 1) // 2 - sum(c * (c - 1) // 2 for c in counts.values())
    return total
