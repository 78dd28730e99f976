"""Sources: where a pipeline's scenes come from.

Any iterable of scenes is a source. `TarSource` is the one for tarballs (native or legacy,
shards, globs, "-"): it knows its input files, so sinks can refuse to overwrite them, and it
can hand out scenes as stored (`StoredScene`) to pipelines that need no pixels. Import
formats are sources too: each format module's reader yields scenes and fills its report.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from mira.core.scene import Scene
from mira.formats.stream import StoredScene, iter_scenes, iter_stored
from mira.formats.tario import STDIO, PathLike, expand_inputs


class TarSource:
    """Scenes from tarballs, in order; images stay in their tarball until asked for."""

    def __init__(self, inputs: PathLike | Sequence[PathLike]) -> None:
        self.inputs = expand_inputs(inputs)

    def __iter__(self) -> Iterator[Scene]:
        return iter_scenes(self.inputs)

    def stored(self) -> Iterator[StoredScene]:
        """The same scenes as stored, for copying unchanged ones without rebuilding them."""
        return iter_stored(self.inputs)

    @contextlib.contextmanager
    def rereadable(self) -> Iterator[TarSource]:
        """This source, readable twice: standard input is spooled to a temporary file,
        removed afterwards. Outputs are still checked against the original inputs."""
        if STDIO not in self.inputs:
            yield self
            return
        from mira.formats.temporaries import temporary_file

        # Named as every temporary is: a killed run's copy is removed by the next one.
        fd, name = temporary_file(os.path.join(tempfile.gettempdir(), "mira-stdin.tar"))
        try:
            with open(fd, "wb") as handle:
                shutil.copyfileobj(sys.stdin.buffer, handle, 1 << 20)
            yield TarSource([name if p == STDIO else p for p in self.inputs])
        finally:
            os.unlink(name)


def source_inputs(source: Iterable[Any]) -> list[str]:
    """The files a source reads (none for a plain iterable)."""
    return list(getattr(source, "inputs", ()))
