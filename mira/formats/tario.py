"""Low-level tarball reading shared by every tar format: inputs, safe member reading,
grouping members into samples, and the checks an output must pass before it is written.

Readers never use member names as file-system paths. (Writing is in `tar_writer`.)
"""

from __future__ import annotations

import functools
import glob
import lzma
import os
import posixpath
import stat
import sys
import tarfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, NamedTuple

from mira.core.file_range import FileRange, OpenFile, read_exactly
from mira.errors import FormatError, OutputError
from mira.formats import storage
from mira.formats.tar_headers import BLOCK, CorruptTar, TruncatedTar, is_header, iter_entries
from mira.formats.temporaries import check_folder

PathLike = str | os.PathLike[str]
STDIO = "-"
_GLOB_CHARS = set("*?[")


def expand_inputs(paths: PathLike | Sequence[PathLike]) -> list[str]:
    """Turn one path, a glob, "-" or a list of them into a list of concrete inputs (URLs,
    and globs of them, too: see `storage`)."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    result: list[str] = []
    for path in paths:
        text = storage.local_path(os.fspath(path))
        if storage.is_url(text):
            result.extend(storage.expand(text))
        elif text != STDIO and not os.path.exists(text) and _GLOB_CHARS & set(text):
            matches = sorted(glob.glob(text))
            if not matches:
                raise FormatError(f"{text}: no file matches this pattern")
            result.extend(matches)
        else:
            result.append(text)
    if not result:
        raise FormatError("no input tarball given")
    if result.count(STDIO) > 1:
        raise FormatError("'-' (standard input) can be given only once")
    return result


#: Members always read at once: scene records (native JSON, legacy protobuf). Others
#: (images) in a regular file are left where they are, as a `FileRange`.
EAGER_EXTENSIONS = frozenset({"json", ""})
_HEAD = 512  # bytes of an image kept with its range: enough to tell its type and size


@dataclass
class MemberGroup:
    """Consecutive members sharing one key, e.g. `000001.json` and `000001.jpg`."""

    source: str
    key: str
    # extension ("" for none) → the bytes, or where they lie in the tarball
    members: dict[str, bytes | FileRange] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # extension → member name

    def where(self, extension: str | None = None) -> str:
        name = self.names.get(extension, "") if extension is not None else None
        return f"{self.source}: member {name or self.key}"

    def data(self, extension: str, limit: int | None = None) -> bytes:
        """A member's bytes (at most `limit` of them), read now if it was left in the file."""
        value = self.members[extension]
        if isinstance(value, bytes):
            return value if limit is None else value[:limit]
        try:
            return value.read(limit)
        except (OSError, EOFError) as exc:
            raise FormatError(f"{self.where(extension)}: cannot read it ({exc})") from None


def _safe_name(source: str, name: str) -> str:
    if name and "/" not in name and "\\" not in name and name != "..":
        return name  # what normpath would give, at a fraction of its cost
    normalised = posixpath.normpath(name.replace("\\", "/"))
    if name.startswith("/") or normalised.startswith("../") or normalised == "..":
        raise FormatError(f"{source}: member {name!r} has an unsafe path (absolute or '..')")
    return normalised


def split_member_name(name: str) -> tuple[str, str]:
    """WebDataset convention: the key is the path up to the first dot of the base name."""
    if "/" not in name:
        stem, _, extension = name.partition(".")
        return stem, extension
    folder, base = posixpath.split(name)
    stem, _, extension = base.partition(".")
    return posixpath.join(folder, stem) if folder else stem, extension


class _EndCheckingTarInfo(tarfile.TarInfo):
    """Notes whether the archive ended with its end-of-archive block.

    In stream mode tarfile takes a cut-off header for the end of the archive, so a truncated
    tarball would read as a shorter valid one; the end marker tells the two apart.
    """

    @classmethod
    def fromtarfile(cls, archive: tarfile.TarFile) -> tarfile.TarInfo:
        try:
            return super().fromtarfile(archive)
        except tarfile.EOFHeaderError:
            archive.mira_clean_end = True  # type: ignore[attr-defined]
            raise


