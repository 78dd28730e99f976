"""Writing tarballs: deterministic member headers, and an atomic writer that copies members
left in other files inside the kernel while the caller goes on preparing the next ones."""

from __future__ import annotations

import errno
import os
import queue
import sys
import tarfile
import tempfile
import threading
from pathlib import Path

from mira.core.file_range import FileRange
from mira.errors import FormatError
from mira.formats.tario import STDIO

# A ustar header for a regular file with mode 0644, owner 0:0 and mtime 0, split around its
# two variable fields (name, size) and its checksum. Byte for byte what tarfile writes for
# such a member, built here because tarfile's generic path costs ~40 µs per header.
_HEADER_MODE_OWNER = b"0000644\0" + b"0000000\0" * 2
_HEADER_AFTER_CHECKSUM = (tarfile.REGTYPE + b"\0" * 100 + tarfile.POSIX_MAGIC).ljust(
    tarfile.BLOCKSIZE - 156, b"\0"
)  # no link name, owner names, device numbers or name prefix
_BLANK_CHECKSUM = b" " * 8
_MAX_SIZE = 8**11  # what 11 octal digits hold


def tar_header(name: str, size: int) -> bytes:
    """A member header with fixed metadata, so the same content gives the same bytes.

    Names over 100 bytes or not ASCII, and sizes of 8 GiB or more, take a PAX header.
    """
    raw = name.encode("ascii", "replace")
    if not name.isascii() or len(raw) > 100 or size >= _MAX_SIZE:
        return _pax_header(name, size)
    head = raw.ljust(100, b"\0") + _HEADER_MODE_OWNER + b"%011o\0" % size + b"00000000000\0"
    checksum = sum(head) + sum(_BLANK_CHECKSUM) + sum(_HEADER_AFTER_CHECKSUM)
    return head + b"%06o\0 " % checksum + _HEADER_AFTER_CHECKSUM


def _pax_header(name: str, size: int) -> bytes:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = 0
    info.mode = 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


class AtomicTar:
    """A tar being written: to a temporary file beside the target, renamed on commit.

    Members are written directly (header, data, padding) through one buffer; a member left
    in another file (`FileRange`) is copied by the kernel (copy_file_range, else sendfile),
    never read into Python. The writing itself happens in a thread of its own, so the
    caller prepares the next scenes while the kernel copies. The bytes are those of
    tarfile's PAX writer, ending with two zero blocks padded to a 10 KiB record.
    """

    _BUFFER = 1 << 20
    _DIRECT = 1 << 16  # data at least this big is handed on as it is, not copied

    def __init__(self, path: str) -> None:
        self.path = path
        self._temp: str | None = None
        self._size = 0
        self._buffer = bytearray()
        if path == STDIO:
            sys.stdout.flush()
            sys.stdout.buffer.flush()
            fd = sys.stdout.buffer.fileno()
        else:
            folder = os.path.dirname(os.path.abspath(path))
            fd, self._temp = tempfile.mkstemp(
                dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".part"
            )
        self._fd = fd
        self._output = _WriteBehind(fd)

    def _write(self, data: bytes) -> None:
        self._buffer += data
        self._size += len(data)
        if len(self._buffer) >= self._BUFFER:
            self._flush()

    def _flush(self) -> None:
        if self._buffer:
            self._output.put(bytes(self._buffer))
            self._buffer.clear()

    def add(self, name: str, data: bytes) -> None:
        self._write(tar_header(name, len(data)))
        if len(data) < self._DIRECT:
            self._write(data)
        else:
            self._flush()
            self._output.put(bytes(data))  # a no-op for bytes; bytearray et al. are copied
            self._size += len(data)
        self._write(tarfile.NUL * (-len(data) % tarfile.BLOCKSIZE))

    def add_range(self, name: str, source: FileRange) -> None:
        """A member whose bytes are `source`, copied file to file."""
        self._write(tar_header(name, source.size))
        self._flush()
        self._output.put((name, source))
        self._size += source.size
        self._write(tarfile.NUL * (-source.size % tarfile.BLOCKSIZE))

    def commit(self) -> None:
        self._write(tarfile.NUL * 2 * tarfile.BLOCKSIZE)
        self._write(tarfile.NUL * (-self._size % tarfile.RECORDSIZE))
        self._flush()
        self._output.finish()
        if self._temp is not None:
            os.close(self._fd)
            os.chmod(self._temp, 0o644 & ~_umask())
            os.replace(self._temp, self.path)
            self._temp = None

    def abort(self) -> None:
        self._output.stop()
        if self._temp is None:
            return
        try:
            os.close(self._fd)
        finally:
            Path(self._temp).unlink(missing_ok=True)
            self._temp = None


class _WriteBehind:
    """Writes pieces (bytes, or a member's file range to copy) to a descriptor, in order, in
    a thread of its own. A few pieces wait at most, so memory stays bounded. The first error
    stops the writing and is raised to the caller at its next call."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._pieces: queue.Queue[bytes | tuple[str, FileRange] | None] = queue.Queue(8)
        self._error: BaseException | None = None
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="mira-tar-writer", daemon=True)
        self._thread.start()

    def put(self, piece: bytes | tuple[str, FileRange]) -> None:
        self._check()
        self._pieces.put(piece)

    def finish(self) -> None:
        """Wait until everything is written; raise the writing's error, if any."""
        self._end()
        self._check()

    def stop(self) -> None:
        """Drop what is still waiting and end the thread (after a failure elsewhere)."""
        self._stopped = True
        self._end()

    def _end(self) -> None:
        if self._thread.is_alive():
            self._pieces.put(None)
            self._thread.join()

    def _check(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            self._stopped = True
            raise error

    def _run(self) -> None:
        while (piece := self._pieces.get()) is not None:
            if self._stopped or self._error is not None:
                continue
            try:
                if isinstance(piece, bytes):
                    _write_all(self._fd, piece)
                else:
                    _copy_member(*piece, self._fd)
            except BaseException as exc:  # handed to the caller's thread
                self._error = exc


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _copy_member(name: str, source: FileRange, fd: int) -> None:
    try:
        copy_range(source, fd)
    except (OSError, EOFError) as exc:
        if isinstance(exc, BrokenPipeError):
            raise
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise FormatError(f"{source.file.path}: cannot copy member {name!r} ({reason})") from None


def copy_range(source: FileRange, fd: int) -> None:
    """Append `source` to `fd` at its position: inside the kernel when it can
    (copy_file_range, then sendfile), else through a buffer."""
    offset, left = source.offset, source.size
    for copy in (_copy_file_range, _sendfile, _read_write):
        try:
            while left:
                done = copy(source.file.fd, fd, offset, left)
                if done == 0:
                    raise EOFError(f"the file ends before byte {offset + left}")
                offset, left = offset + done, left - done
            return
        except OSError as exc:
            if exc.errno not in _UNSUPPORTED or copy is _read_write:
                raise


_UNSUPPORTED = {errno.EXDEV, errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EBADF}


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
    _write_all(dst, data)
    return len(data)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
