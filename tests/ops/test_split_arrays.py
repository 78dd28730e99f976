"""The array forms behind a split of a million scenes: each checked against a plain-Python
reference on random inputs, and the plain split against the placement it replaced."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mira.ops._partition import largest_remainder
from mira.ops.image_index import crossing_pairs, groups, same_rows
from mira.ops.near_duplicates import components
from mira.ops.split import members, part_of, split_assignments, split_indices


def reference_components(count: int, pairs: list[tuple[int, int]]) -> list[int]:
    """Each item's smallest reachable item, by search."""
    neighbours: dict[int, set[int]] = {i: set() for i in range(count)}
    for a, b in pairs:
        neighbours[a].add(b)
        neighbours[b].add(a)
    result = [-1] * count
    for start in range(count):
        if result[start] >= 0:
            continue
        seen, stack = {start}, [start]
        while stack:
            for other in neighbours[stack.pop()] - seen:
                seen.add(other)
                stack.append(other)
        for item in seen:
            result[item] = min(seen)
    return result


edges = st.integers(1, 60).flatmap(
    lambda n: st.tuples(
        st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=80)
    )
)


@settings(max_examples=200, deadline=None)
@given(edges)
def test_components_are_those_found_by_search(graph) -> None:
    count, pairs = graph
    assert components(count, pairs).tolist() == reference_components(count, pairs)


def test_components_of_a_long_chain_in_reverse_order() -> None:
    pairs = [(i, i - 1) for i in range(5000, 0, -1)]
    assert components(5001, pairs).tolist() == [0] * 5001
    assert components(3, []).tolist() == [0, 1, 2]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 8), max_size=40), st.integers(1, 4))
def test_groups_and_crossing_pairs_match_their_definitions(labels, parts) -> None:
    where = [(i * 7 + label) % parts for i, label in enumerate(labels)]
    expected: dict[int, list[int]] = {}
    for index, label in enumerate(labels):
        expected.setdefault(label, []).append(index)
    assert groups(labels) == [g for g in expected.values() if len(g) > 1]
    cut = sum(
        1
        for i in range(len(labels))
        for j in range(i)
        if labels[i] == labels[j] and where[i] != where[j]
    )
    assert crossing_pairs(labels, where) == cut


def test_same_rows_pairs_every_later_copy_with_the_first() -> None:
    rows = np.array([[1, 2], [3, 4], [1, 2], [1, 2], [3, 4], [5, 6]], dtype=np.uint8)
    items = np.array([2, 5, 7, 8, 9, 11])
    assert same_rows(items, rows).tolist() == [[2, 7], [2, 8], [5, 9]]
    assert same_rows(items[:0], rows[:0]).shape == (0, 2)


@settings(max_examples=100, deadline=None)
@given(
    st.integers(0, 300),
    st.sampled_from([[0.5, 0.5], [0.7, 0.15, 0.15], [0.1] * 10]),
    st.integers(0, 99),
)
def test_the_plain_split_is_the_seeded_permutation_cut_at_the_quotas(n, sizes, seed) -> None:
    order = np.random.default_rng(seed).permutation(n)
    bounds = np.cumsum([0, *largest_remainder(sizes, n)])
    expected = [sorted(order[bounds[p] : bounds[p + 1]].tolist()) for p in range(len(sizes))]
    assert split_indices(n, sizes, seed) == expected
    assignments = split_assignments(n, sizes, seed)
    assert assignments.dtype == np.int64
    assert [m.tolist() for m in members(assignments, len(sizes))] == expected
    assert part_of(expected) == assignments.tolist()
