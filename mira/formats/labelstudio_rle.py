"""Label Studio's brush encoding (``BrushLabels`` with ``"format": "rle"``).

Label Studio stores a brush mask as the RGBA pixels of a canvas the size of the image
(``original_width`` × ``original_height`` × 4 bytes, row-major), packed with thi.ng's
``rle-pack``: a bit stream, most significant bit first, given as a list of byte values.
It starts with the value count (32 bits), the word size minus one (5 bits) and four run
length sizes minus one (4 bits each); then, until every value is out, blocks of: a repeat
flag (1 bit), a size index (2 bits), a length minus one (that many bits), and either one
word repeated `length` times (flag 1) or `length` words (flag 0). A pixel is in the mask
when its alpha (the fourth byte) is not 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mira.errors import FormatError

__all__ = ["brush_mask", "decode"]


class _Bits:
    """Reads big-endian bit fields from a byte string."""

    def __init__(self, data: bytes, where: str) -> None:
        self.data = data + b"\x00" * 8  # so a read never needs bounds checks on the bytes
        self.size = len(data) * 8
        self.position = 0
        self.where = where
        self._bits: np.ndarray | None = None

    def read(self, count: int) -> int:
        """The next `count` (≤ 32) bits as an unsigned integer."""
        start = self.position
        self._advance(count)
        first = start // 8
        chunk = int.from_bytes(self.data[first : first + 5], "big")
        return (chunk >> (40 - (start % 8) - count)) & ((1 << count) - 1)

    def words(self, n: int, size: int) -> np.ndarray:
        """The next `n` words of `size` bits, as an int64 array."""
        start = self.position
        self._advance(n * size)
        if self._bits is None:
            self._bits = np.unpackbits(np.frombuffer(self.data, dtype=np.uint8))
        fields = self._bits[start : start + n * size].reshape(n, size).astype(np.int64)
        return fields @ (1 << np.arange(size - 1, -1, -1, dtype=np.int64))

    def _advance(self, count: int) -> None:
        if self.position + count > self.size:
            raise FormatError(f"{self.where}: the brush RLE ends before its last value")
        self.position += count


def decode(rle: Sequence[int], where: str, expected: int | None = None) -> np.ndarray:
    """The values packed in a Label Studio RLE, as a uint32 array; with `expected`, a
    stream that says it holds another number of values is an error (before any work)."""
    if not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 256 for v in rle):
        raise FormatError(f"{where}: a brush RLE is a list of byte values (0-255)")
    bits = _Bits(bytes(rle), where)
    total = bits.read(32)
    if expected is not None and total != expected:
        raise FormatError(
            f"{where}: the brush RLE holds {total} values, but its canvas has {expected} "
            "(width x height x 4, RGBA)"
        )
    word = bits.read(5) + 1
    sizes = [bits.read(4) + 1 for _ in range(4)]
    if word > 32:
        raise FormatError(f"{where}: brush RLE word size {word} is over 32 bits")
    out = np.zeros(total, dtype=np.uint32)
    i = 0
    while i < total:
        repeat = bits.read(1)
        length = bits.read(sizes[bits.read(2)]) + 1
        end = min(i + length, total)
        if repeat:
            out[i:end] = bits.read(word)
        else:
            out[i:end] = bits.words(length, word)[: end - i]
        i = end
    return out


def brush_mask(rle: Sequence[int], width: int, height: int, where: str) -> np.ndarray:
    """The (height, width) bool mask of a brush drawn on a width × height canvas."""
    values = decode(rle, where, expected=width * height * 4)
    return values.reshape(height, width, 4)[:, :, 3] != 0
