"""Multi-index near-duplicate search against a brute-force oracle."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mira.errors import ValidationError
from mira.ops import near_duplicates as nd


def oracle_pairs(hashes: list[int], distance: int) -> list[tuple[int, int]]:
    return [
        (i, j)
        for i in range(len(hashes))
        for j in range(i + 1, len(hashes))
        if bin(hashes[i] ^ hashes[j]).count("1") <= distance
    ]


def oracle_clusters(hashes: list[int], distance: int) -> list[int]:
    label = list(range(len(hashes)))
    for i, j in oracle_pairs(hashes, distance):  # i < j, so labels only shrink
        old, new = max(label[i], label[j]), min(label[i], label[j])
        label = [new if x == old else x for x in label]
    return label


@st.composite
def hash_sets(draw: st.DrawFn) -> list[int]:
    """A few base hashes, each with copies a few bits away (so every distance matters)."""
    bases = draw(st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=8))
    hashes = []
    for base in bases:
        hashes.append(base)
        for flips in draw(st.lists(st.sets(st.integers(0, 63), max_size=18), max_size=5)):
            hashes.append(base ^ sum(1 << bit for bit in flips))
    return draw(st.permutations(hashes))


@settings(max_examples=60, deadline=None)
@given(hash_sets(), st.integers(0, nd.MAX_DISTANCE))
def test_close_pairs_are_exactly_the_brute_force_pairs(hashes: list[int], distance: int) -> None:
    pairs = [tuple(p) for p in nd.close_pairs(hashes, distance).tolist()]
    assert pairs == oracle_pairs(hashes, distance)


@settings(max_examples=60, deadline=None)
@given(hash_sets(), st.integers(0, nd.MAX_DISTANCE))
def test_clusters_are_the_connected_components(hashes: list[int], distance: int) -> None:
    assert nd.cluster(hashes, distance).tolist() == oracle_clusters(hashes, distance)


def test_identical_hashes_form_one_cluster_named_by_the_first() -> None:
    hashes = [5, 1 << 40, 5, 5, (1 << 40) | 1, 2**64 - 1]
    assert nd.cluster(hashes, 0).tolist() == [0, 1, 0, 0, 4, 5]
    assert nd.cluster(hashes, 1).tolist() == [0, 1, 0, 0, 1, 5]
    assert nd.cluster([], 3).tolist() == []


def test_popcount_without_numpy_bitwise_count(monkeypatch: pytest.MonkeyPatch) -> None:
    values = np.array([0, 1, 2**63, 2**64 - 1, 0x0F0F], dtype=np.uint64)
    monkeypatch.delattr(np, "bitwise_count", raising=False)
    assert nd.popcount(values).tolist() == [0, 1, 1, 64, 8]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (-1, "distance must be between 0 and 16, got -1"),
        (17, "distance must be between 0 and 16, got 17"),
        (2.5, "distance must be a whole number of bits, got 2.5"),
        (True, "distance must be a whole number of bits, got True"),
    ],
)
def test_bad_distances(value: object, message: str) -> None:
    with pytest.raises(ValidationError) as error:
        nd.check_distance(value)  # type: ignore[arg-type]
    assert str(error.value) == message
