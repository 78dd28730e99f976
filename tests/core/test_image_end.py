"""cut_short: a JPEG or PNG stopped before its end marker, walked by its structure."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from mira.core.image_end import cut_short


def picture() -> np.ndarray:
    rng = np.random.default_rng(0)
    return cv2.resize(rng.integers(0, 255, (6, 8, 3), dtype=np.uint8), (96, 64))


def jpeg(*flags: int) -> bytes:
    return cv2.imencode(".jpg", picture(), [cv2.IMWRITE_JPEG_QUALITY, 90, *flags])[1].tobytes()


def with_thumbnail(main: bytes) -> bytes:
    """`main` with an APP1 segment holding a whole JPEG (end marker included), as EXIF
    thumbnails do."""
    thumbnail = cv2.imencode(".jpg", picture()[::8, ::8])[1].tobytes()
    payload = b"Exif\x00\x00" + thumbnail
    return main[:2] + b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload + main[2:]


VARIANTS = {
    "baseline": jpeg(),
    "progressive": jpeg(cv2.IMWRITE_JPEG_PROGRESSIVE, 1),
    "restart markers": jpeg(cv2.IMWRITE_JPEG_RST_INTERVAL, 1),
    "thumbnail": with_thumbnail(jpeg()),
    "png": cv2.imencode(".png", picture())[1].tobytes(),
}


@pytest.mark.parametrize("name", VARIANTS)
def test_whole_files_are_not_cut_and_every_cut_is_found(name: str) -> None:
    data = VARIANTS[name]
    assert cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR).shape == (64, 96, 3)
    assert cut_short(data) is False
    assert cut_short(data + b"appended trailer \xff\xd8 bytes") is False
    for end in range(8, len(data) - 1, 7):  # from past the PNG signature
        assert cut_short(data[:end]) is True, end
    assert cut_short(data[:-1]) is (name != "png")  # a PNG's last 4 bytes are the CRC


def test_other_formats_and_damaged_structure_are_not_called_cut() -> None:
    assert cut_short(b"GIF89a" + b"\x00" * 40) is False
    assert cut_short(b"") is False
    data = jpeg()
    assert cut_short(data[:2] + b"\x00\x00" + data[4:]) is False  # no marker where one must be
