"""A byte range of an open file: how an image inside a tarball is referenced without being
read, so commands that never look at pixels can hand the copy to the kernel.

The range keeps its own descriptor (shared by every range of that file and closed with the
last of them), so it stays readable after the tarball is renamed or replaced. Our worker
processes receive a reference instead (`OpenFile.reference`, `reopen`), checked to name
the same file.
"""

from __future__ import annotations

import os

from mira.errors import FormatError


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

    def reference(self) -> tuple[str, int, int]:
        """(path, device, inode): how a worker process of ours opens the same file."""
        status = os.fstat(self.fd)
        return self.path, status.st_dev, status.st_ino


_REOPENED: dict[tuple[str, int, int], OpenFile] = {}


def reopen(path: str, device: int, inode: int) -> OpenFile:
    """The file of `OpenFile.reference`, opened once per process; FormatError when the path
    names another file by now (the tarball was replaced or removed meanwhile)."""
    key = (path, device, inode)
    if key not in _REOPENED:
        gone = FormatError(f"{path}: replaced or removed while its images were being read")
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            raise gone from None
        file = OpenFile(fd, path)  # closes the descriptor when dropped
        if file.reference() != key:
            raise gone
        _REOPENED[key] = file
    return _REOPENED[key]


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