class _Member(NamedTuple):
    name: str
    kind: str  # "file", "directory" or "other"
    offset: int | None  # where the data lies, in an uncompressed regular file
    size: int
    read: Callable[[], bytes] | None  # None: the data lies at `offset` of the open file
    head: bytes = b""  # the start of the data, when it came with the header

    def data(self, fd: int | None) -> bytes:
        if len(self.head) == self.size:
            return self.head
        if self.read is None:
            assert fd is not None and self.offset is not None
            return read_exactly(fd, self.offset, self.size)
        return self.read()


def _open_input(path: str) -> tuple[Iterator[_Member], Callable[[], None], int | None]:
    """The members of one input, how to close it, and its descriptor when members have an
    offset: a regular uncompressed tarball is walked by `tar_headers`; stdin, pipes and
    compressed files and URLs (streamed, see `storage.open_input`) by tarfile."""
    if storage.is_url(path):
        stream = storage.open_input(path)
        try:
            archive = _open_tarfile(stream, path, seekable=False)
        except BaseException:
            stream.close()
            raise

        def close_stream() -> None:
            archive.close()
            stream.close()

        return _tarfile_members(archive, path), close_stream, None
    if path == STDIO:
        archive = _open_tarfile(sys.stdin.buffer, "<stdin>", seekable=False)
        return _tarfile_members(archive, "<stdin>"), archive.close, None
    if os.path.isdir(path):
        raise FormatError(f"{path}: is a directory, not a tarball")
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        raise FormatError(f"{path}: no such file") from None
    except OSError as exc:
        raise FormatError(f"{path}: cannot open: {exc.strerror}") from None
    status = os.fstat(handle.fileno())
    regular = stat.S_ISREG(status.st_mode)
    if status.st_size == 0 and regular:
        handle.close()
        raise FormatError(f"{path}: empty file, not a tarball")
    if regular and is_header(os.pread(handle.fileno(), BLOCK, 0)):
        fd = handle.fileno()
        return _file_members(fd, path, status.st_size), handle.close, fd
    try:
        archive = _open_tarfile(handle, path, seekable=regular)
    except BaseException:
        handle.close()
        raise

    def close() -> None:
        archive.close()
        handle.close()

    return _tarfile_members(archive, path), close, None


def _file_members(fd: int, source: str, end: int) -> Iterator[_Member]:
    for name, kind, offset, size, head in iter_entries(fd):
        if offset + size > end:
            raise FormatError(f"{source}: member {name!r} is truncated")
        yield _Member(name, kind, offset, size, None, head)


def _open_tarfile(handle: IO[bytes], source: str, seekable: bool) -> tarfile.TarFile:
    """A regular file is opened seekable, so each member is one read instead of many small
    ones; pipes and stdin use tarfile's stream mode.

    (The first header is read inside open(), so the end flag may already be set here.)
    """
    mode = "r:*" if seekable else "r|*"
    try:
        return tarfile.open(fileobj=handle, mode=mode, tarinfo=_EndCheckingTarInfo)
    except _DAMAGED:
        pass
    compression = _compression(os.pread(handle.fileno(), 8, 0)) if seekable else None
    if compression is None:
        raise FormatError(f"{source}: not a tar archive (gzip, bzip2, xz or plain tar expected)")
    handle.seek(0)
    try:  # once more, to say what is wrong with it
        tarfile.open(fileobj=handle, mode=f"r:{compression}", tarinfo=_EndCheckingTarInfo)
        reason = "unreadable"
    except _DAMAGED as exc:
        reason = str(exc) or type(exc).__name__
    raise FormatError(f"{source}: {_COMPRESSIONS[compression]} data, but not a tar archive "
                      f"inside ({reason})")  # fmt: skip


#: tarfile's name for a compression → what people call it; and how its data starts.
_COMPRESSIONS = {"gz": "gzip", "bz2": "bzip2", "xz": "xz"}
_MAGIC = {b"\x1f\x8b": "gz", b"BZh": "bz2", b"\xfd7zXZ\x00": "xz"}


def _compression(start: bytes) -> str | None:
    return next((name for magic, name in _MAGIC.items() if start.startswith(magic)), None)


