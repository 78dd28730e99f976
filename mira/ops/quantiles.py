"""Exact quantiles of float32 values, in memory that does not grow with their count.

`ValueSets` holds sets of values (a category's annotation widths, say): each set keeps at
most `BLOCK` values in memory, and full blocks go to one spill file that all sets share
(`mira.core.spill`). `quantiles(sets, points)` gives numpy's default (linear) quantiles of
the values of one or several sets taken together, as float64, with the exact min and max:

- up to `IN_MEMORY` values: `np.quantile` of them all;
- beyond: radix selection over the blocks. Three passes of histograms of the values' bit
  patterns (11, 11 and 10 bits, ordered as the floats are) find the two order statistics
  around each quantile exactly, which numpy's interpolation formula then joins. Same
  numbers as `np.quantile`, with a block and a few histograms in memory.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from mira.core.spill import SpilledColumn

#: Values a set keeps in memory before they go to the spill file.
BLOCK = 1 << 14
#: At most this many values are gathered in memory for `np.quantile`.
IN_MEMORY = 1 << 18
_DIGITS = (11, 11, 10)
_SIGN = np.uint32(0x80000000)


class ValueSet:
    """One set's values: the last block in memory, earlier ones in the shared spill."""

    __slots__ = ("_pool", "_values", "_blocks", "_spilled", "low", "high")

    def __init__(self, pool: SpilledColumn) -> None:
        self._pool = pool
        self._values = array("f")
        self._blocks: list[tuple[int, int]] = []  # (start, count) in the pool
        self._spilled = 0  # values in `_blocks`
        self.low, self.high = math.inf, -math.inf

    def add(self, value: float) -> None:
        values = self._values
        values.append(value)
        if value < self.low:
            self.low = value
        if value > self.high:
            self.high = value
        if len(values) >= BLOCK:
            self._blocks.append((len(self._pool), len(values)))
            self._pool.extend(values)
            self._spilled += len(values)
            self._values = array("f")

    def __len__(self) -> int:
        return self._spilled + len(self._values)

    def chunks(self) -> Iterator[np.ndarray]:
        """The values, a block at a time (float32)."""
        for start, count in self._blocks:
            yield np.frombuffer(self._pool[start : start + count], dtype=np.float32)
        if self._values:
            yield np.frombuffer(self._values, dtype=np.float32).copy()


class ValueSets:
    """The spill that a stream's `ValueSet`s share."""

    def __init__(self) -> None:
        self._pool = SpilledColumn("f")

    def new(self) -> ValueSet:
        return ValueSet(self._pool)


def quantiles(sets: Sequence[ValueSet], points: Sequence[float]) -> list[float] | None:
    """numpy's linear quantiles at `points` of the values of `sets` together (float64;
    the first and last are the exact min and max when `points` start at 0 and end at 1),
    or None when there are no values."""
    sets = [s for s in sets if len(s)]
    if not sets:
        return None
    n = sum(len(s) for s in sets)

    def chunks() -> Iterator[np.ndarray]:
        for values in sets:
            yield from values.chunks()

    if n <= IN_MEMORY:
        data = np.concatenate(list(chunks())).astype(np.float64)
        result = np.quantile(data, list(points), overwrite_input=True).tolist()
    else:
        result = _selected(chunks, n, points)
    low, high = min(s.low for s in sets), max(s.high for s in sets)
    # the exact extremes, and quantiles kept between them (float32 may overshoot a hair)
    result = [min(max(v, low), high) for v in result]
    if points and points[0] == 0:
        result[0] = low
    if points and points[-1] == 1:
        result[-1] = high
    return result


def _selected(chunks: Callable[[], Iterator[np.ndarray]], n: int, points: Sequence[float]):
    """`np.quantile`'s linear method from the order statistics around each point."""
    virtual = (n - 1) * np.asarray(points, dtype=np.float64)
    below = np.floor(virtual).astype(np.int64)
    above = np.minimum(below + 1, n - 1)
    values = order_statistics(chunks, sorted(set(below.tolist()) | set(above.tolist())))
    a = np.array([values[i] for i in below.tolist()], dtype=np.float64)
    b = np.array([values[i] for i in above.tolist()], dtype=np.float64)
    t = virtual - below
    difference = b - a
    result = a + difference * t
    np.subtract(b, difference * (1 - t), out=result, where=t >= 0.5)
    return result.tolist()


def _order_keys(values: np.ndarray) -> np.ndarray:
    """float32 → uint32 that sort as the floats do (-0.0 taken as 0.0)."""
    bits = values.view(np.uint32)
    bits = np.where(bits == _SIGN, np.uint32(0), bits)
    return np.where(bits & _SIGN, ~bits, bits | _SIGN)


def _from_key(key: int) -> float:
    bits = key ^ 0x80000000 if key & 0x80000000 else ~key & 0xFFFFFFFF
    return float(np.array([bits], dtype=np.uint32).view(np.float32)[0])


def order_statistics(
    chunks: Callable[[], Iterator[np.ndarray]], ranks: Sequence[int]
) -> dict[int, float]:
    """The values at 0-based `ranks` of the sorted float32 values that `chunks()` yields
    (called once per pass), by radix selection on their order keys."""
    state = {rank: (0, rank) for rank in ranks}  # rank → (key prefix, rank within it)
    known = 0
    for width in _DIGITS:
        shift, mask = 32 - known - width, (1 << width) - 1
        prefixes = sorted({prefix for prefix, _ in state.values()})
        counts = {prefix: np.zeros(1 << width, dtype=np.int64) for prefix in prefixes}
        for chunk in chunks():
            keys = _order_keys(chunk)
            top = keys >> (32 - known) if known else None
            for prefix in prefixes:
                chosen = keys if top is None else keys[top == prefix]
                counts[prefix] += np.bincount((chosen >> shift) & mask, minlength=1 << width)
        for rank, (prefix, within) in state.items():
            running = np.cumsum(counts[prefix])
            digit = int(np.searchsorted(running, within, side="right"))
            before = int(running[digit - 1]) if digit else 0
            state[rank] = ((prefix << width) | digit, within - before)
        known += width
    return {rank: _from_key(prefix) for rank, (prefix, _) in state.items()}
