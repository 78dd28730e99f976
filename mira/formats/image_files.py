"""Image files named by an annotation file (VOC, CVAT, Label Studio): found, checked, sized.

Names come from files someone else wrote, so a name that would leave its image folder
(absolute, ``..``, a backslash) is refused. The image is not read: its size comes from the
file header (decoding only as a fallback), and its bytes are copied into the tarball as
they are.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from mira.core import ImageSource
from mira.errors import FormatError, ImageError

__all__ = ["image_file", "relative_name"]


def relative_name(name: str, where: str) -> str:
    """`name` when it is a relative path that stays inside its folder, else a FormatError."""
    path = PurePosixPath(name)
    if not name or path.is_absolute() or ".." in path.parts or "\\" in name or ":" in path.parts[0]:
        raise FormatError(f"{where}: image name {name!r} would leave the image folder")
    return name


def image_file(
    path: str, where: str, skip_missing: bool, expected: tuple[int, int] | None = None
) -> ImageSource | None:
    """The image at `path`, unread, with its (width, height); None when it is missing and
    `skip_missing`. With `expected`, a file of another size is a FormatError (coordinates
    in pixels would not fit it)."""
    from mira.core.image_header import read_file_dimensions

    try:
        size = read_file_dimensions(path)
    except FileNotFoundError:
        if skip_missing:
            return None
        raise ImageError(f"{where}: image file not found: {path}") from None
    except IsADirectoryError:
        raise ImageError(f"{where}: image path is a directory: {path}") from None
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
