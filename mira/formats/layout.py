"""Dataset folders laid out for other tools (COCO, YOLO, VOC, ...): the shared mechanics.

An exporter subclasses `DatasetFolder`: it receives scenes part by part (`part(name)`
gives the sink for one part, so a pipeline can run once per input), writes label files
with `write_file` and images with `write_image`, and writes its index files in `finish`.
The folder is built beside its target and appears only when complete (`StagedDirectory`):
an error or Ctrl-C leaves nothing. Names that would leave the folder are refused.

Images are written one of three ways (`images=`):
- ``copy``: byte for byte; an image still inside its tarball is copied by the kernel;
- ``link``: a hard link when the image is a file of its own on the same file system;
  an image inside a tarball (or in memory, or on another file system) cannot be linked:
  it is copied and counted under ``images.copied_not_linkable`` in the report;
- ``none``: no image files, only labels (the index still names each image).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Any

from mira.errors import OutputError, ValidationError
from mira.formats.staged_folder import StagedDirectory
from mira.formats.tar_copier import copy_range

IMAGE_MODES = ("copy", "link", "none")


def leaves_folder(name: str) -> bool:
    """True unless `name` is a non-empty relative POSIX path that stays inside its folder:
    the one rule for names from other tools' files, on import and on export (absolute,
    ``..``, a backslash or a drive letter ``C:`` all leave it)."""
    path = PurePosixPath(name)
    return (
        not name or path.is_absolute() or ".." in path.parts or "\\" in name or ":" in path.parts[0]
    )


def check_relative(name: str, where: str) -> PurePosixPath:
    """`name` as a path inside a folder, or an OutputError naming it."""
    if leaves_folder(name):
        raise OutputError(f"{where}: refusing to write {name!r} outside the folder")
    return PurePosixPath(name)


class DatasetFolder:
    """The sink of an exporter: parts of scenes into one folder, written atomically."""

    accepts_stored = False

    def __init__(
        self,
        out_dir: str | os.PathLike[str],
        *,
        images: str = "copy",
        force: bool = False,
        inputs: Any = (),
    ) -> None:
        if images not in IMAGE_MODES:
            raise ValidationError(f"images must be one of {', '.join(IMAGE_MODES)}; got {images!r}")
        self.target = os.fspath(out_dir)
        self.images = images
        self.staged = StagedDirectory(out_dir, force=force, inputs=inputs)
        self.folder: Path | None = None
        self.report: dict[str, Any] = {
            "output": self.target,
            "parts": {},
            "images": {
                "written": 0,
                "linked": 0,
                "copied_not_linkable": 0,
                "skipped": 0,
                "renamed": 0,
            },
        }

    # -- what an exporter implements --------------------------------------------------
    def add(self, scene: Any, part: str) -> None:
        """Write one scene of `part` (labels now; indexes may wait for `finish`)."""
        raise NotImplementedError

    def start_part(self, part: str) -> None:
        """Called once before the first scene of each part."""

    def finish(self) -> None:
        """Write the index files (e.g. COCO JSON, data.yaml); called once, at the end."""

    # -- the sink protocol ------------------------------------------------------------
    def part(self, name: str) -> _Part:
        """The sink for the scenes of part `name` (its own close/abort do nothing: the
        folder is committed or removed as a whole)."""
        if name in self.report["parts"]:
            raise ValidationError(f"part {name!r} is given twice")
        self.report["parts"][name] = 0
        self.start_part(name)
        return _Part(self, name)

    def __enter__(self) -> DatasetFolder:
        self.folder = self.staged.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            try:
                self.finish()
            except BaseException as error:
                self.staged.__exit__(type(error), error, error.__traceback__)
                raise
        self.staged.__exit__(exc_type, exc, tb)

    # -- helpers for exporters --------------------------------------------------------
    def path(self, name: str) -> Path:
        """Where `name` (a relative POSIX path) goes in the staging folder; parents made."""
        assert self.folder is not None, "a DatasetFolder is written inside its `with` block"
        destination = self.folder.joinpath(*check_relative(name, self.target).parts)
        destination.parent.mkdir(parents=True, exist_ok=True)
        return destination

    def write_file(self, name: str, data: bytes) -> None:
        self.path(name).write_bytes(data)

    def write_image(self, name: str, scene: Any) -> None:
        """The scene's encoded image as `name`, by the folder's image mode."""
        if self.images == "none":
            self.report["images"]["skipped"] += 1
            return
        destination = self.path(name)
        source = scene.image_source
        if self.images == "link":
            if source.path is not None and self._link(source.path, destination):
                self.report["images"]["linked"] += 1
                return
            self.report["images"]["copied_not_linkable"] += 1
        file_range = source.file_range
        if file_range is None:
            destination.write_bytes(source.encoded())
        else:
            with open(destination, "wb") as out:
                try:
                    copy_range(file_range.file.fd, file_range.offset, file_range.size, out.fileno())
                except EOFError as exc:
                    raise OutputError(f"{source.name}: cannot read image: {exc}") from None
        self.report["images"]["written"] += 1

    def _link(self, path: str, destination: Path) -> bool:
        """Hard-link `path` as `destination`; False where the file system cannot."""
        try:
            os.link(path, destination)
        except OSError as exc:
            if exc.errno in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                return False
            raise OutputError(f"{path}: cannot link into {self.target}: {exc.strerror}") from None
        return True


class _Part:
    """One part of a `DatasetFolder`, as a sink of its own for one pipeline run."""

    accepts_stored = False

    def __init__(self, folder: DatasetFolder, name: str) -> None:
        self.folder, self.name = folder, name

    def write(self, scene: Any) -> None:
        self.folder.add(scene, self.name)
        self.folder.report["parts"][self.name] += 1

    def __enter__(self) -> _Part:
        return self

    def __exit__(self, *exc: Any) -> None:
        """Nothing: the folder commits or removes everything at its own exit."""
