"""Low-level tarball I/O shared by every tar format: safe member reading, grouping members
into samples, and atomic, deterministic writing.

Readers never use member names as file-system paths; writers never leave a partial file.
"""

from __future__ import annotations

import glob
import os
import posixpath
import stat
import sys
import tarfile
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from mira.errors import FormatError, OutputError

PathLike = str | os.PathLike[str]
STDIO = "-"
_GLOB_CHARS = set("*?[")


def expand_inputs(paths: PathLike | Sequence[PathLike]) -> list[str]:
    """Turn one path, a glob, "-" or a list of them into a list of concrete inputs."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    result: list[str] = []
    for path in paths:
        text = os.fspath(path)
        if text != STDIO and not os.path.exists(text) and _GLOB_CHARS & set(text):
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


@dataclass
class MemberGroup:
    """Consecutive members sharing one key, e.g. `000001.json` and `000001.jpg`."""

    source: str
    key: str
    members: dict[str, bytes] = field(default_factory=dict)  # extension ("" for none) → bytes
    names: dict[str, str] = field(default_factory=dict)  # extension → member name

    def where(self, extension: str | None = None) -> str:
        name = self.names.get(extension, "") if extension is not None else None
        return f"{self.source}: member {name or self.key}"


def _safe_name(source: str, name: str) -> str:
    normalised = posixpath.normpath(name.replace("\\", "/"))
    if name.startswith("/") or normalised.startswith("../") or normalised == "..":
        raise FormatError(f"{source}: member {name!r} has an unsafe path (absolute or '..')")
    return normalised


def split_member_name(name: str) -> tuple[str, str]:
    """WebDataset convention: the key is the path up to the first dot of the base name."""
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


def _open_stream(handle: IO[bytes], seekable: bool = False) -> tarfile.TarFile:
    """Read members in order. A regular file is opened seekable, so each member is one read
    instead of many small ones; pipes and stdin use tarfile's stream mode.

    (The first header is read inside open(), so the end flag may already be set here.)
    """
    mode = "r:*" if seekable else "r|*"
    return tarfile.open(fileobj=handle, mode=mode, tarinfo=_EndCheckingTarInfo)


def _open_input(path: str) -> tuple[tarfile.TarFile, IO[bytes] | None]:
    if path == STDIO:
        return _open_stream(sys.stdin.buffer), None
    if os.path.isdir(path):
        raise FormatError(f"{path}: is a directory, not a tarball")
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        raise FormatError(f"{path}: no such file") from None
    except OSError as exc:
        raise FormatError(f"{path}: cannot open: {exc.strerror}") from None
    status = os.fstat(handle.fileno())
    if status.st_size == 0 and stat.S_ISREG(status.st_mode):
        handle.close()
        raise FormatError(f"{path}: empty file, not a tarball")
    try:
        return _open_stream(handle, seekable=stat.S_ISREG(status.st_mode)), handle
    except tarfile.TarError as exc:
        handle.close()
        raise FormatError(f"{path}: not a tarball ({exc})") from None


def iter_member_groups(path: str) -> Iterator[MemberGroup]:
    """Stream the regular members of one tarball, grouped by key, in archive order."""
    source = "<stdin>" if path == STDIO else path
    archive, handle = _open_input(path)
    group: MemberGroup | None = None
    last = "the start"
    try:
        while True:
            try:
                member = archive.next()
            except tarfile.TarError as exc:
                raise FormatError(
                    f"{source}: truncated or corrupt tarball after {last} ({exc})"
                ) from None
            if member is None:
                if not getattr(archive, "mira_clean_end", False):
                    raise FormatError(f"{source}: truncated tarball: it ends after {last}")
                break
            name = _safe_name(source, member.name)
            if member.isdir():
                continue
            if not member.isfile():
                raise FormatError(f"{source}: member {name!r} is a link or special file")
            key, extension = split_member_name(name)
            if group is not None and group.key != key:
                yield group
                group = None
            if group is None:
                group = MemberGroup(source, key)
            if extension in group.members:
                raise FormatError(f"{source}: member {name!r} appears twice")
            reader = archive.extractfile(member)
            assert reader is not None
            try:
                data = reader.read()
            except (tarfile.TarError, OSError, EOFError) as exc:
                raise FormatError(f"{source}: member {name!r} is truncated ({exc})") from None
            if len(data) != member.size:
                raise FormatError(f"{source}: member {name!r} is truncated")
            group.members[extension] = data
            group.names[extension] = name
            archive.members.clear()  # seekable mode keeps every header otherwise
            last = f"member {name!r}"
        if group is not None:
            yield group
    finally:
        archive.close()
        if handle is not None:
            handle.close()


def tar_header(name: str, size: int) -> bytes:
    """A member header with fixed metadata, so the same content gives the same bytes."""
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = 0
    info.mode = 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


def same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def check_output(path: str, inputs: Sequence[PathLike] = (), force: bool = False) -> None:
    """Refuse to replace an input (even with force) or an existing file (without force)."""
    if path == STDIO:
        return
    for item in inputs:
        text = os.fspath(item)
        if text != STDIO and same_file(path, text):
            raise OutputError(f"{path}: is also an input; refusing to overwrite it")
    if os.path.isdir(path):
        raise OutputError(f"{path}: is a directory; give a tarball file name")
    if os.path.exists(path) and not force:
        raise OutputError(f"{path}: already exists (use --force to overwrite)")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise OutputError(f"{path}: folder {parent} does not exist")


class AtomicTar:
    """A tar being written: to a temporary file beside the target, renamed on commit.

    Members are written directly (header, data, padding) rather than through tarfile's
    stream layer, which copies every member in small pieces; the bytes are the same as
    tarfile's PAX writer makes, ending with two zero blocks padded to a 10 KiB record.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._temp: str | None = None
        self._size = 0
        if path == STDIO:
            self._file: IO[bytes] = sys.stdout.buffer
        else:
            folder = os.path.dirname(os.path.abspath(path))
            fd, self._temp = tempfile.mkstemp(
                dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".part"
            )
            self._file = os.fdopen(fd, "wb", buffering=1 << 20)

    def _write(self, data: bytes) -> None:
        self._file.write(data)
        self._size += len(data)

    def add(self, name: str, data: bytes) -> None:
        self._write(tar_header(name, len(data)))
        self._write(data)
        self._write(tarfile.NUL * (-len(data) % tarfile.BLOCKSIZE))

    def commit(self) -> None:
        self._write(tarfile.NUL * 2 * tarfile.BLOCKSIZE)
        self._write(tarfile.NUL * (-self._size % tarfile.RECORDSIZE))
        self._file.flush()
        if self._temp is not None:
            self._file.close()
            os.chmod(self._temp, 0o644 & ~_umask())
            os.replace(self._temp, self.path)
            self._temp = None

    def abort(self) -> None:
        if self._temp is None:
            return
        try:
            self._file.close()
        finally:
            Path(self._temp).unlink(missing_ok=True)
            self._temp = None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
