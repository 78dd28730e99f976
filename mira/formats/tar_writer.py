"""Writing tarballs: deterministic member headers, and an atomic writer that copies members
left in other files inside the kernel while the caller goes on preparing the next ones."""

from __future__ import annotations

import json
import os
import queue
import select
import socket
import subprocess
import sys
import tarfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mira.core.file_range import FileRange, OpenFile
from mira.errors import FormatError, OutputError
from mira.formats import storage, tar_copier
from mira.formats.tario import STDIO, is_stream
from mira.formats.temporaries import temporary_file

# A ustar header for a regular file with mode 0644, owner 0:0 and mtime 0, split around its
# two variable fields (name, size) and its checksum. Byte for byte what tarfile writes for
# such a member, built here because tarfile's generic path costs ~40 µs per header.
_HEADER_MODE_OWNER = b"0000644\0" + b"0000000\0" * 2
_HEADER_AFTER_CHECKSUM = (tarfile.REGTYPE + b"\0" * 100 + tarfile.POSIX_MAGIC).ljust(
    tarfile.BLOCKSIZE - 156, b"\0"
)  # no link name, owner names, device numbers or name prefix
_FIXED_SUM = sum(_HEADER_MODE_OWNER) + sum(b"00000000000\0") + sum(b" " * 8)
_FIXED_SUM += sum(_HEADER_AFTER_CHECKSUM)  # the checksum field counts as 8 spaces
_MAX_SIZE = 8**11  # what 11 octal digits hold


def tar_header(name: str, size: int) -> bytes:
    """A member header with fixed metadata, so the same content gives the same bytes.

    Names over 100 bytes or not ASCII, and sizes of 8 GiB or more, take a PAX header.
    """
    raw = name.encode("ascii", "replace")
    if not name.isascii() or len(raw) > 100 or size >= _MAX_SIZE:
        return _pax_header(name, size)
    size_field = b"%011o\0" % size
    checksum = sum(raw) + sum(size_field) + _FIXED_SUM
    head = raw.ljust(100, b"\0") + _HEADER_MODE_OWNER + size_field + b"00000000000\0"
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
    """A tar being written: to a temporary file beside the target (see `temporaries`, which
    also creates missing parent folders), renamed on commit.

    Members are written directly (header, data, padding) through one buffer; a member left
    in another file (`FileRange`) is copied by the kernel (copy_file_range, else sendfile),
    never read into Python. The writing happens beside the caller, which prepares the next
    scenes meanwhile: in the copying process (`tar_copier`) when the first member is such a
    copy, else in a thread. The bytes are those of tarfile's PAX writer, ending with two
    zero blocks padded to a 10 KiB record. A tar for a URL is written to a local spool file
    and sent as one object (see `storage.RemoteFile`).
    """

    _BUFFER = 1 << 20
    _DIRECT = 1 << 16  # data at least this big is handed on as it is, not copied

    def __init__(self, path: str) -> None:
        self.path = path
        self._temp: str | None = None
        self._size = 0
        self._buffer = bytearray()
        self._own_fd = False
        self._remote: storage.RemoteFile | None = None
        if path == STDIO:
            sys.stdout.flush()
            sys.stdout.buffer.flush()
            fd = sys.stdout.buffer.fileno()
        elif storage.is_url(path):
            self._remote = storage.RemoteFile(path)
            fd, self._temp = self._remote.spool()
        elif is_stream(path):  # a device or pipe: nothing to replace, write straight to it
            fd, self._own_fd = os.open(path, os.O_WRONLY), True
        else:
            fd, self._temp = temporary_file(path)
        self._fd = fd
        self._writer: _WriteBehind | _CopyProcess | None = None
        self._finished = False

    def _output(self, copying: bool = False) -> _WriteBehind | _CopyProcess:
        """Who writes: chosen by the first member, as copies favour the copying process."""
        if self._writer is None:
            self._writer = (copying and _CopyProcess.start(self._fd)) or _WriteBehind(self._fd)
        return self._writer

    def _write(self, data: bytes) -> None:
        self._buffer += data
        self._size += len(data)
        if len(self._buffer) >= self._BUFFER:
            self._flush()

    def _flush(self) -> None:
        if self._buffer:
            self._output().put(bytes(self._buffer))
            self._buffer.clear()

    def add(self, name: str, data: bytes) -> None:
        self._write(tar_header(name, len(data)))
        if len(data) < self._DIRECT:
            self._write(data)
        else:
            self._flush()
            self._output().put(bytes(data))  # a no-op for bytes; bytearray et al. are copied
            self._size += len(data)
        self._write(tarfile.NUL * (-len(data) % tarfile.BLOCKSIZE))

    def add_range(self, name: str, source: FileRange) -> None:
        """A member whose bytes are `source`, copied file to file."""
        self._write(tar_header(name, source.size))
        output = self._output(copying=True)
        self._flush()
        output.put((name, source))
        self._size += source.size
        self._write(tarfile.NUL * (-source.size % tarfile.BLOCKSIZE))

    def finish(self) -> None:
        """End the archive and wait until all of it is written, freeing the writer and the
        descriptor (a sharded writer finishes each shard as the next begins); `commit`
        then puts the file in place. A URL's finished file is sent under a temporary key."""
        if self._finished:
            return
        self._end()
        if self._remote is not None:
            self._send(self._remote.stage)

    def _end(self) -> None:
        self._write(tarfile.NUL * 2 * tarfile.BLOCKSIZE)
        self._write(tarfile.NUL * (-self._size % tarfile.RECORDSIZE))
        self._flush()
        self._output().finish()
        self._finished = True
        if self._temp is not None or self._own_fd:
            os.close(self._fd)

    def _send(self, send: Callable[[Any], None]) -> None:
        """Hand the spool file (None once staged) to the remote object, then remove it."""
        spool, self._temp = self._temp, None
        try:
            send(spool)
        finally:
            if spool is not None:
                Path(spool).unlink(missing_ok=True)

    def commit(self) -> None:
        if self._remote is not None:
            if not self._finished:
                self._end()
            self._send(self._remote.commit)
            return
        self.finish()
        if self._temp is not None:
            os.chmod(self._temp, 0o644 & ~_umask())
            os.replace(self._temp, self.path)
            self._temp = None

    def abort(self) -> None:
        if self._remote is not None:
            self._remote.abort()
        if self._finished:
            if self._temp is not None:
                Path(self._temp).unlink(missing_ok=True)
                self._temp = None
            return
        if self._writer is not None:
            self._writer.stop()
        if self._own_fd:
            os.close(self._fd)
            self._own_fd = False
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
            try:
                raise error
            finally:
                del error  # else this frame and the error's traceback keep each other alive

    def _run(self) -> None:
        while (piece := self._pieces.get()) is not None:
            if self._stopped or self._error is not None:
                continue
            try:
                if isinstance(piece, bytes):
                    tar_copier.write_all(self._fd, piece)
                else:
                    name, source = piece
                    tar_copier.copy_member(
                        source.file.fd, source.file.path, name, source.offset, source.size, self._fd
                    )
            except tar_copier.CopyError as exc:
                self._error = FormatError(str(exc))
            except BaseException as exc:  # handed to the caller's thread
                self._error = exc


