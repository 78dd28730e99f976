"""Image width and height from the file header alone, without decoding any pixels.

Reading the size from the header is what lets `stats`, `split` and `import-qsl` run at
I/O speed. The sizes returned are those of the *decoded* image as OpenCV (and a browser)
sees it: a JPEG whose EXIF orientation is 5-8 (a quarter turn) has width and height
swapped. Anything not recognised, truncated or implausible gives None, so the caller
falls back to decoding.

Supported: JPEG (every SOF marker, baseline, progressive, lossless, arithmetic), PNG,
GIF, BMP (OS/2 and Windows headers, bottom-up or top-down), WebP (VP8, VP8L, VP8X) and
TIFF (little- and big-endian, SHORT or LONG size tags).
"""

from __future__ import annotations

import os
import struct
from typing import BinaryIO

__all__ = ["read_dimensions", "read_file_dimensions", "read_stream_dimensions"]

#: JPEG start-of-frame markers: C0-C3, C5-C7, C9-CB, CD-CF (C4, C8 and CC are not frames).
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
#: JPEG markers that stand alone, without a length field.
_STANDALONE_MARKERS = frozenset([0x01, 0xD8, *range(0xD0, 0xD8)])
#: Give up on a JPEG after this many segments (a corrupt file must not loop for long).
_MAX_JPEG_SEGMENTS = 4096
_ORIENTATION_TAG = 274  # EXIF/TIFF orientation (0x0112)
_EXIF = b"Exif\x00\x00"


class _Truncated(Exception):
    """The header ends before the field we need."""


class _Reader:
    """Random access to the first bytes of an image, from memory or from an open file."""

    def __init__(self, data: bytes | None = None, file: BinaryIO | None = None) -> None:
        self._data = memoryview(data) if data is not None else None  # slices copy nothing
        self._file = file

    def read(self, offset: int, size: int) -> bytes:
        """Exactly `size` bytes at `offset`, or _Truncated."""
        if self._data is not None:
            chunk = bytes(self._data[offset : offset + size])
        else:
            assert self._file is not None
            self._file.seek(offset)
            chunk = self._file.read(size)
        if len(chunk) != size:
            raise _Truncated
        return chunk

    def unpack(self, fmt: str, offset: int) -> tuple[int, ...]:
        return struct.unpack(fmt, self.read(offset, struct.calcsize(fmt)))


def read_dimensions(data: bytes) -> tuple[int, int] | None:
    """(width, height) of encoded image bytes, or None when the header does not tell."""
    return _dimensions(_Reader(data=data))


def read_file_dimensions(path: str | os.PathLike[str]) -> tuple[int, int] | None:
    """(width, height) of an image file, reading only the header bytes (seeking past
    JPEG segments); None when unknown. A missing file raises OSError as `open` does."""
    with open(path, "rb") as f:
        return read_stream_dimensions(f)


def read_stream_dimensions(stream: BinaryIO) -> tuple[int, int] | None:
    """(width, height) from a seekable binary stream whose image starts at position 0
    (an open file, a tar member from `extractfile`); reads headers only."""
    return _dimensions(_Reader(file=stream))


def _dimensions(reader: _Reader) -> tuple[int, int] | None:
    try:
        head = reader.read(0, 12)
        found = _dispatch(reader, head)
    except (_Truncated, struct.error):
        return None
    if found is None:
        return None
    width, height, orientation = found
    if width <= 0 or height <= 0:
        return None
    if orientation in (5, 6, 7, 8):  # a quarter turn: the decoded image is transposed
        return height, width
    return width, height


#: (width, height, EXIF orientation) as stored in the file, before orientation is applied.
_Found = tuple[int, int, int]


def _dispatch(reader: _Reader, head: bytes) -> _Found | None:
    if head.startswith(b"\xff\xd8"):
        return _jpeg(reader)
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return _png(reader)
    if head.startswith((b"GIF87a", b"GIF89a")):  # the logical screen, which OpenCV decodes
        width, height = reader.unpack("<HH", 6)
        return width, height, 1
    if head.startswith(b"BM"):
        return _bmp(reader)
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return _webp(reader)
    if head.startswith((b"II*\x00", b"MM\x00*")):
        fields = _ifd0_fields(reader, 0, wanted=(256, 257, _ORIENTATION_TAG))
        if 256 not in fields or 257 not in fields:
            return None
        return fields[256], fields[257], fields.get(_ORIENTATION_TAG, 1)
    return None


def _png(reader: _Reader) -> _Found | None:
    """IHDR gives the size; an eXIf chunk (OpenCV honours it before or after the image
    data) may turn it, so the chunks are walked to IEND (headers only)."""
    if reader.read(12, 4) != b"IHDR":
        return None
    width, height = reader.unpack(">II", 16)
    offset = 8
    while True:
        length, kind = reader.unpack(">I4s", offset)
        if kind == b"eXIf":
            return width, height, _tiff_orientation(reader, offset + 8)
        if kind == b"IEND":
            return width, height, 1
        offset += 12 + length


