"""Whether an encoded JPEG or PNG stops before its end: some decoders (OpenCV 4 among
them) fill the missing rows with grey and report success, so `mira stats --verify`
checks the structure itself.

The file is walked marker by marker (JPEG) or chunk by chunk (PNG) up to its end
marker, so data appended after the end (a camera's trailer, a motion photo's video) is
not taken for damage, and an end marker inside an embedded thumbnail does not hide a cut.
"""

from __future__ import annotations

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_STANDALONE = {0x01, *range(0xD0, 0xD8)}  # TEM and RST0-7 carry no length


def cut_short(data: bytes) -> bool:
    """True when a JPEG or PNG ends before its end marker; False when the marker is
    there, for other formats, and for structure the walk cannot follow."""
    if data.startswith(b"\xff\xd8"):
        return _jpeg_cut_short(data)
    if data.startswith(_PNG_SIGNATURE):
        return _png_cut_short(data)
    return False


def _jpeg_cut_short(data: bytes) -> bool:
    size, position = len(data), 2
    while position + 2 <= size:
        if data[position] != 0xFF:
            return False  # not a marker where one must be: damaged, not cut
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        if marker == 0xD9:
            return False
        if marker in _STANDALONE:
            position += 2
            continue
        if position + 4 > size:
            return True
        position += 2 + int.from_bytes(data[position + 2 : position + 4], "big")
        if marker == 0xDA:
            position = _end_of_scan(data, position)
            if position < 0:
                return True
    return True


def _end_of_scan(data: bytes, position: int) -> int:
    """Where the entropy-coded data after a scan header ends (the next real marker), or
    -1 if the data ends first. Inside it 0xFF is followed by 0x00 (stuffing) or a RST."""
    while True:
        position = data.find(b"\xff", position)
        if position < 0 or position + 1 >= len(data):
            return -1
        following = data[position + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7:
            position += 2
        elif following == 0xFF:
            position += 1
        else:
            return position


def _png_cut_short(data: bytes) -> bool:
    size, position = len(data), len(_PNG_SIGNATURE)
    while position + 8 <= size:
        length = int.from_bytes(data[position : position + 4], "big")
        if data[position + 4 : position + 8] == b"IEND":
            return False
        position += 12 + length  # length, type, data, CRC
    return True
