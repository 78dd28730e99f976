"""A JSON file read through a guard on its nesting depth, for the streaming parsers.

ijson builds a prefix string per nesting level for every event, so a document nested a
hundred thousand levels deep (a damaged or hostile file) takes memory that grows with the
square of its depth: gigabytes from a few hundred kilobytes. `DepthGuard` sees each chunk
before the parser does and refuses the file once its brackets, outside strings, nest
deeper than `MAX_DEPTH` levels (Python's own parser stops near 1000). The scan is a few
numpy passes per chunk: about a second per GB.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mira.errors import FormatError

#: Deeper than any detection format needs (COCO: 5 levels, Label Studio: about 8).
MAX_DEPTH = 512
CHUNK = 1 << 20  # the read size the parsers are given: fewer, larger numpy passes
#: The bytes that matter, by kind: 1 opens, 2 closes, 3 is a quote, 4 a backslash.
_KINDS = np.zeros(256, dtype=np.uint8)
_KINDS[[0x5B, 0x7B]], _KINDS[[0x5D, 0x7D]], _KINDS[0x22], _KINDS[0x5C] = 1, 2, 3, 4


class DepthGuard:
    """A binary file (`read` only) whose bytes are checked as they are read; a
    FormatError naming `path` when they nest too deeply."""

    def __init__(self, file: Any, path: str, limit: int = MAX_DEPTH) -> None:
        self.file, self.path, self.limit = file, path, limit
        self.depth = 0  # brackets open, outside strings, at the end of what was read
        self.in_string = False
        self.backslashes = 0  # at the end of what was read (odd: the next byte is escaped)

    def read(self, size: int = -1) -> bytes:
        data = self.file.read(size)
        if data:
            self._scan(np.frombuffer(data, dtype=np.uint8))
        return data

    def _scan(self, chunk: np.ndarray) -> None:
        kinds = _KINDS[chunk]
        at = np.flatnonzero(kinds)
        kinds = kinds[at]
        slashes = at[kinds == 4]
        quotes = at[kinds == 3]
        if len(slashes) or self.backslashes:
            quotes = quotes[self._unescaped(quotes, slashes)]
        brackets = kinds < 3
        where, steps = at[brackets], np.where(kinds[brackets] == 1, 1, -1)
        inside = (np.searchsorted(quotes, where) + self.in_string) % 2 == 1
        steps = steps[~inside]
        if len(steps):
            depths = self.depth + np.cumsum(steps)
            if int(depths.max()) > self.limit:
                raise FormatError(
                    f"{self.path}: invalid JSON: nested deeper than {self.limit} levels"
                )
            self.depth = int(depths[-1])
        self.in_string = bool((len(quotes) + self.in_string) % 2)
        self.backslashes = self._run_before(len(chunk), slashes)

    def _unescaped(self, quotes: np.ndarray, slashes: np.ndarray) -> np.ndarray:
        """Which `quotes` follow an even run of backslashes (so they open or close)."""
        runs = np.zeros(len(quotes), dtype=np.int64)
        if len(slashes):
            starts = np.flatnonzero(np.r_[True, np.diff(slashes) != 1])  # each run's first
            first = np.repeat(starts, np.diff(np.r_[starts, len(slashes)]))
            length = np.arange(len(slashes)) - first + 1  # the run's length to each one
            length = np.where(slashes[first] == 0, length + self.backslashes, length)
            last = np.maximum(np.searchsorted(slashes, quotes) - 1, 0)  # the one before
            runs = np.where(slashes[last] == quotes - 1, length[last], 0)
        runs = np.where(quotes == 0, self.backslashes, runs)
        return runs % 2 == 0

    def _run_before(self, position: int, slashes: np.ndarray) -> int:
        """The backslashes just before `position` (the end of the chunk, here)."""
        count, index = 0, len(slashes) - 1
        while index >= 0 and slashes[index] == position - 1 - count:
            count, index = count + 1, index - 1
        return count + self.backslashes if count == position else count
