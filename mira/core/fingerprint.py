"""Image fingerprints: what finds the same picture twice without comparing pixels again.

A fingerprint has three parts, computed from one decode of the image:

- ``sha256``: of the encoded bytes (the same file stored twice);
- ``pixels``: sha256 of the decoded RGB pixels and their size (the same picture stored
  twice in different files: another PNG compression level, changed EXIF, a lossless
  JPEG transcode);
- ``phash``: a 64-bit perceptual hash (DCT of a 32x32 grey thumbnail, each of the 8x8
  lowest frequencies compared with their median), which stays within a few bits when the
  picture is resized, re-encoded, brightened or slightly cropped. Compare two with
  `hamming`.

The pixel hash needs the full decode, so the thumbnail is shrunk from it (area
interpolation) instead of decoding a second time at reduced size.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from mira.errors import FormatError

_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX16 = re.compile(r"[0-9a-f]{16}")
#: Side of the grey thumbnail the DCT is taken of, and of the low-frequency block kept.
THUMBNAIL = 32
BLOCK = 8


@dataclass(frozen=True)
class Fingerprint:
    """Exact (``sha256``, ``pixels``: hex digests) and perceptual (``phash``: 64-bit int)."""

    sha256: str
    pixels: str
    phash: int

    def to_record(self) -> dict[str, str]:
        """The scene record's ``fingerprint`` field (the hash as 16 hex digits)."""
        return {"sha256": self.sha256, "pixels": self.pixels, "phash": f"{self.phash:016x}"}

    @classmethod
    def from_record(cls, value: Any, where: str) -> Fingerprint:
        """The inverse of `to_record`; a FormatError naming `where` for anything else."""
        if not isinstance(value, dict) or set(value) != {"sha256", "pixels", "phash"}:
            raise FormatError(
                f"{where}: field 'fingerprint' must have exactly sha256, pixels and phash"
            )
        for name, digits, pattern in (
            ("sha256", 64, _HEX64),
            ("pixels", 64, _HEX64),
            ("phash", 16, _HEX16),
        ):
            if not isinstance(value[name], str) or not pattern.fullmatch(value[name]):
                raise FormatError(
                    f"{where}: fingerprint {name} must be {digits} lowercase hex digits, "
                    f"got {value[name]!r}"
                )
        return cls(value["sha256"], value["pixels"], int(value["phash"], 16))


def perceptual_hash(grey: np.ndarray) -> int:
    """The 64-bit pHash of a 2-D grey image (any size, uint8 or float)."""
    import cv2

    small = cv2.resize(
        np.asarray(grey, dtype=np.float32), (THUMBNAIL, THUMBNAIL), interpolation=cv2.INTER_AREA
    )
    low = cv2.dct(small)[:BLOCK, :BLOCK].ravel()
    bits = low > np.median(low[1:])  # the mean (first) term would dominate the median
    return int.from_bytes(np.packbits(bits).tobytes(), "big")


def pixel_digest(rgb: np.ndarray) -> str:
    """sha256 of the pixel size and the RGB bytes (C order)."""
    height, width = rgb.shape[:2]
    digest = hashlib.sha256(f"{width}x{height}\n".encode())
    digest.update(np.ascontiguousarray(rgb, dtype=np.uint8).tobytes())
    return digest.hexdigest()


def compute_fingerprint(data: bytes, where: str) -> Fingerprint:
    """The fingerprint of encoded image bytes; an ImageError naming `where` if undecodable."""
    import cv2

    from mira.core.image import decode_image

    rgb = decode_image(data, where)
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    return Fingerprint(hashlib.sha256(data).hexdigest(), pixel_digest(rgb), perceptual_hash(grey))


def hamming(a: int, b: int) -> int:
    """Bits that differ between two perceptual hashes."""
    return (a ^ b).bit_count()
