"""A JPEG's quality (1-100), read back from the quantisation tables in its header.

Encoders built on libjpeg (OpenCV, Pillow, ImageMagick, most cameras' software) make
their tables by scaling the two example tables of the JPEG standard (ITU T.81, Annex K)
with the IJG formula below; the quality whose scaled luminance table is nearest the file's
own (sum of absolute differences; the chrominance table breaks ties) is the file's quality:
exact for those encoders, the closest IJG equivalent for any other. Luminance decides
because it carries most of a file's bytes and what the eye sees (an encoder given two
qualities, one per table, is read as its luminance quality). Pixels derived from a JPEG and
encoded again at that quality come out about the size of their source.

Only the header is read (the DQT and SOF segments before the first scan), never pixels.
"""

from __future__ import annotations

import struct
from functools import lru_cache
from typing import NamedTuple

import numpy as np

__all__ = ["JpegTables", "estimate_quality", "ijg_table", "jpeg_quality", "read_tables"]

#: Annex K.1: the luminance and chrominance tables, in natural (row-major) order.
LUMINANCE = (
    16, 11, 10, 16, 24, 40, 51, 61,
    12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77,
    24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101,
    72, 92, 95, 98, 112, 100, 103, 99,
)  # fmt: skip
CHROMINANCE = (
    17, 18, 24, 47, 99, 99, 99, 99,
    18, 21, 26, 66, 99, 99, 99, 99,
    24, 26, 56, 99, 99, 99, 99, 99,
    47, 66, 99, 99, 99, 99, 99, 99,
    *(99,) * 32,
)  # fmt: skip

_SOS, _EOI, _DQT = 0xDA, 0xD9, 0xDB
#: Start-of-frame markers: C0-C3, C5-C7, C9-CB, CD-CF (C4, C8 and CC are something else).
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_STANDALONE = frozenset([0x01, 0xD8, *range(0xD0, 0xD8)])


def _zigzag() -> tuple[int, ...]:
    """Natural index of each coefficient in zigzag order (the order DQT stores them in)."""
    order = []
    for s in range(15):
        cells = [(row, s - row) for row in range(8) if 0 <= s - row < 8]
        order += [8 * row + col for row, col in (cells if s % 2 else reversed(cells))]
    return tuple(order)


ZIGZAG = _zigzag()


class JpegTables(NamedTuple):
    """The tables a JPEG's components use, in natural order (chrominance None for grey)."""

    luminance: tuple[int, ...]
    chrominance: tuple[int, ...] | None


def ijg_table(base: tuple[int, ...], quality: int) -> tuple[int, ...]:
    """`base` scaled to `quality` as libjpeg's `jpeg_set_quality` does (baseline: 1-255)."""
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    return tuple(min(max((value * scale + 50) // 100, 1), 255) for value in base)


def read_tables(data: bytes) -> JpegTables | None:
    """The quantisation tables of the JPEG whose first bytes are `data`, or None when they
    are not all there (not a JPEG, no DQT, or `data` ends before the first scan)."""
    if not data.startswith(b"\xff\xd8"):
        return None
    tables: dict[int, tuple[int, ...]] = {}
    selectors: list[int] = []
    position = 2
    while True:
        while position < len(data) and data[position] == 0xFF:
            position += 1  # a marker, possibly after fill bytes
        if position >= len(data):
            return None
        marker = data[position]
        position += 1
        if marker in _STANDALONE:
            continue
        if marker in (_SOS, _EOI):
            break
        if position + 2 > len(data):
            return None
        (length,) = struct.unpack(">H", data[position : position + 2])
        segment = data[position + 2 : position + length]
        if length < 2 or len(segment) != length - 2:
            return None
        if marker == _DQT:
            tables.update(_dqt(segment))
        elif marker in _SOF and len(segment) >= 6:
            count = segment[5]
            selectors = [segment[8 + 3 * i] for i in range(count) if 8 + 3 * i < len(segment)]
        position += length
    used = [tables.get(selector) for selector in selectors] or [tables.get(0), tables.get(1)]
    if not used or used[0] is None:
        return None
    chrominance = next((t for t in used[1:] if t is not None), None)
    return JpegTables(used[0], chrominance)


def _dqt(segment: bytes) -> dict[int, tuple[int, ...]]:
    """The tables of one DQT segment by id (8- or 16-bit entries), in natural order."""
    found: dict[int, tuple[int, ...]] = {}
    position = 0
    while position < len(segment):
        precision, table_id = segment[position] >> 4, segment[position] & 0x0F
        size = 64 * (2 if precision else 1)
        body = segment[position + 1 : position + 1 + size]
        if len(body) != size:
            break
        values = struct.unpack(">64H", body) if precision else tuple(body)
        natural = [0] * 64
        for k, index in enumerate(ZIGZAG):
            natural[index] = values[k]
        found[table_id] = tuple(natural)
        position += 1 + size
    return found


@lru_cache(maxsize=1)
def _scaled() -> tuple[np.ndarray, np.ndarray]:
    """IJG tables for qualities 1..100: luminance and chrominance, each (100, 64)."""
    qualities = range(1, 101)
    return (
        np.array([ijg_table(LUMINANCE, q) for q in qualities], dtype=np.int64),
        np.array([ijg_table(CHROMINANCE, q) for q in qualities], dtype=np.int64),
    )


def estimate_quality(tables: JpegTables) -> int:
    """The IJG quality (1-100) whose luminance table is nearest that of `tables`, then
    whose chrominance table is; remaining ties go to the higher quality."""
    luminance, chrominance = _scaled()
    error = np.abs(luminance - np.array(tables.luminance)).sum(axis=1)
    if tables.chrominance is not None:
        tie_break = np.abs(chrominance - np.array(tables.chrominance)).sum(axis=1)
        error = error * (int(tie_break.max()) + 1) + tie_break
    best = np.flatnonzero(error == error.min())
    return int(best[-1]) + 1


def jpeg_quality(data: bytes) -> int | None:
    """The quality of the JPEG whose first bytes are `data`, or None when its tables are not
    in `data` (see `read_tables`)."""
    tables = read_tables(data)
    return None if tables is None else estimate_quality(tables)