#: What reading a compressed tarball raises on damaged data, besides tarfile's own errors
#: (gzip: zlib.error, BadGzipFile; bzip2: OSError; xz: LZMAError; any: EOFError).
_DAMAGED = (tarfile.TarError, EOFError, OSError, zlib.error, lzma.LZMAError)


def _tarfile_members(archive: tarfile.TarFile, source: str) -> Iterator[_Member]:
    while True:
        try:
            member = archive.next()
        except _DAMAGED as exc:
            raise CorruptTar(str(exc) or type(exc).__name__) from None
        if member is None:
            if not getattr(archive, "mira_clean_end", False):
                raise TruncatedTar("no end-of-archive block")
            return
        kind = "file" if member.isfile() else "directory" if member.isdir() else "other"
        read = functools.partial(_read_member, archive, member, source)
        yield _Member(member.name, kind, None, member.size, read)
        archive.members.clear()  # seekable mode keeps every header otherwise


def iter_member_groups(path: str, lazy: bool = True) -> Iterator[MemberGroup]:
    """Stream the regular members of one tarball, grouped by key, in archive order.

    With `lazy`, image members of an uncompressed regular file are not read but given as
    `FileRange`s (which stay readable after the iteration); from a pipe or a compressed
    tarball everything is read.
    """
    source = "<stdin>" if path == STDIO else path
    members, close, fd = _open_input(path)
    opened: OpenFile | None = None
    group: MemberGroup | None = None
    last: str | None = None  # the last member's name
    try:
        while True:
            try:
                member = next(members, None)
            except CorruptTar as exc:
                after = "the start" if last is None else f"member {last!r}"
                problem = (
                    f"truncated tarball: it ends after {after}"
                    if isinstance(exc, TruncatedTar)
                    else f"truncated or corrupt tarball after {after} ({exc})"
                )
                raise FormatError(f"{source}: {problem}") from None
            if member is None:
                break
            name = _safe_name(source, member.name)
            if member.kind == "directory":
                continue
            if member.kind != "file":
                raise FormatError(f"{source}: member {name!r} is a link or special file")
            key, extension = split_member_name(name)
            if group is not None and group.key != key:
                yield group
                group = None
            if group is None:
                group = MemberGroup(source, key)
            if extension in group.members:
                raise FormatError(f"{source}: member {name!r} appears twice")
            if lazy and fd is not None and extension not in EAGER_EXTENSIONS:
                if opened is None:
                    opened = OpenFile(os.dup(fd), source)
                assert member.offset is not None
                group.members[extension] = FileRange(
                    opened, member.offset, member.size, member.head[:_HEAD]
                )
            else:
                try:
                    group.members[extension] = member.data(fd)
                except _DAMAGED as exc:
                    raise FormatError(f"{source}: member {name!r} is truncated ({exc})") from None
            group.names[extension] = name
            last = name
        if group is not None:
            yield group
    finally:
        close()


def _read_member(archive: tarfile.TarFile, member: tarfile.TarInfo, source: str) -> bytes:
    reader = archive.extractfile(member)
    assert reader is not None
    data = reader.read()
    if len(data) != member.size:
        raise EOFError(f"{len(data)} of {member.size} bytes")
    return data


def same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def is_stream(path: str) -> bool:
    """True for outputs that are written to, never replaced: "-", devices, pipes, sockets
    (`-o /dev/null` must not turn /dev/null into a file)."""
    if path == STDIO:
        return True
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


def check_output(path: str, inputs: Sequence[PathLike] = (), force: bool = False) -> None:
    """Refuse to replace an input (even with force) or an existing file (without force), or
    a path whose missing folders could not be created (they are, when writing starts); a
    device or pipe is written to as it is (see `is_stream`); a URL is checked by `storage`."""
    if storage.is_url(path):
        return storage.check_output(path, inputs, force)
    if is_stream(path):
        return
    for item in inputs:
        text = os.fspath(item)
        if text != STDIO and same_file(path, text):
            raise OutputError(f"{path}: is also an input; refusing to overwrite it")
    if os.path.isdir(path):
        raise OutputError(f"{path}: is a directory; give a tarball file name")
    if os.path.exists(path) and not force:
        raise OutputError(f"{path}: already exists (use --force to overwrite)")
    check_folder(path)
