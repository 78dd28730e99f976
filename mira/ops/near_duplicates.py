"""Near-duplicate search over 64-bit perceptual hashes without comparing all pairs.

Multi-index hashing (Norouzi et al., 2012): each hash is cut into four 16-bit chunks. Two
hashes within Hamming distance ``d`` have, by the pigeonhole principle, at least one chunk
within ``d // 4`` bits of the other's, so candidates are found by looking up, in each
chunk's column (sorted, with a table of where each of the 65,536 values starts), every
value within that many bits (a fixed set of XOR masks), and
only candidates are compared in full. Everything is vectorised with numpy: 100,000 hashes
take about a second at the default distance.

Clusters are the connected components of "within ``d``" (single linkage): a chain of
near-duplicates is one cluster, labelled by its first member in input order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from itertools import combinations

import numpy as np

from mira.errors import ValidationError

CHUNKS = 4
CHUNK_BITS = 16
#: Above this distance a pHash match says little (docs/near-duplicates.md: false pairs
#: from 14 bits on), and the lookups per chunk grow past thousands.
MAX_DISTANCE = 16


def check_distance(distance: int) -> int:
    """Hamming distances are whole numbers of bits, 0 to `MAX_DISTANCE`."""
    if isinstance(distance, bool) or not isinstance(distance, (int, np.integer)):
        raise ValidationError(f"distance must be a whole number of bits, got {distance!r}")
    if not 0 <= distance <= MAX_DISTANCE:
        raise ValidationError(f"distance must be between 0 and {MAX_DISTANCE}, got {distance}")
    return int(distance)


def popcount(values: np.ndarray) -> np.ndarray:
    """Set bits of each uint64 (numpy's own count where it has one, else SWAR)."""
    values = np.asarray(values, dtype=np.uint64)
    if hasattr(np, "bitwise_count"):  # numpy >= 2.0
        return np.bitwise_count(values).astype(np.int64)
    x = values - ((values >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return ((x * np.uint64(0x0101010101010101)) >> np.uint64(56)).astype(np.int64)


@cache
def _masks(radius: int) -> np.ndarray:
    """Every 16-bit value with at most `radius` bits set."""
    masks = [0]
    for count in range(1, radius + 1):
        masks += [sum(1 << bit for bit in bits) for bits in combinations(range(CHUNK_BITS), count)]
    return np.array(masks, dtype=np.int64)


def close_pairs(hashes: Sequence[int] | np.ndarray, distance: int) -> np.ndarray:
    """Every pair ``(i, j)``, ``i < j``, of hashes within `distance` bits, as a sorted
    (P, 2) int64 array."""
    distance = check_distance(distance)
    values = _as_uint64(hashes)
    n = len(values)
    found: list[np.ndarray] = []
    radius = distance // CHUNKS
    for chunk in range(CHUNKS):
        column = ((values >> np.uint64(chunk * CHUNK_BITS)) & np.uint64(0xFFFF)).astype(np.int64)
        order = np.argsort(column, kind="stable")
        sizes = np.bincount(column, minlength=1 << CHUNK_BITS)
        starts = np.cumsum(sizes) - sizes  # where each chunk value begins in `order`
        for mask in _masks(radius):
            wanted = column ^ mask
            low, counts = starts[wanted], sizes[wanted]
            total = int(counts.sum())
            if total == 0:
                continue
            first = np.repeat(np.arange(n, dtype=np.int64), counts)
            # the k-th candidate of a query sits at low + (k - candidates before that query)
            shift = np.repeat(low - (np.cumsum(counts) - counts), counts)
            second = order[np.arange(total, dtype=np.int64) + shift]
            keep = first < second
            first, second = first[keep], second[keep]
            close = popcount(values[first] ^ values[second]) <= distance
            found.append(first[close] * n + second[close])
    if not found:
        return np.zeros((0, 2), dtype=np.int64)
    codes = np.unique(np.concatenate(found))
    return np.stack([codes // n, codes % n], axis=1)


def components(count: int, pairs: Iterable[tuple[int, int]] | np.ndarray) -> np.ndarray:
    """For `count` items joined by `pairs`, each item's component, named by its smallest
    member.

    Vectorised hook-and-compress over a forest in which every item points at a smaller one
    (or itself): each round hooks the larger root of every pair that is still split onto
    the smaller root, then jumps pointers until each item points at its root. Roots only
    ever get smaller, so the loop ends, and a root is its tree's smallest member.
    """
    labels = np.arange(count, dtype=np.int64)
    edges = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    first, second = edges[:, 0], edges[:, 1]
    while len(first):
        low, high = labels[first], labels[second]
        split = low != high
        first, second, low, high = first[split], second[split], low[split], high[split]
        if not len(first):
            break
        np.minimum.at(labels, np.maximum(low, high), np.minimum(low, high))
        while True:
            jumped = labels[labels]
            if np.array_equal(jumped, labels):
                break
            labels = jumped
    return labels


def cluster(hashes: Sequence[int] | np.ndarray, distance: int) -> np.ndarray:
    """Each hash's cluster (its first member's index): identical hashes are compared once,
    so a thousand copies of one image cost one lookup."""
    values = _as_uint64(hashes)
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64)
    unique, first, inverse = np.unique(values, return_index=True, return_inverse=True)
    roots = components(len(unique), close_pairs(unique, distance))
    # name each cluster by its first item: the smallest first index over its unique hashes
    smallest = np.full(len(unique), len(values), dtype=np.int64)
    np.minimum.at(smallest, roots, first)
    return smallest[roots][inverse.reshape(-1)]


def _as_uint64(hashes: Sequence[int] | np.ndarray) -> np.ndarray:
    if isinstance(hashes, np.ndarray):
        return hashes.astype(np.uint64, copy=False)
    return np.fromiter((int(h) for h in hashes), dtype=np.uint64, count=len(hashes))
