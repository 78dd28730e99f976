"""Radix selection gives exactly numpy's quantiles, from values spread over spilled blocks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mira.ops import quantiles as q

POINTS = [0.0, 0.25, 0.5, 0.75, 1.0]
floats32 = st.floats(-1e6, 1e6, width=32, allow_nan=False)


@given(st.lists(floats32, min_size=1, max_size=200))
def test_order_statistics_are_the_sorted_values(values):
    data = np.array(values, dtype=np.float32)
    ranks = sorted({0, len(values) // 2, len(values) - 1})
    found = q.order_statistics(lambda: iter(np.array_split(data, 3)), ranks)
    expected = np.sort(data).astype(np.float64)
    assert [found[r] for r in ranks] == [expected[r] for r in ranks]


@given(st.lists(st.lists(floats32, max_size=60), min_size=1, max_size=4))
def test_spilled_radix_quantiles_equal_numpy(groups):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(q, "BLOCK", 4)
        sets = q.ValueSets()
        parts = [sets.new() for _ in groups]
        for part, values in zip(parts, groups, strict=True):
            for value in values:
                part.add(value)
        every = [v for values in groups for v in values]
        patch.setattr(q, "IN_MEMORY", 0)
        radix = q.quantiles(parts, POINTS)
        patch.setattr(q, "IN_MEMORY", 10**9)
        in_memory = q.quantiles(parts, POINTS)
    if not every:
        assert radix is None and in_memory is None
        return
    expected = np.quantile(np.array(every, dtype=np.float32).astype(np.float64), POINTS)
    expected[0], expected[-1] = min(every), max(every)
    assert radix == in_memory == expected.tolist()


def test_negative_zero_counts_as_zero():
    data = np.array([-0.0, 0.0, -1.0], dtype=np.float32)
    assert q.order_statistics(lambda: iter([data]), [0, 1, 2]) == {0: -1.0, 1: 0.0, 2: 0.0}
