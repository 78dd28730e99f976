"""Finding the image an annotation file names (COCO, YOLO, VOC, CVAT, Label Studio).

Names come from files someone else wrote, so a name that would leave its image folder is
refused: by its spelling (`mira.formats.layout.leaves_folder`: absolute, ``..``, a
backslash, a drive letter) or through a symbolic link whose target is outside the folder.
The image is not read: its size comes from the file header (decoding only as a fallback),
or from the annotation file where that format states it, and its bytes are copied into
the tarball as they are.
"""

from __future__ import annotations

import functools
import os
import stat

from mira.core import ImageSource
from mira.errors import FormatError, ImageError
from mira.formats.layout import leaves_folder

__all__ = ["image_file", "image_path", "relative_name"]


def relative_name(name: str, where: str) -> str:
    """`name` when it is a relative path that stays inside its folder, else a FormatError."""
    if leaves_folder(name):
        raise FormatError(f"{where}: image name {name!r} would leave the image folder")
    return name


def image_path(folder: str, name: str, where: str) -> str:
    """``folder/name``, refused when `name` leaves `folder` by its spelling or by a link."""
    path = os.path.join(folder, relative_name(name, where))
    inside = _real(folder)
    try:
        linked = stat.S_ISLNK(os.lstat(path).st_mode)
    except OSError:  # missing: `image_file` says so
        linked = False
    real = os.path.realpath(path) if linked else os.path.join(_real(os.path.dirname(path)), "x")
    if os.path.commonpath([inside, real]) != inside:
        raise FormatError(f"{where}: image {name!r} is a link to outside the image folder {folder}")
    return path


@functools.lru_cache(maxsize=256)
def _real(folder: str) -> str:
    """The folder with every link resolved (cached: one image folder has few subfolders)."""
    return os.path.realpath(folder)


def image_file(
    path: str,
    where: str,
    skip_missing: bool,
    expected: tuple[int, int] | None = None,
    *,
    trust_size: bool = False,
) -> ImageSource | None:
    """The image at `path`, unread, with its (width, height); None when it is missing and
    `skip_missing`. With `expected`, a file of another size is a FormatError (coordinates
    in pixels would not fit it), or with `trust_size` the size is taken as given and only
    the file's existence is checked (COCO states every size: no header is opened)."""
    from mira.core.image_header import read_file_dimensions

    try:
        if trust_size and expected is not None:
            if not stat.S_ISREG(os.stat(path).st_mode):
                raise IsADirectoryError
            return ImageSource(path=path, dimensions=expected)
        size = read_file_dimensions(path)
    except FileNotFoundError:
        if skip_missing:
            return None
        raise ImageError(f"{where}: image file not found: {path}") from None
    except IsADirectoryError:
        raise ImageError(f"{where}: image path is not a file: {path}") from None
    except OSError as exc:
        raise ImageError(f"{where}: cannot read image {path}: {exc.strerror}") from None
    source = ImageSource(path=path, dimensions=size)
    if size is None:
        source.decode()  # sets the size, or raises an ImageError naming the path
    width, height = source.dimensions
    if expected is not None and (width, height) != tuple(expected):
        raise FormatError(
            f"{where}: the image is {width}x{height} but the annotations say "
            f"{expected[0]}x{expected[1]}: {path}"
        )
    return source
