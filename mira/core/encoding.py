"""How the pixel commands (tile, augment, placeholder, render) write the images they make.

An `Encoding` is what `--image-format` and `--quality` say; `for_source` turns it into a
concrete one for each source image, by one rule:

- **format**: `keep` writes what the source is (JPEG stays JPEG, PNG stays PNG, WebP
  stays WebP; GIF, BMP, TIFF and anything else become PNG); `jpg`, `png`, `webp` write that.
- **quality** (JPEG and WebP only): `quality` when given; otherwise a JPEG source's own,
  read from its quantisation tables (`mira.core.jpeg_quality`) and capped at
  `DEFAULT_QUALITY` (95), so a quality-90 source gives quality-90 pieces the size of their
  source, not larger; otherwise `DEFAULT_QUALITY`. WebP made from a lossless source (PNG,
  GIF, BMP, TIFF, lossless WebP) without a quality is lossless WebP.
- PNG is lossless, so a quality given with `png` is an error; with `keep` it applies to the
  sources that stay lossy.

An image the chosen format cannot hold is an `OptionError` (a usage error for the CLI):
an alpha channel asked for as JPEG (decoding drops alpha, so it would be lost silently),
or a side longer than the format allows (`mira.core.image.MAX_SIDE`).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from mira.errors import OptionError, ValidationError

if TYPE_CHECKING:
    import numpy as np

    from mira.core.image import ImageSource

FORMATS = ("keep", "jpg", "png", "webp")
#: Lossy outputs without a quality of their own to copy get this; it is also the most a
#: JPEG source's quality is copied at (above it files grow fast for no visible gain).
DEFAULT_QUALITY = 95
#: How much of an image's start to read for its traits; a JPEG whose tables come later (a
#: large EXIF thumbnail first) is read whole.
HEAD_BYTES = 8192
_LOSSLESS_SOURCES = ("png", "gif", "bmp", "tif", "img")


class SourceTraits(NamedTuple):
    """What the encoding rule needs to know about a source image, from its header."""

    format: str  # "jpg", "png", "webp", "gif", "bmp", "tif" or "img" (unknown)
    quality: int | None  # a lossy source's quality, when it can be read back
    lossless: bool
    alpha: bool  # has an alpha channel (which decoding drops)


@dataclass(frozen=True)
class Encoding:
    """A format (`keep`, `jpg`, `png`, `webp`) and a quality (1-100, or None: by the rule
    above); checked when built. Resolved by `for_source`, a WebP without quality is
    lossless."""

    format: str = "keep"
    quality: int | None = None

    def __post_init__(self) -> None:
        name = self.format.lower() if isinstance(self.format, str) else self.format
        name = "jpg" if name == "jpeg" else name
        if name not in FORMATS:
            raise ValidationError(
                f"image format must be one of {', '.join(FORMATS)}; got {self.format!r}"
            )
        object.__setattr__(self, "format", name)
        object.__setattr__(self, "quality", check_quality(self.quality))
        if name == "png" and self.quality is not None:
            raise ValidationError(
                f"quality {self.quality} has no meaning for png, which is lossless; "
                "leave the quality out or choose jpg or webp"
            )

    def __str__(self) -> str:
        """``jpg q90``, ``png``, ``webp lossless`` (resolved) or ``keep``, ``keep q80``."""
        if self.quality is not None:
            return f"{self.format} q{self.quality}"
        return "webp lossless" if self.format == "webp" else self.format

    def for_source(self, source: ImageSource, where: str | None = None) -> Encoding:
        """The concrete encoding for pixels derived from `source` (see the module rule);
        the header is read only when the rule needs it. An alpha channel asked for as
        JPEG is an OptionError naming `where` (default: the image's name)."""
        if self.format == "png" or (self.format == "webp" and self.quality is not None):
            return self
        traits = source_traits(source)
        target = self.format
        if target == "keep":
            target = traits.format if traits.format in ("jpg", "png", "webp") else "png"
        if target == "jpg" and traits.alpha:
            raise OptionError(
                f"{where or source.name}: image format jpg cannot hold the alpha channel of "
                f"this {traits.format.upper()} image; choose png, webp or keep"
            )
        if target == "png":
            return Encoding("png")
        if self.quality is not None:
            return Encoding(target, self.quality)
        if traits.quality is not None:
            return Encoding(target, min(traits.quality, DEFAULT_QUALITY))
        if target == "webp" and traits.lossless:
            return Encoding("webp")
        return Encoding(target, DEFAULT_QUALITY)

    def encode(self, pixels: np.ndarray, where: str = "image") -> bytes:
        """`pixels` (H, W, 3 RGB) encoded this (resolved) way; see `encode_image`."""
        from mira.core.image import encode_image

        return encode_image(pixels, self._concrete(), self.quality, where=where)

    def image(self, pixels: np.ndarray, name: str | None = None) -> ImageSource:
        """`pixels` as an image source that is encoded this (resolved) way when written;
        `name` is what an encoding error calls it."""
        from mira.core.image import ImageSource

        return ImageSource(array=pixels, format=self._concrete(), quality=self.quality, name=name)

    def _concrete(self) -> str:
        if self.format == "keep":
            raise ValidationError("an encoding of format keep must be resolved (for_source)")
        return self.format


def check_quality(value: Any) -> int | None:
    """None, or a whole number 1-100 (as an int)."""
    if value is None:
        return None
    try:
        whole = not isinstance(value, (bool, str)) and int(value) == value
    except (TypeError, ValueError, OverflowError):
        whole = False
    if not whole or not 1 <= value <= 100:
        raise ValidationError(f"quality must be a whole number from 1 to 100, got {value!r}")
    return int(value)


def count_encoded(tally: dict[str, int], label: str, count: int = 1) -> None:
    """Add `count` images written as `label` (a resolved encoding's str) to a report's tally."""
    tally[label] = tally.get(label, 0) + count


def source_traits(source: ImageSource) -> SourceTraits:
    """Format, quality, losslessness and alpha of `source`, from its first bytes (pixels
    in memory: from the encoding planned for them)."""
    from mira.core.image import sniff_extension
    from mira.core.jpeg_quality import jpeg_quality

    planned = source.planned_encoding
    if planned is not None:
        fmt, quality = planned
        if fmt == "jpg" and quality is None:
            quality = DEFAULT_QUALITY  # what encode_image gives a JPEG without one
        lossless = fmt == "png" or (fmt == "webp" and quality is None)
        return SourceTraits(fmt, quality, lossless, False)
    head = source.head(HEAD_BYTES)
    fmt = sniff_extension(head) or "img"
    if fmt == "jpg":
        quality = jpeg_quality(head)
        if quality is None and len(head) == HEAD_BYTES:
            quality = jpeg_quality(source.encoded())
        return SourceTraits("jpg", quality, False, False)
    if fmt == "png":
        return SourceTraits("png", None, True, _png_alpha(head))
    if fmt == "webp":
        lossless, alpha = _webp_kind(head)
        return SourceTraits("webp", None, lossless, alpha)
    return SourceTraits(fmt, None, fmt in _LOSSLESS_SOURCES, False)


def _png_alpha(data: bytes) -> bool:
    """A PNG with an alpha channel (colour types 4 and 6) or transparency (a tRNS chunk
    before the pixels)."""
    if len(data) > 25 and data[25] in (4, 6):
        return True
    position = 8
    while position + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        if kind == b"tRNS":
            return True
        if kind in (b"IDAT", b"IEND"):
            return False
        position += 12 + length
    return False


def _webp_kind(data: bytes) -> tuple[bool, bool]:
    """(lossless, alpha) of a WebP: simple lossy (VP8), lossless (VP8L, with its alpha
    bit), or extended (VP8X: alpha flag, and the kind of its image chunk)."""
    kind = data[12:16]
    if kind == b"VP8L":
        bits = struct.unpack("<I", data[21:25])[0] if len(data) >= 25 else 0
        return True, bool(bits >> 28 & 1)
    if kind == b"VP8X":
        alpha = len(data) > 20 and bool(data[20] & 0x10)
        position = 30
        while position + 8 <= len(data):
            chunk, length = (
                data[position : position + 4],
                struct.unpack("<I", data[position + 4 : position + 8])[0],
            )
            if chunk in (b"VP8 ", b"VP8L"):
                return chunk == b"VP8L", alpha
            position += 8 + length + (length & 1)
        return False, alpha
    return False, False
