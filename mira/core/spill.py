"""Append-only columns whose memory does not grow with the stream: full chunks go to an
unnamed temporary file.

Per-scene tables (keys, byte lengths, where each image lies) of a million-scene stream
would otherwise hold tens of MB. A column keeps at most one chunk in memory; the file is
made on the first full chunk (so small streams never touch the disk) and is unlinked from
the start (`tempfile.TemporaryFile`), so nothing is left behind, even after kill -9.
"""

from __future__ import annotations

import os
import tempfile
from array import array
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

#: Items held in memory per column before they go to the file.
CHUNK = 1 << 16


class SpilledColumn:
    """A column of one `array` typecode: `append`/`extend`, `len`, items and slices by
    index, and `chunks()` as numpy arrays in order."""

    def __init__(self, typecode: str, chunk: int = CHUNK) -> None:
        self.typecode = typecode
        self.itemsize = array(typecode).itemsize
        self._chunk = chunk
        self._tail = array(typecode)
        self._file: Any = None
        self._stored = 0  # items in the file

    def append(self, value: Any) -> None:
        self._tail.append(value)
        if len(self._tail) >= self._chunk:
            self._spill()

    def extend(self, values: Iterable[Any] | bytes) -> None:
        if self.typecode == "B" and isinstance(values, (bytes, bytearray)):
            self._tail.frombytes(values)
        else:
            self._tail.extend(values)
        if len(self._tail) >= self._chunk:
            self._spill()

    def _spill(self) -> None:
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="mira-spill-", buffering=0)
        self._file.write(self._tail.tobytes())
        self._stored += len(self._tail)
        self._tail = array(self.typecode)

    def __len__(self) -> int:
        return self._stored + len(self._tail)

    def _read(self, start: int, stop: int) -> array:
        """Items [start, stop) as an array (clipped to the column)."""
        start, stop = max(start, 0), min(stop, len(self))
        result = array(self.typecode)
        if start >= stop:
            return result
        if start < self._stored:
            end = min(stop, self._stored)
            size = (end - start) * self.itemsize
            data = os.pread(self._file.fileno(), size, start * self.itemsize)
            if len(data) != size:
                raise OSError(f"spill file: read {len(data)} of {size} bytes")
            result.frombytes(data)
        if stop > self._stored:
            result.extend(self._tail[max(start - self._stored, 0) : stop - self._stored])
        return result

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step != 1:
                raise ValueError("spilled columns take slices with step 1 only")
            return self._read(start, stop)
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        if index >= self._stored:
            return self._tail[index - self._stored]
        return self._read(index, index + 1)[0]

    def chunks(self) -> Iterator[np.ndarray]:
        """The items in order, a chunk (at most `chunk` items) at a time."""
        for start in range(0, self._stored, self._chunk):
            yield np.frombuffer(self._read(start, start + self._chunk), dtype=self.typecode)
        if self._tail:
            yield np.frombuffer(self._tail, dtype=self.typecode).copy()

    def __iter__(self) -> Iterator[Any]:
        for chunk in self.chunks():
            yield from chunk.tolist()

    def numpy(self) -> np.ndarray:
        """The whole column in memory (for the callers that need it dense)."""
        parts = list(self.chunks())
        return np.concatenate(parts) if parts else np.zeros(0, dtype=self.typecode)


class SpilledText:
    """A sequence of str in one spilled byte column plus each one's end offset."""

    def __init__(self, chunk: int = CHUNK) -> None:
        self._text = SpilledColumn("B", chunk)
        self._ends = SpilledColumn("q", chunk)
        self._size = 0

    def append(self, text: str) -> None:
        data = text.encode()
        self._text.extend(data)
        self._size += len(data)
        self._ends.append(self._size)

    def __len__(self) -> int:
        return len(self._ends)

    def __getitem__(self, index: int) -> str:
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        start = self._ends[index - 1] if index else 0
        return self._text[start : self._ends[index]].tobytes().decode()
