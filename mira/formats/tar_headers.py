"""Walking the headers of an uncompressed tarball in a regular file, without reading data.

tarfile parses every field of every header through generic helpers (~25 µs a member);
commands that copy or skip image bytes spend most of their reading time there. This walker
reads one 512-byte block per member with `pread` and decodes only what a reader needs:
name, type, size and where the data starts. It understands ustar, GNU (long names, base-256
sizes) and PAX (per-member path and size) headers; a global PAX header only carries
comments and is skipped. Anything it does not recognise at the start (e.g. a compressed
file) is left to tarfile.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator
from typing import NamedTuple

BLOCK = 512
_WINDOW = 16 * BLOCK
_REGULAR = (b"0", b"\0", b"7")
_DIRECTORY = b"5"
_PAX, _PAX_GLOBAL, _GNU_LONGNAME, _GNU_LONGLINK = b"x", b"g", b"L", b"K"
_POSIX_MAGIC = b"ustar\x0000"
_ZERO_BLOCK = bytes(BLOCK)


class Entry(NamedTuple):
    name: str
    kind: str  # "file", "directory" or "other" (links, devices, ...)
    offset: int  # where the data starts
    size: int
    head: bytes  # the start of the data (all of it for small members), read with the header


class CorruptTar(Exception):
    """A header that is not one (bad checksum, bad number)."""


class TruncatedTar(CorruptTar):
    """The archive stops before its end-of-archive block."""


def _number(field: bytes) -> int:
    try:  # the common case, e.g. b"00000001750\0": octal digits, then NULs or spaces
        return int(field.rstrip(b" \0") or b"0", 8)
    except ValueError:
        pass
    if field[:1] in (b"\x80", b"\xff"):  # GNU base-256
        value = int.from_bytes(field[1:], "big")
        return value - (1 << (8 * len(field) - 8)) if field[:1] == b"\xff" else value
    text = field.split(b"\0", 1)[0].strip()
    try:
        return int(text, 8) if text else 0
    except ValueError:
        raise CorruptTar(f"invalid number field {field!r}") from None


def _string(field: bytes) -> str:
    return field.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _block_sum(block: bytes) -> int:
    """sum(block) of a 512-byte block, in C: Adler-32's low half is 1 + the byte sum modulo
    65521, exact for up to 256 bytes (at most 65280). Ten times faster than sum()."""
    return (zlib.adler32(block[:256]) & 0xFFFF) + (zlib.adler32(block[256:]) & 0xFFFF) - 2


def is_header(block: bytes) -> bool:
    """True when `block` is a tar header with a valid checksum."""
    return len(block) == BLOCK and block != _ZERO_BLOCK and _checksum_ok(block)


def _checksum_ok(block: bytes) -> bool:
    try:
        stored = _number(block[148:156])
    except CorruptTar:
        return False
    field = block[148:156]
    unsigned = _block_sum(block) - (zlib.adler32(field) & 0xFFFF) + 1 + 256  # field = spaces
    if stored == unsigned:
        return True
    return stored == unsigned - 2 * sum(b for b in block[:148] + block[156:] if b > 127)


def _pax_records(data: bytes) -> dict[str, str]:
    """`length key=value\\n` records; only path and size matter to a reader."""
    records: dict[str, str] = {}
    position = 0
    while position < len(data) and data[position] != 0:
        space = data.find(b" ", position)
        try:
            length = int(data[position:space])
        except ValueError:
            raise CorruptTar("invalid PAX header") from None
        if length <= 0 or space < 0:
            raise CorruptTar("invalid PAX header")
        key, _, value = data[space + 1 : position + length - 1].partition(b"=")
        records[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
        position += length
    return records


def iter_entries(fd: int) -> Iterator[Entry]:
    """Members of the tarball open as `fd`, in order.

    Reads in windows of 8 KiB from each header, so that a small member, the next header
    and the start of its data (e.g. a scene record, then its image's header and first
    bytes) take one system call. Stops at the end-of-archive block; raises CorruptTar for
    a bad header and TruncatedTar for an archive that ends without that block.
    """
    offset = 0
    window, start = b"", 0  # the bytes last read, and where they start
    long_name: str | None = None
    pax: dict[str, str] = {}
    while True:
        at = offset - start
        if at + BLOCK > len(window):  # offsets only grow: `at` is never negative
            window, start, at = os.pread(fd, _WINDOW, offset), offset, 0
        block = window[at : at + BLOCK]
        if len(block) < BLOCK:
            raise TruncatedTar("the archive ends without its end-of-archive block")
        if block == _ZERO_BLOCK:
            return
        if not _checksum_ok(block):
            raise CorruptTar(f"bad header checksum at byte {offset}")
        kind = block[156:157]
        size = _number(block[124:136])
        data = offset + BLOCK
        offset = data + -(-size // BLOCK) * BLOCK
        if kind in (_PAX, _PAX_GLOBAL, _GNU_LONGNAME, _GNU_LONGLINK):
            payload = window[at + BLOCK : at + BLOCK + size]
            if len(payload) < size:
                payload = os.pread(fd, size, data)
            if len(payload) < size:
                raise TruncatedTar("the archive ends inside an extended header")
            if kind == _PAX:
                pax = _pax_records(payload)
            elif kind == _GNU_LONGNAME:
                long_name = _string(payload)
            continue
        name = _string(block[:100])
        if block[345] != 0 and block[257:265] == _POSIX_MAGIC:
            name = f"{_string(block[345:500])}/{name}"
        if pax or long_name is not None:
            name = pax.get("path", long_name or name)
            if "size" in pax:
                size = int(pax["size"])
                offset = data + -(-size // BLOCK) * BLOCK
            long_name, pax = None, {}
        if kind in _REGULAR and not (kind == b"\0" and name.endswith("/")):
            kind_name = "file"
        elif kind == _DIRECTORY or kind == b"\0":  # old tars mark folders by the name only
            kind_name, name = "directory", name.rstrip("/")
        else:
            kind_name = "other"
        yield Entry(name, kind_name, data, size, window[at + BLOCK : at + BLOCK + size])