def _bmp(reader: _Reader) -> _Found | None:
    (header_size,) = reader.unpack("<I", 14)
    if header_size == 12:  # OS/2 BITMAPCOREHEADER: unsigned 16-bit sizes
        width, height = reader.unpack("<HH", 18)
        return width, height, 1
    if header_size >= 40:  # BITMAPINFOHEADER and later: signed; negative height = top-down
        width, height = reader.unpack("<ii", 18)
        return abs(width), abs(height), 1
    return None


def _webp(reader: _Reader) -> _Found | None:
    chunk = reader.read(12, 4)
    if chunk == b"VP8 ":  # lossy: a key frame header after a 3-byte frame tag
        if reader.read(23, 3) != b"\x9d\x01\x2a":
            return None
        width, height = reader.unpack("<HH", 26)
        return width & 0x3FFF, height & 0x3FFF, 1
    if chunk == b"VP8L":  # lossless: signature byte, then 14-bit width-1 and height-1
        if reader.read(20, 1) != b"\x2f":
            return None
        (bits,) = reader.unpack("<I", 21)
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, 1
    if chunk == b"VP8X":  # extended: flags, then 24-bit canvas width-1 and height-1
        raw = reader.read(20, 10)
        width = int.from_bytes(raw[4:7], "little") + 1
        height = int.from_bytes(raw[7:10], "little") + 1
        orientation = _webp_orientation(reader) if raw[0] & 0x08 else 1
        return width, height, orientation
    return None


def _webp_orientation(reader: _Reader) -> int:
    """Orientation from the EXIF chunk that the VP8X flags announce (usually the last)."""
    offset = 12
    while True:
        kind, size = reader.unpack("<4sI", offset)
        if kind == b"EXIF":
            return _tiff_orientation(reader, offset + 8)
        offset += 8 + size + (size & 1)


def _tiff_orientation(reader: _Reader, base: int) -> int:
    """The orientation (1-8) of the TIFF/EXIF block at `base`; 1 when absent or unreadable."""
    try:
        value = _ifd0_fields(reader, base, wanted=(_ORIENTATION_TAG,)).get(_ORIENTATION_TAG, 1)
    except (_Truncated, struct.error):
        return 1
    return value if 1 <= value <= 8 else 1


def _ifd0_fields(reader: _Reader, base: int, wanted: tuple[int, ...]) -> dict[int, int]:
    """Integer values of the wanted tags in the first IFD of a TIFF structure at `base`
    (a TIFF file, or the TIFF block inside EXIF data)."""
    order = reader.read(base, 2)
    if order == b"II":
        endian = "<"
    elif order == b"MM":
        endian = ">"
    else:
        return {}
    magic, ifd_offset = reader.unpack(endian + "HI", base + 2)
    if magic != 42:
        return {}
    (count,) = reader.unpack(endian + "H", base + ifd_offset)
    found: dict[int, int] = {}
    for i in range(count):
        entry = base + ifd_offset + 2 + 12 * i
        tag, kind, n = reader.unpack(endian + "HHI", entry)
        if tag not in wanted or n != 1:
            continue
        if kind == 3:  # SHORT, left-justified in the 4-byte value field
            (found[tag],) = reader.unpack(endian + "H", entry + 8)
        elif kind == 4:  # LONG
            (found[tag],) = reader.unpack(endian + "I", entry + 8)
        if len(found) == len(wanted):
            break
    return found


def _jpeg(reader: _Reader) -> _Found | None:
    """Walk the segments up to the scan: the first frame header gives the size, the first
    EXIF segment (OpenCV reads it before or after the frame header) the orientation."""
    offset = 2
    size: tuple[int, int] | None = None
    orientation: int | None = None
    for _ in range(_MAX_JPEG_SEGMENTS):
        if reader.read(offset, 1) != b"\xff":
            return None
        marker = reader.read(offset + 1, 1)[0]
        if marker == 0xFF:  # fill byte before a marker
            offset += 1
            continue
        if marker in _STANDALONE_MARKERS:
            offset += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image, or the scan: no more headers
            break
        (length,) = reader.unpack(">H", offset + 2)
        if length < 2:
            return None
        if marker in _SOF_MARKERS and size is None:
            height, width = reader.unpack(">HH", offset + 5)
            size = (width, height)
        elif marker == 0xE1 and orientation is None and reader.read(offset + 4, 6) == _EXIF:
            orientation = _tiff_orientation(reader, offset + 10)
        offset += 2 + length
    else:
        return None
    if size is None:
        return None
    return size[0], size[1], orientation or 1
