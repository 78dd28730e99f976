"""Header-only image sizes must equal the size OpenCV decodes, for every supported format."""

from __future__ import annotations

import io
import struct
import zlib

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mira.core.image_header import read_dimensions, read_file_dimensions, read_stream_dimensions

# --------------------------------------------------------------------------- helpers


def pattern(width: int, height: int, channels: int = 3) -> np.ndarray:
    """An asymmetric image, so a wrongly applied rotation would show in the decoded shape."""
    image = np.zeros((height, width, channels), np.uint8)
    image[: max(1, height // 3), : max(1, width // 4)] = 255
    return image


def encode(ext: str, image: np.ndarray, params: tuple[int, ...] = ()) -> bytes:
    ok, buffer = cv2.imencode(ext, image, list(params))
    assert ok
    return buffer.tobytes()


def decoded_size(data: bytes) -> tuple[int, int]:
    """What the rest of mira sees: OpenCV's colour decode (EXIF orientation applied)."""
    array = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert array is not None
    return array.shape[1], array.shape[0]


def tiff_block(endian: str, entries: list[tuple[int, int, int]], tail: bytes = b"") -> bytes:
    """A TIFF header and one IFD of (tag, type, value) entries (type 3 SHORT, 4 LONG)."""
    out = (b"II" if endian == "<" else b"MM") + struct.pack(endian + "HI", 42, 8)
    out += struct.pack(endian + "H", len(entries))
    for tag, kind, value in sorted(entries):
        if kind == 3:
            out += struct.pack(endian + "HHIHH", tag, 3, 1, value, 0)
        else:
            out += struct.pack(endian + "HHII", tag, kind, 1, value)
    return out + struct.pack(endian + "I", 0) + tail


def tiff_image(
    width: int, height: int, endian: str, size_type: int = 3, orientation: int | None = None
) -> bytes:
    """An uncompressed RGB TIFF built by hand (OpenCV only writes little-endian ones)."""
    pixels = bytes((i * 7) % 256 for i in range(width * height * 3))
    count = 9 + (orientation is not None)
    data_offset = 8 + 2 + 12 * count + 4
    entries = [
        (256, size_type, width),
        (257, size_type, height),
        (258, 3, 8),
        (259, 3, 1),
        (262, 3, 2),
        (273, 4, data_offset),
        (277, 3, 3),
        (278, 3, height),
        (279, 4, len(pixels)),
    ]
    if orientation is not None:
        entries.append((274, 3, orientation))
    return tiff_block(endian, entries, pixels)


def exif_payload(orientation: int, endian: str = ">") -> bytes:
    return tiff_block(endian, [(0x0112, 3, orientation)])


def insert_app1(jpeg: bytes, payload: bytes, after_frame: bool = False) -> bytes:
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    if not after_frame:
        return jpeg[:2] + segment + jpeg[2:]
    sof = jpeg.index(b"\xff\xc0")
    end = sof + 2 + struct.unpack(">H", jpeg[sof + 2 : sof + 4])[0]
    return jpeg[:end] + segment + jpeg[end:]


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def gif_image(
    screen: tuple[int, int], frame: tuple[int, int], at: tuple[int, int] = (0, 0)
) -> bytes:
    """A GIF whose frame may be smaller than its logical screen (OpenCV decodes the screen)."""
    out = b"GIF89a" + struct.pack("<HHBBB", *screen, 0x80, 0, 0) + bytes([0, 0, 0, 255, 255, 255])
    out += b"\x2c" + struct.pack("<HHHHB", *at, *frame, 0)
    codes: list[int] = []  # LZW with 3-bit codes: a clear code before every second pixel
    for k in range(frame[0] * frame[1]):
        if k % 2 == 0:
            codes.append(4)
        codes.append(0)
    codes.append(5)
    bits = used = 0
    data = bytearray()
    for code in codes:
        bits |= code << used
        used += 3
        while used >= 8:
            data.append(bits & 255)
            bits >>= 8
            used -= 8
    if used:
        data.append(bits & 255)
    out += b"\x02"
    for k in range(0, len(data), 255):
        out += bytes([len(data[k : k + 255])]) + data[k : k + 255]
    return out + b"\x00;"


def bmp_core(width: int, height: int) -> bytes:
    """An OS/2 BMP (12-byte BITMAPCOREHEADER, unsigned 16-bit sizes)."""
    row = (width * 3 + 3) // 4 * 4
    pixels = bytes(row * height)
    offset = 14 + 12
    header = b"BM" + struct.pack("<IHHI", offset + len(pixels), 0, 0, offset)
    return header + struct.pack("<IHHHH", 12, width, height, 1, 24) + pixels


def webp_with_exif(vp8_chunk: bytes, width: int, height: int, orientation: int) -> bytes:
    """Wrap a simple VP8 chunk in VP8X with an EXIF chunk after the image data."""
    exif = exif_payload(orientation, "<")
    flags = bytes([0x08, 0, 0, 0])
    vp8x = b"VP8X" + struct.pack("<I", 10) + flags
    vp8x += (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    exif_chunk = b"EXIF" + struct.pack("<I", len(exif)) + exif + b"\x00" * (len(exif) & 1)
    payload = b"WEBP" + vp8x + vp8_chunk + exif_chunk
    return b"RIFF" + struct.pack("<I", len(payload)) + payload


# --------------------------------------------------------------------------- formats OpenCV writes

SIZES = [(1, 1), (37, 23), (23, 37), (640, 480), (1000, 3)]


@pytest.mark.parametrize("width,height", SIZES)
@pytest.mark.parametrize(
    "ext,params",
    [
        (".jpg", ()),
        (".jpg", (cv2.IMWRITE_JPEG_PROGRESSIVE, 1)),
        (".png", ()),
        (".bmp", ()),
        (".webp", (cv2.IMWRITE_WEBP_QUALITY, 80)),  # lossy: VP8
        (".webp", (cv2.IMWRITE_WEBP_QUALITY, 101)),  # lossless: VP8L
        (".tiff", ()),
        (".gif", ()),
    ],
)
def test_opencv_written_images(ext: str, params: tuple[int, ...], width: int, height: int) -> None:
    data = encode(ext, pattern(width, height), params)
    assert read_dimensions(data) == decoded_size(data) == (width, height)


def test_progressive_jpeg_uses_sof2() -> None:
    data = encode(".jpg", pattern(33, 17), (cv2.IMWRITE_JPEG_PROGRESSIVE, 1))
    assert b"\xff\xc2" in data and b"\xff\xc0" not in data
    assert read_dimensions(data) == (33, 17)


def test_webp_with_alpha_is_vp8x() -> None:
    data = encode(".webp", pattern(45, 21, channels=4), (cv2.IMWRITE_WEBP_QUALITY, 80))
    assert data[12:16] == b"VP8X"
    assert read_dimensions(data) == decoded_size(data) == (45, 21)


def test_png_with_16_bits_and_grey() -> None:
    deep = encode(".png", pattern(19, 11).astype(np.uint16) * 257)
    grey = encode(".png", pattern(19, 11, channels=1))
    assert read_dimensions(deep) == read_dimensions(grey) == decoded_size(grey) == (19, 11)


@settings(max_examples=40, deadline=None)
@given(
    width=st.integers(1, 300),
    height=st.integers(1, 300),
    ext=st.sampled_from([".jpg", ".png", ".bmp", ".webp", ".tiff", ".gif"]),
)
def test_any_size_matches_decoder(width: int, height: int, ext: str) -> None:
    data = encode(ext, pattern(width, height))
    assert read_dimensions(data) == decoded_size(data) == (width, height)


# --------------------------------------------------------------------------- JPEG details


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("endian", "<>")
def test_jpeg_exif_orientation_matches_decoder(orientation: int, endian: str) -> None:
    data = insert_app1(
        encode(".jpg", pattern(50, 30)), b"Exif\x00\x00" + exif_payload(orientation, endian)
    )
    expected = (30, 50) if orientation >= 5 else (50, 30)
    assert read_dimensions(data) == decoded_size(data) == expected


def test_jpeg_exif_after_frame_header_still_counts() -> None:
    data = insert_app1(
        encode(".jpg", pattern(50, 30)), b"Exif\x00\x00" + exif_payload(6), after_frame=True
    )
    assert read_dimensions(data) == decoded_size(data) == (30, 50)


def test_jpeg_xmp_app1_and_exif_without_orientation_do_not_rotate() -> None:
    base = encode(".jpg", pattern(50, 30))
    xmp = insert_app1(base, b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta/>")
    no_tag = insert_app1(base, b"Exif\x00\x00" + tiff_block(">", [(0x010F, 3, 1)]))
    bad = insert_app1(base, b"Exif\x00\x00" + exif_payload(9))
    for data in (xmp, no_tag, bad):
        assert read_dimensions(data) == decoded_size(data) == (50, 30)


@pytest.mark.parametrize("marker", [0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD])
def test_every_sof_marker_is_a_frame_header(marker: int) -> None:
    data = bytearray(encode(".jpg", pattern(41, 13)))
    sof = data.index(b"\xff\xc0")
    data[sof + 1] = marker
    assert read_dimensions(bytes(data)) == (41, 13)


@pytest.mark.parametrize("marker", [0xCE, 0xCF])
def test_last_sof_markers(marker: int) -> None:
    data = bytearray(encode(".jpg", pattern(41, 13)))
    data[data.index(b"\xff\xc0") + 1] = marker
    assert read_dimensions(bytes(data)) == (41, 13)


def test_extended_sequential_jpeg_decodes_to_the_same_size() -> None:
    data = bytearray(encode(".jpg", pattern(41, 13)))
    data[data.index(b"\xff\xc0") + 1] = 0xC1  # SOF1 with Huffman tables is decodable as is
    assert read_dimensions(bytes(data)) == decoded_size(bytes(data)) == (41, 13)


def test_jpeg_fill_bytes_before_a_marker() -> None:
    base = encode(".jpg", pattern(20, 10))
    padded = base[:2] + b"\xff\xff\xff" + base[2:]  # fill bytes before the first marker
    assert read_dimensions(padded) == (20, 10)


# --------------------------------------------------------------------------- hand-built formats


@pytest.mark.parametrize("endian", "<>")
@pytest.mark.parametrize("size_type", [3, 4])
@pytest.mark.parametrize("orientation", [None, 1, 6, 8])
def test_tiff_both_byte_orders(endian: str, size_type: int, orientation: int | None) -> None:
    data = tiff_image(5, 3, endian, size_type, orientation)
    expected = (3, 5) if orientation in (6, 8) else (5, 3)
    assert read_dimensions(data) == decoded_size(data) == expected


def test_gif_logical_screen() -> None:
    same = gif_image((50, 30), (50, 30))
    framed = gif_image((60, 40), (50, 30), at=(5, 5))
    assert read_dimensions(same) == decoded_size(same) == (50, 30)
    assert read_dimensions(framed) == decoded_size(framed) == (60, 40)


def test_bmp_os2_header() -> None:
    data = bmp_core(7, 5)
    assert read_dimensions(data) == decoded_size(data) == (7, 5)


def test_bmp_top_down_negative_height() -> None:
    data = bytearray(encode(".bmp", pattern(9, 6)))
    assert struct.unpack("<i", data[22:26]) == (6,)
    data[22:26] = struct.pack("<i", -6)
    assert read_dimensions(bytes(data)) == decoded_size(bytes(data)) == (9, 6)


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_png_exif_chunk_before_or_after_image_data(orientation: int) -> None:
    base = encode(".png", pattern(50, 30))
    chunk = png_chunk(b"eXIf", exif_payload(orientation))
    before = base[:33] + chunk + base[33:]  # right after IHDR
    after = base[:-12] + chunk + base[-12:]  # right before IEND
    expected = (30, 50) if orientation >= 5 else (50, 30)
    for data in (before, after):
        assert read_dimensions(data) == decoded_size(data) == expected


@pytest.mark.parametrize("orientation", [1, 6])
def test_webp_exif_chunk(orientation: int) -> None:
    lossy = encode(".webp", pattern(50, 30), (cv2.IMWRITE_WEBP_QUALITY, 80))
    assert lossy[12:16] == b"VP8 "
    data = webp_with_exif(lossy[12:], 50, 30, orientation)
    expected = (30, 50) if orientation == 6 else (50, 30)
    assert read_dimensions(data) == decoded_size(data) == expected


# --------------------------------------------------------------------------- unknown and broken


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xff\xd8",
        b"hello world, not an image",
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 4,
        b"RIFF\x00\x00\x00\x00WEBPVP8 ",
        b"II*\x00\x08\x00\x00\x00",
        b"\x00\x00\x01\x00\x01\x00\x10\x10",  # ICO: decode instead
        b"\xff\xd8\xff\xda\x00\x02",  # scan before any frame header
    ],
)
def test_unknown_or_truncated_gives_none(data: bytes) -> None:
    assert read_dimensions(data) is None


@pytest.mark.parametrize("ext", [".jpg", ".png", ".gif", ".bmp", ".webp", ".tiff"])
def test_every_truncation_gives_none_or_the_right_size(ext: str) -> None:
    data = encode(ext, pattern(31, 17))
    for cut in range(0, min(len(data), 700)):
        assert read_dimensions(data[:cut]) in (None, (31, 17))


def test_zero_sizes_give_none() -> None:
    data = bytearray(encode(".png", pattern(4, 4)))
    data[16:20] = b"\x00\x00\x00\x00"
    assert read_dimensions(bytes(data)) is None


def test_accepts_bytearray_and_memoryview() -> None:
    data = encode(".png", pattern(12, 8))
    assert read_dimensions(bytearray(data)) == read_dimensions(memoryview(data)) == (12, 8)


# --------------------------------------------------------------------------- files and streams


class CountingStream(io.BytesIO):
    """Counts the bytes read, to show that only headers are touched."""

    bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk


def test_file_and_bytes_agree(tmp_path) -> None:
    for ext in (".jpg", ".png", ".webp", ".tiff", ".bmp", ".gif"):
        data = encode(ext, pattern(64, 40))
        path = tmp_path / f"image{ext}"
        path.write_bytes(data)
        assert read_file_dimensions(path) == read_dimensions(data) == (64, 40)
        assert read_file_dimensions(str(path)) == (64, 40)


def test_stream_reads_only_headers() -> None:
    rng = np.random.default_rng(0)
    noisy = rng.integers(0, 255, size=(600, 800, 3), dtype=np.uint8)
    exif = b"Exif\x00\x00" + exif_payload(6)
    jpeg = insert_app1(encode(".jpg", noisy, (cv2.IMWRITE_JPEG_QUALITY, 95)), exif)
    stream = CountingStream(jpeg)
    assert read_stream_dimensions(stream) == (600, 800)
    assert len(jpeg) > 500_000 and stream.bytes_read < 200


def test_png_stream_reads_chunk_headers_only() -> None:
    rng = np.random.default_rng(1)
    noisy = rng.integers(0, 255, size=(300, 400, 3), dtype=np.uint8)
    png = encode(".png", noisy)
    stream = CountingStream(png)
    assert read_stream_dimensions(stream) == (400, 300)
    assert stream.bytes_read < len(png) // 100


def test_missing_file_raises(tmp_path) -> None:
    with pytest.raises(FileNotFoundError):
        read_file_dimensions(tmp_path / "absent.jpg")
