"""Which scenes of a stream show the same picture: exact duplicates (identical bytes, or
identical decoded pixels when fingerprints are stored) and near-duplicate clusters
(perceptual hashes within a Hamming distance, see `mira.ops.near_duplicates`).

`ImageIndex` watches a stream once, keeping a few bytes per scene. Scenes without a
fingerprint are matched by their bytes alone (`mira.ops.image_bytes`): an image left in its
tarball is hashed only when another image has the same length, so most are never read.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from mira.core.spill import SpilledColumn
from mira.errors import ValidationError
from mira.ops.image_bytes import ImageBytes, ImageIdentity
from mira.ops.near_duplicates import cluster, components

#: The default Hamming distance for near-duplicates, measured (docs/near-duplicates.md):
#: 99% of non-flipped copies found, no false pair; the first false pair came at 14 bits.
DEFAULT_DISTANCE = 10


class MissingFingerprints(ValidationError):
    """Near-duplicates need every scene's fingerprint."""


class ImageIndex:
    """Per scene, in stream order: its key and what identifies its image, in spilled
    columns (about 40 bytes a scene, 80 with a fingerprint, on disk beyond a chunk)."""

    def __init__(self) -> None:
        self.images = ImageBytes()
        self.keys = self.images.keys
        self._phash = SpilledColumn("Q")  # 0 where there is no fingerprint (see `_pixels`)
        self._pixels = SpilledColumn("q")  # the pixel digest's index in `_pixel_digests`, or -1
        self._pixel_digests = SpilledColumn("B")
        self.missing = 0  # scenes without a stored fingerprint

    def add(self, scene: Any, image: ImageIdentity | None = None) -> None:
        """Index one scene; `image`, its identity when the caller made it already (so that
        an image held in memory is hashed once)."""
        index = len(self.keys)
        key = scene.key if scene.key is not None else f"{index:06d}"
        fingerprint = scene.image_source.fingerprint
        if fingerprint is None:
            self.missing += 1
            self.images.add(key, ImageIdentity(scene) if image is None else image)
            self._phash.append(0)
            self._pixels.append(-1)
            return
        self.images.add(key, ImageIdentity(scene, bytes.fromhex(fingerprint.sha256)))
        self._phash.append(fingerprint.phash)
        self._pixels.append(len(self._pixel_digests) // 32)
        self._pixel_digests.extend(bytes.fromhex(fingerprint.pixels))

    def watch(self, scenes: Iterable[Any]) -> Iterator[Any]:
        """The same stream, each scene added as it goes by."""
        for scene in scenes:
            self.add(scene)
            yield scene

    def __len__(self) -> int:
        return len(self.keys)

    def exact(self) -> np.ndarray:
        """Each scene's exact-duplicate group (named by its first scene): the same bytes,
        or the same pixels where both have fingerprints. Bytes are compared only between
        images of one length, and read only when no fingerprint holds their sha256."""
        first: dict[bytes, int] = {}
        pairs = []
        for candidates in self.images.shared_lengths():
            for index in candidates.tolist():
                earlier = first.setdefault(b"b" + self.images.digest(index), index)
                if earlier != index:
                    pairs.append((earlier, index))
        for index, at in enumerate(self._pixels):
            if at >= 0:
                name = b"p" + self._pixel_digests[32 * at : 32 * at + 32].tobytes()
                earlier = first.setdefault(name, index)
                if earlier != index:
                    pairs.append((earlier, index))
        return components(len(self), pairs)

    def similar(self, distance: int) -> np.ndarray:
        """Each scene's near-duplicate cluster (exact duplicates included)."""
        if self.missing:
            first = next(self.keys[i] for i, at in enumerate(self._pixels) if at < 0)
            raise MissingFingerprints(
                f"{self.missing} of {len(self)} scenes have no fingerprint (the first is scene "
                f"{first}); add them with: mira fingerprint IN.tar -o OUT.tar"
            )
        near = cluster(self._phash.numpy(), distance)
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
