"""The copying process: writes a tarball's pieces, in order, for the process building it.

Copying image members file to file is kernel work, but a Python thread doing it must take
the GIL back after every system call, and a main thread busy parsing records holds it: the
two then spend a fifth of their time handing it over. A process of its own has its own GIL.
It is this file, run as a script (`python -I -S tar_copier.py SOCKET OUTPUT`), so it needs
nothing but the standard library and starts in milliseconds.

The copier first sends one byte to say it has started. The writer then sends frames over a
Unix socket: bytes to write, members to copy from a file whose descriptor came along
(SCM_RIGHTS), and an end. The copier answers the end (or its first error) with one JSON
line and exits when the writer closes the socket; it also exits when the socket closes
early (the writer gave up).
"""

from __future__ import annotations

import errno
import json
import os
import socket
import struct
import sys

WRITE = struct.Struct("<cQ")  # b"W", length; then the bytes
COPY = struct.Struct("<cIQQH")  # b"C", file number, offset, size, name length; then the name
FILE = struct.Struct("<cIH")  # b"F", file number, path length; then the path (+ descriptor)
END = b"E"
STARTED = b"+"  # the copier's first byte to the writer
_RECEIVE = 1 << 20


def write_frame(data: bytes) -> bytes:
    return WRITE.pack(b"W", len(data))


def copy_frame(file: int, offset: int, size: int, name: str) -> bytes:
    raw = name.encode("utf-8", "surrogateescape")
    return COPY.pack(b"C", file, offset, size, len(raw)) + raw


def file_frame(file: int, path: str) -> bytes:
    raw = path.encode("utf-8", "surrogateescape")
    return FILE.pack(b"F", file, len(raw)) + raw


class CopyError(Exception):
    """A member could not be copied from its file (the message names both)."""


def write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def copy_range(source: int, offset: int, size: int, fd: int) -> None:
    """Append `size` bytes of `source` from `offset` to `fd` at its position: inside the
    kernel when it can (copy_file_range, then sendfile), else through a buffer. EOFError
    when the source ends first."""
    left = size
    for copy in (_copy_file_range, _sendfile, _read_write):
        try:
            while left:
                done = copy(source, fd, offset, left)
                if done == 0:
                    raise EOFError(f"the file ends before byte {offset + left}")
                offset, left = offset + done, left - done
            return
        except OSError as exc:
            if exc.errno not in _UNSUPPORTED or copy is _read_write:
                raise


# copy_file_range across file systems (EXDEV) or file types; sendfile to a file (ENOTSOCK
# on macOS): the next method is tried.
_UNSUPPORTED = {
    errno.EXDEV,
    errno.EINVAL,
    errno.ENOSYS,
    errno.EOPNOTSUPP,
    errno.EBADF,
    errno.ENOTSOCK,
}


def _copy_file_range(src: int, dst: int, offset: int, count: int) -> int:
    if not hasattr(os, "copy_file_range"):
        raise OSError(errno.ENOSYS, "copy_file_range is not available")
    return os.copy_file_range(src, dst, count, offset)


def _sendfile(src: int, dst: int, offset: int, count: int) -> int:
    if not hasattr(os, "sendfile"):
        raise OSError(errno.ENOSYS, "sendfile is not available")
    return os.sendfile(dst, src, offset, count)


def _read_write(src: int, dst: int, offset: int, count: int) -> int:
    data = os.pread(src, min(count, 1 << 20), offset)
    write_all(dst, data)
    return len(data)


def copy_member(source: int, path: str, name: str, offset: int, size: int, fd: int) -> None:
    """`copy_range`, with failures on the reading side reported as CopyError naming the
    member; a closed output (BrokenPipeError) is left as it is."""
    try:
        copy_range(source, offset, size, fd)
    except (OSError, EOFError) as exc:
        if isinstance(exc, BrokenPipeError):
            raise
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise CopyError(f"{path}: cannot copy member {name!r} ({reason})") from None


def serve(channel: socket.socket, output: int) -> None:
    """Carry out frames from `channel` until its end frame or its closing."""
    files: dict[int, tuple[int, str]] = {}
    descriptors: list[int] = []
    buffer = bytearray()
    while True:
        data, fds, _flags, _address = socket.recv_fds(channel, _RECEIVE, 16)
        descriptors.extend(fds)
        if not data:
            return
        buffer += data
        position = _run_frames(buffer, files, descriptors, output)
        if position < 0:
            _answer(channel, {"ok": True})
            return
        del buffer[:position]


def _run_frames(
    buffer: bytearray, files: dict[int, tuple[int, str]], descriptors: list[int], output: int
) -> int:
    """Carry out the complete frames at the start of `buffer`; returns how many bytes they
    took, or -1 at the end frame."""
    position, end = 0, len(buffer)
    view = memoryview(buffer)
    try:
        while position < end:
            kind = buffer[position : position + 1]
            if kind == END:
                return -1
            if kind == b"W":
                if end - position < WRITE.size:
                    break
                _, length = WRITE.unpack_from(buffer, position)
                start = position + WRITE.size
                if end - start < length:
                    break
                write_all(output, view[start : start + length])
                position = start + length
            elif kind == b"C":
                if end - position < COPY.size:
                    break
                _, number, offset, size, length = COPY.unpack_from(buffer, position)
                start = position + COPY.size
                if end - start < length:
                    break
                name = bytes(view[start : start + length]).decode("utf-8", "surrogateescape")
                source, path = files[number]
                copy_member(source, path, name, offset, size, output)
                position = start + length
            elif kind == b"F":
                if end - position < FILE.size:
                    break
                _, number, length = FILE.unpack_from(buffer, position)
                start = position + FILE.size
                if end - start < length:
                    break
                path = bytes(view[start : start + length]).decode("utf-8", "surrogateescape")
                files[number] = (descriptors.pop(0), path)
                position = start + length
            else:
                raise ValueError(f"unknown frame {bytes(kind)!r}")
    finally:
        view.release()
    return position


def _answer(channel: socket.socket, reply: dict[str, object]) -> None:
    """Send `reply`, then read whatever the writer still sends until it closes the socket
    (closing with unread data would make the writer's next call fail before it read the
    reply)."""
    try:
        channel.sendall(json.dumps(reply).encode("utf-8") + b"\n")
        channel.shutdown(socket.SHUT_WR)
        while channel.recv(_RECEIVE):
            pass
    except OSError:  # the writer is gone: nobody to tell
        pass


def main(argv: list[str]) -> int:
    channel = socket.socket(fileno=int(argv[1]))
    output = int(argv[2])
    try:
        channel.sendall(STARTED)
        serve(channel, output)
    except CopyError as exc:
        _answer(channel, {"copy": str(exc)})
    except OSError as exc:
        _answer(channel, {"errno": exc.errno, "message": exc.strerror or str(exc)})
    except Exception as exc:  # a bug here: tell the writer rather than hang it
        _answer(channel, {"bug": f"{type(exc).__name__}: {exc}"})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
