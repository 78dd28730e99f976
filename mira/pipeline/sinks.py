"""Sinks: where a pipeline's items go, written atomically.

Every sink checks its outputs when built (an existing output needs `force`, an input is
never overwritten), before anything is read; it is a context manager that commits
everything on success and leaves nothing behind on any error, Ctrl-C included. Sinks that
set `accepts_stored` copy scenes as stored (`StoredScene`) without rebuilding them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Any

from mira.errors import FormatError, OutputError
from mira.formats.staged_folder import StagedDirectory
from mira.formats.stream import SceneWriter, StoredScene
from mira.formats.tario import PathLike


class Sink:
    """Commit on a clean exit, abort on an exception; `write` takes one item."""

    accepts_stored = False

    def write(self, item: Any) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Commit everything written."""

    def abort(self) -> None:
        """Remove everything written and not yet committed."""

    def remove(self) -> None:
        """Remove what `close` committed (a later part of the same job failed)."""

    def __enter__(self) -> Sink:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class NullSink(Sink):
    """Writes nothing: for a first pass whose stages only learn from the stream (what a
    merge must know before writing, how many scenes a filter leaves)."""

    accepts_stored = True

    def write(self, item: Any) -> None:
        pass


class TarSink(Sink):
    """Scenes to a native or legacy tarball, optionally sharded (see `SceneWriter`)."""

    accepts_stored = True

    def __init__(
        self,
        path: PathLike,
        *,
        force: bool = False,
        inputs: Sequence[PathLike] = (),
        format: str = "native",
        shard_size: int | None = None,
    ) -> None:
        self.writer = SceneWriter(
            path, force=force, inputs=inputs, format=format, shard_size=shard_size
        )

    @property
    def count(self) -> int:
        return self.writer.count

    def write(self, item: Any) -> None:
        if isinstance(item, StoredScene):
            self.writer.write_stored(item)
        else:
            self.writer.write(item)

    def close(self) -> None:
        self.writer.close()

    def abort(self) -> None:
        self.writer.abort()

    def remove(self) -> None:
        self.writer.remove()


class PartsSink(Sink):
    """Item i to part `part_of[i]`: one sink per part, all committed or none.

    Writing more or fewer items than `part_of` names means the input changed since the
    parts were decided (e.g. a file rewritten between two passes): an error, nothing kept.
    """

    accepts_stored = True

    def __init__(self, parts: Sequence[Sink], part_of: Sequence[int]) -> None:
        self.parts = list(parts)
        self.part_of = part_of
        self.count = 0

    def write(self, item: Any) -> None:
        if self.count >= len(self.part_of):
            raise FormatError("the input changed between the two passes of the split")
        self.parts[self.part_of[self.count]].write(item)
        self.count += 1

    def close(self) -> None:
        """Commit every part; if one fails, abort the rest and remove those committed."""
        if self.count != len(self.part_of):
            self.abort()
            raise FormatError("the input changed between the two passes of the split")
        for index, part in enumerate(self.parts):
            try:
                part.close()
            except BaseException:
                for unfinished in self.parts[index:]:
                    unfinished.abort()
                for committed in self.parts[:index]:
                    committed.remove()
                raise

    def abort(self) -> None:
        for part in self.parts:
            part.abort()


class FolderSink(Sink):
    """Named files, ``(relative name, bytes)``, into a folder that appears only when complete."""

    def __init__(
        self, target: str | os.PathLike[str], *, force: bool = False, inputs: Sequence[Any] = ()
    ) -> None:
        self.target = target
        self.staged = StagedDirectory(target, force=force, inputs=inputs)
        self.folder: Path | None = None

    def __enter__(self) -> FolderSink:
        self.folder = self.staged.__enter__()
        return self

    def write(self, item: tuple[str, bytes]) -> None:
        name, data = item
        assert self.folder is not None, "a FolderSink is written inside its `with` block"
        path = PurePosixPath(name)
        if path.is_absolute() or ".." in path.parts or not path.parts:
            raise OutputError(f"{self.target}: refusing to write {name!r} outside the folder")
        destination = self.folder.joinpath(*path.parts)
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(data)

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.staged.__exit__(exc_type, exc, tb)
