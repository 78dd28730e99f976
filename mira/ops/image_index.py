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
        pairs = []
        for candidates in self.images.shared_lengths():
            first: dict[bytes, int] = {}  # identical bytes have one length: one table each
            for index in candidates.tolist():
                earlier = first.setdefault(self.images.digest(index), index)
                if earlier != index:
                    pairs.append((earlier, index))
        at = self._pixels.numpy()
        pixels = np.flatnonzero(at >= 0)
        digests = self._pixel_digests.numpy().reshape(-1, 32)[at[pixels]]
        same_bytes = np.array(pairs, dtype=np.int64).reshape(-1, 2)
        return components(len(self), np.concatenate([same_bytes, same_rows(pixels, digests)]))

    def similar(self, distance: int) -> np.ndarray:
        """Each scene's near-duplicate cluster (exact duplicates included)."""
        if self.missing:
            first = next(self.keys[i] for i, at in enumerate(self._pixels) if at < 0)
            raise MissingFingerprints(
                f"{self.missing} of {len(self)} scenes have no fingerprint (the first is scene "
                f"{first}); add them with: mira fingerprint IN.tar -o OUT.tar"
            )
        near = cluster(self._phash.numpy(), distance)
        joined = np.concatenate([label_pairs(near), label_pairs(self.exact())])
        return components(len(self), joined)


def same_rows(items: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Pairs (first, later) of `items` whose `rows` (one byte string per item) are equal."""
    if not len(items):
        return np.zeros((0, 2), dtype=np.int64)
    whole = np.ascontiguousarray(rows).view(f"V{rows.shape[1]}").reshape(-1)
    _, inverse = np.unique(whole, return_inverse=True)
    return label_pairs(items[first_of(inverse.reshape(-1))], items)


def first_of(labels: np.ndarray) -> np.ndarray:
    """Per item, the position of the first item with its label."""
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    return first[inverse.reshape(-1)]


def label_pairs(labels: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
    """(label, item) pairs for the items whose label is not themselves, as a (P, 2) array."""
    items = np.arange(len(labels), dtype=np.int64) if items is None else items
    moved = labels != items
    return np.stack([labels[moved], items[moved]], axis=1).astype(np.int64)


def groups(labels: Sequence[int] | np.ndarray) -> list[list[int]]:
    """The members of every label shared by two or more items, by first member."""
    labels = np.asarray(labels).reshape(-1)
    if not len(labels):
        return []
    order = np.argsort(labels, kind="stable")
    ordered = labels[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    sizes = np.diff(np.r_[starts, len(ordered)])
    shared = starts[sizes > 1]
    found = [order[s : s + n].tolist() for s, n in zip(shared, sizes[sizes > 1], strict=True)]
    return sorted(found, key=lambda members: members[0])


def crossing_pairs(labels: Sequence[int] | np.ndarray, part_of: Sequence[int]) -> int:
    """Pairs of items with one label that lie in different parts."""
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    parts = np.asarray(part_of, dtype=np.int64).reshape(-1)
    if len(labels) != len(parts):
        raise ValueError(f"{len(labels)} labels for {len(parts)} parts")
    if not len(labels):
        return 0
    _, per_label = np.unique(labels, return_counts=True)
    _, per_cell = np.unique(labels * (int(parts.max()) + 1) + parts, return_counts=True)
    return int((per_label * (per_label - 1) // 2).sum() - (per_cell * (per_cell - 1) // 2).sum())
