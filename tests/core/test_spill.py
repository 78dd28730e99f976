"""Spilled columns read back exactly what was appended, wherever the chunk boundary falls."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mira.core.spill import SpilledColumn, SpilledText


@given(st.lists(st.integers(-(2**63), 2**63 - 1), max_size=60), st.integers(1, 7))
def test_column_items_slices_and_chunks_match_a_list(values, chunk):
    column = SpilledColumn("q", chunk=chunk)
    for value in values:
        column.append(value)
    assert len(column) == len(values)
    assert [column[i] for i in range(len(values))] == values
    assert list(column) == values
    assert np.concatenate([*column.chunks(), np.zeros(0, "q")]).tolist() == values
    assert column.numpy().tolist() == values
    for start in range(0, len(values) + 1, 3):
        assert column[start : start + 5].tolist() == values[start : start + 5]
    if values:
        assert column[-1] == values[-1]


def test_bytes_extend_across_chunks_and_bad_indices():
    column = SpilledColumn("B", chunk=4)
    column.extend(b"abcdef")
    column.extend(b"gh")
    assert column[0:8].tobytes() == b"abcdefgh"
    assert column[3:6].tobytes() == b"def"
    assert column._file is not None  # the full chunk went to the file
    with pytest.raises(IndexError):
        column[8]
    with pytest.raises(ValueError, match="step 1"):
        column[::2]


def test_small_column_never_makes_a_file():
    column = SpilledColumn("q", chunk=4)
    for value in range(3):
        column.append(value)
    assert column._file is None and list(column) == [0, 1, 2]


@given(st.lists(st.text(max_size=5), max_size=30), st.integers(1, 6))
def test_text_round_trips(texts, chunk):
    column = SpilledText(chunk=chunk)
    for text in texts:
        column.append(text)
    assert len(column) == len(texts)
    assert list(column) == texts
    if texts:
        assert column[-1] == texts[-1]