class _CopyProcess:
    """Hands pieces to the copying process (see `tar_copier`) as frames gathered in
    batches, so writing costs this process one system call per batch and no GIL hand-over.

    Until the copier says it has started, pieces are kept back; a copier that cannot start
    (a Python that will not run as `sys.executable`, say) hands them to a writing thread,
    which then does the whole job. The first error is raised at the next call that reaches
    the copier, or at `finish`.
    """

    _BATCH = 1 << 18  # bytes of frames gathered before they are sent
    _COUNT = 64  # or this many frames
    _BACKLOG = 1 << 23  # bytes kept back at most while the copier starts (then wait for it)
    _START_MS = 10_000  # how long to wait for it before writing from a thread instead

    @classmethod
    def start(cls, fd: int) -> _CopyProcess | None:
        """A copier writing to `fd`; None where it cannot be started (then a thread writes)."""
        if not sys.executable or not os.path.isfile(_COPIER[-1]):  # e.g. run from a zip
            return None
        ours, theirs = socket.socketpair()
        try:
            process = subprocess.Popen(
                [*_COPIER, str(theirs.fileno()), str(fd)],
                pass_fds=(theirs.fileno(), fd),
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # Ctrl-C goes to the writer, which ends the copier
            )
        except OSError:
            ours.close()
            return None
        finally:
            theirs.close()
        return cls(process, ours, fd)

    def __init__(self, process: subprocess.Popen[bytes], channel: socket.socket, fd: int) -> None:
        self._process = process
        self._channel = channel
        self._fd = fd
        self._backlog: list[bytes | tuple[str, FileRange]] | None = []  # None once started
        self._backlog_size = 0
        self._fallback: _WriteBehind | None = None
        self._files: dict[int, tuple[int, OpenFile]] = {}  # id → number, and kept alive
        self._frames: list[bytes] = []
        self._pending = 0
        self._waiting = select.poll()  # poll, not select: descriptors may exceed 1024
        self._waiting.register(channel, select.POLLIN)

    def put(self, piece: bytes | tuple[str, FileRange]) -> None:
        if self._fallback is not None:
            self._fallback.put(piece)
        elif self._backlog is not None:
            self._backlog.append(piece)
            self._backlog_size += len(piece) if isinstance(piece, bytes) else 0
            self._settle(wait=self._backlog_size >= self._BACKLOG)
        else:
            self._frame(piece)

    def _settle(self, wait: bool) -> None:
        """Once the copier has said it started, send it the pieces kept back; if it ended
        (or, with `wait`, does not start in time), give them to a writing thread."""
        assert self._backlog is not None
        if self._waiting.poll(self._START_MS if wait else 0):
            try:
                started = self._channel.recv(1) == tar_copier.STARTED
            except OSError:
                started = False
        elif wait:
            started = False
        else:
            return  # still starting
        backlog, self._backlog = self._backlog, None
        if not started:
            self.stop()
            self._fallback = _WriteBehind(self._fd)
        for piece in backlog:
            self.put(piece)

    def _frame(self, piece: bytes | tuple[str, FileRange]) -> None:
        if isinstance(piece, bytes):
            if len(piece) >= self._BATCH:  # sent as it is, not joined into a batch
                self._frames.append(tar_copier.write_frame(piece))
                self._send()
                self._call(self._channel.sendall, piece)
                return
            self._frames += (tar_copier.write_frame(piece), piece)
            self._pending += len(piece)
        else:
            name, source = piece
            number = self._number(source.file)
            self._frames.append(tar_copier.copy_frame(number, source.offset, source.size, name))
        if self._pending >= self._BATCH or len(self._frames) >= self._COUNT:
            self._send()

    def _number(self, file: OpenFile) -> int:
        """The copier's number for `file`, sending it its descriptor the first time."""
        known = self._files.get(id(file))
        if known is None:
            known = self._files[id(file)] = (len(self._files), file)
            self._send()
            frame = tar_copier.file_frame(known[0], file.path)
            self._call(socket.send_fds, self._channel, [frame], [file.fd])
        return known[0]

    def _send(self) -> None:
        if self._frames:
            if self._waiting.poll(0):  # a reply before the end is an error
                self._raise(self._reply())
            data = b"".join(self._frames)
            self._frames.clear()
            self._pending = 0
            self._call(self._channel.sendall, data)

    def _call(self, send: Callable[..., object], *args: object) -> None:
        try:
            send(*args)
        except OSError:  # the copier stopped: it says why
            self._raise(self._reply())

    def finish(self) -> None:
        """Wait until everything is written; raise the copier's error, if any."""
        if self._backlog is not None:
            self._settle(wait=True)
        if self._fallback is not None:
            self._fallback.finish()
            return
        self._send()
        self._call(self._channel.sendall, tar_copier.END)
        reply = self._reply()
        if reply.get("ok") is not True:
            self._raise(reply)

    def stop(self) -> None:
        """End the copier at once: what it has not written yet is not wanted."""
        if self._fallback is not None:
            self._fallback.stop()
        self._channel.close()
        self._process.kill()
        self._process.wait()

    def _reply(self) -> dict[str, object]:
        chunks = []
        try:
            while chunk := self._channel.recv(1 << 16):
                chunks.append(chunk)
        except OSError:  # the copier died: its exit status tells
            pass
        self._channel.close()
        code = self._process.wait()
        try:
            reply = json.loads(b"".join(chunks))
        except ValueError:
            reply = None
        return reply if isinstance(reply, dict) else {"exit": code}

    @staticmethod
    def _raise(reply: dict[str, object]) -> None:
        if "copy" in reply:
            raise FormatError(str(reply["copy"]))
        if "errno" in reply:
            raise OSError(reply["errno"], reply["message"])
        problem = reply.get("bug") or f"exit status {reply.get('exit')}"
        raise OutputError(f"the copying process stopped unexpectedly ({problem})")


#: How the copier is run (with its socket and output descriptors after these).
_COPIER = [sys.executable, "-I", "-S", tar_copier.__file__]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
