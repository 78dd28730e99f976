"""mira.core.experimental: safe crops, box collapsing and labeller consensus, exact values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mira.core import experimental, utils


def test_search_from_a_corner() -> None:
    include = np.array([[10, 10, 20, 20]])
    # Free up to the box: the widest rectangle from (0, 0) either stops at x = 10 (any
    # height) or holds the box; at most 15 x 30 it is 10 wide and 30 tall.
    assert experimental.search(0, 0, np.empty((0, 4)), include, 30, 15) == (10, 30, True)
    assert experimental.search(0, 0, np.empty((0, 4)), include, 30, 25) == (25, 30, True)
    # Inside a box: step down past it.
    assert experimental.search(12, 12, np.empty((0, 4)), include, 30, 30) == (1, 8, False)
    assert experimental.search(0, 0, np.array([[0, 0, 5, 5]]), include, 30, 30) == (1, 5, False)


def test_find_acceptable_crops_exact() -> None:
    crops = experimental.find_acceptable_crops(
        np.array([[10, 10, 20, 20]]), width=40, height=30, max_width=25, max_height=30
    )
    assert crops.dtype == np.int32
    assert crops.tolist() == [[0, 0, 25, 30], [20, 0, 40, 30]]  # grown back left
    assert experimental.find_acceptable_crops(np.empty((0, 4)), 10, 10).tolist() == [[0, 0, 10, 10]]
    cache: dict = {}
    first = experimental.find_acceptable_crops(np.array([[1, 1, 3, 3]]), 8, 8, cache=cache)
    assert (
        len(cache) == 1
        and experimental.find_acceptable_crops(np.array([[1, 1, 3, 3]]), 8, 8, cache=cache) is first
    )


boxes = st.lists(
    st.tuples(st.integers(0, 50), st.integers(0, 50), st.integers(1, 25), st.integers(1, 25)),
    max_size=6,
).map(lambda rows: np.array([[x, y, x + w, y + h] for x, y, w, h in rows]).reshape(-1, 4))


@settings(max_examples=60, deadline=None)
@given(boxes, st.integers(5, 60), st.integers(5, 60))
def test_crops_never_split_a_box(include, max_width, max_height) -> None:
    crops = experimental.find_acceptable_crops(
        include, 64, 64, max_width=max_width, max_height=max_height
    )
    assert ((crops[:, 2:] - crops[:, :2]) <= [max_width, max_height]).all()
    assert (crops[:, :2] >= 0).all() and (crops[:, 2:] <= 64).all()
    if len(include) and len(crops):
        coverage = utils.compute_coverage(include, crops)
        assert np.isin(coverage, [0.0, 1.0]).all()


def test_collapse_boxes() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60], [2, 0, 12, 10]])
    assert experimental.collapse_boxes(boxes).tolist() == [[2, 1, 10, 10], [50, 50, 60, 60]]
    assert experimental.collapse_boxes(boxes, mode="largest").tolist() == [
        [0, 0, 12, 11],
        [50, 50, 60, 60],
    ]
    with pytest.raises(ValueError, match="mode must be 'smallest' or 'largest'"):
        experimental.collapse_boxes(boxes, mode="middle")


def test_find_consensus_regions() -> None:
    first = np.array([[0, 0, 10, 10, 0], [20, 20, 30, 30, 1]])
    second = np.array([[1, 1, 10, 10, 0], [40, 40, 50, 50, 1]])
    include, exclude = experimental.find_consensus_regions([first, second])
    assert include.tolist() == [[0, 0, 10, 10], [1, 1, 10, 10]]
    assert exclude.tolist() == [[20, 20, 30, 30], [40, 40, 50, 50]]


def test_visualize_crops() -> None:
    visual = experimental.visualize_crops(
        np.array([[2, 2, 4, 4]]), np.array([[0, 0, 8, 8]]), 10, 10, exclude=np.array([[6, 6, 7, 7]])
    )
    assert visual.shape == (10, 10, 4)
    assert visual[3, 3].tolist() == [0, 255, 0, 255] and visual[6, 6].tolist() == [255, 0, 0, 255]
