"""A byte range of an open file: how an image inside a tarball is referenced without being
read, so commands that never look at pixels can hand the copy to the kernel.

The range keeps its own descriptor (shared by every range of that file and closed with the
last of them), so it stays readable after the tarball is renamed or replaced.
"""

from __future__ import annotations

import os


class OpenFile:
    """A read-only descriptor shared by the ranges that point into one file."""

    __slots__ = ("fd", "path")

    def __init__(self, fd: int, path: str) -> None:
        self.fd = fd
        self.path = path

    def __del__(self) -> None:
        os.close(self.fd)

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("an open file cannot be sent to another process; send its bytes")


class FileRange:
    """`size` bytes of `file` starting at `offset`; `head`, when given, is their start as
    read already (e.g. with the tar header), which spares a read to sniff the type."""

    __slots__ = ("file", "offset", "size", "head")

    def __init__(self, file: OpenFile, offset: int, size: int, head: bytes = b"") -> None:
        self.file = file
        self.offset = offset
        self.size = size
        self.head = head

    def read(self, limit: int | None = None) -> bytes:
        """The bytes of the range (at most `limit` of them); EOFError when the file has
        shrunk since the range was taken."""
        want = self.size if limit is None else min(limit, self.size)
        if want <= len(self.head):
            return self.head[:want]
        return read_exactly(self.file.fd, self.offset, want)


def read_exactly(fd: int, offset: int, size: int) -> bytes:
    """`size` bytes of `fd` from `offset` (pread may return fewer); EOFError if the file
    ends first."""
    data = os.pread(fd, size, offset)
    while len(data) < size:
        more = os.pread(fd, size - len(data), offset + len(data))
        if not more:
            raise EOFError(f"the file ends before byte {offset + size}")
        data += more
    return data
