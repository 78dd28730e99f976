"""Reading a JPEG's quality back from its quantisation tables."""

from __future__ import annotations

import struct

import cv2
import numpy as np
import pytest

from mira.core.jpeg_quality import (
    CHROMINANCE,
    LUMINANCE,
    ZIGZAG,
    JpegTables,
    estimate_quality,
    ijg_table,
    jpeg_quality,
    read_tables,
)


def photo(width: int = 96, height: int = 64, seed: int = 0) -> np.ndarray:
    """BGR pixels with edges, gradients and noise, like a photograph's."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    image = np.stack([x * 255 // width, y * 255 // height, (x + y) % 256], axis=2)
    image = image + rng.normal(0, 12, image.shape)
    image[height // 4 : height // 2, width // 3 : width // 2] = (30, 200, 90)
    return np.clip(image, 0, 255).astype(np.uint8)


def jpeg(quality: int, image: np.ndarray | None = None, *params: int) -> bytes:
    image = photo() if image is None else image
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality, *params])
    assert ok
    return data.tobytes()


def test_ijg_scaling_of_the_standard_tables() -> None:
    assert ijg_table(LUMINANCE, 50) == LUMINANCE
    assert ijg_table(LUMINANCE, 100) == (1,) * 64
    assert ijg_table(LUMINANCE, 90)[:8] == (3, 2, 2, 3, 5, 8, 10, 12)
    assert ijg_table(CHROMINANCE, 25)[:4] == (34, 36, 48, 94)  # scale 200%
    assert ijg_table(LUMINANCE, 1) == (255,) * 64  # baseline tables stop at 255


def test_zigzag_is_the_standard_order() -> None:
    assert ZIGZAG[:10] == (0, 1, 8, 16, 9, 2, 3, 10, 17, 24)
    assert ZIGZAG[-6:] == (61, 54, 47, 55, 62, 63)
    assert sorted(ZIGZAG) == list(range(64))


@pytest.mark.parametrize("quality", range(50, 101))
def test_opencv_jpegs_of_known_quality_read_back_within_3(quality: int) -> None:
    estimate = jpeg_quality(jpeg(quality))
    assert estimate is not None and abs(estimate - quality) <= 3
    assert estimate == quality  # libjpeg's own tables: exact


@pytest.mark.parametrize("quality", [1, 5, 10, 25, 49])
def test_low_qualities_are_exact_too(quality: int) -> None:
    assert jpeg_quality(jpeg(quality)) == quality


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ((cv2.IMWRITE_JPEG_PROGRESSIVE, 1), 80),
        ((cv2.IMWRITE_JPEG_OPTIMIZE, 1), 80),
        ((cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444), 80),
        # two qualities, one per table: the luminance one is read
        ((cv2.IMWRITE_JPEG_LUMA_QUALITY, 88, cv2.IMWRITE_JPEG_CHROMA_QUALITY, 60), 88),
    ],
)
def test_encoder_options_do_not_change_the_reading(params: tuple[int, ...], expected: int) -> None:
    assert jpeg_quality(jpeg(80, None, *params)) == expected


def test_grey_jpegs_have_one_table() -> None:
    grey = cv2.cvtColor(photo(), cv2.COLOR_BGR2GRAY)
    data = jpeg(72, grey)
    tables = read_tables(data)
    assert tables is not None and tables.chrominance is None
    assert tables.luminance == ijg_table(LUMINANCE, 72)
    assert jpeg_quality(data) == 72


def test_tables_are_read_in_natural_order() -> None:
    tables = read_tables(jpeg(60))
    assert tables == JpegTables(ijg_table(LUMINANCE, 60), ijg_table(CHROMINANCE, 60))


def test_other_tables_get_the_nearest_ijg_quality() -> None:
    # An encoder that scales the standard tables by 0.42 (not an IJG quality) reads as the
    # quality whose tables are nearest: IJG quality 79 scales them by 0.42.
    scaled = tuple(max(1, round(v * 0.42)) for v in LUMINANCE)
    assert estimate_quality(JpegTables(scaled, None)) == 79
    assert estimate_quality(JpegTables((1,) * 64, (1,) * 64)) == 100


def _segment(marker: int, body: bytes) -> bytes:
    return b"\xff" + bytes([marker]) + struct.pack(">H", len(body) + 2) + body


def _natural_to_zigzag(table: tuple[int, ...]) -> list[int]:
    return [table[i] for i in ZIGZAG]


def test_sixteen_bit_tables_and_sof_selectors() -> None:
    luminance = ijg_table(LUMINANCE, 40)
    chrominance = ijg_table(CHROMINANCE, 40)
    dqt = (
        bytes([0x12]) + struct.pack(">64H", *_natural_to_zigzag(luminance))  # 16-bit, id 2
        + bytes([0x05]) + bytes(_natural_to_zigzag(chrominance))  # 8-bit, id 5
    )  # fmt: skip
    # SOF0: precision, height, width, 3 components (id, sampling, table): Y uses 2, Cb/Cr 5
    sof = bytes([8]) + struct.pack(">HH", 16, 16) + bytes([3, 1, 0x22, 2, 2, 0x11, 5, 3, 0x11, 5])
    data = b"\xff\xd8" + _segment(0xE0, b"JFIF\x00" + bytes(9)) + _segment(0xDB, dqt)
    data += _segment(0xC0, sof) + _segment(0xDA, bytes(10))
    assert read_tables(data) == JpegTables(luminance, chrominance)
    assert jpeg_quality(data) == 40


def test_tables_after_a_large_exif_segment_need_the_whole_header() -> None:
    data = jpeg(85)
    exif = _segment(0xE1, b"Exif\x00\x00" + bytes(20000))
    big = data[:2] + exif + data[2:]
    assert jpeg_quality(big[:8192]) is None  # the head alone ends inside the EXIF segment
    assert jpeg_quality(big) == 85


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x89PNG\r\n\x1a\n" + bytes(30),
        b"\xff\xd8",
        b"\xff\xd8\xff\xdb\x00\x43\x00" + bytes(10),  # a DQT cut short
        b"\xff\xd8" + _segment(0xE0, bytes(14)) + b"\xff\xda\x00\x02",  # a scan, no tables
    ],
)
def test_no_tables_read_as_none(data: bytes) -> None:
    assert read_tables(data) is None and jpeg_quality(data) is None
