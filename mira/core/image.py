"""A lazy image: a file path, encoded bytes or an RGB array, decoded only when pixels are asked for.

Keeping the encoded bytes is what lets commands that never look at pixels (split, dedupe,
stats) copy images through bit for bit, and what keeps memory flat when streaming.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from mira.core.file_range import FileRange
from mira.errors import ImageError, OptionError, ValidationError

if TYPE_CHECKING:
    from mira.core.fingerprint import Fingerprint

#: Magic numbers → file extension, for naming the image member of a tarball.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"BM", "bmp"),
    (b"II*\x00", "tif"),
    (b"MM\x00*", "tif"),
)


#: The longest side a format can hold (libjpeg's JPEG_MAX_DIMENSION; WebP's 14 bits).
MAX_SIDE = {"jpg": 65500, "webp": 16383}


class Dimensions(NamedTuple):
    width: int
    height: int


def sniff_extension(data: bytes) -> str | None:
    """The conventional extension for encoded image bytes, or None when unknown."""
    for magic, extension in _SIGNATURES:
        if data.startswith(magic):
            return extension
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def check_rgb(array: np.ndarray, where: str = "image") -> np.ndarray:
    """HxWx3 uint8 RGB from uint8 HxWx3, HxW or HxWx1 (grey, expanded), HxWx2 (grey and
    alpha) or HxWx4 (RGBA); the alpha channel is dropped, as when an image file is read.
    Anything else is refused."""
    if not isinstance(array, np.ndarray):
        raise ValidationError(f"{where}: expected a numpy array, got {type(array).__name__}")
    if array.dtype != np.uint8:
        raise ValidationError(f"{where}: expected a uint8 array, got {array.dtype}")
    if array.ndim == 2:
        array = array[:, :, None]
    channels = array.shape[2] if array.ndim == 3 else 0
    if channels not in (1, 2, 3, 4) or array.shape[0] == 0 or array.shape[1] == 0:
        raise ValidationError(
            f"{where}: expected an HxW or HxWxC array with 1 to 4 channels, got shape {array.shape}"
        )
    if channels in (1, 2):
        return np.repeat(array[:, :, :1], 3, axis=2)
    return array[:, :, :3] if channels == 4 else array


def _quiet_opencv() -> None:
    """OpenCV prints its own warnings for bad images; our error already says it, once."""
    import cv2

    logging = getattr(getattr(cv2, "utils", None), "logging", None)
    if logging is not None:
        logging.setLogLevel(logging.LOG_LEVEL_SILENT)


def decode_image(data: bytes, where: str) -> np.ndarray:
    """Decode encoded bytes to an RGB uint8 array (EXIF orientation applied, alpha dropped)."""
    import cv2

    _quiet_opencv()
    buffer = np.frombuffer(data, dtype=np.uint8)
    bgr = cv2.imdecode(buffer, cv2.IMREAD_COLOR) if len(buffer) else None
    if bgr is None:
        raise ImageError(f"{where}: cannot decode image ({len(data)} bytes)")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def encode_image(
    rgb: np.ndarray, format: str = "png", quality: int | None = None, where: str = "image"
) -> bytes:
    """Encode an RGB array as PNG, JPEG (quality 1-100, default 95) or WebP (quality 1-100,
    None: lossless); `mira.core.encoding.Encoding` decides which for the pixel commands.
    An image too large for the format is an OptionError naming `where`."""
    import cv2

    rgb = check_rgb(rgb)
    height, width = rgb.shape[:2]
    limit = MAX_SIDE.get("jpg" if format == "jpeg" else format)
    if limit is not None and max(width, height) > limit:
        raise OptionError(
            f"{where}: a {width}x{height} image is too large for image format {format} "
            f"(at most {limit} px a side); choose another image format"
        )
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    if quality is not None and not 1 <= int(quality) <= 100:
        raise ValidationError(f"quality must be between 1 and 100, got {quality}")
    if format in ("jpg", "jpeg"):
        q = 95 if quality is None else int(quality)
        ok, buffer = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, q])
    elif format == "png":
        ok, buffer = cv2.imencode(".png", bgr, [cv2.IMWRITE_PNG_COMPRESSION, 3])
    elif format == "webp":
        q = 101 if quality is None else int(quality)  # above 100: OpenCV's lossless WebP
        ok, buffer = cv2.imencode(".webp", bgr, [cv2.IMWRITE_WEBP_QUALITY, q])
    else:
        raise ValidationError(f"cannot encode images as {format!r}; use 'png', 'jpg' or 'webp'")
    if not ok:
        raise ImageError(f"OpenCV failed to encode a {rgb.shape} image as {format}")
    return buffer.tobytes()


class ImageSource:
    """Where a scene's pixels come from, decoded lazily and at most once when cached.

    The encoded bytes are a file path, bytes in memory, or a range of an open file (an
    image member of a tarball, read only when asked for); or pixels in memory.
    """

    __slots__ = (
        "_path",
        "_data",
        "_range",
        "_array",
        "_decoded",
        "_format",
        "_quality",
        "_name",
        "_dimensions",
        "_fingerprint",
    )

    def __init__(
        self,
        *,
        path: str | os.PathLike[str] | None = None,
        data: bytes | None = None,
        array: np.ndarray | None = None,
        file_range: FileRange | None = None,
        format: str = "png",
        quality: int | None = None,
        name: str | None = None,
        dimensions: tuple[int, int] | None = None,
    ) -> None:
        if sum(x is not None for x in (path, data, array, file_range)) != 1:
            raise ValidationError(
                "an image source needs exactly one of path, data, array or file_range"
            )
        self._path = os.fspath(path) if path is not None else None
        self._data = bytes(data) if data is not None else None
        self._range = file_range
        self._array = check_rgb(array).copy() if array is not None else None
        if self._array is not None:
            self._array.setflags(write=False)
        self._decoded: np.ndarray | None = None
        self._format = "jpg" if format == "jpeg" else format
        self._quality = quality
        self._name = name or self._path or "image"
        self._dimensions = Dimensions(*dimensions) if dimensions is not None else None
        if self._array is not None:
            self._dimensions = Dimensions(self._array.shape[1], self._array.shape[0])
        self._fingerprint: Fingerprint | None = None

    @classmethod
    def from_path(cls, path: str | os.PathLike[str]) -> ImageSource:
        return cls(path=path)

    @classmethod
    def from_bytes(
        cls, data: bytes, name: str | None = None, dimensions: tuple[int, int] | None = None
    ) -> ImageSource:
        return cls(data=data, name=name, dimensions=dimensions)

    @classmethod
    def from_range(
        cls, file_range: FileRange, name: str, dimensions: tuple[int, int] | None = None
    ) -> ImageSource:
        """Encoded bytes left in a file (e.g. a tarball member), read when needed."""
        return cls(file_range=file_range, name=name, dimensions=dimensions)

    @classmethod
    def from_array(
        cls, array: np.ndarray, format: str = "png", quality: int | None = None
    ) -> ImageSource:
        """Pixels made in memory; `format`/`quality` say how to encode them when written."""
        return cls(array=array, format=format, quality=quality)

    @property
    def name(self) -> str:
        """What error messages call this image (a path or a tarball member)."""
        return self._name

    @property
    def path(self) -> str | None:
        return self._path

    @property
    def file_range(self) -> FileRange | None:
        """Where the encoded bytes lie in a file, for sources that were never read."""
        return self._range

    @property
    def fingerprint(self) -> Fingerprint | None:
        """The fingerprint of these encoded bytes, when known (see `with_fingerprint`)."""
        return self._fingerprint

    def with_fingerprint(self, fingerprint: Fingerprint | None) -> ImageSource:
        """The same image, carrying `fingerprint` (which must be that of its bytes)."""
        source = restore_image_source(self.state_by_reference())
        source._fingerprint = fingerprint
        return source

    @property
    def changed(self) -> bool:
        """True when the pixels exist only in memory and must be encoded to be written."""
        return self._array is not None

    def encoded(self) -> bytes:
        """The image's bytes: exactly as they came for paths and bytes; arrays encoded once."""
        if self._data is not None:
            return self._data
        if self._path is not None:
            return self._read_file()  # not kept: a collection of paths stays small
        if self._range is not None:
            return self._read_range()  # not kept either, for the same reason
        assert self._array is not None
        self._data = encode_image(self._array, self._format, self._quality, where=self._name)
        return self._data

    def _read_file(self) -> bytes:
        assert self._path is not None
        try:
            return Path(self._path).read_bytes()
        except FileNotFoundError:
            raise ImageError(f"{self._path}: image file not found") from None
        except IsADirectoryError:
            raise ImageError(f"{self._path}: is a directory, not an image file") from None
        except OSError as exc:
            raise ImageError(f"{self._path}: cannot read image: {exc.strerror}") from None
        except ValueError:  # the one ValueError of open(): "embedded null byte"
            raise ImageError(f"{self._path!r}: an image path cannot hold a NUL character") from None

    def _read_range(self, limit: int | None = None) -> bytes:
        assert self._range is not None
        try:
            return self._range.read(limit)
        except (OSError, EOFError) as exc:
            raise ImageError(f"{self._name}: cannot read image: {exc}") from None

    @property
    def extension(self) -> str:
        """File extension for the encoded bytes ("jpg", "png", ...)."""
        if self._array is not None:
            return self._format
        return sniff_extension(self.head(16)) or "img"

    @property
    def planned_encoding(self) -> tuple[str, int | None] | None:
        """For pixels in memory, the format and quality they will be encoded with (see
        `encode_image`); None for encoded bytes."""
        return (self._format, self._quality) if self._array is not None else None

    def decode(self, keep: bool = False) -> np.ndarray:
        """RGB uint8 pixels as a read-only array (copy before drawing on it).

        With `keep`, the decoded pixels are kept so later calls do not decode again.
        """
        if self._array is not None:
            return self._array
        if self._decoded is not None:
            return self._decoded
        array = decode_image(self.encoded(), self._name)
        array.setflags(write=False)
        if self._dimensions is None:
            self._dimensions = Dimensions(array.shape[1], array.shape[0])
        if keep:
            self._decoded = array
        return array

    def head(self, size: int) -> bytes:
        """The first `size` bytes of the image (fewer if it is shorter), without reading a
        whole file."""
        if self._path is not None and self._data is None:
            try:
                with open(self._path, "rb") as f:
                    return f.read(size)
            except (OSError, ValueError):
                return self._read_file()  # raises the clear error
        if self._range is not None:
            return self._read_range(size)
        return self.encoded()[:size]

    @property
    def dimensions(self) -> Dimensions:
        """Width and height, from the file header when possible (no decoding)."""
        if self._dimensions is None:
            from mira.core.image_header import read_dimensions, read_file_dimensions

            if self._path is not None and self._data is None:
                self.head(1)  # a missing file is an ImageError naming it
                size = read_file_dimensions(self._path)
            else:
                size = read_dimensions(self.encoded())
            if size is None:
                self.decode()
            else:
                self._dimensions = Dimensions(*size)
        assert self._dimensions is not None
        return self._dimensions

    def __getstate__(self) -> dict[str, object]:
        """Pickled, a file range travels as its bytes (see `state_by_reference` for our
        worker processes)."""
        state = self.state_by_reference()
        if self._range is not None:
            state["_data"], state["_range"] = self._read_range(), None
        return state

    def state_by_reference(self) -> dict[str, object]:
        """The pickled state with a file range kept as a range, for a process that can open
        the file itself (see `parallel`)."""
        return {name: getattr(self, name) for name in self.__slots__}

    def __setstate__(self, state: dict[str, object]) -> None:
        for name, value in state.items():
            setattr(self, name, value)

    def __repr__(self) -> str:
        kinds = {"array": self._array, "path": self._path, "file range": self._range}
        kind = next((k for k, v in kinds.items() if v is not None), "bytes")
        return f"ImageSource({kind}, {self._name!r})"


def restore_image_source(state: dict[str, object]) -> ImageSource:
    """An ImageSource from `state_by_reference` (the unpickling half)."""
    source = ImageSource.__new__(ImageSource)
    source.__setstate__(state)
    return source
