"""An output folder built beside its target and renamed into place only when complete (or,
for a URL, built locally and uploaded when complete)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mira.errors import OutputError
from mira.formats import storage
from mira.formats.temporaries import REPLACED, check_folder, spooled, temporary_folder


class StagedDirectory:
    """An output folder built in a temporary folder beside it (see `temporaries`, which also
    creates missing parent folders) and renamed on success.

    An existing non-empty target is refused without `force`; a target that is, or holds, one
    of `inputs` is refused even with it. On any error (or Ctrl-C) the staging folder goes.
    A URL target is staged in the local temporary folder and uploaded on success (see
    `storage.publish_folder`).
    """

    def __init__(
        self, target: str | os.PathLike[str], force: bool = False, inputs: Iterable[Any] = ()
    ):
        text = storage.local_path(os.fspath(target))
        self.url = text if storage.is_url(text) else None
        self.path: Path | None = None
        if self.url is not None:
            storage.check_folder(self.url, inputs, force)
            return
        self.target = Path(text)
        where = self.target.resolve()
        for item in inputs:
            text = os.fspath(item)
            if text == "-" or not os.path.exists(text):
                continue
            source = Path(text).resolve()
            if source == where or where in source.parents:
                raise OutputError(
                    f"{target}: holds or is an input ({text}); refusing to replace it"
                )
        if self.target.exists() or self.target.is_symlink():
            empty = self.target.is_dir() and not any(self.target.iterdir())
            if not empty and not force:
                raise OutputError(f"{target}: already exists (use --force to replace it)")
        check_folder(self.target)

    def __enter__(self) -> Path:
        if self.url is not None:
            self.path = temporary_folder(spooled("mira-folder"))
            return self.path
        self.path = temporary_folder(self.target)
        umask = os.umask(0o022)  # mkdtemp makes a private folder: give it the usual mode
        os.umask(umask)
        os.chmod(self.path, 0o777 & ~umask)
        return self.path

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        assert self.path is not None
        if self.url is not None:
            try:
                if exc_type is None:
                    storage.publish_folder(self.path, self.url)
            finally:
                shutil.rmtree(self.path, ignore_errors=True)
            return
        if exc_type is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            return
        old = None
        if self.target.exists() or self.target.is_symlink():
            old = temporary_folder(self.target, kind="old")
            os.replace(self.target, old / REPLACED)
        os.replace(self.path, self.target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
